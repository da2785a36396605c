"""Answers about the money account: the account, transfers, entries,
statements, payment requests, rates and the ledger check."""
from datetime import date
from enum import Enum

from pydantic import Field

from chalicelib.records.common import Answer, Count, Currency, Id, Money, Month, Page, Time

# A new kind of money movement (cards, checks, ...) adds its name here.
TRANSFER_KINDS = ("deposit", "withdrawal", "p2p", "request_payment", "tip", "unlock", "subscription",
                  "message_payment", "interest", "overdraft_interest", "loan_disbursement", "loan_payment",
                  "loan_charge_off", "card", "cashback", "check", "fee", "conversion")


TransferKind = Enum("TransferKind", {k: k for k in TRANSFER_KINDS}, type=str)
TransferKind.__doc__ = "What a money movement was, on transfers and on the entries they made."


class AccountStatus(str, Enum):
    """Frozen and closed accounts move nothing."""
    active = "active"
    frozen = "frozen"
    closed = "closed"


class TransferStatus(str, Enum):
    """A transfer is posted once it moved the money."""
    posted = "posted"
    pending = "pending"


class PaymentRequestStatus(str, Enum):
    pending = "pending"
    paid = "paid"
    declined = "declined"


class Account(Answer):
    """The caller's money account.

    Attributes:
      id: the account id.
      currency: the account's currency.
      balance: minor units; may be negative on a credit line.
      held: minor units set aside by pending holds.
      available: balance - held.
      credit_limit: the credit line.
      spendable: available + credit_limit.
      apy_bps: the interest rate earned, basis points a year.
      overdraft_apr_bps: the rate charged on a negative balance.
      accrued_interest_micros: interest accrued and not yet posted, in millionths of a cent.
      status: active, frozen or closed.
      account_number: for payments from outside.
      routing_number: for payments from outside.
      opened_at: when the account opened.
    """
    id: str = Id
    currency: Currency
    balance: int
    held: int
    available: int
    credit_limit: int = Count
    spendable: int
    apy_bps: int = Count
    overdraft_apr_bps: int = Count
    accrued_interest_micros: int
    status: AccountStatus
    account_number: str
    routing_number: str
    opened_at: Time


class Transfer(Answer):
    """A money movement.

    Attributes:
      id: the transfer id.
      kind: what moved the money.
      from: the payer's handle, if a person.
      to: the payee's handle, if a person.
      amount: minor units, never negative.
      currency: the currency.
      note: the payer's note.
      status: posted once the money moved.
      forced: whether an operator posted it past the usual checks.
      created_at: when it was made.
      delivered: what the payee received, when in another currency (`deliver_currency`, or a
        creator price, DM payment or payment request paid from another pocket): gross of a
        platform fee taken from it.
      rate: the rate of the conversion inside it (buy units per sell unit, spread applied), if any.
    """
    id: str = Id
    kind: TransferKind
    from_: str | None = Field(alias="from")
    to: str | None
    amount: int = Count
    currency: Currency
    note: str
    status: TransferStatus
    forced: bool
    created_at: Time
    delivered: Money | None = None
    rate: str | None = Field(default=None, pattern=r"^[0-9]+(\.[0-9]+)?$")


class Entry(Answer):
    """A line of the caller's account: one side of a transfer.

    Attributes:
      id: the entry id.
      transfer_id: the transfer that made it.
      kind: what moved the money.
      amount: signed minor units: positive in, negative out.
      currency: the currency.
      counterparty: who was on the other side, if anyone.
      created_at: when.
      note: the transfer's note.
    """
    id: str = Id
    transfer_id: str = Id
    kind: TransferKind
    amount: int
    currency: Currency
    counterparty: str | None
    created_at: Time
    note: str | None = None


class Statement(Answer):
    """A calendar month of the account.

    Attributes:
      month: YYYY-MM.
      opening_balance: at the month's start.
      closing_balance: at its end (or now).
      total_in: credits.
      total_out: debits, as a positive number.
      interest_earned: interest credited.
      interest_charged: overdraft interest debited.
      entries: the month's entries, oldest first.
      account_id: the account.
      currency: the currency.
    """
    month: str = Month
    opening_balance: int
    closing_balance: int
    total_in: int = Count
    total_out: int = Count
    interest_earned: int
    interest_charged: int
    entries: list[Entry]
    account_id: str | None = None
    currency: Currency | None = None


class PaymentRequest(Answer):
    """One person asking another for money.

    Attributes:
      id: the request id.
      from: who is asked to pay.
      to: who asked.
      amount: minor units of `currency`.
      currency: what the asker receives (any supported currency).
      note: the asker's note.
      status: pending, paid or declined.
      created_at: when it was asked.
      paid: the transfer that paid it: from another pocket of the payer's, its `amount` and
        `currency` are what was paid and `delivered` the requested money.
    """
    id: str = Id
    from_: str = Field(alias="from")
    to: str
    amount: int = Count
    currency: Currency
    note: str
    status: PaymentRequestStatus
    created_at: Time
    paid: Transfer | None


class RateChange(Answer):
    """Interest rates set from a day on.

    Attributes:
      effective_date: the first day they apply.
      apy_bps: earned on balances.
      overdraft_apr_bps: charged on overdrafts.
      pocket_apy_bps: currency -> APY earned by its pockets from that day (a currency not named: 0).
    """
    effective_date: date
    apy_bps: int = Count
    overdraft_apr_bps: int = Count
    pocket_apy_bps: dict[str, int] = {}


class Rates(RateChange):
    """The interest rates from a day on.

    Attributes:
      effective_date: the first day they apply.
      apy_bps: earned on balances.
      overdraft_apr_bps: charged on overdrafts.
      pocket_apy_bps: currency -> APY earned by its pockets from that day (a currency not named: 0).
      history: every change set so far, this one included, oldest first (the configured
        defaults in force before them all are not listed).
    """
    history: list[RateChange] | None = None


class MismatchProblem(str, Enum):
    """What disagrees on an account (finance/reconcile.py)."""
    spendable = "spendable"
    entries = "entries"
    missing = "missing"
    held = "held"
    held_credit = "held_credit"
    loan_principal = "loan_principal"


class Mismatch(Answer):
    """An account whose books disagree; only the figures of its problem are given.

    Attributes:
      account_id: the account.
      problem: what disagrees.
      balance: its balance (credit shards included).
      entries_sum: the sum of its entries (null: the account is gone and entries were not read).
      spendable: its stored spendable.
      expected: what `spendable`, or the loan's receivable balance, should be.
      held: its stored `held`.
      pending_holds_sum: the sum of its pending holds.
      held_credit: its stored `held_credit`.
      pending_credit_holds_sum: the sum of its pending credit holds.
    """
    account_id: str = Id
    problem: MismatchProblem
    balance: int | None = None
    entries_sum: int | None = None
    spendable: int | None = None
    expected: int | None = None
    held: int | None = None
    pending_holds_sum: int | None = None
    held_credit: int | None = None
    pending_credit_holds_sum: int | None = None


class LedgerCheck(Answer):
    """The ledger's books: the latest `reconcile` run's report.

    Attributes:
      balanced: whether every balance sums to zero and matches its entries.
      total: the sum of all balances (zero when balanced).
      accounts: accounts checked.
      totals: the sum of all balances per currency (each zero when balanced).
      fx_position: what Flock holds of each currency through its fx accounts.
      system_accounts: system account name -> its balance, all shards summed.
      ledger_accounts: ledger account kind (e.g. receivable) -> the sum of their balances.
      mismatch_count: accounts' problems found, all of them.
      mismatches: the first 100 of them.
      job: the job that checked (`reconcile`), when run in this request or read from its summary.
      as_of: the run's as-of day.
      processed: accounts the run read.
      changed: accounts it changed (a check changes none: 0).
      segments: the scan segments the run was split into.
      run_id: the fanned-out run it comes from (AWS).
      finished_at: when that run finished (AWS).
    """
    balanced: bool
    total: int
    accounts: int = Count
    totals: dict[str, int] | None = None
    fx_position: dict[str, int] | None = None
    system_accounts: dict[str, int] | None = None
    ledger_accounts: dict[str, int] | None = None
    mismatch_count: int | None = Field(default=None, ge=0)
    mismatches: list[Mismatch] | None = None
    job: str | None = None
    as_of: date | None = None
    processed: int | None = Field(default=None, ge=0)
    changed: int | None = Field(default=None, ge=0)
    segments: int | None = Field(default=None, ge=0)
    run_id: str | None = None
    finished_at: Time | None = None


class EntryPage(Page):
    __doc__ = Page.__doc__
    data: list[Entry]


class PaymentRequestPage(Page):
    __doc__ = Page.__doc__
    data: list[PaymentRequest]
