"""The ledger's own rules, called as the services call it: whatever a route
or a service checks first, the ledger itself refuses what must never move
(a zero or negative amount) and answers several failed conditions with the
first refusal in API order (REFUSAL_ORDER), so each caller tells its user
what happened. Each refusal moves nothing."""
import pytest

from chalicelib import clock, errors
from chalicelib.db.balances import ENTRY_PREFIX, EntryItem, HoldItem, TransferItem, hold_key
from chalicelib.finance import ledger, reconcile
from chalicelib.finance.money import Money
from chalicelib.finance.transfers import system_party


@pytest.fixture
def people(api):
    """alice (with $10.00) and bob, verified."""
    api.verified("alice")
    api.verified("bob")
    api.deposit("alice", 1_000)
    return api


def party(api, handle):
    account = api.wallet(handle)
    return ledger.Party(account["id"], display=handle, user_id="usr_" + account["id"].removeprefix("acct_"),
                        inactive_refusal=errors.AccountFrozen)


def movement(api, cents, transfer_id="tr_rule", **extra):
    return ledger.Movement(transfer_id=transfer_id, kind="p2p", debit=party(api, "alice"), credit=party(api, "bob"),
                           money=Money(cents), request_hash="h", **extra)


def books(api):
    """What moved: every transfer and entry, each wallet, and the books."""
    report = reconcile.reconcile()
    assert report["balanced"] and report["total"] == 0, report
    return (sorted(t.id for t in TransferItem.scan(TransferItem.sk == "TR")),
            sorted((e.pk, e.sk) for e in EntryItem.scan(EntryItem.sk.startswith(ENTRY_PREFIX))), api.wallet("alice"), api.wallet("bob"))


@pytest.mark.parametrize("cents", [0, -1, -1_000])
def test_the_ledger_refuses_an_amount_that_is_not_positive(people, cents):
    """Routes refuse a zero amount before the ledger sees it; the ledger
    must refuse it too, for every caller that does not (jobs, new flows)."""
    api = people
    before = books(api)
    with pytest.raises(errors.InvalidRequest) as refused:
        ledger.transfer(movement(api, cents))
    assert refused.value.param == "amount"
    with pytest.raises(errors.InvalidRequest):
        ledger.transfer(movement(api, cents, fee=system_party("fees"), fee_cents=0))
    with pytest.raises(errors.InvalidRequest):
        ledger.hold("hold_rule", party(api, "alice"), Money(cents), clock.now(), "zero")
    assert HoldItem.find("hold_rule") is None
    assert books(api) == before


def test_a_hold_posts_for_a_positive_amount_only(people):
    api = people
    ledger.hold("hold_rule", party(api, "alice"), Money(500), clock.now(), "coffee")
    before = books(api)
    for cents in (0, -1, 501):
        with pytest.raises(errors.InvalidRequest):
            ledger.post_hold("hold_rule", cents, party(api, "bob"), f"tr_hold_{cents}", "card", "h")
    assert books(api) == before
    assert HoldItem.find("hold_rule").status == "pending"


def test_a_state_refusal_outranks_insufficient_funds(people):
    """An extra item's condition (here: already unlocked) and the funds fail
    together: the answer is the state (the caller turns 'already done' into
    a success that charged nothing), not 'insufficient funds'."""
    api = people
    marker = HoldItem(*hold_key("marker"), id="marker", account_id="x", amount=1, currency="USD",
                      status="posted", created_at="2026-03-10T15:00:00.000Z", expires_at_iso="2026-03-10T15:00:00.000Z")
    marker.save()
    already = ledger.Extra("check", HoldItem(*hold_key("marker")), condition=HoldItem.pk.does_not_exist(),
                           refusal=errors.InvalidState("Already done."))
    before = books(api)
    with pytest.raises(errors.InvalidState):
        ledger.transfer(movement(api, 5_000, extras=(already,)))  # alice has $10.00: the funds fail too
    with pytest.raises(errors.InsufficientFunds):
        ledger.transfer(movement(api, 5_000))  # the funds alone
    assert books(api) == before
    # Every refusal the ledger raises has its place in the order.
    for refusal in (errors.AccountFrozen, errors.NotFound, errors.InvalidState, errors.NotEligible,
                    errors.LimitExceeded, errors.InsufficientFunds):
        assert ledger._rank(refusal()) < len(ledger.REFUSAL_ORDER), refusal
