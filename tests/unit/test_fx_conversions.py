"""Quotes and conversions: the price shown is the price paid, once, while the quote lives."""
import threading
from datetime import timedelta
from decimal import Decimal

import pytest

from chalicelib import clock, errors
from chalicelib.finance import fx, reconcile
from tests.unit import fxkit
from tests.unit.fxkit import convert, deposit, key, pocket, quote
from tests.unit.moneykit import assert_frozen, principal

rates = fxkit.rates  # the fixture, for this module


def test_a_quote_shows_rate_fee_and_what_is_bought(api, rates):
    api.verified("alice")
    q = quote(api, "alice", sell_currency="USD", buy_currency="EUR", sell_amount=10_000)
    assert q.status_code == 201, q.body
    q = q.json_body
    assert q["id"].startswith("fxq_")
    assert Decimal(q["rate"]) == Decimal("0.80") * Decimal("0.995")  # mid less the 0.50% spread
    assert q["fee"] == 30  # 0.30% of $100.00
    assert q["buy_amount"] == int(Decimal(10_000 - 30) * Decimal(q["rate"]))  # rounded down
    assert q["expires_at"] > clock.iso(clock.real_now())


def test_a_conversion_moves_exactly_the_quote(api, rates):
    api.verified("alice")
    api.deposit("alice", 10_000)
    q = quote(api, "alice", sell_currency="USD", buy_currency="JPY", sell_amount=10_000).json_body
    r = convert(api, "alice", q["id"])
    assert r.status_code == 201, r.body
    assert (r.json_body["kind"], r.json_body["amount"], r.json_body["currency"]) == ("conversion", 10_000, "USD")
    assert api.wallet("alice")["balance"] == 0
    assert pocket(api, "alice", "JPY").json_body["balance"] == q["buy_amount"]
    assert reconcile.reconcile()["balanced"]


def test_buy_amount_quotes_the_least_sell_amount(api, rates):
    api.verified("alice")
    q = quote(api, "alice", sell_currency="EUR", buy_currency="USD", buy_amount=10_000).json_body
    assert q["buy_amount"] >= 10_000
    less = fx.price("EUR", "USD", sell_cents=q["sell_amount"] - 1)
    assert less.buy_cents < 10_000


@pytest.mark.parametrize("body", [
    {"sell_currency": "USD", "buy_currency": "EUR"},
    {"sell_currency": "USD", "buy_currency": "EUR", "sell_amount": 100, "buy_amount": 100},
    {"sell_currency": "USD", "buy_currency": "USD", "sell_amount": 100},
    {"sell_currency": "USD", "buy_currency": "EUR", "sell_amount": 12.5},
    {"sell_currency": "USD", "buy_currency": "EUR", "sell_amount": 0},
    {"sell_currency": "USD", "buy_currency": "EUR", "sell_amount": -5},
    {"sell_currency": "USD", "buy_currency": "EUR", "sell_amount": 10**12 + 1},
    {"sell_currency": "USD", "buy_currency": "EUR", "sell_amount": "100"},
    {"sell_currency": "USD", "buy_currency": "EUR", "buy_amount": 10**12},
    {"sell_currency": "JPY", "buy_currency": "USD", "sell_amount": 1},  # buys less than a cent
    {"sell_currency": "EUR", "buy_currency": "USD", "sell_amount": 10**12},  # buys more than 10^12 cents
])
def test_bad_quotes_are_400s(api, rates, body):
    api.verified("alice")
    r = quote(api, "alice", **body)
    assert r.status_code == 400 and r.json_body["error"]["code"] == "invalid_request", r.body


def test_unsupported_currencies_and_missing_rates(api, rates):
    api.verified("alice")
    r = quote(api, "alice", sell_currency="USD", buy_currency="BTC", sell_amount=100)
    assert r.status_code == 400 and r.json_body["error"]["code"] == "unsupported_currency"
    r = quote(api, "alice", sell_currency="USD", buy_currency="AED", sell_amount=100)
    assert r.status_code == 409 and r.json_body["error"]["code"] == "invalid_state"


def test_a_quote_converts_once_and_a_replay_answers_the_same(api, rates):
    api.verified("alice")
    api.deposit("alice", 20_000)
    q = quote(api, "alice", sell_currency="USD", buy_currency="EUR", sell_amount=5_000).json_body
    headers = key()
    first = convert(api, "alice", q["id"], headers)
    again = convert(api, "alice", q["id"], headers)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json_body == first.json_body
    other = convert(api, "alice", q["id"])
    assert other.status_code == 409 and other.json_body["error"]["code"] == "invalid_state"
    assert api.wallet("alice")["balance"] == 15_000
    assert pocket(api, "alice", "EUR").json_body["balance"] == q["buy_amount"]


def test_a_quote_after_30_seconds_is_refused(api, rates, monkeypatch):
    api.verified("alice")
    api.deposit("alice", 20_000)
    q = quote(api, "alice", sell_currency="USD", buy_currency="EUR", sell_amount=5_000).json_body
    later = clock.real_now() + timedelta(seconds=31)
    monkeypatch.setattr(clock, "real_now", lambda: later)
    r = convert(api, "alice", q["id"])
    assert r.status_code == 409 and r.json_body["error"]["code"] == "invalid_state"
    assert api.wallet("alice")["balance"] == 20_000
    assert pocket(api, "alice", "EUR").status_code == 404  # nothing half done: not even the pocket


def test_a_quote_used_twice_at_once_converts_once(api, rates, one_request_at_a_time):
    api.verified("alice")
    api.deposit("alice", 20_000)
    q = quote(api, "alice", sell_currency="USD", buy_currency="GBP", sell_amount=5_000).json_body
    deposit(api, "alice", 100, "GBP")  # the pocket exists: both race on the quote alone
    results = []
    barrier = threading.Barrier(2)

    def go():
        barrier.wait()
        results.append(convert(api, "alice", q["id"]).status_code)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 409]
    assert api.wallet("alice")["balance"] == 15_000
    assert pocket(api, "alice", "GBP").json_body["balance"] == 100 + q["buy_amount"]


def test_someone_elses_quote_is_not_found(api, rates):
    api.verified("alice")
    api.verified("mallory")
    api.deposit("mallory", 20_000)
    q = quote(api, "alice", sell_currency="USD", buy_currency="EUR", sell_amount=5_000).json_body
    for quote_id in (q["id"], "fxq_nope", "x" * 64):
        r = convert(api, "mallory", quote_id)
        assert r.status_code == 404, r.body


def test_converting_without_the_money_is_refused_and_leaves_nothing(api, rates):
    api.verified("alice")
    q = quote(api, "alice", sell_currency="CHF", buy_currency="EUR", sell_amount=5_000).json_body
    r = convert(api, "alice", q["id"])
    assert r.status_code == 422 and r.json_body["error"]["code"] == "insufficient_funds"
    api.deposit("alice", 100)
    q = quote(api, "alice", sell_currency="USD", buy_currency="EUR", sell_amount=5_000).json_body
    r = convert(api, "alice", q["id"])
    assert r.status_code == 422 and r.json_body["error"]["code"] == "insufficient_funds"
    assert pocket(api, "alice", "EUR").status_code == 404


@pytest.mark.parametrize("sell,buy", [("USD", "JPY"), ("JPY", "USD"), ("EUR", "GBP"), ("GBP", "JPY")])
@pytest.mark.parametrize("amount", [1, 7, 99, 101, 12_345, 999_999_999])
def test_rounding_never_creates_money(rates, sell, buy, amount):
    """A fraction of a minor unit never goes to the customer, either way,
    and a round trip comes back with no more than it started."""
    try:
        there = fx.price(sell, buy, sell_cents=amount)
    except errors.InvalidRequest:
        return  # too small to buy a unit: refused, nothing moves
    exact = Decimal(amount - there.fee_cents) * there.rate * Decimal(10) ** (
        fx.exponent(buy) - fx.exponent(sell))
    assert there.buy_cents <= exact < there.buy_cents + 1
    assert there.fee_cents * 10_000 >= amount * 30
    try:
        back = fx.price(buy, sell, sell_cents=there.buy_cents)
    except errors.InvalidRequest:
        return
    assert back.buy_cents <= amount


def test_a_quote_is_a_frozen_record_shaped_as_the_routes_and_it_converts(api, rates):
    api.verified("alice")
    deposit(api, "alice", 10_000, "USD")
    q = fx.create_quote(principal("alice"), "USD", "EUR", 10_000, None)
    assert (q.sell_currency, q.buy_currency, q.sell_amount, q.status) == ("USD", "EUR", 10_000, "open")
    assert_frozen(q, "rate", "9")
    routed = fxkit.ok(quote(api, "alice", sell_currency="USD", buy_currency="EUR", sell_amount=10_000), 201)
    mine = q.as_json()
    assert set(mine) == set(routed)
    assert {k: v for k, v in mine.items() if k not in ("id", "expires_at")} == {
        k: v for k, v in routed.items() if k not in ("id", "expires_at")}
    assert mine["expires_at"].endswith("Z") and len(mine["expires_at"]) == len("2026-12-02T16:05:27.120Z")
    t = fxkit.ok(convert(api, "alice", q.id), 201)
    assert (t["amount"], t["currency"]) == (10_000, "USD")
    assert pocket(api, "alice", "EUR").json_body["balance"] == q.buy_amount
