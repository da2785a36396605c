"""DM payments and payment requests in other currencies (issue 18, item 5):
the amount's currency is what the receiver gets, into their pocket of it;
the payer pays from their pocket of it, or from another converted in the
same transaction (finance/priced.py, as creator prices are). Rates are
fxkit's: 1 USD = 0.80 EUR = 150 JPY, spread 50 bps (USD->EUR 0.796,
USD->JPY 149.25), fx fee 30 bps rounded up.

Figures by hand:
- EUR 20.00 from USD costs 2,521 cents: fee ceil(7.563) = 8, 2,513 x 0.796
  = 2,000.348 -> 2,000 EUR cents; 2,520 cents (fee 8) would buy only
  2,512 x 0.796 = 1,999.552 -> 1,999.
- JPY 1,000 from USD costs 674 cents: fee ceil(2.022) = 3, 671 x 1.4925 =
  1,001.47 -> 1,001 yen, of which 1,000 are delivered (the last yen stays
  with fx_JPY); 673 cents (fee 3) would buy 670 x 1.4925 = 999.975 -> 999.
"""
import threading
import uuid
from datetime import date
from decimal import Decimal

import pytest

from chalicelib.db.balances import TransferItem
from chalicelib.finance.transfers import request_hash
from tests.unit import dates, fxkit
from tests.unit.fxkit import balance, books, currencies, deposit, key, ok, position, refused
from tests.unit.twofactor import code, enable_2fa, totp_time

rates = fxkit.rates  # the fixtures, for this module

EUR_20_FROM_USD = 2_521
JPY_1000_FROM_USD = 674


def dm_pay(api, who, conv_id, body, headers=None):
    return api.call("POST", f"/v1/conversations/{conv_id}/payments", body, as_=who, headers=headers or key())


def thread(api, who, conv_id):
    return ok(api.call("GET", f"/v1/conversations/{conv_id}/messages", as_=who))["data"]


def shown(message):
    """A message as listed: its stored payment carries the message's time,
    which is the transfer's to within the request (so compared without it)."""
    payment = {k: v for k, v in message["payment"].items() if k != "created_at"}
    return {**message, "payment": payment}


def ask(api, who, payer, amount, currency, note="dinner"):
    return ok(api.call("POST", "/v1/payment-requests", {"from": payer, "amount": amount, "currency": currency,
                                                       "note": note}, as_=who), 201)


def pay_request(api, who, request_id, body=None, headers=None):
    return api.call("POST", f"/v1/payment-requests/{request_id}/pay", body, as_=who, headers=headers or key())


def incoming(api, who):
    return ok(api.call("GET", "/v1/payment-requests?role=incoming", as_=who))["data"]


@pytest.fixture
def people(api, rates):
    """alice, who is paid; bob, who pays, with $100.00 and nothing else;
    their conversation. The books are whole after every test."""
    api.verified("alice")
    api.verified("bob")
    api.deposit("bob", 10_000)
    conv = ok(api.call("POST", "/v1/conversations", {"with": "alice"}, as_="bob"), 201)
    yield api, conv["id"]
    books(api)


# DM payments ---------------------------------------------------------------------

def test_a_euro_dm_payment_from_dollars_converts_with_the_message(people):
    api, conv = people
    msg = ok(dm_pay(api, "bob", conv, {"amount": 2_000, "currency": "EUR", "note": "half the flat"}), 201)
    t = msg["payment"]
    assert (t["kind"], t["from"], t["to"], t["amount"], t["currency"]) == \
        ("message_payment", "bob", "alice", EUR_20_FROM_USD, "USD")
    assert t["delivered"] == {"amount": 2_000, "currency": "EUR"} and Decimal(t["rate"]) == Decimal("0.796")
    assert api.wallet("bob")["balance"] == 10_000 - EUR_20_FROM_USD
    assert balance(api, "alice", "EUR") == 2_000 and api.wallet("alice")["balance"] == 0
    assert "EUR" not in currencies(api, "bob")  # paying in euros opens no euro pocket for the payer
    check = books(api)
    assert position(check) == {"USD": EUR_20_FROM_USD - 8, "EUR": -2_000} and check["system_accounts"]["fees"] == 8
    # The stored message shows the payment as the transfer does, for both members.
    for member in ("alice", "bob"):
        assert [shown(m) for m in thread(api, member, conv)] == [shown(msg)]
    assert ok(api.call("GET", f"/v1/transfers/{t['id']}", as_="alice")) == t
    entries = ok(api.call("GET", "/v1/wallet/transactions?currency=EUR", as_="alice"))["data"]
    assert [(e["kind"], e["amount"], e["counterparty"]) for e in entries] == [("message_payment", 2_000, "bob")]


def test_a_euro_dm_payment_is_paid_from_the_euro_pocket_when_the_payer_holds_one(people):
    api, conv = people
    deposit(api, "bob", 5_000, "EUR")
    msg = ok(dm_pay(api, "bob", conv, {"amount": 2_000, "currency": "EUR"}), 201)
    t = msg["payment"]
    assert (t["amount"], t["currency"]) == (2_000, "EUR") and "delivered" not in t and "rate" not in t
    assert (balance(api, "bob", "EUR"), api.wallet("bob")["balance"]) == (3_000, 10_000)
    assert balance(api, "alice", "EUR") == 2_000
    assert position(books(api)) == {}
    assert [shown(m) for m in thread(api, "alice", conv)] == [shown(msg)]
    # Named, the dollar pocket pays instead, converted.
    named = ok(dm_pay(api, "bob", conv, {"amount": 2_000, "currency": "EUR", "pay_currency": "USD"}), 201)
    assert (named["payment"]["amount"], named["payment"]["currency"]) == (EUR_20_FROM_USD, "USD")
    assert named["payment"]["delivered"] == {"amount": 2_000, "currency": "EUR"}
    assert (balance(api, "bob", "EUR"), api.wallet("bob")["balance"]) == (3_000, 10_000 - EUR_20_FROM_USD)
    assert balance(api, "alice", "EUR") == 4_000


def test_a_dm_payment_replays_the_same_message_and_a_changed_body_is_refused(people):
    api, conv = people
    headers = key()
    body = {"amount": 2_000, "currency": "EUR", "note": "rent"}
    first = dm_pay(api, "bob", conv, body, headers)
    again = dm_pay(api, "bob", conv, body, headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json_body == first.json_body
    refused(dm_pay(api, "bob", conv, {**body, "pay_currency": "USD"}, headers), 409, "idempotency_key_reused")
    refused(dm_pay(api, "bob", conv, {**body, "currency": "JPY"}, headers), 409, "idempotency_key_reused")
    assert len(thread(api, "alice", conv)) == 1
    assert api.wallet("bob")["balance"] == 10_000 - EUR_20_FROM_USD and balance(api, "alice", "EUR") == 2_000
    # Naming the pocket the rule picks anyway is another request, under its own key.
    named = {**body, "pay_currency": "USD"}
    n_headers = key()
    assert dm_pay(api, "bob", conv, named, n_headers).status_code == 201
    assert dm_pay(api, "bob", conv, named, n_headers).headers.get("Idempotent-Replayed") == "true"
    assert api.wallet("bob")["balance"] == 10_000 - 2 * EUR_20_FROM_USD


def test_a_dollar_dm_payment_keys_replay_as_before(people):
    """A body without `pay_currency` has the fingerprint it always had: a key
    used before this change still replays."""
    api, conv = people
    headers = key()
    body = {"amount": 300, "currency": "USD", "note": "coffee"}
    first = ok(dm_pay(api, "bob", conv, body, headers), 201)
    stored = TransferItem.find(first["payment"]["id"])
    assert stored.request_hash == request_hash("message_payment", conversation=conv, amount=300, currency="USD",
                                               note="coffee")
    assert "delivered" not in first["payment"] and "rate" not in first["payment"]
    assert ok(dm_pay(api, "bob", conv, body, headers), 201) == first


def test_a_dm_payment_with_no_rate_is_a_409_and_writes_nothing(people):
    api, conv = people
    before = books(api)
    error = refused(dm_pay(api, "bob", conv, {"amount": 2_000, "currency": "AED"}), 409, "invalid_state")
    assert "AED" in error["message"]
    refused(dm_pay(api, "bob", conv, {"amount": 100, "currency": "USD", "pay_currency": "AED"}), 409,
            "invalid_state")
    assert thread(api, "alice", conv) == [] and api.wallet("bob")["balance"] == 10_000
    assert currencies(api, "alice") == ["USD"] and currencies(api, "bob") == ["USD"]
    assert books(api) == before
    ok(api.admin("PUT", "/v1/admin/fx-rates", {"base": "USD", "rates": {**fxkit.RATES, "AED": "3.6725"}}))
    assert dm_pay(api, "bob", conv, {"amount": 2_000, "currency": "AED"}).status_code == 201


def test_a_dm_payment_needs_enough_in_the_paying_pocket(people):
    api, conv = people
    deposit(api, "bob", 100, "EUR")
    refused(dm_pay(api, "bob", conv, {"amount": 2_000, "currency": "EUR"}), 422, "insufficient_funds")
    refused(dm_pay(api, "bob", conv, {"amount": 2_000, "currency": "EUR", "pay_currency": "GBP"}), 422,
            "insufficient_funds")  # he holds no pounds
    refused(dm_pay(api, "bob", conv, {"amount": 8_000, "currency": "EUR", "pay_currency": "USD"}), 422,
            "insufficient_funds")  # costs 10,082 cents of his 10,000
    assert thread(api, "alice", conv) == [] and ok(api.call("GET", "/v1/conversations", as_="alice"))["data"][0][
        "unread_count"] == 0
    assert (balance(api, "bob", "EUR"), api.wallet("bob")["balance"]) == (100, 10_000)
    assert currencies(api, "alice") == ["USD"] and "GBP" not in currencies(api, "bob")


@pytest.mark.parametrize("body,status,code,param", [
    ({"amount": 500, "currency": "EUR", "pay_currency": "BTC"}, 400, "unsupported_currency", "pay_currency"),
    ({"amount": 500, "currency": "EUR", "pay_currency": 7}, 400, "invalid_request", "pay_currency"),
    ({"amount": 500, "currency": "EUR", "pay_currency": None, "fee": 1}, 400, "invalid_request", "fee"),
    ({"amount": 500, "currency": "BTC"}, 400, "unsupported_currency", "currency"),
    ({"amount": 500, "currency": "eur"}, 400, "unsupported_currency", "currency"),
    ({"amount": 0, "currency": "JPY"}, 400, "invalid_request", "amount"),
    ({"amount": -5, "currency": "JPY"}, 400, "invalid_request", "amount"),
    ({"amount": 1.5, "currency": "EUR"}, 400, "invalid_request", "amount"),
    ({"amount": "500", "currency": "EUR"}, 400, "invalid_request", "amount"),
    ({"amount": 10**12 + 1, "currency": "JPY"}, 400, "invalid_request", "amount"),
    ({"amount": 10**12, "currency": "GBP"}, 400, "invalid_request", "amount"),  # costs more than 10^12 cents
])
def test_hostile_dm_payments_are_refused_before_anything_moves(people, body, status, code, param):
    api, conv = people
    refused(dm_pay(api, "bob", conv, body), status, code, param)
    assert thread(api, "bob", conv) == [] and api.wallet("bob")["balance"] == 10_000
    assert currencies(api, "alice") == ["USD"]


def test_a_stranger_cannot_pay_into_a_conversation_not_theirs(people):
    api, conv = people
    api.verified("erin")
    api.deposit("erin", 10_000)
    refused(dm_pay(api, "erin", conv, {"amount": 2_000, "currency": "EUR"}), 404, "not_found")
    assert api.wallet("erin")["balance"] == 10_000 and currencies(api, "alice") == ["USD"]


def test_a_first_euro_payment_to_someone_needs_a_code_with_2fa_on(people):
    api, conv = people
    with totp_time() as at:
        secret = enable_2fa(api, "bob", at)["secret"]
        body = {"amount": 2_000, "currency": "EUR"}
        refused(dm_pay(api, "bob", conv, body), 403, "step_up_required")
        assert thread(api, "alice", conv) == [] and api.wallet("bob")["balance"] == 10_000
        at.advance(30)
        headers = {**key(), "Flock-OTP": code(secret, at.now)}
        assert ok(dm_pay(api, "bob", conv, body, headers), 201)["payment"]["delivered"]["amount"] == 2_000
        # The retry of that success needs no new code.
        assert dm_pay(api, "bob", conv, body, {"Idempotency-Key": headers["Idempotency-Key"]}).headers.get(
            "Idempotent-Replayed") == "true"


def test_money_sent_in_other_currencies_counts_in_dollars_across_dms_and_requests(people):
    api, conv = people
    dates.pin(date(2026, 4, 2))
    deposit(api, "bob", 1_000_000, "JPY")
    deposit(api, "bob", 600_000, "JPY")
    # $10,000 a day is 1,500,000 yen at the mid rate of 150.
    assert dm_pay(api, "bob", conv, {"amount": 1_500_000, "currency": "JPY"}).status_code == 201
    req = ask(api, "alice", "bob", 150, "JPY")
    refused(pay_request(api, "bob", req["id"]), 422, "limit_exceeded")
    assert incoming(api, "bob")[0]["status"] == "pending" and balance(api, "bob", "JPY") == 100_000
    dates.pin(date(2026, 4, 3))  # a new day, a new allowance
    assert ok(pay_request(api, "bob", req["id"]))["status"] == "paid"


# Payment requests -----------------------------------------------------------------

def test_a_yen_request_paid_from_dollars_rounds_against_the_payer(people):
    api, _ = people
    req = ask(api, "alice", "bob", 1_000, "JPY")
    assert (req["amount"], req["currency"], req["status"], req["paid"]) == (1_000, "JPY", "pending", None)
    paid = ok(pay_request(api, "bob", req["id"]))
    t = paid["paid"]
    # 673 cents would buy 999 yen: the payer pays the next whole cent up, and
    # the yen the 674 buy beyond 1,000 stays with fx_JPY.
    assert (paid["status"], t["kind"], t["amount"], t["currency"]) == ("paid", "request_payment", 674, "USD")
    assert t["delivered"] == {"amount": 1_000, "currency": "JPY"} and Decimal(t["rate"]) == Decimal("149.25")
    assert api.wallet("bob")["balance"] == 10_000 - JPY_1000_FROM_USD
    assert balance(api, "alice", "JPY") == 1_000 and currencies(api, "bob") == ["USD"]
    check = books(api)
    assert position(check) == {"USD": 671, "JPY": -1_000} and check["system_accounts"]["fees"] == 3
    assert incoming(api, "bob") == [paid]
    assert ok(api.call("GET", "/v1/payment-requests?role=outgoing", as_="alice"))["data"] == [paid]


def test_a_yen_request_is_paid_from_the_yen_pocket_when_held_or_the_one_named(people):
    api, _ = people
    deposit(api, "bob", 5_000, "JPY")
    first = ok(pay_request(api, "bob", ask(api, "alice", "bob", 1_000, "JPY")["id"]))["paid"]
    assert (first["amount"], first["currency"]) == (1_000, "JPY") and "delivered" not in first
    second = ok(pay_request(api, "bob", ask(api, "alice", "bob", 1_000, "JPY")["id"], {"pay_currency": "USD"}))
    assert (second["paid"]["amount"], second["paid"]["currency"]) == (JPY_1000_FROM_USD, "USD")
    # A dollar request paid from yen: the asker still receives dollars.
    third = ok(pay_request(api, "bob", ask(api, "alice", "bob", 100, "USD")["id"], {"pay_currency": "JPY"}))
    assert third["paid"]["currency"] == "JPY" and third["paid"]["delivered"] == {"amount": 100, "currency": "USD"}
    assert balance(api, "alice", "JPY") == 2_000 and api.wallet("alice")["balance"] == 100
    assert balance(api, "bob", "JPY") == 5_000 - 1_000 - third["paid"]["amount"]
    assert api.wallet("bob")["balance"] == 10_000 - JPY_1000_FROM_USD


def test_a_request_payment_replays_and_pays_once(people):
    api, _ = people
    req = ask(api, "alice", "bob", 2_000, "EUR")
    headers = key()
    first = pay_request(api, "bob", req["id"], headers=headers)
    again = pay_request(api, "bob", req["id"], headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json_body == first.json_body
    refused(pay_request(api, "bob", req["id"], {"pay_currency": "USD"}, headers), 409, "idempotency_key_reused")
    refused(pay_request(api, "bob", req["id"]), 409, "invalid_state")  # paid; another key pays nothing
    assert api.wallet("bob")["balance"] == 10_000 - EUR_20_FROM_USD and balance(api, "alice", "EUR") == 2_000


def test_two_concurrent_payments_of_a_request_pay_it_once(people, one_request_at_a_time):
    api, _ = people
    req = ask(api, "alice", "bob", 2_000, "EUR")
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(pay_request(api, "bob", req["id"])))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in answers) == [200, 409]
    assert api.wallet("bob")["balance"] == 10_000 - EUR_20_FROM_USD and balance(api, "alice", "EUR") == 2_000


def test_a_request_with_no_rate_is_asked_but_paying_it_is_a_409_that_writes_nothing(people):
    api, _ = people
    req = ask(api, "alice", "bob", 2_000, "AED")
    before = books(api)
    refused(pay_request(api, "bob", req["id"]), 409, "invalid_state")
    refused(pay_request(api, "bob", ask(api, "alice", "bob", 100, "USD")["id"], {"pay_currency": "AED"}), 409,
            "invalid_state")
    assert {r["status"] for r in incoming(api, "bob")} == {"pending"}
    assert api.wallet("bob")["balance"] == 10_000 and currencies(api, "alice") == ["USD"]
    assert books(api) == before


def test_a_request_needs_enough_in_the_paying_pocket(people):
    api, _ = people
    deposit(api, "bob", 100, "JPY")
    req = ask(api, "alice", "bob", 1_000, "JPY")
    refused(pay_request(api, "bob", req["id"]), 422, "insufficient_funds")  # his yen pocket pays, and is short
    refused(pay_request(api, "bob", req["id"], {"pay_currency": "EUR"}), 422, "insufficient_funds")  # none held
    big = ask(api, "alice", "bob", 8_000, "EUR")
    refused(pay_request(api, "bob", big["id"], {"pay_currency": "USD"}), 422, "insufficient_funds")
    assert {r["status"] for r in incoming(api, "bob")} == {"pending"}
    assert (balance(api, "bob", "JPY"), api.wallet("bob")["balance"]) == (100, 10_000)
    assert currencies(api, "alice") == ["USD"] and "EUR" not in currencies(api, "bob")


@pytest.mark.parametrize("body,status,code,param", [
    ({"amount": 500, "currency": "BTC"}, 400, "unsupported_currency", "currency"),
    ({"amount": 500, "currency": 978}, 400, "invalid_request", "currency"),
    ({"amount": 0, "currency": "JPY"}, 400, "invalid_request", "amount"),
    ({"amount": 2.5, "currency": "JPY"}, 400, "invalid_request", "amount"),
    ({"amount": 10**12 + 1, "currency": "JPY"}, 400, "invalid_request", "amount"),
    ({"amount": 500, "currency": "EUR", "pay_currency": "USD"}, 400, "invalid_request", "pay_currency"),
])
def test_hostile_requests_are_refused(people, body, status, code, param):
    api, _ = people
    refused(api.call("POST", "/v1/payment-requests", {"from": "bob", **body}, as_="alice"), status, code, param)
    assert incoming(api, "bob") == []


@pytest.mark.parametrize("body,status,code,param", [
    ({"pay_currency": "BTC"}, 400, "unsupported_currency", "pay_currency"),
    ({"pay_currency": 7}, 400, "invalid_request", "pay_currency"),
    ({"pay_currency": "USD", "amount": 1}, 400, "invalid_request", "amount"),
    ([], 400, "invalid_request", None),
])
def test_hostile_pay_bodies_are_refused_and_leave_the_request_pending(people, body, status, code, param):
    api, _ = people
    req = ask(api, "alice", "bob", 2_000, "EUR")
    refused(pay_request(api, "bob", req["id"], body), status, code, param)
    assert incoming(api, "bob")[0]["status"] == "pending" and api.wallet("bob")["balance"] == 10_000


def test_other_peoples_requests_stay_theirs(people):
    api, _ = people
    api.verified("erin")
    api.deposit("erin", 10_000)
    req = ask(api, "alice", "bob", 2_000, "EUR")
    refused(pay_request(api, "erin", req["id"]), 404, "not_found")
    refused(pay_request(api, "alice", req["id"], {"pay_currency": "EUR"}), 403, "forbidden")
    refused(pay_request(api, "bob", "req_" + uuid.uuid4().hex), 404, "not_found")
    assert api.wallet("erin")["balance"] == 10_000 and currencies(api, "alice") == ["USD"]
