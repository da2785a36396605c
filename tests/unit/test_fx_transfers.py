"""Cross-currency transfers (`deliver_currency`) and payouts abroad (`iban`)."""
import pytest

from chalicelib.finance import iban, reconcile
from tests.unit import fxkit
from tests.unit.fxkit import deposit, key, pocket

rates = fxkit.rates  # the fixture, for this module


def send(api, sender, body, headers=None):
    return api.call("POST", "/v1/transfers", body, as_=sender, headers=headers or key())


def test_alice_pays_dollars_and_bob_receives_euros(api, rates):
    api.verified("alice")
    api.verified("bob")
    api.deposit("alice", 10_000)
    r = send(api, "alice", {"to": "bob", "amount": 10_000, "currency": "USD", "deliver_currency": "EUR"})
    assert r.status_code == 201, r.body
    t = r.json_body
    assert (t["from"], t["to"], t["amount"], t["currency"]) == ("alice", "bob", 10_000, "USD")
    assert t["delivered"] == {"amount": 7_936, "currency": "EUR"}  # (10,000 - 30) x 0.796, rounded down
    assert api.wallet("alice")["balance"] == 0
    assert pocket(api, "bob", "EUR").json_body["balance"] == 7_936
    assert api.call("GET", f"/v1/transfers/{t['id']}", as_="bob").json_body["delivered"] == t["delivered"]
    bob_entries = api.call("GET", "/v1/wallet/transactions?currency=EUR", as_="bob").json_body["data"]
    assert [(e["amount"], e["counterparty"]) for e in bob_entries] == [(7_936, "alice")]
    assert reconcile.reconcile()["balanced"]


def test_a_replay_answers_the_same_and_moves_nothing_twice(api, rates):
    api.verified("alice")
    api.verified("bob")
    deposit(api, "alice", 5_000, "GBP")
    body = {"to": "bob", "amount": 1_000, "currency": "GBP", "deliver_currency": "JPY"}
    headers = key()
    first = send(api, "alice", body, headers)
    again = send(api, "alice", body, headers)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json_body == first.json_body
    reused = send(api, "alice", {**body, "deliver_currency": "EUR"}, headers)
    assert reused.status_code == 409 and reused.json_body["error"]["code"] == "idempotency_key_reused"
    assert pocket(api, "alice", "GBP").json_body["balance"] == 4_000
    assert pocket(api, "bob", "JPY").json_body["balance"] == first.json_body["delivered"]["amount"]


def test_a_same_currency_pocket_transfer(api, rates):
    api.verified("alice")
    api.verified("bob")
    deposit(api, "alice", 5_000, "EUR")
    r = send(api, "alice", {"to": "bob", "amount": 1_250, "currency": "EUR"})
    assert r.status_code == 201 and "delivered" not in r.json_body
    assert pocket(api, "bob", "EUR").json_body["balance"] == 1_250


@pytest.mark.parametrize("body,status,code", [
    ({"to": "bob", "amount": 100, "currency": "USD", "deliver_currency": "BTC"}, 400, "unsupported_currency"),
    ({"to": "bob", "amount": 100, "currency": "USD", "deliver_currency": 7}, 400, "invalid_request"),
    ({"to": "nobody", "amount": 100, "currency": "USD", "deliver_currency": "EUR"}, 404, "not_found"),
    ({"to": "alice", "amount": 100, "currency": "USD", "deliver_currency": "EUR"}, 422, "self_transfer"),
    ({"to": "bob", "amount": 1_000_000, "currency": "USD", "deliver_currency": "EUR"}, 422, "insufficient_funds"),
    ({"to": "bob", "amount": 100, "currency": "USD", "deliver_currency": "AED"}, 409, "invalid_state"),
    ({"to": "bob", "amount": 10**12, "currency": "EUR", "deliver_currency": "USD"}, 400, "invalid_request"),
    ({"to": "bob", "amount": 1, "currency": "JPY", "deliver_currency": "USD"}, 400, "invalid_request"),
])
def test_refusals_leave_nothing_behind(api, rates, body, status, code):
    api.verified("alice")
    api.verified("bob")
    api.deposit("alice", 10_000)
    r = send(api, "alice", body)
    assert r.status_code == status and r.json_body["error"]["code"] == code, r.body
    assert api.wallet("alice")["balance"] == 10_000
    assert [p["currency"] for p in api.call("GET", "/v1/wallet/pockets", as_="bob").json_body["data"]] == ["USD"]


def test_a_frozen_receiver_gets_nothing_in_any_currency(api, rates):
    api.verified("alice")
    api.verified("bob")
    api.deposit("alice", 10_000)
    deposit(api, "bob", 100, "EUR")  # bob's EUR pocket exists and is itself active
    assert api.admin("POST", "/v1/admin/users/bob/freeze", {"reason": "test"}).status_code == 200
    r = send(api, "alice", {"to": "bob", "amount": 1_000, "currency": "USD", "deliver_currency": "EUR"})
    assert r.status_code == 422 and r.json_body["error"]["code"] == "not_eligible"
    assert api.wallet("alice")["balance"] == 10_000


def test_money_sent_in_other_currencies_counts_in_dollars(api, rates):
    api.verified("alice")
    api.verified("bob")
    deposit(api, "alice", 1_000_000, "JPY")
    deposit(api, "alice", 1_000_000, "JPY")
    # $10,000 a day is 1,500,000 yen at 150.
    ok = send(api, "alice", {"to": "bob", "amount": 1_500_000, "currency": "JPY", "deliver_currency": "EUR"})
    assert ok.status_code == 201, ok.body
    over = send(api, "alice", {"to": "bob", "amount": 150, "currency": "JPY"})
    assert over.status_code == 422 and over.json_body["error"]["code"] == "limit_exceeded"


# IBAN ------------------------------------------------------------------------------

GOOD = ["DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "FR1420041010050500013M02606", "NO9386011117947"]


@pytest.mark.parametrize("text", GOOD)
def test_good_ibans(text):
    assert iban.validate(text) == text.replace(" ", "")


@pytest.mark.parametrize("text,why", [
    ("DE89 3704 0044 0532 0130 01", "check digits"),
    ("GB82WEST12345698765433", "check digits"),
    ("DE8937040044053201300", "length"),
    ("XX89370400440532013000", "country"),
    ("US64SVBKUS6S3300958879", "country"),
    ("not an iban", "not an IBAN"),
    ("", "not an IBAN"),
    ("DE89-3704-0044-0532-0130-00", "not an IBAN"),
])
def test_bad_ibans(text, why):
    from chalicelib import errors
    with pytest.raises(errors.InvalidRequest) as refused:
        iban.validate(text)
    assert why in refused.value.message and refused.value.param == "iban"


def test_a_payout_abroad_leaves_the_eur_pocket_through_external(api, rates):
    api.verified("alice")
    deposit(api, "alice", 10_000, "EUR")
    body = {"amount": 2_500, "currency": "EUR", "iban": "DE89 3704 0044 0532 0130 00"}
    r = api.call("POST", "/v1/wallet/withdrawals", body, as_="alice", headers=key())
    assert r.status_code == 201, r.body
    assert (r.json_body["to"], r.json_body["currency"], r.json_body["note"]) == \
        ("external", "EUR", "payout to DE89 **** 3000")
    assert pocket(api, "alice", "EUR").json_body["balance"] == 7_500
    bad = api.call("POST", "/v1/wallet/withdrawals", {**body, "iban": "DE89 3704 0044 0532 0130 01"}, as_="alice",
                   headers=key())
    assert bad.status_code == 400 and bad.json_body["error"]["param"] == "iban"
    assert pocket(api, "alice", "EUR").json_body["balance"] == 7_500
    report = reconcile.reconcile()
    assert report["balanced"] and report["system_accounts"]["external_EUR"] == -7_500
