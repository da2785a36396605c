"""What follows an authorization (API.md, Cards): increments, clearings
within and beyond each tolerance, forced posts, reversals, refunds with
cashback taken back, expiry, and the books after all of it."""
from datetime import timedelta

import pytest

from chalicelib import clock
from tests.conftest import TEST_NOW
from tests.unit.cards_world import (CAR_RENTAL, DINER, HOTEL, SHOP, assert_books_clean, event_id,  # noqa: F401
                                    person_with_card, run_threads)


@pytest.fixture
def net(api):
    return person_with_card(api, deposit=10_000)


def _tx(net, ctx_status=None):
    txs = net.api.call("GET", f"/v1/cards/{net.card['id']}/transactions", as_="alice").json_body["data"]
    return txs


def _ok(r):
    assert r.status_code == 200, r.body
    return r.json_body


# Increments -------------------------------------------------------------------------

def test_an_increment_raises_the_hold_or_is_declined_leaving_it(net):
    auth = net.approve(1_000)
    d = _ok(net.increment(auth, 500))
    assert d["approved"] and d["amount_approved"] == 500 and d["authorization_id"] == auth
    assert net.api.wallet("alice")["held"] == 1_500
    refused = _ok(net.increment(auth, 8_501))
    assert not refused["approved"] and refused["decline_reason"] == "insufficient_funds"
    assert net.api.wallet("alice")["held"] == 1_500
    assert _tx(net)[0]["amount_held"] == 1_500
    event = event_id()
    first = _ok(net.increment(auth, 100, event=event))
    assert _ok(net.increment(auth, 100, event=event)) == first
    assert net.api.wallet("alice")["held"] == 1_600
    r = net.increment(auth, 101, event=event)
    assert r.status_code == 409 and r.json_body["error"]["code"] == "idempotency_key_reused"
    assert net.increment("auth_nope", 100).status_code == 404
    assert_books_clean()


def test_an_increment_meets_the_cards_rules_as_its_raised_total(net):
    auth = net.approve(1_000)
    path = f"/v1/cards/{net.card['id']}/limits"
    assert net.api.call("PUT", path, {"per_transaction": 1_500}, as_="alice").status_code == 200
    refused = _ok(net.increment(auth, 501))
    assert (refused["approved"], refused["decline_reason"]) == (False, "limit_exceeded")
    assert _ok(net.increment(auth, 500))["approved"]
    assert net.api.call("PUT", path, {"per_transaction": None, "blocked_mccs": [SHOP["mcc"]]},
                        as_="alice").status_code == 200
    refused = _ok(net.increment(auth, 1))
    assert (refused["approved"], refused["decline_reason"]) == (False, "blocked_merchant")
    assert _ok(net.increment(auth, 9_000))["decline_reason"] == "insufficient_funds"  # the money ranks first
    assert net.api.wallet("alice")["held"] == 1_500
    assert_books_clean()


# Clearings --------------------------------------------------------------------------

def test_clearing_less_posts_it_releases_the_rest_and_pays_cashback(net):
    auth = net.approve(2_000)
    ctx = _ok(net.clear(1_500, auth))
    assert (ctx["status"], ctx["amount_posted"], ctx["cashback"], ctx["forced"]) == ("posted", 1_500, 15, False)
    assert ctx["authorization_id"] == auth and ctx["merchant"]["name"] == "Corner Shop"
    wallet = net.api.wallet("alice")
    assert (wallet["balance"], wallet["held"], wallet["available"]) == (10_000 - 1_500 + 15, 0, 8_515)
    entries = net.api.call("GET", "/v1/wallet/transactions", as_="alice").json_body["data"]
    card_entries = [(e["kind"], e["amount"], e["counterparty"]) for e in entries if e["kind"] in ("card", "cashback")]
    assert sorted(card_entries) == [("card", -1_500, "Corner Shop"), ("cashback", 15, "rewards")]
    statement = net.api.call("GET", "/v1/wallet/statements/2026-03", as_="alice").json_body
    assert any(e["counterparty"] == "Corner Shop" for e in statement["entries"])
    assert_books_clean()


@pytest.mark.parametrize("merchant, held, inside, outside", [
    (DINER, 1_000, 1_200, 1_201),       # restaurants and bars: 20%
    ({**DINER, "mcc": "5813"}, 1_000, 1_200, 1_201),
    (HOTEL, 2_000, 2_300, 2_301),       # lodging: 15%
    (SHOP, 1_000, 1_000, 1_001),        # elsewhere: none
])
def test_over_capture_within_the_tolerance_of_the_category(net, merchant, held, inside, outside):
    first = _ok(net.clear(inside, net.approve(held, merchant)))
    assert (first["status"], first["amount_posted"]) == ("posted", inside)
    second = _ok(net.clear(outside, net.approve(held, merchant)))
    assert (second["status"], second["amount_posted"]) == ("partially_captured", held)
    wallet = net.api.wallet("alice")
    assert wallet["held"] == 0
    assert wallet["balance"] == 10_000 - inside - held + inside // 100 + held // 100
    assert_books_clean()


def test_a_clearing_with_no_authorization_is_forced_past_the_credit_line(net):
    ctx = _ok(net.clear(15_000, merchant=SHOP))
    assert (ctx["status"], ctx["forced"], ctx["amount_posted"], ctx["cashback"]) == ("posted", True, 15_000, 150)
    assert ctx["authorization_id"] is None
    wallet = net.api.wallet("alice")
    assert wallet["balance"] == 10_000 - 15_000 + 150 and wallet["spendable"] < 0
    entries = net.api.call("GET", "/v1/wallet/transactions", as_="alice").json_body["data"]
    transfer = net.api.call("GET", f"/v1/transfers/{entries[0]['transfer_id']}", as_="alice").json_body
    assert transfer["forced"] is True and transfer["kind"] == "card"
    # Now nothing may be authorized: spendable is below zero.
    assert net.authorize(1).json_body["decline_reason"] == "insufficient_funds"
    assert_books_clean()


def test_a_clearing_for_an_unknown_card_or_authorization_is_404(net):
    assert net.clear(100, number="4532750000000009").status_code == 404
    assert net.clear(100, auth_id="auth_nope").status_code == 404


def test_a_clearing_replayed_posts_once_and_another_body_is_409(net):
    auth = net.approve(1_000)
    event = event_id()
    first = _ok(net.clear(900, auth, event=event))
    assert _ok(net.clear(900, auth, event=event)) == first
    assert net.api.wallet("alice")["balance"] == 10_000 - 900 + 9
    r = net.clear(901, auth, event=event)
    assert r.status_code == 409 and r.json_body["error"]["code"] == "idempotency_key_reused"
    assert_books_clean()


def test_cashback_is_rounded_down_to_the_cent(net):
    assert _ok(net.clear(199, net.approve(199)))["cashback"] == 1
    assert _ok(net.clear(99, net.approve(99)))["cashback"] == 0
    assert net.api.wallet("alice")["balance"] == 10_000 - 199 - 99 + 1


# Reversals ----------------------------------------------------------------------------

def test_a_reversal_releases_part_then_all(net):
    auth = net.approve(3_000)
    part = _ok(net.reverse(auth, 1_000))
    assert (part["status"], part["amount_held"]) == ("pending", 2_000)
    assert net.api.wallet("alice")["held"] == 2_000
    too_much = net.reverse(auth, 2_001)
    assert too_much.status_code == 400
    rest = _ok(net.reverse(auth))
    assert (rest["status"], rest["amount_held"]) == ("reversed", 0)
    wallet = net.api.wallet("alice")
    assert (wallet["held"], wallet["balance"], wallet["spendable"]) == (0, 10_000, 10_000)
    again = net.reverse(auth)
    assert again.status_code == 409 and again.json_body["error"]["code"] == "invalid_state"
    assert_books_clean()


# Refunds ------------------------------------------------------------------------------

def test_refunds_linked_and_not_take_cashback_back(net):
    auth = net.approve(2_000)
    _ok(net.clear(2_000, auth))
    linked = _ok(net.refund(1_000, auth_id=auth))
    assert (linked["status"], linked["cashback"], linked["authorization_id"]) == ("refunded", -10, auth)
    unlinked = _ok(net.refund(999))
    assert (unlinked["status"], unlinked["cashback"]) == ("refunded", -9)
    assert net.api.wallet("alice")["balance"] == 10_000 - 2_000 + 20 + 1_000 - 10 + 999 - 9
    purchase = [t for t in _tx(net) if t["authorization_id"] == auth and t["status"] == "posted"][0]
    assert purchase["amount_refunded"] == 1_000
    assert_books_clean()


@pytest.mark.parametrize("refunds", [[300], [150, 150], [100, 100, 100]])
def test_refunds_never_take_back_more_cashback_than_the_clearings_paid(net, refunds):
    auth = net.approve(300)
    first, second = _ok(net.clear(150, auth)), _ok(net.clear(150, auth))  # 1% of 150 each: 1 cent, not 1.5
    assert first["cashback"] == 1 and second["cashback"] == 2  # the purchase's total so far
    taken = [-_ok(net.refund(cents, auth_id=auth))["cashback"] for cents in refunds]
    assert sum(taken) == 2  # 1% of 300 would be 3: a cent the clearings never paid
    assert net.api.wallet("alice")["balance"] == 10_000 - 300 + 2 + 300 - 2
    assert_books_clean()


# Expiry -------------------------------------------------------------------------------

def _expire(net, days):
    clock.pin(TEST_NOW + timedelta(days=days, hours=1))
    r = net.api.admin("POST", "/v1/admin/jobs/expire-holds", {"as_of": (TEST_NOW + timedelta(days=days)).date().isoformat()})
    assert r.status_code == 200, r.body
    return r.json_body


@pytest.mark.parametrize("merchant, days", [(SHOP, 7), (HOTEL, 31), (CAR_RENTAL, 31),
                                            ({**SHOP, "mcc": "3400"}, 31)])
def test_holds_expire_after_their_days_and_a_later_clearing_is_forced(net, merchant, days):
    auth = net.approve(1_000, merchant)
    clock.pin(TEST_NOW + timedelta(hours=1))
    _expire(net, days - 1)
    assert net.api.wallet("alice")["held"] == 1_000
    summary = _expire(net, days)
    assert summary["changed"] == 1
    assert net.api.wallet("alice")["held"] == 0
    assert _tx(net)[0]["status"] == "expired"
    assert _expire(net, days)["changed"] == 0  # idempotent
    late = _ok(net.clear(1_000, auth))
    assert (late["status"], late["forced"], late["amount_posted"]) == ("posted", True, 1_000)
    assert net.api.wallet("alice")["balance"] == 10_000 - 1_000 + 10
    assert_books_clean()


def test_a_declined_authorization_cleared_anyway_is_a_forced_post(net):
    declined = _ok(net.authorize(12_000))
    assert declined["decline_reason"] == "insufficient_funds" and declined["authorization_id"].startswith("auth_")
    auth = declined["authorization_id"]
    r = net.increment(auth, 100)
    assert r.status_code == 409 and r.json_body["error"]["code"] == "invalid_state"
    assert net.reverse(auth).status_code == 409
    posted = _ok(net.clear(12_000, auth))
    assert (posted["status"], posted["forced"], posted["amount_posted"]) == ("posted", True, 12_000)
    assert net.api.wallet("alice")["balance"] == 10_000 - 12_000 + 120
    assert_books_clean()


@pytest.mark.usefixtures("one_request_at_a_time")
@pytest.mark.parametrize("kind", ["clearing", "forced", "refund", "reversal"])
def test_identical_events_racing_move_money_once(net, kind):
    from chalicelib import errors
    from chalicelib.finance import card_network
    from chalicelib.finance.money import Money
    auth = net.approve(2_000)
    event = event_id()
    shop = card_network.Merchant(**SHOP)
    calls = {
        "clearing": lambda: card_network.clear({"id": event, "authorization_id": auth, "amount": 1_500},
                                               auth, None, Money(1_500, "USD"), None),
        "forced": lambda: card_network.clear({"id": event, "card_number": net.card["number"], "amount": 700},
                                             None, net.card["number"], Money(700, "USD"), shop),
        "refund": lambda: card_network.refund({"id": event, "card_number": net.card["number"], "amount": 900},
                                              net.card["number"], Money(900, "USD"), shop, None),
        "reversal": lambda: card_network.reverse({"id": event, "authorization_id": auth, "amount": 500}, auth, 500),
    }
    answers, failures = [], []

    def call():
        try:
            status, answer = calls[kind]()
            answers.append((status, answer.as_json()))
        except errors.Replayed as first:
            answers.append((first.status, first.answer))
        except Exception as exc:
            failures.append(exc)
    run_threads(call, 5)
    assert not failures, failures
    assert len(answers) == 5 and all(a == answers[0] for a in answers)
    wallet = net.api.wallet("alice")
    expected = {"clearing": (10_000 - 1_500 + 15, 0), "forced": (10_000 - 700 + 7, 2_000),
                "refund": (10_000 + 900 - 9, 2_000), "reversal": (10_000, 1_500)}[kind]
    assert (wallet["balance"], wallet["held"]) == expected
    assert_books_clean()
