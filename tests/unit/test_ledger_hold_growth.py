"""Holds that carry their company, as card authorizations need them: limits
and extra items land with the hold; increments raise it; reversals release
all or part; captures may be partial, repeated, or above the hold within a
tolerance the caller names, and always succeed on a live hold; every change
is named by the caller, so a retried network event never moves money twice."""
import itertools
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib import clock, errors
from chalicelib.db.balances import DailyTotals, HoldItem, TransferItem, limit_key
from chalicelib.db.base import Item, meta
from chalicelib.finance import ledger, reconcile
from chalicelib.finance.money import Money
from chalicelib.finance.transfers import system_party
from tests.unit.conftest import module_stack

# Friday 5 June 2026, lunchtime: the authorizations of this file happen then.
NOW = datetime(2026, 6, 5, 12, 15, tzinfo=timezone.utc)


class AuthRecord(Item):
    """Stands in for the card module's authorization record (an extra)."""
    Meta = meta("balances")
    decision = UnicodeAttribute()
    amount = NumberAttribute(default=0)


def auth_record(auth_id, decision="approved", amount=0):
    record = AuthRecord(f"TESTAUTH#{auth_id}", "AUTH", decision=decision, amount=amount)
    return ledger.Extra("save", record, condition=AuthRecord.pk.does_not_exist(),
                        refusal=errors.InvalidState("That authorization exists."))


def _people(api):
    api.verified("alice")
    api.verified("bob")
    api.deposit("alice", 50_000)
    return None


stack, aws = module_stack(_people)
_n = itertools.count()


@pytest.fixture
def alice(api, stack):
    """alice has $500.00; after every test the books balance and every
    account's `held` is the sum of its pending holds."""
    api.tokens.update(stack[1])
    clock.pin(NOW)
    yield api
    report = reconcile.reconcile()
    assert report["balanced"] and report["total"] == 0, report


def party(api, handle="alice"):
    account_id = api.wallet(handle)["id"]
    return ledger.Party(account_id, display=handle, user_id="usr_" + account_id.removeprefix("acct_"),
                        inactive_refusal=errors.AccountFrozen)


def merchant(name="Trattoria"):
    return ledger.Party(system_party("card_settlement").account_id, display=name, customer=False)


def week():
    return clock.now() + timedelta(days=7)


def money_of(api, handle="alice"):
    w = api.wallet(handle)
    return w["balance"], w["held"], w["spendable"]


def capture(hold_id, amount, tid, final=True, over=0, legs=(), extras=()):
    return ledger.capture_hold(hold_id, amount, merchant(), tid, "card", f"clearing:{tid}", final=final,
                               over_cents_max=over, legs=legs, extras=extras)


def sent_today(account_id):
    try:
        return int(DailyTotals.get(*limit_key(account_id, clock.now().date().isoformat())).sent)
    except DailyTotals.DoesNotExist:
        return 0


# A hold with its company ------------------------------------------------------------

def test_a_hold_lands_with_its_limit_counter_and_its_records(alice):
    me = party(alice)
    limit = ledger.Limit(me.account_id, "sent", 20_000)
    ledger.hold("hold_lunch", me, Money(4_000), week(), "Trattoria", limits=(limit,),
                extras=(auth_record("auth_lunch", amount=4_000),))
    assert money_of(alice) == (50_000, 4_000, 46_000)
    assert sent_today(me.account_id) == 4_000
    assert AuthRecord.get("TESTAUTH#auth_lunch", "AUTH").amount == 4_000
    # Past the day's limit: refused, and neither the hold nor its record is written.
    with pytest.raises(errors.LimitExceeded):
        ledger.hold("hold_tv", me, Money(16_001), week(), limits=(limit,), extras=(auth_record("auth_tv"),))
    assert HoldItem.find("hold_tv") is None and AuthRecord.count("TESTAUTH#auth_tv") == 0
    # An extra refused (the authorization exists) refuses the hold.
    with pytest.raises(errors.InvalidState):
        ledger.hold("hold_again", me, Money(100), week(), extras=(auth_record("auth_lunch"),))
    assert HoldItem.find("hold_again") is None
    assert money_of(alice) == (50_000, 4_000, 46_000) and sent_today(me.account_id) == 4_000


def test_refusals_of_a_hold_come_in_api_order(alice):
    me = party(alice)
    limit = ledger.Limit(me.account_id, "sent", 1_000)
    # Both over the limit and beyond the funds: limit_exceeded comes first.
    with pytest.raises(errors.LimitExceeded):
        ledger.hold("hold_both", me, Money(60_000), week(), limits=(limit,))


# Increments -------------------------------------------------------------------------

def test_an_increment_raises_the_hold_once_and_is_funds_checked(alice):
    me = party(alice)
    limit = ledger.Limit(me.account_id, "sent", 30_000)
    ledger.hold("hold_hotel", me, Money(20_000), week(), "Hotel", limits=(limit,))
    raised = ledger.increment_hold("hold_hotel", "evt_inc_1", Money(5_000), limits=(limit,))
    assert raised.replayed is False and raised.hold.holding == 25_000 and int(raised.hold.amount) == 25_000
    assert money_of(alice) == (50_000, 25_000, 25_000) and sent_today(me.account_id) == 25_000
    again = ledger.increment_hold("hold_hotel", "evt_inc_1", Money(5_000), limits=(limit,))
    assert again.replayed is True and money_of(alice) == (50_000, 25_000, 25_000)
    # Past the limit, or past the funds: declined, the hold left as it was.
    with pytest.raises(errors.LimitExceeded):
        ledger.increment_hold("hold_hotel", "evt_inc_2", Money(5_001), limits=(limit,))
    with pytest.raises(errors.InsufficientFunds):
        ledger.increment_hold("hold_hotel", "evt_inc_3", Money(25_001))
    hold = HoldItem.find("hold_hotel")
    assert hold.holding == 25_000 and set(hold.applied) == {"evt_inc_1"}
    assert money_of(alice) == (50_000, 25_000, 25_000)


def test_an_increment_can_move_the_expiry_and_not_raise_a_finished_hold(alice):
    me = party(alice)
    ledger.hold("hold_car", me, Money(1_000), week())
    later = clock.now() + timedelta(days=31)
    ledger.increment_hold("hold_car", "evt_car_1", Money(500), expires_at=later)
    hold = HoldItem.find("hold_car")
    assert hold.expires_at_iso == clock.iso(later) and hold.gsi1_sk.startswith(clock.iso(later))
    ledger.void_hold("hold_car")
    with pytest.raises(errors.InvalidState):
        ledger.increment_hold("hold_car", "evt_car_2", Money(500))
    with pytest.raises(errors.NotFound):
        ledger.increment_hold("hold_nope", "evt_x", Money(500))


# Reversals -------------------------------------------------------------------------

def test_a_reversal_releases_part_then_the_rest_each_once(alice):
    ledger.hold("hold_gas", party(alice), Money(10_000), week(), "Gas")
    part = ledger.reverse_hold("hold_gas", "evt_rev_1", 7_500)
    assert part.hold.status == "pending" and part.hold.holding == 2_500
    assert money_of(alice) == (50_000, 2_500, 47_500)
    assert ledger.reverse_hold("hold_gas", "evt_rev_1", 7_500).replayed is True
    assert money_of(alice) == (50_000, 2_500, 47_500)
    with pytest.raises(errors.InvalidRequest):
        ledger.reverse_hold("hold_gas", "evt_rev_2", 2_501)
    rest = ledger.reverse_hold("hold_gas", "evt_rev_3")
    assert rest.hold.status == "voided" and money_of(alice) == (50_000, 0, 50_000)
    assert ledger.pending_holds(party(alice).account_id) == []


def test_a_reversal_carries_extras(alice):
    ledger.hold("hold_x", party(alice), Money(1_000), week())
    ledger.reverse_hold("hold_x", "evt_rev_x", extras=(auth_record("rev_x", "reversed"),))
    assert AuthRecord.get("TESTAUTH#rev_x", "AUTH").decision == "reversed"
    with pytest.raises(errors.InvalidState):  # a later reversal whose record exists: nothing released
        ledger.hold("hold_y", party(alice), Money(1_000), week())
        ledger.reverse_hold("hold_y", "evt_rev_y", extras=(auth_record("rev_x"),))
    assert HoldItem.find("hold_y").holding == 1_000


def test_an_expiry_carries_extras_and_waits_for_its_time(alice):
    ledger.hold("hold_exp", party(alice), Money(1_000), clock.now() + timedelta(days=1))
    with pytest.raises(errors.InvalidState):
        ledger.expire_hold("hold_exp", extras=(auth_record("exp_1", "expired"),))
    assert AuthRecord.count("TESTAUTH#exp_1") == 0
    clock.advance_days(2)
    assert ledger.expire_hold("hold_exp", extras=(auth_record("exp_1", "expired"),)).status == "expired"
    assert AuthRecord.get("TESTAUTH#exp_1", "AUTH").decision == "expired"
    assert money_of(alice) == (50_000, 0, 50_000)


# Captures ---------------------------------------------------------------------------

def test_captures_in_parts_then_a_final_one_releases_the_rest(alice):
    ledger.hold("hold_shop", party(alice), Money(10_000), week(), "Outfitters")
    first = capture("hold_shop", 3_000, "tr_ship_1", final=False)
    assert first.transfer.hold_id == "hold_shop" and HoldItem.find("hold_shop").status == "pending"
    assert money_of(alice) == (47_000, 7_000, 40_000)
    capture("hold_shop", 2_000, "tr_ship_2", final=False)
    assert money_of(alice) == (45_000, 5_000, 40_000)
    # The network retries the first shipment: the same transfer, nothing more.
    again = capture("hold_shop", 3_000, "tr_ship_1", final=False)
    assert again.replayed is True and money_of(alice) == (45_000, 5_000, 40_000)
    last = capture("hold_shop", 1_000, "tr_ship_3", final=True)  # the last shipment; the rest is released
    assert last.replayed is False
    hold = HoldItem.find("hold_shop")
    assert (hold.status, int(hold.posted_amount), int(hold.released_amount), hold.holding) == \
        ("posted", 6_000, 4_000, 0)
    assert money_of(alice) == (44_000, 0, 44_000)
    with pytest.raises(errors.InvalidState):
        capture("hold_shop", 1, "tr_ship_4")


def test_a_capture_of_everything_held_ends_the_hold_even_if_not_final(alice):
    ledger.hold("hold_all", party(alice), Money(2_000), week())
    capture("hold_all", 2_000, "tr_all", final=False)
    assert HoldItem.find("hold_all").status == "posted" and money_of(alice) == (48_000, 0, 48_000)


def test_a_capture_above_the_hold_posts_within_the_tolerance_named(alice):
    ledger.hold("hold_dinner", party(alice), Money(10_000), week(), "Trattoria")
    with pytest.raises(errors.InvalidRequest) as refused:
        capture("hold_dinner", 12_001, "tr_dinner_too_much", over=2_000)
    assert refused.value.param == "amount"
    posted = capture("hold_dinner", 12_000, "tr_dinner", over=2_000)  # 20% tip
    assert posted.transfer.forced is False and int(posted.transfer.amount) == 12_000
    assert money_of(alice) == (38_000, 0, 38_000)
    assert int(HoldItem.find("hold_dinner").posted_amount) == 12_000


def test_the_part_above_the_hold_posts_forced_when_funds_are_short(alice):
    me = party(alice)
    ledger.hold("hold_bar", me, Money(45_000), week(), "Bar")
    capture_extra = ledger.Movement(transfer_id="tr_spend", kind="withdrawal", debit=me,
                                    credit=system_party("external"), money=Money(5_000), request_hash="spend")
    ledger.transfer(capture_extra)
    assert money_of(alice) == (45_000, 45_000, 0)
    posted = capture("hold_bar", 54_000, "tr_bar", over=9_000)
    assert posted.transfer.forced is True
    assert money_of(alice) == (-9_000, 0, -9_000)
    assert alice.call("GET", f"/v1/transfers/{posted.transfer.id}", as_="alice").json_body["forced"] is True


def test_a_capture_always_succeeds_on_a_frozen_account_and_pays_cashback(alice):
    me = party(alice)
    ledger.hold("hold_frozen", me, Money(10_000), week(), "Bookshop")
    alice.admin("POST", "/v1/admin/users/alice/freeze", {"reason": "card reported lost after the purchase"})
    cashback = (ledger.Leg(system_party("fees"), Money(-100), kind="cashback"),
                ledger.Leg(me, Money(100), kind="cashback", counterparty="Flock rewards"))
    posted = capture("hold_frozen", 10_000, "tr_book", legs=cashback, extras=(auth_record("clr_book", "posted"),))
    assert posted.transfer.forced is False and len(posted.transfer.legs) == 4
    hold = HoldItem.find("hold_frozen")
    assert hold.status == "posted" and AuthRecord.get("TESTAUTH#clr_book", "AUTH").decision == "posted"
    alice.admin("POST", "/v1/admin/users/alice/unfreeze", {"reason": "found it"})
    alice.login("alice")
    assert money_of(alice) == (40_100, 0, 40_100)


def test_an_expired_hold_is_not_captured_its_clearing_posts_forced(alice):
    me = party(alice)
    ledger.hold("hold_old", me, Money(3_000), clock.now() + timedelta(days=1))
    clock.advance_days(2)
    ledger.expire_hold("hold_old")
    with pytest.raises(errors.InvalidState):
        capture("hold_old", 3_000, "tr_old")
    posted = ledger.transfer(ledger.Movement(transfer_id="tr_old", kind="card", debit=me, credit=merchant(),
                                             money=Money(3_000), request_hash="clearing:tr_old", forced=True))
    assert posted.transfer.forced is True and money_of(alice) == (47_000, 0, 47_000)


def test_a_capture_whose_answer_was_lost_is_found_not_doubled(alice, monkeypatch):
    ledger.hold("hold_lost", party(alice), Money(5_000), week())
    first = capture("hold_lost", 2_000, "tr_lost_1", final=False)
    # A second call of the same capture after it committed (the first answer lost):
    again = capture("hold_lost", 2_000, "tr_lost_1", final=False)
    assert again.replayed is True and again.transfer.created_at == first.transfer.created_at
    assert money_of(alice) == (48_000, 3_000, 45_000)


# Concurrency ---------------------------------------------------------------------------


def test_concurrent_captures_never_take_more_than_the_hold(alice, one_request_at_a_time):
    """Ten shipments of $15.00 race for a $100.00 hold (and each is retried):
    at most six fit; what was captured left the balance exactly once."""
    ledger.hold("hold_race", party(alice), Money(10_000), week(), "Warehouse")
    clock.pin(NOW)

    def ship(i):
        try:
            return capture("hold_race", 1_500, f"tr_race_{i}", final=False).transfer.id
        except (errors.InvalidRequest, errors.InvalidState):
            return None

    with ThreadPoolExecutor(max_workers=10) as pool:
        won = [t for t in pool.map(ship, range(10)) if t]
        retried = [t for t in pool.map(ship, range(10)) if t]
    assert 1 <= len(won) <= 6 and sorted(retried) == sorted(won)
    captured = 1_500 * len(won)
    hold = HoldItem.find("hold_race")
    assert int(hold.posted_amount) == captured and hold.holding == 10_000 - captured
    assert money_of(alice) == (50_000 - captured, 10_000 - captured, 40_000)
    assert {t.id for t in TransferItem.scan(TransferItem.hold_id == "hold_race")} == set(won)
    # Whatever raced, the rest of the hold is still there to release, once.
    ledger.reverse_hold("hold_race", "evt_race_end")
    assert money_of(alice) == (50_000 - captured, 0, 50_000 - captured)


def test_concurrent_increments_and_reversals_keep_held_exact(alice, one_request_at_a_time):
    me = party(alice)
    ledger.hold("hold_mix", me, Money(10_000), week())

    def step(i):
        if i % 2:
            return ledger.increment_hold("hold_mix", f"evt_inc_{i}", Money(1_000)).replayed
        return ledger.reverse_hold("hold_mix", f"evt_rev_{i}", 500).replayed

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert not any(pool.map(step, range(8)))
        assert all(pool.map(step, range(8)))  # all replays now
    assert HoldItem.find("hold_mix").holding == 10_000 + 4 * 1_000 - 4 * 500
    assert money_of(alice) == (50_000, 12_000, 38_000)
