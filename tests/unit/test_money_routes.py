"""The money routes as their users meet them: alice pays bob, bob sees it,
carol (unverified) and erin (a stranger) cannot; every bad request is a
clear 4xx that moves nothing."""
import csv
import io
import json
import uuid
from datetime import datetime
from urllib.parse import quote

import pytest

from chalicelib import clock
from chalicelib.config import MINOR_UNITS_MAX
from chalicelib.finance import requests, wallet
from chalicelib.finance.money import Money
from tests.conftest import TEST_NOW
from tests.unit.moneykit import assert_frozen, principal

USD = "USD"


# The people ---------------------------------------------------------------------------

@pytest.fixture
def bank(api):
    """alice (verified, $1,000.00), bob and erin (verified, empty), carol (signed
    up, never verified)."""
    for handle in ("alice", "bob", "erin"):
        api.verified(handle)
    api.signup("carol")
    api.deposit("alice", 100_000)
    return api


def key():
    return str(uuid.uuid4())


def usd(amount, **extra):
    return {"amount": amount, "currency": USD, **extra}


def pay(api, sender, to, amount, k=None, **extra):
    return api.money("POST", "/v1/transfers", {"to": to, **usd(amount), **extra}, sender, k or key())


def error(r):
    assert r.json_body is not None and "error" in r.json_body, r.body
    e = r.json_body["error"]
    assert set(e) == {"type", "code", "message", "param"}
    return e["code"]


def refused(r, status, code):
    assert (r.status_code, error(r)) == (status, code), r.body


def money_of(api, *handles):
    """What each person sees of their money, and how many entries they have."""
    seen = {}
    for h in handles:
        w = api.wallet(h)
        entries = api.call("GET", "/v1/wallet/transactions?limit=100", as_=h).json_body["data"]
        seen[h] = (w["balance"], w["held"], w["spendable"], len(entries))
    return seen


def ledger_check(api):
    r = api.admin("GET", "/v1/admin/ledger/check")
    assert r.status_code == 200, r.body
    return r.json_body


def assert_balanced(api):
    check = ledger_check(api)
    assert check["balanced"] is True and check["total"] == 0, check
    return check


def books(api):
    check = ledger_check(api)
    return {k: check[k] for k in ("balanced", "total", "accounts", "system_accounts")}


# Bad input ------------------------------------------------------------------------------

BAD_AMOUNTS = [
    (12.5, "a float"), (12.0, "a float that looks whole"), ("1250", "a string"), (True, "a boolean"),
    (0, "zero"), (-100, "negative"), (MINOR_UNITS_MAX + 1, "above 10^12"), (None, "null"),
    ([1250], "a list"), ({"cents": 1250}, "an object"),
]


def _bodies(extra):
    """(body, status, code, param) for every way a money body can be wrong."""
    cases = [({**extra, "amount": bad, "currency": USD}, 400, "invalid_request", "amount") for bad, _ in BAD_AMOUNTS]
    cases += [
        ({**extra, "currency": USD}, 400, "invalid_request", "amount"),
        ({**extra, "amount": 1_250}, 400, "invalid_request", "currency"),
        ({**extra, "amount": 1_250, "currency": None}, 400, "invalid_request", "currency"),
        ({**extra, "amount": 1_250, "currency": 840}, 400, "invalid_request", "currency"),
        ({**extra, "amount": 1_250, "currency": "CNY"}, 400, "unsupported_currency", "currency"),
        ({**extra, "amount": 1_250, "currency": "usd"}, 400, "unsupported_currency", "currency"),
        ({**extra, "amount": 1_250, "currency": "BTC"}, 400, "unsupported_currency", "currency"),
        ({**extra, "amount": 1_250, "currency": USD, "fee": 0}, 400, "invalid_request", "fee"),
    ]
    return cases


MONEY_ROUTES = [
    ("/v1/wallet/deposits", {}),
    ("/v1/wallet/withdrawals", {}),
    ("/v1/transfers", {"to": "bob"}),
    ("/v1/payment-requests", {"from": "bob"}),
]


def test_every_malformed_money_body_is_a_400_that_moves_nothing(bank):
    api = bank
    before_money, before_books = money_of(api, "alice", "bob"), books(api)
    for path, extra in MONEY_ROUTES:
        for body, status, code, param in _bodies(extra):
            r = api.money("POST", path, body, "alice", key())
            refused(r, status, code)
            assert r.json_body["error"]["param"] == param, (path, body, r.body)
        for raw in ("{not json", "[]", '"1250"', "1250", "null", '{"amount": NaN, "currency": "USD"}',
                    '{"amount": Infinity, "currency": "USD"}', '{"amount": 1e3, "currency": "USD"}'):
            r = api.call("POST", path, raw=raw, as_="alice", headers={"Idempotency-Key": key()})
            refused(r, 400, "invalid_request")
    for extra, param in [({"to": "bob", "note": "x" * 281}, "note"), ({"to": "bob", "note": 5}, "note"),
                         ({"to": "bob!"}, "to"), ({"to": ""}, "to"), ({"to": 7}, "to"), ({}, "to"),
                         ({"to": "bob", "note": "\u0000"}, "note")]:
        r = api.money("POST", "/v1/transfers", {**extra, **usd(100)}, "alice", key())
        refused(r, 400, "invalid_request")
        assert r.json_body["error"]["param"] == param, (extra, r.body)
    r = api.money("POST", "/v1/payment-requests", usd(100, note="y" * 281, **{"from": "bob"}), "alice", key())
    refused(r, 400, "invalid_request")
    assert money_of(api, "alice", "bob") == before_money
    assert books(api) == before_books and before_books["balanced"]


def test_the_largest_amount_is_well_formed_and_then_refused_by_the_rules(bank):
    api = bank
    before = money_of(api, "alice", "bob")
    refused(api.money("POST", "/v1/wallet/deposits", usd(MINOR_UNITS_MAX), "alice", key()), 422, "limit_exceeded")
    refused(pay(api, "alice", "bob", MINOR_UNITS_MAX), 422, "limit_exceeded")
    refused(api.money("POST", "/v1/wallet/withdrawals", usd(MINOR_UNITS_MAX), "alice", key()),
            422, "insufficient_funds")
    assert money_of(api, "alice", "bob") == before


def test_idempotency_key_missing_empty_or_too_long(bank):
    api = bank
    before_money, before_books = money_of(api, "alice", "bob"), books(api)
    request_id = api.money("POST", "/v1/payment-requests", usd(500, **{"from": "alice"}), "bob", key()).json_body["id"]
    posts = [("/v1/wallet/deposits", usd(1_000)), ("/v1/wallet/withdrawals", usd(1_000)),
             ("/v1/transfers", usd(1_000, to="bob")), (f"/v1/payment-requests/{request_id}/pay", None)]
    for path, body in posts:
        refused(api.call("POST", path, body, as_="alice"), 400, "idempotency_key_required")
        refused(api.call("POST", path, body, as_="alice", headers={"Idempotency-Key": ""}),
                400, "idempotency_key_required")
        r = api.call("POST", path, body, as_="alice", headers={"Idempotency-Key": "k" * 256})
        assert r.status_code == 400 and r.json_body["error"]["param"] == "Idempotency-Key", r.body
        # Shape is checked before identity: no token and no key is still the 400.
        refused(api.call("POST", path, body), 400, "idempotency_key_required")
        # With a key but no token: 401.
        refused(api.call("POST", path, body, headers={"Idempotency-Key": key()}), 401, "unauthenticated")
    assert money_of(api, "alice", "bob") == before_money
    assert books(api) == before_books
    # 255 characters is a key.
    r = api.money("POST", "/v1/wallet/deposits", usd(1_000), "alice", "k" * 255)
    assert r.status_code == 201, r.body


def test_a_key_reused_for_another_request_is_409_and_moves_nothing(bank):
    api = bank
    first = pay(api, "alice", "bob", 2_500, k="lunch-1", note="lunch")
    assert first.status_code == 201
    before_money, before_books = money_of(api, "alice", "bob"), books(api)
    for path, body in [("/v1/transfers", usd(2_501, to="bob", note="lunch")),
                       ("/v1/transfers", usd(2_500, to="erin", note="lunch")),
                       ("/v1/transfers", usd(2_500, to="bob", note="dinner")),
                       ("/v1/wallet/deposits", usd(2_500)),
                       ("/v1/wallet/withdrawals", usd(2_500))]:
        refused(api.money("POST", path, body, "alice", "lunch-1"), 409, "idempotency_key_reused")
    request_id = api.money("POST", "/v1/payment-requests", usd(700, **{"from": "alice"}), "bob", key()).json_body["id"]
    refused(api.money("POST", f"/v1/payment-requests/{request_id}/pay", None, "alice", "lunch-1"),
            409, "idempotency_key_reused")
    assert money_of(api, "alice", "bob") == before_money
    assert books(api) == before_books
    # Keys belong to their caller: bob may use "lunch-1" for his own transfer.
    r = pay(api, "bob", "alice", 100, k="lunch-1", note="lunch")
    assert r.status_code == 201 and r.headers.get("Idempotent-Replayed") is None
    assert r.json_body["id"] != first.json_body["id"]
    # The handle is matched case-insensitively, so this is the same request again.
    again = pay(api, "alice", "BOB", 2_500, k="lunch-1", note="lunch")
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json_body == first.json_body


# Who may move money ----------------------------------------------------------------------

def test_carol_is_unverified_and_every_money_route_says_so(bank):
    api = bank
    request_id = api.money("POST", "/v1/payment-requests", usd(500, **{"from": "alice"}), "bob", key()).json_body["id"]
    transfer_id = pay(api, "alice", "bob", 100).json_body["id"]
    before_books = books(api)
    calls = [("GET", "/v1/wallet", None), ("GET", "/v1/wallet/transactions", None),
             ("GET", f"/v1/wallet/statements/{clock.now():%Y-%m}", None),
             ("POST", "/v1/wallet/deposits", usd(1_000)), ("POST", "/v1/wallet/withdrawals", usd(1_000)),
             ("POST", "/v1/transfers", usd(1_000, to="bob")), ("GET", f"/v1/transfers/{transfer_id}", None),
             ("POST", "/v1/payment-requests", usd(1_000, **{"from": "bob"})), ("GET", "/v1/payment-requests", None),
             ("POST", f"/v1/payment-requests/{request_id}/pay", None),
             ("POST", f"/v1/payment-requests/{request_id}/decline", None)]
    for method, path, body in calls:
        r = api.call(method, path, body, as_="carol", headers={"Idempotency-Key": key()})
        refused(r, 403, "verification_required")
        refused(api.call(method, path, body, headers={"Idempotency-Key": key()}), 401, "unauthenticated")
    assert books(api) == before_books
    outgoing = api.call("GET", "/v1/payment-requests?role=outgoing", as_="bob").json_body["data"]
    assert [(x["id"], x["status"]) for x in outgoing] == [(request_id, "pending")]


def test_money_goes_only_to_people_who_can_receive_it(bank):
    api = bank
    api.verified("dave")
    assert api.admin("POST", "/v1/admin/users/dave/freeze", {"reason": "court order"}).status_code == 200
    before_money, before_books = money_of(api, "alice", "bob"), books(api)
    refused(pay(api, "alice", "nobody", 100), 404, "not_found")
    refused(pay(api, "alice", "alice", 100), 422, "self_transfer")
    refused(pay(api, "alice", "ALICE", 100), 422, "self_transfer")
    refused(pay(api, "alice", "carol", 100), 422, "not_eligible")  # unverified
    refused(pay(api, "alice", "dave", 100), 422, "not_eligible")  # frozen
    refused(pay(api, "alice", "bob", 100_001), 422, "insufficient_funds")
    assert money_of(api, "alice", "bob") == before_money
    assert books(api) == before_books


def test_the_order_of_refusals_when_several_apply(bank):
    api = bank
    api.deposit("alice", 2_000_000)  # $21,000 in all
    before_money, before_books = money_of(api, "alice", "bob"), books(api)
    too_much = 2_100_001  # above both the day's $10,000 and what alice has
    refused(pay(api, "alice", "alice", too_much), 422, "self_transfer")
    refused(pay(api, "alice", "carol", too_much), 422, "not_eligible")
    refused(pay(api, "alice", "bob", too_much), 422, "limit_exceeded")
    refused(pay(api, "alice", "bob", 1_000_001), 422, "limit_exceeded")
    refused(pay(api, "alice", "erin", 1_000_001), 422, "limit_exceeded")
    refused(pay(api, "bob", "alice", 1), 422, "insufficient_funds")
    refused(pay(api, "bob", "carol", 1), 422, "not_eligible")
    refused(pay(api, "bob", "bob", 1), 422, "self_transfer")
    refused(api.money("POST", "/v1/payment-requests", usd(too_much, **{"from": "bob"}), "bob", key()),
            422, "self_transfer")
    refused(api.money("POST", "/v1/payment-requests", usd(100, **{"from": "carol"}), "bob", key()),
            422, "not_eligible")
    refused(api.money("POST", "/v1/payment-requests", usd(100, **{"from": "ghost"}), "bob", key()),
            404, "not_found")
    assert money_of(api, "alice", "bob") == before_money
    assert books(api) == before_books


def test_a_frozen_sender_moves_nothing(bank):
    api = bank
    request_id = api.money("POST", "/v1/payment-requests", usd(500, **{"from": "alice"}), "bob", key()).json_body["id"]
    assert api.admin("POST", "/v1/admin/users/alice/freeze", {"reason": "fraud review"}).status_code == 200
    before_money, before_books = money_of(api, "bob"), books(api)
    refused(pay(api, "alice", "bob", 100), 401, "unauthenticated")  # freezing revoked her tokens
    assert api.login("alice").status_code == 200
    refused(pay(api, "alice", "bob", 100), 403, "account_frozen")
    refused(api.money("POST", "/v1/wallet/withdrawals", usd(100), "alice", key()), 403, "account_frozen")
    refused(api.money("POST", "/v1/wallet/deposits", usd(100), "alice", key()), 403, "account_frozen")
    refused(api.money("POST", f"/v1/payment-requests/{request_id}/pay", None, "alice", key()), 403, "account_frozen")
    refused(api.money("POST", "/v1/payment-requests", usd(100, **{"from": "bob"}), "alice", key()),
            403, "account_frozen")
    # Shape still comes first.
    refused(api.money("POST", "/v1/transfers", usd(1.5, to="bob"), "alice", key()), 400, "invalid_request")
    # She can still see her money.
    wallet = api.wallet("alice")
    assert (wallet["balance"], wallet["status"]) == (100_000, "frozen")
    assert money_of(api, "bob") == before_money
    assert books(api) == before_books
    # Unfrozen, she pays again.
    assert api.admin("POST", "/v1/admin/users/alice/unfreeze", {"reason": "cleared"}).status_code == 200
    assert pay(api, "alice", "bob", 100).status_code == 201


def test_daily_and_per_deposit_limits(bank):
    """The day's totals count from the fixture's deposit, made at TEST_NOW
    (15:00 UTC): the test stays hours away from midnight, on that one
    business day, until it moves the clock to the next day itself."""
    api = bank
    assert clock.now().date() == TEST_NOW.date() and clock.now().hour < 23
    before = money_of(api, "alice")
    refused(api.money("POST", "/v1/wallet/deposits", usd(2_500_001), "alice", key()), 422, "limit_exceeded")
    assert money_of(api, "alice") == before
    # Today alice has deposited $1,000 (the fixture's); $50,000 is the day's most.
    assert api.money("POST", "/v1/wallet/deposits", usd(2_500_000), "alice", key()).status_code == 201
    assert api.money("POST", "/v1/wallet/deposits", usd(2_300_000), "alice", key()).status_code == 201
    refused(api.money("POST", "/v1/wallet/deposits", usd(100_001), "alice", key()), 422, "limit_exceeded")
    assert api.money("POST", "/v1/wallet/deposits", usd(100_000), "alice", key()).status_code == 201  # $50,000 exactly
    refused(api.money("POST", "/v1/wallet/deposits", usd(1), "alice", key()), 422, "limit_exceeded")
    assert api.wallet("alice")["balance"] == 5_000_000

    # Sent: transfers and paid requests share the $10,000 day.
    assert pay(api, "alice", "bob", 600_000).status_code == 201
    request_id = api.money("POST", "/v1/payment-requests", usd(400_001, **{"from": "alice"}), "erin",
                           key()).json_body["id"]
    refused(api.money("POST", f"/v1/payment-requests/{request_id}/pay", None, "alice", key()), 422, "limit_exceeded")
    assert pay(api, "alice", "erin", 400_000).status_code == 201
    refused(pay(api, "alice", "bob", 1), 422, "limit_exceeded")
    # Withdrawals to her own bank are not "sent".
    assert api.money("POST", "/v1/wallet/withdrawals", usd(5_000), "alice", key()).status_code == 201
    before = money_of(api, "alice", "bob", "erin")
    refused(pay(api, "alice", "bob", 1), 422, "limit_exceeded")
    assert money_of(api, "alice", "bob", "erin") == before
    # The next day the limits start over.
    assert clock.now().date() == TEST_NOW.date()
    assert api.admin("POST", "/v1/admin/test-clock", {"advance_days": 1}).status_code == 200
    assert pay(api, "alice", "bob", 1_000_000).status_code == 201
    assert api.money("POST", "/v1/wallet/deposits", usd(2_500_000), "alice", key()).status_code == 201
    assert_balanced(api)


def test_nobody_sees_or_pays_what_is_not_theirs(bank):
    api = bank
    transfer = pay(api, "alice", "bob", 2_500, note="rent").json_body
    for h in ("alice", "bob"):
        r = api.call("GET", f"/v1/transfers/{transfer['id']}", as_=h)
        assert r.status_code == 200 and r.json_body == transfer
    for transfer_id in (transfer["id"], "tr_" + "0" * 26, "tr_nope", "nope", "x" * 300, "tr_" + "a" * 70):
        r = api.call("GET", f"/v1/transfers/{transfer_id}", as_="erin")
        refused(r, 404, "not_found")
        assert "rent" not in r.body.decode() and "alice" not in r.body.decode()

    request = api.money("POST", "/v1/payment-requests", usd(900, **{"from": "alice"}), "bob", key()).json_body
    before_money, before_books = money_of(api, "alice", "bob", "erin"), books(api)
    refused(api.money("POST", f"/v1/payment-requests/{request['id']}/pay", None, "erin", key()), 404, "not_found")
    refused(api.call("POST", f"/v1/payment-requests/{request['id']}/decline", as_="erin"), 404, "not_found")
    r = api.money("POST", f"/v1/payment-requests/{request['id']}/pay", None, "bob", key())
    assert r.status_code in (403, 404), r.body  # the payee cannot pay their own request
    r = api.call("POST", f"/v1/payment-requests/{request['id']}/decline", as_="bob")
    assert r.status_code in (403, 404), r.body
    for request_id in ("req_" + "0" * 26, "req_nope", "garbage"):
        refused(api.money("POST", f"/v1/payment-requests/{request_id}/pay", None, "alice", key()), 404, "not_found")
    incoming = api.call("GET", "/v1/payment-requests?role=incoming", as_="erin").json_body
    outgoing = api.call("GET", "/v1/payment-requests?role=outgoing", as_="erin").json_body
    assert incoming == {"data": [], "next_cursor": None} and outgoing == {"data": [], "next_cursor": None}
    assert money_of(api, "alice", "bob", "erin") == before_money
    assert books(api) == before_books


# Happy paths -------------------------------------------------------------------------------

def test_alice_pays_bob_bob_sees_it(bank):
    api = bank
    r = pay(api, "alice", "bob", 2_500, k="rent-june", note="June rent")
    assert r.status_code == 201, r.body
    transfer = r.json_body
    assert r.headers.get("Idempotent-Replayed") is None
    assert transfer["id"].startswith("tr_")
    assert {k: transfer[k] for k in ("kind", "from", "to", "amount", "currency", "note", "status")} == {
        "kind": "p2p", "from": "alice", "to": "bob", "amount": 2_500, "currency": USD, "note": "June rent",
        "status": "posted"}
    assert transfer["created_at"].endswith("Z")
    alice, bob = api.wallet("alice"), api.wallet("bob")
    assert (alice["balance"], alice["available"], alice["spendable"]) == (97_500, 97_500, 97_500)
    assert bob["balance"] == 2_500
    bob_sees = api.call("GET", "/v1/wallet/transactions", as_="bob").json_body["data"]
    assert [(e["transfer_id"], e["amount"], e["counterparty"], e["kind"]) for e in bob_sees] == [
        (transfer["id"], 2_500, "alice", "p2p")]
    alice_sees = api.call("GET", "/v1/wallet/transactions", as_="alice").json_body["data"]
    assert (alice_sees[0]["amount"], alice_sees[0]["counterparty"]) == (-2_500, "bob")

    # Replays of every money route give the first answer again, and move nothing.
    again = pay(api, "alice", "bob", 2_500, k="rent-june", note="June rent")
    assert again.status_code == 201 and again.json_body == transfer
    assert again.headers.get("Idempotent-Replayed") == "true"
    dep = api.money("POST", "/v1/wallet/deposits", usd(10_000), "bob", "dep-1")
    wd = api.money("POST", "/v1/wallet/withdrawals", usd(3_000), "bob", "wd-1")
    assert dep.status_code == 201 and wd.status_code == 201
    assert dep.json_body["kind"] == "deposit" and wd.json_body["kind"] == "withdrawal"
    for path, body, k, first in [("/v1/wallet/deposits", usd(10_000), "dep-1", dep),
                                 ("/v1/wallet/withdrawals", usd(3_000), "wd-1", wd)]:
        replay = api.money("POST", path, body, "bob", k)
        assert replay.status_code == 201 and replay.json_body == first.json_body
        assert replay.headers.get("Idempotent-Replayed") == "true"
    assert api.wallet("alice")["balance"] == 97_500
    assert api.wallet("bob")["balance"] == 2_500 + 10_000 - 3_000
    assert_balanced(api)


def test_a_refused_request_stores_nothing_and_may_be_retried_with_its_key(bank):
    api = bank
    refused(pay(api, "bob", "alice", 5_000, k="pay-back"), 422, "insufficient_funds")
    api.deposit("bob", 5_000)
    r = pay(api, "bob", "alice", 5_000, k="pay-back")
    assert r.status_code == 201 and r.headers.get("Idempotent-Replayed") is None
    assert api.wallet("bob")["balance"] == 0 and api.wallet("alice")["balance"] == 105_000


def test_transactions_page_newest_first(bank):
    api = bank
    made = []
    for i in range(11):
        made.append(pay(api, "alice", "bob", 100 + i, note=f"n{i}").json_body["id"])
    expected = list(reversed(made))  # alice's entries: 11 transfers, then her deposit
    seen, cursor, pages = [], None, 0
    while True:
        path = "/v1/wallet/transactions?limit=5" + (f"&cursor={quote(cursor)}" if cursor else "")
        r = api.call("GET", path, as_="alice")
        assert r.status_code == 200, r.body
        pages += 1
        assert len(r.json_body["data"]) <= 5
        seen += r.json_body["data"]
        cursor = r.json_body["next_cursor"]
        if cursor is None:
            break
        assert pages < 10
    assert pages >= 3
    ids = [e["transfer_id"] for e in seen]
    assert len(ids) == len(set(ids)) == 12
    assert ids[:11] == expected and seen[11]["kind"] == "deposit"
    created = [e["created_at"] for e in seen]
    assert created == sorted(created, reverse=True)
    assert sum(e["amount"] for e in seen) == api.wallet("alice")["balance"]

    first = api.call("GET", "/v1/wallet/transactions?limit=5", as_="alice").json_body
    good = first["next_cursor"]
    payload, mac = good.split(".")
    bob_cursor = api.call("GET", "/v1/wallet/transactions?limit=1", as_="bob").json_body["next_cursor"]
    assert bob_cursor is None or bob_cursor != good
    bad_cursors = ["garbage", "a.b", good + "x", payload + ".AAAAAAAAAAAAAAAAAAAAAA==", "." + mac, good + "." + mac,
                   "x" * 3000, quote(json.dumps({"pk": "ACCT#x", "sk": "E#"}))]
    for bad in bad_cursors:
        r = api.call("GET", f"/v1/wallet/transactions?cursor={quote(bad)}", as_="alice")
        refused(r, 400, "invalid_request")
    # A cursor handed to alice is no key to bob's entries.
    r = api.call("GET", f"/v1/wallet/transactions?cursor={quote(good)}", as_="bob")
    refused(r, 400, "invalid_request")
    for limit in ("0", "101", "-1", "ten", "1.5"):
        refused(api.call("GET", f"/v1/wallet/transactions?limit={limit}", as_="alice"), 400, "invalid_request")


def _month(moment: datetime) -> str:
    return f"{moment:%Y-%m}"


def _next_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:])
    return f"{year + (mon == 12):04d}-{mon % 12 + 1:02d}"


def _statement(api, handle, month):
    r = api.call("GET", f"/v1/wallet/statements/{month}", as_=handle)
    assert r.status_code == 200, r.body
    s = r.json_body
    assert s["month"] == month
    assert s["opening_balance"] + s["total_in"] - s["total_out"] == s["closing_balance"]
    assert s["total_in"] == sum(e["amount"] for e in s["entries"] if e["amount"] > 0)
    assert s["total_out"] == -sum(e["amount"] for e in s["entries"] if e["amount"] < 0)
    return s


def _csv_statement(api, handle, month):
    r = api.call("GET", f"/v1/wallet/statements/{month}?format=csv", as_=handle)
    assert r.status_code == 200, r.body
    assert r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.body.decode())))
    assert rows[0]["kind"] == "opening_balance" and rows[-1]["kind"] == "closing_balance"
    running = int(rows[0]["balance"])
    for row in rows[1:-1]:
        running += int(row["amount"])
        assert int(row["balance"]) == running
    assert int(rows[-1]["balance"]) == running
    return rows


def test_statements_add_up_and_one_month_closes_where_the_next_opens(bank):
    api = bank
    first = _month(clock.now())
    pay(api, "alice", "bob", 2_500, note="=HYPERLINK(\"http://evil\")")
    pay(api, "bob", "alice", 1_000)
    s = _statement(api, "alice", first)
    assert (s["opening_balance"], s["total_in"], s["total_out"], s["closing_balance"]) == (0, 101_000, 2_500, 98_500)
    assert len(s["entries"]) == 3
    rows = _csv_statement(api, "alice", first)
    assert int(rows[-1]["balance"]) == 98_500 and len(rows) == 5
    assert all(not row["note"].startswith("=") for row in rows)  # no formulas in a spreadsheet

    assert api.admin("POST", "/v1/admin/test-clock", {"advance_days": 40}).status_code == 200
    later = _month(clock.now())
    pay(api, "alice", "bob", 3_000)
    api.money("POST", "/v1/wallet/deposits", usd(700), "alice", key())
    month, closing = first, 98_500
    while month != later:  # every month in between, the quiet ones too
        month = _next_month(month)
        s = _statement(api, "alice", month)
        assert s["opening_balance"] == closing, month
        closing = s["closing_balance"]
    assert (s["total_in"], s["total_out"]) == (700, 3_000)
    assert closing == api.wallet("alice")["balance"] == 98_500 - 3_000 + 700
    rows = _csv_statement(api, "alice", later)
    assert int(rows[0]["balance"]) == 98_500 and int(rows[-1]["balance"]) == closing
    # Bob's side of the same months.
    b1, b2 = _statement(api, "bob", first), _statement(api, "bob", _next_month(first))
    assert b1["closing_balance"] == 1_500 == b2["opening_balance"]

    # Months before the account, in the future, or not months at all.
    old = _statement(api, "alice", "2001-01")
    assert (old["opening_balance"], old["closing_balance"], old["entries"]) == (0, 0, [])
    future = _next_month(_month(clock.now()))
    for bad in (future, "2024-13", "2024-00", "2024-1", "24-01", "abcd-ef", "2024-01-01"):
        refused(api.call("GET", f"/v1/wallet/statements/{bad}", as_="alice"), 400, "invalid_request")
    refused(api.call("GET", f"/v1/wallet/statements/{first}?format=pdf", as_="alice"), 400, "invalid_request")


def test_payment_requests_are_paid_exactly_once_or_declined(bank):
    api = bank
    r = api.money("POST", "/v1/payment-requests", usd(1_200, note="pizza", **{"from": "alice"}), "bob", key())
    assert r.status_code == 201, r.body
    request = r.json_body
    assert request["id"].startswith("req_")
    assert {k: request[k] for k in ("from", "to", "amount", "currency", "note", "status", "paid")} == {
        "from": "alice", "to": "bob", "amount": 1_200, "currency": USD, "note": "pizza", "status": "pending",
        "paid": None}
    second = api.money("POST", "/v1/payment-requests", usd(300, **{"from": "alice"}), "bob", key()).json_body
    third = api.money("POST", "/v1/payment-requests", usd(50, **{"from": "alice"}), "erin", key()).json_body

    incoming = api.call("GET", "/v1/payment-requests?role=incoming", as_="alice").json_body
    assert [x["id"] for x in incoming["data"]] == [third["id"], second["id"], request["id"]]
    assert incoming["next_cursor"] is None
    outgoing = api.call("GET", "/v1/payment-requests?role=outgoing", as_="bob").json_body["data"]
    assert [x["id"] for x in outgoing] == [second["id"], request["id"]]
    assert api.call("GET", "/v1/payment-requests", as_="alice").json_body["data"] == incoming["data"]  # default
    page = api.call("GET", "/v1/payment-requests?role=incoming&limit=2", as_="alice").json_body
    assert len(page["data"]) == 2 and page["next_cursor"]
    rest = api.call("GET", f"/v1/payment-requests?role=incoming&limit=2&cursor={quote(page['next_cursor'])}",
                    as_="alice").json_body
    assert [x["id"] for x in page["data"] + rest["data"]] == [x["id"] for x in incoming["data"]]
    refused(api.call("GET", "/v1/payment-requests?role=everyone", as_="alice"), 400, "invalid_request")
    refused(api.call("GET", "/v1/payment-requests?cursor=forged.cursor", as_="alice"), 400, "invalid_request")
    # A cursor belongs to one person's one list: anywhere else it is a 400, not an empty page or a 500.
    cursor = quote(page["next_cursor"])
    for who, role in (("erin", "incoming"), ("bob", "incoming"), ("bob", "outgoing"), ("alice", "outgoing")):
        refused(api.call("GET", f"/v1/payment-requests?role={role}&cursor={cursor}", as_=who), 400, "invalid_request")
    refused(api.call("GET", f"/v1/wallet/transactions?cursor={cursor}", as_="alice"), 400, "invalid_request")
    api.deposit("alice", 100)
    wallet_cursor = api.call("GET", "/v1/wallet/transactions?limit=1", as_="alice").json_body["next_cursor"]
    refused(api.call("GET", f"/v1/payment-requests?cursor={quote(wallet_cursor)}", as_="alice"), 400, "invalid_request")
    api.money("POST", "/v1/wallet/withdrawals", usd(100), "alice", key())

    # Pay once.
    paid = api.money("POST", f"/v1/payment-requests/{request['id']}/pay", None, "alice", "pay-pizza")
    assert paid.status_code == 200, paid.body
    assert paid.headers.get("Idempotent-Replayed") is None
    assert paid.json_body["status"] == "paid"
    transfer = paid.json_body["paid"]
    assert {k: transfer[k] for k in ("kind", "from", "to", "amount")} == {
        "kind": "request_payment", "from": "alice", "to": "bob", "amount": 1_200}
    assert api.wallet("alice")["balance"] == 98_800 and api.wallet("bob")["balance"] == 1_200
    # The same key again: the same answer, marked, nothing moves.
    replay = api.money("POST", f"/v1/payment-requests/{request['id']}/pay", None, "alice", "pay-pizza")
    assert replay.status_code == 200 and replay.json_body == paid.json_body
    assert replay.headers.get("Idempotent-Replayed") == "true"
    # Another key: the request is already paid.
    before_money, before_books = money_of(api, "alice", "bob"), books(api)
    refused(api.money("POST", f"/v1/payment-requests/{request['id']}/pay", None, "alice", "pay-pizza-again"),
            409, "invalid_state")
    refused(api.call("POST", f"/v1/payment-requests/{request['id']}/decline", as_="alice"), 409, "invalid_state")
    assert money_of(api, "alice", "bob") == before_money and books(api) == before_books
    assert api.call("GET", f"/v1/transfers/{transfer['id']}", as_="bob").json_body == transfer
    listed = api.call("GET", "/v1/payment-requests?role=outgoing", as_="bob").json_body["data"]
    assert [x for x in listed if x["id"] == request["id"]][0]["paid"] == transfer

    # Decline once; a declined request is never paid.
    declined = api.call("POST", f"/v1/payment-requests/{second['id']}/decline", as_="alice")
    assert declined.status_code == 200 and declined.json_body["status"] == "declined"
    assert declined.json_body["paid"] is None
    refused(api.call("POST", f"/v1/payment-requests/{second['id']}/decline", as_="alice"), 409, "invalid_state")
    refused(api.money("POST", f"/v1/payment-requests/{second['id']}/pay", None, "alice", key()), 409, "invalid_state")
    assert money_of(api, "alice", "bob") == before_money and books(api) == before_books

    # A request she cannot afford stays pending and may be paid later.
    big = api.money("POST", "/v1/payment-requests", usd(200_000, **{"from": "alice"}), "erin", key()).json_body
    refused(api.money("POST", f"/v1/payment-requests/{big['id']}/pay", None, "alice", "pay-big"),
            422, "insufficient_funds")
    api.deposit("alice", 200_000)
    r = api.money("POST", f"/v1/payment-requests/{big['id']}/pay", None, "alice", "pay-big")
    assert r.status_code == 200 and r.json_body["status"] == "paid"
    assert api.wallet("erin")["balance"] == 200_000
    assert_balanced(api)


def test_the_ledger_check_and_the_reconcile_job_report_balanced_books(bank):
    api = bank
    pay(api, "alice", "bob", 2_500)
    api.money("POST", "/v1/wallet/withdrawals", usd(1_000), "alice", key())
    check = assert_balanced(api)
    assert check["system_accounts"]["external"] == -(100_000 - 1_000)
    r = api.admin("POST", "/v1/admin/jobs/reconcile", {})
    assert r.status_code == 200, r.body
    assert r.json_body["job"] == "reconcile" and r.json_body["balanced"] is True and r.json_body["total"] == 0
    assert r.json_body["processed"] == check["accounts"]
    # Only operators may look.
    refused(api.call("GET", "/v1/admin/ledger/check", as_="alice"), 403, "forbidden")
    refused(api.call("POST", "/v1/admin/jobs/reconcile", {}, as_="alice"), 403, "forbidden")
    refused(api.call("GET", "/v1/admin/ledger/check"), 401, "unauthenticated")
    refused(api.admin("POST", "/v1/admin/jobs/no-such-job", {}), 404, "not_found")


def test_credit_limits_are_audited_and_let_the_balance_go_negative_only_that_far(bank):
    api = bank
    r = api.admin("PUT", "/v1/admin/users/bob/credit-limit", {"credit_limit": 50_000, "reason": "good history"})
    assert r.status_code == 200, r.body
    assert (r.json_body["credit_limit"], r.json_body["spendable"], r.json_body["balance"]) == (50_000, 50_000, 0)
    audit = api.admin("GET", "/v1/admin/audit").json_body["data"]
    entry = [a for a in audit if a["action"] == "credit_limit"][0]
    assert (entry["target"], entry["reason"], entry["actor"]) == ("bob", "good history", "admin")
    assert entry["details"]["credit_limit"] == 50_000

    assert pay(api, "bob", "alice", 30_000).status_code == 201
    refused(api.money("POST", "/v1/wallet/withdrawals", usd(20_001), "bob", key()), 422, "insufficient_funds")
    assert api.money("POST", "/v1/wallet/withdrawals", usd(20_000), "bob", key()).status_code == 201
    bob = api.wallet("bob")
    assert (bob["balance"], bob["available"], bob["spendable"]) == (-50_000, -50_000, 0)
    refused(pay(api, "bob", "alice", 1), 422, "insufficient_funds")

    # Lowering the line below what is owed blocks spending until it is repaid.
    r = api.admin("PUT", "/v1/admin/users/bob/credit-limit", {"credit_limit": 10_000, "reason": "risk review"})
    assert r.status_code == 200 and r.json_body["spendable"] == -40_000
    refused(pay(api, "bob", "alice", 1), 422, "insufficient_funds")
    api.deposit("bob", 45_000)
    assert api.wallet("bob")["spendable"] == 5_000
    assert pay(api, "bob", "alice", 5_000).status_code == 201
    reasons = [a["reason"] for a in api.admin("GET", "/v1/admin/audit").json_body["data"] if a["action"] == "credit_limit"]
    assert reasons == ["risk review", "good history"]

    for bad in (-1, 1.5, "500", True, None, MINOR_UNITS_MAX + 1):
        r = api.admin("PUT", "/v1/admin/users/bob/credit-limit", {"credit_limit": bad})
        refused(r, 400, "invalid_request")
    refused(api.admin("PUT", "/v1/admin/users/nobody/credit-limit", {"credit_limit": 1}), 404, "not_found")
    refused(api.admin("PUT", "/v1/admin/users/carol/credit-limit", {"credit_limit": 1}), 422, "not_eligible")
    refused(api.call("PUT", "/v1/admin/users/bob/credit-limit", {"credit_limit": 10**9}, as_="bob"),
            403, "forbidden")
    assert api.wallet("bob")["credit_limit"] == 10_000
    assert_balanced(api)


# The services' records ------------------------------------------------------------------

def test_the_wallet_services_answer_frozen_records_that_are_what_the_routes_send(bank):
    api = bank
    pay(api, "alice", "bob", 2_500, note="=lunch")
    alice = principal("alice")
    account = wallet.wallet(alice)
    assert account.balance == 97_500 and account.currency == USD
    assert_frozen(account, "balance", 10**9)
    assert account.as_json() == api.wallet("alice")

    entries, cursor = wallet.transactions(alice, 100, None)
    assert cursor is None and [e.amount for e in entries] == [-2_500, 100_000]
    assert_frozen(entries[0], "amount", 1)
    routed = api.call("GET", "/v1/wallet/transactions?limit=100", as_="alice").json_body
    assert [e.as_json() for e in entries] == routed["data"]

    month = _month(clock.now())
    statement = wallet.statement(alice, month)
    assert (statement.opening_balance, statement.closing_balance, len(statement.entries)) == (0, 97_500, 2)
    assert_frozen(statement, "closing_balance", 0)
    assert_frozen(statement.entries[0], "note", "")
    assert statement.as_json() == _statement(api, "alice", month)
    # The CSV file is written from the record, with the JSON's times and kinds (not enum names).
    text = wallet.statement_csv(statement)
    assert api.call("GET", f"/v1/wallet/statements/{month}/csv", as_="alice").body.decode() == text
    rows = list(csv.DictReader(io.StringIO(text)))
    first = statement.as_json()["entries"][0]
    assert (rows[1]["created_at"], rows[1]["kind"], rows[1]["currency"]) == (first["created_at"], "deposit", USD)
    assert rows[2]["note"] == "'=lunch"  # still no formula in a spreadsheet


def test_the_payment_request_services_answer_frozen_records_that_are_what_the_routes_send(bank):
    api = bank
    asked = requests.create(principal("bob"), "alice", Money(1_200), "pizza")
    assert (asked.from_, asked.to, asked.amount, asked.status, asked.paid) == ("alice", "bob", 1_200, "pending", None)
    assert_frozen(asked, "status", "paid")
    incoming = api.call("GET", "/v1/payment-requests?role=incoming", as_="alice").json_body["data"]
    assert incoming == [asked.as_json()] and incoming[0]["from"] == "alice" and incoming[0]["paid"] is None

    paid, replayed = requests.pay(principal("alice"), asked.id, "pay-pizza")
    assert not replayed and paid.status == "paid" and (paid.paid.amount, paid.paid.kind) == (1_200, "request_payment")
    assert_frozen(paid.paid, "amount", 1)
    # The route, with the same key, replays the very answer the service gave.
    replay = api.money("POST", f"/v1/payment-requests/{asked.id}/pay", None, "alice", "pay-pizza")
    assert replay.status_code == 200 and replay.headers.get("Idempotent-Replayed") == "true", replay.body
    assert replay.json_body == paid.as_json()
    assert api.wallet("alice")["balance"] == 98_800  # paid once

    other = requests.create(principal("erin"), "alice", Money(50), "")
    declined = requests.decline(principal("alice"), other.id)
    assert declined.status == "declined" and declined.as_json() == {**other.as_json(), "status": "declined"}
    listed, _ = requests.list_requests(principal("alice"), "incoming", 10, None)
    assert [r.as_json() for r in listed] == [declined.as_json(), paid.as_json()]
    assert api.call("GET", "/v1/payment-requests?role=incoming", as_="alice").json_body["data"] == [
        r.as_json() for r in listed]
