"""Stated business dates for tests that depend on the calendar.

The suite must not depend on the day it runs on: every unit test starts at
`TEST_NOW` (tests/conftest.py), and a test whose outcome depends on where in
a month or a year it starts runs over `START_DATES` instead, pinning the
test clock to each. The table holds the calendar's edges: the 1st, the 2nd
and the last day of a month (of 30 and 31 days, before a short February),
the last day of a common February, February 29th and December 31st. All
are after `TEST_NOW`, so pinning one only moves business time forward from
where the stack was provisioned (the system accounts, the rates), as the
operator's test clock would.

    @pytest.mark.parametrize("start", START_DATES, ids=str)
    def test_x(api, start):
        dates.pin(start)
"""
import calendar
from datetime import date, datetime, time, timedelta, timezone

from tests.conftest import TEST_NOW

START_DATES = [
    date(2026, 4, 1),    # the 1st
    date(2026, 4, 2),    # the 2nd
    date(2026, 4, 30),   # the last day of a 30-day month
    date(2027, 1, 31),   # the last day of a 31-day month, before a short February
    date(2027, 2, 28),   # the last day of a common February
    date(2028, 2, 29),   # a leap day
    date(2026, 12, 31),  # the last day of the year
]
assert all(d > TEST_NOW.date() for d in START_DATES)

# Mid-afternoon UTC: far from midnight both ways, so a test's few seconds
# (or an operation stepping the clock by hours) stay on one business day.
AFTERNOON = time(15, 0)


def pin(day: date, at: time = AFTERNOON) -> date:
    """Business time to `at` (UTC) on `day`; returns the business date."""
    from chalicelib import clock
    return clock.pin(datetime.combine(day, at, tzinfo=timezone.utc)).date()


def month_end(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def month_ends(first: date, last: date) -> list[date]:
    """The last days of months that fall in [first, last]."""
    ends = []
    day = month_end(first)
    while day <= last:
        ends.append(day)
        day = month_end(day + timedelta(days=1))
    return ends


def months_after(anchor: date, months: int) -> date:
    """The same day `months` later, or that month's last day when it is
    shorter (Jan 31 + 1 = Feb 28 or 29; Feb 29 + 12 = Feb 28)."""
    index = anchor.year * 12 + anchor.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(anchor.day, calendar.monthrange(year, month)[1]))
