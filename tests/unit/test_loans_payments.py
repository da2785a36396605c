"""Loan payments: partial, ahead (the schedule shortens), above the payoff
(refused), the payoff quote equal to what closes the loan that day, the
Idempotency-Key, races (two accepts, two payments with one key, a payment
racing the servicing job), and the DynamoDB requests of one payment."""
import uuid
from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from chalicelib import clock, jobs
from chalicelib.finance import amortization, loans
from chalicelib.finance.money import Money
from chalicelib.identity.users import authenticate
from tests.unit.test_loans_life import apply, balanced, borrow, loan, pay, person, product, service
from tests.unit.test_request_counts import calls  # noqa: F401 (the fixture)


def setup(api, handle):
    product(api)
    person(api, handle)
    return borrow(api, handle)


def test_partial_payment_pays_principal_and_covers_no_installment(api):
    made = setup(api, "dee")
    r = pay(api, "dee", made["id"], 10_000)
    assert r.status_code == 201, r.body
    assert r.json_body["allocation"] == {"fees": 0, "interest": 0, "principal": 10_000}
    assert r.json_body["amount"] == 10_000 and r.json_body["transfer_id"].startswith("tr_")
    now = loan(api, "dee", made["id"])
    assert now["principal_outstanding"] == 240_000 and now["status"] == "active"
    # Paying ahead does not skip the next installment; it shortens the schedule.
    assert now["next_due_date"] == made["schedule"][0]["due_date"] and now["next_due_amount"] == 21775
    assert len(now["schedule"]) < len(made["schedule"]) or now["schedule"][-1]["installment"] < 21772
    balanced()


def test_prepayment_shortens_the_schedule(api):
    made = setup(api, "eve")
    r = pay(api, "eve", made["id"], 100_000)
    assert r.status_code == 201, r.body
    now = loan(api, "eve", made["id"])
    expected = amortization.schedule(150_000, 824, 12, date.fromisoformat(made["disbursed_on"]), installment=21775)
    assert len(now["schedule"]) == len(expected) < 12
    assert [row["installment"] for row in now["schedule"]] == [row.installment for row in expected]
    for row in now["schedule"]:
        service(date.fromisoformat(row["due_date"]))
    final = loan(api, "eve", made["id"])
    assert final["status"] == "paid_off"
    balanced()


def test_above_the_payoff_is_refused_and_moves_nothing(api):
    made = setup(api, "fay")
    quote = api.call("GET", f"/v1/loans/{made['id']}/payoff", as_="fay").json_body
    before = api.wallet("fay")["balance"]
    r = pay(api, "fay", made["id"], quote["payoff_amount"] + 1)
    assert r.status_code == 400 and r.json_body["error"]["code"] == "invalid_request"
    assert r.json_body["error"]["param"] == "amount"
    assert api.wallet("fay")["balance"] == before
    assert loan(api, "fay", made["id"])["principal_outstanding"] == 250_000


def test_payoff_quote_is_what_closes_the_loan_that_day(api):
    made = setup(api, "gus")
    first_due = date.fromisoformat(made["schedule"][0]["due_date"])
    service(first_due)  # autopay pays installment 1
    day = first_due + timedelta(days=17)
    clock.pin(clock.now().replace(year=day.year, month=day.month, day=day.day))
    r = api.call("GET", f"/v1/loans/{made['id']}/payoff?date={day.isoformat()}", as_="gus")
    assert r.status_code == 200, r.body
    quote = r.json_body
    outstanding = 250_000 - (21775 - 1717)
    assert quote["principal"] == outstanding and quote["fees"] == 0 and quote["good_through"] == day.isoformat()
    assert quote["interest"] == amortization.accrued_interest(outstanding, 824, 17)
    assert quote["per_diem"] == amortization.accrued_interest(outstanding, 824, 1)
    assert quote["payoff_amount"] == outstanding + quote["interest"]
    r = pay(api, "gus", made["id"], quote["payoff_amount"])
    assert r.status_code == 201, r.body
    assert r.json_body["allocation"]["interest"] == quote["interest"]
    assert r.json_body["allocation"]["principal"] == outstanding
    final = loan(api, "gus", made["id"])
    assert final["status"] == "paid_off" and final["principal_outstanding"] == 0 and final["interest_due"] == 0
    assert jobs.run("loan-servicing", day + timedelta(days=40)).processed == 0
    balanced()


def test_same_key_replays_and_a_different_body_is_refused(api):
    made = setup(api, "hal")
    key = str(uuid.uuid4())
    first = pay(api, "hal", made["id"], 5_000, key)
    again = pay(api, "hal", made["id"], 5_000, key)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json_body == first.json_body
    other = pay(api, "hal", made["id"], 6_000, key)
    assert other.status_code == 409 and other.json_body["error"]["code"] == "idempotency_key_reused"
    assert loan(api, "hal", made["id"])["principal_outstanding"] == 245_000
    r = api.money("POST", f"/v1/loans/{made['id']}/payments", {"amount": 100, "currency": "USD"}, "hal", "")
    assert r.status_code == 400


def test_accepting_twice_or_after_expiry_moves_nothing(api):
    product(api)
    person(api, "ida", deposit=2_000_000)
    application = apply(api, "ida").json_body
    path = f"/v1/loans/applications/{application['id']}/accept"
    key = str(uuid.uuid4())
    assert api.money("POST", path, None, "ida", key).status_code == 201
    replay = api.money("POST", path, None, "ida", key)
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true"
    r = api.money("POST", path, None, "ida", str(uuid.uuid4()))
    assert r.status_code == 409 and r.json_body["error"]["code"] == "invalid_state"
    assert api.wallet("ida")["balance"] == 2_000_000 + 250_000
    # Another person, another application: expired after 7 days.
    person(api, "jo", deposit=2_000_000)
    late = apply(api, "jo").json_body
    clock.pin(clock.now() + timedelta(days=7, seconds=1))
    r = api.money("POST", f"/v1/loans/applications/{late['id']}/accept", None, "jo", str(uuid.uuid4()))
    assert r.status_code == 409 and r.json_body["error"]["code"] == "invalid_state"
    assert api.wallet("jo")["balance"] == 2_000_000
    balanced()


def test_the_services_answer_frozen_records_that_are_what_the_routes_answer(api):
    made = setup(api, "una")
    principal = principal_of(api, "una")
    record = loans.get_loan(principal, made["id"])
    with pytest.raises(ValidationError):
        record.status = "paid_off"
    with pytest.raises(ValidationError):
        record.schedule[0].paid = True
    assert record.as_json() == loan(api, "una", made["id"])
    key = str(uuid.uuid4())
    paid, replayed = loans.pay(principal, made["id"], Money(5_000), key)
    assert replayed is False
    with pytest.raises(ValidationError):
        paid.amount = 1
    again = pay(api, "una", made["id"], 5_000, key)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json_body == paid.as_json()
    assert loans.payoff_quote(principal, made["id"], None).as_json() == \
        api.call("GET", f"/v1/loans/{made['id']}/payoff", as_="una").json_body
    declined = apply(api, "una").json_body  # one loan at a time: a decision with its reasons
    stored = loans.get_application(principal, declined["id"])
    assert stored.as_json() == declined and stored.reasons[0].code == "loans_outstanding"
    with pytest.raises(ValidationError):
        stored.reasons[0].code = "inflow"


def principal_of(api, handle):
    return authenticate(api.tokens[handle])


def interleave(monkeypatch, name, competitor):
    """Run `competitor` to its end right after the first read `loans.<name>`
    makes, before the call that read it writes: the worst interleaving of
    two writers, made deterministic (moto is not a concurrent server)."""
    real = getattr(loans, name)
    fired = []

    def read_then_compete(*args):
        item = real(*args)
        if not fired:
            fired.append(True)
            competitor()
        return item

    monkeypatch.setattr(loans, name, read_then_compete)


def test_two_accepts_race_one_disbursement(api, monkeypatch):
    product(api)
    person(api, "kim", deposit=2_000_000)
    application = apply(api, "kim").json_body
    principal = principal_of(api, "kim")
    won = []
    interleave(monkeypatch, "_application",
               lambda: won.append(loans.accept(principal, application["id"], str(uuid.uuid4()))))
    r = api.money("POST", f"/v1/loans/applications/{application['id']}/accept", None, "kim", str(uuid.uuid4()))
    assert won and won[0][0].status == "active"
    assert r.status_code == 409 and r.json_body["error"]["code"] == "invalid_state"
    assert api.wallet("kim")["balance"] == 2_250_000
    balanced()


def test_two_payments_with_one_key_move_money_once(api, monkeypatch):
    made = setup(api, "lou")
    key = str(uuid.uuid4())
    principal = principal_of(api, "lou")
    first = []
    interleave(monkeypatch, "_loan", lambda: first.append(loans.pay(principal, made["id"], Money(7_000), key)))
    r = pay(api, "lou", made["id"], 7_000, key)
    assert r.status_code == 201 and r.headers.get("Idempotent-Replayed") == "true"
    assert (first[0][0].as_json(), first[0][1]) == (r.json_body, False)
    assert loan(api, "lou", made["id"])["principal_outstanding"] == 243_000
    assert api.wallet("lou")["balance"] == 1_250_000 - 7_000
    balanced()


def test_a_payment_racing_the_servicing_job_allocates_once(api, monkeypatch):
    made = setup(api, "max")
    first_due = date.fromisoformat(made["schedule"][0]["due_date"])
    clock.pin(clock.now().replace(year=first_due.year, month=first_due.month, day=first_due.day))
    ran = []
    interleave(monkeypatch, "_loan", lambda: ran.append(jobs.run("loan-servicing", first_due)))
    r = pay(api, "max", made["id"], 30_000)
    assert r.status_code == 201, r.body
    assert ran[0].changed == 1  # autopay took installment 1 while the payment had the loan in hand
    # The payment was allocated again on the loan as autopay left it: no interest left to pay.
    assert r.json_body["allocation"] == {"fees": 0, "interest": 0, "principal": 30_000}
    now = loan(api, "max", made["id"])
    assert now["interest_due"] == 0 and now["schedule"][0]["paid"]
    assert now["principal_outstanding"] == 250_000 - (21775 - 1717) - 30_000
    assert api.wallet("max")["balance"] == 1_250_000 - 21775 - 30_000
    balanced()


def test_a_payment_is_one_transaction_and_one_read(api, calls):  # noqa: F811 - the imported fixture
    made = setup(api, "ned")
    api.call("GET", "/v1/wallet", as_="ned")  # warm the token path as other counts do
    calls.reset()
    r = pay(api, "ned", made["id"], 12_345)
    assert r.status_code == 201, r.body
    assert calls.hook["TransactWriteItems"] == 1
    reads = calls.reads
    # The caller's token state (every route reads it) + the loan: one read of its own.
    assert reads - 1 <= 1, calls.hook
    assert calls.total == 1 + reads
