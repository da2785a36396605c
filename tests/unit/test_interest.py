"""Interest maths through the API, against exact expectations from an
independent Decimal model (tests/unit/interest_model.py): a year and a month
at a constant balance, a rate change mid-month, a balance that crosses zero,
a deposit landing while the job runs, and leap-year dates.

Every test starts at a stated business time (TEST_NOW, or a date of
tests/unit/dates.py's table for the tests whose outcome depends on where in
a month or year they start); the clock then only moves forward."""
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest

from chalicelib import clock
from chalicelib.db.balances import AccountItem
from chalicelib.finance import interest, rates
from tests.unit import dates
from tests.unit import interest_model as model
from tests.unit.conftest import _operator
from tests.unit.interest_model import MICROS
from tests.unit.moneykit import assert_frozen

DAY = timedelta(days=1)


def today() -> date:
    return clock.now().date()


def advance(api, days):
    r = api.admin("POST", "/v1/admin/test-clock", {"advance_days": days})
    assert r.status_code == 200, r.body
    return today()


def clock_to(api, when: str):
    r = api.admin("POST", "/v1/admin/test-clock", {"now": when})
    assert r.status_code == 200, r.body
    return today()


def apy_over(cents: int, days: int, apy_bps: int = 450) -> Decimal:
    """A constant balance after `days` days at the APY (compounded daily,
    so 365 days give exactly the APY), in cents: what is posted, to within
    the fraction of a cent each posting carries."""
    return cents * (Decimal(1) + Decimal(apy_bps) / 10_000) ** (Decimal(days) / 365)


def start_of_next_month(api):
    """The clock to 00:30 on the 1st of next month, so a test's days fall in
    one month whatever the real date."""
    now = today()
    first = date(now.year + (now.month == 12), now.month % 12 + 1, 1)
    return clock_to(api, first.isoformat() + "T00:30:00Z")


def balanced(api):
    """GET /v1/admin/ledger/check: the sum of all balances is zero, and every
    account's entries sum to its balance."""
    r = api.admin("GET", "/v1/admin/ledger/check")
    assert r.status_code == 200 and r.json_body["balanced"] is True and r.json_body["total"] == 0, r.body
    return r.json_body


def sums_to_zero():
    """The quick check for a loop of daily jobs: every balance (system
    shards included) sums to zero and each keeps spendable = balance - held +
    credit_limit. `balanced` also sums every account's entries, a query per
    account that moto answers by walking the whole table."""
    total = 0
    for account in AccountItem.scan(AccountItem.sk == "ACCT", consistent_read=True):
        total += int(account.balance)
        assert int(account.spendable) == int(account.balance) - int(account.held) + int(account.credit_limit)
    assert total == 0


def job(api, name, as_of=None, full_check=True):
    """Run a job in-process through the admin route; the ledger check passes
    after (the quick one for reruns whose books a test compares itself)."""
    r = api.admin("POST", f"/v1/admin/jobs/{name}", {"as_of": as_of.isoformat()} if as_of else {})
    assert r.status_code == 200, r.body
    assert r.json_body["job"] == name
    balanced(api) if full_check else sums_to_zero()
    return r.json_body


def withdraw(api, handle, amount):
    r = api.money("POST", "/v1/wallet/withdrawals", {"amount": amount, "currency": "USD"}, handle, str(uuid.uuid4()))
    assert r.status_code == 201, r.body


def entries(api, handle):
    r = api.call("GET", "/v1/wallet/transactions?limit=100", as_=handle)
    assert r.status_code == 200, r.body
    return r.json_body["data"]


def statement(api, handle, month):
    r = api.call("GET", f"/v1/wallet/statements/{month}", as_=handle)
    assert r.status_code == 200, r.body
    s = r.json_body
    assert s["opening_balance"] + s["total_in"] - s["total_out"] == s["closing_balance"]
    return s


def set_rates(api, apy_bps, overdraft_apr_bps, effective):
    return api.admin("PUT", "/v1/admin/rates", {"apy_bps": apy_bps, "overdraft_apr_bps": overdraft_apr_bps,
                                                "effective_date": effective if isinstance(effective, str)
                                                else effective.isoformat()})


# The model itself -------------------------------------------------------------------

def test_the_models_rate_and_the_apps_agree_to_far_below_a_micro_cent():
    for bps in (0, 1, 450, 5000, 10_000):
        assert abs(model.daily_rate(bps) - interest.daily_rate(bps)) < Decimal("1e-30"), bps
    # One day on the largest balance an account can hold: the same micro-cents either way.
    rates = interest.Rates("0001-01-01", 450, 1800)
    for cents in (10**12, -10**12, 1, -1, 123_456_789):
        assert interest.day_interest_micros(cents, 0, rates) == model.day_interest(cents, 0, 450, 1800), cents


# Constant balances ---------------------------------------------------------------------

def test_a_constant_balance_for_365_days_earns_the_apy_within_a_cent(api):
    api.verified("saver")
    api.deposit("saver", 1_000_000)  # $10,000.00
    opened = today()
    advance(api, 366)
    last = opened + timedelta(days=364)  # 365 days, the opening day included
    summary = job(api, "accrue-interest", last)
    assert (summary["processed"], summary["changed"]) == (1, 1), summary
    accrued = api.wallet("saver")["accrued_interest_micros"]
    assert accrued == model.simulate(opened, last, {opened: 1_000_000}).accrued
    assert abs(accrued - 45_000 * MICROS) <= MICROS, accrued  # 4.50% of $10,000 = $450.00, within a cent


@pytest.mark.parametrize("start", dates.START_DATES, ids=str)
def test_a_year_posted_late_equals_a_year_posted_monthly(api, start):
    """Twelve or thirteen month ends posted in one late run leave the books
    a monthly run would: the same cents each month, the same carried
    fraction, and what is posted is the APY over the days it covers."""
    opened = dates.pin(start)
    api.verified("saver")
    api.deposit("saver", 1_000_000)
    assert today() == opened
    now = advance(api, 366)
    yesterday = now - DAY
    job(api, "accrue-interest", yesterday)
    summary = job(api, "post-interest", yesterday)
    assert summary["changed"] == 1
    expected = model.simulate(opened, yesterday, {opened: 1_000_000}, post_by=yesterday)
    wallet = api.wallet("saver")
    assert (wallet["balance"], wallet["accrued_interest_micros"]) == (expected.balance, expected.accrued)
    posted = sorted(e["amount"] for e in entries(api, "saver") if e["kind"] == "interest")
    ends = dates.month_ends(opened, yesterday)
    assert posted == sorted(c for _, c in expected.postings) and len(posted) == len(ends)
    assert len(ends) in (12, 13)  # 13 when the year both starts and ends on a month's last day
    # The posted days are the opening day through the last month end: a
    # whole year (the APY itself) when the account opened on a 1st.
    covered = (ends[-1] - opened).days + 1
    assert covered == 365 or opened.day != 1
    assert abs(wallet["balance"] - apy_over(1_000_000, covered)) <= 10  # the APY of those days, less the last month unposted


@pytest.mark.parametrize("start", dates.START_DATES, ids=str)
def test_thirty_days_then_the_month_posts_and_the_fraction_carries(api, start):
    opened = dates.pin(start)
    api.verified("saver")
    api.deposit("saver", 250_000)  # $2,500.00
    now = advance(api, 31)
    day30 = opened + timedelta(days=29)
    job(api, "accrue-interest", day30)
    assert api.wallet("saver")["accrued_interest_micros"] == model.simulate(opened, day30, {opened: 250_000}).accrued
    # The month of the opening ended before today: posting brings accrual up
    # to yesterday first, and posts every month that has ended (two when
    # the account opened on the last day of a month before a short one).
    yesterday = now - DAY
    ends = dates.month_ends(opened, yesterday)
    assert ends[0] == interest.month_end(opened.year, opened.month) < now and len(ends) in (1, 2)
    summary = job(api, "post-interest")
    assert (summary["processed"], summary["changed"]) == (1, 1), summary
    expected = model.simulate(opened, yesterday, {opened: 250_000}, post_by=yesterday)
    wallet = api.wallet("saver")
    assert (wallet["balance"], wallet["accrued_interest_micros"]) == (expected.balance, expected.accrued)
    assert [m for m, _ in expected.postings] == [e.strftime("%Y-%m") for e in ends]
    cents = [c for _, c in expected.postings]
    assert all(c > 0 for c in cents)
    # What stays accrued is the last month's fraction of a cent, carried,
    # plus the days since that month ended (none when it ended yesterday).
    since = model.simulate(ends[-1] + DAY, yesterday, {ends[-1] + DAY: wallet["balance"]}).accrued
    assert since == 0 or ends[-1] < yesterday
    assert 0 <= wallet["accrued_interest_micros"] - since < 2 * MICROS
    credits = [e for e in entries(api, "saver") if e["kind"] == "interest"]
    assert sorted((e["amount"], e["counterparty"]) for e in credits) == sorted((c, "interest_expense") for c in cents)
    books = balanced(api)
    assert books["system_accounts"]["interest_expense"] == -sum(cents)
    for end, c in zip(ends, cents):  # each month's interest is valued on its last day
        s = statement(api, "saver", end.strftime("%Y-%m"))
        assert (s["interest_earned"], s["interest_charged"]) == (c, 0)
    # Posted once: another run, and a run for a later day, post nothing twice.
    assert job(api, "post-interest")["changed"] == 0
    assert api.wallet("saver")["balance"] == wallet["balance"]


# Rates ----------------------------------------------------------------------------

def test_a_rate_change_mid_month_applies_from_its_effective_date(api):
    api.verified("saver")
    api.deposit("saver", 2_000_000)
    opened = today()
    change = opened + timedelta(days=15)
    r = set_rates(api, 1_000, 2_400, change)
    assert r.status_code == 200, r.body
    assert r.json_body["effective_date"] == change.isoformat()
    assert api.wallet("saver")["apy_bps"] == 450  # not yet in force
    now = advance(api, 20)
    assert (api.wallet("saver")["apy_bps"], api.wallet("saver")["overdraft_apr_bps"]) == (1_000, 2_400)
    last = now - DAY
    job(api, "accrue-interest", last)
    expected = model.simulate(opened, last, {opened: 2_000_000}, rates=[(change, 1_000, 2_400)])
    assert api.wallet("saver")["accrued_interest_micros"] == expected.accrued
    # Not the same as either rate alone.
    assert expected.accrued != model.simulate(opened, last, {opened: 2_000_000}).accrued


RATE_REFUSALS = [
    ({"apy_bps": 10_001, "overdraft_apr_bps": 0}, "apy_bps"),
    ({"apy_bps": -1, "overdraft_apr_bps": 0}, "apy_bps"),
    ({"apy_bps": 0, "overdraft_apr_bps": 10_001}, "overdraft_apr_bps"),
    ({"apy_bps": 0, "overdraft_apr_bps": -5}, "overdraft_apr_bps"),
    ({"apy_bps": 4.5, "overdraft_apr_bps": 0}, "apy_bps"),
    ({"apy_bps": "450", "overdraft_apr_bps": 0}, "apy_bps"),
    ({"overdraft_apr_bps": 0}, "apy_bps"),
]


def test_rates_are_0_to_10000_bps_from_today_on(api):
    tomorrow = today() + DAY
    for body, param in RATE_REFUSALS:
        r = api.admin("PUT", "/v1/admin/rates", {**body, "effective_date": tomorrow.isoformat()})
        assert r.status_code == 400 and r.json_body["error"]["param"] == param, (body, r.body)
    assert set_rates(api, 0, 0, tomorrow).status_code == 200
    assert set_rates(api, 10_000, 10_000, tomorrow + DAY).status_code == 200
    assert set_rates(api, 450, 1800, today()).status_code == 200  # from today on: no day accrued yet
    for past in (today() - DAY, "2020-01-01"):
        r = set_rates(api, 500, 1800, past)
        assert r.status_code == 400 and r.json_body["error"]["param"] == "effective_date", r.body
    for bad in ("2026-13-01", "tomorrow", "2026-1-1", ""):
        r = set_rates(api, 500, 1800, bad)
        assert r.status_code == 400 and r.json_body["error"]["param"] == "effective_date", (bad, r.body)
    # Only admins set rates.
    api.verified("saver")
    r = api.call("PUT", "/v1/admin/rates", {"apy_bps": 1, "overdraft_apr_bps": 1,
                                            "effective_date": tomorrow.isoformat()}, as_="saver")
    assert r.status_code == 403, r.body


# Overdraft -----------------------------------------------------------------------------

def test_a_balance_crossing_zero_mid_month_earns_then_is_charged(api):
    start_of_next_month(api)
    api.verified("borrower")
    r = api.admin("PUT", "/v1/admin/users/borrower/credit-limit", {"credit_limit": 600_000})
    assert r.status_code == 200 and r.json_body["credit_limit"] == 600_000, r.body
    opened = today()
    api.deposit("borrower", 10_000)  # +$100
    spent = advance(api, 5)
    withdraw(api, "borrower", 510_000)  # -> -$5,000
    repaid = advance(api, 15)
    api.deposit("borrower", 505_000)  # -> +$50
    month_end = interest.month_end(opened.year, opened.month)
    clock_to(api, (month_end + timedelta(days=1)).isoformat() + "T12:00:00Z")
    moves = {opened: 10_000, spent: -510_000, repaid: 505_000}
    job(api, "accrue-interest", month_end)
    accrued_only = model.simulate(opened, month_end, moves)
    assert api.wallet("borrower")["accrued_interest_micros"] == accrued_only.accrued < 0
    job(api, "post-interest", month_end)
    expected = model.simulate(opened, month_end, moves, post_by=month_end)
    # Earned and charged are posted apart, not netted: the statement shows both.
    (_, earned), (_, cents) = expected.postings
    assert earned > 0 > cents
    wallet = api.wallet("borrower")
    assert (wallet["balance"], wallet["accrued_interest_micros"]) == (expected.balance, expected.accrued)
    assert -MICROS < wallet["accrued_interest_micros"] < MICROS
    paid, = [e for e in entries(api, "borrower") if e["kind"] == "interest"]
    assert (paid["amount"], paid["counterparty"]) == (earned, "interest_expense")
    charge, = [e for e in entries(api, "borrower") if e["kind"] == "overdraft_interest"]
    assert (charge["amount"], charge["counterparty"]) == (cents, "interest_income")
    books = balanced(api)
    assert books["system_accounts"]["interest_income"] == -cents
    assert books["system_accounts"]["interest_expense"] <= -earned
    s = statement(api, "borrower", month_end.strftime("%Y-%m"))  # valued on the month's last day
    assert (s["interest_earned"], s["interest_charged"]) == (earned, -cents)
    transfer = api.call("GET", f"/v1/transfers/{charge['transfer_id']}", as_="borrower").json_body
    assert (transfer["kind"], transfer["amount"], transfer["from"], transfer["to"]) == \
        ("overdraft_interest", -cents, "borrower", "interest_income")


def test_overdraft_interest_may_pass_the_credit_line_and_then_blocks_spending(api):
    start_of_next_month(api)
    api.verified("borrower")
    api.verified("friend")
    assert api.admin("PUT", "/v1/admin/users/borrower/credit-limit", {"credit_limit": 10_000}).status_code == 200
    opened = today()
    withdraw(api, "borrower", 10_000)  # exactly at the line
    month_end = interest.month_end(opened.year, opened.month)
    clock_to(api, (month_end + timedelta(days=1)).isoformat() + "T12:00:00Z")
    job(api, "post-interest", month_end)
    expected = model.simulate(opened, month_end, {opened: -10_000}, post_by=month_end)
    wallet = api.wallet("borrower")
    assert wallet["balance"] == expected.balance < -10_000
    assert wallet["spendable"] == wallet["balance"] + 10_000 < 0
    r = api.money("POST", "/v1/transfers", {"to": "friend", "amount": 1, "currency": "USD"}, "borrower", "k1")
    assert (r.status_code, r.json_body["error"]["code"]) == (422, "insufficient_funds"), r.body
    api.deposit("borrower", -expected.balance - 10_000 + 1)  # one cent of room again
    r = api.money("POST", "/v1/transfers", {"to": "friend", "amount": 1, "currency": "USD"}, "borrower", "k2")
    assert r.status_code == 201, r.body
    balanced(api)


# A movement while the job runs --------------------------------------------------------

def test_a_deposit_between_the_scan_and_the_update_counts_from_its_own_day(api, monkeypatch):
    api.verified("saver")
    api.deposit("saver", 100_000)
    opened = today()
    now = advance(api, 10)
    yesterday = now - DAY
    scanned = interest.end_of_day_balances
    landed = []

    def deposit_meanwhile(account, first, last):
        if not landed:
            landed.append(api.deposit("saver", 70_000))  # after the scan read the item, before its update
        return scanned(account, first, last)

    monkeypatch.setattr(interest, "end_of_day_balances", deposit_meanwhile)
    assert job(api, "accrue-interest", yesterday)["changed"] == 1
    assert landed
    monkeypatch.undo()
    wallet = api.wallet("saver")
    assert wallet["balance"] == 170_000
    assert wallet["accrued_interest_micros"] == model.simulate(opened, yesterday, {opened: 100_000}).accrued
    # The next day counts the deposit from the day it landed.
    later = advance(api, 2)
    job(api, "accrue-interest", later - DAY)
    expected = model.simulate(opened, later - DAY, {opened: 100_000, now: 70_000})
    assert api.wallet("saver")["accrued_interest_micros"] == expected.accrued


def test_a_stale_copy_from_the_index_is_read_again_before_it_is_used(api, monkeypatch):
    """Jobs scan gsi3, which may lag the table: a copy that missed
    yesterday's deposit must not accrue yesterday at the old balance."""
    from chalicelib import jobs
    api.verified("saver")
    api.deposit("saver", 100_000)
    opened = today()
    stale = AccountItem.find(api.wallet("saver")["id"])
    deposited = advance(api, 1)
    api.deposit("saver", 70_000)
    now = advance(api, 1)
    monkeypatch.setattr(jobs, "_accounts", lambda segment, total: iter([stale] if segment == 0 else []))
    assert job(api, "accrue-interest", now - DAY, full_check=False)["changed"] == 1
    monkeypatch.undo()
    expected = model.simulate(opened, now - DAY, {opened: 100_000, deposited: 70_000})
    assert api.wallet("saver")["accrued_interest_micros"] == expected.accrued
    assert api.wallet("saver")["accrued_interest_micros"] != model.simulate(opened, now - DAY,
                                                                            {opened: 100_000}).accrued


def test_a_busy_account_is_accrued_however_often_money_moves_today(api, monkeypatch):
    """A movement today, after the item was read, changes no close before
    today: once the item is read consistently, it does not fail the update."""
    api.verified("creator")
    api.deposit("creator", 100_000)
    opened = today()
    now = advance(api, 3)
    scanned = interest.end_of_day_balances
    tips = []

    def a_tip_every_time(account, first, last):
        if len(tips) < 5:
            tips.append(api.deposit("creator", 100))
        return scanned(account, first, last)

    monkeypatch.setattr(interest, "end_of_day_balances", a_tip_every_time)
    assert job(api, "accrue-interest", now - DAY)["changed"] == 1
    monkeypatch.undo()
    assert len(tips) == 2  # the index copy's update lost to the first, the re-read's won over the second
    assert api.wallet("creator")["accrued_interest_micros"] == model.simulate(opened, now - DAY,
                                                                              {opened: 100_000}).accrued


def test_an_account_from_before_movements_were_counted_is_accrued(api):
    api.verified("old")
    api.deposit("old", 100_000)
    opened = today()
    account = AccountItem.find(api.wallet("old")["id"])
    account.update(actions=[AccountItem.movements.remove()])
    now = advance(api, 2)
    assert job(api, "accrue-interest", now - DAY)["changed"] == 1
    assert api.wallet("old")["accrued_interest_micros"] == model.simulate(opened, now - DAY, {opened: 100_000}).accrued


def test_jobs_scan_account_items_only(api):
    """The index the jobs scan holds one item per account, however many
    entries and transfers the table holds."""
    api.verified("saver")
    api.verified("friend")
    for _ in range(3):
        api.deposit("saver", 1_000)
    listed = list(AccountItem.listed.scan())
    assert listed and all(a.sk == "ACCT" for a in listed)
    assert len(listed) == sum(1 for _ in AccountItem.scan(AccountItem.sk == "ACCT"))
    assert {a.id for a in listed if a.kind == "customer"} >= {api.wallet("saver")["id"], api.wallet("friend")["id"]}


def test_a_day_is_accrued_only_once_it_has_ended(api):
    """An as-of of today or later accrues up to yesterday: today's close is
    not known yet, and a deposit later today must count for today."""
    start_of_next_month(api)
    api.verified("saver")
    api.deposit("saver", 100_000)
    opened = today()
    now = advance(api, 3)
    job(api, "accrue-interest", now + timedelta(days=30))
    assert api.wallet("saver")["accrued_interest_micros"] == model.simulate(opened, now - DAY, {opened: 100_000}).accrued
    api.deposit("saver", 900_000)
    advance(api, 1)
    job(api, "accrue-interest", now)
    expected = model.simulate(opened, now, {opened: 100_000, now: 900_000})
    assert api.wallet("saver")["accrued_interest_micros"] == expected.accrued
    # Posting a month that has not ended posts nothing.
    assert job(api, "post-interest", now + timedelta(days=400))["changed"] == 0


# Leap years -----------------------------------------------------------------------------

def test_february_29th_is_a_day_of_interest_and_ends_february(api):
    clock_to(api, "2028-02-27T12:00:00Z")
    api.verified("leaper")
    api.deposit("leaper", 2_190_000)
    opened = today()
    assert opened == date(2028, 2, 27)
    clock_to(api, "2028-03-01T12:00:00Z")
    job(api, "accrue-interest", date(2028, 2, 28))
    two_days = model.simulate(opened, date(2028, 2, 28), {opened: 2_190_000})
    assert api.wallet("leaper")["accrued_interest_micros"] == two_days.accrued
    assert job(api, "post-interest", date(2028, 2, 28))["changed"] == 0  # February has not ended on the 28th
    summary = job(api, "post-interest", date(2028, 2, 29))
    assert summary["changed"] == 1, summary
    expected = model.simulate(opened, date(2028, 2, 29), {opened: 2_190_000}, post_by=date(2028, 2, 29))
    assert expected.accrued != two_days.accrued and expected.postings[0][0] == "2028-02"
    wallet = api.wallet("leaper")
    assert (wallet["balance"], wallet["accrued_interest_micros"]) == (expected.balance, expected.accrued)


def test_a_leap_year_has_366_days_of_interest(api):
    clock_to(api, "2028-01-01T00:30:00Z")
    api.verified("leaper")
    api.deposit("leaper", 1_000_000)
    clock_to(api, "2029-01-01T12:00:00Z")
    job(api, "accrue-interest", date(2028, 12, 31))
    expected = model.simulate(date(2028, 1, 1), date(2028, 12, 31), {date(2028, 1, 1): 1_000_000})
    accrued = api.wallet("leaper")["accrued_interest_micros"]
    assert accrued == expected.accrued
    # 366 days at a rate made for 365: a day's interest more than the APY.
    one_more_day = model.day_interest(1_000_000, 45_000 * MICROS, 450, 1800)
    assert abs(accrued - 45_000 * MICROS - one_more_day) <= MICROS
    job(api, "post-interest", date(2028, 12, 31))
    posted = [e for e in entries(api, "leaper") if e["kind"] == "interest"]
    assert len(posted) == 12


def test_set_rates_answers_a_frozen_record_with_its_history_that_is_what_the_route_sends(api):
    tomorrow = today() + DAY
    first = rates.set_rates(_operator(), 400, 1_500, tomorrow, "test")
    assert (first.effective_date, first.apy_bps, first.overdraft_apr_bps) == (tomorrow, 400, 1_500)
    changed = rates.set_rates(_operator(), 450, 1_800, tomorrow + DAY, "test", pocket_apy_bps={"EUR": 200})
    assert [(h.effective_date, h.apy_bps, h.pocket_apy_bps) for h in changed.history] == [
        (tomorrow, 400, {}), (tomorrow + DAY, 450, {"EUR": 200})]
    assert_frozen(changed, "apy_bps", 0)
    assert_frozen(changed.history[0], "apy_bps", 0)
    # The route setting the same rates again (the same day's change replaced) answers the same JSON.
    r = api.admin("PUT", "/v1/admin/rates", {"apy_bps": 450, "overdraft_apr_bps": 1_800, "reason": "test",
                                            "effective_date": (tomorrow + DAY).isoformat(),
                                            "pocket_apy_bps": {"EUR": 200}})
    assert r.status_code == 200 and r.json_body == changed.as_json(), r.body
    assert r.json_body["history"][0] == {"effective_date": tomorrow.isoformat(), "apy_bps": 400,
                                         "overdraft_apr_bps": 1_500, "pocket_apy_bps": {}}
