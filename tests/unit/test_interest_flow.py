"""Interest through the API: accrual, posting, idempotency (a quick path; the
exact maths is in test_interest.py)."""
from datetime import date, timedelta
from decimal import Decimal

import pytest

from chalicelib.finance import interest
from tests.unit import dates
from tests.unit.test_interest import apy_over


@pytest.mark.parametrize("start", dates.START_DATES, ids=str)
def test_a_year_at_a_constant_balance_earns_the_apy_within_a_cent(api, start):
    dates.pin(start)
    api.verified("saver")
    api.deposit("saver", 1_000_000)  # $10,000.00
    opened = date.fromisoformat(api.wallet("saver")["opened_at"][:10])
    assert opened == start
    api.admin("POST", "/v1/admin/test-clock", {"advance_days": 366})
    through = (opened + timedelta(days=364)).isoformat()
    r = api.admin("POST", "/v1/admin/jobs/accrue-interest", {"as_of": through})
    assert r.status_code == 200 and r.json_body["changed"] == 1, r.body
    again = api.admin("POST", "/v1/admin/jobs/accrue-interest", {"as_of": through})
    assert again.json_body["changed"] == 0
    accrued = api.wallet("saver")["accrued_interest_micros"]
    expected = Decimal(1_000_000) * Decimal("0.045") * 1_000_000
    assert abs(accrued - expected) <= 1_000_000, (accrued, expected)
    r = api.admin("POST", "/v1/admin/jobs/post-interest", {})
    assert r.status_code == 200, r.body
    wallet = api.wallet("saver")
    # Posting (as of yesterday, the 366th day) pays the months that have
    # ended: the APY over the days from the opening through the last of
    # them, within a cent per posting; the rest stays accrued.
    ends = dates.month_ends(opened, opened + timedelta(days=365))
    covered = (ends[-1] - opened).days + 1
    assert abs(wallet["balance"] - apy_over(1_000_000, covered)) <= len(ends)
    unposted_days = 366 - covered
    assert 0 <= wallet["accrued_interest_micros"] < 2_000_000 + unposted_days * 130_000_000  # < $1.30 a day at 4.5% on $10,450
    assert api.admin("GET", "/v1/admin/ledger/check").json_body["balanced"] is True
    again = api.admin("POST", "/v1/admin/jobs/post-interest", {})
    assert again.json_body["changed"] == 0
    assert api.wallet("saver")["balance"] == wallet["balance"]


def test_daily_rate_compounds_to_the_apy():
    rate = interest.daily_rate(450)
    assert abs((1 + rate) ** 365 - Decimal("1.045")) < Decimal("1e-20")  # the default context (28 digits) limits this check, not the rate
