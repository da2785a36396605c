"""The card network's side of a card (API.md, Cards and Networks):
authorizations, increments, clearings, reversals, refunds, and what the
`expire-holds` job does to a card's hold.

Rules:
- An authorization decides in API.md's order: unknown_card, card_frozen,
  card_closed, card_expired, invalid_cvc, account_frozen,
  insufficient_funds, limit_exceeded, blocked_merchant, blocked_country.
  The first five need the card alone; the next three are the conditions of
  the hold's own transaction (the account active, `spendable` enough, the
  day's money-sent and the card's day/month counters under their limits);
  the last ones are the card's rules, which rank after the money, so a
  decline for them reads the account to learn whether the money ranks first.
- An approval is one BatchGetItem (the event's record and the card, by the
  number's fingerprint) and one TransactWriteItems: the hold, the account,
  the limit counters, the card transaction and the event's answer together
  (`ledger.hold` with extras), so a repeated event finds its answer and never
  holds twice, even racing.
- Every decision is stored under the event id, a decline too (with its card
  transaction, `declined`), so a retry gets the same answer.
- Ids derive from the event: the authorization, its hold and card
  transaction from the authorization event's id; a clearing's or refund's
  transfer from its own event id.
- Clearings post the hold: less releases the rest; more posts within the
  tolerance of the merchant's category (TOLERANCE_BPS_BY_MCC), else exactly
  the held amount (`partially_captured`). No live hold (none, or expired,
  or posted already): a forced post. Cashback (`card_cashback_bps`, rounded
  down) rides in the same transfer, from the `rewards` system account; a
  refund takes back cashback at the same rate, rounded down (a linked
  one never more than its purchase paid, `_refundable`).
- Holds expire after HOLD_DAYS (LONG_HOLD_DAYS for lodging and car rental).
- What an authorization stops holding (reversed, expired, cleared for less)
  stops counting against the card's day and month limits while they are
  current (`_counter_release`).
"""
from dataclasses import dataclass
from datetime import timedelta

from chalicelib import clock, errors, ids, lazy
from chalicelib.config import settings
from chalicelib.db import base
from chalicelib.db.balances import AccountItem, DailyTotals, HoldItem, hold_key, limit_key
from chalicelib.db.cards import (CardCounter, CardItem, CardTransactionItem, MerchantMap, card_day_key, card_key,
                                 card_month_key, card_transaction_key, card_transactions_partition,
                                 created_sort_key)
from chalicelib.db.transact import TaggedTransaction, commit
from chalicelib.finance import cards, ledger, network_events
from chalicelib.finance.accounts import random_system_shard
from chalicelib.finance.money import Money

NETWORK = "card"
DECLINE_REASONS = ("unknown_card", "card_frozen", "card_closed", "card_expired", "invalid_cvc", "account_frozen",
                   "insufficient_funds", "limit_exceeded", "blocked_merchant", "blocked_country")
HOLD_DAYS = 7
LONG_HOLD_DAYS = 31
# Car rental (3351-3441, 7512) and lodging (7011) hold longer: the stay or the rental ends later.
LONG_HOLD_MCCS = frozenset({str(mcc) for mcc in range(3351, 3442)} | {"7512", "7011"})
# How far a clearing may pass the held amount, in basis points of it: restaurants and bars 20%, lodging 15%.
TOLERANCE_BPS_BY_MCC = {"5812": 2000, "5813": 2000, "5814": 2000, "7011": 1500}
COUNTER_TTL_S = 40 * 86400
TRANSACTIONS_LISTED_MAX = 100
HOLD_DESCRIPTION_PREFIX = "card:"

records = lazy.module("chalicelib.records.cards")


@dataclass(frozen=True)
class Merchant:
    name: str
    mcc: str
    city: str
    country: str


# Ids ----------------------------------------------------------------------------

def authorization_id(event_id: str) -> str:
    return ids.derived_id("auth", NETWORK, event_id)


def hold_id_of(auth_id: str) -> str:
    return ids.derived_id("hold", auth_id)


def ctx_id_of(origin: str) -> str:
    """A card transaction's id, from its authorization or its event."""
    return ids.derived_id("ctx", origin)


def transfer_id_of(event_id: str) -> str:
    return ids.derived_id("tr", NETWORK, event_id)


# Views ----------------------------------------------------------------------------

def public_transaction(item: CardTransactionItem) -> "records.CardTransaction":
    merchant = item.merchant
    return records.CardTransaction(
        id=item.id, card_id=item.card_id, authorization_id=item.authorization_id, status=item.status,
        forced=bool(item.forced), amount_held=int(item.amount_held), amount_posted=int(item.amount_posted),
        amount_refunded=int(item.amount_refunded or 0), currency=item.currency,
        merchant=None if merchant is None else records.Merchant(name=merchant.name, mcc=merchant.mcc,
                                                                city=merchant.city, country=merchant.country),
        decline_reason=item.decline_reason, cashback=int(item.cashback), created_at=item.created_at)


def transactions(principal, card_id: str, limit: int,
                 cursor_key: dict | None) -> tuple[list["records.CardTransaction"], dict | None]:
    card = cards.own_card(principal, card_id)
    partition = card_transactions_partition(card.id)
    if cursor_key is not None and cursor_key.get("gsi1_pk") != partition:
        raise errors.InvalidRequest("The cursor is not valid.", param="cursor")
    page = CardTransactionItem.by_card.query(partition, scan_index_forward=False,
                                             limit=min(limit, TRANSACTIONS_LISTED_MAX),
                                             last_evaluated_key=base.key_from_plain(cursor_key))
    return [public_transaction(item) for item in page], base.key_to_plain(page.last_evaluated_key)


# Shared pieces ----------------------------------------------------------------------

def _merchant_map(merchant: Merchant | None) -> MerchantMap | None:
    if merchant is None:
        return None
    return MerchantMap(name=merchant.name, mcc=merchant.mcc, city=merchant.city, country=merchant.country)


def _new_transaction(ctx_id: str, card: CardItem, status: str, currency: str, merchant: Merchant | None,
                     **fields) -> CardTransactionItem:
    at = clock.iso(clock.now())
    return CardTransactionItem(*card_transaction_key(ctx_id), id=ctx_id, card_id=card.id, owner_id=card.owner_id,
                               account_id=card.account_id, fingerprint=card.fingerprint, status=status,
                               currency=currency, merchant=_merchant_map(merchant), created_at=at,
                               gsi1_pk=card_transactions_partition(card.id), gsi1_sk=created_sort_key(at, ctx_id),
                               **fields)


def _holder(card: CardItem) -> ledger.Party:
    return ledger.Party(card.account_id, display=card.owner_handle, user_id=card.owner_id,
                        inactive_refusal=errors.AccountFrozen)


def _settlement(merchant_name: str) -> ledger.Party:
    """The network's side; the person's entry shows the merchant's name."""
    return ledger.Party(random_system_shard("card_settlement"), display=merchant_name, customer=False)


def _rewards() -> ledger.Party:
    return ledger.Party(random_system_shard("rewards"), display="rewards", customer=False)


def cashback_of(amount_cents: int) -> int:
    """Rounded down to the cent."""
    return amount_cents * settings().card_cashback_bps // 10_000


def _cashback_legs(holder: ledger.Party, cents: int, currency: str, sign: int) -> tuple:
    """Paid (sign +1) to the holder from rewards, or taken back (-1)."""
    if cents <= 0:
        return ()
    return (ledger.Leg(_rewards(), Money(-sign * cents, currency), kind="cashback"),
            ledger.Leg(holder, Money(sign * cents, currency), kind="cashback", counterparty="rewards"))


def _counter_extras(card: CardItem, amount_cents: int) -> tuple:
    """The card's spending today and this month, bumped under its limits."""
    now = clock.now()
    limits = card.limits
    extras = []
    for key, limit in ((card_day_key(card.fingerprint, now.date().isoformat()), getattr(limits, "daily", None)),
                       (card_month_key(card.fingerprint, now.strftime("%Y-%m")), getattr(limits, "monthly", None))):
        condition = None
        if limit is not None:
            cap = int(limit) - amount_cents
            condition = (CardCounter.total.does_not_exist() | (CardCounter.total <= cap)) if cap >= 0 else \
                (CardCounter.pk.exists() & CardCounter.pk.does_not_exist())
        extras.append(ledger.Extra("update", CardCounter(*key),
                                   actions=(CardCounter.total.set((CardCounter.total | 0) + amount_cents),
                                            CardCounter.expires_at.set(int(now.timestamp()) + COUNTER_TTL_S)),
                                   condition=condition, refusal=errors.LimitExceeded("The card's limit.")))
    return tuple(extras)


def _counter_release(ctx: CardTransactionItem, cents: int) -> tuple:
    """What an authorization stops holding (reversed, expired, cleared for
    less) stops counting against the card's limits: taken off the counters
    of the day and month it was authorized in, while those are current (a
    past day limits nothing any more). Every bump of a current counter for
    this authorization happened in that day or month, so it holds at least
    `cents`."""
    now, authorized = clock.now(), ctx.created_at
    if cents <= 0:
        return ()
    keys = [key for current, key in ((authorized[:10] == now.date().isoformat(),
                                      card_day_key(ctx.fingerprint, authorized[:10])),
                                     (authorized[:7] == now.strftime("%Y-%m"),
                                      card_month_key(ctx.fingerprint, authorized[:7]))) if current]
    return tuple(ledger.Extra("update", CardCounter(*key), actions=(CardCounter.total.add(-cents),),
                              condition=CardCounter.pk.exists()) for key in keys)


class _CardNotActive(errors.Forbidden):
    """The card was frozen or closed after it was read."""


def _card_still_active(card: CardItem) -> ledger.Extra:
    """Holds the approval to the card as read: one frozen or closed while
    the authorization was in flight is declined, not approved."""
    return ledger.Extra("check", CardItem.ref(card.fingerprint), condition=CardItem.status == "active",
                        refusal=_CardNotActive())


def _card_again(card: CardItem) -> CardItem:
    return CardItem.from_raw_data(base.batch_get("balances", [card_key(card.fingerprint)], consistent=True)[0])


def _sent_limit(card: CardItem) -> ledger.Limit:
    """Card spending counts toward the day's money sent, when authorized."""
    return ledger.Limit(card.account_id, "sent", settings().tier_limits("verified").sent_per_day_max_cents)


def _hold_days(mcc: str) -> int:
    return LONG_HOLD_DAYS if mcc in LONG_HOLD_MCCS else HOLD_DAYS


def _save_with_event(event: network_events.Event, status: int, answer: "records.CardDecision",
                     *items) -> tuple[int, "records.CardDecision"]:
    """An answer that moves no money, with the items it records (a declined
    card transaction), in one transaction; a lost race answers the winner's."""
    tx = TaggedTransaction()
    record = event.extra(status, answer)
    tx.save("event", record.model, condition=record.condition)
    for i, (item, condition) in enumerate(items):
        tx.save(("item", i), item, condition=condition)
    if commit(tx):
        raise errors.Replayed(*event.first_answer())
    return status, answer


def _lost_race(event: network_events.Event):
    return errors.Replayed(*event.first_answer())


def _answered(event: network_events.Event, outcome,
              answer: "records.CardTransaction | records.CardDecision") -> tuple:
    """This call's answer, or, when the ledger found the change made by an
    identical event that raced this one, that event's stored answer (its
    card transaction was stamped at its own time)."""
    if outcome.replayed:
        raise _lost_race(event)
    return 200, answer


# Authorization ------------------------------------------------------------------

def _card_decline(card: CardItem | None, exp_month: int, exp_year: int, cvc: str | None) -> str | None:
    """The reasons the card alone gives, in order."""
    if card is None or (int(card.exp_month), int(card.exp_year)) != (exp_month, exp_year):
        return "unknown_card"
    if card.status == "frozen":
        return "card_frozen"
    if card.status == "closed":
        return "card_closed"
    if cards.expired_now(card):
        return "card_expired"
    if cvc is not None and not cards.cvc_matches(card, cvc):
        return "invalid_cvc"
    return None


def _rule_decline(card: CardItem, amount_cents: int, merchant: Merchant) -> str | None:
    """The card's own rules, which rank after the money."""
    limits = card.limits
    per_transaction = getattr(limits, "per_transaction", None)
    if per_transaction is not None and amount_cents > int(per_transaction):
        return "limit_exceeded"
    if merchant.mcc in (getattr(limits, "blocked_mccs", None) or ()):
        return "blocked_merchant"
    allowed = getattr(limits, "allowed_countries", None) or ()
    if allowed and merchant.country not in allowed:
        return "blocked_country"
    return None


def _money_decline(card: CardItem, amount_cents: int) -> str | None:
    """Whether the account ranks before a rule (one read, declines only)."""
    account = AccountItem.find(card.account_id)
    if account is None or account.status != "active":
        return "account_frozen"
    if int(account.spendable) < amount_cents:
        return "insufficient_funds"
    return None


def _over_limits(card: CardItem, amount_cents: int) -> bool:
    """Whether the card's day or month, or the account's day of money sent,
    would pass its limit (one read, declines for a card rule only: those
    limits rank before the rules)."""
    now = clock.now()
    day, month = card_day_key(card.fingerprint, now.date().isoformat()), card_month_key(card.fingerprint,
                                                                                         now.strftime("%Y-%m"))
    sent = limit_key(card.account_id, now.date().isoformat())
    raws = {(raw["pk"]["S"], raw["sk"]["S"]): raw for raw in base.batch_get("balances", [day, month, sent],
                                                                            consistent=True)}

    def spent(key, model, name) -> int:
        return int(getattr(model.from_raw_data(raws[key]), name) or 0) if key in raws else 0
    limits = card.limits
    for key, limit in ((day, getattr(limits, "daily", None)), (month, getattr(limits, "monthly", None))):
        if limit is not None and spent(key, CardCounter, "total") + amount_cents > int(limit):
            return True
    return spent(sent, DailyTotals, "sent") + amount_cents > _sent_limit(card).max_cents


def _refusal_reason(refusal: errors.ApiError, card: CardItem, amount_cents: int) -> str:
    if isinstance(refusal, (errors.AccountFrozen, errors.NotEligible)):
        return "account_frozen"
    if isinstance(refusal, errors.InsufficientFunds):
        return "insufficient_funds"
    # The ledger ranks limits before funds; a card's decision ranks funds first.
    return _money_decline(card, amount_cents) or "limit_exceeded"


def _decision(event_id: str, auth_id: str | None, approved: bool, amount_cents: int, reason: str | None,
              ctx_id: str | None) -> "records.CardDecision":
    return records.CardDecision(id=event_id, authorization_id=auth_id, approved=approved,
                                amount_approved=amount_cents if approved else 0, decline_reason=reason,
                                card_transaction_id=ctx_id)


def authorize(body: dict, number: str, exp_month: int, exp_year: int, cvc: str | None, money: Money,
              merchant: Merchant) -> tuple[int, "records.CardDecision"]:
    """(status, decision). `body` is the call as received (its event id and
    fingerprint); the rest are its fields, parsed."""
    fp = cards.fingerprint(number)
    event_key = network_events.event_key(NETWORK, body)
    raws = {(raw["pk"]["S"], raw["sk"]["S"]): raw
            for raw in base.batch_get("balances", [event_key, card_key(fp)], consistent=True)}
    event = network_events.begin_read(NETWORK, body, raws.get(event_key))
    card_raw = raws.get(card_key(fp))
    card = CardItem.from_raw_data(card_raw) if card_raw else None
    auth_id = authorization_id(event.id)
    ctx_id = ctx_id_of(auth_id)
    amount = money.amount_cents

    def decline(reason: str) -> tuple[int, "records.CardDecision"]:
        if card is None:  # nothing to record it against but the event
            return event.save(200, _decision(event.id, None, False, amount, reason, None))
        answer = _decision(event.id, auth_id, False, amount, reason, ctx_id)
        declined = _new_transaction(ctx_id, card, "declined", money.currency, merchant, authorization_id=auth_id,
                                    decline_reason=reason)
        return _save_with_event(event, 200, answer, (declined, CardTransactionItem.pk.does_not_exist()))

    reason = _card_decline(card, exp_month, exp_year, cvc)
    if reason:
        return decline(reason)
    rule = _rule_decline(card, amount, merchant)
    if rule:
        return decline(_money_decline(card, amount) or ("limit_exceeded" if _over_limits(card, amount) else rule))
    answer = _decision(event.id, auth_id, True, amount, None, ctx_id)
    hold_id = hold_id_of(auth_id)
    pending = _new_transaction(ctx_id, card, "pending", money.currency, merchant, authorization_id=auth_id,
                               hold_id=hold_id, amount_held=amount)
    extras = _counter_extras(card, amount) + (
        ledger.Extra("save", pending, condition=CardTransactionItem.pk.does_not_exist()),
        _card_still_active(card), event.extra(200, answer))
    try:
        ledger.hold(hold_id, _holder(card), money, clock.now() + timedelta(days=_hold_days(merchant.mcc)),
                    description=HOLD_DESCRIPTION_PREFIX + auth_id, limits=(_sent_limit(card),), extras=extras)
    except errors.InvalidState:
        raise _lost_race(event) from None
    except (errors.Forbidden, errors.Unprocessable) as refusal:
        changed = isinstance(refusal, _CardNotActive) and _card_decline(_card_again(card), exp_month, exp_year, cvc)
        return decline(changed or _refusal_reason(refusal, card, amount))
    return 200, answer


# Increments ------------------------------------------------------------------------

def _read_authorization(body: dict, auth_id: str) -> tuple[network_events.Event, CardTransactionItem, HoldItem | None]:
    """The event (replays raised), the authorization's card transaction and
    its hold (None for a declined one): one BatchGetItem. An unknown
    authorization is 404."""
    ctx_key = card_transaction_key(ctx_id_of(auth_id))
    hold_key_ = hold_key(hold_id_of(auth_id))
    event_key = network_events.event_key(NETWORK, body)
    raws = {(raw["pk"]["S"], raw["sk"]["S"]): raw
            for raw in base.batch_get("balances", [event_key, ctx_key, hold_key_], consistent=True)}
    event = network_events.begin_read(NETWORK, body, raws.get(event_key))
    ctx = CardTransactionItem.from_raw_data(raws[ctx_key]) if ctx_key in raws else None
    # A refund's or forced clearing's card transaction is keyed by its event id: no authorization.
    if ctx is None or ctx.authorization_id != auth_id:
        raise errors.NotFound("No such authorization.")
    hold = HoldItem.from_raw_data(raws[hold_key_]) if hold_key_ in raws else None
    return event, ctx, hold


def increment(body: dict, auth_id: str, amount_cents: int) -> tuple[int, "records.CardDecision"]:
    """Raise an approved authorization's hold; declined, it stays as it was."""
    event, ctx, hold = _read_authorization(body, auth_id)
    if hold is None or hold.status != "pending":
        raise errors.InvalidState(f"The authorization is {ctx.status}.")
    card = CardItem.from_raw_data(base.batch_get("balances", [card_key(ctx.fingerprint)], consistent=True)[0])
    money = Money(amount_cents, hold.currency)
    reason = _card_decline(card, int(card.exp_month), int(card.exp_year), None)
    if not reason and ctx.merchant is not None:
        # The raised total is a purchase of its own to the card's rules (a
        # per-transaction limit, or a merchant or country blocked since).
        merchant = Merchant(ctx.merchant.name, ctx.merchant.mcc, ctx.merchant.city, ctx.merchant.country)
        total = int(ctx.amount_held) + amount_cents
        if _rule_decline(card, total, merchant):
            reason = _money_decline(card, amount_cents) or (
                "limit_exceeded" if _over_limits(card, amount_cents) else _rule_decline(card, total, merchant))
    if reason:
        return event.save(200, _decision(event.id, auth_id, False, amount_cents, reason, ctx.id))
    answer = _decision(event.id, auth_id, True, amount_cents, None, ctx.id)
    extras = _counter_extras(card, amount_cents) + (
        ledger.Extra("update", CardTransactionItem.ref(ctx.id),
                     actions=(CardTransactionItem.amount_held.add(amount_cents),),
                     condition=CardTransactionItem.status == "pending"),
        _card_still_active(card), event.extra(200, answer))
    try:
        outcome = ledger.increment_hold(hold.id, transfer_id_of(event.id), money, limits=(_sent_limit(card),),
                                        extras=extras)
    except errors.InvalidState:
        if network_events.NetworkEventItem.find(NETWORK, event.id) is not None:
            raise _lost_race(event) from None
        raise
    except (errors.Forbidden, errors.Unprocessable) as refusal:
        changed = isinstance(refusal, _CardNotActive) and _card_decline(
            _card_again(card), int(card.exp_month), int(card.exp_year), None)
        reason = changed or _refusal_reason(refusal, card, amount_cents)
        return event.save(200, _decision(event.id, auth_id, False, amount_cents, reason, ctx.id))
    return _answered(event, outcome, answer)


# Clearings -----------------------------------------------------------------------

def _tolerance_cents(held_cents: int, mcc: str | None) -> int:
    return held_cents * TOLERANCE_BPS_BY_MCC.get(mcc or "", 0) // 10_000


def _changed(ctx: CardTransactionItem, **changes) -> tuple[CardTransactionItem, tuple]:
    """The card transaction as this call leaves it (a copy: the answer is
    built from it, and a forced post without authorization saves it), and
    the update that makes it so."""
    after = CardTransactionItem.from_raw_data(ctx.serialize())
    actions = []
    for name, value in changes.items():
        setattr(after, name, value)
        actions.append(getattr(CardTransactionItem, name).set(value))
    return after, tuple(actions)


def clear(body: dict, auth_id: str | None, number: str | None, money: Money,
          merchant: Merchant | None) -> tuple[int, "records.CardTransaction"]:
    """Post a purchase: capture the authorization's hold, or a forced post."""
    if auth_id is None:
        return _forced_clearing(body, number, money, merchant)
    event, ctx, hold = _read_authorization(body, auth_id)
    if money.currency != ctx.currency:
        raise errors.InvalidRequest("The clearing is in another currency than its authorization.", param="currency")
    merchant_name = merchant.name if merchant else ctx.merchant.name if ctx.merchant else "card"
    mcc = merchant.mcc if merchant else ctx.merchant.mcc if ctx.merchant else None
    if hold is None:  # a declined authorization cleared anyway: the network's word stands, forced
        card = CardItem.from_raw_data(base.batch_get("balances", [card_key(ctx.fingerprint)], consistent=True)[0])
        return _post_forced(event, ctx, money, merchant_name, _holder(card), authorization_id=auth_id)
    holder = ledger.Party(hold.account_id, display=hold.owner_display or "", user_id=hold.owner_id,
                          inactive_refusal=errors.AccountFrozen)
    if hold.status != "pending":
        return _post_forced(event, ctx, money, merchant_name, holder, authorization_id=auth_id)
    held = hold.holding
    amount = money.amount_cents
    tolerance = _tolerance_cents(held, mcc)
    posted = amount if amount <= held + tolerance else held
    status = "posted" if posted == amount else "partially_captured"
    forced = posted > held and _money_decline_for(ctx.account_id, posted - held)
    cashback = cashback_of(posted)
    after, _ = _changed(ctx, status=status, amount_posted=int(ctx.amount_posted) + posted,
                        cashback=int(ctx.cashback) + cashback, forced=bool(ctx.forced) or forced)
    answer = public_transaction(after)
    extras = (ledger.Extra("update", CardTransactionItem.ref(ctx.id), actions=_posting(status, posted, cashback, forced),
                           condition=CardTransactionItem.pk.exists()), event.extra(200, answer),
              *_counter_release(ctx, held - posted))
    try:
        outcome = ledger.capture_hold(hold.id, posted, _settlement(merchant_name), transfer_id_of(event.id), "card",
                            event.request_hash, note=merchant_name, final=True, over_cents_max=max(0, posted - held),
                            legs=_cashback_legs(holder, cashback, money.currency, +1), extras=extras)
    except errors.InvalidState:
        if network_events.NetworkEventItem.find(NETWORK, event.id) is not None:
            raise _lost_race(event) from None
        # The hold expired or was posted between the read and the capture: a forced post.
        return _post_forced(event, CardTransactionItem.find(ctx.id), money, merchant_name, holder, auth_id)
    except errors.IdempotencyKeyReused:
        raise _lost_race(event) from None
    return _answered(event, outcome, answer)


def _posting(status: str, posted_cents: int, cashback_cents: int, forced: bool) -> tuple:
    """The authorization's card transaction after a clearing: the amounts
    added, not set from a read, so clearings racing on it all count."""
    actions = [CardTransactionItem.status.set(status), CardTransactionItem.amount_posted.add(posted_cents),
               CardTransactionItem.cashback.add(cashback_cents)]
    if forced:
        actions.append(CardTransactionItem.forced.set(True))
    return tuple(actions)


def _money_decline_for(account_id: str, cents: int) -> bool:
    """Whether the part above the hold will post forced (not enough spendable)."""
    account = AccountItem.find(account_id)
    return account is None or account.status != "active" or int(account.spendable) < cents


def _post_forced(event, ctx: CardTransactionItem, money: Money, merchant_name: str, holder: ledger.Party,
                 authorization_id: str | None) -> tuple[int, "records.CardTransaction"]:
    """A purchase with no live hold: posted whatever the funds (`forced`)."""
    cashback = cashback_of(money.amount_cents)
    after, _ = _changed(ctx, status="posted", amount_posted=int(ctx.amount_posted) + money.amount_cents,
                        cashback=int(ctx.cashback) + cashback, forced=True)
    answer = public_transaction(after)
    if authorization_id:
        record = ledger.Extra("update", CardTransactionItem.ref(ctx.id),
                              actions=_posting("posted", money.amount_cents, cashback, True),
                              condition=CardTransactionItem.pk.exists())
    else:
        record = ledger.Extra("save", after, condition=CardTransactionItem.pk.does_not_exist())
    movement = ledger.Movement(transfer_id=transfer_id_of(event.id), kind="card", debit=holder,
                               credit=_settlement(merchant_name), money=money, request_hash=event.request_hash,
                               note=merchant_name, legs=_cashback_legs(holder, cashback, money.currency, +1),
                               forced=True, extras=(record, event.extra(200, answer)))
    try:
        outcome = ledger.transfer(movement)
    except (errors.InvalidState, errors.IdempotencyKeyReused):
        raise _lost_race(event) from None
    return _answered(event, outcome, answer)


def _card_by_number(body: dict, number: str | None) -> tuple[network_events.Event, CardItem]:
    """The event (replays raised) and the card, in one BatchGetItem; 404 if no such card."""
    event_key = network_events.event_key(NETWORK, body)
    keys_ = [event_key] + ([card_key(cards.fingerprint(number))] if number else [])
    raws = {(raw["pk"]["S"], raw["sk"]["S"]): raw for raw in base.batch_get("balances", keys_, consistent=True)}
    event = network_events.begin_read(NETWORK, body, raws.get(event_key))
    card_raw = raws.get(keys_[-1]) if number else None
    if card_raw is None:
        raise errors.NotFound("No such card.")
    return event, CardItem.from_raw_data(card_raw)


def _forced_clearing(body: dict, number: str | None, money: Money,
                     merchant: Merchant | None) -> tuple[int, "records.CardTransaction"]:
    if number is None:
        raise errors.InvalidRequest("A clearing names its authorization_id or its card_number.", param="card_number")
    event, card = _card_by_number(body, number)
    ctx = _new_transaction(ctx_id_of(event.id), card, "posted", money.currency, merchant, authorization_id=None)
    name = merchant.name if merchant else "card"
    return _post_forced(event, ctx, money, name, _holder(card), authorization_id=None)


# Reversals and refunds ---------------------------------------------------------------

def reverse(body: dict, auth_id: str, amount_cents: int | None) -> tuple[int, "records.CardTransaction"]:
    """Release all (None) or part of an authorization's hold."""
    event, ctx, hold = _read_authorization(body, auth_id)
    if hold is None or hold.status != "pending":
        raise errors.InvalidState(f"The authorization is {ctx.status}.")
    released = hold.holding if amount_cents is None else amount_cents
    if released > hold.holding:
        raise errors.InvalidRequest("A reversal releases at most what is held.", param="amount")
    left = hold.holding - released
    after, actions = _changed(ctx, amount_held=int(ctx.amount_held) - released,
                              status="pending" if left else "reversed")
    answer = public_transaction(after)
    extras = (ledger.Extra("update", CardTransactionItem.ref(ctx.id), actions=actions,
                           condition=CardTransactionItem.status == "pending"), event.extra(200, answer),
              *_counter_release(ctx, released))
    try:
        outcome = ledger.reverse_hold(hold.id, transfer_id_of(event.id), released, extras=extras)
    except errors.InvalidState:
        if network_events.NetworkEventItem.find(NETWORK, event.id) is not None:
            raise _lost_race(event) from None
        raise
    return _answered(event, outcome, answer)


def refund(body: dict, number: str, money: Money, merchant: Merchant,
           auth_id: str | None) -> tuple[int, "records.CardTransaction"]:
    """Credit the account from card_settlement and take back the cashback
    the refunded amount earned, in one transfer."""
    event, card = _card_by_number(body, number)
    linked_condition, taken_back = _refundable(card, auth_id, money) if auth_id is not None else \
        (None, cashback_of(money.amount_cents))
    holder = _holder(card)
    ctx = _new_transaction(ctx_id_of(event.id), card, "refunded", money.currency, merchant,
                           authorization_id=auth_id, amount_refunded=money.amount_cents, cashback=-taken_back)
    answer = public_transaction(ctx)
    extras = [ledger.Extra("save", ctx, condition=CardTransactionItem.pk.does_not_exist())]
    if auth_id is not None:
        linked = CardTransactionItem.ref(ctx_id_of(auth_id))
        extras.append(ledger.Extra("update", linked,
                                   actions=(CardTransactionItem.amount_refunded.set(
                                       (CardTransactionItem.amount_refunded | 0) + money.amount_cents),),
                                   condition=linked_condition, refusal=_RefundRaced()))
    movement = ledger.Movement(transfer_id=transfer_id_of(event.id), kind="card", debit=_settlement(merchant.name),
                               credit=holder, money=money, request_hash=event.request_hash, note=merchant.name,
                               legs=_cashback_legs(holder, taken_back, money.currency, -1),
                               extras=tuple(extras) + (event.extra(200, answer),))
    try:
        outcome = ledger.transfer(movement)
    except errors.IdempotencyKeyReused:
        raise _lost_race(event) from None
    except _RefundRaced:
        if network_events.NetworkEventItem.find(NETWORK, event.id) is not None:
            raise _lost_race(event) from None
        raise errors.InvalidState("Another refund of this authorization landed first; try again.") from None
    except errors.InvalidState:
        raise _lost_race(event) from None
    return _answered(event, outcome, answer)


class _RefundRaced(errors.InvalidState):
    """The linked card transaction changed between the read and the refund."""


def _refundable(card: CardItem, auth_id: str, money: Money):
    """(condition, cashback to take back) of a linked refund. It gives back
    at most what the authorization posted and earlier refunds have not given
    back (else the network would create money); the condition holds the
    transaction to the figures read. Its refunds together take back the
    cashback of all they refunded, rounded down, and never more than the
    clearings paid (two clearings rounded down apart can pay a cent less
    than their sum would earn)."""
    linked = CardTransactionItem.find(ctx_id_of(auth_id))
    if linked is None or linked.card_id != card.id or linked.authorization_id != auth_id:
        raise errors.NotFound("No such authorization of this card.")
    if money.currency != linked.currency:
        raise errors.InvalidRequest("The refund is in another currency than its authorization.", param="currency")
    posted, refunded = int(linked.amount_posted or 0), int(linked.amount_refunded or 0)
    if money.amount_cents > posted - refunded:
        raise errors.InvalidState(f"The authorization has {max(0, posted - refunded)} cents left to refund.")
    unchanged = CardTransactionItem.amount_refunded == refunded
    if refunded == 0:
        unchanged = unchanged | CardTransactionItem.amount_refunded.does_not_exist()
    paid = int(linked.cashback or 0)
    taken_back = min(cashback_of(refunded + money.amount_cents), paid) - min(cashback_of(refunded), paid)
    condition = CardTransactionItem.pk.exists() & (CardTransactionItem.amount_posted == posted) & unchanged & \
        (CardTransactionItem.cashback == paid)
    return condition, taken_back


# Expiry --------------------------------------------------------------------------------

def expiry_extras(hold_description: str | None) -> tuple:
    """What expires with a card's hold: its card transaction, `expired`, and
    what it held, off the card's current counters. The condition holds the
    transaction to the amount read."""
    if not (hold_description or "").startswith(HOLD_DESCRIPTION_PREFIX):
        return ()
    ctx = CardTransactionItem.find(ctx_id_of(hold_description[len(HOLD_DESCRIPTION_PREFIX):]))
    if ctx is None:
        return ()
    held = int(ctx.amount_held)
    return (ledger.Extra("update", CardTransactionItem.ref(ctx.id), actions=(CardTransactionItem.status.set("expired"),),
                         condition=(CardTransactionItem.status == "pending") & (CardTransactionItem.amount_held == held)),
            *_counter_release(ctx, held))
