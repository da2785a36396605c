"""Interest over real HTTP, as an operator runs it against `make run`: a
stack of its own (it moves the test clock and sets rates), a saver and a
borrower whose balance goes below zero, a rate change mid-month, the jobs
through the admin routes, and the books against the independent model
(tests/unit/interest_model.py)."""
from datetime import date, datetime, timedelta

import pytest

from tests.e2e.conftest import Http
from tests.unit import interest_model as model

DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def http(own_servers):
    client = Http(own_servers["api"])
    yield client
    client.http.close()


def clock_to(http, when: str) -> date:
    r = http.admin("POST", "/v1/admin/test-clock", {"now": when})
    assert r.status_code == 200, r.text
    return datetime.fromisoformat(r.json()["now"].replace("Z", "+00:00")).date()


def advance(http, days: int) -> date:
    r = http.admin("POST", "/v1/admin/test-clock", {"advance_days": days})
    assert r.status_code == 200, r.text
    return datetime.fromisoformat(r.json()["now"].replace("Z", "+00:00")).date()


def first_of_next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def job(http, name, as_of=None) -> dict:
    r = http.admin("POST", f"/v1/admin/jobs/{name}", {"as_of": as_of.isoformat()} if as_of else {})
    assert r.status_code == 200, r.text
    return r.json()


def wallet(http, handle) -> dict:
    r = http.call("GET", "/v1/wallet", as_=handle)
    assert r.status_code == 200, r.text
    return r.json()


def interest_entries(http, handle) -> list[tuple[str, int]]:
    r = http.call("GET", "/v1/wallet/transactions?limit=100", as_=handle)
    assert r.status_code == 200, r.text
    return sorted((e["kind"], e["amount"]) for e in r.json()["data"] if "interest" in e["kind"])


def test_a_month_of_interest_earned_and_charged_over_http(http):
    now = datetime.fromisoformat(http.admin("POST", "/v1/admin/test-clock", {"advance_days": 0})
                                 .json()["now"].replace("Z", "+00:00")).date()
    opened = clock_to(http, first_of_next_month(now).isoformat() + "T00:30:00Z")
    saver, borrower = http.verified(), http.verified()
    changed = opened + timedelta(days=14)
    r = http.admin("PUT", "/v1/admin/rates", {"apy_bps": 500, "overdraft_apr_bps": 2_000,
                                              "effective_date": changed.isoformat()})
    assert r.status_code == 200, r.text
    assert http.admin("PUT", f"/v1/admin/users/{borrower}/credit-limit", {"credit_limit": 600_000}).status_code == 200
    for handle, cents in ((saver, 1_000_000), (borrower, 100_000)):
        assert http.money("/v1/wallet/deposits", {"amount": cents, "currency": "USD"}, handle).status_code == 201
    spent = advance(http, 10)
    r = http.money("/v1/wallet/withdrawals", {"amount": 400_000, "currency": "USD"}, borrower)
    assert r.status_code == 201, r.text
    month_end = first_of_next_month(opened) - DAY
    clock_to(http, (month_end + DAY).isoformat() + "T06:00:00Z")

    accrued = job(http, "accrue-interest")
    assert accrued["as_of"] == month_end.isoformat() and accrued["changed"] >= 2, accrued
    assert job(http, "post-interest")["changed"] >= 2
    rates = [(changed, 500, 2_000)]
    books = {saver: model.simulate(opened, month_end, {opened: 1_000_000}, rates, post_by=month_end),
             borrower: model.simulate(opened, month_end, {opened: 100_000, spent: -400_000}, rates,
                                      post_by=month_end)}
    assert [c > 0 for _, c in books[borrower].postings] == [True, False]  # earned 10 days, then charged
    for handle, book in books.items():
        w = wallet(http, handle)
        assert (w["balance"], w["accrued_interest_micros"]) == (book.balance, book.accrued), handle
        assert (w["apy_bps"], w["overdraft_apr_bps"]) == (500, 2_000)
        expected = sorted(("interest" if c > 0 else "overdraft_interest", c) for _, c in book.postings)
        assert interest_entries(http, handle) == expected, handle
        r = http.call("GET", f"/v1/wallet/statements/{month_end.strftime('%Y-%m')}", as_=handle)  # valued then
        assert r.status_code == 200, r.text
        s = r.json()
        assert (s["interest_earned"], s["interest_charged"]) == \
            (sum(c for _, c in book.postings if c > 0), -sum(c for _, c in book.postings if c < 0)), handle

    # Jobs run again change nothing; the books balance after each.
    assert job(http, "post-interest")["changed"] == 0
    assert job(http, "accrue-interest", month_end)["changed"] == 0
    assert wallet(http, borrower)["balance"] == books[borrower].balance
    check = http.admin("GET", "/v1/admin/ledger/check").json()
    assert (check["balanced"], check["total"]) == (True, 0), check
    reconciled = job(http, "reconcile")
    assert (reconciled["balanced"], reconciled["total"], reconciled["mismatch_count"]) == (True, 0, 0), reconciled
    assert reconciled["accounts"] == check["accounts"]

    # A credit line from the month's money in; none while the balance is negative.
    advance(http, 4)
    r = http.call("POST", "/v1/wallet/credit-line", {"requested_limit": 100_000}, as_=saver)
    assert r.status_code == 200 and r.json()["credit_limit"] == 100_000, r.text
    r = http.call("POST", "/v1/wallet/credit-line", {"requested_limit": 700_000}, as_=borrower)
    assert r.status_code == 422 and "the balance is negative" in r.json()["error"]["reasons"], r.text
