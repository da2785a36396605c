"""Balanced sets of legs and forced posts, at the service layer (cards,
checks and loans build on these): a movement of more than two postings is
one transfer in one transaction, each leg an entry, summing to zero; a
forced post skips the funds check and says so on the transfer."""
import itertools
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib import clock, errors
from chalicelib.db.balances import AccountItem, EntryItem, TransferItem
from chalicelib.finance import ledger, reconcile
from chalicelib.finance.money import Money
from chalicelib.finance.transfers import system_party
from tests.unit.conftest import module_stack

# A Wednesday morning, a month into the account's life.
NOW = datetime(2026, 4, 15, 9, 30, tzinfo=timezone.utc)


def _people(people):
    api = people
    api.verified("alice")
    api.verified("bob")
    api.deposit("alice", 50_000)
    return {h: api.wallet(h)["id"] for h in ("alice", "bob")}


stack, aws = module_stack(_people)
_ids = itertools.count()


@pytest.fixture
def people(api, stack):
    """alice has $500.00, bob nothing; the books balance after every test."""
    api.tokens.update(stack[1])
    clock.pin(NOW)
    yield api
    books_balance()


def books_balance():
    report = reconcile.reconcile()
    assert report["balanced"] and report["total"] == 0, report


def person(api, handle):
    account_id = api.wallet(handle)["id"]
    return ledger.Party(account_id, display=handle, user_id="usr_" + account_id.removeprefix("acct_"),
                        inactive_refusal=errors.AccountFrozen)


def merchant(name="Blue Bottle Coffee"):
    return ledger.Party(system_party("card_settlement").account_id, display=name, customer=False)


def entries(transfer_id):
    return sorted(((e.account_id, int(e.amount), e.kind, e.counterparty) for e in
                   EntryItem.scan(EntryItem.transfer_id == transfer_id)), key=lambda e: (e[0], e[1]))


def balance(api, handle):
    w = api.wallet(handle)
    return w["balance"], w["held"], w["spendable"]


def test_a_purchase_posts_and_pays_cashback_in_one_transfer(people):
    api = people
    alice = person(api, "alice")
    purchase = ledger.Movement(
        transfer_id="tr_purchase_1", kind="card", debit=alice, credit=merchant(), money=Money(10_000),
        request_hash="purchase-1", note="Blue Bottle Coffee",
        legs=(ledger.Leg(system_party("fees"), Money(-100), kind="cashback", counterparty="Flock rewards"),
              ledger.Leg(alice, Money(100), kind="cashback", counterparty="Flock rewards")))
    posted = ledger.transfer(purchase)
    assert posted.replayed is False
    t = posted.transfer
    assert (t.from_party, t.to_party, int(t.amount), t.kind) == ("alice", "Blue Bottle Coffee", 10_000, "card")
    assert sum(int(leg.amount) for leg in t.legs) == 0 and len(t.legs) == 4
    assert balance(api, "alice") == (40_100, 0, 40_100)
    # Each leg is an entry: alice sees the purchase and the cashback, apart.
    mine = api.call("GET", "/v1/wallet/transactions", as_="alice").json_body["data"]
    assert sorted((e["amount"], e["kind"], e["counterparty"]) for e in mine if e["transfer_id"] == t.id) == [
        (-10_000, "card", "Blue Bottle Coffee"), (100, "cashback", "Flock rewards")]
    assert len(entries(t.id)) == 4
    # A retry is the same transfer; the same id with another body is refused.
    assert ledger.transfer(purchase).replayed is True
    with pytest.raises(errors.IdempotencyKeyReused):
        ledger.transfer(ledger.Movement(**{**purchase.__dict__, "request_hash": "another"}))
    assert balance(api, "alice") == (40_100, 0, 40_100)


def test_a_loan_payment_splits_into_fees_interest_and_principal(people):
    api = people
    alice = person(api, "alice")
    receivable = system_party("loans_receivable")
    payment = ledger.Movement(
        transfer_id="tr_loan_payment_1", kind="loan_payment", request_hash="lpay-1", note="loan_1 payment",
        legs=(ledger.Leg(alice, Money(-10_000), counterparty="loan_1"),
              ledger.Leg(receivable, Money(8_000), kind="principal"),
              ledger.Leg(system_party("interest_income"), Money(1_500), kind="interest"),
              ledger.Leg(system_party("fees"), Money(500), kind="fee")))
    t = ledger.transfer(payment).transfer
    assert (t.from_party, t.to_party, int(t.amount)) == ("alice", "loans_receivable", 10_000)
    assert [(leg.party, int(leg.amount)) for leg in t.legs] == [
        ("alice", -10_000), ("loans_receivable", 8_000), ("interest_income", 1_500), ("fees", 500)]
    assert balance(api, "alice") == (40_000, 0, 40_000)
    kinds = {e[2]: e[1] for e in entries(t.id)}
    assert kinds == {"loan_payment": -10_000, "principal": 8_000, "interest": 1_500, "fee": 500}
    # The payer reads the transfer; a stranger does not.
    assert api.call("GET", f"/v1/transfers/{t.id}", as_="alice").status_code == 200
    assert api.call("GET", f"/v1/transfers/{t.id}", as_="bob").status_code == 404


def test_a_return_with_its_fee_touches_one_account_twice(people):
    api = people
    alice = person(api, "alice")
    returned = ledger.Movement(
        transfer_id="tr_return_1", kind="card", request_hash="return-1",
        legs=(ledger.Leg(merchant("Shoe Shop"), Money(-5_000)), ledger.Leg(alice, Money(5_000)),
              ledger.Leg(alice, Money(-300), kind="fee", counterparty="fees"),
              ledger.Leg(system_party("fees"), Money(300), kind="fee")))
    t = ledger.transfer(returned).transfer
    assert balance(api, "alice") == (54_700, 0, 54_700)
    mine = [e for e in entries(t.id) if e[0] == alice.account_id]
    assert mine == [(alice.account_id, -300, "fee", "fees"), (alice.account_id, 5_000, "card", "Shoe Shop")]
    # Money in this month: the return, not net of its fee.
    assert int(AccountItem.find(alice.account_id).inflow.as_dict()["m202604"]) == 5_000


def test_legs_that_do_not_balance_are_refused_and_write_nothing(people):
    api = people
    alice = person(api, "alice")
    with pytest.raises(ValueError):
        ledger.transfer(ledger.Movement(
            transfer_id="tr_lopsided", kind="card", request_hash="x",
            legs=(ledger.Leg(alice, Money(-1_000)), ledger.Leg(merchant(), Money(999)))))
    with pytest.raises(ValueError):  # a purchase whose cashback comes from nowhere
        ledger.transfer(ledger.Movement(
            transfer_id="tr_lopsided_2", kind="card", debit=alice, credit=merchant(), money=Money(1_000),
            request_hash="x", legs=(ledger.Leg(alice, Money(10)),)))
    assert TransferItem.find("tr_lopsided") is None and TransferItem.find("tr_lopsided_2") is None
    assert balance(api, "alice") == (50_000, 0, 50_000)


def test_the_funds_check_is_on_what_leaves_net_and_a_refusal_moves_nothing(people):
    api = people
    alice = person(api, "alice")

    def purchase(tid, amount, cashback):
        return ledger.Movement(
            transfer_id=tid, kind="card", debit=alice, credit=merchant(), money=Money(amount), request_hash=tid,
            legs=(ledger.Leg(system_party("fees"), Money(-cashback), kind="cashback"),
                  ledger.Leg(alice, Money(cashback), kind="cashback")))
    with pytest.raises(errors.InsufficientFunds):
        ledger.transfer(purchase("tr_too_much", 50_101, 100))
    assert TransferItem.find("tr_too_much") is None and entries("tr_too_much") == []
    ledger.transfer(purchase("tr_just_fits", 50_100, 100))
    assert balance(api, "alice") == (0, 0, 0)


def test_a_frozen_receiver_in_a_leg_refuses_the_whole_movement(people):
    api = people
    alice, bob = person(api, "alice"), person(api, "bob")
    bob = ledger.Party(bob.account_id, "bob", bob.user_id)  # a receiver: NotEligible when frozen
    api.admin("POST", "/v1/admin/users/bob/freeze", {"reason": "test"})
    with pytest.raises(errors.NotEligible):
        ledger.transfer(ledger.Movement(
            transfer_id="tr_split_bill", kind="p2p", request_hash="split",
            legs=(ledger.Leg(alice, Money(-2_000)), ledger.Leg(merchant(), Money(1_000)),
                  ledger.Leg(bob, Money(1_000)))))
    assert balance(api, "alice") == (50_000, 0, 50_000)


def test_everyone_a_leg_moves_money_of_may_read_the_transfer(people):
    api = people
    alice, bob = person(api, "alice"), person(api, "bob")
    t = ledger.transfer(ledger.Movement(
        transfer_id="tr_dinner_split", kind="p2p", request_hash="dinner",
        legs=(ledger.Leg(alice, Money(-3_000)), ledger.Leg(merchant("Trattoria"), Money(2_000)),
              ledger.Leg(bob, Money(1_000))))).transfer
    assert (t.from_party, t.to_party) == ("alice", "Trattoria")
    assert ledger.transfer_users(t) == {alice.user_id, bob.user_id}
    assert api.call("GET", f"/v1/transfers/{t.id}", as_="bob").status_code == 200


# Forced posts ---------------------------------------------------------------------

def test_a_forced_post_skips_the_funds_check_and_says_so(people):
    api = people
    alice = person(api, "alice")
    r = api.admin("PUT", "/v1/admin/users/alice/credit-limit", {"credit_limit": 10_000})
    assert r.status_code == 200
    late = dict(transfer_id="tr_late_clearing", kind="card", debit=alice, credit=merchant("Hotel"),
                money=Money(75_000), request_hash="late-clearing")
    with pytest.raises(errors.InsufficientFunds):
        ledger.transfer(ledger.Movement(**late))
    posted = ledger.transfer(ledger.Movement(**late, forced=True))
    assert posted.transfer.forced is True
    # Past -credit_limit: the balance is below it, and spending is blocked until repaid.
    assert balance(api, "alice") == (-25_000, 0, -15_000)
    r = api.call("GET", f"/v1/transfers/{posted.transfer.id}", as_="alice")
    assert r.status_code == 200 and r.json_body["forced"] is True
    r = api.money("POST", "/v1/transfers", {"to": "bob", "amount": 1, "currency": "USD"}, "alice", "k1")
    assert r.status_code == 422 and r.json_body["error"]["code"] == "insufficient_funds"


def test_every_transfer_says_whether_it_was_forced(people):
    api = people
    r = api.money("POST", "/v1/transfers", {"to": "bob", "amount": 100, "currency": "USD"}, "alice", "k-plain")
    assert r.status_code == 201 and r.json_body["forced"] is False
    assert api.call("GET", f"/v1/transfers/{r.json_body['id']}", as_="bob").json_body["forced"] is False


def test_a_forced_post_lands_on_a_frozen_account(people):
    api = people
    alice = person(api, "alice")
    api.admin("POST", "/v1/admin/users/alice/freeze", {"reason": "reported stolen"})
    with pytest.raises(errors.AccountFrozen):
        ledger.transfer(ledger.Movement(transfer_id="tr_f1", kind="card", debit=alice, credit=merchant(),
                                        money=Money(1_000), request_hash="f1"))
    posted = ledger.transfer(ledger.Movement(transfer_id="tr_f2", kind="card", debit=alice, credit=merchant(),
                                             money=Money(1_000), request_hash="f2", forced=True))
    assert posted.transfer.forced is True
    assert int(AccountItem.find(alice.account_id).balance) == 49_000


# Properties -----------------------------------------------------------------------

def _sys(name):
    return ledger.Party(f"acct_sys_{name}_0", display=name, customer=False)


@given(amount=st.integers(1, 10**12), fee=st.integers(0, 10**12), with_fee=st.booleans(),
       extra=st.lists(st.integers(-10**9, 10**9), max_size=6))
@settings(max_examples=300, deadline=None)
def test_legs_always_sum_to_zero_property(amount, fee, with_fee, extra):
    """Whatever the two-party form and the extra legs, every movement the
    ledger accepts is balanced, and one it is given unbalanced it refuses."""
    fee = min(fee, amount)
    extra_legs = tuple(ledger.Leg(_sys("fees"), Money(x)) for x in extra) + \
        ((ledger.Leg(_sys("rewards"), Money(-sum(extra))),) if extra else ())
    m = ledger.Movement(transfer_id="tr_p", kind="card", debit=_sys("external"), credit=_sys("card_settlement"),
                        money=Money(amount), request_hash="p", fee=_sys("fees") if with_fee else None,
                        fee_cents=fee if with_fee else 0, legs=extra_legs)
    legs = ledger.legs_of(m)
    assert sum(leg.money.amount_cents for leg in legs) == 0
    ledger._require_balanced(m, legs)
    if extra:
        broken = ledger.Movement(**{**m.__dict__, "legs": extra_legs[:-1]})
        if sum(extra):
            with pytest.raises(ValueError):
                ledger._require_balanced(broken, ledger.legs_of(broken))


@given(plan=st.lists(st.lists(st.tuples(st.integers(0, 4), st.integers(-50_000, 50_000)), min_size=1, max_size=5),
                     min_size=1, max_size=4))
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_random_balanced_movements_keep_the_books_property(people, plan):
    """Random sets of legs over people and system accounts (the last leg
    balances the rest): each is one transfer whose entries are its legs,
    and the books stay balanced — every balance its entries, all summing to 0."""
    api = people
    accounts = [person(api, "alice"), person(api, "bob"), _sys("external"), _sys("fees"), _sys("card_settlement")]
    accounts = [ledger.Party(p.account_id, p.display, p.user_id, customer=False) for p in accounts]
    for legs_plan in plan:
        legs = [ledger.Leg(accounts[i], Money(x)) for i, x in legs_plan]
        legs.append(ledger.Leg(accounts[(legs_plan[0][0] + 1) % 5], Money(-sum(x for _, x in legs_plan))))
        if not any(leg.money.amount_cents for leg in legs):
            continue
        tid = f"tr_prop_{next(_ids)}"
        t = ledger.transfer(ledger.Movement(transfer_id=tid, kind="p2p", legs=tuple(legs), request_hash=tid)).transfer
        assert sum(int(leg.amount) for leg in t.legs) == 0
        assert sorted(e[1] for e in entries(tid)) == sorted(leg.money.amount_cents for leg in legs)
    books_balance()
