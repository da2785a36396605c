"""The arithmetic of a loan, in integer cents with `Decimal` only inside.

API.md's rules: equal monthly installments; each month's interest is the
outstanding principal x APR / 12, rounded half-up to the cent; the
installment is the annuity payment rounded half-up to the cent; the last
installment is whatever is left (principal + that month's interest), so it
absorbs the rounding and may be a few cents smaller or larger. Interest
between due dates (a payoff) accrues day by day: per diem = principal x
APR / 365, the total rounded half-up to the cent.

Nothing here reads the clock or the database: the same numbers in give the
same cents out, which is what the tests check against vectors computed
independently.
"""
import calendar
import decimal
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

BPS = Decimal(10_000)
CENT = Decimal(1)
_MATH = decimal.Context(prec=50, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Row:
    n: int
    due_date: str  # YYYY-MM-DD
    installment: int
    principal: int
    interest: int


def _half_up(value: Decimal) -> int:
    return int(value.quantize(CENT, rounding=ROUND_HALF_UP))


def month_interest(principal_cents: int, apr_bps: int) -> int:
    """One month's interest on `principal_cents`, half-up to the cent."""
    return _half_up(_MATH.divide(Decimal(principal_cents) * apr_bps, BPS * 12))


def annuity_payment(amount_cents: int, apr_bps: int, term_months: int) -> int:
    """A x r / (1 - (1 + r)^-n), r = APR / 12, half-up to the cent (A / n at 0%)."""
    if apr_bps == 0:
        return _half_up(_MATH.divide(Decimal(amount_cents), Decimal(term_months)))
    r = _MATH.divide(Decimal(apr_bps), BPS * 12)
    factor = _MATH.power(1 + r, -term_months)
    return _half_up(_MATH.divide(Decimal(amount_cents) * r, 1 - factor))


def add_months(start: date, months: int) -> date:
    """The same day of the month `months` later, or that month's last day."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def due_date(disbursed_on: date, n: int) -> date:
    """Installment n (1-based) falls due n months after disbursement."""
    return add_months(disbursed_on, n)


def installment_due(n: int, term_months: int, principal_cents: int, interest_cents: int, installment: int) -> int:
    """What installment n asks for: the level payment, or all that is left
    when that is no more than it (a loan paid ahead ends early) or when n is
    the last of the term."""
    rest = principal_cents + interest_cents
    return rest if n >= term_months or rest <= installment else installment


def schedule(amount_cents: int, apr_bps: int, term_months: int, disbursed_on: date,
             first_n: int = 1, installment: int | None = None) -> list[Row]:
    """The rows from installment `first_n` on, for `amount_cents` still
    outstanding, paid as agreed: ends when the principal does."""
    payment = installment if installment is not None else annuity_payment(amount_cents, apr_bps, term_months)
    rows = []
    principal = amount_cents
    n = first_n
    while principal > 0:
        interest = month_interest(principal, apr_bps)
        due = installment_due(n, term_months, principal, interest, payment)
        part = due - interest
        if part <= 0:  # a rate so high the payment covers no principal: the contract forbids it
            raise ValueError("the installment does not cover the interest")
        rows.append(Row(n, due_date(disbursed_on, n).isoformat(), due, part, interest))
        principal -= part
        n += 1
    return rows


def accrued_interest(principal_cents: int, apr_bps: int, days: int) -> int:
    """Interest accrued day by day for `days` days: principal x APR / 365
    per day, the total rounded half-up to the cent."""
    if days <= 0 or principal_cents <= 0:
        return 0
    return _half_up(_MATH.divide(Decimal(principal_cents) * apr_bps * days, BPS * 365))


def per_diem(principal_cents: int, apr_bps: int) -> int:
    """One day's interest, half-up to the cent (shown with a payoff quote;
    the quote itself rounds the total of the days, not each day)."""
    return accrued_interest(principal_cents, apr_bps, 1)
