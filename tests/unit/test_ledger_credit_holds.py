"""Credit with hold, as a check deposit needs it: the deposit raises
`balance` and `held` together, released by a job when due (in whole or in
part); a returned deposit takes the held part back first and the rest as a
forced debit. Money not yet available is not money in, and earns nothing."""
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import clock, errors, jobs
from chalicelib.db.balances import AccountItem, HoldItem, TransferItem
from chalicelib.finance import ledger, reconcile
from chalicelib.finance.money import Money
from chalicelib.finance.transfers import system_party
from tests.unit.conftest import module_stack

# Monday 6 July 2026, 10:00 UTC: the check is deposited then.
MONDAY = datetime(2026, 7, 6, 10, 0, tzinfo=timezone.utc)


def _people(api):
    for handle in ("alice", "bob", "carol", "dave"):
        api.verified(handle)
    return None


stack, aws = module_stack(_people)


@pytest.fixture
def bank(api, stack):
    api.tokens.update(stack[1])
    clock.pin(MONDAY)
    yield api
    report = reconcile.reconcile()
    assert report["balanced"] and report["total"] == 0, report


def party(api, handle):
    account_id = api.wallet(handle)["id"]
    return ledger.Party(account_id, display=handle, user_id="usr_" + account_id.removeprefix("acct_"))


def money_of(api, handle):
    w = api.wallet(handle)
    return w["balance"], w["held"], w["available"], w["spendable"]


def deposit_check(api, handle, dep, amount, holds):
    """A check deposit of `amount`, with `holds` [(cents, days until available)]."""
    who = party(api, handle)
    credit_holds = tuple(ledger.CreditHold(f"hold_{dep}_{i}", Money(cents), MONDAY + timedelta(days=days),
                                           description="check deposit") for i, (cents, days) in enumerate(holds))
    return ledger.transfer(ledger.Movement(
        transfer_id=f"tr_{dep}", kind="check", debit=system_party("check_clearing"), credit=who,
        money=Money(amount), request_hash=dep, credit_holds=credit_holds))


def return_check(api, handle, dep, amount, holds_count, fee=0):
    who = ledger.Party(party(api, handle).account_id, handle, party(api, handle).user_id)
    fee_legs = (ledger.Leg(who, Money(-fee), kind="fee", counterparty="fees"),
                ledger.Leg(system_party("fees"), Money(fee), kind="fee")) if fee else ()
    return ledger.return_credit(ledger.Movement(
        transfer_id=f"tr_return_{dep}", kind="check", debit=who, credit=system_party("check_clearing"),
        money=Money(amount), request_hash=f"return-{dep}", note="returned: not_sufficient_funds", legs=fee_legs),
        tuple(f"hold_{dep}_{i}" for i in range(holds_count)))


def inflow(api, handle, month="m202607"):
    return int(AccountItem.find(party(api, handle).account_id).inflow.as_dict().get(month, 0))


def test_a_deposit_on_hold_raises_balance_and_held_together(bank):
    posted = deposit_check(bank, "alice", "dep1", 100_000, [(27_500, 1), (72_500, 2)])
    assert posted.replayed is False and posted.transfer.forced is False
    assert money_of(bank, "alice") == (100_000, 100_000, 0, 0)
    held = ledger.pending_holds(party(bank, "alice").account_id)
    assert [(h.kind, h.holding, h.transfer_id) for h in held] == [("credit", 27_500, "tr_dep1"),
                                                                ("credit", 72_500, "tr_dep1")]
    # Not spendable yet, and not money in yet.
    r = bank.money("POST", "/v1/wallet/withdrawals", {"amount": 1, "currency": "USD"}, "alice", "w-early")
    assert r.status_code == 422 and r.json_body["error"]["code"] == "insufficient_funds"
    assert inflow(bank, "alice") == 0
    # A retried deposit is the same transfer, and places no second hold.
    assert deposit_check(bank, "alice", "dep1", 100_000, [(27_500, 1), (72_500, 2)]).replayed is True
    assert money_of(bank, "alice") == (100_000, 100_000, 0, 0)


def test_the_job_releases_what_came_due_once_and_it_becomes_money_in(bank):
    deposit_check(bank, "alice", "dep2", 100_000, [(27_500, 1), (72_500, 2)])
    tuesday_end = MONDAY.replace(hour=23, minute=59) + timedelta(days=1)
    due = list(ledger.holds_due("credit", tuesday_end))
    assert due == ["hold_dep2_0"]
    assert list(ledger.holds_due("debit", tuesday_end)) == []  # the card expiry job never sees a deposit
    clock.pin(MONDAY + timedelta(days=1))
    released = ledger.release_credit_hold("hold_dep2_0", release_id="release:hold_dep2_0")
    assert released.replayed is False and released.hold.status == "released"
    assert money_of(bank, "alice") == (100_000, 72_500, 27_500, 27_500)
    assert inflow(bank, "alice") == 27_500
    again = ledger.release_credit_hold("hold_dep2_0", release_id="release:hold_dep2_0")
    assert again.replayed is True and money_of(bank, "alice") == (100_000, 72_500, 27_500, 27_500)
    assert inflow(bank, "alice") == 27_500
    with pytest.raises(errors.InvalidState):  # a debit-hold operation on a credit hold
        ledger.void_hold("hold_dep2_1")


def test_a_credit_hold_releases_in_part(bank):
    deposit_check(bank, "bob", "dep3", 1_000_000, [(1_000_000, 7)])
    part = ledger.release_credit_hold("hold_dep3_0", "rel-part-1", amount_cents=672_500)
    assert part.hold.status == "pending" and part.hold.holding == 327_500
    assert money_of(bank, "bob") == (1_000_000, 327_500, 672_500, 672_500)
    rest = ledger.release_credit_hold("hold_dep3_0", "rel-rest")
    assert rest.hold.status == "released" and money_of(bank, "bob") == (1_000_000, 0, 1_000_000, 1_000_000)


def test_the_expire_holds_job_leaves_credit_holds_alone(bank):
    deposit_check(bank, "bob", "dep4", 5_000, [(5_000, 1)])
    clock.pin(MONDAY + timedelta(days=30))
    assert jobs.run("expire-holds", (MONDAY + timedelta(days=29)).date()).changed == 0
    assert HoldItem.find("hold_dep4_0").status == "pending"


def test_a_return_takes_the_held_part_first_and_the_spent_rest_forced(bank):
    deposit_check(bank, "alice", "dep5", 100_000, [(27_500, 1), (72_500, 2)])
    clock.pin(MONDAY + timedelta(days=1))
    ledger.release_credit_hold("hold_dep5_0", "rel-dep5-0")
    r = bank.money("POST", "/v1/wallet/withdrawals", {"amount": 20_000, "currency": "USD"}, "alice", "w-spend")
    assert r.status_code == 201
    assert money_of(bank, "alice") == (80_000, 72_500, 7_500, 7_500)
    posted = return_check(bank, "alice", "dep5", 100_000, 2, fee=1_500)
    assert posted.transfer.forced is True
    # Negative by exactly what was spent plus the fee; nothing held any more.
    assert money_of(bank, "alice") == (-21_500, 0, -21_500, -21_500)
    assert [HoldItem.find(f"hold_dep5_{i}").status for i in (0, 1)] == ["released", "returned"]
    assert ledger.pending_holds(party(bank, "alice").account_id) == []
    # The network sends the return again: nothing moves twice.
    assert return_check(bank, "alice", "dep5", 100_000, 2, fee=1_500).replayed is True
    assert money_of(bank, "alice") == (-21_500, 0, -21_500, -21_500)


def test_a_return_while_all_is_held_is_not_forced(bank):
    deposit_check(bank, "carol", "dep6", 40_000, [(40_000, 2)])
    posted = return_check(bank, "carol", "dep6", 40_000, 1)
    assert posted.transfer.forced is False
    assert money_of(bank, "carol") == (0, 0, 0, 0)
    assert HoldItem.find("hold_dep6_0").status == "returned"


def test_a_return_racing_the_release_job_is_built_again(bank, monkeypatch):
    deposit_check(bank, "dave", "dep7", 30_000, [(30_000, 1)])
    real = ledger._read_hold
    raced = []

    def read_then_the_job_releases(hold_id):
        seen = real(hold_id)
        if not raced:
            raced.append(hold_id)
            ledger.release_credit_hold(hold_id, "rel-dep7")  # lands after the return's read
        return seen

    monkeypatch.setattr(ledger, "_read_hold", read_then_the_job_releases)
    posted = return_check(bank, "dave", "dep7", 30_000, 1)
    # The return saw the hold released on its second build: all of it is a forced debit now.
    assert posted.transfer.forced is True
    assert HoldItem.find("hold_dep7_0").status == "released"
    assert money_of(bank, "dave") == (0, 0, 0, 0)
    assert len(list(TransferItem.scan(TransferItem.id == "tr_return_dep7"))) == 1


def test_a_credit_hold_holds_at_most_what_the_movement_credits(bank):
    with pytest.raises(ValueError):
        deposit_check(bank, "carol", "dep8", 1_000, [(1_001, 1)])
    assert TransferItem.find("tr_dep8") is None and HoldItem.find("hold_dep8_0") is None


def test_held_deposit_money_earns_no_interest_until_available(bank):
    """carol's check is held five days; dave deposits the same sum plainly
    the day carol's becomes available: from then on they earn alike, and
    before it carol earned nothing."""
    deposit_check(bank, "carol", "dep9", 1_000_000, [(1_000_000, 5)])
    clock.pin(MONDAY + timedelta(days=5))
    ledger.release_credit_hold("hold_dep9_0", "rel-dep9")
    ledger.transfer(ledger.Movement(transfer_id="tr_dave_plain", kind="deposit", debit=system_party("external"),
                                    credit=party(bank, "dave"), money=Money(1_000_000), request_hash="plain"))
    clock.pin(MONDAY + timedelta(days=9))
    jobs.run("accrue-interest", (MONDAY + timedelta(days=4)).date())
    assert bank.wallet("carol")["accrued_interest_micros"] == 0
    jobs.run("accrue-interest", (MONDAY + timedelta(days=8)).date())
    carol, dave = (bank.wallet(h)["accrued_interest_micros"] for h in ("carol", "dave"))
    assert carol > 0 and carol == dave
    assert not [k for k in AccountItem.find(party(bank, "carol").account_id).opens.as_dict() if k[0] in "dh"]
