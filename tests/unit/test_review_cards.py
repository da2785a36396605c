"""Hostile review of the debit card (API.md, Cards and Networks): money the
network could create or lose, decisions out of API.md's order, and holes
in who may call what."""
import pytest

from tests.unit.cards_world import (  # noqa: F401
    AUTH,
    DINER,
    SHOP,
    assert_books_clean,
    event_id,
    person_with_card,
    run_threads,
)


@pytest.fixture
def net(api):
    return person_with_card(api, deposit=10_000)


def _ok(r):
    assert r.status_code == 200, r.body
    return r.json_body


def _code(r):
    return r.status_code, r.json_body["error"]["code"]


# Refunds cannot return more than was posted -------------------------------------------

def test_a_linked_refund_larger_than_what_was_posted_is_refused(net):
    auth = net.approve(1_000)
    _ok(net.clear(1_000, auth))
    before = net.api.wallet("alice")["balance"]
    r = net.refund(1_000_000, auth_id=auth)
    assert _code(r) == (409, "invalid_state")
    assert net.api.wallet("alice")["balance"] == before
    assert_books_clean()


def test_linked_refunds_add_up_to_at_most_what_was_posted(net):
    auth = net.approve(1_000)
    _ok(net.clear(800, auth))
    _ok(net.refund(500, auth_id=auth))
    _ok(net.refund(300, auth_id=auth))
    before = net.api.wallet("alice")["balance"]
    assert _code(net.refund(1, auth_id=auth)) == (409, "invalid_state")
    assert net.api.wallet("alice")["balance"] == before
    assert_books_clean()


@pytest.mark.parametrize("how", ["declined", "pending", "reversed"])
def test_a_refund_linked_to_an_authorization_that_posted_nothing_is_refused(net, how):
    if how == "declined":
        auth = _ok(net.authorize(1_000_000))["authorization_id"]
    else:
        auth = net.approve(1_000)
        if how == "reversed":
            _ok(net.reverse(auth))
    before = net.api.wallet("alice")["balance"]
    assert _code(net.refund(1_000, auth_id=auth)) == (409, "invalid_state")
    assert net.api.wallet("alice")["balance"] == before
    assert_books_clean()


def test_a_refused_refund_answers_the_same_when_replayed_and_moves_nothing(net):
    auth = net.approve(1_000)
    _ok(net.clear(1_000, auth))
    event = event_id()
    assert _code(net.refund(5_000, auth_id=auth, event=event)) == (409, "invalid_state")
    assert _code(net.refund(5_000, auth_id=auth, event=event)) == (409, "invalid_state")
    ok = _ok(net.refund(1_000, auth_id=auth))
    assert ok["amount_refunded"] == 1_000 and ok["cashback"] == -10
    assert_books_clean()


# Decline order ------------------------------------------------------------------------

def test_a_daily_limit_ranks_before_a_blocked_merchant(net):
    r = net.api.call("PUT", f"/v1/cards/{net.card['id']}/limits", {"daily": 500, "blocked_mccs": ["5411"]},
                     as_="alice")
    assert r.status_code == 200, r.body
    d = _ok(net.authorize(1_000))
    assert (d["approved"], d["decline_reason"]) == (False, "limit_exceeded")


def test_a_monthly_limit_ranks_before_a_blocked_country(net):
    r = net.api.call("PUT", f"/v1/cards/{net.card['id']}/limits", {"monthly": 1_500, "allowed_countries": ["PT"]},
                     as_="alice")
    assert r.status_code == 200, r.body
    _ok(net.api.call("PUT", f"/v1/cards/{net.card['id']}/limits", {"allowed_countries": None}, as_="alice"))
    net.approve(1_000)
    _ok(net.api.call("PUT", f"/v1/cards/{net.card['id']}/limits", {"allowed_countries": ["PT"]}, as_="alice"))
    d = _ok(net.authorize(1_000))
    assert (d["approved"], d["decline_reason"]) == (False, "limit_exceeded")


# Who may call -------------------------------------------------------------------------

def test_a_person_with_a_bearer_token_cannot_call_the_network(net):
    body = {"id": event_id(), "card_number": net.card["number"], "exp_month": net.card["exp_month"],
            "exp_year": net.card["exp_year"], "amount": 100, "currency": "USD", "merchant": SHOP}
    r = net.api.call("POST", AUTH, body, as_="alice")
    assert _code(r) == (401, "invalid_signature")
    assert net.api.wallet("alice")["held"] == 0


def test_the_check_networks_signature_does_not_open_the_card_routes(net):
    from chalicelib.identity import keys
    r = net.api.network("card", AUTH, {"id": event_id(), "card_number": net.card["number"],
                                       "exp_month": net.card["exp_month"], "exp_year": net.card["exp_year"],
                                       "amount": 100, "currency": "USD", "merchant": SHOP},
                        secret=keys.network_secret("check"))
    assert _code(r) == (401, "invalid_signature")
    assert net.api.wallet("alice")["held"] == 0


@pytest.mark.parametrize("path, method", [
    ("", "GET"), ("/transactions", "GET"), ("/freeze", "POST"), ("/unfreeze", "POST"), ("", "DELETE")])
def test_another_persons_card_is_not_found_on_every_route(net, path, method):
    net.api.verified("mallory")
    r = net.api.call(method, f"/v1/cards/{net.card['id']}{path}", as_="mallory")
    assert _code(r) == (404, "not_found")
    r = net.api.call("PUT", f"/v1/cards/{net.card['id']}/limits", {"daily": 1}, as_="mallory")
    assert _code(r) == (404, "not_found")
    r = net.api.call("POST", f"/v1/cards/{net.card['id']}/reveal", {"password": "x" * 12}, as_="mallory")
    assert _code(r) == (404, "not_found")
    assert net.api.call("GET", f"/v1/cards/{net.card['id']}", as_="alice").json_body["status"] == "active"


# Races --------------------------------------------------------------------------------

@pytest.mark.usefixtures("one_request_at_a_time")
def test_two_clearings_of_one_authorization_racing_post_once_from_the_hold(net):
    auth = net.approve(1_000)
    answers = []
    run_threads(lambda: answers.append(net.clear(1_000, auth)), 2)
    assert [r.status_code for r in answers] == [200, 200]
    assert_books_clean()
    assert net.api.wallet("alice")["held"] == 0


# Hostile input ------------------------------------------------------------------------

@pytest.mark.parametrize("amount", [0, -1, 10**12 + 1, 12.5, "100", True, [], {}])
def test_bad_amounts_on_every_network_route_are_400_and_move_nothing(net, amount):
    auth = net.approve(100)
    before = net.api.wallet("alice")
    event = event_id()
    for r in (net.authorize(amount, event=event), net.increment(auth, amount, event=event),
              net.clear(amount, auth, event=event), net.reverse(auth, amount, event=event),
              net.refund(amount, event=event)):
        assert _code(r) == (400, "invalid_request"), r.body
        assert r.json_body["error"]["param"] == "amount"
    assert net.api.wallet("alice") == before
    assert_books_clean()


# A card frozen or closed while an authorization is in flight ---------------------------

@pytest.mark.parametrize("action, method, reason", [("/freeze", "POST", "card_frozen"), ("", "DELETE", "card_closed")])
def test_a_card_frozen_or_closed_between_the_read_and_the_hold_is_declined(net, monkeypatch, action, method, reason):
    from chalicelib.finance import ledger
    real_hold = ledger.hold

    def freeze_first(*args, **kwargs):
        r = net.api.call(method, f"/v1/cards/{net.card['id']}{action}", as_="alice")
        assert r.status_code == 200, r.body
        return real_hold(*args, **kwargs)

    monkeypatch.setattr(ledger, "hold", freeze_first)
    d = _ok(net.authorize(1_000))
    assert (d["approved"], d["decline_reason"]) == (False, reason)
    assert net.api.wallet("alice")["held"] == 0
    assert_books_clean()


def test_a_card_frozen_between_the_read_and_an_increment_declines_it(net, monkeypatch):
    from chalicelib.finance import ledger
    auth = net.approve(1_000)
    real = ledger.increment_hold

    def freeze_first(*args, **kwargs):
        assert net.api.call("POST", f"/v1/cards/{net.card['id']}/freeze", as_="alice").status_code == 200
        return real(*args, **kwargs)

    monkeypatch.setattr(ledger, "increment_hold", freeze_first)
    d = _ok(net.increment(auth, 500))
    assert (d["approved"], d["decline_reason"]) == (False, "card_frozen")
    assert net.api.wallet("alice")["held"] == 1_000
    assert_books_clean()


# The network's word stands on a frozen account ------------------------------------------

def test_clearings_still_land_on_a_frozen_account(net):
    auth = net.approve(1_000)
    assert net.api.admin("POST", "/v1/admin/users/alice/freeze", {"reason": "review"}).status_code == 200
    declined = _ok(net.authorize(100))
    assert (declined["approved"], declined["decline_reason"]) == (False, "account_frozen")
    assert _ok(net.clear(1_000, auth))["status"] == "posted"
    assert _ok(net.clear(500))["forced"] is True
    assert_books_clean()


# The number in a network event's fingerprint ------------------------------------------

def test_a_network_events_stored_fingerprint_cannot_be_recomputed_from_a_guessed_number(net):
    """The event record and the card transfer keep a hash of the call, whose
    body holds the card number (and the CVC). Unkeyed, anyone with a copy of
    the table rebuilds the body from the stored answer and the card item
    (BIN, last4, expiry and merchant are all there) and tries the 10^6
    numbers left: the number is out in a second. The hash must be keyed."""
    import json

    from chalicelib import ids
    from chalicelib.db.network import NetworkEventItem
    event = event_id()
    body = {"id": event, "card_number": net.card["number"], "amount": 700, "currency": "USD", "merchant": SHOP}
    _ok(net.api.network("card", "/v1/network/card-refunds", body))
    stored = NetworkEventItem.find("card", event)
    canonical = {**body, "authorization_id": None}
    guess = ids.fingerprint(json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    assert stored.request_hash != guess
    # Still a fingerprint of the call: the same body replays, another is refused.
    assert _ok(net.api.network("card", "/v1/network/card-refunds", body))["id"]
    r = net.api.network("card", "/v1/network/card-refunds", {**body, "amount": 701})
    assert _code(r) == (409, "idempotency_key_reused")


@pytest.mark.usefixtures("one_request_at_a_time")
def test_partial_reversals_racing_release_at_most_what_is_held(net):
    auth = net.approve(1_000)
    answers = []
    run_threads(lambda: answers.append(net.reverse(auth, 600)), 3)
    assert sum(r.status_code == 200 for r in answers) == 1, [r.body for r in answers]
    assert all(r.status_code in (200, 400, 409) for r in answers), [r.body for r in answers]
    assert net.api.wallet("alice")["held"] == 400
    assert_books_clean()


def test_a_clearing_after_a_full_reversal_posts_the_purchase_once(net):
    auth = net.approve(1_000)
    _ok(net.reverse(auth))
    _ok(net.clear(1_000, auth))
    wallet = net.api.wallet("alice")
    assert wallet["held"] == 0
    # Reversed first: the clearing is a forced post of the purchase, paid once.
    assert wallet["balance"] == 10_000 - 1_000 + 10
    assert_books_clean()


@pytest.mark.parametrize("auth_id", ["auth_" + "x" * 5000, "\u00e9\u2028", "AUTH#x", "%00"])
def test_odd_authorization_ids_in_the_increment_path_are_not_found(net, auth_id):
    r = net.increment(auth_id, 100)
    assert _code(r) == (404, "not_found"), r.body


def test_an_over_capture_within_tolerance_posts_even_past_the_funds(api):
    net = person_with_card(api, deposit=1_000)
    auth = net.approve(1_000, DINER)
    ctx = _ok(net.clear(1_200, auth))
    assert (ctx["status"], ctx["amount_posted"], ctx["forced"], ctx["cashback"]) == ("posted", 1_200, True, 12)
    wallet = api.wallet("alice")
    assert (wallet["balance"], wallet["held"]) == (1_000 - 1_200 + 12, 0)
    assert_books_clean()


def test_two_forced_clearings_of_one_expired_authorization_both_count_on_its_card_transaction(net, monkeypatch):
    from chalicelib.finance import ledger
    auth = net.approve(1_000)
    _ok(net.reverse(auth))  # no live hold: every clearing is a forced post
    real = ledger.transfer
    interleaved = []

    def other_clearing_first(*args, **kwargs):
        if not interleaved:
            interleaved.append("started")
            _ok(net.clear(400, auth))
        return real(*args, **kwargs)

    monkeypatch.setattr(ledger, "transfer", other_clearing_first)
    _ok(net.clear(1_000, auth))
    ctx = next(t for t in net.api.call("GET", f"/v1/cards/{net.card['id']}/transactions", as_="alice").json_body["data"]
               if t["authorization_id"] == auth)
    assert (ctx["amount_posted"], ctx["cashback"]) == (1_400, 14)
    assert net.api.wallet("alice")["balance"] == 10_000 - 1_400 + 14
    assert_books_clean()


def test_another_events_id_is_no_authorization_id(net):
    """A refund's or a forced clearing's event id names their card
    transaction, but no authorization: as an authorization_id it is 404."""
    refund_event, clearing_event = event_id(), event_id()
    _ok(net.refund(500, event=refund_event))
    _ok(net.clear(300, event=clearing_event))
    before = net.api.wallet("alice")
    for other in (refund_event, clearing_event):
        for r in (net.clear(700, other), net.increment(other, 100), net.reverse(other),
                  net.refund(300, auth_id=other)):
            assert _code(r) == (404, "not_found"), r.body
    assert net.api.wallet("alice") == before
    txs = net.api.call("GET", f"/v1/cards/{net.card['id']}/transactions", as_="alice").json_body["data"]
    assert sorted(t["status"] for t in txs) == ["posted", "refunded"]
    assert_books_clean()
