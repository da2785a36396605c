"""The users table.

Item kinds (pk / sk):
  USER#<user_id>            PROFILE        a person: profile, role, password hash, token version
  HANDLE#<handle lowered>   HANDLE         the unique claim on a handle -> user id
  LOGIN#<handle>#<address>  LOGIN          failed logins in the current window (TTL)
  AUDIT                     <at>#<id>      one admin action: who, when, what, why
"""
from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.db.base import Item, meta


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
        return cls("AUDIT", f"{at}#{id}", id=id, at=at, **values)
