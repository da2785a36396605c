"""THE ONLY CODE THAT CHANGES A BALANCE.

It reads like the money rules of DESIGN.md:

1. Amounts are `Money` (integer minor units).
2. Every movement is one transfer: a balanced set of legs, each posting an
   immutable entry, that sum to zero per currency. The two-party form
   (`debit`, `credit`, `money`, an optional `fee`) is two or three legs;
   more legs ride beside them or alone (`legs`): a purchase and its
   cashback, a loan payment split into fees, interest and principal. The
   transfer lists its legs; its `from`/`to`/`amount` are the headline.
3. One `TransactWriteItems` per movement holds the transfer record
   (`attribute_not_exists`), one conditional update per account (legs on
   the same account are added into one update, an item appears once), every
   entry, the day's limit counters, the holds it settles or places, and any
   item that must be atomic with the money (`Extra`). Balances change by
   `SET balance = balance + :x`, never by a read-modify-write.
4. An update that lowers a customer account's `spendable` by x needs
   `spendable >= x` and an active account; `spendable = balance - held +
   credit_limit` is kept on the item. A *forced* movement skips both (the
   money is owed: a capture with no live hold, a returned deposit): it may
   pass `-credit_limit`, and the transfer is stored `forced: true`.
5. The transfer id derives from (caller, idempotency key) or (network,
   event id): a replay fails the `attribute_not_exists` condition, and with
   `ALL_OLD` the cancelled transaction hands back the stored transfer — no
   extra read. Hold changes are named by the caller too (`applied` on the
   hold), so a retried increment, capture or release is a replay.
6. Holds are two-phase. A debit hold sets money aside (`held` up,
   `spendable` down); it is raised by increments, captured in one or more
   parts (the held part needs no funds; above the held amount up to the
   caller's tolerance, funds or a forced post), released in part or whole,
   or expired — never past what it holds. A credit hold is money credited
   but not yet available (`balance` and `held` up together); it is released
   when due, or returned. `reconcile` proves `held` = the account's
   pending holds.
7. Money not yet available is not money in: a credit hold's part of a
   deposit counts toward `inflow` (the credit line's rules) only when it is
   released, and earns no interest while held — accrual reads the daily
   closes of `balance - held_credit` (the ledger records `held_credit`'s
   openings, `h<YYYYMMDD>`, beside the balance's).
8. Credit shards (a hot receiving account: a creator tipped thousands of
   times a second). An account with `credit_shards` = N has N sub-items
   (`CS#<n>` in its partition); a credit to it (`Party.credit_shards`, a
   plain credit: no hold, no value date) lands on one at random, with the
   same balance update (balance, openings, inflow, movements) and the same
   condition (the shard copies the account's status), and its entry under
   the account as always. The account's balance is its item's plus its
   shards' (entries match that sum; statements, accrual, the wallet and the
   credit line read it so: finance/credit_shards.py). Shards are only ever
   credited, and emptied into the item by `sweep_credit_shards` (a job, and
   on demand), one transaction moving each shard's balance to the item with
   no entry: the account's balance does not change. Every credit to a
   person's account counts itself in the item it lands on (`rx0..rx2`, per
   minute: `receipts`), which is how an account is found hot and its shards
   sized, and how it is found cool again (finance/credit_shards.py turns
   them on and off; a payer still crediting a shard retired since finds it
   gone and credits the item instead). Debits stay on the
   item, whose `spendable` excludes the shards: a debit refused for funds
   on an account with shards sweeps them and is tried once more — a new
   attempt of the same transfer, after a refusal that wrote nothing, so
   nothing is spent twice, and `spendable >= amount` stays one condition
   on one item. Taking debits from shards would need a condition per shard
   (DynamoDB conditions cannot add), so it is not done.
9. A cancelled transaction changed nothing; its reasons map to one refusal,
   ranked in API order. Conflicts and throttling are retried with capped
   backoff (safe by rule 5): `db.transact.commit`, the one commit path, here
   as everywhere; a build that read a hold another writer changed since is
   built again from a fresh read.

The API (what cards, checks and loans call; records below say each field):

  transfer(m: Movement) -> Posted                  move money: two parties and/or a balanced set of legs;
                                                   m.forced for a forced post, m.credit_holds for a deposit on hold
  hold(hold_id, party, money, expires_at, description="", limits=(), extras=()) -> HoldItem
                                                   set money aside (a card authorization), with its company
  increment_hold(hold_id, increment_id, money, limits=(), extras=(), expires_at=None) -> HoldChanged
  capture_hold(hold_id, amount_cents, credit, transfer_id, kind, request_hash, note="", final=True,
               over_cents_max=0, legs=(), extras=()) -> Posted
                                                   a clearing: partial, repeated, or above within tolerance
  post_hold(hold_id, amount_cents, credit, transfer_id, kind, request_hash, note="") -> Posted   (a final capture)
  reverse_hold(hold_id, release_id, amount_cents=None, extras=()) -> HoldChanged   (release all or part)
  void_hold(hold_id, extras=()) / expire_hold(hold_id, extras=()) -> HoldItem
  release_hold(hold_id, outcome, extras=()) -> HoldItem
  release_credit_hold(hold_id, release_id=None, amount_cents=None, extras=()) -> HoldChanged
  return_credit(m: Movement, hold_ids) -> Posted   take a deposit on hold back: held part first, rest forced
  pending_holds(account_id, consistent=False) -> list[HoldItem]
  holds_due(kind, through) -> Iterator[str]        ids of pending holds due: "debit" expiry, "credit" availability
  transfer_users(item) -> set[str]                 who may read a transfer (its parties, every leg's)
  legs_of(m) -> tuple[Leg, ...]                    the postings a movement makes
  set_credit_limit(account_id, credit_limit_cents, extras=()) -> AccountItem

Refusals (ApiError): InvalidRequest (amount), SelfTransfer, NotFound (no
hold), InvalidState (a hold not pending, an extra's default), the parties'
`inactive_refusal`, LimitExceeded, InsufficientFunds, IdempotencyKeyReused;
ValueError for a caller's mistake in code (legs that do not balance, a
credit hold on an account the movement does not credit, > 25 items).
Ids: hold ids, increment/capture/release ids and transfer ids come from the
caller, derived from (caller, key) or (network, event id): retries replay.
A hold, a capture or a deposit costs one transaction (+ one read of the
hold for a change of it); a replay is answered from the refused write.
"""
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

from chalicelib import clock, errors, ids
from chalicelib.db import base
from chalicelib.db.balances import (PENDING_HOLD_SHARDS, AccountItem, DailyTotals, EntryItem, HoldItem, LegMap,
                                    PayeeItem, TransferItem, account_holds_index_keys, account_holds_partition,
                                    credit_shard_key, entry_key, hold_key, limit_key, pending_hold_due_bound,
                                    pending_hold_index_keys, pending_hold_shard, transfer_key)
from chalicelib.db.transact import TaggedTransaction, commit
from chalicelib.finance.money import Money

ATTEMPTS_MAX = 6
LIMIT_TTL_S = 3 * 86400
# moto caps a transaction at 25 items (DynamoDB at 100): a movement stays within it.
TRANSACTION_ITEMS_MAX = 25
HOLD_CHANGES_MAX = 100  # increments, captures and releases of one hold
PENDING_HOLDS_MAX = 1_000  # listed per account
# The order of refusals of API.md: 403, 404, 409 (any conflict, an existing
# subscription too), then the 422s in this order, any other 422 last.
REFUSAL_ORDER = (errors.AccountFrozen, errors.Forbidden, errors.NotFound, errors.InvalidState, errors.Conflict,
                 errors.SelfTransfer, errors.NotEligible, errors.LimitExceeded, errors.InsufficientFunds,
                 errors.Unprocessable)


@dataclass(frozen=True)
class Party:
    """One side of a movement.

    Attributes:
      account_id: the account (a customer's, one shard of a system account,
        or a ledger account such as a loan's receivable).
      display: what the other side sees: a handle, or the system account's name.
      user_id: the person, None for system and ledger accounts (a party with
        a user id earns: its daily openings and money in are recorded).
      customer: customer accounts must be active; their debits need spendable
        funds. False for system and ledger accounts (they may go negative):
        a loan's receivable is Party(account_id, display=loan_id, customer=False).
      inactive_refusal: raised when this account is missing, frozen or closed
        (AccountFrozen for the caller's own account, NotEligible for a receiver).
      check_funds: False for debits the customer did not start (interest
        charges), which may take the balance below -credit_limit.
      actions: more updates of this account item, in the same update (an item
        may appear only once in a transaction): e.g. the interest watermark.
      copy: an exact copy of the account item, for a value-dated movement
        (`Movement.value_at`): the update is conditioned on its `movements`
        (else StaleCopy), and the month openings are set from it.
      gate: for the debit of a movement the caller starts, the caller's
        authorisation: `gate(movement)` returns the Extras that must hold in
        the movement's own transaction (the session still live, a step-up
        code spent) or raises the refusal (step_up_required). None: none.
      credit_shards: the account's credit shards as its caller knows them
        (0: none, or unknown): a plain credit lands on one of them (rule 8).
        A count read a while ago is safe: a shard retired since is found
        gone in the transaction, which is built again crediting the item.
    """
    account_id: str
    display: str
    user_id: str | None = None
    customer: bool = True
    inactive_refusal: type = errors.NotEligible
    check_funds: bool = True
    actions: tuple = ()
    copy: AccountItem | None = None
    gate: Callable | None = None
    credit_shards: int = 0


@dataclass(frozen=True)
class Leg:
    """One posting of a movement: an entry on `party`'s account.

    Attributes:
      party: whose account.
      money: signed: negative out of the account, positive into it. The legs
        of a movement sum to zero per currency.
      kind: the entry's kind; None: the movement's (e.g. "cashback" beside a "card" purchase).
      counterparty: what the entry shows as the other side; None: the first
        leg of the other sign in its group (the two-party legs, or `legs`).
      fee_cents: on a payee's entry, the fee taken from the gross; else None.
    """
    party: Party
    money: Money
    kind: str | None = None
    counterparty: str | None = None
    fee_cents: int | None = None


@dataclass(frozen=True)
class Limit:
    """A running daily total on `account_id`'s LIM item, bumped by the
    movement's headline amount (a hold's: the amount held or added), or by
    `amount_cents` when the caller counts in another currency than the
    movement's (limits stay in USD terms: a EUR transfer counts its USD
    equivalent); the movement is refused if it would pass `max_cents`."""
    account_id: str
    counter: str  # "sent" | "deposited"
    max_cents: int
    amount_cents: int | None = None


@dataclass(frozen=True)
class Extra:
    """An item written in the movement's own transaction (rule 3), with the
    refusal raised if its condition fails."""
    op: str  # "save" | "update" | "check"
    model: object
    actions: tuple = ()
    condition: object = None
    refusal: errors.ApiError | None = None


@dataclass(frozen=True)
class CreditHold:
    """The part of a movement's credit that is not available yet (a check
    deposit): placed as a pending credit hold in the movement's transaction.

    Attributes:
      hold_id: derived by the caller from the deposit, so a retry names the same hold.
      money: the amount held, at most what the movement credits that account.
      available_on: when it becomes available: `holds_due("credit", ...)` finds it from then.
      account_id: the credited account; None: the movement's `credit` party.
      description: shown with the hold.
    """
    hold_id: str
    money: Money
    available_on: datetime
    account_id: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Movement:
    """One transfer.

    Attributes:
      transfer_id: derived from (caller, idempotency key) or (network, event id).
      kind: the transfer's kind (API.md's list), and its entries' unless a leg says otherwise.
      debit, credit, money: the two-party form: `money` (> 0) from `debit` to
        `credit`. None when the movement is `legs` alone.
      request_hash: the fingerprint of the request; a replay with another is refused.
      note: on the transfer and its entries.
      limits: daily counters bumped by the headline amount, atomically.
      extras: items written in the same transaction (rule 3).
      hold_id: the hold this transfer captures or returns, if any.
      fee, fee_cents: of `money`, to `fee` instead of `credit` (a platform fee).
      legs: more postings (or all of them, without `debit`/`credit`); every
        leg of the movement together sums to zero per currency.
      forced: skip the funds and status checks of every account (rule 4);
        stored `forced: true`.
      credit_holds: parts of the credit placed on hold (rule 6), with the credit.
      value_at: booked now, valued earlier (a month's interest, posted after
        the month ended): the entries carry this time, so statements count
        them in its month; a party with a `copy` gets its month openings
        moved to match. None: valued when booked.
      rate: the customer rate of a conversion among the legs (a decimal
        string, as quoted), kept on the transfer to show; None: none.
    """
    transfer_id: str
    kind: str
    debit: Party | None = None
    credit: Party | None = None
    money: Money | None = None
    request_hash: str = ""
    note: str = ""
    limits: tuple = ()
    extras: tuple = ()
    hold_id: str | None = None
    fee: Party | None = None
    fee_cents: int = 0
    legs: tuple = ()
    forced: bool = False
    credit_holds: tuple = ()
    value_at: datetime | None = None
    rate: str | None = None


@dataclass(frozen=True)
class Posted:
    """The outcome of a movement: the transfer as stored, and whether this
    call was a replay of an earlier success."""
    transfer: TransferItem
    replayed: bool


@dataclass(frozen=True)
class HoldChanged:
    """The outcome of an increment or a release: the hold as this change
    left it (read afresh on a replay), and whether this call was a replay."""
    hold: HoldItem
    replayed: bool


def transfer_users(item: TransferItem) -> set[str]:
    """Everyone a transfer moved money of: its headline parties and every leg's."""
    users = {item.from_user, item.to_user} | {leg.user_id for leg in (item.legs or ())}
    return {user for user in users if user}


def month_key(moment) -> str:
    """The `opens` and `inflow` key of a month."""
    return "m" + moment.strftime("%Y%m")


def day_key(day) -> str:
    """The `opens` key of a day's opening balance (= the previous day's close)."""
    return "d" + day.strftime("%Y%m%d")


def held_credit_day_key(day) -> str:
    """The `opens` key of a day's opening `held_credit` (= the previous day's close)."""
    return "h" + day.strftime("%Y%m%d")


def _balance_actions(delta_cents: int, moment: datetime, held_delta_cents: int = 0, days: bool = False,
                     held_credit_delta_cents: int = 0) -> list:
    """`balance += delta`, `spendable += delta - held_delta`, and the opening
    balance of the month (statements) and, for `days`, of the day (interest
    accrual) recorded at their first movement: the right side of
    if_not_exists sees the balance before this update, so no read is needed."""
    month = month_key(moment)
    actions = [
        AccountItem.balance.set(AccountItem.balance + delta_cents),
        AccountItem.spendable.set(AccountItem.spendable + (delta_cents - held_delta_cents)),
        AccountItem.opens[month].set(AccountItem.opens[month] | AccountItem.balance),
        AccountItem.movements.add(1),
    ]
    if days:
        day = day_key(moment)
        actions.append(AccountItem.opens[day].set(AccountItem.opens[day] | AccountItem.balance))
    if held_delta_cents:
        actions.append(AccountItem.held.set(AccountItem.held + held_delta_cents))
    if held_credit_delta_cents:
        actions += _held_credit_actions(held_credit_delta_cents, moment, days)
    return actions


def _held_credit_actions(delta_cents: int, moment: datetime, days: bool) -> list:
    """`held_credit` moves, and for an earning account its opening of the
    day is recorded at the day's first change (accrual's closes need it)."""
    actions = [AccountItem.held_credit.set(AccountItem.held_credit + delta_cents)]
    if days:
        key = held_credit_day_key(moment)
        actions.append(AccountItem.opens[key].set(AccountItem.opens[key] | AccountItem.held_credit))
    return actions


class StaleCopy(errors.InvalidState):
    """A value-dated movement's copy of an account was not current: read it again."""


def value_dated_opens(item: AccountItem, delta_cents: int, value_at: datetime, moment: datetime) -> dict[str, int]:
    """The month openings (`opens.m<YYYYMM>`, what statements open with) after
    `delta` booked at `moment` but valued in an earlier month. The value
    month had none if nothing was booked in it: it opens with what the next
    recorded month opened with (nothing is valued in between), or with the
    balance. Every later month already recorded opens `delta` higher; one
    not recorded yet records the new balance at its first movement. Months
    that hold entries thus always have an opening. `item` must be exact."""
    value_month, booked_month = month_key(value_at), month_key(moment)
    opens = {k: int(v) for k, v in item.opens.as_dict().items() if k.startswith("m")}
    moved = {k: opens[k] + delta_cents for k in opens if value_month < k <= booked_month}
    if value_month not in opens:
        later = sorted(k for k in opens if k > value_month)
        moved[value_month] = opens[later[0]] if later else int(item.balance)
    return moved


def _value_dated(actions: list, party: Party, delta_cents: int, moment: datetime, value_at: datetime | None) -> list:
    """A value-dated side sets its month openings from its copy instead of
    recording this month's."""
    if party.copy is None or value_at is None or month_key(value_at) >= month_key(moment):
        return actions
    month = month_key(moment)
    actions = [a for a in actions if str(a.values[0]) != f"opens.{month}"]
    return actions + [AccountItem.opens[k].set(v) for k, v in value_dated_opens(party.copy, delta_cents, value_at,
                                                                                  moment).items()]


def _unchanged_since(party: Party):
    """The copy's item has had no movement since it was read."""
    if not party.copy.movements:
        return AccountItem.movements.does_not_exist() | (AccountItem.movements == 0)
    return AccountItem.movements == int(party.copy.movements)


def _earns(party: Party) -> bool:
    """A person's account accrues interest, so its daily openings are kept."""
    return party.user_id is not None


# Money in that does not show what a person earns: not counted toward credit.
INFLOW_KINDS_EXCLUDED = frozenset({"interest", "loan_disbursement"})


def _inflow_actions(party: Party, cents: int, moment: datetime) -> list:
    """A person's monthly money in, kept beside the balance so a credit
    decision reads one item, not months of entries."""
    if not _earns(party) or cents <= 0:
        return []
    key = month_key(moment)
    return [AccountItem.inflow[key].set((AccountItem.inflow[key] | 0) + cents)]


def _limit_update(limit: Limit, amount_cents: int, moment: datetime):
    totals = DailyTotals(*limit_key(limit.account_id, moment.date().isoformat()))
    counter = getattr(DailyTotals, limit.counter)
    if amount_cents > limit.max_cents:
        condition = DailyTotals.pk.exists() & DailyTotals.pk.does_not_exist()  # never true
    else:
        condition = counter.does_not_exist() | (counter <= limit.max_cents - amount_cents)
    actions = [counter.set((counter | 0) + amount_cents),
               DailyTotals.expires_at.set(int(moment.timestamp()) + LIMIT_TTL_S)]
    return totals, actions, condition


def _write(tx: TaggedTransaction, tag, extra: Extra) -> None:
    if extra.op == "save":
        tx.save(tag, extra.model, condition=extra.condition)
    elif extra.op == "update":
        tx.update(tag, extra.model, actions=extra.actions, condition=extra.condition)
    elif extra.op == "check":
        tx.check(tag, extra.model, condition=extra.condition)
    else:
        raise ValueError(f"unknown extra op {extra.op!r}")


# Legs ----------------------------------------------------------------------------

def _group(legs: list[Leg]) -> list[Leg]:
    """Each leg with its counterparty: the first leg of the other sign."""
    first_out = next((leg for leg in legs if leg.money.amount_cents < 0), None)
    first_in = next((leg for leg in legs if leg.money.amount_cents > 0), None)
    named = []
    for leg in legs:
        other = first_in if leg.money.amount_cents < 0 else first_out
        default = other.party.display if other is not None else leg.party.display
        named.append(leg if leg.counterparty is not None else replace(leg, counterparty=default))
    return named


def legs_of(m: Movement) -> tuple[Leg, ...]:
    """Every posting of `m`: the two-party legs (debit, credit, fee), then `m.legs`."""
    legs = []
    if m.debit is not None:
        amount, currency = m.money.amount_cents, m.money.currency
        fee = m.fee_cents if m.fee else 0
        legs.append(Leg(m.debit, Money(-amount, currency), counterparty=m.credit.display))
        legs.append(Leg(m.credit, Money(amount - fee, currency), counterparty=m.debit.display,
                        fee_cents=fee if m.fee else None))
        if m.fee:
            legs.append(Leg(m.fee, Money(fee, currency), counterparty=m.debit.display))
    return tuple(legs) + tuple(_group(list(m.legs)))


def _require_balanced(m: Movement, legs: tuple[Leg, ...]) -> None:
    """The shape of a movement, before anything is sent: refusals a caller's
    input can cause are ApiErrors, a caller's mistake in code is ValueError."""
    if (m.debit is None) != (m.credit is None) or (m.debit is None) != (m.money is None):
        raise ValueError("debit, credit and money come together")
    if m.debit is not None:
        if m.money.amount_cents <= 0:
            raise errors.InvalidRequest("amount must be positive", param="amount")
        if m.debit.account_id == m.credit.account_id:
            raise errors.SelfTransfer()
        if not 0 <= (m.fee_cents if m.fee else 0) <= m.money.amount_cents:
            raise ValueError("a fee is at most the amount")
    if not any(leg.money.amount_cents for leg in legs):
        raise errors.InvalidRequest("amount must be positive", param="amount")
    totals: dict[str, int] = {}
    for leg in legs:
        if not isinstance(leg, Leg) or not isinstance(leg.money, Money):
            raise ValueError("a leg is a Leg with Money")
        totals[leg.money.currency] = totals.get(leg.money.currency, 0) + leg.money.amount_cents
    if any(totals.values()):
        raise ValueError(f"the legs do not balance: {totals}")
    if not m.request_hash:
        raise ValueError("a movement carries its request's fingerprint")


def _headline(m: Movement, legs: tuple[Leg, ...]) -> tuple[Party, Party, Money]:
    """What the transfer shows as from, to and amount: the two parties, or
    the first leg out and the first leg in."""
    if m.debit is not None:
        return m.debit, m.credit, m.money
    out = next(leg for leg in legs if leg.money.amount_cents < 0)
    into = next(leg for leg in legs if leg.money.amount_cents > 0)
    return out.party, into.party, Money(-out.money.amount_cents, out.money.currency)


# Accounts of a movement -------------------------------------------------------------

@dataclass
class _Account:
    """What one movement does to one account item: every leg on it, and the
    holds it settles or places, added into one update."""
    party: Party
    delta: int = 0
    held: int = 0
    held_credit: int = 0
    inflow: int = 0
    settles: bool = False  # it settles a hold of this account: no status check, funds only past the held part
    actions: list = field(default_factory=list)
    legs: int = 0
    on_shard: bool = False  # credited on one of its credit shards (rule 8)

    def spendable_drop(self) -> int:
        return -(self.delta - self.held)


@dataclass(frozen=True)
class _HoldChange:
    """A change of one hold made with a movement (or alone).

    `held_cents` (signed) moves what the hold holds and its account's `held`.
    `exact`: the change was computed from the hold as read (it ends the hold,
    or takes all it holds), so it is conditioned on that amount; else on
    there being enough (changes by others commute)."""
    hold: HoldItem
    event_id: str
    held_cents: int
    exact: bool
    status: str = "pending"
    actions: tuple = ()
    condition: object = None


def _accounts(m: Movement, legs: tuple[Leg, ...], changes: tuple, forced: bool) -> dict[str, _Account]:
    accounts: dict[str, _Account] = {}
    for leg in legs:
        account = accounts.setdefault(leg.party.account_id, _Account(leg.party))
        account.delta += leg.money.amount_cents
        if leg.money.amount_cents > 0 and (leg.kind or m.kind) not in INFLOW_KINDS_EXCLUDED:
            account.inflow += leg.money.amount_cents
        if leg.party.actions and leg.party is not account.party:
            account.actions += list(leg.party.actions)
    for account in accounts.values():
        account.actions = list(account.party.actions) + account.actions
    for change in changes:
        account = accounts.get(change.hold.account_id)
        if account is None:
            raise ValueError("a hold changed with a movement belongs to one of its accounts")
        account.held += change.held_cents
        account.settles = True
        if change.hold.kind == "credit":
            account.held_credit += change.held_cents
    for placed in m.credit_holds:
        account = accounts.get(placed.account_id or (m.credit.account_id if m.credit else ""))
        if account is None or placed.money.amount_cents <= 0:
            raise ValueError("a credit hold holds part of what the movement credits one account")
        account.held += placed.money.amount_cents
        account.held_credit += placed.money.amount_cents
        account.inflow -= placed.money.amount_cents  # counted when it is released
    for account in accounts.values():
        if account.held_credit > 0 and account.held_credit > account.delta:
            raise ValueError("a credit hold holds at most what the movement credits")
    return accounts


def _account_condition(account: _Account, forced: bool):
    """Rule 4, for one account of a movement."""
    condition = AccountItem.pk.exists()
    party = account.party
    if party.copy is not None:
        condition = condition & _unchanged_since(party)
    if not party.customer or forced:
        return condition
    if not account.settles:
        condition = condition & (AccountItem.status == "active")
    drop = account.spendable_drop()
    if party.check_funds and drop > 0:
        condition = condition & (AccountItem.spendable >= drop)
    return condition


def _account_actions(account: _Account, moment: datetime, value_at: datetime | None) -> list:
    days = _earns(account.party)
    balance = _balance_actions(account.delta, moment, held_delta_cents=account.held, days=days,
                               held_credit_delta_cents=account.held_credit)
    counted = _receipt_actions(moment) if days and account.party.customer and account.delta > 0 else []
    return (_value_dated(balance, account.party, account.delta, moment, value_at)
            + _inflow_actions(account.party, account.inflow, moment) + counted + account.actions)


# Receipts per minute (rule 8) -------------------------------------------------------
#
# A person's account counts the credits it receives, per minute, in the item
# each lands on: no read and no write of its own, the counter rides on the
# credit's update. Three slots (minute % 3), each holding minute * STAMP +
# count: a credit starts its minute's slot from the stamp if the slot is
# absent, adds 1, and removes the next minute's slot, so that slot starts
# afresh. A slot whose stamp is not the minute a reader asks about is stale
# (no credit came in the minute before, so it was not cleared): it is not
# counted, which errs toward an account being cold.

RECEIPT_SLOTS = 3
RECEIPT_STAMP = 10_000_000  # > the credits one item can take in a minute (500/s)


def minute_of(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


def _receipt_slot(minute: int):
    return getattr(AccountItem, f"rx{minute % RECEIPT_SLOTS}")


def _receipt_actions(moment: datetime) -> list:
    minute = minute_of(moment)
    slot = _receipt_slot(minute)
    return [slot.set((slot | minute * RECEIPT_STAMP) + 1), _receipt_slot(minute + 1).remove()]


def receipts(items, moment: datetime) -> int:
    """Credits received per minute by these items together (an account item
    and its shards, as models or raw items): the larger of this minute's so
    far and the last minute's."""
    minute = minute_of(moment)
    counts = {minute: 0, minute - 1: 0}
    for item in items:
        for n in range(RECEIPT_SLOTS):
            raw = item.get(f"rx{n}", {}).get("N") if isinstance(item, dict) else getattr(item, f"rx{n}", None)
            if raw is None:
                continue
            stamp, count = divmod(int(raw), RECEIPT_STAMP)
            if stamp in counts:
                counts[stamp] += count
    return max(counts.values())


# The transaction of a movement ------------------------------------------------------

def _transfer_item(m: Movement, legs: tuple[Leg, ...], at: str, attempt: str, forced: bool) -> TransferItem:
    debit, credit, money = _headline(m, legs)
    return TransferItem(
        *transfer_key(m.transfer_id), id=m.transfer_id, kind=m.kind,
        from_account=debit.account_id, to_account=credit.account_id,
        from_party=debit.display, to_party=credit.display, from_user=debit.user_id, to_user=credit.user_id,
        amount=money.amount_cents, currency=money.currency, note=m.note, status="posted",
        created_at=at, request_hash=m.request_hash, attempt=attempt, hold_id=m.hold_id,
        fee=m.fee_cents if m.fee else None, forced=forced, rate=m.rate,
        legs=[LegMap(account_id=leg.party.account_id, amount=leg.money.amount_cents, currency=leg.money.currency,
                     party=leg.party.display, user_id=leg.party.user_id, kind=leg.kind, fee=leg.fee_cents)
              for leg in legs])


def _entry(m: Movement, leg: Leg, n: int, at: str) -> EntryItem:
    """The `n`-th entry (from 0) of this transfer on the leg's account."""
    account_id = leg.party.account_id
    entry_id = ids.derived_id("ent", m.transfer_id, account_id) if n == 0 else \
        ids.derived_id("ent", m.transfer_id, account_id, str(n))
    return EntryItem(*entry_key(account_id, at, m.transfer_id, n), id=entry_id, account_id=account_id,
                     transfer_id=m.transfer_id, kind=leg.kind or m.kind, amount=leg.money.amount_cents,
                     currency=leg.money.currency, counterparty=leg.counterparty, note=m.note, created_at=at,
                     fee=leg.fee_cents)


def _placed_credit_hold(m: Movement, placed: CreditHold, account: _Account, at: str) -> HoldItem:
    account_id = account.party.account_id
    item = HoldItem(*hold_key(placed.hold_id), id=placed.hold_id, kind="credit", account_id=account_id,
                    amount=placed.money.amount_cents, held_amount=placed.money.amount_cents,
                    currency=placed.money.currency, status="pending", created_at=at,
                    expires_at_iso=clock.iso(placed.available_on), description=placed.description,
                    owner_id=account.party.user_id, owner_display=account.party.display, transfer_id=m.transfer_id)
    item.gsi1_pk, item.gsi1_sk = pending_hold_index_keys(placed.hold_id, item.expires_at_iso, "credit")
    item.gsi2_pk, item.gsi2_sk = account_holds_index_keys(account_id, at, placed.hold_id)
    return item


def _hold_update(change: _HoldChange) -> tuple[HoldItem, list, object]:
    """The hold's side of a change: what it holds, its status, and the
    change's name in `applied`, conditioned on it still being pending and
    this change not yet applied (and, for an exact change, on what was read)."""
    hold = change.hold
    actions = [HoldItem.applied.add({change.event_id}), *change.actions]
    condition = (HoldItem.status == "pending") & ~HoldItem.applied.contains(change.event_id)
    if change.exact or hold.held_amount is None:
        actions.append(HoldItem.held_amount.set(hold.holding + change.held_cents))
        read = HoldItem.held_amount == hold.held_amount if hold.held_amount is not None \
            else HoldItem.held_amount.does_not_exist()
        condition = condition & read
    else:
        actions.append(HoldItem.held_amount.set(HoldItem.held_amount + change.held_cents))
        if change.held_cents < 0:
            condition = condition & (HoldItem.held_amount >= -change.held_cents)
    if change.status != "pending":
        actions += [HoldItem.status.set(change.status), HoldItem.gsi1_pk.remove(), HoldItem.gsi1_sk.remove(),
                    HoldItem.gsi2_pk.remove(), HoldItem.gsi2_sk.remove()]
    if change.condition is not None:
        condition = condition & change.condition
    return HoldItem(*hold_key(hold.id)), actions, condition


def _transaction(m: Movement, legs: tuple[Leg, ...], attempt: str, forced: bool,
                 changes: tuple = (),
                 unsharded: frozenset = frozenset()) -> tuple[TaggedTransaction, TransferItem, dict]:
    moment = clock.now()
    at = clock.iso(moment)
    accounts = _accounts(m, legs, changes, forced)
    record = _transfer_item(m, legs, at, attempt, forced)
    tx = TaggedTransaction()
    tx.save("transfer", record, condition=TransferItem.pk.does_not_exist(), return_values="ALL_OLD")
    for account_id, account in accounts.items():
        credited = _credited_item(account, m, unsharded)
        account.on_shard = credited.sk != AccountItem.ref(account_id).sk
        tx.update(("account", account_id), credited, _account_actions(account, moment, m.value_at),
                  condition=_account_condition(account, forced), return_values="ALL_OLD")
    entry_at = clock.iso(m.value_at) if m.value_at else at
    for i, leg in enumerate(legs):
        account = accounts[leg.party.account_id]
        tx.save(("entry", i), _entry(m, leg, account.legs, entry_at), condition=EntryItem.pk.does_not_exist())
        account.legs += 1
    for i, change in enumerate(changes):
        model, actions, condition = _hold_update(change)
        tx.update(("hold", i), model, actions, condition=condition, return_values="ALL_OLD")
    for i, placed in enumerate(m.credit_holds):
        account = accounts[placed.account_id or m.credit.account_id]
        tx.save(("credit_hold", i), _placed_credit_hold(m, placed, account, at),
                condition=HoldItem.pk.does_not_exist())
    headline = _headline(m, legs)[2].amount_cents
    for i, limit in enumerate(m.limits):
        counted = headline if limit.amount_cents is None else limit.amount_cents
        item, actions, condition = _limit_update(limit, counted, moment)
        tx.update(("limit", i), item, actions, condition=condition)
    payer, payee, _ = _headline(m, legs)
    paid = _person_to_person(payer, payee)
    if paid:
        tx.update("payee", PayeeItem.ref(payer.user_id, payee.user_id),
                  [PayeeItem.first_paid_at.set(PayeeItem.first_paid_at | at)])
    for i, extra in enumerate(m.extras):
        _write(tx, ("extra", i), extra)
    items = 1 + len(accounts) + len(legs) + len(changes) + len(m.credit_holds) + len(m.limits) + len(m.extras) \
        + int(paid)
    if items > TRANSACTION_ITEMS_MAX:
        raise ValueError(f"a movement of {items} items; at most {TRANSACTION_ITEMS_MAX}")
    return tx, record, accounts


def _credited_item(account: _Account, m: Movement, unsharded: frozenset = frozenset()) -> AccountItem:
    """The item a movement's update of this account goes to: one of its
    credit shards, at random, for a plain credit (rule 8); else the account
    item (also for an account whose shards this movement found retired,
    `unsharded`). A shard takes the account item's own update (same
    attribute names), so it keeps its own openings, inflow and receipts."""
    party = account.party
    plain = (account.delta > 0 and not account.held and not account.held_credit and not account.settles
             and not account.actions and party.copy is None and m.value_at is None
             and party.account_id not in unsharded)
    if party.credit_shards > 0 and plain:
        return AccountItem(*credit_shard_key(party.account_id, secrets.randbelow(party.credit_shards)))
    return AccountItem.ref(party.account_id)


def _person_to_person(payer: Party | None, payee: Party | None) -> bool:
    """Money one person sent another: the payer knows the payee from now on
    (step-up asks for a code the first time, finance/transfers.authorize)."""
    return bool(payer and payee and payer.user_id and payee.user_id and payer.user_id != payee.user_id)


def _answer(stored: TransferItem, request_hash: str, attempt: str) -> Posted:
    """A transfer that exists already: ours (an answer lost), a replay, or
    another request's under the same key."""
    if stored.attempt == attempt:
        return Posted(stored, replayed=False)  # our commit whose answer was lost
    if stored.request_hash != request_hash:
        raise errors.IdempotencyKeyReused()
    return Posted(stored, replayed=True)


def _refusal(failed: dict, accounts: dict, m: Movement, changes: tuple = ()) -> errors.ApiError:
    """The first refusal in API order among the failed conditions."""
    if any(("account", account_id) in failed and account.party.copy is not None
           for account_id, account in accounts.items()):
        raise StaleCopy("The account changed since it was read.")
    found = []
    for account_id, account in accounts.items():
        if ("account", account_id) in failed:
            old = failed[("account", account_id)].raw_item or {}
            if not old or old.get("status", {}).get("S") != "active" or account.spendable_drop() <= 0:
                found.append(account.party.inactive_refusal())
            else:
                found.append(errors.InsufficientFunds())
    for i, limit in enumerate(m.limits):
        if ("limit", i) in failed:
            found.append(errors.LimitExceeded(f"This exceeds the daily {limit.counter} limit."))
    for i, _ in enumerate(changes):
        if ("hold", i) in failed:
            found.append(errors.InvalidState("The hold is no longer pending."))
    for i, _ in enumerate(m.credit_holds):
        if ("credit_hold", i) in failed:
            found.append(errors.InvalidState("That hold exists already."))
    for i, extra in enumerate(m.extras):
        if ("extra", i) in failed:
            found.append(extra.refusal or errors.InvalidState())
    if not found:
        return errors.InvalidState("The movement was refused.")
    return min(found, key=_rank)


def _rank(refusal: errors.ApiError) -> int:
    for i, kind in enumerate(REFUSAL_ORDER):
        if isinstance(refusal, kind):
            return i
    return len(REFUSAL_ORDER)


class _Applied(Exception):
    """A build found its change made already (a replay, or this call's own
    commit whose answer was lost): it sends a probe instead, whose refusal
    carries the stored result."""


def _transfer_probe(transfer_id: str) -> TaggedTransaction:
    """A write of the transfer that can never succeed, asking for ALL_OLD:
    its refusal hands back the stored transfer, with no read."""
    tx = TaggedTransaction()
    never = TransferItem.pk.exists() & TransferItem.pk.does_not_exist()
    tx.update("transfer", TransferItem(*transfer_key(transfer_id)), [TransferItem.attempt.set(TransferItem.attempt)],
              condition=never, return_values="ALL_OLD")
    return tx


def _hold_probe(hold_id: str, event_id: str) -> TaggedTransaction:
    """The same for a hold change: refused, with the hold, since it is applied."""
    tx = TaggedTransaction()
    tx.update(("hold", 0), HoldItem(*hold_key(hold_id)), [HoldItem.applied.add({event_id})],
              condition=~HoldItem.applied.contains(event_id), return_values="ALL_OLD")
    return tx


def _lost_race(reads: dict) -> Callable[[dict], bool]:
    """For `commit(stale=...)`: the refusal of a hold that another writer
    changed since this build read it (this change not in it, and its status
    or what it holds moved) means build again, from a fresh read; anything
    else is an answer."""
    def stale(refusals: dict) -> bool:
        if "transfer" in refusals:
            return False
        for tag, reason in refusals.items():
            read = reads.get(tag)
            if read is None or not reason.raw_item:
                continue
            old = HoldItem.from_raw_data(reason.raw_item)
            if read.event_id not in (old.applied or ()) and \
                    (old.status != read.hold.status or old.holding != read.hold.holding):
                return True
        return False
    return stale


def _retired_shards(refusals: dict, accounts: dict) -> set[str]:
    """Accounts this attempt credited on a shard that is not there (retired
    since the payer read the count): the refusal hands back no item."""
    return {account_id for account_id, account in accounts.items()
            if account.on_shard and ("account", account_id) in refusals
            and not refusals[("account", account_id)].raw_item}


def _move(m: Movement, plan: Callable[[], tuple] | None = None, forced: bool | None = None,
          swept: bool = False) -> Posted:
    """Send one movement. `plan`, called afresh for every attempt, reads the
    holds it changes and returns (movement, hold changes); it raises
    `_Applied` when it finds the change made already. Refused for funds on
    an account with credit shards, it sweeps them and tries once more."""
    attempt = secrets.token_hex(8)
    built = []  # each attempt stamps its own time: the last one built is the one that committed
    unsharded: set = set()

    def build() -> TaggedTransaction:
        try:
            movement, changes = plan() if plan is not None else (m, ())
        except _Applied:
            reads.clear()
            return _transfer_probe(m.transfer_id)
        legs = legs_of(movement)
        _require_balanced(movement, legs)
        tx, record, accounts = _transaction(movement, legs, attempt, movement.forced if forced is None else forced,
                                            changes, frozenset(unsharded))
        built.append((movement, record, accounts, changes))
        reads.clear()
        reads.update({("hold", i): change for i, change in enumerate(changes)})
        return tx

    reads: dict = {}
    lost_race = _lost_race(reads)

    def stale(refusals: dict) -> bool:
        gone = _retired_shards(refusals, built[-1][2] if built else {})
        if gone and set(refusals) == {("account", account_id) for account_id in gone}:
            unsharded.update(gone)  # a payer's count outlived the shards: credit the item
            return True
        return lost_race(refusals)

    refusals = commit(build, ATTEMPTS_MAX, stale=stale)
    if "transfer" in refusals:
        raw = refusals["transfer"].raw_item
        stored = TransferItem.from_raw_data(raw) if raw else TransferItem.find(m.transfer_id)
        if stored is None:
            raise errors.InvalidState("The movement was refused.")
        return _answer(stored, m.request_hash, attempt)
    movement, record, accounts, changes = built[-1]
    if not refusals:
        return Posted(record, replayed=False)
    refusal = _refusal(refusals, accounts, movement, changes)
    if isinstance(refusal, errors.InsufficientFunds) and not swept and _sweep_refused(refusals, accounts):
        return _move(m, plan, forced, swept=True)
    raise refusal


def transfer(m: Movement, hold: HoldItem | None = None) -> Posted:
    """Move money exactly once: `m.money` from `m.debit` to `m.credit`,
    and/or the balanced set `m.legs`. With `hold` (the older form of
    `post_hold`), it captures that hold for `m.money`, finally."""
    if hold is not None:
        return capture_hold(hold.id, m.money.amount_cents, m.credit, m.transfer_id, m.kind, m.request_hash,
                            note=m.note, extras=m.extras)
    if m.debit is not None and m.debit.gate is not None:
        try:
            m = replace(m, extras=m.extras + tuple(m.debit.gate(m)))
        except errors.StepUpRequired:
            stored = TransferItem.find(m.transfer_id)
            if stored is None:
                raise
            return _answer(stored, m.request_hash, attempt="")  # a retry of a success needs no new code
    return _move(m)


# Holds --------------------------------------------------------------------

def _read_hold(hold_id: str) -> HoldItem:
    pending = HoldItem.find(hold_id)
    if pending is None:
        raise errors.NotFound("No such hold.")
    return pending


def _require_pending(pending: HoldItem, kind: str) -> None:
    if (pending.kind or "debit") != kind:
        raise errors.InvalidState(f"The hold is a {pending.kind} hold.")
    if pending.status != "pending":
        raise errors.InvalidState(f"The hold is {pending.status}.")
    if len(pending.applied or ()) >= HOLD_CHANGES_MAX:
        raise errors.InvalidState("The hold has changed too many times.")


def _holder(pending: HoldItem, refusal: type = errors.NotEligible) -> Party:
    """The account holder as the transfer that settles the hold names them."""
    return Party(pending.account_id, display=pending.owner_display or pending.description or "hold",
                 user_id=pending.owner_id, customer=True, inactive_refusal=refusal)


def hold(hold_id: str, party: Party, money: Money, expires_at: datetime, description: str = "",
         limits: tuple = (), extras: tuple = (), swept: bool = False) -> HoldItem:
    """Set money aside on a customer account: `held` grows and `spendable`
    falls at once; the balance is unchanged until the hold is captured.
    `limits` are bumped by the amount and `extras` written in the same
    transaction (a card authorization, its network event, the card's
    counters). Idempotent on `hold_id`: placing the same hold twice returns
    the first."""
    if money.amount_cents <= 0:
        raise errors.InvalidRequest("amount must be positive", param="amount")
    now = clock.now()
    at = clock.iso(now)
    item = HoldItem(*hold_key(hold_id), id=hold_id, kind="debit", account_id=party.account_id,
                    amount=money.amount_cents, held_amount=money.amount_cents, currency=money.currency,
                    status="pending", created_at=at, expires_at_iso=clock.iso(expires_at), description=description,
                    owner_id=party.user_id, owner_display=party.display)
    item.gsi1_pk, item.gsi1_sk = pending_hold_index_keys(hold_id, item.expires_at_iso)
    item.gsi2_pk, item.gsi2_sk = account_holds_index_keys(party.account_id, at, hold_id)
    amount = money.amount_cents
    account = _Account(party, held=amount)
    tx = TaggedTransaction()
    tx.save("hold", item, condition=HoldItem.pk.does_not_exist(), return_values="ALL_OLD")
    tx.update(("account", party.account_id), AccountItem.ref(party.account_id),
              [AccountItem.held.set(AccountItem.held + amount),
               AccountItem.spendable.set(AccountItem.spendable - amount)]
              + list(party.actions),
              condition=_account_condition(account, forced=False), return_values="ALL_OLD")
    for i, limit in enumerate(limits):
        totals, actions, condition = _limit_update(limit, amount, now)
        tx.update(("limit", i), totals, actions, condition=condition)
    for i, extra in enumerate(extras):
        _write(tx, ("extra", i), extra)
    failed = commit(tx, ATTEMPTS_MAX)
    if not failed:
        return item
    if "hold" in failed:
        raw = failed["hold"].raw_item
        return HoldItem.from_raw_data(raw) if raw else HoldItem.find(hold_id)
    refusal = _refusal(failed, {party.account_id: account}, Movement("", "hold", limits=limits, extras=extras))
    if isinstance(refusal, errors.InsufficientFunds) and not swept and \
            _sweep_refused(failed, {party.account_id: account}):
        return hold(hold_id, party, money, expires_at, description, limits, extras, swept=True)
    raise refusal


def increment_hold(hold_id: str, increment_id: str, money: Money, limits: tuple = (), extras: tuple = (),
                   expires_at: datetime | None = None) -> HoldChanged:
    """Raise a pending debit hold by `money`, funds-checked like a new hold
    (refused: InsufficientFunds, AccountFrozen, LimitExceeded, or an extra's
    refusal — and the hold is left as it was). `increment_id` (from the
    network event) makes a retry a replay. `expires_at` moves its expiry."""
    if money.amount_cents <= 0:
        raise errors.InvalidRequest("amount must be positive", param="amount")
    amount = money.amount_cents

    def change_of(pending: HoldItem) -> _HoldChange:
        if pending.currency != money.currency:
            raise errors.InvalidRequest("The hold is in another currency.", param="currency")
        more = [HoldItem.amount.set(HoldItem.amount + amount)]
        if expires_at is not None:
            expiry = clock.iso(expires_at)
            more += [HoldItem.expires_at_iso.set(expiry),
                     HoldItem.gsi1_sk.set(pending_hold_index_keys(pending.id, expiry)[1])]
        return _HoldChange(pending, increment_id, amount, exact=False, actions=tuple(more))

    return _change_hold(hold_id, increment_id, "debit", change_of, limits, extras, errors.AccountFrozen)


def _change_hold(hold_id: str, event_id: str, kind: str, change_of: Callable[[HoldItem], _HoldChange],
                 limits: tuple = (), extras: tuple = (), refusal: type = errors.NotEligible) -> HoldChanged:
    """A change of one hold and its account that moves no money between
    accounts (an increment, a release): one transaction, rebuilt from a
    fresh read when another writer changed the hold in between."""
    built = []

    def build() -> TaggedTransaction:
        pending = _read_hold(hold_id)
        if event_id in (pending.applied or ()):
            reads.clear()
            return _hold_probe(hold_id, event_id)
        _require_pending(pending, kind)
        change = change_of(pending)
        moment = clock.now()
        account = _Account(_holder(pending, refusal), held=change.held_cents, settles=change.held_cents < 0)
        actions = [AccountItem.held.set(AccountItem.held + change.held_cents),
                   AccountItem.spendable.set(AccountItem.spendable - change.held_cents)]
        if kind == "credit":
            days = _earns(account.party)
            actions += _held_credit_actions(change.held_cents, moment, days) + [AccountItem.movements.add(1)]
            actions += _inflow_actions(account.party, -change.held_cents, moment)  # available now: money in
        tx = TaggedTransaction()
        model, hold_actions, condition = _hold_update(change)
        tx.update(("hold", 0), model, hold_actions, condition=condition, return_values="ALL_OLD")
        tx.update(("account", pending.account_id), AccountItem.ref(pending.account_id), actions,
                  condition=_account_condition(account, forced=False), return_values="ALL_OLD")
        for i, limit in enumerate(limits):
            totals, limit_actions, limit_condition = _limit_update(limit, change.held_cents, moment)
            tx.update(("limit", i), totals, limit_actions, condition=limit_condition)
        for i, extra in enumerate(extras):
            _write(tx, ("extra", i), extra)
        built.append((change, account))
        reads.clear()
        reads[("hold", 0)] = change
        return tx

    reads: dict = {}
    failed = commit(build, ATTEMPTS_MAX, stale=_lost_race(reads))
    raw = failed[("hold", 0)].raw_item if ("hold", 0) in failed else None
    if raw and event_id in (HoldItem.from_raw_data(raw).applied or ()):
        if built:  # this call sent the change: its answer was lost
            return HoldChanged(_after(built[-1][0]), replayed=False)
        return HoldChanged(HoldItem.from_raw_data(raw), replayed=True)
    if not failed:
        return HoldChanged(_after(built[-1][0]), replayed=False)
    change, account = built[-1]
    raise _refusal(failed, {account.party.account_id: account}, Movement("", "hold", limits=limits, extras=extras),
                   (change,))


def _after(change: _HoldChange) -> HoldItem:
    """The hold as `change` left it (concurrent commuting changes aside)."""
    hold = HoldItem.from_raw_data(change.hold.serialize())
    hold.held_amount = hold.holding + change.held_cents
    hold.status = change.status
    hold.applied = set(hold.applied or ()) | {change.event_id}
    if change.held_cents > 0 and hold.kind == "debit":
        hold.amount = int(hold.amount) + change.held_cents
    if change.status != "pending":
        hold.gsi1_pk = hold.gsi1_sk = hold.gsi2_pk = hold.gsi2_sk = None
    return hold


def capture_hold(hold_id: str, amount_cents: int, credit: Party, transfer_id: str, kind: str, request_hash: str,
                 note: str = "", final: bool = True, over_cents_max: int = 0, legs: tuple = (),
                 extras: tuple = ()) -> Posted:
    """Capture `amount_cents` of a pending debit hold into `credit`, in one
    transfer with `legs` (cashback) and `extras`. A capture of a live hold
    always succeeds: the held part needs no funds and no active account.
    Above what the hold holds, up to `over_cents_max` more may post (the
    tolerance the caller names: 20% of a restaurant's authorization); that
    part needs spendable funds, or posts forced (the transfer `forced: true`).
    `final`: the rest of the hold is released and the hold is `posted`;
    else the rest stays pending for later captures (then `posted` when
    nothing is left). `transfer_id` (from the network event) makes a retry a
    replay. Refused: NotFound, InvalidState (not pending: an expired hold's
    clearing is a forced `transfer` instead), InvalidRequest (amount)."""
    if type(amount_cents) is not int or amount_cents <= 0:
        raise errors.InvalidRequest("amount must be positive", param="amount")
    if type(over_cents_max) is not int or over_cents_max < 0:
        raise ValueError("over_cents_max is a non-negative integer")

    def plan() -> tuple[Movement, tuple]:
        pending = _read_hold(hold_id)
        if transfer_id in (pending.applied or ()):
            raise _Applied()
        _require_pending(pending, "debit")
        remaining = pending.holding
        if amount_cents > remaining + over_cents_max:
            raise errors.InvalidRequest("A hold posts for at most the held amount and the tolerance named.",
                                        param="amount")
        from_held = min(amount_cents, remaining)
        released = remaining - from_held if final else 0
        left = remaining - from_held - released
        change = _HoldChange(pending, transfer_id, -(from_held + released),
                             exact=left == 0 or amount_cents > remaining, status="pending" if left else "posted",
                             actions=(HoldItem.posted_amount.add(amount_cents), HoldItem.released_amount.add(released)))
        movement = Movement(transfer_id=transfer_id, kind=kind, debit=_holder(pending), credit=credit,
                            money=Money(amount_cents, pending.currency), request_hash=request_hash, note=note,
                            legs=legs, extras=extras, hold_id=hold_id)
        return movement, (change,)

    template = Movement(transfer_id=transfer_id, kind=kind, request_hash=request_hash)
    try:
        return _move(template, plan, forced=False)
    except errors.InsufficientFunds:
        # Only the part above the hold can lack funds: a capture always succeeds, so it posts forced.
        return _move(template, plan, forced=True)


def post_hold(hold_id: str, amount_cents: int, credit: Party, transfer_id: str, kind: str,
              request_hash: str, note: str = "") -> Posted:
    """Capture up to the held amount into `credit`; the rest is released.
    Exactly once: the hold moves pending -> posted in the same transaction."""
    return capture_hold(hold_id, amount_cents, credit, transfer_id, kind, request_hash, note=note)


def reverse_hold(hold_id: str, release_id: str, amount_cents: int | None = None, extras: tuple = ()) -> HoldChanged:
    """Release all (None) or part of a pending debit hold: `held` falls and
    `spendable` rises by it. Released whole, the hold is `voided`; in part,
    it stays pending with the rest. `release_id` (from the network event)
    makes a retry a replay."""
    return _release(hold_id, release_id, amount_cents, "debit", "voided", extras)


def _release(hold_id: str, event_id: str, amount_cents: int | None, kind: str, outcome: str,
             extras: tuple = ()) -> HoldChanged:
    if amount_cents is not None and (type(amount_cents) is not int or amount_cents <= 0):
        raise errors.InvalidRequest("amount must be positive", param="amount")

    def change_of(pending: HoldItem) -> _HoldChange:
        remaining = pending.holding
        amount = remaining if amount_cents is None else amount_cents
        if amount > remaining:
            raise errors.InvalidRequest("A release is at most what the hold holds.", param="amount")
        ends = amount == remaining
        condition = None
        if outcome == "expired":
            now = clock.iso(clock.now())
            if pending.expires_at_iso > now:
                raise errors.InvalidState("The hold has not expired.")
            condition = HoldItem.expires_at_iso <= now
        more = [HoldItem.released_amount.add(amount)]
        if ends:
            more.append(HoldItem.released_by.set(event_id))
        return _HoldChange(pending, event_id, -amount, exact=ends, status=outcome if ends else "pending",
                           actions=tuple(more), condition=condition)

    return _change_hold(hold_id, event_id, kind, change_of, extras=extras)


def release_hold(hold_id: str, outcome: str = "voided", extras: tuple = ()) -> HoldItem:
    """Void (or expire) a pending debit hold: the held money is spendable
    again, `extras` (the card transaction marked expired) with it. Exactly
    once: a second release is InvalidState."""
    if outcome not in ("voided", "expired"):
        raise ValueError(outcome)
    changed = _release(hold_id, secrets.token_hex(8), None, "debit", outcome, extras)
    return changed.hold


def void_hold(hold_id: str, extras: tuple = ()) -> HoldItem:
    return release_hold(hold_id, "voided", extras)


def expire_hold(hold_id: str, extras: tuple = ()) -> HoldItem:
    """Refused (InvalidState) before the hold's expiry."""
    return release_hold(hold_id, "expired", extras)


# Credit holds -------------------------------------------------------------------
#
# A movement places them (`Movement.credit_holds`): the deposit raises
# `balance` and `held` (and `held_credit`) together, so `spendable` moves by
# the available part alone, and only that part counts as money in.

def release_credit_hold(hold_id: str, release_id: str | None = None, amount_cents: int | None = None,
                        extras: tuple = ()) -> HoldChanged:
    """Make held deposit money available: `held` and `held_credit` fall,
    `spendable` rises, and the amount counts as money in (`inflow`) now.
    All of it (None, the hold ends `released`) or part (it stays pending).
    `release_id` (the job's, from hold and as-of date) makes a rerun a
    replay; without it a second full release is InvalidState."""
    return _release(hold_id, release_id or secrets.token_hex(8), amount_cents, "credit", "released", extras)


def return_credit(m: Movement, hold_ids: tuple) -> Posted:
    """Reverse a deposit credited with holds (a returned check): `m` takes
    the deposit back from `m.debit`, the account it credited (a return fee
    rides as more legs). The part still held goes first: each pending hold
    of `hold_ids` ends `returned`, `held` and `balance` falling together
    (`spendable` unmoved); the rest is a forced debit, which may leave the
    balance below -credit_limit, and the transfer is `forced: true` exactly
    when there was such a rest. Exactly once, by `m.transfer_id`; a return
    racing the release job is built again from what the job left."""
    if m.debit is None or not m.debit.customer:
        raise ValueError("a return takes the deposit back from the customer account it credited")

    def plan() -> tuple[Movement, tuple]:
        holds = [_read_hold(hold_id) for hold_id in hold_ids]
        if any(m.transfer_id in (h.applied or ()) for h in holds):
            raise _Applied()
        changes = []
        for h in holds:
            if (h.kind or "debit") != "credit" or h.account_id != m.debit.account_id:
                raise ValueError(f"{h.id} is not a credit hold of {m.debit.account_id}")
            if h.status == "pending":
                changes.append(_HoldChange(h, m.transfer_id, -h.holding, exact=True, status="returned"))
        taken = -sum(leg.money.amount_cents for leg in legs_of(m) if leg.party.account_id == m.debit.account_id)
        from_held = -sum(change.held_cents for change in changes)
        return replace(m, forced=taken > from_held, hold_id=m.hold_id or (hold_ids[0] if hold_ids else None)), \
            tuple(changes)

    return _move(m, plan)


def pending_holds(account_id: str, consistent: bool = False) -> list[HoldItem]:
    """An account's pending holds (debit and credit), oldest first, at most
    PENDING_HOLDS_MAX. From an index, which may lag the holds by a moment;
    `consistent` reads each listed hold again, consistently."""
    found = []
    for item in HoldItem.pending_by_account.query(account_holds_partition(account_id)):
        found.append(item)
        if len(found) > PENDING_HOLDS_MAX:
            raise errors.InvalidRequest("The account has too many pending holds to list.")
    if consistent and found:
        raws = base.batch_get("balances", [hold_key(item.id) for item in found], consistent=True)
        again = {item.id: item for item in (HoldItem.from_raw_data(raw) for raw in raws)}
        found = [again[item.id] for item in found if item.id in again]
    return [item for item in found if item.status == "pending"]


def holds_due(kind: str, through: datetime) -> Iterator[str]:
    """The ids of pending holds of `kind` whose expiry (debit) or
    availability (credit) is at or before `through`, from the index (which
    may lag: a change's own condition refuses what is no longer pending)."""
    bound = pending_hold_due_bound(clock.iso(through))
    for shard in range(PENDING_HOLD_SHARDS):
        for item in HoldItem.pending_by_expiry.query(pending_hold_shard(shard, kind), HoldItem.gsi1_sk < bound,
                                                     attributes_to_get=["id"]):
            yield item.id


# Credit shards (rule 8) --------------------------------------------------------

SWEEP_SHARDS_PER_TRANSACTION = 20


def _sweep_refused(failed: dict, accounts: dict) -> bool:
    """After a refusal for funds: sweep the credit shards of each account
    refused whose item (as the refusal handed it back) has shards; whether
    any money moved to an item."""
    moved = False
    for account_id, account in accounts.items():
        reason = failed.get(("account", account_id))
        old = (reason.raw_item or {}) if reason is not None else {}
        if account.spendable_drop() > 0 and int(old.get("credit_shards", {}).get("N", "0")):
            moved = sweep_credit_shards(account_id) > 0 or moved
    return moved


def credit_shard_items(account_id: str, shards: int) -> list:
    """The account's credit shards that exist, read consistently, as raw items."""
    if not shards:
        return []
    return base.batch_get("balances", [credit_shard_key(account_id, n) for n in range(shards)], consistent=True)


def sweep_credit_shards(account_id: str, keep_days_after: str | None = None) -> int:
    """Move every credit shard's balance to the account item: the account's
    balance (item + shards) is unchanged, so no entry is written; each shard
    and the item record their openings of the month and day like any
    movement, so statements and accrual read the same closes before and
    after. One transaction per SWEEP_SHARDS_PER_TRANSACTION shards, each
    conditioned on the shard still holding what was read (only credits,
    which commute, and sweeps change it: a lost race is read again).
    `keep_days_after` (YYYY-MM-DD, the account's `accrued_through`): daily
    openings of a shard up to it have been used by accrual and are removed.
    Returns the amount moved."""
    account = AccountItem.find(account_id)
    if account is None or not account.credit_shards:
        return 0
    watermark = keep_days_after or account.accrued_through
    moved = 0
    shards = list(range(int(account.credit_shards)))
    for start in range(0, len(shards), SWEEP_SHARDS_PER_TRANSACTION):
        chunk = shards[start:start + SWEEP_SHARDS_PER_TRANSACTION]
        done = []

        def build() -> TaggedTransaction:
            done.clear()
            raws = base.batch_get("balances", [credit_shard_key(account_id, n) for n in chunk], consistent=True)
            tx = TaggedTransaction()
            moment = clock.now()
            total = 0
            for raw in raws:
                item = AccountItem.from_raw_data(raw)
                amount = int(item.balance)
                stale = _used_days(item, watermark)
                if amount <= 0 and not stale:
                    continue
                actions = [AccountItem.opens[k].remove() for k in stale]
                condition = AccountItem.pk.exists()
                if amount > 0:
                    actions += _balance_actions(-amount, moment, days=True)
                    condition = condition & (AccountItem.balance >= amount)
                tx.update(("shard", item.sk), AccountItem(item.pk, item.sk), actions, condition=condition)
                total += amount
            if total:
                tx.update("account", AccountItem.ref(account_id),
                          _balance_actions(total, moment, days=account.kind == "customer"),
                          condition=AccountItem.pk.exists())
            else:  # nothing to move (another sweep emptied them): a write that changes nothing
                tx.check("account", AccountItem.ref(account_id), AccountItem.pk.exists())
            done.append(total)
            return tx

        commit(build, ATTEMPTS_MAX, stale=tuple(("shard", credit_shard_key(account_id, n)[1]) for n in chunk))
        moved += done[-1] if done else 0
    return moved


def _used_days(item: AccountItem, watermark: str | None) -> list[str]:
    """A shard's daily openings accrual has used (days up to its watermark)."""
    if not watermark:
        return []
    bound = "d" + watermark.replace("-", "")
    return [k for k in item.opens.as_dict() if k.startswith("d") and k <= bound]


# Credit line ----------------------------------------------------------------

def set_credit_limit(account_id: str, credit_limit_cents: int, extras: tuple = ()) -> AccountItem:
    """Change the credit line; `spendable` moves by the difference. The
    condition on the old limit makes a concurrent change retry, not race.
    `extras` (an audit record) are written in the same transaction."""
    if type(credit_limit_cents) is not int or credit_limit_cents < 0:
        raise errors.InvalidRequest("credit_limit is a non-negative integer", param="credit_limit")

    def build() -> TaggedTransaction:
        account = AccountItem.find(account_id)
        if account is None:
            raise errors.NotFound("No money account.")
        old = int(account.credit_limit)
        tx = TaggedTransaction()
        tx.update("account", AccountItem.ref(account_id),
                  [AccountItem.credit_limit.set(credit_limit_cents),
                   AccountItem.spendable.set(AccountItem.spendable + (credit_limit_cents - old))],
                  condition=AccountItem.credit_limit == old)
        for i, extra in enumerate(extras):
            _write(tx, ("extra", i), extra)
        return tx

    # A refused condition on the old limit is a lost race: read it again.
    stale = ("account",) + tuple(("extra", i) for i in range(len(extras)))
    commit(build, ATTEMPTS_MAX, stale=stale)
    return AccountItem.find(account_id)
