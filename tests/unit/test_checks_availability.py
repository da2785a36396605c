"""When deposited check money becomes available: business days (weekends,
the Federal Reserve's holidays, Sunday ones observed on Monday), the $275 / $6,725 tiers, new
accounts, and the daily release job, run twice."""
from datetime import date, timedelta

import pytest

from chalicelib import clock
from chalicelib.finance import business_days, reconcile
from chalicelib.finance.check_deposits import schedule
from tests.conftest import TEST_NOW
from tests.unit.checks_world import deposit, deposit_body, people

D = date.fromisoformat


@pytest.mark.parametrize("day, business", [
    ("2026-03-13", True),    # a Friday
    ("2026-03-14", False),   # Saturday
    ("2026-03-15", False),   # Sunday
    ("2026-11-26", False),   # Thanksgiving
    ("2026-11-27", True),    # the day after is a business day
    ("2026-12-25", False),   # Christmas on a Friday
    ("2027-07-04", False),   # Independence Day on a Sunday...
    ("2027-07-05", False),   # ...observed on the Monday
    ("2026-07-03", True),    # July 4 2026 is a Saturday: the Fed stays open on Friday the 3rd
    ("2027-12-24", True),    # Christmas 2027 is a Saturday: Friday the 24th is a banking day
    ("2027-12-31", True),    # so is New Year's Eve, before a Saturday New Year's Day
    ("2027-01-18", False),   # Martin Luther King Jr. Day
])
def test_business_days(day, business):
    assert business_days.is_business_day(D(day)) is business


@pytest.mark.parametrize("amount, earlier, on, new, expected", [
    # A Friday deposit: the first $275 on Monday, the rest on Tuesday.
    (50_000, 0, "2026-03-13", False, [("2026-03-16", 27_500), ("2026-03-17", 22_500)]),
    (10_000, 0, "2026-03-13", False, [("2026-03-16", 10_000)]),
    # Made on a Saturday it counts for Monday.
    (50_000, 0, "2026-03-14", False, [("2026-03-17", 27_500), ("2026-03-18", 22_500)]),
    # The day before Thanksgiving: Friday, then Monday.
    (50_000, 0, "2026-11-25", False, [("2026-11-27", 27_500), ("2026-11-30", 22_500)]),
    # On Thanksgiving itself: it counts for Friday.
    (50_000, 0, "2026-11-26", False, [("2026-11-30", 27_500), ("2026-12-01", 22_500)]),
    # Christmas Eve, Christmas on a Friday: Monday and Tuesday.
    (50_000, 0, "2026-12-24", False, [("2026-12-28", 27_500), ("2026-12-29", 22_500)]),
    # Friday 2 July 2027: the weekend and July 4 observed on Monday the 5th.
    (50_000, 0, "2027-07-02", False, [("2027-07-06", 27_500), ("2027-07-07", 22_500)]),
    # The day's second deposit: its $275 were used by the first.
    (10_000, 30_000, "2026-03-16", False, [("2026-03-18", 10_000)]),
    (10_000, 20_000, "2026-03-16", False, [("2026-03-17", 7_500), ("2026-03-18", 2_500)]),
    # $10,000 in a day (two $5,000 checks): the part above $6,725 on the 7th business day.
    (500_000, 0, "2026-03-16", False, [("2026-03-17", 27_500), ("2026-03-18", 472_500)]),
    (500_000, 500_000, "2026-03-16", False, [("2026-03-18", 172_500), ("2026-03-25", 327_500)]),
    # A new account: all of it on the 7th business day (across Thanksgiving here).
    (50_000, 0, "2026-03-16", True, [("2026-03-25", 50_000)]),
    (50_000, 0, "2026-11-23", True, [("2026-12-03", 50_000)]),
])
def test_the_schedule(amount, earlier, on, new, expected):
    assert schedule(amount, earlier, D(on), new) == [(D(day), cents) for day, cents in expected]


@pytest.fixture
def bank(api):
    people(api, "alice")
    api.verified("newbie")  # opened today, TEST_NOW (Tuesday 10 March 2026)
    yield api
    report = reconcile.reconcile()
    assert report["balanced"] and report["total"] == 0, report


def run_job(api, as_of):
    r = api.admin("POST", "/v1/admin/jobs/release-deposit-holds", {"as_of": as_of})
    assert r.status_code == 200, r.body
    return r.json_body


def test_the_job_releases_what_came_due_once(bank):
    d = deposit(bank, "alice", deposit_body(50_000)).json_body
    assert d["holds"] == [{"amount": 27_500, "available_on": "2026-03-11"},
                          {"amount": 22_500, "available_on": "2026-03-12"}]
    assert run_job(bank, "2026-03-10")["changed"] == 0
    clock.pin(TEST_NOW + timedelta(days=1))
    assert run_job(bank, "2026-03-11")["changed"] == 1
    assert run_job(bank, "2026-03-11")["changed"] == 0  # again: nothing twice
    w = bank.wallet("alice")
    assert (w["balance"], w["held"], w["available"]) == (50_000, 22_500, 27_500)
    assert bank.call("GET", f"/v1/check-deposits/{d['id']}", as_="alice").json_body["status"] == "pending"
    clock.pin(TEST_NOW + timedelta(days=2))
    summary = run_job(bank, "2026-03-12")
    assert (summary["job"], summary["changed"]) == ("release-deposit-holds", 1)
    assert run_job(bank, "2026-03-12")["changed"] == 0
    w = bank.wallet("alice")
    assert (w["balance"], w["held"], w["available"], w["spendable"]) == (50_000, 0, 50_000, 50_000)
    assert bank.call("GET", f"/v1/check-deposits/{d['id']}", as_="alice").json_body["status"] == "available"


def test_a_new_accounts_deposit_waits_for_the_7th_business_day(bank):
    d = deposit(bank, "newbie", deposit_body(50_000)).json_body
    assert d["holds"] == [{"amount": 50_000, "available_on": "2026-03-19"}]
    clock.pin(TEST_NOW + timedelta(days=8))
    assert run_job(bank, "2026-03-18")["changed"] == 0
    assert run_job(bank, "2026-03-19")["changed"] == 1
    assert bank.wallet("newbie")["available"] == 50_000


def test_held_money_is_not_money_in_until_released(bank):
    from chalicelib.db.balances import AccountItem
    from tests.unit.checks_world import account_of
    deposit(bank, "alice", deposit_body(50_000))
    account = account_of(bank, "alice")
    assert not dict(account.inflow or {}).get("m202603") and int(account.held_credit) == 50_000
    clock.pin(TEST_NOW + timedelta(days=2))
    run_job(bank, "2026-03-12")
    account = AccountItem.find(account.id)
    assert int(account.inflow["m202603"]) == 50_000 and int(account.held_credit) == 0
