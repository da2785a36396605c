"""Checks written on Flock accounts: writing, stopping, and their
presentment by the clearing network (positive pay).

Writing a check moves no money: it takes the account's next number (an
atomic counter from 1001) and records payee, amount and memo; its MICR line
is Flock's routing number, the account number and that number. A check's
id derives from (account number, serial), so a presentment, which carries
only the MICR, finds it with one read.

Positive pay, in API.md's order (`POSITIVE_PAY`): the routing number is
Flock's and the account exists and is open; the serial was issued; not
stopped; not paid already; the amount (and payee, when given) as written;
not stale (day 181 after issue); funds within the credit line. A paid check
is one transaction: the debit to `check_clearing`, the check marked `paid`
(conditioned on it still being payable: of two presentments racing, one
pays) and the network event's answer. A check returned for want of funds
costs the NSF fee when one is set (a forced debit: the money is owed), is
marked `returned`, and a later presentment may still pay it.
"""
from dataclasses import dataclass
from datetime import date, datetime

from chalicelib import clock, errors, ids
from chalicelib.db import base
from chalicelib.db.balances import AccountItem
from chalicelib.db.checks import (CheckItem, CheckRequest, SerialCounter, check_key, check_request_key,
                                  checks_partition, listed_sort_key, serial_key)
from chalicelib.db.transact import TaggedTransaction, commit
from chalicelib.finance.money import Money
from chalicelib.finance.transfers import request_hash, require_money_caller, require_verified

FIRST_SERIAL = 1001
STALE_AFTER_DAYS = 180  # stale from day 181 after issue
CHECK_ID_CHARS_MAX = 64
STATUSES = ("issued", "paid", "stopped", "returned", "void")
PAYABLE = ("issued", "returned")  # a check returned for want of funds may be presented again


@dataclass(frozen=True)
class Written:
    """A check written, and whether this call replayed an earlier success."""
    check: CheckItem
    replayed: bool


def check_id_for(account_number: str, serial: str) -> str:
    """A check's id follows from its MICR, so a presentment reads it at once."""
    return ids.derived_id("chk", account_number, serial.lstrip("0") or "0")


def is_stale(issued_at: str, at: datetime) -> bool:
    """More than 180 days after issue (business dates): day 181 is stale, day 180 is not."""
    return (at.date() - date.fromisoformat(issued_at[:10])).days > STALE_AFTER_DAYS


def write(principal, payee: str, money: Money, memo: str, idempotency_key: str) -> Written:
    """Write a check on the caller's account. A retry with the same key and
    body answers the first check; another body under it is refused."""
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
        return Written(check, replayed=False)
    # The same key raced this call (its number is left unused), or, never, the number was taken.
    earlier = _earlier(request_id, fingerprint)
    if earlier is None:
        raise errors.Unavailable()
    return earlier


def _earlier(request_id: str, fingerprint: str) -> Written | None:
    request = CheckRequest.find(request_id)
    if request is None:
        return None
    if request.request_hash != fingerprint:
        raise errors.IdempotencyKeyReused()
    check = CheckItem.find(request.check_id)
    if check is None:
        raise errors.Unavailable()
    return Written(check, replayed=True)


def _next_serial(account_id: str) -> int:
    """One atomic update: the first check of an account is number 1001."""
    counter = SerialCounter(*serial_key(account_id))
    counter.update(actions=[SerialCounter.last.set((SerialCounter.last | (FIRST_SERIAL - 1)) + 1)])
    return int(counter.last)


def own_check(principal, check_id: str) -> CheckItem:
    """The caller's check; anyone else's, or none, is not found."""
    require_verified(principal)
    item = CheckItem.find(check_id) if check_id.startswith("chk_") and len(check_id) <= CHECK_ID_CHARS_MAX \
        else None
    if item is None or item.user_id != principal.user_id:
        raise errors.NotFound("No such check.")
    return item


def stop(principal, check_id: str) -> CheckItem:
    """Stop payment: only an `issued` check (else InvalidState), conditioned
    on that, so a stop racing a presentment either stops it or finds it paid."""
    item = own_check(principal, check_id)
    if item.status != "issued":
        raise errors.InvalidState(f"The check is {item.status}.")
    tx = TaggedTransaction()
    tx.update("check", CheckItem(*check_key(check_id)), [CheckItem.status.set("stopped")],
              condition=CheckItem.status == "issued")
    if commit(tx):
        raise errors.InvalidState(f"The check is {own_check(principal, check_id).status}.")
    item.status = "stopped"
    return item


def cursor_of(key: dict, partition: str) -> bool:
    """A cursor of this very list: another list's (or person's) is no key to it."""
    return set(key) == {"pk", "sk", "gsi1_pk", "gsi1_sk"} and all(isinstance(v, str) for v in key.values()) \
        and key["gsi1_pk"] == partition


def list_checks(principal, limit: int, cursor_key: dict | None) -> tuple[list[CheckItem], dict | None]:
    """The caller's checks, newest first, a page of at most `limit`."""
    require_verified(principal)
    partition = checks_partition(principal.user_id)
    if cursor_key is not None and not cursor_of(cursor_key, partition):
        raise errors.InvalidRequest("The cursor is not valid.", param="cursor")
    page = CheckItem.by_owner.query(partition, scan_index_forward=False, limit=limit,
                                    last_evaluated_key=base.key_from_plain(cursor_key))
    return list(page), base.key_to_plain(page.last_evaluated_key)
