"""Issue 18, item 7: the daily and deposit limits stay in USD terms. Money
deposited or sent from a pocket of another currency counts its USD worth at
the rate in force that day (rounded up: never undercounted), on the same
daily counters as USD. Defaults: one deposit at most $25,000, $50,000 of
deposits a day, $10,000 sent a day. Rates (tests/unit/fxkit.py): 1 USD buys
0.80 EUR and 150 JPY. Business time is TEST_NOW's day throughout."""
import threading

from tests.unit import fxkit
from tests.unit.fxkit import deposit, key, pocket

rates = fxkit.rates  # the fixture, for this module


def deposit_of(api, handle, amount, currency):
    return api.call("POST", "/v1/wallet/deposits", {"amount": amount, "currency": currency}, as_=handle,
                    headers=key())


def refused_for_limits(r):
    assert r.status_code == 422 and r.json_body["error"]["code"] == "limit_exceeded", r.body


def test_a_eur_deposit_just_under_and_just_over_the_daily_usd_cap(api, rates):
    api.verified("alice")
    api.deposit("alice", 2_500_000)  # $25,000 of the day's $50,000
    over = deposit_of(api, "alice", 2_000_001, "EUR")  # $25,000.0125, counted as $25,000.02
    refused_for_limits(over)
    assert pocket(api, "alice", "EUR").status_code == 404  # the refusal left no pocket behind
    deposit(api, "alice", 2_000_000, "EUR")  # exactly $25,000: the day is at $50,000
    refused_for_limits(deposit_of(api, "alice", 1, "EUR"))  # one euro cent is 1.25 cents, counted as 2
    refused_for_limits(deposit_of(api, "alice", 1, "JPY"))  # one yen is 0.67 cents, counted as 1
    refused_for_limits(deposit_of(api, "alice", 1, "USD"))
    assert pocket(api, "alice", "EUR").json_body["balance"] == 2_000_000
    assert api.wallet("alice")["balance"] == 2_500_000


def test_a_jpy_deposit_at_the_per_deposit_cap(api, rates):
    api.verified("kenji")
    refused_for_limits(deposit_of(api, "kenji", 3_750_001, "JPY"))  # ¥3,750,001 is $25,000.0067
    deposit(api, "kenji", 3_750_000, "JPY")  # exactly $25,000


def test_the_days_rate_counts_a_rate_change_moves_the_cap(api, rates):
    api.verified("alice")
    r = api.admin("PUT", "/v1/admin/fx-rates", {"base": "USD", "rates": {**rates, "EUR": "0.90"}})
    assert r.status_code == 200, r.body
    # At 0.90, $25,000 is €22,500: more euros fit in one deposit than at 0.80.
    refused_for_limits(deposit_of(api, "alice", 2_250_001, "EUR"))
    deposit(api, "alice", 2_250_000, "EUR")


def test_money_sent_in_euros_just_under_and_just_over_the_daily_usd_cap(api, rates):
    api.verified("alice")
    api.verified("bob")
    deposit(api, "alice", 1_000_000, "EUR")
    api.deposit("alice", 1_000)
    send = {"to": "bob", "currency": "EUR"}
    over = api.call("POST", "/v1/transfers", {**send, "amount": 800_001}, as_="alice", headers=key())
    refused_for_limits(over)  # $10,000.0125 counted as $10,000.02
    ok = api.call("POST", "/v1/transfers", {**send, "amount": 800_000}, as_="alice", headers=key())
    assert ok.status_code == 201, ok.body  # exactly $10,000
    refused_for_limits(api.call("POST", "/v1/transfers", {**send, "amount": 1}, as_="alice", headers=key()))
    usd = api.call("POST", "/v1/transfers", {"to": "bob", "amount": 1, "currency": "USD"}, as_="alice",
                   headers=key())
    refused_for_limits(usd)  # one daily counter for every currency
    assert pocket(api, "bob", "EUR").json_body["balance"] == 800_000


def test_a_replayed_eur_deposit_counts_once(api, rates):
    api.verified("alice")
    headers = key()
    for _ in range(3):
        r = api.call("POST", "/v1/wallet/deposits", {"amount": 2_000_000, "currency": "EUR"}, as_="alice",
                     headers=headers)
        assert r.status_code == 201, r.body
    deposit(api, "alice", 2_000_000, "EUR")  # $25,000 + $25,000: the replays took nothing of the day
    refused_for_limits(deposit_of(api, "alice", 1, "EUR"))


def test_two_eur_deposits_at_once_that_fit_only_alone_one_goes_through(api, rates, one_request_at_a_time):
    api.verified("alice")
    api.deposit("alice", 2_500_000)
    deposit(api, "alice", 100, "EUR")  # the pocket exists: both race on the day's counter alone
    results = []
    barrier = threading.Barrier(2)

    def go():
        barrier.wait()
        results.append(deposit_of(api, "alice", 1_999_900, "EUR").status_code)  # each exactly $24,998.75, what is left

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 422]
    assert pocket(api, "alice", "EUR").json_body["balance"] == 100 + 1_999_900
