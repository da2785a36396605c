"""Creator money: tips, unlocks of paid posts, creator subscriptions and
payments inside direct messages. Every movement goes through the ledger with
the item that must land with it (a tip counter shard, an unlock record, a
subscription's next period, a DM) as an extra of the same transaction.

Unlocks and subscriptions pay the creator the price minus the platform fee
(`platform_fee_bps`, rounded down to the price currency's minor unit), which
goes to `fees` of that currency.

A price (a tip's amount, a post's price, a subscription's, a DM payment's) may be in any
supported currency: it is what the creator receives, into their pocket of
it. The fan pays from their pocket of that currency if they hold one, else
(or when they name `pay_currency`) from that pocket, converted in the same
transaction as the payment (finance/priced.py).
"""
import calendar
import secrets
from datetime import date, datetime, timedelta, timezone

from pynamodb.exceptions import UpdateError

from chalicelib import clock, errors, ids, lazy
from chalicelib.config import HOME_CURRENCY, settings
from chalicelib.db import base, warm
from chalicelib.db.balances import TransferItem
from chalicelib.db.posts import CounterShard, PostItem, UnlockItem, counter_key, counter_width, unlock_key
from chalicelib.db.videos import VideoItem, owner_partition
from chalicelib.db.users import (SubscriptionItem, UserItem, due_by, fan_subscriptions_partition,
                                 subscription_due_sort_key, subscription_key, subscriptions_due_partition)
from chalicelib.finance import credit_shards, fx_rates, ledger, pockets, priced
from chalicelib.finance.accounts import customer_account_id
from chalicelib.finance.money import Money
from chalicelib.finance.transfers import (public_transfer, request_hash, require_money_caller, require_verified,
                                          stored_success, transfer_id_for)
from chalicelib.finance.wallet import _entries_between, _month_bounds
from chalicelib.identity.users import require_by_handle
from chalicelib.social import messages, posts
from chalicelib.social.views import hydrate, subscription_grants_access

SUBSCRIPTION_PRICE_MAX_CENTS = 100_000_00
SUBSCRIPTION_FAILED_DAYS_MAX = 3
DUE_SHARDS = 8
RENEWALS_PER_RUN_MAX = 100_000

records = lazy.module("chalicelib.records.creator")


def platform_fee(amount_cents: int) -> int:
    """The platform's cut, rounded down (integer floor) to the minor unit of
    the price's currency: the creator keeps the rest."""
    return amount_cents * settings().platform_fee_bps // 10_000


def _creator_party(user_id: str, handle: str) -> ledger.Party:
    account_id = customer_account_id(user_id)
    return ledger.Party(account_id, display=handle, user_id=user_id, credit_shards=credit_shards.count_of(account_id))


def _live_post(post_id: str) -> PostItem:
    """The post as read once per warm Lambda (social.posts.cached): that it
    still exists is the condition on its counter shard in the transaction.
    A post paid on is widened like a liked one (`_widen_if_paid`)."""
    post = posts.cached(post_id)
    if post is None:
        raise errors.NotFound("No such post.")
    _widen_if_paid(post)
    return post


_PAID_CHECKED = warm.Warm(max_items=50_000, ttl_s=60)


def _widen_if_paid(post: PostItem) -> None:
    """Tips and unlocks count themselves on the counter shard they write
    (`paid`), and a post whose shards took `hot_post_likes` writes is
    widened as likes widen it. The sum is read once a minute per warm
    Lambda and post (keyed by the minute too), not per payment, so a tip stays one transaction and
    one read; a post paid on thousands of times a second is widened within
    that minute."""
    def check(_key: tuple) -> bool:
        posts.widen_if_hot(post, posts.shard_writes(post))
        return True
    _PAID_CHECKED.get((post.id, ledger.minute_of(clock.now())), check)


def _post_shard(post: PostItem) -> CounterShard:
    """One of the post's counter shards, at random: a tip or an unlock
    conditions on it, not on the post item, so a viral post is no hot item
    (its delete tombstones every shard: social/posts.py `delete`)."""
    return CounterShard(*counter_key(post.id, secrets.randbelow(counter_width(post))))


def _post_paid(post: PostItem) -> ledger.Extra:
    """The unlock's write of a counter shard: the post still exists, and
    one more payment on it (what widens a hot post). An update costs what
    the condition check it replaces cost (2 WCU in a transaction)."""
    return ledger.Extra("update", _post_shard(post), actions=(CounterShard.paid.add(1),),
                        condition=CounterShard.live(), refusal=errors.NotFound("No such post."))


# Tips ---------------------------------------------------------------------

def tip(principal, post_id: str, money: Money, idempotency_key: str,
        pay_currency: str | None = None) -> tuple["records.Transfer", bool]:
    """The whole amount to the author, in its currency; the post's tip
    counter (a random shard, so a viral post is no hot item) grows in the
    same transaction, by the tip's home-currency worth (`tip_total` is USD)."""
    require_money_caller(principal)
    transfer_id = transfer_id_for(principal.user_id, idempotency_key)
    request = request_hash("tip", post_id=post_id, amount=money.amount_cents, currency=money.currency,
                           **priced.named(pay_currency))
    try:
        post = _live_post(post_id)
    except errors.NotFound:
        stored = stored_success(transfer_id, request)  # tipped, then the post was deleted
        if stored is None:
            raise
        return public_transfer(stored), True
    if post.author_id == principal.user_id:
        raise errors.SelfTransfer("You cannot tip your own post.")
    shard = _post_shard(post)
    try:
        worth = fx_rates.home_equivalent(money)
    except errors.InvalidState as refused:  # tipped, then the rate went
        return public_transfer(priced.replayed_or_raise(refused, transfer_id, request)), True
    movement = ledger.Movement(
        transfer_id=transfer_id, kind="tip", request_hash=request, note=f"tip for {post_id}",
        extras=(ledger.Extra("update", shard, actions=(CounterShard.tips.add(worth), CounterShard.paid.add(1)),
                             condition=CounterShard.live(), refusal=errors.NotFound("No such post.")),))
    posted = priced.pay(priced.caller_payer(principal, money.currency, pay_currency),
                  _creator_party(post.author_id, post.author_handle), money, movement)
    return public_transfer(posted.transfer), posted.replayed


# Unlocks ------------------------------------------------------------------

# An unlock's transfer and entries say which post was bought (earnings per post read it back).
UNLOCK_NOTE = "unlock "

def _find_unlock(post_id: str, user_id: str) -> UnlockItem | None:
    try:
        return UnlockItem.get(*unlock_key(post_id, user_id), consistent_read=True)
    except UnlockItem.DoesNotExist:
        return None


def _require_audience(post: PostItem, viewer_id: str) -> None:
    """A subscribers-only post opens only to subscribers, priced or not: a
    non-subscriber is refused (403) before anything moves, since no unlock
    would show it to them (social/views.py locks it for non-subscribers)."""
    if post.audience == "subscribers" and not subscription_grants_access(
            _find_subscription(post.author_id, viewer_id), clock.iso(clock.now())):
        raise errors.Forbidden("This post is for the author's subscribers; subscribe to see it.")


def unlock(principal, post_id: str, idempotency_key: str,
           pay_currency: str | None = None) -> tuple["records.Transfer | records.Unlocked", bool, bool]:
    """Charges the price once: returns (answer, charged, replayed), the
    answer being the transfer when charged or replayed, else `Unlocked`.
    The unlock record is put only if absent, in the charge's transaction:
    two concurrent unlocks with different keys charge once, and the loser is
    answered as an unlock that charged nothing. The transfer id derives from
    (fan, key) like every movement's, so a key already used for another
    request is refused (409), not charged again under another id."""
    require_money_caller(principal)
    transfer_id = transfer_id_for(principal.user_id, idempotency_key)
    request = request_hash("unlock", post_id=post_id, **priced.named(pay_currency))
    try:
        post = _live_post(post_id)
        if post.author_id != principal.user_id:
            _require_audience(post, principal.user_id)
    except (errors.NotFound, errors.Forbidden):
        stored = stored_success(transfer_id, request)  # deleted, or unsubscribed, since
        if stored is None:
            raise
        return public_transfer(stored), False, True
    if post.author_id == principal.user_id or post.price_amount is None:
        return _unlocked(post_id, None), False, False
    price = Money(int(post.price_amount), post.price_currency)
    fee = platform_fee(price.amount_cents)
    record = UnlockItem(*unlock_key(post_id, principal.user_id), user_id=principal.user_id,
                        transfer_id=transfer_id, idempotency_key=idempotency_key, created_at=clock.iso(clock.now()))
    movement = ledger.Movement(
        transfer_id=transfer_id, kind="unlock", request_hash=request, note=f"{UNLOCK_NOTE}{post_id}",
        extras=(ledger.Extra("save", record, condition=UnlockItem.pk.does_not_exist(),
                             refusal=errors.InvalidState("Already unlocked.")),
                _post_paid(post)))
    # No read of the unlock record first: its condition in the transaction
    # says it exists, and a replay of this key is answered by the ledger.
    try:
        posted = priced.pay(priced.caller_payer(principal, price.currency, pay_currency),
                      _creator_party(post.author_id, post.author_handle), price, movement, fee)
    except errors.InvalidState:
        existing = _find_unlock(post_id, principal.user_id)  # unlocked before, or concurrently: no charge
        if existing is None:
            raise  # not an unlock at all: no rate for the price's currency
        stored = TransferItem.find(existing.transfer_id)
        return _unlocked(post_id, public_transfer(stored) if stored else None), False, False
    return public_transfer(posted.transfer), not posted.replayed, posted.replayed


def _unlocked(post_id: str, transfer: "records.Transfer | None") -> "records.Unlocked":
    """An unlock that charged nothing: already unlocked (`transfer`, the
    earlier unlock's, if it is still there), or free to this caller."""
    return records.Unlocked(post_id=post_id, unlocked=True, charged=False, transfer=transfer)


# Subscriptions ------------------------------------------------------------

def add_month(moment: datetime, anchor_day: int | None = None) -> datetime:
    """One calendar month later, on the anchor day (the subscription's first
    day) clamped to the month's length: Jan 31 -> Feb 28 -> Mar 31."""
    year, month = moment.year + moment.month // 12, moment.month % 12 + 1
    day = anchor_day or moment.day
    return moment.replace(year=year, month=month, day=min(day, calendar.monthrange(year, month)[1]))


def set_subscription_price(principal, money: Money | None) -> "records.SubscriptionPrice":
    """In any supported currency; the cap counts its home-currency worth
    (at today's mid rate: a currency with no rate yet is refused, 409)."""
    require_verified(principal)
    if money is not None and fx_rates.home_equivalent(money) > SUBSCRIPTION_PRICE_MAX_CENTS:
        raise errors.InvalidRequest("A subscription costs at most $100,000 a month.", param="amount")
    if money is None:
        actions = [UserItem.subscription_price.remove(), UserItem.subscription_price_currency.remove()]
    else:
        actions = [UserItem.subscription_price.set(money.amount_cents),
                   UserItem.subscription_price_currency.set(money.currency)]
    UserItem.ref(principal.user_id).update(actions=actions, condition=UserItem.pk.exists())
    return records.SubscriptionPrice(subscription_price=money)


def _subscription_price(creator: UserItem) -> Money:
    return Money(int(creator.subscription_price), creator.subscription_price_currency or HOME_CURRENCY)


def public_subscription(item: SubscriptionItem) -> "records.Subscription":
    return records.Subscription(
        id=item.id, creator=item.creator_handle, subscriber=item.fan_handle, status=item.status,
        price=Money(int(item.price_amount), item.price_currency or HOME_CURRENCY),
        current_period_start=item.period_start, current_period_end=item.period_end,
        cancel_at_period_end=bool(item.cancel_at_period_end), periods_paid=int(item.periods_paid),
        created_at=item.created_at)


def _find_subscription(creator_id: str, fan_id: str) -> SubscriptionItem | None:
    try:
        return SubscriptionItem.get(*subscription_key(creator_id, fan_id), consistent_read=True)
    except SubscriptionItem.DoesNotExist:
        return None


def _period_writes(sub: SubscriptionItem, start: datetime, price: Money, paid_before: int, condition,
                   creates: bool = False, anchor_day: int | None = None):
    """The subscription's next period, as an update in the charge's
    transaction; `creates`: the update also writes the new item's fixed fields
    (the item comes into being with its first charge, so a refused first
    charge leaves nothing behind)."""
    anchor_day = anchor_day or start.day
    end = add_month(start, anchor_day)
    fixed = ()
    if creates:
        fixed = (SubscriptionItem.id.set(sub.id), SubscriptionItem.creator_id.set(sub.creator_id),
                 SubscriptionItem.creator_handle.set(sub.creator_handle), SubscriptionItem.fan_id.set(sub.fan_id),
                 SubscriptionItem.fan_handle.set(sub.fan_handle), SubscriptionItem.created_at.set(sub.created_at),
                 SubscriptionItem.gsi1_pk.set(sub.gsi1_pk), SubscriptionItem.gsi1_sk.set(sub.gsi1_sk))
    actions = fixed + (SubscriptionItem.status.set("active"), SubscriptionItem.period_start.set(clock.iso(start)),
               SubscriptionItem.period_end.set(clock.iso(end)), SubscriptionItem.periods_paid.set(paid_before + 1),
               SubscriptionItem.price_amount.set(price.amount_cents),
               SubscriptionItem.price_currency.set(price.currency), SubscriptionItem.failed_days.set(0),
               SubscriptionItem.pay_currency.set(sub.pay_currency) if sub.pay_currency
               else SubscriptionItem.pay_currency.remove(),
               SubscriptionItem.cancel_at_period_end.set(False), SubscriptionItem.anchor_day.set(anchor_day),
               SubscriptionItem.gsi2_pk.set(subscriptions_due_partition(secrets.randbelow(DUE_SHARDS))),
               SubscriptionItem.gsi2_sk.set(subscription_due_sort_key(clock.iso(end), sub.id)))
    return ledger.Extra("update", SubscriptionItem(sub.pk, sub.sk), actions=actions, condition=condition,
                        refusal=errors.Conflict("You already subscribe.")), end


def _charge_period(sub: SubscriptionItem, fan: priced.Payer, creator: UserItem, transfer_id: str,
                   request: str, start: datetime, paid_before: int, condition,
                   creates: bool = False, anchor_day: int | None = None) -> ledger.Posted:
    """One period at the creator's price now; converted (another pocket
    than the price's) at the rate in force when it is charged: a renewal
    at the rate of its day."""
    price = _subscription_price(creator)
    fee = platform_fee(price.amount_cents)
    period, _ = _period_writes(sub, start, price, paid_before, condition, creates, anchor_day)
    movement = ledger.Movement(
        transfer_id=transfer_id, kind="subscription", request_hash=request,
        note=f"subscription to @{creator.handle}, period {paid_before + 1}", extras=(period,))
    return priced.pay(fan, _creator_party(creator.id, creator.handle), price, movement, fee)


def subscribe(principal, handle: str, idempotency_key: str,
              pay_currency: str | None = None) -> tuple["records.Subscription", bool]:
    """Charges the first month at once; exactly once per period (the
    subscription's `periods_paid` is the condition of the charge)."""
    require_money_caller(principal)
    creator = require_by_handle(handle)
    if creator.id == principal.user_id:
        raise errors.SelfTransfer("You cannot subscribe to yourself.")
    existing = _find_subscription(creator.id, principal.user_id)
    transfer_id = transfer_id_for(principal.user_id, idempotency_key)
    request = request_hash("subscription", creator=creator.id, **priced.named(pay_currency))
    replay = stored_success(transfer_id, request) is not None
    if creator.subscription_price is None or not creator.verified:
        if replay and existing is not None:  # subscribed with this key, then the price was removed
            return public_subscription(existing), True
        raise errors.NotEligible("This creator takes no subscriptions.")
    if existing is not None and existing.status in ("active", "past_due", "cancelled") and not replay:
        if existing.status != "cancelled":
            raise errors.Conflict("You already subscribe.")
        existing.update(actions=[SubscriptionItem.status.set("active"),  # resumed within the period: no charge
                                 SubscriptionItem.cancel_at_period_end.set(False)],
                        condition=SubscriptionItem.status == "cancelled")
        return public_subscription(existing), False
    if existing is None:
        sub, paid_before = _new_subscription(creator, principal, pay_currency), 0
        condition = SubscriptionItem.pk.does_not_exist()
    else:
        sub, paid_before = existing, int(existing.periods_paid)
        condition = (SubscriptionItem.periods_paid == paid_before) & SubscriptionItem.status.is_in("new", "ended")
        sub.pay_currency = pay_currency  # a new start names its own pocket (or none)
    fan = priced.caller_payer(principal, _subscription_price(creator).currency, pay_currency)
    posted = _charge_period(sub, fan, creator, transfer_id, request, clock.now(), paid_before,
                            condition, creates=existing is None)
    return public_subscription(_find_subscription(creator.id, principal.user_id)), posted.replayed


def _new_subscription(creator: UserItem, principal, pay_currency: str | None) -> SubscriptionItem:
    """The subscription item, not yet stored: its first charge creates it
    (`attribute_not_exists` in that transaction, so a concurrent first
    subscribe is refused, and a refused charge stores nothing)."""
    return SubscriptionItem(
        *subscription_key(creator.id, principal.user_id), id=ids.derived_id("sub", creator.id, principal.user_id),
        creator_id=creator.id, creator_handle=creator.handle, fan_id=principal.user_id,
        fan_handle=principal.handle, status="new", price_amount=int(creator.subscription_price),
        price_currency=_subscription_price(creator).currency, pay_currency=pay_currency, period_start="", period_end="", periods_paid=0, created_at=clock.iso(clock.now()),
        gsi1_pk=fan_subscriptions_partition(principal.user_id), gsi1_sk=creator.id)


def cancel(principal, handle: str) -> "records.Subscription":
    """Access lasts until the period ends; the job ends it then."""
    require_verified(principal)
    creator = require_by_handle(handle)
    sub = _find_subscription(creator.id, principal.user_id)
    if sub is None or sub.status not in ("active", "past_due", "cancelled"):
        raise errors.NotFound("You do not subscribe.")
    sub.update(actions=[SubscriptionItem.status.set("cancelled"), SubscriptionItem.cancel_at_period_end.set(True)],
               condition=SubscriptionItem.status.is_in("active", "past_due", "cancelled"))
    return public_subscription(sub)


def my_subscriptions(principal, limit: int,
                     cursor_key: dict | None) -> tuple[list["records.Subscription"], dict | None]:
    require_verified(principal)
    partition = fan_subscriptions_partition(principal.user_id)
    if cursor_key is not None and cursor_key.get("gsi1_pk") != partition:
        raise errors.InvalidRequest("The cursor is not valid.", param="cursor")
    page = SubscriptionItem.by_fan.query(partition, limit=limit, last_evaluated_key=base.key_from_plain(cursor_key))
    items = [public_subscription(s) for s in page]
    return items, base.key_to_plain(page.last_evaluated_key)


def _end(sub: SubscriptionItem, reason_status: str = "ended") -> bool:
    """Whether this call ended it (not another run, nor a renewal first)."""
    try:
        sub.update(actions=[SubscriptionItem.status.set(reason_status), SubscriptionItem.gsi2_pk.remove(),
                            SubscriptionItem.gsi2_sk.remove()],
                   condition=(SubscriptionItem.period_end == sub.period_end)
                   & SubscriptionItem.status.is_in("active", "past_due", "cancelled"))
    except UpdateError:
        return False  # changed meanwhile (renewed or ended by another run): nothing to do
    return True


def _failed_day(sub: SubscriptionItem, as_of: date) -> str:
    """A renewal that cannot be paid: past_due, counted once per day; the
    subscription ends after SUBSCRIPTION_FAILED_DAYS_MAX failed days."""
    day = as_of.isoformat()
    if sub.last_attempt_day == day:
        return "unchanged"
    failed = int(sub.failed_days or 0) + 1
    status = "ended" if failed >= SUBSCRIPTION_FAILED_DAYS_MAX else "past_due"
    actions = [SubscriptionItem.status.set(status), SubscriptionItem.failed_days.set(failed),
               SubscriptionItem.last_attempt_day.set(day)]
    if status == "ended":
        actions += [SubscriptionItem.gsi2_pk.remove(), SubscriptionItem.gsi2_sk.remove()]
    try:
        # Not over a cancel or a renewal that landed meanwhile, and once a day.
        sub.update(actions=actions, condition=(SubscriptionItem.periods_paid == int(sub.periods_paid))
                   & SubscriptionItem.status.is_in("active", "past_due")
                   & (SubscriptionItem.last_attempt_day.does_not_exist() | (SubscriptionItem.last_attempt_day != day)))
    except UpdateError:
        return "unchanged"
    return status


def renew(sub: SubscriptionItem, as_of: date, cutoff_iso: str) -> str:
    """Charge every period of `sub` that ends by the cutoff, each exactly once
    (the transfer id derives from subscription + period number)."""
    outcome = "unchanged"
    for _ in range(24):  # at most two years of missed periods in one run
        if not sub.period_end or sub.period_end > cutoff_iso or sub.status in ("ended", "new"):
            return outcome
        if sub.status == "cancelled" or sub.cancel_at_period_end:
            return "ended" if _end(sub) else outcome
        creator = UserItem.find(sub.creator_id)
        if creator is None or creator.subscription_price is None:
            return "ended" if _end(sub) else outcome
        paid = int(sub.periods_paid)
        start = datetime.fromisoformat(sub.period_end.replace("Z", "+00:00"))
        try:
            # Only a live subscription renews: a cancel that landed after it
            # was read fails the condition (and ends it on the next turn).
            fan = priced.Payer(sub.fan_id, sub.fan_handle, priced.pay_currency_for(
                sub.fan_id, _subscription_price(creator).currency, sub.pay_currency))
            posted = _charge_period(sub, fan, creator, ids.derived_id("tr", "sub", sub.id, str(paid + 1)),
                                    request_hash("subscription_renewal", sub=sub.id, period=paid + 1), start, paid,
                                    (SubscriptionItem.periods_paid == paid)
                                    & SubscriptionItem.status.is_in("active", "past_due"),
                                    anchor_day=int(sub.anchor_day) if sub.anchor_day else None)
            if not posted.replayed:  # else another run charged this period
                outcome = "renewed"
        except (errors.InsufficientFunds, errors.AccountFrozen, errors.NotEligible, errors.LimitExceeded):
            return _failed_day(sub, as_of)
        except errors.InvalidState:
            return outcome  # no rate for the price's currency: Flock's gap, not a failed day of the fan's
        except errors.Conflict:
            pass  # renewed by a concurrent run
        sub = _find_subscription(sub.creator_id, sub.fan_id)
    return outcome


def run_renewals(as_of: date) -> dict:
    """The daily `subscriptions` job: every subscription whose period ends on
    or before the end of the as-of day, by the sharded due-date index."""
    cutoff = clock.iso(min(datetime.combine(as_of + timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc),
                           clock.now()))
    processed = 0
    outcomes: dict[str, int] = {}
    for shard in range(DUE_SHARDS):
        for sub in SubscriptionItem.due.query(subscriptions_due_partition(shard), SubscriptionItem.gsi2_sk <= due_by(cutoff)):
            processed += 1
            if processed > RENEWALS_PER_RUN_MAX:
                break
            outcome = renew(_find_subscription(sub.creator_id, sub.fan_id), as_of, cutoff)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    changed = sum(n for k, n in outcomes.items() if k != "unchanged")
    return {"processed": processed, "changed": changed, **outcomes}


# Earnings -------------------------------------------------------------------

EARNING_KINDS = ("tip", "unlock", "subscription")


def earnings(principal, month: str, currency: str = HOME_CURRENCY) -> "records.Earnings":
    """Gross, fees and net of the month's creator income in one currency
    (the pocket of it), from the entries themselves (each creator entry
    records the fee taken from it)."""
    require_verified(principal)
    account_id = pockets.pocket_account_id(principal.user_id, currency)  # an unsupported one: 400 before a read
    start, end = _month_bounds(month)
    by_kind = {kind: {"gross": 0, "fees": 0, "net": 0, "count": 0} for kind in EARNING_KINDS}
    entries = _entries_between(account_id, start, end)
    for entry in entries:
        if entry.kind in by_kind and int(entry.amount) > 0:
            fee = int(entry.fee or 0)
            row = by_kind[entry.kind]
            row["net"] += int(entry.amount)
            row["fees"] += fee
            row["gross"] += int(entry.amount) + fee
            row["count"] += 1
    totals = {k: sum(r[k] for r in by_kind.values()) for k in ("gross", "fees", "net")}
    return records.Earnings(month=month, currency=currency, gross=totals["gross"], fees=totals["fees"],
                            net=totals["net"], by_kind={k: records.EarningsOfKind(**r) for k, r in by_kind.items()},
                            posts=_per_post(principal, entries))


VIDEO_POSTS_MAX = 100


def _per_post(principal, entries: list) -> list["records.PostEarnings"]:
    """The month's unlock revenue of each post that earned some, with the
    views of every post that carries one of the creator's videos (its newest
    VIDEO_POSTS_MAX videos; views are counted since the post, not per month)."""
    rows: dict[str, dict] = {}

    def row(post_id: str) -> dict:
        return rows.setdefault(post_id, {"post_id": post_id, "view_count": 0, "unlocks": 0,
                                         "unlock_gross": 0, "unlock_fees": 0, "unlock_net": 0})
    for entry in entries:
        if entry.kind == "unlock" and int(entry.amount) > 0 and (entry.note or "").startswith(UNLOCK_NOTE):
            r = row(entry.note.removeprefix(UNLOCK_NOTE))
            r["unlocks"] += 1
            r["unlock_net"] += int(entry.amount)
            r["unlock_fees"] += int(entry.fee or 0)
            r["unlock_gross"] += int(entry.amount) + int(entry.fee or 0)
    for video in VideoItem.by_owner.query(owner_partition(principal.user_id), scan_index_forward=False,
                                          limit=VIDEO_POSTS_MAX):
        if video.post_id:
            row(video.post_id)
    for post in hydrate(list(rows), principal.user_id):
        rows[post.id]["view_count"] = post.view_count
    return [records.PostEarnings(**r) for r in sorted(rows.values(), key=lambda r: r["post_id"], reverse=True)]


# Payments in direct messages --------------------------------------------------

def pay_in_conversation(principal, conv_id: str, money: Money, note: str, idempotency_key: str,
                        pay_currency: str | None = None) -> tuple:
    """(the message as `messages.public_message` answers it, replayed).
    The message (with `payment`) and the money land in one transaction:
    both exist or neither does. `money` is what the other member receives,
    in its currency; the caller pays by the rule of creator prices
    (finance/priced.py), and the message stores what they paid as the
    transfer shows it, so it is priced before the message is written."""
    require_money_caller(principal)
    conv = messages.require_member(principal.user_id, conv_id, cached=True)
    other_id, other_handle = next((m, h) for m, h in zip(conv.members, conv.member_handles) if m != principal.user_id)
    transfer_id = transfer_id_for(principal.user_id, idempotency_key)
    request = request_hash("message_payment", conversation=conv_id, amount=money.amount_cents,
                           currency=money.currency, note=note, **priced.named(pay_currency))
    payer = priced.caller_payer(principal, money.currency, pay_currency)
    try:
        charge = priced.charge_for(payer, money)
    except errors.InvalidState as refused:  # paid, then the rate went: the stored message answers
        stored = priced.replayed_or_raise(refused, transfer_id, request)
        message = messages.find_message_by_payment(conv_id, stored.id)
        if message is None:
            raise
        return messages.public_message(message, public_transfer(stored)), True
    payment = {"id": transfer_id, "kind": "message_payment", "from": principal.handle, "to": other_handle,
               **charge.shown(money), "note": note, "status": "posted", "forced": False}
    message, writes = messages.message_writes(conv, principal.user_id, principal.handle, note,
                                              payment_transfer_id=transfer_id, payment=payment)
    movement = ledger.Movement(
        transfer_id=transfer_id, kind="message_payment", note=note, request_hash=request,
        extras=tuple(ledger.Extra(op, model, actions=actions, condition=condition)
                     for op, model, actions, condition in writes))
    posted = priced.pay(payer, _creator_party(other_id, other_handle), money, movement, charge=charge)
    if posted.replayed:
        message = messages.find_message_by_payment(conv_id, posted.transfer.id) or message
    return messages.public_message(message, public_transfer(posted.transfer)), posted.replayed
