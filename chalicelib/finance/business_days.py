"""Business days as Regulation CC counts them: the days the Federal Reserve
Banks are open, Monday to Friday except their holidays as the `holidays`
package's `XFED` calendar knows them. A holiday on a Sunday is observed on
the Monday (July 4 2027: Monday the 5th is closed); one on a Saturday is not
moved: the Fed is open on the Friday before (July 3 2026), unlike the
federal government's calendar. No list of dates is kept here: the package
is the calendar.
"""
import functools
from datetime import date, timedelta

# Bounds every walk: the 7th business day is never more than a few weeks on.
BUSINESS_DAYS_AHEAD_MAX = 30
SATURDAY = 5


@functools.lru_cache(maxsize=64)
def _fed_holidays(year: int) -> frozenset:
    import holidays  # cold start: 40 ms of calendars that only deposits and their job need
    return frozenset(holidays.financial_holidays("XFED", years=year))


def is_business_day(day: date) -> bool:
    return day.weekday() < SATURDAY and day not in _fed_holidays(day.year)


def banking_day_of(day: date) -> date:
    """The business day a deposit made on `day` counts for: that day, or the
    next business day when made on a weekend or holiday."""
    for _ in range(BUSINESS_DAYS_AHEAD_MAX):
        if is_business_day(day):
            return day
        day += timedelta(days=1)
    raise ValueError("no business day within a month")


def add_business_days(day: date, n: int) -> date:
    """The `n`-th business day after `day` (n >= 1): `day` itself never counts."""
    if not 1 <= n <= BUSINESS_DAYS_AHEAD_MAX:
        raise ValueError(f"n is 1..{BUSINESS_DAYS_AHEAD_MAX}")
    for _ in range(n):
        day = banking_day_of(day + timedelta(days=1))
    return day
