"""THE ONLY CODE THAT CHANGES A BALANCE.

It reads like the money rules of DESIGN.md:

1. Amounts are `Money` (integer minor units).
2. Every movement is one transfer: one debit account, one credit account,
   two immutable entries that sum to zero.
3. One `TransactWriteItems` per movement holds the transfer record
   (`attribute_not_exists`), both conditional balance updates, both entries,
   the day's limit counters and any item that must be atomic with the money
   (`Extra`). Balances change by `SET balance = balance + :x`, never by a
   read-modify-write.
4. A debit the customer starts needs `spendable >= amount` and an active
   account; `spendable = balance - held + credit_limit` is kept on the item.
5. The transfer id derives from (caller, idempotency key): a replay fails the
   `attribute_not_exists` condition, and with `ALL_OLD` the cancelled
   transaction hands back the stored transfer — no extra read.
6. Holds are two-phase: pending -> posted (at most the held amount) | voided
   | expired, exactly once.
9. A cancelled transaction changed nothing; its reasons map to one refusal.
   Conflicts and throttling are retried with capped backoff (safe by rule 5):
   `db.transact.commit`, the one commit path, here as everywhere.
"""
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from chalicelib import clock, errors, ids
from chalicelib.db.balances import (AccountItem, DailyTotals, EntryItem, HoldItem, PayeeItem, TransferItem, entry_key,
                                    hold_key, limit_key, pending_hold_index_keys, transfer_key)
from chalicelib.db.transact import TaggedTransaction, commit
from chalicelib.finance.money import Money

ATTEMPTS_MAX = 6
LIMIT_TTL_S = 3 * 86400
# The order of refusals of API.md: 401 (a session ended mid-request), 403, then 409, then the 422s in this order.
REFUSAL_ORDER = (errors.Unauthenticated, errors.AccountFrozen, errors.Forbidden, errors.NotFound, errors.InvalidState,
                 errors.SelfTransfer, errors.NotEligible, errors.LimitExceeded, errors.InsufficientFunds)


@dataclass(frozen=True)
class Party:
    """One side of a movement.

    Attributes:
      account_id: the account (a customer's, or one shard of a system account).
      display: what the other side sees: a handle, or the system account's name.
      user_id: the person, None for system accounts.
      customer: customer accounts must be active; their debits need spendable funds.
      inactive_refusal: raised when this account is missing, frozen or closed
        (AccountFrozen for the caller's own account, NotEligible for a receiver).
      check_funds: False for debits the customer did not start (interest
        charges), which may take the balance below -credit_limit.
      actions: more updates of this account item, in the same update (an item
        may appear only once in a transaction): e.g. the interest watermark.
      gate: for the debit of a movement the caller starts, the caller's
        authorisation: `gate(movement)` returns the Extras that must hold in
        the movement's own transaction (the session still live, a step-up
        code spent) or raises the refusal (step_up_required). None: none.
    """
    account_id: str
    display: str
    user_id: str | None = None
    customer: bool = True
    inactive_refusal: type = errors.NotEligible
    check_funds: bool = True
    actions: tuple = ()
    gate: Callable | None = None


@dataclass(frozen=True)
class Limit:
    """A running daily total on `account_id`'s LIM item, bumped by the amount;
    the movement is refused if it would pass `max_cents`."""
    account_id: str
    counter: str  # "sent" | "deposited"
    max_cents: int


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
class Movement:
    transfer_id: str
    kind: str
    debit: Party
    credit: Party
    money: Money
    request_hash: str
    note: str = ""
    limits: tuple = ()
    extras: tuple = ()
    hold_id: str | None = None
    fee: Party | None = None
    fee_cents: int = 0


@dataclass(frozen=True)
class Posted:
    """The outcome of a movement: the transfer as stored, and whether this
    call was a replay of an earlier success."""
    transfer: TransferItem
    replayed: bool


def month_key(moment) -> str:
    """The `opens` and `inflow` key of a month."""
    return "m" + moment.strftime("%Y%m")


def day_key(day) -> str:
    """The `opens` key of a day's opening balance (= the previous day's close)."""
    return "d" + day.strftime("%Y%m%d")


def _balance_actions(delta_cents: int, moment: datetime, held_delta_cents: int = 0, days: bool = False) -> list:
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
    return actions


def _earns(party: Party) -> bool:
    """A person's account accrues interest, so its daily openings are kept."""
    return party.user_id is not None


# Money in that does not show what a person earns: not counted toward credit.
INFLOW_KINDS_EXCLUDED = frozenset({"interest", "loan_disbursement"})


def _inflow_actions(m: Movement, party: Party, cents: int, moment: datetime) -> list:
    """A person's monthly money in, kept beside the balance so a credit
    decision reads one item, not months of entries."""
    if not _earns(party) or m.kind in INFLOW_KINDS_EXCLUDED or cents <= 0:
        return []
    key = month_key(moment)
    return [AccountItem.inflow[key].set((AccountItem.inflow[key] | 0) + cents)]


def _debit_condition(party: Party, amount_cents: int):
    condition = AccountItem.pk.exists()
    if party.customer:
        condition = condition & (AccountItem.status == "active")
        if party.check_funds:
            condition = condition & (AccountItem.spendable >= amount_cents)
    return condition


def _credit_condition(party: Party):
    condition = AccountItem.pk.exists()
    if party.customer:
        condition = condition & (AccountItem.status == "active")
    return condition


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


def _transfer_item(m: Movement, at: str, attempt: str) -> TransferItem:
    return TransferItem(
        *transfer_key(m.transfer_id), id=m.transfer_id, kind=m.kind,
        from_account=m.debit.account_id, to_account=m.credit.account_id,
        from_party=m.debit.display, to_party=m.credit.display,
        from_user=m.debit.user_id, to_user=m.credit.user_id,
        amount=m.money.amount_cents, currency=m.money.currency, note=m.note, status="posted",
        created_at=at, request_hash=m.request_hash, attempt=attempt, hold_id=m.hold_id,
        fee=m.fee_cents if m.fee else None)


def _entry(account_id: str, m: Movement, signed_cents: int, counterparty: str, at: str,
           fee_cents: int | None = None) -> EntryItem:
    return EntryItem(*entry_key(account_id, at, m.transfer_id), id=ids.derived_id("ent", m.transfer_id, account_id),
                     account_id=account_id, transfer_id=m.transfer_id, kind=m.kind, amount=signed_cents,
                     currency=m.money.currency, counterparty=counterparty, note=m.note, created_at=at,
                     fee=fee_cents)


def _write(tx: TaggedTransaction, tag, extra: Extra) -> None:
    if extra.op == "save":
        tx.save(tag, extra.model, condition=extra.condition)
    elif extra.op == "update":
        tx.update(tag, extra.model, actions=extra.actions, condition=extra.condition)
    elif extra.op == "check":
        tx.check(tag, extra.model, condition=extra.condition)
    else:
        raise ValueError(f"unknown extra op {extra.op!r}")


def _transaction(m: Movement, attempt: str, hold: HoldItem | None) -> tuple[TaggedTransaction, TransferItem]:
    moment = clock.now()
    at = clock.iso(moment)
    amount = m.money.amount_cents
    # A fee splits the credit: the payee gets amount - fee, the fee account the fee.
    fee = m.fee_cents if m.fee else 0
    if not 0 <= fee <= amount:
        raise ValueError("a fee is at most the amount")
    record = _transfer_item(m, at, attempt)
    tx = TaggedTransaction()
    tx.save("transfer", record, condition=TransferItem.pk.does_not_exist(), return_values="ALL_OLD")
    if hold is None:
        tx.update("debit", AccountItem.ref(m.debit.account_id),
                  _balance_actions(-amount, moment, days=_earns(m.debit)) + list(m.debit.actions),
                  condition=_debit_condition(m.debit, amount), return_values="ALL_OLD")
    else:
        # Posting a hold: the money was set aside when it was placed, so the
        # debit needs no spendable check; the unused rest is released.
        tx.update("debit", AccountItem.ref(m.debit.account_id),
                  _balance_actions(-amount, moment, held_delta_cents=-int(hold.amount), days=_earns(m.debit))
                  + list(m.debit.actions),
                  condition=AccountItem.pk.exists(), return_values="ALL_OLD")
    tx.update("credit", AccountItem.ref(m.credit.account_id),
              _balance_actions(amount - fee, moment, days=_earns(m.credit))
              + _inflow_actions(m, m.credit, amount - fee, moment) + list(m.credit.actions),
              condition=_credit_condition(m.credit))
    tx.save("entry", _entry(m.debit.account_id, m, -amount, m.credit.display, at), condition=EntryItem.pk.does_not_exist())
    tx.save("entry", _entry(m.credit.account_id, m, amount - fee, m.debit.display, at, fee_cents=fee if m.fee else None),
            condition=EntryItem.pk.does_not_exist())
    if m.fee:
        tx.update("fee", AccountItem.ref(m.fee.account_id), _balance_actions(fee, moment),
                  condition=_credit_condition(m.fee))
        tx.save("entry", _entry(m.fee.account_id, m, fee, m.debit.display, at), condition=EntryItem.pk.does_not_exist())
    for i, limit in enumerate(m.limits):
        item, actions, condition = _limit_update(limit, amount, moment)
        tx.update(("limit", i), item, actions, condition=condition)
    if _person_to_person(m):
        tx.update("payee", PayeeItem.ref(m.debit.user_id, m.credit.user_id),
                  [PayeeItem.first_paid_at.set(PayeeItem.first_paid_at | at)])
    for i, extra in enumerate(m.extras):
        _write(tx, ("extra", i), extra)
    return tx, record


def _person_to_person(m: Movement) -> bool:
    """Money one person sent another: the payer knows the payee from now on
    (step-up asks for a code the first time, identity/stepup.py)."""
    return bool(m.debit.user_id and m.credit.user_id and m.debit.user_id != m.credit.user_id)


def _outcome(m: Movement, failed: dict, attempt: str) -> Posted:
    """Map the failed conditions to the outcome: a replay, our own earlier
    commit, or the first refusal in API order."""
    if "transfer" in failed:
        raw = failed["transfer"].raw_item
        stored = getattr(failed["transfer"], "item", None) or \
            (TransferItem.from_raw_data(raw) if raw else TransferItem.find(m.transfer_id))
        if stored.attempt == attempt:
            return Posted(stored, replayed=False)  # our commit whose answer was lost
        if stored.request_hash != m.request_hash:
            raise errors.IdempotencyKeyReused()
        return Posted(stored, replayed=True)
    found = []
    if "debit" in failed:
        old = failed["debit"].raw_item or {}
        if not old or old.get("status", {}).get("S") != "active":
            found.append(m.debit.inactive_refusal())
        else:
            found.append(errors.InsufficientFunds())
    if "credit" in failed:
        found.append(m.credit.inactive_refusal())
    for i, limit in enumerate(m.limits):
        if ("limit", i) in failed:
            found.append(errors.LimitExceeded(f"This exceeds the daily {limit.counter} limit."))
    for i, extra in enumerate(m.extras):
        if ("extra", i) in failed:
            found.append(extra.refusal or errors.InvalidState())
    if not found:
        raise errors.InvalidState("The movement was refused.")
    raise min(found, key=_rank)


@dataclass(frozen=True)
class _Stored:
    """A transfer already stored, as `_outcome` takes a cancellation reason."""
    item: TransferItem
    raw_item = None


def _rank(refusal: errors.ApiError) -> int:
    for i, kind in enumerate(REFUSAL_ORDER):
        if isinstance(refusal, kind):
            return i
    return len(REFUSAL_ORDER)


def transfer(m: Movement, hold: HoldItem | None = None) -> Posted:
    """Move `m.money` from `m.debit` to `m.credit`, exactly once."""
    if m.money.amount_cents <= 0:
        raise errors.InvalidRequest("amount must be positive", param="amount")
    if m.debit.account_id == m.credit.account_id:
        raise errors.SelfTransfer()
    if m.debit.gate is not None:
        try:
            m = replace(m, extras=m.extras + tuple(m.debit.gate(m)))
        except errors.StepUpRequired:
            stored = TransferItem.find(m.transfer_id)
            if stored is None:
                raise
            return _outcome(m, {"transfer": _Stored(stored)}, attempt="")  # a replay needs no new code
    attempt = secrets.token_hex(8)
    records = []  # each attempt stamps its own time: the last one built is the one that committed

    def build() -> TaggedTransaction:
        tx, record = _transaction(m, attempt, hold)
        records.append(record)
        return tx

    refusals = commit(build, ATTEMPTS_MAX)
    if not refusals:
        return Posted(records[-1], replayed=False)
    return _outcome(m, refusals, attempt)


# Holds --------------------------------------------------------------------

def hold(hold_id: str, party: Party, money: Money, expires_at: datetime, description: str = "") -> HoldItem:
    """Set money aside on a customer account: `held` grows and `spendable`
    falls at once; the balance is unchanged until the hold is posted.
    Idempotent on `hold_id`: placing the same hold twice returns the first."""
    if money.amount_cents <= 0:
        raise errors.InvalidRequest("amount must be positive", param="amount")
    now = clock.now()
    item = HoldItem(*hold_key(hold_id), id=hold_id, account_id=party.account_id, amount=money.amount_cents,
                    currency=money.currency, status="pending", created_at=clock.iso(now),
                    expires_at_iso=clock.iso(expires_at), description=description,
                    owner_id=party.user_id, owner_display=party.display)
    item.gsi1_pk, item.gsi1_sk = pending_hold_index_keys(hold_id, item.expires_at_iso)
    amount = money.amount_cents
    tx = TaggedTransaction()
    tx.save("hold", item, condition=HoldItem.pk.does_not_exist(), return_values="ALL_OLD")
    tx.update("debit", AccountItem.ref(party.account_id),
              [AccountItem.held.set(AccountItem.held + amount),
               AccountItem.spendable.set(AccountItem.spendable - amount)],
              condition=_debit_condition(party, amount), return_values="ALL_OLD")
    failed = commit(tx, ATTEMPTS_MAX)
    if not failed:
        return item
    if "hold" in failed:
        raw = failed["hold"].raw_item
        return HoldItem.from_raw_data(raw) if raw else HoldItem.find(hold_id)
    old = failed["debit"].raw_item or {} if "debit" in failed else {}
    if not old or old.get("status", {}).get("S") != "active":
        raise party.inactive_refusal()
    raise errors.InsufficientFunds()


def post_hold(hold_id: str, amount_cents: int, credit: Party, transfer_id: str, kind: str,
              request_hash: str, note: str = "") -> Posted:
    """Capture up to the held amount into `credit`; the rest is released.
    Exactly once: the hold moves pending -> posted in the same transaction."""
    pending = HoldItem.find(hold_id)
    if pending is None:
        raise errors.NotFound("No such hold.")
    if amount_cents <= 0 or amount_cents > int(pending.amount):
        raise errors.InvalidRequest("A hold posts for at most the held amount.", param="amount")
    # The debit is the account holder's (who may read the transfer); the
    # merchant or payee is the credit party the caller names.
    debit = Party(pending.account_id, display=pending.owner_display or pending.description or "hold",
                  user_id=pending.owner_id, customer=True)
    mark_posted = Extra("update", HoldItem(*hold_key(hold_id)),
                        actions=(HoldItem.status.set("posted"), HoldItem.posted_amount.set(amount_cents),
                                 HoldItem.gsi1_pk.remove(), HoldItem.gsi1_sk.remove()),
                        condition=HoldItem.status == "pending", refusal=errors.InvalidState("The hold is not pending."))
    movement = Movement(transfer_id=transfer_id, kind=kind, debit=debit, credit=credit,
                        money=Money(amount_cents, pending.currency), request_hash=request_hash, note=note,
                        extras=(mark_posted,), hold_id=hold_id)
    return transfer(movement, hold=pending)


def release_hold(hold_id: str, outcome: str = "voided") -> HoldItem:
    """Void (or expire) a pending hold: the held money is spendable again.
    Exactly once: the hold moves pending -> voided | expired with a condition."""
    if outcome not in ("voided", "expired"):
        raise ValueError(outcome)
    pending = HoldItem.find(hold_id)
    if pending is None:
        raise errors.NotFound("No such hold.")
    if pending.status != "pending":
        raise errors.InvalidState(f"The hold is {pending.status}.")
    amount = int(pending.amount)
    condition = HoldItem.status == "pending"
    if outcome == "expired":
        condition = condition & (HoldItem.expires_at_iso <= clock.iso(clock.now()))
    attempt = secrets.token_hex(8)
    tx = TaggedTransaction()
    tx.update("hold", HoldItem(*hold_key(hold_id)),
              [HoldItem.status.set(outcome), HoldItem.released_by.set(attempt),
               HoldItem.gsi1_pk.remove(), HoldItem.gsi1_sk.remove()],
              condition=condition, return_values="ALL_OLD")
    tx.update("account", AccountItem.ref(pending.account_id),
              [AccountItem.held.set(AccountItem.held - amount),
               AccountItem.spendable.set(AccountItem.spendable + amount)],
              condition=AccountItem.pk.exists())
    failed = commit(tx, ATTEMPTS_MAX)
    if failed:
        raw = failed["hold"].raw_item if "hold" in failed else None
        if not (raw and HoldItem.from_raw_data(raw).released_by == attempt):
            raise errors.InvalidState("The hold is no longer pending.")
        # else: our own release, whose answer was lost
    pending.status, pending.released_by = outcome, attempt
    return pending


def void_hold(hold_id: str) -> HoldItem:
    return release_hold(hold_id, "voided")


def expire_hold(hold_id: str) -> HoldItem:
    return release_hold(hold_id, "expired")


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
