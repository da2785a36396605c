"""The users table.

Item kinds (pk / sk):
  USER#<user_id>            PROFILE        a person: profile, role, password hash, token version
  HANDLE#<handle lowered>   HANDLE         the unique claim on a handle -> user id
  LOGIN#<handle>#<address>  LOGIN          failed logins in the current window (TTL)
  LOGINH#<kind>#<handle>    LOGIN          failed passwords or codes for the handle from every address (TTL)
  USER#<user_id>            SESSION#<sid>  a session: its refresh token's hash and generation, client, times (TTL)
  USER#<user_id>            SECEVT#<at>#<id>  a security event the person can read (TTL)
  USER#<user_id>            TOTP           the TOTP second factor: encrypted secret, last step used,
                                           hashes of unused recovery codes
  MFA#<token hash>          MFA            a login waiting for its second factor (TTL, used once)
  AUDIT                     <at>#<id>      one admin action: who, when, what, why
  USER#<user_id>            FCNT#<shard>   one shard of a celebrity's follower count (the rest of it on
                                           the user item, from before the promotion; sum on read)
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


def login_handle_key(handle: str, kind: str) -> tuple[str, str]:
    return f"LOGINH#{kind}#{handle.lower()}", "LOGIN"


def session_key(user_id: str, session_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", f"SESSION#{session_id}"


def security_event_key(user_id: str, at: str, event_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", f"SECEVT#{at}#{event_id}"


def totp_key(user_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", "TOTP"


def mfa_challenge_key(token_hash: str) -> tuple[str, str]:
    return f"MFA#{token_hash}", "MFA"


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
    subscription_price = NumberAttribute(null=True)  # minor units a month; None: no subscriptions
    subscription_price_currency = UnicodeAttribute(null=True)  # of subscription_price; None: USD (set before pockets)
    # The ids of the person's live sessions: the token check reads this item
    # anyway, so a session ended here stops its access token at no extra read.
    sessions = UnicodeSetAttribute(null=True)
    mfa = BooleanAttribute(default=False)  # a confirmed TOTP second factor

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


class LoginHandleFailures(Item):
    """Failed logins for one handle from every address, in one window."""
    Meta = meta("users")
    failures = NumberAttribute(default=0)
    window_start_s = NumberAttribute()
    expires_at = NumberAttribute()

    @classmethod
    def ref(cls, handle: str, kind: str) -> "LoginHandleFailures":
        return cls(*login_handle_key(handle, kind))

    @classmethod
    def find(cls, handle: str, kind: str) -> "LoginHandleFailures | None":
        try:
            return cls.get(*login_handle_key(handle, kind), consistent_read=True)
        except cls.DoesNotExist:
            return None


class SessionItem(Item):
    """One signed-in device. Only the hash of its current refresh token is
    kept; `generation` counts rotations (the token names its generation, so
    an older one presented again is recognised as reuse). Times are the real
    clock's: ISO text for people, seconds for conditions and TTL."""
    Meta = meta("users")
    id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    created_at = UnicodeAttribute()
    last_used_at = UnicodeAttribute()
    user_agent = UnicodeAttribute(default="")
    ip = UnicodeAttribute(default="")
    generation = NumberAttribute(default=0)
    refresh_hash = UnicodeAttribute()
    refresh_expires_s = NumberAttribute()
    ended_at = UnicodeAttribute(null=True)
    end_reason = UnicodeAttribute(null=True)
    expires_at = NumberAttribute()  # TTL: some days after the refresh token's end

    @classmethod
    def new(cls, user_id: str, session_id: str, **values) -> "SessionItem":
        return cls(*session_key(user_id, session_id), id=session_id, user_id=user_id, **values)

    @classmethod
    def ref(cls, user_id: str, session_id: str) -> "SessionItem":
        return cls(*session_key(user_id, session_id))

    @classmethod
    def find(cls, user_id: str, session_id: str) -> "SessionItem | None":
        try:
            return cls.get(*session_key(user_id, session_id), consistent_read=True)
        except cls.DoesNotExist:
            return None

    @classmethod
    def find_many(cls, user_id: str, session_ids) -> list["SessionItem"]:
        """The sessions of those ids that exist (one BatchGetItem per 100)."""
        return list(cls.batch_get([session_key(user_id, sid) for sid in session_ids], consistent_read=True))


class SecurityEventItem(Item):
    Meta = meta("users")
    id = UnicodeAttribute()
    type = UnicodeAttribute()
    created_at = UnicodeAttribute()
    ip = UnicodeAttribute(default="")
    user_agent = UnicodeAttribute(default="")
    detail = UnicodeAttribute(default="{}")  # JSON
    expires_at = NumberAttribute()

    @classmethod
    def new(cls, user_id: str, event_id: str, at: str, **values) -> "SecurityEventItem":
        return cls(*security_event_key(user_id, at, event_id), id=event_id, created_at=at, **values)

    @classmethod
    def page(cls, user_id: str, limit: int, last_key: dict | None):
        pk, _ = security_event_key(user_id, "", "")
        return cls.query(pk, cls.sk.startswith("SECEVT#"), scan_index_forward=False, limit=limit,
                         last_evaluated_key=last_key)

    @staticmethod
    def partition(user_id: str) -> str:
        return security_event_key(user_id, "", "")[0]


class TotpItem(Item):
    """status: pending (enrolled, not confirmed) | active. `secret` is an
    envelope (chalicelib/crypto/envelope.py), never the secret in clear.
    `last_step` is the last 30 s step whose code was accepted: a code is
    accepted only for a later step (conditional update), so each is used once."""
    Meta = meta("users")
    status = UnicodeAttribute()
    secret = UnicodeAttribute()
    last_step = NumberAttribute(default=0)
    recovery_hashes = UnicodeSetAttribute(null=True)
    created_at = UnicodeAttribute()

    @classmethod
    def ref(cls, user_id: str) -> "TotpItem":
        return cls(*totp_key(user_id))

    @classmethod
    def find(cls, user_id: str) -> "TotpItem | None":
        try:
            return cls.get(*totp_key(user_id), consistent_read=True)
        except cls.DoesNotExist:
            return None


class MfaChallenge(Item):
    """A password accepted, the second factor awaited: found by the hash of
    the `mfa_token`, used once, dead after `expires_s` (real clock)."""
    Meta = meta("users")
    user_id = UnicodeAttribute()
    handle = UnicodeAttribute()
    ip = UnicodeAttribute(default="")
    user_agent = UnicodeAttribute(default="")
    expires_s = NumberAttribute()
    expires_at = NumberAttribute()  # TTL

    @classmethod
    def ref(cls, token_hash: str) -> "MfaChallenge":
        return cls(*mfa_challenge_key(token_hash))

    @classmethod
    def find(cls, token_hash: str) -> "MfaChallenge | None":
        try:
            return cls.get(*mfa_challenge_key(token_hash), consistent_read=True)
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


def follower_shard_key(user_id: str, shard: int) -> tuple[str, str]:
    return f"USER#{user_id}", f"FCNT#{shard}"


class FollowerShard(Item):
    """A celebrity is followed faster than one item takes writes: each follow
    moves one of `follower_count_shards` shards (made by the first write)."""
    Meta = meta("users")
    followers = NumberAttribute(default=0)


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
    price_currency = UnicodeAttribute(null=True)  # what the creator receives; None: USD (made before pockets)
    pay_currency = UnicodeAttribute(null=True)  # the pocket the fan named to pay from; None: the rule (creator.py)
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
