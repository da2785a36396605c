"""Answers about creator money: subscriptions, unlocks and earnings."""
from enum import Enum

from chalicelib.records.common import Answer, Count, Currency, Id, Money, Month, Page, Time
from chalicelib.records.money import Transfer


class SubscriptionStatus(str, Enum):
    new = "new"
    active = "active"
    past_due = "past_due"
    cancelled = "cancelled"
    ended = "ended"


class Subscription(Answer):
    """A fan's monthly subscription to a creator.

    Attributes:
      id: the subscription id.
      creator: the creator's handle.
      subscriber: the fan's handle.
      status: new, active, past_due, cancelled or ended.
      price: the monthly price.
      current_period_start: the paid period's start.
      current_period_end: the paid period's end (the next renewal).
      cancel_at_period_end: whether it ends then.
      periods_paid: months paid.
      created_at: when it started.
    """
    id: str = Id
    creator: str
    subscriber: str
    status: SubscriptionStatus
    price: Money
    current_period_start: Time
    current_period_end: Time
    cancel_at_period_end: bool
    periods_paid: int = Count
    created_at: Time


class SubscriptionPrice(Answer):
    """Attributes:
      subscription_price: the monthly price, or null when the creator takes no subscriptions.
    """
    subscription_price: Money | None


class Unlocked(Answer):
    """An unlock that charged nothing (already unlocked, or one's own post).

    Attributes:
      post_id: the post.
      unlocked: always true.
      charged: always false.
      transfer: the earlier unlock's transfer, if there was one.
    """
    post_id: str = Id
    unlocked: bool
    charged: bool
    transfer: Transfer | None


class EarningsOfKind(Answer):
    """Attributes:
      gross: paid by fans.
      fees: kept by the platform.
      net: received.
      count: payments.
    """
    gross: int
    fees: int
    net: int
    count: int = Count


class PostEarnings(Answer):
    """Attributes:
      post_id: the post.
      view_count: plays of its video.
      unlocks: paid unlocks.
      unlock_gross: paid for unlocks.
      unlock_fees: kept by the platform.
      unlock_net: received.
    """
    post_id: str = Id
    view_count: int = Count
    unlocks: int = Count
    unlock_gross: int = Count
    unlock_fees: int = Count
    unlock_net: int = Count


class Earnings(Answer):
    """A creator's month.

    Attributes:
      month: YYYY-MM.
      currency: the currency.
      gross: paid by fans.
      fees: kept by the platform.
      net: received.
      by_kind: the same per kind (tip, unlock, subscription).
      posts: per post with a video: its plays and what its unlocks earned.
    """
    month: str = Month
    currency: Currency
    gross: int
    fees: int
    net: int
    by_kind: dict[str, EarningsOfKind]
    posts: list[PostEarnings] | None = None


class SubscriptionPage(Page):
    __doc__ = Page.__doc__
    data: list[Subscription]
