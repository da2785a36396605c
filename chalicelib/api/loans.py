"""Routes of lending (API.md, Loans): applications, loans, payments, payoff,
and the operator's product."""
from datetime import date

from chalice import Blueprint

from chalicelib import errors, http, lazy
from chalicelib.finance import loans
from chalicelib.identity.users import authenticate

bp = Blueprint(__name__)
# The request models, and pydantic with them, load on the first request that needs one.
inputs = lazy.module("chalicelib.api.inputs.loans")
route = http.routes(bp, authenticate, inputs)


def _moved(result: tuple, status: int = 201) -> http.Reply:
    body, replayed = result
    return http.Reply(body, status, {"Idempotent-Replayed": "true"} if replayed else {})


@route("/v1/loans/applications", methods=["POST"], body="ApplicationBody", idempotent=True, status=201)
def apply_for_loan(req):
    """Apply for a loan; the decision comes at once.

    An approved application carries an offer that expires.
    """
    return _moved(loans.apply(req.principal, req.data.amount, req.data.term_months, req.idempotency_key))


@route("/v1/loans/applications/{application_id}")
def loan_application(req, application_id):
    """One of the caller's loan applications and its offer."""
    return loans.get_application(req.principal, application_id)


@route("/v1/loans/applications/{application_id}/accept", methods=["POST"], idempotent=True, status=201)
def accept_loan_offer(req, application_id):
    """Accept an approved offer; the principal is paid into the wallet."""
    return _moved(loans.accept(req.principal, application_id, req.idempotency_key))


@route("/v1/loans")
def list_loans(req):
    """The caller's loans, newest first."""
    return {"data": loans.list_loans(req.principal), "next_cursor": None}


@route("/v1/loans/{loan_id}")
def get_loan(req, loan_id):
    """One of the caller's loans, with its schedule."""
    return loans.get_loan(req.principal, loan_id)


@route("/v1/loans/{loan_id}/payments", methods=["POST"], body="MoneyBody", idempotent=True, status=201)
def pay_loan(req, loan_id):
    """Pay towards a loan from the wallet.

    Applied to fees, then interest, then principal.
    """
    return _moved(loans.pay(req.principal, loan_id, req.data.money(), req.idempotency_key))


@route("/v1/loans/{loan_id}/payoff", query="PayoffQuery")
def loan_payoff(req, loan_id):
    """What paying a loan off today costs."""
    on = None
    if req.params.date:
        try:
            on = date.fromisoformat(req.params.date)
        except ValueError:
            raise errors.InvalidRequest("date is YYYY-MM-DD.", param="date") from None
    return loans.payoff_quote(req.principal, loan_id, on)


@route("/v1/admin/loan-products", methods=["PUT"], admin=True, body="ProductBody")
def set_loan_products(req):
    """Set what may be borrowed: amounts, terms, rates by grade."""
    return loans.set_product(req.principal, req.data.model_dump())
