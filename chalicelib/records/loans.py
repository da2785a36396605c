"""Answers about lending: products, applications and offers, loans,
payments and payoff quotes."""
from datetime import date
from enum import Enum

from chalicelib.records.common import Answer, Count, Id, Page, Time


class LoanApplicationStatus(str, Enum):
    approved = "approved"
    declined = "declined"
    accepted = "accepted"


class LoanStatus(str, Enum):
    active = "active"
    late = "late"
    default = "default"
    paid_off = "paid_off"
    charged_off = "charged_off"


class LoanPaymentSource(str, Enum):
    payment = "payment"
    autopay = "autopay"


class LoanRow(Answer):
    """An installment of the schedule.

    Attributes:
      n: its number, from 1.
      due_date: its day.
      installment: minor units due.
      principal: of which principal.
      interest: of which interest.
      paid: whether it is paid.
    """
    n: int = Count
    due_date: date
    installment: int
    principal: int
    interest: int
    paid: bool


class LoanOffer(Answer):
    """The terms offered.

    Attributes:
      apr_bps: the rate, basis points a year.
      amount: the principal.
      term_months: the term.
      installment: the monthly payment.
      schedule: every installment.
      total_interest: interest over the term.
      finance_charge: the cost of the credit.
      total_of_payments: what the borrower pays in all.
      first_due_date: the first installment's day.
      expires_at: when the offer lapses.
    """
    apr_bps: int = Count
    amount: int
    term_months: int = Count
    installment: int
    schedule: list[LoanRow]
    total_interest: int
    finance_charge: int
    total_of_payments: int
    first_due_date: date
    expires_at: Time


class LoanDecisionReason(Answer):
    """Attributes:
      code: the reason's code.
      message: for people.
    """
    code: str
    message: str


class LoanApplication(Answer):
    """A decided application.

    Attributes:
      id: the application id.
      status: approved, declined or accepted.
      grade: the credit grade, if approved.
      amount: the principal asked for (the offer may be less).
      term_months: the term asked for.
      offer: the offer, if approved.
      reasons: why, if declined.
      loan_id: the loan, once the offer is accepted.
      created_at: when it was decided.
    """
    id: str = Id
    status: LoanApplicationStatus
    grade: str | None
    amount: int
    term_months: int = Count
    offer: LoanOffer | None
    reasons: list[LoanDecisionReason]
    loan_id: str | None
    created_at: Time


class Loan(Answer):
    """A loan.

    Attributes:
      id: the loan id.
      status: active, late, default, paid_off or charged_off.
      principal: borrowed.
      apr_bps: the rate.
      term_months: the term.
      installment: the level monthly payment.
      principal_outstanding: still owed.
      interest_due: interest due now.
      fees_due: late fees due now.
      next_due_date: the next installment's day, if any.
      next_due_amount: what is due then.
      days_past_due: days late.
      charged_off_principal: the principal written off, if it was charged off.
      schedule: every installment.
      disbursed_on: the day it was disbursed.
      created_at: when it was disbursed.
    """
    id: str = Id
    status: LoanStatus
    principal: int
    apr_bps: int = Count
    term_months: int = Count
    installment: int
    principal_outstanding: int
    interest_due: int
    fees_due: int
    next_due_date: date | None
    next_due_amount: int
    days_past_due: int = Count
    charged_off_principal: int = Count
    schedule: list[LoanRow]
    disbursed_on: date
    created_at: Time


class LoanAllocation(Answer):
    """Attributes:
      fees: paid towards fees.
      interest: paid towards interest.
      principal: paid towards principal.
    """
    fees: int
    interest: int
    principal: int


class LoanPayment(Answer):
    """A loan payment.

    Attributes:
      id: the payment id.
      loan_id: the loan paid.
      amount: minor units paid.
      allocation: how it was applied.
      transfer_id: the transfer that moved it.
      source: payment (the borrower's) or autopay (the servicing job's, on a due date).
      created_at: when it was made.
    """
    id: str = Id
    loan_id: str = Id
    amount: int
    allocation: LoanAllocation
    transfer_id: str = Id
    source: LoanPaymentSource
    created_at: Time


class LoanPayoff(Answer):
    """What paying the loan off today costs.

    Attributes:
      loan_id: the loan.
      payoff_amount: in all.
      principal: principal outstanding.
      interest: interest to today.
      fees: fees due.
      per_diem: interest per further day.
      good_through: the last day the amount holds.
    """
    loan_id: str = Id
    payoff_amount: int
    principal: int
    interest: int
    fees: int
    per_diem: int
    good_through: date


class LoanProducts(Answer):
    """What may be borrowed.

    Attributes:
      min_amount: the smallest principal.
      max_amount: the largest principal.
      terms: the terms offered, in months.
      apr_bps_by_grade: the rate of each credit grade.
    """
    min_amount: int
    max_amount: int
    terms: list[int]
    apr_bps_by_grade: dict[str, int]


class LoanPage(Page):
    __doc__ = Page.__doc__
    data: list[Loan]
