"""The credit line a person may ask for, decided by fixed rules on the
account's own history (no outside data), so the same history always gets
the same answer:

1. the account has been open at least CREDIT_ACCOUNT_AGE_DAYS_MIN days;
2. it is not frozen, and its balance is not negative;
3. money in over the last 90 days (deposits, transfers and payments
   received; interest excluded) is at least CREDIT_INFLOW_90D_MIN_CENTS;
4. the limit granted is the smallest of: what was asked, half the average
   monthly inflow of those 90 days, and CREDIT_LIMIT_MAX_CENTS; rounded
   down to whole dollars.

Asking for less than the current limit always lowers it.
"""
from datetime import timedelta

from chalicelib import clock, errors
from chalicelib.db.balances import ENTRY_PREFIX, EntryItem
from chalicelib.finance import ledger
from chalicelib.finance.accounts import public_account, require_account
from chalicelib.finance.transfers import require_verified

CREDIT_ACCOUNT_AGE_DAYS_MIN = 30
CREDIT_INFLOW_90D_MIN_CENTS = 50_000
CREDIT_LIMIT_MAX_CENTS = 500_000
INFLOW_KINDS_EXCLUDED = ("interest", "loan_disbursement")


def _inflow_90_days(account_id: str) -> int:
    """Money in over the 90 days to now: the entries of those days (not a
    statement's, which refuses a month of more than 10,000 entries)."""
    now = clock.now()
    since, until = ENTRY_PREFIX + clock.iso(now - timedelta(days=90)), ENTRY_PREFIX + clock.iso(now)
    inflow = 0
    for entry in EntryItem.query(f"ACCT#{account_id}", EntryItem.sk.between(since, until), consistent_read=True,
                                 attributes_to_get=["amount", "kind", "created_at"]):
        if int(entry.amount) > 0 and entry.kind not in INFLOW_KINDS_EXCLUDED and entry.created_at < clock.iso(now):
            inflow += int(entry.amount)
    return inflow


def request_credit_line(principal, requested_cents: int) -> dict:
    require_verified(principal)
    account = require_account(principal.account_id)
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
    inflow = _inflow_90_days(account.id)
    if inflow < CREDIT_INFLOW_90D_MIN_CENTS:
        reasons.append(f"money in over 90 days is {inflow} cents; credit needs {CREDIT_INFLOW_90D_MIN_CENTS}")
    granted = min(requested_cents, inflow // 3 // 2, CREDIT_LIMIT_MAX_CENTS) // 100 * 100  # rounded down
    if not reasons and granted <= current:
        reasons.append("the inflow supports no higher limit than the current one")
    if reasons:
        refusal = errors.NotEligible("Credit line not approved: " + "; ".join(reasons) + ".")
        refusal.reasons = reasons
        raise refusal
    return public_account(ledger.set_credit_limit(account.id, granted))


def _parse(iso: str):
    from datetime import datetime
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))
