"""The users table.

Item kinds (pk / sk):
  USER#<user_id>            PROFILE        a person: profile, role, password hash, token version
  HANDLE#<handle lowered>   HANDLE         the unique claim on a handle -> user id
  LOGIN#<handle>#<address>  LOGIN          failed logins in the current window (TTL)
  AUDIT                     <at>#<id>      one admin action: who, when, what, why
  USER#<follower_id>        FOLLOWS#<followee_id>  a follow edge;
                            gsi1 FOLLOWERS#<followee> / <at>#<follower>, gsi2 FOLLOWING#<follower> / <at>#<followee>
  USRCH#<first char>        <word>#<user_id>  a handle or display-name word, for prefix search
  SUB#<creator_id>          <fan_id>       a creator subscription; gsi1 FANSUBS#<fan> / <creator>,
                            gsi2 SUBDUE#<shard> / <period end>#<sub_id> while it may renew
"""
from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute

from chalicelib.db.base import Gsi1, Gsi2, Item, meta


def user_key(user_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", "PROFILE"


def handle_key(handle: str) -> tuple[str, str]:
    return f"HANDLE#{handle.lower()}", "HANDLE"


def login_key(handle: str, address: str) -> tuple[str, str]:
    return f"LOGIN#{handle.lower()}#{address}", "LOGIN"


class UserItem(Item):
    Meta = meta("users")
    id = UnicodeAttribute()
    handle = UnicodeAttribute()
    display_name = UnicodeAttribute(default="")
    bio = UnicodeAttribute(default="")
    password_hash = UnicodeAttribute()
    role = UnicodeAttribute(default="user")
    verified = BooleanAttribute(default=False)
    frozen = BooleanAttribute(default=False)
    token_version = NumberAttribute(default=0)
    account_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    follower_count = NumberAttribute(default=0)
    following_count = NumberAttribute(default=0)
    # Authors above the celebrity threshold are not fanned out; each follower
    # keeps the ids of the celebrities it follows here, read with the token
    # check, so the timeline can merge their posts at no extra read.
    celebrity = BooleanAttribute(default=False)
    celebrity_follows = UnicodeSetAttribute(null=True)
    subscription_price = NumberAttribute(null=True)  # USD minor units a month; None: no subscriptions

    @classmethod
    def new(cls, **values) -> "UserItem":
        pk, sk = user_key(values["id"])
        return cls(pk, sk, **values)

    @classmethod
    def ref(cls, user_id: str) -> "UserItem":
        """A keys-only instance, for updates and transactions."""
        return cls(*user_key(user_id))

    @classmethod
    def find(cls, user_id: str, consistent: bool = True) -> "UserItem | None":
        try:
            return cls.get(*user_key(user_id), consistent_read=consistent)
        except cls.DoesNotExist:
            return None


class HandleItem(Item):
    Meta = meta("users")
    user_id = UnicodeAttribute()
    handle = UnicodeAttribute()

    @classmethod
    def new(cls, handle: str, user_id: str) -> "HandleItem":
        return cls(*handle_key(handle), user_id=user_id, handle=handle)

    @classmethod
    def find(cls, handle: str) -> "HandleItem | None":
        try:
            return cls.get(*handle_key(handle), consistent_read=True)
        except cls.DoesNotExist:
            return None


class LoginFailures(Item):
    Meta = meta("users")
    failures = NumberAttribute(default=0)
    window_start_s = NumberAttribute()
    expires_at = NumberAttribute()

    @classmethod
    def find(cls, handle: str, address: str) -> "LoginFailures | None":
        try:
            return cls.get(*login_key(handle, address), consistent_read=True)
        except cls.DoesNotExist:
            return None


AUDIT_PARTITION = "AUDIT"


class AuditRecord(Item):
    Meta = meta("users")
    id = UnicodeAttribute()
    at = UnicodeAttribute()
    actor_id = UnicodeAttribute()
    actor_handle = UnicodeAttribute()
    action = UnicodeAttribute()
    target = UnicodeAttribute()
    reason = UnicodeAttribute(default="")
    details = UnicodeAttribute(default="{}")

    @classmethod
    def new(cls, *, id: str, at: str, **values) -> "AuditRecord":
        return cls(AUDIT_PARTITION, f"{at}#{id}", id=id, at=at, **values)


def follow_key(follower_id: str, followee_id: str) -> tuple[str, str]:
    return f"USER#{follower_id}", f"FOLLOWS#{followee_id}"


def followers_partition(user_id: str) -> str:
    return f"FOLLOWERS#{user_id}"


def following_partition(user_id: str) -> str:
    return f"FOLLOWING#{user_id}"


class FollowEdge(Item):
    Meta = meta("users")
    follower_id = UnicodeAttribute()
    followee_id = UnicodeAttribute()
    created_at = UnicodeAttribute()
    gsi1_pk = UnicodeAttribute()
    gsi1_sk = UnicodeAttribute()
    gsi2_pk = UnicodeAttribute()
    gsi2_sk = UnicodeAttribute()
    followers = Gsi1()
    following = Gsi2()

    @classmethod
    def new(cls, follower_id: str, followee_id: str, at: str) -> "FollowEdge":
        """Listed among the followee's followers and the follower's
        following, newest first."""
        return cls(*follow_key(follower_id, followee_id), follower_id=follower_id, followee_id=followee_id,
                   created_at=at, gsi1_pk=followers_partition(followee_id), gsi1_sk=f"{at}#{follower_id}",
                   gsi2_pk=following_partition(follower_id), gsi2_sk=f"{at}#{followee_id}")


def user_word_key(word: str, user_id: str) -> tuple[str, str]:
    return f"USRCH#{word[:1]}", f"{word}#{user_id}"


class UserWord(Item):
    Meta = meta("users")
    user_id = UnicodeAttribute()


def subscription_key(creator_id: str, fan_id: str) -> tuple[str, str]:
    return f"SUB#{creator_id}", fan_id


def fan_subscriptions_partition(fan_id: str) -> str:
    return f"FANSUBS#{fan_id}"


def subscriptions_due_partition(shard: int) -> str:
    return f"SUBDUE#{shard}"


def subscription_due_sort_key(period_end_iso: str, subscription_id: str) -> str:
    return f"{period_end_iso}#{subscription_id}"


def due_by(cutoff_iso: str) -> str:
    """The bound at or below which (`<=`) lie the due-index keys of every
    period ending at or before `cutoff_iso` ("~" follows every id character)."""
    return cutoff_iso + "~"


class SubscriptionItem(Item):
    """Status: new (created, first charge pending) | active | past_due
    (a renewal failed; retried daily) | cancelled (access until period_end)
    | ended. `periods_paid` is the condition of every charge: each period is
    paid exactly once."""
    Meta = meta("users")
    id = UnicodeAttribute()
    creator_id = UnicodeAttribute()
    creator_handle = UnicodeAttribute()
    fan_id = UnicodeAttribute()
    fan_handle = UnicodeAttribute()
    status = UnicodeAttribute()
    price_amount = NumberAttribute()
    period_start = UnicodeAttribute(default="")
    period_end = UnicodeAttribute(default="")
    periods_paid = NumberAttribute(default=0)
    anchor_day = NumberAttribute(null=True)  # the day of month periods end on (clamped): the first day's
    cancel_at_period_end = BooleanAttribute(default=False)
    failed_days = NumberAttribute(default=0)
    last_attempt_day = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    gsi1_pk = UnicodeAttribute()
    gsi1_sk = UnicodeAttribute()
    gsi2_pk = UnicodeAttribute(null=True)
    gsi2_sk = UnicodeAttribute(null=True)
    by_fan = Gsi1()
    due = Gsi2()
