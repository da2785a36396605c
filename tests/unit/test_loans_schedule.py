"""Schedules to the cent: API.md's two vectors, and a table of others
checked against an annuity computed here independently (fractions, not
Decimal contexts: a different road to the same cents)."""
from datetime import date
from fractions import Fraction

import pytest

from chalicelib.finance import amortization

START = date(2026, 1, 31)


def half_up(x: Fraction) -> int:
    """Half-up to an integer, for x >= 0."""
    return int((x * 2 + 1) // 2)


def independent(amount: int, apr_bps: int, term: int) -> tuple[int, list[tuple[int, int, int]]]:
    r = Fraction(apr_bps, 10_000 * 12)
    payment = half_up(Fraction(amount, term)) if r == 0 else half_up(amount * r / (1 - 1 / (1 + r) ** term))
    rows, principal = [], amount
    for n in range(1, term + 1):
        interest = half_up(principal * r)
        due = principal + interest if n == term or principal + interest <= payment else payment
        rows.append((due, due - interest, interest))
        principal -= due - interest
        if principal == 0:
            break
    return payment, rows


@pytest.mark.parametrize("amount, apr_bps, term, installment, last, total_interest", [
    (1_000_000, 500, 36, 29971, 29969, 78954),
    (250_000, 824, 12, 21775, 21772, 11297),
])
def test_api_md_vectors(amount, apr_bps, term, installment, last, total_interest):
    rows = amortization.schedule(amount, apr_bps, term, START)
    assert len(rows) == term
    assert rows[0].installment == installment and all(r.installment == installment for r in rows[:-1])
    assert rows[-1].installment == last
    assert sum(r.interest for r in rows) == total_interest
    assert sum(r.principal for r in rows) == amount


TABLE = [(a, r, n) for a in (10_000, 12_345, 99_999, 500_000, 2_500_000) for r in (0, 1, 599, 1299, 2499, 3600)
         for n in (3, 7, 12, 24, 36)]


@pytest.mark.parametrize("amount, apr_bps, term", TABLE)
def test_against_an_independent_annuity(amount, apr_bps, term):
    payment, expected = independent(amount, apr_bps, term)
    rows = amortization.schedule(amount, apr_bps, term, START)
    assert amortization.annuity_payment(amount, apr_bps, term) == payment
    assert [(r.installment, r.principal, r.interest) for r in rows] == expected
    assert sum(r.principal for r in rows) == amount
    assert abs(rows[-1].installment - payment) <= term  # the last absorbs cents of rounding, no more


def test_due_dates_keep_the_day_or_take_the_months_last():
    rows = amortization.schedule(100_000, 1000, 4, date(2026, 1, 31))
    assert [r.due_date for r in rows] == ["2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31"]
    assert amortization.add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)


def test_accrued_interest_rounds_the_total_not_each_day():
    # 10.00 at 3.65%: 0.1 cent a day; 4 days are 0.4 (0), 5 are 0.5 (1).
    assert amortization.accrued_interest(1_000, 365, 4) == 0
    assert amortization.accrued_interest(1_000, 365, 5) == 1
    assert amortization.accrued_interest(1_000, 365, 0) == 0
