"""Creator money in other currencies (issue 18, item 5): a price's currency
is what the author receives; the fan pays from their pocket of it, or from
another converted in the same transaction. Rates are fxkit's: 1 USD = 0.80
EUR = 150 JPY, spread 50 bps (USD->EUR 0.796, USD->JPY 149.25), fx fee 30
bps rounded up; the platform fee is 10% of the price, rounded down.

Figures by hand: a EUR 5.00 price from USD costs 631 cents (fee 2; 629 x
0.796 = 500.684 -> 500 EUR cents; 630 cents would buy 499.888); a JPY 500
tip costs 338 cents (336 x 1.4925 = 501.48 -> 501 yen, of which 500 are
delivered; 337 cents would buy 499.9875)."""
import threading
from datetime import date, time
from decimal import Decimal

import pytest

from tests.unit import dates, fxkit
from tests.unit.fxkit import balance, books, currencies, deposit, key, ok, position, refused

rates = fxkit.rates  # the fixtures, for this module

TEXT = "A paid post in euros: the first forty characters show, the rest is for payers."


def priced_post(api, who, amount, currency):
    return ok(api.call("POST", "/v1/posts", {"text": TEXT, "price": {"amount": amount, "currency": currency}},
                       as_=who), 201)


def unlock(api, who, post_id, body=None, headers=None):
    return api.call("POST", f"/v1/posts/{post_id}/unlock", body, as_=who, headers=headers or key())


def tip(api, who, post_id, body, headers=None):
    return api.call("POST", f"/v1/posts/{post_id}/tips", body, as_=who, headers=headers or key())


@pytest.fixture
def people(api, rates):
    """alice the creator, bob a fan with $100.00 and nothing else."""
    api.verified("alice")
    api.verified("bob")
    api.deposit("bob", 10_000)
    yield api
    books(api)


def test_a_euro_priced_unlock_paid_from_dollars_converts_in_the_same_transfer(people):
    api = people
    p = priced_post(api, "alice", 500, "EUR")
    t = ok(unlock(api, "bob", p["id"]), 201)
    assert (t["kind"], t["from"], t["to"], t["amount"], t["currency"]) == ("unlock", "bob", "alice", 631, "USD")
    assert t["delivered"] == {"amount": 500, "currency": "EUR"} and Decimal(t["rate"]) == Decimal("0.796")
    assert api.wallet("bob")["balance"] == 10_000 - 631
    assert balance(api, "alice", "EUR") == 450  # the price less the platform's 10%, in euros
    assert api.wallet("alice")["balance"] == 0
    assert "EUR" not in currencies(api, "bob")  # paying in euros opens no euro pocket for the payer
    check = books(api)
    assert check["system_accounts"]["fees_EUR"] == 50 and check["system_accounts"]["fees"] == 2
    assert position(check) == {"USD": 629, "EUR": -500}
    assert ok(api.call("GET", f"/v1/posts/{p['id']}", as_="bob"))["text"] == TEXT
    assert ok(api.call("GET", f"/v1/transfers/{t['id']}", as_="alice")) == t
    earned = ok(api.call("GET", f"/v1/me/earnings?month={t['created_at'][:7]}&currency=EUR", as_="alice"))
    assert (earned["currency"], earned["gross"], earned["fees"], earned["net"]) == ("EUR", 500, 50, 450)


def test_a_euro_priced_unlock_is_paid_from_the_euro_pocket_when_the_fan_holds_one(people):
    api = people
    deposit(api, "bob", 1_000, "EUR")
    p = priced_post(api, "alice", 500, "EUR")
    t = ok(unlock(api, "bob", p["id"]), 201)
    assert (t["amount"], t["currency"]) == (500, "EUR") and "delivered" not in t and "rate" not in t
    assert (balance(api, "bob", "EUR"), api.wallet("bob")["balance"]) == (500, 10_000)
    assert balance(api, "alice", "EUR") == 450
    assert position(books(api)) == {}
    # Named, the dollar pocket pays instead, converted.
    p2 = priced_post(api, "alice", 500, "EUR")
    t2 = ok(unlock(api, "bob", p2["id"], {"pay_currency": "USD"}), 201)
    assert (t2["amount"], t2["currency"], t2["delivered"]["amount"]) == (631, "USD", 500)
    assert (balance(api, "bob", "EUR"), api.wallet("bob")["balance"]) == (500, 10_000 - 631)


def test_a_yen_tip_from_dollars_rounds_against_the_payer_and_keeps_the_books_whole(people):
    api = people
    p = ok(api.call("POST", "/v1/posts", {"text": "free to read"}, as_="alice"), 201)
    t = ok(tip(api, "bob", p["id"], {"amount": 500, "currency": "JPY"}), 201)
    # 337 cents would buy 499.9875 yen: the payer pays the next whole cent up,
    # and the fraction of a yen the 338 buy beyond 500 stays with fx_JPY.
    assert (t["amount"], t["currency"], t["delivered"]) == (338, "USD", {"amount": 500, "currency": "JPY"})
    assert Decimal(t["rate"]) == Decimal("149.25")
    assert balance(api, "alice", "JPY") == 500  # a tip goes whole to the author
    assert api.wallet("bob")["balance"] == 10_000 - 338
    check = books(api)
    assert position(check) == {"USD": 336, "JPY": -500} and check["system_accounts"]["fees"] == 2
    assert check["totals"]["JPY"] == 0 and check["totals"]["USD"] == 0
    # tip_total stays in dollars: 500 yen are worth 333.3 cents, counted up.
    assert ok(api.call("GET", f"/v1/posts/{p['id']}", as_="bob"))["tip_total"] == 334
    entries = ok(api.call("GET", "/v1/wallet/transactions?currency=JPY", as_="alice"))["data"]
    assert [(e["kind"], e["amount"], e["counterparty"]) for e in entries] == [("tip", 500, "bob")]


def test_a_replay_answers_the_same_and_a_changed_body_is_refused(people):
    api = people
    p = priced_post(api, "alice", 500, "EUR")
    headers = key()
    first = unlock(api, "bob", p["id"], headers=headers)
    again = unlock(api, "bob", p["id"], headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json_body == first.json_body
    refused(unlock(api, "bob", p["id"], {"pay_currency": "EUR"}, headers=headers), 409, "idempotency_key_reused")
    t_headers = key()
    body = {"amount": 500, "currency": "JPY"}
    tipped = tip(api, "bob", p["id"], body, t_headers)
    assert tip(api, "bob", p["id"], body, t_headers).json_body == tipped.json_body
    refused(tip(api, "bob", p["id"], {**body, "pay_currency": "USD"}, t_headers), 409, "idempotency_key_reused")
    assert api.wallet("bob")["balance"] == 10_000 - 631 - 338
    assert (balance(api, "alice", "EUR"), balance(api, "alice", "JPY")) == (450, 500)


def test_no_rate_for_the_pair_is_a_409_and_writes_nothing(people):
    api = people
    p = priced_post(api, "alice", 500, "AED")  # fxkit sets no AED rate
    before = books(api)
    error = refused(unlock(api, "bob", p["id"]), 409, "invalid_state")
    assert "AED" in error["message"]
    refused(tip(api, "bob", p["id"], {"amount": 100, "currency": "AED"}), 409, "invalid_state")
    refused(tip(api, "bob", p["id"], {"amount": 100, "currency": "USD", "pay_currency": "AED"}), 409,
            "invalid_state")
    assert api.wallet("bob")["balance"] == 10_000
    assert currencies(api, "alice") == ["USD"] and currencies(api, "bob") == ["USD"]
    assert ok(api.call("GET", f"/v1/posts/{p['id']}", as_="bob"))["text"] != TEXT  # still locked
    assert books(api) == before
    # Once an operator sets the rate, the same unlock goes through.
    ok(api.admin("PUT", "/v1/admin/fx-rates", {"base": "USD", "rates": {**fxkit.RATES, "AED": "3.6725"}}))
    assert unlock(api, "bob", p["id"]).status_code == 201


def test_the_paying_pocket_must_hold_enough_and_nothing_moves_when_it_does_not(people):
    api = people
    deposit(api, "bob", 100, "EUR")
    p = priced_post(api, "alice", 500, "EUR")
    refused(unlock(api, "bob", p["id"]), 422, "insufficient_funds")  # his euro pocket pays, and is short
    refused(unlock(api, "bob", p["id"], {"pay_currency": "GBP"}), 422, "insufficient_funds")  # holds no pounds
    big = priced_post(api, "alice", 10_000, "EUR")
    refused(unlock(api, "bob", big["id"], {"pay_currency": "USD"}), 422, "insufficient_funds")  # 12,599 > 10,000
    assert (balance(api, "bob", "EUR"), api.wallet("bob")["balance"]) == (100, 10_000)
    assert currencies(api, "alice") == ["USD"] and "GBP" not in currencies(api, "bob")
    assert unlock(api, "bob", p["id"], {"pay_currency": "USD"}).status_code == 201


@pytest.mark.parametrize("body,status,code,param", [
    ({"amount": 500, "currency": "JPY", "pay_currency": "BTC"}, 400, "unsupported_currency", "pay_currency"),
    ({"amount": 500, "currency": "JPY", "pay_currency": 7}, 400, "invalid_request", "pay_currency"),
    ({"amount": 500, "currency": "XYZ"}, 400, "unsupported_currency", "currency"),
    ({"amount": 0, "currency": "JPY"}, 400, "invalid_request", "amount"),
    ({"amount": -5, "currency": "JPY"}, 400, "invalid_request", "amount"),
    ({"amount": 1.5, "currency": "EUR"}, 400, "invalid_request", "amount"),
    ({"amount": 10**12 + 1, "currency": "JPY"}, 400, "invalid_request", "amount"),
    ({"amount": 10**12, "currency": "GBP"}, 400, "invalid_request", "amount"),  # costs more than 10^12 cents
])
def test_hostile_tips_are_refused_before_anything_moves(people, body, status, code, param):
    api = people
    p = ok(api.call("POST", "/v1/posts", {"text": "free to read"}, as_="alice"), 201)
    refused(tip(api, "bob", p["id"], body), status, code, param)
    assert api.wallet("bob")["balance"] == 10_000 and currencies(api, "alice") == ["USD"]


def test_other_peoples_posts_and_ids_stay_theirs(people):
    api = people
    p = priced_post(api, "alice", 500, "EUR")
    assert ok(unlock(api, "alice", p["id"]))["charged"] is False  # one's own post: no charge, no conversion
    refused(unlock(api, "bob", "post_doesnotexist"), 404, "not_found")
    refused(tip(api, "alice", p["id"], {"amount": 500, "currency": "JPY"}), 422, "self_transfer")
    assert currencies(api, "alice") == ["USD"]


def test_two_concurrent_unlocks_with_different_keys_charge_once(people, one_request_at_a_time):
    api = people
    p = priced_post(api, "alice", 500, "EUR")
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(unlock(api, "bob", p["id"]))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in answers) == [200, 201], [r.body for r in answers]
    assert api.wallet("bob")["balance"] == 10_000 - 631 and balance(api, "alice", "EUR") == 450


def test_two_fans_tipping_into_a_pocket_not_yet_open_both_land(people, one_request_at_a_time):
    api = people
    api.verified("carol")
    api.deposit("carol", 10_000)
    post = ok(api.call("POST", "/v1/posts", {"text": "hello"}, as_="alice"), 201)
    answers = []
    threads = [threading.Thread(target=lambda who=who: answers.append(
        tip(api, who, post["id"], {"amount": 500, "currency": "EUR"}))) for who in ("bob", "carol")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in answers) == [201, 201], [r.body for r in answers]
    assert balance(api, "alice", "EUR") == 1_000


def test_a_euro_subscription_renews_at_the_rate_of_its_day(people):
    api = people
    dates.pin(date(2026, 4, 2))
    set_price = api.call("PUT", "/v1/me/subscription-price", {"amount": 300, "currency": "EUR"}, as_="alice")
    assert ok(set_price) == {"subscription_price": {"amount": 300, "currency": "EUR"}}
    sub = ok(api.call("POST", "/v1/users/alice/subscription", None, as_="bob", headers=key()), 201)
    assert sub["price"] == {"amount": 300, "currency": "EUR"} and sub["periods_paid"] == 1
    assert api.wallet("bob")["balance"] == 10_000 - 379  # at 0.796
    # The renewal day: the euro is dearer (1 USD = 0.90 EUR, 0.8955 after the spread).
    dates.pin(date(2026, 5, 2), at=time(18, 0))
    ok(api.admin("PUT", "/v1/admin/fx-rates", {"base": "USD", "rates": {**fxkit.RATES, "EUR": "0.90"}}))
    job = ok(api.admin("POST", "/v1/admin/jobs/subscriptions", {"as_of": "2026-05-02"}))
    assert job["renewed"] == 1, job
    assert api.wallet("bob")["balance"] == 10_000 - 379 - 338  # 336 x 0.8955 = 300.888 -> 300 EUR cents
    [renewed] = ok(api.call("GET", "/v1/me/subscriptions", as_="bob"))["data"]
    assert (renewed["periods_paid"], renewed["price"]["currency"]) == (2, "EUR")
    assert balance(api, "alice", "EUR") == 2 * 270
    assert books(api)["system_accounts"]["fees_EUR"] == 2 * 30
    rerun = ok(api.admin("POST", "/v1/admin/jobs/subscriptions", {"as_of": "2026-05-02"}))
    assert rerun["changed"] == 0 and api.wallet("bob")["balance"] == 10_000 - 379 - 338
