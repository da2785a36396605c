"""A loan over its whole life, with the test clock: application, accept,
autopay to paid_off; a missed payment, its late fee once, late, caught up;
never paid: default at 90 days, charged off at 120; the books balanced
throughout (reconcile, which also proves each loan's account equals minus
its principal outstanding)."""
import uuid
from datetime import date, timedelta

import pytest

from chalicelib import clock, jobs
from chalicelib.db.balances import AccountItem
from chalicelib.finance import reconcile
from chalicelib.finance.accounts import customer_account_id
from tests.conftest import TEST_NOW

OPENED = TEST_NOW - timedelta(days=60)


def person(api, handle, deposit=1_000_000):
    """A person whose account is 60 days old with `deposit` in since."""
    clock.pin(OPENED)
    user = api.verified(handle)
    if deposit:
        api.deposit(handle, deposit)
    clock.pin(TEST_NOW)
    return user


PRODUCT = {"min_amount": 10_000, "max_amount": 2_500_000, "terms": [3, 6, 12, 24, 36],
           "apr_bps_by_grade": {"A": 500, "B": 824, "C": 1299, "D": 1799, "E": 2499}}


def product(api):
    r = api.admin("PUT", "/v1/admin/loan-products", PRODUCT)
    assert r.status_code == 200, r.body


def apply(api, handle, amount=250_000, term=12, key=None):
    return api.money("POST", "/v1/loans/applications", {"amount": amount, "term_months": term}, handle,
                     key or str(uuid.uuid4()))


def borrow(api, handle, amount=250_000, term=12):
    r = apply(api, handle, amount, term)
    assert r.status_code == 201, r.body
    assert r.json_body["status"] == "approved", r.json_body
    r = api.money("POST", f"/v1/loans/applications/{r.json_body['id']}/accept", None, handle, str(uuid.uuid4()))
    assert r.status_code == 201, r.body
    return r.json_body


def balanced():
    report = reconcile.reconcile()
    assert report["balanced"], report
    return report


def service(day: date):
    clock.pin(clock.now().replace(year=day.year, month=day.month, day=day.day))
    return jobs.run("loan-servicing", day)


def loan(api, handle, loan_id):
    r = api.call("GET", f"/v1/loans/{loan_id}", as_=handle)
    assert r.status_code == 200, r.body
    return r.json_body


def test_accept_disburses_and_autopay_pays_it_off(api):
    product(api)
    person(api, "ann")
    made = borrow(api, "ann")
    assert made["status"] == "active" and made["principal_outstanding"] == 250_000
    assert made["schedule"][0]["installment"] == 21775 and made["schedule"][-1]["installment"] == 21772
    assert api.wallet("ann")["balance"] == 1_250_000
    report = balanced()
    assert report["system_accounts"]["loans_receivable"] == -250_000
    for row in made["schedule"]:
        service(date.fromisoformat(row["due_date"]))
        balanced()
    final = loan(api, "ann", made["id"])
    assert final["status"] == "paid_off" and final["principal_outstanding"] == 0
    assert all(row["paid"] for row in final["schedule"])
    assert api.wallet("ann")["balance"] == 1_250_000 - (250_000 + 11_297)
    report = balanced()
    assert report["system_accounts"].get("loans_receivable", 0) == 0
    assert report["system_accounts"]["interest_income"] == 11_297
