"""A loan over its whole life, with the test clock: application, accept,
autopay to paid_off; a missed payment, its late fee once, late, caught up;
never paid: default at 90 days, charged off at 120; the books balanced
throughout (reconcile, which also proves each loan's account equals minus
its principal outstanding)."""
import uuid
from datetime import date, timedelta


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
    assert report["ledger_accounts"]["receivable"] == -250_000
    for row in made["schedule"]:
        service(date.fromisoformat(row["due_date"]))
        balanced()
    final = loan(api, "ann", made["id"])
    assert final["status"] == "paid_off" and final["principal_outstanding"] == 0
    assert all(row["paid"] for row in final["schedule"])
    assert api.wallet("ann")["balance"] == 1_250_000 - (250_000 + 11_297)
    report = balanced()
    assert report["ledger_accounts"].get("receivable", 0) == 0
    assert report["system_accounts"]["interest_income"] == 11_297


def empty_wallet(api, handle):
    balance = api.wallet(handle)["balance"]
    r = api.money("POST", "/v1/wallet/withdrawals", {"amount": balance, "currency": "USD"}, handle, str(uuid.uuid4()))
    assert r.status_code == 201, r.body


def pay(api, handle, loan_id, amount, key=None):
    return api.money("POST", f"/v1/loans/{loan_id}/payments", {"amount": amount, "currency": "USD"}, handle,
                     key or str(uuid.uuid4()))


def test_missed_payment_late_fee_once_late_then_caught_up(api):
    product(api)
    person(api, "bea")
    made = borrow(api, "bea")
    empty_wallet(api, "bea")
    first_due = date.fromisoformat(made["first_due_date"] if "first_due_date" in made else made["schedule"][0]["due_date"])
    service(first_due)  # autopay finds nothing to take
    now = loan(api, "bea", made["id"])
    assert now["status"] == "active" and now["days_past_due"] == 0
    assert now["interest_due"] == 1717 and now["next_due_amount"] == 21775
    service(first_due + timedelta(days=1))
    now = loan(api, "bea", made["id"])
    assert now["status"] == "late" and now["days_past_due"] == 1 and now["fees_due"] == 0
    service(first_due + timedelta(days=9))
    assert loan(api, "bea", made["id"])["fees_due"] == 0
    service(first_due + timedelta(days=10))
    assert loan(api, "bea", made["id"])["fees_due"] == 1500
    service(first_due + timedelta(days=10))  # the same day again: nothing more
    service(first_due + timedelta(days=20))  # and later days: the fee is once per installment
    now = loan(api, "bea", made["id"])
    assert now["fees_due"] == 1500 and now["status"] == "late" and now["days_past_due"] == 20
    balanced()
    api.deposit("bea", 100_000)
    r = pay(api, "bea", made["id"], 1500 + 21775)
    assert r.status_code == 201, r.body
    assert r.json_body["allocation"] == {"fees": 1500, "interest": 1717, "principal": 21775 - 1717}
    now = loan(api, "bea", made["id"])
    assert now["status"] == "active" and now["days_past_due"] == 0 and now["fees_due"] == 0
    assert now["schedule"][0]["paid"] and not now["schedule"][1]["paid"]
    assert now["principal_outstanding"] == 250_000 - (21775 - 1717)
    report = balanced()
    assert report["system_accounts"]["fees"] >= 1500


def test_never_paid_default_at_90_charged_off_at_120(api):
    product(api)
    person(api, "cy")
    made = borrow(api, "cy")
    empty_wallet(api, "cy")
    first_due = date.fromisoformat(made["schedule"][0]["due_date"])
    service(first_due + timedelta(days=89))
    assert loan(api, "cy", made["id"])["status"] == "late"
    balanced()
    service(first_due + timedelta(days=90))  # one run catches up every missed day
    now = loan(api, "cy", made["id"])
    assert now["status"] == "default" and now["days_past_due"] == 90
    assert now["fees_due"] == 3 * 1500  # installments 1, 2 and 3 each ten days late
    balanced()
    service(first_due + timedelta(days=119))
    assert loan(api, "cy", made["id"])["status"] == "default"
    service(first_due + timedelta(days=120))
    now = loan(api, "cy", made["id"])
    assert now["status"] == "charged_off" and now["principal_outstanding"] == 0
    assert now["charged_off_principal"] == 250_000
    report = balanced()
    assert report["system_accounts"]["loan_losses"] == -250_000
    assert report["ledger_accounts"].get("receivable", 0) == 0
    assert jobs.run("loan-servicing", first_due + timedelta(days=121)).processed == 0  # out of the index
    r = pay(api, "cy", made["id"], 100)
    assert r.status_code == 409 and r.json_body["error"]["code"] == "invalid_state"
    # A later application names the default.
    r = apply(api, "cy")
    assert r.status_code == 201 and r.json_body["status"] == "declined"
    assert "past_default" in [reason["code"] for reason in r.json_body["reasons"]]


def test_loan_money_in_the_wallet_entries_and_statement_and_not_money_in(api):
    product(api)
    person(api, "dan")
    made = borrow(api, "dan")
    r = pay(api, "dan", made["id"], 12_000)
    assert r.status_code == 201, r.body
    entries = api.call("GET", "/v1/wallet/transactions", as_="dan").json_body["data"]
    kinds = [(e["kind"], e["amount"]) for e in entries]
    assert ("loan_disbursement", 250_000) in kinds and ("loan_payment", -12_000) in kinds
    statement = api.call("GET", "/v1/wallet/statements/2026-03", as_="dan").json_body
    assert {"loan_disbursement", "loan_payment"} <= {e["kind"] for e in statement["entries"]}
    assert statement["closing_balance"] == api.wallet("dan")["balance"]
    # A loan is not money in: the disbursement does not raise the inflow underwriting reads.
    account = AccountItem.find(customer_account_id(api.call("GET", "/v1/me", as_="dan").json_body["id"]))
    assert sum(int(v) for v in account.inflow.as_dict().values()) == 1_000_000
    listed = api.call("GET", "/v1/loans", as_="dan").json_body["data"]
    assert [x["id"] for x in listed] == [made["id"]]
    api.verified("eve")
    r = api.call("GET", f"/v1/loans/{made['id']}", as_="eve")
    assert r.status_code == 404 and r.json_body["error"]["code"] == "not_found"
    balanced()
