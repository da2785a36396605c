"""Mobile check deposits: refusals, availability, the daily release of
held funds, and returns from the clearing network.

A deposit is one movement from `check_clearing` to the depositor, credited
at once and all of it held (`ledger.CreditHold`s, one per day it becomes
available): `balance` and `held` rise together, so nothing is spendable,
counted as money in (the credit line) or earning interest until the
release job frees it. In the same transaction: the deposit, the claims
that make it unique (its MICR and amount, each image's hash), the day's
deposit limit and the account's rolling window of check deposits, so two
deposits of one check racing cannot both commit.

Refusals in API order: 403 (unverified, frozen), 400 (a check drawn on
the depositor's own Flock account; the ABA checksum and the images are the
body's own 400s), 409 `duplicate_deposit`, then 422 `not_eligible`
(not endorsed), `limit_exceeded` (per check, per window amount and count).

Availability (Regulation CC's shape): a deposit counts for the business
day it is made on, or the next one. Of a business day's check deposits,
the first $275 are available on the next business day, the rest up to
$6,725 on the second, and the part above $6,725 on the seventh; in an
account's first 30 days, all of it on the seventh. The release job for
day D releases every hold available on or before D.

A return takes the deposit back: what is still held first, the rest as a
forced debit (the balance may go below zero, or below -credit_limit), and
the return fee when one is set; once (again: InvalidState).
"""
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from chalicelib import clock, errors, ids, lazy
from chalicelib.config import settings
from chalicelib.db import base
from chalicelib.db.balances import AccountItem, HoldItem, account_key
from chalicelib.db.checks import (DepositClaim, DepositItem, DepositWindow, HoldMap, MicrMap, deposit_key,
                                  deposits_partition, image_claim_key, listed_sort_key, micr_claim_key, window_key)
from chalicelib.finance import business_days, check_images, ledger, network_events
from chalicelib.finance.money import Money
from chalicelib.finance.transfers import (caller_party, request_hash, require_money_caller, require_verified,
                                          system_party, transfer_id_for)

NEXT_DAY_CENTS = 27_500  # of a business day's deposits, available the next business day
SECOND_DAY_CENTS_MAX = 672_500  # up to here, the second business day; above, the seventh
LONG_HOLD_BUSINESS_DAYS = 7
NEW_ACCOUNT_DAYS = 30
WINDOW_ATTEMPTS_MAX = 4  # deposits of one account racing for its window: each loser reads again
DEPOSIT_ID_CHARS_MAX = 64
RETURN_REASONS = ("not_sufficient_funds", "stop_payment", "account_closed", "altered_or_fictitious",
                  "unusable_image", "refer_to_maker")

records = lazy.module("chalicelib.records.checks")


@dataclass(frozen=True)
class Micr:
    routing: str
    account: str
    serial: str

    def significant(self) -> tuple[str, str, str]:
        """The line as the bank reads it: leading zeros of the account number
        and serial are padding, so "000123" and "123" are one check (else the
        same check deposited twice, or one's own, would pass as another)."""
        return self.routing, self.account.lstrip("0") or "0", self.serial.lstrip("0") or "0"


class _StaleWindow(errors.InvalidState):
    """Another deposit of the account committed since its window was read."""


# Availability ------------------------------------------------------------------------

def schedule(amount_cents: int, earlier_today_cents: int, deposited_on: date, new_account: bool) -> list[tuple[date, int]]:
    """(available_on, cents) of a deposit of `amount_cents` made on
    `deposited_on`, after `earlier_today_cents` of check deposits counted
    for the same business day; days in order, amounts > 0."""
    day = business_days.banking_day_of(deposited_on)
    if new_account:
        return [(business_days.add_business_days(day, LONG_HOLD_BUSINESS_DAYS), amount_cents)]
    start, end = earlier_today_cents, earlier_today_cents + amount_cents
    tiers = ((0, NEXT_DAY_CENTS, 1), (NEXT_DAY_CENTS, SECOND_DAY_CENTS_MAX, 2),
             (SECOND_DAY_CENTS_MAX, None, LONG_HOLD_BUSINESS_DAYS))
    parts = []
    for low, high, days in tiers:
        cents = max(0, (end if high is None else min(end, high)) - max(start, low))
        if cents:
            parts.append((business_days.add_business_days(day, days), cents))
    return parts


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


# The window ---------------------------------------------------------------------------

def _window_days(window: DepositWindow | None, today: date) -> dict[str, list[int]]:
    """The window's business days still within it (`check_deposits_window_days`)."""
    if window is None:
        return {}
    oldest = (today - timedelta(days=settings().check_deposits_window_days - 1)).isoformat()
    return {day: totals for day, totals in json.loads(window.days).items() if day >= oldest}


def _window_extra(account_id: str, window: DepositWindow | None, days: dict) -> ledger.Extra:
    item = DepositWindow(*window_key(account_id))
    version = int(window.version) if window is not None else 0
    condition = DepositWindow.version == version if window is not None else DepositWindow.pk.does_not_exist()
    return ledger.Extra("update", item, actions=(DepositWindow.days.set(json.dumps(days, sort_keys=True)),
                                                DepositWindow.version.set(version + 1)),
                        condition=condition, refusal=_StaleWindow())


# Deposits ---------------------------------------------------------------------------

def deposit_id_for(transfer_id: str) -> str:
    """A deposit's id follows from its transfer, so a hold (which names its
    transfer) leads to its deposit with no look-up."""
    return ids.derived_id("dep", transfer_id)


def deposit(principal, money: Money, micr: Micr, front: bytes, back: bytes, endorsed: bool,
            idempotency_key: str) -> tuple["records.CheckDeposit", bool]:
    """(deposit, replayed): a retry with the same key and body answers the first deposit."""
    require_money_caller(principal)
    transfer_id = transfer_id_for(principal.user_id, idempotency_key)
    deposit_id = deposit_id_for(transfer_id)
    fingerprint = request_hash("check_deposit", amount=money.amount_cents, currency=money.currency,
                               micr=list(micr.significant()),
                               front=check_images.sha256_hex(front), back=check_images.sha256_hex(back),
                               endorsed=endorsed)
    for _ in range(WINDOW_ATTEMPTS_MAX):
        try:
            return _deposit_once(principal, money, micr, front, back, endorsed, transfer_id, deposit_id, fingerprint)
        except _StaleWindow:
            continue  # another deposit of this account committed first: read its window again
    raise errors.Unavailable()


def _claim_keys(micr: Micr, amount_cents: int, front_hex: str, back_hex: str) -> list[tuple[str, str]]:
    keys = [micr_claim_key(*micr.significant(), amount_cents),
            image_claim_key(front_hex), image_claim_key(back_hex)]
    return list(dict.fromkeys(keys))  # the same image twice is one claim


def _deposit_once(principal, money: Money, micr: Micr, front: bytes, back: bytes, endorsed: bool,
                  transfer_id: str, deposit_id: str, fingerprint: str) -> tuple["records.CheckDeposit", bool]:
    s = settings()
    found = {(raw["pk"]["S"], raw["sk"]["S"]): raw for raw in base.batch_get(
        "balances", [account_key(principal.account_id), window_key(principal.account_id), deposit_key(deposit_id)],
        consistent=True)}
    earlier = found.get(deposit_key(deposit_id))
    if earlier is not None:
        stored = DepositItem.from_raw_data(earlier)
        if stored.request_hash != fingerprint:
            raise errors.IdempotencyKeyReused()
        return public_deposit(stored), True
    account = AccountItem.from_raw_data(found[account_key(principal.account_id)]) \
        if account_key(principal.account_id) in found else None
    if account is None or account.kind != "customer":
        raise errors.VerificationRequired()
    routing, account_number, _ = micr.significant()
    if routing == s.routing_number and account_number == (account.account_number.lstrip("0") or "0"):
        raise errors.InvalidRequest("A check drawn on your own account cannot be deposited into it.",
                                    param="micr.account")
    raw_window = found.get(window_key(principal.account_id))
    window = DepositWindow.from_raw_data(raw_window) if raw_window else None
    now = clock.now()
    days = _window_days(window, now.date())
    front_hex, back_hex = check_images.sha256_hex(front), check_images.sha256_hex(back)
    claims = _claim_keys(micr, money.amount_cents, front_hex, back_hex)
    refusal = _unprocessable(money.amount_cents, endorsed, days)
    if refusal is not None:
        if base.batch_get("balances", claims, consistent=True):
            raise errors.DuplicateDeposit()  # 409 before the 422s
        raise refusal
    banking_day = business_days.banking_day_of(now.date())
    earlier_today = days.get(banking_day.isoformat(), [0, 0])
    opened = date.fromisoformat((account.opened_at or clock.iso(now))[:10])
    parts = schedule(money.amount_cents, earlier_today[0], now.date(),
                     new_account=(now.date() - opened).days < NEW_ACCOUNT_DAYS)
    days[banking_day.isoformat()] = [earlier_today[0] + money.amount_cents, earlier_today[1] + 1]
    check_images.store(front)
    check_images.store(back)
    at = clock.iso(now)
    holds = [HoldMap(hold_id=ids.derived_id("hold", deposit_id, str(i)), amount=cents, available_on=day.isoformat())
             for i, (day, cents) in enumerate(parts)]
    item = DepositItem(*deposit_key(deposit_id), id=deposit_id, user_id=principal.user_id, handle=principal.handle,
                       account_id=principal.account_id, transfer_id=transfer_id, amount=money.amount_cents,
                       currency=money.currency, micr=MicrMap(routing=micr.routing, account=micr.account,
                                                             serial=micr.serial),
                       front_sha256=front_hex, back_sha256=back_hex, endorsed=endorsed, holds=holds,
                       status="pending", created_at=at, request_hash=fingerprint,
                       gsi1_pk=deposits_partition(principal.user_id), gsi1_sk=listed_sort_key(at, deposit_id))
    duplicate = errors.DuplicateDeposit()
    extras = (ledger.Extra("save", item, condition=DepositItem.pk.does_not_exist()),
              *(ledger.Extra("save", DepositClaim(*key, deposit_id=deposit_id),
                             condition=DepositClaim.pk.does_not_exist(), refusal=duplicate) for key in claims),
              _window_extra(principal.account_id, window, days))
    movement = ledger.Movement(
        transfer_id=transfer_id, kind="check", debit=system_party("check_clearing"), credit=caller_party(principal),
        money=money, request_hash=fingerprint, note=f"Check deposit {deposit_id}",
        limits=(ledger.Limit(principal.account_id, "deposited",
                             s.tier_limits("verified").deposits_per_day_max_cents),),
        extras=extras,
        credit_holds=tuple(ledger.CreditHold(h.hold_id, Money(int(h.amount), money.currency),
                                             _midnight(date.fromisoformat(h.available_on)),
                                             description=f"Check deposit {deposit_id}") for h in holds))
    posted = ledger.transfer(movement)
    if posted.replayed:  # the same request, a moment ago (its deposit was not read yet)
        stored = DepositItem.find(deposit_id)
        if stored is None:
            raise errors.Unavailable()
        return public_deposit(stored), True
    return public_deposit(item), False


def _unprocessable(amount_cents: int, endorsed: bool, days: dict) -> errors.ApiError | None:
    """The first 422 in API order, if any: not endorsed, then the limits."""
    s = settings()
    if endorsed is not True:
        return errors.NotEligible("The check must be endorsed.", param="endorsed")
    if amount_cents > s.check_deposit_max_cents:
        return errors.LimitExceeded(f"A check deposit is at most {s.check_deposit_max_cents} cents.", param="amount")
    if sum(cents for cents, _ in days.values()) + amount_cents > s.check_deposits_window_max_cents:
        return errors.LimitExceeded("This exceeds the check deposits allowed in 30 days.", param="amount")
    if sum(count for _, count in days.values()) + 1 > s.check_deposits_window_count_max:
        return errors.LimitExceeded("This exceeds the number of check deposits allowed in 30 days.")
    return None


def status_of(item: DepositItem) -> str:
    """`returned` once returned; `available` when every hold is released."""
    if item.status in ("returned", "rejected"):
        return item.status
    released = set(item.released or ())
    return "available" if all(h.hold_id in released for h in item.holds) else "pending"


def _public_hold(hold: HoldMap) -> "records.CheckHold":
    return records.CheckHold(amount=int(hold.amount), available_on=hold.available_on)


def public_deposit(item: DepositItem) -> "records.CheckDeposit":
    released = set(item.released or ())
    pending = [h for h in item.holds if h.hold_id not in released] if item.status != "returned" else []
    return records.CheckDeposit(
        id=item.id, amount=int(item.amount), currency=item.currency, status=status_of(item),
        available_now=int(item.amount) - sum(int(h.amount) for h in item.holds),
        holds=[_public_hold(h) for h in item.holds], pending_holds=[_public_hold(h) for h in pending],
        micr=records.Micr(routing=item.micr.routing, account=item.micr.account, serial=item.micr.serial),
        created_at=item.created_at, returned_at=item.returned_at, return_reason=item.return_reason)


def own_deposit(principal, deposit_id: str) -> DepositItem:
    require_verified(principal)
    item = DepositItem.find(deposit_id) if deposit_id.startswith("dep_") and len(deposit_id) <= DEPOSIT_ID_CHARS_MAX \
        else None
    if item is None or item.user_id != principal.user_id:
        raise errors.NotFound("No such deposit.")
    return item


def get_deposit(principal, deposit_id: str) -> "records.CheckDeposit":
    return public_deposit(own_deposit(principal, deposit_id))


def list_deposits(principal, limit: int,
                  cursor_key: dict | None) -> tuple[list["records.CheckDeposit"], dict | None]:
    require_verified(principal)
    partition = deposits_partition(principal.user_id)
    if cursor_key is not None and not (set(cursor_key) == {"pk", "sk", "gsi1_pk", "gsi1_sk"}
                                       and cursor_key.get("gsi1_pk") == partition):
        raise errors.InvalidRequest("The cursor is not valid.", param="cursor")
    page = DepositItem.by_owner.query(partition, scan_index_forward=False, limit=limit,
                                      last_evaluated_key=base.key_from_plain(cursor_key))
    return [public_deposit(item) for item in page], base.key_to_plain(page.last_evaluated_key)


# The release job ------------------------------------------------------------------------

def release_due(as_of: date) -> dict:
    """Release every deposit hold available on or before `as_of`. Each
    release is named by its hold, so a second run (or a run racing this
    one) replays instead of releasing twice; a hold returned meanwhile is
    skipped."""
    processed = changed = 0
    for hold_id in ledger.holds_due("credit", _midnight(as_of)):
        processed += 1
        hold = HoldItem.find(hold_id)
        if hold is None or hold.status != "pending" or not hold.transfer_id:
            continue
        release = ledger.Extra("update", DepositItem(*deposit_key(deposit_id_for(hold.transfer_id))),
                               actions=(DepositItem.released.add({hold_id}),),
                               condition=DepositItem.pk.exists())
        try:
            changed += not ledger.release_credit_hold(hold_id, ids.derived_id("rel", hold_id),
                                                      extras=(release,)).replayed
        except (errors.InvalidState, errors.NotFound):
            pass  # returned or released meanwhile
    return {"processed": processed, "changed": changed}


# Returns ---------------------------------------------------------------------------

def return_deposit(body: dict) -> tuple[int, "records.CheckDeposit"]:
    """The clearing network returns a deposited check: (status, answer)."""
    event = network_events.begin("check", body)
    deposit_id, reason = body["deposit_id"], body["reason"]
    item = DepositItem.find(deposit_id) if deposit_id.startswith("dep_") and \
        len(deposit_id) <= DEPOSIT_ID_CHARS_MAX else None
    if item is None:
        raise errors.NotFound("No such deposit.")
    if item.status == "returned":
        raise errors.InvalidState("The deposit was returned already.")
    now = clock.iso(clock.now())
    transfer_id = ids.derived_id("tr", "check-return", event.id)
    answer = public_deposit(replace_returned(item, now, reason, transfer_id))
    event_extra = event.extra(200, answer)
    mark = ledger.Extra("update", DepositItem(*deposit_key(item.id)),
                        actions=(DepositItem.status.set("returned"), DepositItem.returned_at.set(now),
                                 DepositItem.return_reason.set(reason),
                                 DepositItem.return_transfer_id.set(transfer_id)),
                        condition=DepositItem.status != "returned",
                        refusal=errors.InvalidState("The deposit was returned already."))
    depositor = ledger.Party(item.account_id, display=item.handle, user_id=item.user_id)
    fee = settings().return_fee_cents
    money = Money(int(item.amount), item.currency)
    legs = ()
    if fee > 0:
        legs = (ledger.Leg(depositor, Money(-fee, item.currency), kind="fee", counterparty="fees"),
                ledger.Leg(system_party("fees"), Money(fee, item.currency), kind="fee"))
    movement = ledger.Movement(transfer_id=transfer_id, kind="check", debit=depositor,
                               credit=system_party("check_clearing"), money=money, legs=legs,
                               request_hash=event.request_hash, note=f"Returned check deposit: {reason}",
                               extras=(mark, event_extra))
    try:
        ledger.return_credit(movement, tuple(h.hold_id for h in item.holds))
    except errors.ApiError as refused:
        if refused is event_extra.refusal:
            raise errors.Replayed(*event.first_answer()) from None
        raise
    return 200, answer


def replace_returned(item: DepositItem, at: str, reason: str, transfer_id: str) -> DepositItem:
    copy = DepositItem.from_raw_data(item.serialize())
    copy.status, copy.returned_at, copy.return_reason, copy.return_transfer_id = "returned", at, reason, transfer_id
    return copy

