"""Business days: Monday to Friday, except US federal holidays as the
`holidays` package knows them, observed days included (July 4 on a Sunday
is observed on Monday the 5th; Christmas on a Saturday on Friday the 24th).
No list of dates is kept here: the package is the calendar.
"""
import functools
from datetime import date, timedelta

# Bounds every walk: the 7th business day is never more than a few weeks on.
BUSINESS_DAYS_AHEAD_MAX = 30
SATURDAY = 5


@functools.lru_cache(maxsize=64)
def _federal(year: int) -> frozenset:
    import holidays  # cold start: 40 ms of calendars that only deposits and their job need
    return frozenset(holidays.country_holidays("US", years=year))


def is_business_day(day: date) -> bool:
    return day.weekday() < SATURDAY and day not in _federal(day.year)


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
