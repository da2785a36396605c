"""Hostile review of the session's money changes: priced payments in other
currencies, pocket interest, automatic credit shards, the rate feed. Rates
are fxkit's (1 USD = 0.80 EUR = 150 JPY); EUR 20.00 from USD costs 2,521
cents (tests/unit/test_fx_payments.py has the arithmetic)."""
from datetime import date, timedelta

import pytest

from chalicelib.finance import fx_rates, interest
from tests.unit import dates, fxkit
from tests.unit.fxkit import balance, books, deposit, key, ok
from tests.unit.test_fx_interest import set_rates
from tests.unit.test_interest import today

rates = fxkit.rates  # the fixtures, for this module

EUR_20_FROM_USD = 2_521


@pytest.fixture
def people(api, rates):
    """alice, who is paid; bob, who pays, with $100.00 and nothing else;
    their conversation; business time pinned to a weekday."""
    dates.pin(date(2026, 4, 2))
    api.verified("alice")
    api.verified("bob")
    api.deposit("bob", 10_000)
    conv = ok(api.call("POST", "/v1/conversations", {"with": "alice"}, as_="bob"), 201)
    yield api, conv["id"]
    books(api)


def test_a_dm_payment_replays_the_same_after_the_payer_opens_a_pocket_of_its_currency(people):
    api, conv = people
    headers = key()
    body = {"amount": 2_000, "currency": "EUR", "note": "rent"}
    first = api.call("POST", f"/v1/conversations/{conv}/payments", body, as_="bob", headers=headers)
    assert first.status_code == 201
    deposit(api, "bob", 5_000, "EUR")
    again = api.call("POST", f"/v1/conversations/{conv}/payments", body, as_="bob", headers=headers)
    assert again.status_code == 201, again.body
    assert again.json_body == first.json_body
    assert balance(api, "bob", "EUR") == 5_000 and api.wallet("bob")["balance"] == 10_000 - EUR_20_FROM_USD


def test_a_request_payment_replays_the_same_after_the_payer_opens_a_pocket_of_its_currency(people):
    api, _ = people
    req = ok(api.call("POST", "/v1/payment-requests", {"from": "bob", "amount": 2_000, "currency": "EUR",
                                                       "note": "x"}, as_="alice"), 201)
    headers = key()
    first = api.call("POST", f"/v1/payment-requests/{req['id']}/pay", None, as_="bob", headers=headers)
    assert first.status_code == 200, first.body
    deposit(api, "bob", 5_000, "EUR")
    again = api.call("POST", f"/v1/payment-requests/{req['id']}/pay", None, as_="bob", headers=headers)
    assert again.status_code == 200, again.body
    assert again.json_body == first.json_body


def test_a_tip_replays_the_same_after_the_payer_opens_a_pocket_of_its_currency(people):
    api, _ = people
    post = ok(api.call("POST", "/v1/posts", {"text": "hello"}, as_="alice"), 201)
    headers = key()
    body = {"amount": 2_000, "currency": "EUR"}
    first = api.call("POST", f"/v1/posts/{post['id']}/tips", body, as_="bob", headers=headers)
    assert first.status_code == 201, first.body
    deposit(api, "bob", 5_000, "EUR")
    again = api.call("POST", f"/v1/posts/{post['id']}/tips", body, as_="bob", headers=headers)
    assert again.status_code == 201, again.body
    assert again.json_body == first.json_body
    assert balance(api, "bob", "EUR") == 5_000


def test_a_euro_pocket_named_pays_a_dollar_price(people):
    api, conv = people
    deposit(api, "bob", 5_000, "EUR")
    r = api.call("POST", f"/v1/conversations/{conv}/payments", {"amount": 1_000, "currency": "USD",
                                                                "pay_currency": "EUR"}, as_="bob", headers=key())
    assert r.status_code == 201, r.body
    assert api.wallet("alice")["balance"] == 1_000


def test_naming_the_price_currency_without_holding_it_is_insufficient_funds(people):
    api, conv = people
    r = api.call("POST", f"/v1/conversations/{conv}/payments", {"amount": 1_000, "currency": "EUR",
                                                                "pay_currency": "EUR"}, as_="bob", headers=key())
    assert r.status_code == 422, r.body


@pytest.mark.parametrize("stop", [{}, {"EUR": 0}])
def test_pocket_apys_named_empty_or_zero_stop_every_pocket_earning(api, rates, stop):
    dates.pin(date(2026, 4, 1))
    api.verified("alice")
    deposit(api, "alice", 1_000_000, "EUR")
    assert set_rates(api, {"EUR": 500}).status_code == 200
    r = set_rates(api, stop, effective=today() + timedelta(days=3))
    assert r.status_code == 200 and r.json_body["pocket_apy_bps"] == {}, r.body
    assert interest.rate_history()[-1].pocket_apy_bps == {}


WITH_AED = {**fxkit.RATES, "AED": "3.6725"}


def drop_aed(api):
    """The rates in force lose AED, as the ECB's feed (which quotes no
    dirham) replaces an operator's set that had it."""
    ok(api.admin("PUT", "/v1/admin/fx-rates", {"base": "USD", "rates": fxkit.RATES}))
    fx_rates._cache.clear()


def test_a_dm_payment_replays_after_its_currency_left_the_rates(people):
    api, conv = people
    ok(api.admin("PUT", "/v1/admin/fx-rates", {"base": "USD", "rates": WITH_AED}))
    headers = key()
    body = {"amount": 2_000, "currency": "AED"}
    first = api.call("POST", f"/v1/conversations/{conv}/payments", body, as_="bob", headers=headers)
    assert first.status_code == 201, first.body
    drop_aed(api)
    again = api.call("POST", f"/v1/conversations/{conv}/payments", body, as_="bob", headers=headers)
    assert again.status_code == 201, again.body
    assert again.json_body == first.json_body
    assert again.headers.get("Idempotent-Replayed") == "true"
    paid = api.wallet("bob")["balance"]
    assert paid < 10_000 and len(ok(api.call("GET", f"/v1/conversations/{conv}/messages", as_="bob"))["data"]) == 1
    # A new key still finds no rate, and nothing moves.
    fresh = api.call("POST", f"/v1/conversations/{conv}/payments", body, as_="bob", headers=key())
    assert fresh.status_code == 409 and api.wallet("bob")["balance"] == paid


def test_a_tip_replays_after_its_currency_left_the_rates(people):
    api, _ = people
    ok(api.admin("PUT", "/v1/admin/fx-rates", {"base": "USD", "rates": WITH_AED}))
    post = ok(api.call("POST", "/v1/posts", {"text": "hello"}, as_="alice"), 201)
    headers = key()
    body = {"amount": 2_000, "currency": "AED"}
    first = api.call("POST", f"/v1/posts/{post['id']}/tips", body, as_="bob", headers=headers)
    assert first.status_code == 201, first.body
    drop_aed(api)
    again = api.call("POST", f"/v1/posts/{post['id']}/tips", body, as_="bob", headers=headers)
    assert again.status_code == 201, again.body
    assert again.json_body == first.json_body


def test_a_request_payment_replays_after_its_currency_left_the_rates(people):
    api, _ = people
    ok(api.admin("PUT", "/v1/admin/fx-rates", {"base": "USD", "rates": WITH_AED}))
    req = ok(api.call("POST", "/v1/payment-requests", {"from": "bob", "amount": 2_000, "currency": "AED",
                                                       "note": "x"}, as_="alice"), 201)
    headers = key()
    first = api.call("POST", f"/v1/payment-requests/{req['id']}/pay", None, as_="bob", headers=headers)
    assert first.status_code == 200, first.body
    drop_aed(api)
    again = api.call("POST", f"/v1/payment-requests/{req['id']}/pay", None, as_="bob", headers=headers)
    assert again.status_code == 200, again.body
    assert again.json_body == first.json_body


def test_an_unlock_and_a_subscription_replay_after_their_currency_left_the_rates(people):
    api, _ = people
    ok(api.admin("PUT", "/v1/admin/fx-rates", {"base": "USD", "rates": WITH_AED}))
    post = ok(api.call("POST", "/v1/posts", {"text": "x" * 60, "price": {"amount": 1_000, "currency": "AED"}},
                       as_="alice"), 201)
    ok(api.call("PUT", "/v1/me/subscription-price", {"amount": 1_000, "currency": "AED"}, as_="alice"))
    calls = [(f"/v1/posts/{post['id']}/unlock", key()), ("/v1/users/alice/subscription", key())]
    firsts = [api.call("POST", path, None, as_="bob", headers=headers) for path, headers in calls]
    assert [r.status_code for r in firsts] == [201, 201], [r.body for r in firsts]
    paid = api.wallet("bob")["balance"]
    drop_aed(api)
    for (path, headers), first in zip(calls, firsts, strict=True):
        again = api.call("POST", path, None, as_="bob", headers=headers)
        assert again.status_code == 201, again.body
        assert again.json_body == first.json_body and again.headers.get("Idempotent-Replayed") == "true"
    assert api.wallet("bob")["balance"] == paid and balance(api, "alice", "AED") == 2 * (1_000 - 100)  # less the 10% platform fee


def test_a_cross_currency_transfer_replays_after_its_currency_left_the_rates(people):
    api, _ = people
    ok(api.admin("PUT", "/v1/admin/fx-rates", {"base": "USD", "rates": WITH_AED}))
    headers = key()
    body = {"to": "alice", "amount": 2_000, "currency": "USD", "deliver_currency": "AED"}
    first = api.call("POST", "/v1/transfers", body, as_="bob", headers=headers)
    assert first.status_code == 201, first.body
    drop_aed(api)
    again = api.call("POST", "/v1/transfers", body, as_="bob", headers=headers)
    assert again.status_code == 201, again.body
    assert again.json_body == first.json_body and again.headers.get("Idempotent-Replayed") == "true"
    assert api.wallet("bob")["balance"] == 8_000
    fresh = api.call("POST", "/v1/transfers", body, as_="bob", headers=key())
    assert fresh.status_code == 409 and api.wallet("bob")["balance"] == 8_000


def test_a_deposit_in_a_currency_that_left_the_rates_replays(people):
    api, _ = people
    ok(api.admin("PUT", "/v1/admin/fx-rates", {"base": "USD", "rates": WITH_AED}))
    headers = key()
    body = {"amount": 5_000, "currency": "AED"}
    first = api.call("POST", "/v1/wallet/deposits", body, as_="bob", headers=headers)
    assert first.status_code == 201, first.body
    drop_aed(api)
    again = api.call("POST", "/v1/wallet/deposits", body, as_="bob", headers=headers)
    assert again.status_code == 201, again.body
    assert again.json_body == first.json_body and balance(api, "bob", "AED") == 5_000
    assert api.call("POST", "/v1/wallet/deposits", body, as_="bob", headers=key()).status_code == 409
    assert balance(api, "bob", "AED") == 5_000
