"""Underwriting: each rule failing alone gives its reason and only it; the
grade on each side of every boundary; the decision recorded over HTTP,
declined ones too, moving nothing."""
import json
import uuid
from datetime import date, timedelta

import pytest
from pynamodb.attributes import MapAttribute

from chalicelib.db.balances import AccountItem
from chalicelib.db.loans import LoanItem
from chalicelib.finance import loans
from tests.unit.test_loans_life import apply, person, product

TODAY = date(2026, 3, 10)
PRODUCT = loans.Product(10_000, 2_500_000, tuple(range(3, 37)), {"A": 500, "B": 800, "C": 1200, "D": 1800, "E": 2400})


def account(age_days=60, inflow=1_000_000, below_zero=0, balance=5_000, status="active"):
    item = AccountItem.new("acct_x", "customer")
    item.opened_at = (TODAY - timedelta(days=age_days)).isoformat() + "T00:00:00Z"
    item.inflow = MapAttribute(**{"m202602": inflow})
    item.below_zero = MapAttribute(**({"m202601": below_zero} if below_zero else {}))
    item.balance = balance
    item.status = status
    return item


def a_loan(status="active", dpd_max=0):
    return LoanItem("LOANS#u", "LOAN#l", status=status, charged_off_principal=0,
                    installments=json.dumps([{"dpd_max": dpd_max}]))


def decide(**kwargs):
    loans_ = kwargs.pop("loans", [])
    return loans.underwrite(account(**kwargs), loans_, PRODUCT, TODAY)


def codes(decision):
    return [r.code for r in decision.reasons]


def test_a_good_history_is_approved_with_no_reasons():
    decision = decide()
    assert decision.reasons == () and decision.grade == "B" and decision.apr_bps == 800
    assert decision.max_amount == 800_000


@pytest.mark.parametrize("change, code", [
    ({"age_days": 29}, "account_age"),
    ({"status": "frozen"}, "account_frozen"),
    ({"inflow": 99_999}, "inflow"),
    ({"below_zero": 6}, "days_below_zero"),
    ({"loans": [a_loan("active")]}, "loans_outstanding"),
    ({"loans": [a_loan("charged_off")]}, "past_default"),
    ({"loans": [a_loan("paid_off", dpd_max=90)]}, "past_default"),
])
def test_each_rule_failing_alone_names_itself(change, code):
    decision = decide(**change)
    assert codes(decision) == [code]
    assert decision.grade is None and decision.max_amount == 0
    assert all(r.message for r in decision.reasons)


def test_on_the_passing_side_of_each_rule():
    assert decide(age_days=30).reasons == ()
    assert decide(inflow=100_000).reasons == ()
    assert decide(below_zero=5).reasons == ()
    assert decide(below_zero=4, balance=-1).reasons == ()  # today below zero counts as a day
    assert codes(decide(below_zero=5, balance=-1)) == ["days_below_zero"]
    assert decide(loans=[a_loan("paid_off", dpd_max=89)]).reasons == ()


def test_every_failed_rule_is_listed():
    decision = decide(age_days=3, inflow=0, status="frozen")
    assert codes(decision) == ["account_age", "account_frozen", "inflow"]


@pytest.mark.parametrize("inflow, grade", [
    (1_500_000, "A"), (1_499_999, "B"), (900_000, "B"), (899_999, "C"), (600_000, "C"), (599_999, "D"),
    (300_000, "D"), (299_999, "E"), (100_000, "E"),
])
def test_grade_boundaries(inflow, grade):
    decision = decide(inflow=inflow)
    assert decision.grade == grade and decision.apr_bps == PRODUCT.apr_bps_by_grade[grade]
    assert decision.max_amount == min(2_500_000, inflow * loans.GRADE_AMOUNT_PCT[grade] // 100 // 100 * 100)


def test_a_day_below_zero_costs_a_grade():
    assert decide(inflow=1_500_000, below_zero=1).grade == "B"
    assert decide(inflow=100_000, below_zero=1).grade == "E"  # E is the floor


def test_declined_is_recorded_moves_nothing_and_cannot_be_accepted(api):
    product(api)
    person(api, "ola", deposit=50_000)  # too little money in
    before = api.wallet("ola")["balance"]
    r = apply(api, "ola")
    assert r.status_code == 201, r.body
    body = r.json_body
    assert body["status"] == "declined" and body["offer"] is None and body["grade"] is None
    assert [x["code"] for x in body["reasons"]] == ["inflow"]
    again = api.call("GET", f"/v1/loans/applications/{body['id']}", as_="ola")
    assert again.status_code == 200 and again.json_body["status"] == "declined"
    r = api.money("POST", f"/v1/loans/applications/{body['id']}/accept", None, "ola", str(uuid.uuid4()))
    assert r.status_code == 409 and r.json_body["error"]["code"] == "invalid_state"
    assert api.wallet("ola")["balance"] == before
    assert api.call("GET", "/v1/loans", as_="ola").json_body["data"] == []


def test_an_offer_discloses_the_cost_and_lasts_seven_days(api):
    product(api)
    person(api, "pia")
    r = apply(api, "pia", amount=250_000, term=12)
    offer = r.json_body["offer"]
    assert r.json_body["grade"] == "B" and offer["apr_bps"] == 824
    assert offer["installment"] == 21775 and offer["total_interest"] == offer["finance_charge"] == 11297
    assert offer["total_of_payments"] == 261_297 and len(offer["schedule"]) == 12
    assert offer["first_due_date"] == "2026-04-10" and offer["expires_at"].startswith("2026-03-17T15:00")


def test_unverified_may_not_apply_and_bad_terms_are_400(api):
    api.signup("quin")
    r = apply(api, "quin")
    assert r.status_code == 403 and r.json_body["error"]["code"] == "verification_required"
    product(api)
    person(api, "ray")
    r = apply(api, "ray", term=5)
    assert r.status_code == 400 and r.json_body["error"]["param"] == "term_months"
    r = apply(api, "ray", amount=9_999)
    assert r.status_code == 400 and r.json_body["error"]["param"] == "amount"


def test_products_are_audited_and_validated(api):
    product(api)
    audit = api.admin("GET", "/v1/admin/audit").json_body["data"]
    assert audit[0]["action"] == "set_loan_products" and audit[0]["details"]["apr_bps_by_grade"]["B"] == 824
    r = api.admin("PUT", "/v1/admin/loan-products", {"min_amount": 100, "max_amount": 200, "terms": [12],
                                                      "apr_bps_by_grade": {"A": 1}})
    assert r.status_code == 400


def test_days_below_zero_are_counted_by_accrual_from_the_balance_history(api):
    from chalicelib import clock, jobs
    from tests.conftest import TEST_NOW
    product(api)
    clock.pin(TEST_NOW - timedelta(days=60))
    api.verified("sal")
    api.deposit("sal", 1_000_000)
    assert api.admin("PUT", "/v1/admin/users/sal/credit-limit", {"credit_limit": 100_000}).status_code == 200
    r = api.money("POST", "/v1/wallet/withdrawals", {"amount": 1_050_000, "currency": "USD"}, "sal", str(uuid.uuid4()))
    assert r.status_code == 201, r.body
    clock.pin(TEST_NOW)
    jobs.run("accrue-interest")  # through yesterday: every day since closed below zero
    account = AccountItem.find(api.wallet("sal")["id"])
    counted = {k: int(v) for k, v in account.below_zero.as_dict().items()}
    assert counted == {"m202601": 23, "m202602": 28, "m202603": 9}
    r = apply(api, "sal")
    assert r.status_code == 201 and r.json_body["status"] == "declined"
    assert [x["code"] for x in r.json_body["reasons"]] == ["days_below_zero"]
