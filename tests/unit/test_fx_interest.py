"""Interest on pockets of other currencies: each earns its currency's APY
(set beside USD's on PUT /v1/admin/rates), compounding daily by the formula
USD's interest follows (tests/unit/interest_model.py, in the currency's minor
units), paid from that currency's `interest_expense`; a currency at APY 0
earns nothing and its pockets are not even written. Every test pins the
business date it starts on."""
from datetime import date, timedelta

import pytest

from chalicelib import jobs
from chalicelib.db.balances import AccountItem
from chalicelib.finance import interest
from chalicelib.finance.pockets import pocket_account_id
from tests.unit import dates, fxkit
from tests.unit import interest_model as model
from tests.unit.fxkit import deposit, pocket
from tests.unit.interest_model import MICROS
from tests.unit.test_interest import DAY, advance, balanced, job, today

rates = fxkit.rates  # the fixture, for this module

START = date(2026, 4, 1)  # the 1st: a test's first month is a whole month


def set_rates(api, pocket_apy_bps, effective=None, apy_bps=450, overdraft_apr_bps=1800):
    body = {"apy_bps": apy_bps, "overdraft_apr_bps": overdraft_apr_bps,
            "effective_date": (effective or today()).isoformat()}
    if pocket_apy_bps is not None:
        body["pocket_apy_bps"] = pocket_apy_bps
    return api.admin("PUT", "/v1/admin/rates", body)


def seen(api, handle, currency):
    r = pocket(api, handle, currency)
    assert r.status_code == 200, r.body
    return r.json_body


def interest_entries(api, handle, currency):
    r = api.call("GET", f"/v1/wallet/transactions?currency={currency}&limit=100", as_=handle)
    assert r.status_code == 200, r.body
    return [(e["amount"], e["currency"], e["counterparty"]) for e in r.json_body["data"] if e["kind"] == "interest"]


def test_a_eur_pocket_earns_its_apy_over_a_month_as_usd_would(api, rates):
    opened = dates.pin(START)
    assert set_rates(api, {"EUR": 300}).status_code == 200
    api.verified("alice")
    deposit(api, "alice", 250_000, "EUR")  # €2,500.00
    assert seen(api, "alice", "EUR")["apy_bps"] == 300
    assert api.wallet("alice")["apy_bps"] == 450  # USD keeps its own
    yesterday = advance(api, 31) - DAY  # May 1st: April has ended
    job(api, "accrue-interest", yesterday)
    expected = model.simulate(opened, yesterday, {opened: 250_000}, default=(300, 0))
    assert seen(api, "alice", "EUR")["accrued_interest_micros"] == expected.accrued > 0
    summary = job(api, "post-interest", yesterday)
    assert (summary["processed"], summary["changed"]) == (2, 2), summary  # USD's empty month is marked posted too
    expected = model.simulate(opened, yesterday, {opened: 250_000}, default=(300, 0), post_by=yesterday)
    eur = seen(api, "alice", "EUR")
    assert (eur["balance"], eur["accrued_interest_micros"]) == (expected.balance, expected.accrued)
    assert expected.postings == [("2026-04", 608)]  # 2,500.00 x (1.03^(30/365) - 1) = 6.08
    assert interest_entries(api, "alice", "EUR") == [(608, "EUR", "interest_expense")]
    assert api.wallet("alice")["balance"] == 0  # nothing leaked into USD
    april = api.call("GET", "/v1/wallet/statements/2026-04?currency=EUR", as_="alice")
    assert april.status_code == 200, april.body  # valued on April's last day, in the EUR pocket's statement
    assert (april.json_body["interest_earned"], april.json_body["closing_balance"]) == (608, 250_608)
    books = balanced(api)
    assert books["totals"]["EUR"] == 0 and books["totals"]["USD"] == 0
    # Paid from the EUR interest account, not from USD's.
    assert books["system_accounts"].get("interest_expense_EUR") == -608, books["system_accounts"]
    assert books["system_accounts"].get("interest_expense", 0) == 0
    # Posted once.
    assert job(api, "post-interest", yesterday)["changed"] == 0
    assert seen(api, "alice", "EUR")["balance"] == expected.balance


def test_a_jpy_pocket_posts_whole_yen_and_carries_the_fraction(api, rates):
    opened = dates.pin(START)
    assert set_rates(api, {"JPY": 100}).status_code == 200
    api.verified("kenji")
    deposit(api, "kenji", 10_000, "JPY")  # ¥10,000: 0 decimals, so 10,000 minor units
    yesterday = advance(api, 61) - DAY  # May 31st: April and May have ended
    job(api, "post-interest", yesterday)
    expected = model.simulate(opened, yesterday, {opened: 10_000}, default=(100, 0), post_by=yesterday)
    jpy = seen(api, "kenji", "JPY")
    assert (jpy["balance"], jpy["accrued_interest_micros"]) == (expected.balance, expected.accrued)
    # Each month earns about 8.2 yen: 8 are posted, the 0.2 carries, so the
    # months' yen are not what each month would post alone.
    assert [c for _, c in expected.postings] == [8, 8]
    assert 0 < jpy["accrued_interest_micros"] < MICROS
    assert sorted(interest_entries(api, "kenji", "JPY")) == [(8, "JPY", "interest_expense"),
                                                             (8, "JPY", "interest_expense")]
    item = AccountItem.find(pocket_account_id(_user_id(api, "kenji"), "JPY"))
    assert item.posted_through == "2026-05" and int(item.posted_interest_micros) == 16 * MICROS
    balanced(api)


def _user_id(api, handle):
    r = api.call("GET", "/v1/me", as_=handle)
    assert r.status_code == 200, r.body
    return r.json_body["id"]


def test_a_currency_at_apy_0_accrues_nothing_and_is_not_written(api, rates):
    opened = dates.pin(START)
    assert set_rates(api, {"EUR": 300}).status_code == 200  # GBP is not named: 0
    api.verified("alice")
    deposit(api, "alice", 500_000, "GBP")
    deposit(api, "alice", 500_000, "EUR")
    assert seen(api, "alice", "GBP")["apy_bps"] == 0
    yesterday = advance(api, 40) - DAY
    job(api, "accrue-interest", yesterday)
    job(api, "post-interest", yesterday)
    gbp = seen(api, "alice", "GBP")
    assert (gbp["balance"], gbp["accrued_interest_micros"]) == (500_000, 0)
    assert interest_entries(api, "alice", "GBP") == []
    item = AccountItem.find(pocket_account_id(_user_id(api, "alice"), "GBP"))
    assert item.accrued_through is None and item.posted_through is None  # no update for nothing
    eur = seen(api, "alice", "EUR")
    assert eur["balance"] == model.simulate(opened, yesterday, {opened: 500_000}, default=(300, 0),
                                            post_by=yesterday).balance > 500_000


def test_a_pocket_apy_set_later_applies_from_its_day_and_omitting_it_keeps_it(api, rates):
    opened = dates.pin(START)
    api.verified("alice")
    deposit(api, "alice", 1_000_000, "EUR")
    change = opened + timedelta(days=10)
    assert set_rates(api, {"EUR": 500}, effective=change).status_code == 200
    # A later USD change that names no pocket keeps EUR's 5%.
    r = set_rates(api, None, effective=change + timedelta(days=5), apy_bps=400)
    assert r.status_code == 200 and r.json_body["pocket_apy_bps"] == {"EUR": 500}, r.body
    yesterday = advance(api, 20) - DAY
    job(api, "accrue-interest", yesterday)
    expected = model.simulate(opened, yesterday, {opened: 1_000_000}, rates=[(change, 500, 0)], default=(0, 0))
    assert seen(api, "alice", "EUR")["accrued_interest_micros"] == expected.accrued > 0
    # Naming the pockets again replaces them all: EUR left out earns 0 from then on.
    r = set_rates(api, {"JPY": 10}, effective=today())
    assert r.status_code == 200 and r.json_body["pocket_apy_bps"] == {"JPY": 10}, r.body
    assert seen(api, "alice", "EUR")["apy_bps"] == 0


POCKET_RATE_REFUSALS = [
    ({"EUR": 10_001}, 400, "invalid_request"),
    ({"EUR": -1}, 400, "invalid_request"),
    ({"EUR": 2.5}, 400, "invalid_request"),
    ({"EUR": "250"}, 400, "invalid_request"),
    ({"EUR": True}, 400, "invalid_request"),
    ({"XXX": 100}, 400, "unsupported_currency"),
    ({"eur": 100}, 400, "unsupported_currency"),
    ({"USD": 100}, 400, "invalid_request"),  # USD's is apy_bps
    ({"E" * 17: 100}, 400, "invalid_request"),
    (["EUR", 100], 400, "invalid_request"),
    ({f"C{i:02d}": 1 for i in range(65)}, 400, "invalid_request"),
]


@pytest.mark.parametrize("pockets,status,code", POCKET_RATE_REFUSALS, ids=range(len(POCKET_RATE_REFUSALS)))
def test_pocket_apys_are_0_to_10000_bps_of_supported_currencies_and_refusals_change_nothing(api, pockets, status,
                                                                                            code):
    dates.pin(START)
    r = set_rates(api, pockets)
    assert r.status_code == status and r.json_body["error"]["code"] == code, r.body
    assert interest.rate_history()[-1].pocket_apy_bps == {}  # nothing stored
    audit = api.admin("GET", "/v1/admin/audit").json_body["data"]
    assert not [a for a in audit if a["action"] == "rates"]


def test_only_operators_set_pocket_rates_and_each_change_is_audited(api):
    dates.pin(START)
    api.verified("mallory")
    r = api.call("PUT", "/v1/admin/rates", {"apy_bps": 450, "overdraft_apr_bps": 1800,
                                            "effective_date": today().isoformat(), "pocket_apy_bps": {"EUR": 9_999}},
                 as_="mallory")
    assert r.status_code == 403, r.body
    assert set_rates(api, {"EUR": 250, "JPY": 0}).status_code == 200
    audit = [a for a in api.admin("GET", "/v1/admin/audit").json_body["data"] if a["action"] == "rates"]
    assert [a["details"]["pocket_apy_bps"] for a in audit] == [{"EUR": 250}]


def test_segmented_runs_accrue_every_pocket_once(api, rates):
    opened = dates.pin(START)
    assert set_rates(api, {"EUR": 300, "JPY": 100}).status_code == 200
    people = {"ann": ("EUR", 100_000), "ben": ("JPY", 50_000), "cat": ("EUR", 300_000), "dan": ("GBP", 70_000)}
    for handle, (currency, amount) in people.items():
        api.verified(handle)
        deposit(api, handle, amount, currency)
    yesterday = advance(api, 9) - DAY
    total = 4
    parts = [jobs.accrue_segment(yesterday, segment, total) for segment in range(total)]
    # Four USD accounts and four pockets, each in one segment; GBP's is scanned, never written.
    assert (sum(p["processed"] for p in parts), sum(p["changed"] for p in parts)) == (8, 4 + 3), parts
    again = [jobs.accrue_segment(yesterday, segment, total) for segment in range(total)]
    assert sum(p["changed"] for p in again) == 0, again
    apys = {"EUR": 300, "JPY": 100, "GBP": 0}
    for handle, (currency, amount) in people.items():
        expected = model.simulate(opened, yesterday, {opened: amount}, default=(apys[currency], 0))
        assert seen(api, handle, currency)["accrued_interest_micros"] == expected.accrued, handle
    balanced(api)
