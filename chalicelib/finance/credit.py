"""The credit line a person may ask for, decided by fixed rules on the
account's own history (no outside data), so the same history always gets
the same answer:

1. the account has been open at least CREDIT_ACCOUNT_AGE_DAYS_MIN days;
2. it is not frozen, and its balance is not negative;
3. money in during this calendar month and the INFLOW_MONTHS - 1 before it
   (deposits, transfers and payments received; interest and loans
   excluded) is at least CREDIT_INFLOW_MIN_CENTS;
4. the limit granted is the smallest of: what was asked, half the average
   monthly inflow of those months (their sum / INFLOW_MONTHS), and
   CREDIT_LIMIT_MAX_CENTS; rounded down to whole dollars.

Asking for less than the current limit always lowers it.

Calendar months, not the last 90 days: the ledger keeps each month's money
in on the account item (`inflow`), so a decision reads that one item however
busy the account is, where 90 days of entries could be a million reads.
"""
from datetime import date, datetime

from chalicelib import clock, errors, lazy
from chalicelib.finance import credit_shards, ledger
from chalicelib.finance.accounts import public_account, require_account
from chalicelib.finance.transfers import require_verified

records = lazy.module("chalicelib.records.money")

CREDIT_ACCOUNT_AGE_DAYS_MIN = 30
CREDIT_INFLOW_MIN_CENTS = 50_000
CREDIT_LIMIT_MAX_CENTS = 500_000
INFLOW_MONTHS = 3


def inflow_months(today: date) -> list[str]:
    """The `inflow` keys the rules count: this month and the ones before it."""
    keys = []
    year, month = today.year, today.month
    for _ in range(INFLOW_MONTHS):
        keys.append(ledger.month_key(date(year, month, 1)))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return keys


def inflow_by_month(account) -> dict:
    return account.inflow.as_dict() if account.inflow else {}


def inflow(account, today: date) -> int:
    counted = inflow_by_month(account)
    return sum(int(counted.get(key, 0)) for key in inflow_months(today))


def request_credit_line(principal, requested_cents: int) -> "records.Account":
    require_verified(principal)
    account = credit_shards.with_shards(require_account(principal.account_id))  # balance and inflow: item + shards
    current = int(account.credit_limit)
    if requested_cents <= current:
        return public_account(ledger.set_credit_limit(account.id, requested_cents))
    reasons = []
    age_days = (clock.now() - _parse(account.opened_at)).days
    if age_days < CREDIT_ACCOUNT_AGE_DAYS_MIN:
        reasons.append(f"the account is {age_days} days old; credit needs {CREDIT_ACCOUNT_AGE_DAYS_MIN}")
    if account.status != "active" or principal.frozen:
        reasons.append("the account is frozen")
    if int(account.balance) < 0:
        reasons.append("the balance is negative")
    money_in = inflow(account, clock.now().date())
    if money_in < CREDIT_INFLOW_MIN_CENTS:
        reasons.append(f"money in this month and the {INFLOW_MONTHS - 1} before is {money_in} cents; "
                       f"credit needs {CREDIT_INFLOW_MIN_CENTS}")
    granted = min(requested_cents, money_in // INFLOW_MONTHS // 2, CREDIT_LIMIT_MAX_CENTS) // 100 * 100
    if not reasons and granted <= current:
        reasons.append("the inflow supports no higher limit than the current one")
    if reasons:
        refusal = errors.NotEligible("Credit line not approved: " + "; ".join(reasons) + ".")
        refusal.reasons = reasons
        raise refusal
    return public_account(ledger.set_credit_limit(account.id, granted))


def _parse(iso: str):
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))
