"""Money accounts: opening on verification, account numbers, freezing,
system accounts and their shards, ledger accounts that are nobody's wallet
(a loan's receivable), and the public view of an account.

Kinds of account (`AccountItem.kind`):
  customer    a person's wallet: listed in gsi3, earns interest, shown to them.
  pocket      a person's money in another currency (finance/pockets.py): listed
              in gsi3, earns its currency's APY, no credit line.
  system      one shard of a system account (SYSTEM_ACCOUNTS): listed in gsi3.
  receivable  a ledger account of its own, e.g. one loan's: not listed in gsi3
              (no job that scans accounts sees it: no interest accrual), never
              a person's wallet, free to go negative or positive (its parties
              are not customers); reconcile counts it like any account.

Opening and freezing change an account's status, never its balance: that is
the ledger's alone.
"""
import secrets

from pynamodb.exceptions import PutError

from chalicelib import clock, errors, lazy
from chalicelib.config import HOME_CURRENCY, settings
from chalicelib.db.balances import AccountItem, AccountNumberClaim, account_number_key
from chalicelib.finance.rates import displayed_rates
from chalicelib.identity import reserved

records = lazy.module("chalicelib.records.money")

SYSTEM_ACCOUNTS = ("external", "fees", "interest_expense", "interest_income",
                   "loans_receivable", "card_settlement", "check_clearing", "rewards", "loan_losses")
LEDGER_ACCOUNT_KINDS = ("receivable",)
# A person named like a system account would pass for the bank in a counterparty.
if not all(reserved.is_reserved(name) for name in SYSTEM_ACCOUNTS):
    raise RuntimeError("every system account name must be a reserved handle (identity/reserved.py)")
# Money of other currencies enters, leaves and converts through system
# accounts of that currency (books per currency: each currency sums to zero);
# a pocket's interest is paid from `interest_expense` of its currency. No
# `interest_income_<CCY>`: a pocket is charged no overdraft interest.
CURRENCY_SYSTEM_ACCOUNTS = ("fx", "external", "fees", "interest_expense")
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


def currency_system_name(name: str, currency: str) -> str:
    """`fx_EUR` (every currency has its own); `external`, `fees`,
    `interest_expense` in the home currency are the system accounts of old,
    `external_EUR` in the others."""
    if name not in CURRENCY_SYSTEM_ACCOUNTS:
        raise ValueError(name)
    if name == "fx":
        return f"fx_{currency}"
    return name if currency == HOME_CURRENCY else f"{name}_{currency}"


def system_accounts() -> list[tuple[str, str]]:
    """(name, currency) of every system account."""
    names = [(name, HOME_CURRENCY) for name in SYSTEM_ACCOUNTS]
    for currency in settings().currencies:
        names += [(currency_system_name(name, currency), currency) for name in CURRENCY_SYSTEM_ACCOUNTS
                  if name == "fx" or currency != HOME_CURRENCY]
    return names


def ensure_system_accounts() -> int:
    """Create every shard of every system account; returns how many were new."""
    created = 0
    for name, currency in system_accounts():
        for shard in range(settings().system_account_shards):
            account_id = system_shard_id(name, shard)
            item = AccountItem.new(account_id, "system")
            item.system_name = name
            item.currency = currency
            item.opened_at = clock.iso(clock.now())
            try:
                item.save(condition=AccountItem.pk.does_not_exist())
                created += 1
            except PutError:
                pass
    return created


def ledger_account_id(kind: str, name: str) -> str:
    """A ledger account's id, e.g. ledger_account_id("receivable", loan_id)."""
    if kind not in LEDGER_ACCOUNT_KINDS:
        raise ValueError(kind)
    return f"acct_{kind[:3]}_{name}"


def open_ledger_account(account_id: str, kind: str, display: str, currency: str = "USD",
                        owner_id: str | None = None) -> AccountItem:
    """Open a ledger account that is nobody's wallet (a loan's receivable),
    unlisted in gsi3 so interest accrual never reads it. Idempotent: opening
    it again returns the account as it is. Opening moves no money; open it
    before the movement that first posts to it (the disbursement)."""
    if kind not in LEDGER_ACCOUNT_KINDS:
        raise ValueError(kind)
    item = AccountItem.new(account_id, kind, listed=False)
    item.system_name = display
    item.owner_id = owner_id  # whose loan it is, for reconcile to find the loan (not a wallet: no user_id party)
    item.currency = currency
    item.opened_at = clock.iso(clock.now())
    try:
        item.save(condition=AccountItem.pk.does_not_exist())
    except PutError:
        existing = AccountItem.find(account_id)
        if existing is None or existing.kind != kind:
            raise errors.InvalidState("That account id is taken by another kind of account.") from None
        return existing
    return item


def public_account(item: AccountItem) -> "records.Account":
    # A pocket of another currency earns its currency's APY (0 unless set); no overdraft: no credit line.
    rates = displayed_rates().of(item.currency)
    balance, held, limit = int(item.balance), int(item.held), int(item.credit_limit)
    return records.Account(
        id=item.id, currency=item.currency, balance=balance, held=held,
        available=balance - held, credit_limit=limit, spendable=int(item.spendable),
        apy_bps=rates.apy_bps, overdraft_apr_bps=rates.overdraft_apr_bps,
        accrued_interest_micros=int(item.accrued_interest_micros),
        status=item.status, account_number=item.account_number,
        routing_number=settings().routing_number, opened_at=item.opened_at,
    )


def require_account(account_id: str | None, kinds: tuple = ("customer",)) -> AccountItem:
    """A person's own wallet (or, with `kinds`, pocket); a ledger or system account is never one."""
    item = AccountItem.find(account_id) if account_id else None
    if item is None or item.kind not in kinds:
        raise errors.VerificationRequired()
    return item
