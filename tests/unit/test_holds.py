"""Two-phase holds, as a card authorization uses them: a hold sets money
aside at once; it is then posted (for at most the held amount), voided, or
expired by the `expire-holds` job — exactly once."""
from datetime import timedelta

import pytest

from chalicelib import clock, errors
from chalicelib.db.balances import HoldItem
from chalicelib.finance import ledger, reconcile
from chalicelib.finance.money import Money
from chalicelib.finance.transfers import system_party


@pytest.fixture
def alice(api):
    """alice, verified, with $500.00; bob verified with nothing."""
    api.verified("alice")
    api.verified("bob")
    api.deposit("alice", 50_000)
    return api


def party(api, handle):
    account = api.wallet(handle)
    return ledger.Party(account["id"], display=handle, user_id="usr_" + account["id"].removeprefix("acct_"),
                        inactive_refusal=errors.AccountFrozen)


def merchant(name="Blue Bottle Coffee"):
    shard = system_party("card_settlement")
    return ledger.Party(shard.account_id, display=name, customer=False)


def week():
    return clock.now() + timedelta(days=7)


def money_of(api, handle="alice"):
    w = api.wallet(handle)
    assert w["available"] == w["balance"] - w["held"]
    assert w["spendable"] == w["available"] + w["credit_limit"]
    return w["balance"], w["held"], w["spendable"]


def post(hold_id, amount, transfer_id=None, credit=None):
    transfer_id = transfer_id or f"tr_{hold_id}"
    return ledger.post_hold(hold_id, amount, credit or merchant(), transfer_id, "card", f"clearing:{transfer_id}")


def books_balance():
    report = reconcile.reconcile()
    assert report["balanced"] and report["total"] == 0, report


def test_a_hold_lowers_spendable_at_once_and_leaves_the_balance(alice):
    ledger.hold("hold_1", party(alice, "alice"), Money(12_000), week(), "Blue Bottle Coffee")
    assert money_of(alice) == (50_000, 12_000, 38_000)
    # What is held cannot be spent elsewhere.
    r = alice.money("POST", "/v1/transfers", {"to": "bob", "amount": 38_001, "currency": "USD"}, "alice", "t1")
    assert r.status_code == 422 and r.json_body["error"]["code"] == "insufficient_funds"
    r = alice.money("POST", "/v1/wallet/withdrawals", {"amount": 38_001, "currency": "USD"}, "alice", "w1")
    assert r.status_code == 422 and r.json_body["error"]["code"] == "insufficient_funds"
    r = alice.money("POST", "/v1/transfers", {"to": "bob", "amount": 38_000, "currency": "USD"}, "alice", "t2")
    assert r.status_code == 201
    assert money_of(alice) == (12_000, 12_000, 0)
    books_balance()


def test_a_hold_beyond_spendable_is_insufficient_funds_and_holds_nothing(alice):
    with pytest.raises(errors.InsufficientFunds):
        ledger.hold("hold_big", party(alice, "alice"), Money(50_001), week(), "TV store")
    assert HoldItem.find("hold_big") is None
    assert money_of(alice) == (50_000, 0, 50_000)
    # Holds add up: the second one must fit in what the first left.
    ledger.hold("hold_a", party(alice, "alice"), Money(30_000), week())
    with pytest.raises(errors.InsufficientFunds):
        ledger.hold("hold_b", party(alice, "alice"), Money(20_001), week())
    ledger.hold("hold_c", party(alice, "alice"), Money(20_000), week())
    assert money_of(alice) == (50_000, 50_000, 0)
    # A credit line makes room for more, and only that much.
    assert alice.admin("PUT", "/v1/admin/users/alice/credit-limit", {"credit_limit": 10_000}).status_code == 200
    ledger.hold("hold_d", party(alice, "alice"), Money(10_000), week())
    with pytest.raises(errors.InsufficientFunds):
        ledger.hold("hold_e", party(alice, "alice"), Money(1), week())
    assert money_of(alice) == (50_000, 60_000, 0)
    books_balance()


def test_a_frozen_account_cannot_place_holds(alice):
    alice_party = party(alice, "alice")
    alice.admin("POST", "/v1/admin/users/alice/freeze", {"reason": "card reported stolen"})
    with pytest.raises(errors.AccountFrozen):
        ledger.hold("hold_frozen", alice_party, Money(100), week())
    assert HoldItem.find("hold_frozen") is None


def test_a_hold_posts_for_at_most_the_held_amount_and_releases_the_rest(alice):
    ledger.hold("hold_tip", party(alice, "alice"), Money(10_000), week(), "Cafe")
    with pytest.raises(errors.InvalidRequest) as refused:
        post("hold_tip", 10_001)
    assert refused.value.status == 400 and refused.value.param == "amount"
    for bad in (0, -5):
        with pytest.raises(errors.InvalidRequest):
            post("hold_tip", bad)
    assert money_of(alice) == (50_000, 10_000, 40_000)
    assert HoldItem.find("hold_tip").status == "pending"

    posted = post("hold_tip", 8_500)  # the final bill was lower than the authorization
    assert posted.replayed is False and int(posted.transfer.amount) == 8_500
    assert money_of(alice) == (41_500, 0, 41_500)
    hold = HoldItem.find("hold_tip")
    assert hold.status == "posted" and int(hold.posted_amount) == 8_500
    books_balance()


def test_a_posted_card_payment_is_alices_to_see(alice):
    ledger.hold("hold_seen", party(alice, "alice"), Money(4_200), week(), "Blue Bottle Coffee")
    posted = post("hold_seen", 4_200, credit=merchant("Blue Bottle Coffee"))
    r = alice.call("GET", f"/v1/transfers/{posted.transfer.id}", as_="alice")
    assert r.status_code == 200, r.body
    assert (r.json_body["from"], r.json_body["to"], r.json_body["amount"]) == ("alice", "Blue Bottle Coffee", 4_200)
    r = alice.call("GET", f"/v1/transfers/{posted.transfer.id}", as_="bob")
    assert r.status_code == 404
    entries = alice.call("GET", "/v1/wallet/transactions", as_="alice").json_body["data"]
    assert entries[0]["transfer_id"] == posted.transfer.id
    assert (entries[0]["amount"], entries[0]["counterparty"]) == (-4_200, "Blue Bottle Coffee")


def test_a_hold_posts_exactly_once(alice):
    ledger.hold("hold_once", party(alice, "alice"), Money(5_000), week())
    first = post("hold_once", 5_000, transfer_id="tr_clear_1")
    # The same clearing again (same transfer id): the same transfer, nothing moves.
    again = post("hold_once", 5_000, transfer_id="tr_clear_1")
    assert again.replayed is True and again.transfer.id == first.transfer.id
    # Another clearing for the same hold: refused.
    with pytest.raises(errors.InvalidState):
        post("hold_once", 5_000, transfer_id="tr_clear_2")
    with pytest.raises(errors.InvalidState):
        ledger.void_hold("hold_once")
    assert money_of(alice) == (45_000, 0, 45_000)
    books_balance()


def test_a_hold_voids_once_and_cannot_be_posted_after(alice):
    ledger.hold("hold_void", party(alice, "alice"), Money(7_000), week())
    voided = ledger.void_hold("hold_void")
    assert voided.status == "voided"
    assert money_of(alice) == (50_000, 0, 50_000)
    with pytest.raises(errors.InvalidState):
        ledger.void_hold("hold_void")
    with pytest.raises(errors.InvalidState):
        post("hold_void", 7_000)
    with pytest.raises(errors.InvalidState):
        ledger.expire_hold("hold_void")
    assert money_of(alice) == (50_000, 0, 50_000)  # released once, not twice
    assert HoldItem.find("hold_void").status == "voided"
    books_balance()


def test_unknown_holds_are_not_found(alice):
    with pytest.raises(errors.NotFound):
        ledger.void_hold("hold_nope")
    with pytest.raises(errors.NotFound):
        post("hold_nope", 1)


def test_a_hold_cannot_expire_before_its_time(alice):
    ledger.hold("hold_early", party(alice, "alice"), Money(1_000), week())
    with pytest.raises(errors.InvalidState):
        ledger.expire_hold("hold_early")
    assert HoldItem.find("hold_early").status == "pending"
    assert money_of(alice) == (50_000, 1_000, 49_000)


def test_the_expire_holds_job_releases_expired_holds_once(alice):
    alice_party = party(alice, "alice")
    ledger.hold("hold_old", alice_party, Money(6_000), week(), "Hotel")
    ledger.hold("hold_posted", alice_party, Money(2_000), week(), "Gas")
    post("hold_posted", 2_000)
    ledger.hold("hold_voided", alice_party, Money(1_000), week())
    ledger.void_hold("hold_voided")
    assert money_of(alice) == (48_000, 6_000, 42_000)

    # Nothing is due yet.
    r = alice.admin("POST", "/v1/admin/jobs/expire-holds", {})
    assert r.status_code == 200 and r.json_body["changed"] == 0

    r = alice.admin("POST", "/v1/admin/test-clock", {"advance_days": 8})
    assert r.status_code == 200
    ledger.hold("hold_new", alice_party, Money(3_000), week(), "Rental car")  # placed after the jump: not due

    r = alice.admin("POST", "/v1/admin/jobs/expire-holds", {})
    assert r.status_code == 200, r.body
    summary = r.json_body
    assert summary["job"] == "expire-holds"
    assert summary["as_of"] == (clock.now().date() - timedelta(days=1)).isoformat()
    assert (summary["processed"], summary["changed"]) == (1, 1)
    assert HoldItem.find("hold_old").status == "expired"
    assert HoldItem.find("hold_new").status == "pending"
    assert HoldItem.find("hold_posted").status == "posted"
    assert money_of(alice) == (48_000, 3_000, 45_000)

    # The job queries an index of pending holds only: released ones have left it.
    assert {h.id for h in HoldItem.pending_by_expiry.scan()} == {"hold_new"}

    # Run again (a retried schedule): nothing changes.
    r = alice.admin("POST", "/v1/admin/jobs/expire-holds", {})
    assert r.status_code == 200 and r.json_body["changed"] == 0
    assert money_of(alice) == (48_000, 3_000, 45_000)
    # An expired hold is over: it neither posts nor voids.
    with pytest.raises(errors.InvalidState):
        post("hold_old", 6_000)
    with pytest.raises(errors.InvalidState):
        ledger.void_hold("hold_old")
    books_balance()


def test_the_scheduled_expire_holds_handler_is_the_same_job(alice):
    """What AWS's scheduler invokes: the `job_expire_holds` Lambda."""
    ledger.hold("hold_sched", party(alice, "alice"), Money(6_000), week())
    clock.advance_days(8)
    event = alice.client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event",
                                                  detail={}, resources=[])
    result = alice.client.lambda_.invoke("job_expire_holds", event)
    assert result.payload["job"] == "expire-holds" and result.payload["changed"] == 1
    assert HoldItem.find("hold_sched").status == "expired"
    assert money_of(alice) == (50_000, 0, 50_000)


def test_expire_holds_with_an_as_of_date_expires_only_what_was_due_by_then(alice):
    alice_party = party(alice, "alice")
    ledger.hold("hold_3d", alice_party, Money(1_000), clock.now() + timedelta(days=3))
    ledger.hold("hold_7d", alice_party, Money(2_000), clock.now() + timedelta(days=7))
    clock.advance_days(10)
    as_of = (clock.now() - timedelta(days=6)).date().isoformat()  # 4 days after the holds were placed
    r = alice.admin("POST", "/v1/admin/jobs/expire-holds", {"as_of": as_of})
    assert r.status_code == 200 and r.json_body["changed"] == 1, r.body
    assert HoldItem.find("hold_3d").status == "expired"
    assert HoldItem.find("hold_7d").status == "pending"
    r = alice.admin("POST", "/v1/admin/jobs/expire-holds", {})
    assert r.status_code == 200 and r.json_body["changed"] == 1
    assert money_of(alice) == (50_000, 0, 50_000)
