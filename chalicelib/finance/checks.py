"""Checks written on Flock accounts: writing, stopping, and their
presentment by the clearing network (positive pay).

Writing a check moves no money: it takes the account's next number (an
atomic counter from 1001) and records payee, amount and memo; its MICR line
is Flock's routing number, the account number and that number. A check's
id derives from (account number, serial), so a presentment, which carries
only the MICR, finds it with one read.

Positive pay, in API.md's order (`RETURN_REASONS`): the routing number is
Flock's and the account exists and is open; the serial was issued; not
stopped; not paid already; the amount (and payee, when given) as written;
not stale (day 181 after issue); funds within the credit line. A paid check
is one transaction: the debit to `check_clearing`, the check marked `paid`
(conditioned on it still being payable: of two presentments racing, one
pays) and the network event's answer. A check returned for want of funds
costs the NSF fee when one is set (a forced debit: the money is owed), is
marked `returned`, and a later presentment may still pay it.
"""
from dataclasses import dataclass, replace
from datetime import date, datetime

from chalicelib import clock, errors, ids, lazy
from chalicelib.config import settings
from chalicelib.db import base
from chalicelib.db.balances import AccountItem, AccountNumberClaim, account_number_key
from chalicelib.db.checks import (CheckItem, CheckRequest, SerialCounter, check_key, check_request_key,
                                  checks_partition, listed_sort_key, serial_key)
from chalicelib.db.transact import TaggedTransaction, commit
from chalicelib.finance import ledger, network_events
from chalicelib.finance.money import Money
from chalicelib.finance.transfers import request_hash, require_money_caller, require_verified, system_party

FIRST_SERIAL = 1001
STALE_AFTER_DAYS = 180  # stale from day 181 after issue
CHECK_ID_CHARS_MAX = 64
STATUSES = ("issued", "paid", "stopped", "returned", "void")
PAYABLE = ("issued", "returned")  # a check returned for want of funds may be presented again
# A presentment's answers other than paid, in the order positive pay checks them.
RETURN_REASONS = ("no_account", "account_closed", "altered_or_fictitious", "stop_payment", "duplicate_presentment",
                  "altered_or_fictitious", "stale_dated", "not_sufficient_funds")

records = lazy.module("chalicelib.records.checks")


def check_id_for(account_number: str, serial: str) -> str:
    """A check's id follows from its MICR, so a presentment reads it at once."""
    return ids.derived_id("chk", account_number, serial.lstrip("0") or "0")


def is_stale(issued_at: str, at: datetime) -> bool:
    """More than 180 days after issue (business dates): day 181 is stale, day 180 is not."""
    return (at.date() - date.fromisoformat(issued_at[:10])).days > STALE_AFTER_DAYS


def write(principal, payee: str, money: Money, memo: str, idempotency_key: str) -> tuple["records.Check", bool]:
    """Write a check on the caller's account: (check, replayed). A retry
    with the same key and body answers the first check; another body under
    it is refused."""
    require_money_caller(principal)
    fingerprint = request_hash("check", payee=payee, amount=money.amount_cents, currency=money.currency, memo=memo)
    request_id = ids.derived_id("chkreq", principal.user_id, idempotency_key)
    earlier = _earlier(request_id, fingerprint)
    if earlier is not None:
        return earlier
    account = AccountItem.find(principal.account_id)
    if account is None or account.kind != "customer":
        raise errors.VerificationRequired()
    if account.status != "active":
        raise errors.AccountFrozen()
    serial = _next_serial(account.id)
    now = clock.iso(clock.now())
    check_id = check_id_for(account.account_number, str(serial))
    check = CheckItem(*check_key(check_id), id=check_id, account_id=account.id,
                      account_number=account.account_number, user_id=principal.user_id, handle=principal.handle,
                      number=serial, payee=payee, amount=money.amount_cents, currency=money.currency, memo=memo,
                      status="issued", issued_at=now, gsi1_pk=checks_partition(principal.user_id),
                      gsi1_sk=listed_sort_key(now, check_id))
    tx = TaggedTransaction()
    tx.save("check", check, condition=CheckItem.pk.does_not_exist())
    tx.save("request", CheckRequest(*check_request_key(request_id), check_id=check_id, request_hash=fingerprint),
            condition=CheckRequest.pk.does_not_exist())
    refused = commit(tx)
    if not refused:
        return public_check(check), False
    # The same key raced this call (its number is left unused), or, never, the number was taken.
    earlier = _earlier(request_id, fingerprint)
    if earlier is None:
        raise errors.Unavailable()
    return earlier


def _earlier(request_id: str, fingerprint: str) -> tuple["records.Check", bool] | None:
    request = CheckRequest.find(request_id)
    if request is None:
        return None
    if request.request_hash != fingerprint:
        raise errors.IdempotencyKeyReused()
    check = CheckItem.find(request.check_id)
    if check is None:
        raise errors.Unavailable()
    return public_check(check), True


def _next_serial(account_id: str) -> int:
    """One atomic update: the first check of an account is number 1001."""
    counter = SerialCounter(*serial_key(account_id))
    counter.update(actions=[SerialCounter.last.set((SerialCounter.last | (FIRST_SERIAL - 1)) + 1)])
    return int(counter.last)


def status_of(item: CheckItem) -> str:
    """An issued check no one presented for 180 days is `void`: no longer
    payable (its presentment is returned `stale_dated`) nor stoppable. Read
    from the date, so nothing has to run for it to become so."""
    return "void" if item.status == "issued" and is_stale(item.issued_at, clock.now()) else item.status


def public_check(item: CheckItem) -> "records.Check":
    return records.Check(id=item.id, number=int(item.number), payee=item.payee, amount=int(item.amount),
                         currency=item.currency, memo=item.memo or "", status=status_of(item),
                         micr=records.Micr(routing=settings().routing_number, account=item.account_number,
                                           serial=str(int(item.number))),
                         issued_at=item.issued_at, paid_at=item.paid_at, return_reason=item.return_reason)


def own_check(principal, check_id: str) -> CheckItem:
    """The caller's check; anyone else's, or none, is not found."""
    require_verified(principal)
    item = CheckItem.find(check_id) if check_id.startswith("chk_") and len(check_id) <= CHECK_ID_CHARS_MAX \
        else None
    if item is None or item.user_id != principal.user_id:
        raise errors.NotFound("No such check.")
    return item


def get_check(principal, check_id: str) -> "records.Check":
    return public_check(own_check(principal, check_id))


def stop(principal, check_id: str) -> "records.Check":
    """Stop payment: only an `issued` check (else InvalidState), conditioned
    on that, so a stop racing a presentment either stops it or finds it paid."""
    item = own_check(principal, check_id)
    if status_of(item) != "issued":
        raise errors.InvalidState(f"The check is {status_of(item)}.")
    tx = TaggedTransaction()
    tx.update("check", CheckItem(*check_key(check_id)), [CheckItem.status.set("stopped")],
              condition=CheckItem.status == "issued")
    if commit(tx):
        raise errors.InvalidState(f"The check is {own_check(principal, check_id).status}.")
    item.status = "stopped"
    return public_check(item)


def cursor_of(key: dict, partition: str) -> bool:
    """A cursor of this very list: another list's (or person's) is no key to it."""
    return set(key) == {"pk", "sk", "gsi1_pk", "gsi1_sk"} and all(isinstance(v, str) for v in key.values()) \
        and key["gsi1_pk"] == partition


def list_checks(principal, limit: int, cursor_key: dict | None) -> tuple[list["records.Check"], dict | None]:
    """The caller's checks, newest first, a page of at most `limit`."""
    require_verified(principal)
    partition = checks_partition(principal.user_id)
    if cursor_key is not None and not cursor_of(cursor_key, partition):
        raise errors.InvalidRequest("The cursor is not valid.", param="cursor")
    page = CheckItem.by_owner.query(partition, scan_index_forward=False, limit=limit,
                                    last_evaluated_key=base.key_from_plain(cursor_key))
    return [public_check(item) for item in page], base.key_to_plain(page.last_evaluated_key)


# Presentment (positive pay) ---------------------------------------------------------

class _AccountNotOpen(errors.Forbidden):
    """The drawer's account is frozen or closed: the check is returned, `account_closed`."""


class _CheckChanged(errors.InvalidState):
    """The check was paid, stopped or returned since it was read."""


@dataclass(frozen=True)
class Presentment:
    """A check presented by the clearing network (its MICR, amount, payee)."""
    routing: str
    account: str
    serial: str
    money: Money
    payee: str | None = None


def present(body: dict, presented: Presentment) -> tuple[int, "records.CheckPresentmentDecision"]:
    """Pay or return a presented check: (status, answer). One read (the
    event's record, the account-number claim and the check together) and
    one transaction when it pays; a return reads the account too, so
    `account_closed` comes first."""
    ours = presented.routing == settings().routing_number
    if ours:  # our account numbers never start with 0: leading zeros are padding
        presented = replace(presented, account=presented.account.lstrip("0") or "0")
    check_id = check_id_for(presented.account, presented.serial)
    keys = [account_number_key(presented.account), check_key(check_id)] if ours else []
    event, found = network_events.begin_with("check", body, keys)
    claim = found.get(account_number_key(presented.account)) if ours else None
    check = found.get(check_key(check_id)) if ours else None
    claim = AccountNumberClaim.from_raw_data(claim) if claim else None
    check = CheckItem.from_raw_data(check) if check else None
    reason = _refusal_before_funds(presented, claim, check)
    if reason is not None:
        return _decline(event, reason, check)
    return _pay(event, presented, check)


def _refusal_before_funds(presented: Presentment, claim, check: CheckItem | None) -> str | None:
    """The first return reason of positive pay short of funds, in API.md's
    order: the account is read only when the check would not pay (a paying
    transaction's own condition finds a frozen or closed account)."""
    if claim is None:
        return "no_account"
    reason = "altered_or_fictitious" if check is None else _declined_by(presented, check)
    if reason is not None and not _account_open(claim.account_id):
        return "account_closed"
    return reason


def _account_open(account_id: str) -> bool:
    account = AccountItem.find(account_id)
    return account is not None and account.kind == "customer" and account.status == "active"


def _declined_by(presented: Presentment, check: CheckItem) -> str | None:
    """What the check itself says against paying it, in order."""
    if check.status == "stopped":
        return "stop_payment"
    if check.status == "paid":
        return "duplicate_presentment"
    if check.status not in PAYABLE:
        return "altered_or_fictitious"
    if presented.money.amount_cents != int(check.amount) or presented.money.currency != check.currency:
        return "altered_or_fictitious"
    if presented.payee is not None and presented.payee.strip().casefold() != check.payee.strip().casefold():
        return "altered_or_fictitious"
    if is_stale(check.issued_at, clock.now()):
        return "stale_dated"
    return None


def _answer(decision: str, reason: str | None, check: CheckItem | None) -> "records.CheckPresentmentDecision":
    return records.CheckPresentmentDecision(decision=decision, return_reason=reason,
                                            check_id=check.id if check is not None else None)


def _decline(event, reason: str, check: CheckItem | None) -> tuple[int, "records.CheckPresentmentDecision"]:
    """A return that moves no money: the answer recorded against the event."""
    return event.save(200, _answer("returned", reason, check))


def _drawer(check: CheckItem) -> ledger.Party:
    return ledger.Party(check.account_id, display=check.handle, user_id=check.user_id,
                        inactive_refusal=_AccountNotOpen)


def _mark(check: CheckItem, actions: tuple) -> ledger.Extra:
    """The check's change, only while it is payable: of two presentments racing, one pays."""
    return ledger.Extra("update", CheckItem(*check_key(check.id)), actions=actions,
                        condition=CheckItem.status.is_in(*PAYABLE), refusal=_CheckChanged())


def _pay(event, presented: Presentment, check: CheckItem) -> tuple[int, "records.CheckPresentmentDecision"]:
    answer = _answer("paid", None, check)
    now = clock.iso(clock.now())
    transfer_id = ids.derived_id("tr", "check-presentment", event.id)
    event_extra = event.extra(200, answer)
    movement = ledger.Movement(
        transfer_id=transfer_id, kind="check", debit=_drawer(check), credit=system_party("check_clearing"),
        money=presented.money, request_hash=event.request_hash, note=f"Check {int(check.number)} to {check.payee}",
        extras=(_mark(check, (CheckItem.status.set("paid"), CheckItem.paid_at.set(now),
                              CheckItem.paid_by.set(transfer_id), CheckItem.return_reason.remove())),
                event_extra))
    try:
        ledger.transfer(movement)
    except errors.InsufficientFunds:
        return _return_unfunded(event, presented, check)
    except _AccountNotOpen:
        return _decline(event, "account_closed", check)
    except _CheckChanged:
        return _decided_again(event, presented, check)
    except errors.ApiError as refused:
        if refused is event_extra.refusal:
            raise errors.Replayed(*event.first_answer()) from None
        raise
    return 200, answer


def _decided_again(event, presented: Presentment, check: CheckItem) -> tuple[int, "records.CheckPresentmentDecision"]:
    """The check changed under this presentment (paid or stopped by another
    call): what the check says now is the answer."""
    again = CheckItem.find(check.id)
    return _decline(event, _declined_by(presented, again) or "duplicate_presentment", again)


def _return_unfunded(event, presented: Presentment,
                     check: CheckItem) -> tuple[int, "records.CheckPresentmentDecision"]:
    """Not enough within the credit line: the check is `returned` (it may
    be presented again), with the NSF fee when one is set, forced: the fee
    is owed whatever the balance."""
    answer = _answer("returned", "not_sufficient_funds", check)
    mark = _mark(check, (CheckItem.status.set("returned"), CheckItem.return_reason.set("not_sufficient_funds")))
    fee = settings().nsf_fee_cents
    if fee <= 0:
        tx = TaggedTransaction()
        tx.update("check", mark.model, mark.actions, condition=mark.condition)
        if commit(tx):
            return _decided_again(event, presented, check)
        return event.save(200, answer)
    event_extra = event.extra(200, answer)
    movement = ledger.Movement(
        transfer_id=ids.derived_id("tr", "check-nsf", event.id), kind="fee", debit=_drawer(check),
        credit=system_party("fees"), money=Money(fee, check.currency), request_hash=event.request_hash,
        note=f"Returned check {int(check.number)}: not sufficient funds", forced=True, extras=(mark, event_extra))
    try:
        ledger.transfer(movement)
    except _CheckChanged:
        return _decided_again(event, presented, check)
    except errors.ApiError as refused:
        if refused is event_extra.refusal:
            raise errors.Replayed(*event.first_answer()) from None
        raise
    return 200, answer
