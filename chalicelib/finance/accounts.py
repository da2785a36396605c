"""Money accounts: opening on verification, account numbers, freezing,
system accounts and their shards, and the public view of an account.

Opening and freezing change an account's status, never its balance: that is
the ledger's alone.
"""
import secrets

from pynamodb.exceptions import PutError

from chalicelib import clock, errors
from chalicelib.config import settings
from chalicelib.db.balances import AccountItem, AccountNumberClaim, account_number_key
from chalicelib.finance.rates import displayed_rates

SYSTEM_ACCOUNTS = ("external", "fees", "interest_expense", "interest_income",
                   "loans_receivable", "card_settlement", "check_clearing")
ACCOUNT_NUMBER_DIGITS = 11
OPEN_ATTEMPTS_MAX = 5


def customer_account_id(user_id: str) -> str:
    """One account per person, so the id follows from the user id (no lookup)."""
    return "acct_" + user_id.removeprefix("usr_")


def system_shard_id(name: str, shard: int) -> str:
    return f"acct_sys_{name}_{shard}"


def random_system_shard(name: str) -> str:
    """Rule 7: spread system-account writes over shards (no hot item)."""
    return system_shard_id(name, secrets.randbelow(settings().system_account_shards))


def aba_checksum_ok(routing_number: str) -> bool:
    if len(routing_number) != 9 or not routing_number.isdigit():
        return False
    d = [int(c) for c in routing_number]
    return (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8])) % 10 == 0


def new_account_number() -> str:
    first = str(1 + secrets.randbelow(9))
    return first + "".join(str(secrets.randbelow(10)) for _ in range(ACCOUNT_NUMBER_DIGITS - 1))


def new_customer_account(user_id: str, handle: str) -> tuple[AccountItem, AccountNumberClaim]:
    """The items of a new account; the caller saves them in its transaction,
    the claim with `attribute_not_exists` so account numbers stay unique."""
    account_id = customer_account_id(user_id)
    number = new_account_number()
    account = AccountItem.new(account_id, "customer")
    account.owner_id = user_id
    account.owner_handle = handle
    account.account_number = number
    account.opened_at = clock.iso(clock.now())
    claim = AccountNumberClaim(*account_number_key(number), account_id=account_id)
    return account, claim


def ensure_system_accounts() -> int:
    """Create every shard of every system account; returns how many were new."""
    created = 0
    for name in SYSTEM_ACCOUNTS:
        for shard in range(settings().system_account_shards):
            account_id = system_shard_id(name, shard)
            item = AccountItem.new(account_id, "system")
            item.system_name = name
            item.opened_at = clock.iso(clock.now())
            try:
                item.save(condition=AccountItem.pk.does_not_exist())
                created += 1
            except PutError:
                pass
    return created


def public_account(item: AccountItem) -> dict:
    rates = displayed_rates()
    balance, held, limit = int(item.balance), int(item.held), int(item.credit_limit)
    return {
        "id": item.id, "currency": item.currency, "balance": balance, "held": held,
        "available": balance - held, "credit_limit": limit, "spendable": int(item.spendable),
        "apy_bps": rates.apy_bps, "overdraft_apr_bps": rates.overdraft_apr_bps,
        "accrued_interest_micros": int(item.accrued_interest_micros),
        "status": item.status, "account_number": item.account_number,
        "routing_number": settings().routing_number, "opened_at": item.opened_at,
    }


def require_account(account_id: str | None) -> AccountItem:
    item = AccountItem.find(account_id) if account_id else None
    if item is None:
        raise errors.VerificationRequired()
    return item
