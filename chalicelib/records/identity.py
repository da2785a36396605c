"""Answers about people, sessions and operators' audit trail."""
from enum import Enum
from typing import Any, Literal

from pydantic import ConfigDict, Field, RootModel

from chalicelib.records.common import Answer, Count, Id, Page, Time


class Role(str, Enum):
    """Who a person is to Flock: operators are `admin`."""
    user = "user"
    admin = "admin"


class User(Answer):
    """A person as others see them.

    Attributes:
      id: the user id.
      handle: the unique @handle.
      display_name: the chosen name, if any.
      bio: the profile text, if any.
      verified: whether the person passed KYC (and has a money account).
      role: user or admin.
      created_at: when they signed up.
      follower_count: people following them.
      following_count: people they follow.
      frozen: on the person's own profile and to operators: whether they are frozen.
      two_factor: on the person's own profile: whether two-factor authentication is on.
    """
    id: str = Id
    handle: str
    display_name: str | None
    bio: str | None
    verified: bool
    role: Role
    created_at: Time
    follower_count: int = Count
    following_count: int = Count
    frozen: bool | None = None
    two_factor: bool | None = None


class Session(Answer):
    """A signed-in session.

    Attributes:
      user: who signed in.
      token: the bearer access token.
      refresh_token: trades for a new token pair at /v1/auth/refresh.
    """
    user: User
    token: str = Field(min_length=1, repr=False)
    refresh_token: str | None = Field(default=None, min_length=1, repr=False)


class MfaChallenge(Answer):
    """A password was right and the second factor is still due.

    Attributes:
      mfa_required: always true.
      mfa_token: hand it to /v1/auth/mfa with the code.
    """
    mfa_required: Literal[True]
    mfa_token: str = Field(min_length=1, repr=False)


class SignIn(RootModel[Session | MfaChallenge]):
    """A session, or the challenge for the second factor."""
    model_config = ConfigDict(frozen=True, defer_build=True)


class Tokens(Answer):
    """A fresh token pair.

    Attributes:
      token: the bearer access token.
      refresh_token: the next refresh token (the old one is spent).
    """
    token: str = Field(min_length=1, repr=False)
    refresh_token: str = Field(min_length=1, repr=False)


class DeviceSession(Answer):
    """One signed-in device.

    Attributes:
      id: the session id.
      created_at: when it signed in.
      last_used_at: when it last refreshed.
      user_agent: the device's User-Agent.
      ip: the address it signed in from.
      current: whether the caller's token belongs to it.
    """
    id: str = Id
    created_at: Time
    last_used_at: Time
    user_agent: str
    ip: str
    current: bool


class SecurityEvent(Answer):
    """An entry of the person's security log.

    Attributes:
      id: the event id.
      type: what happened (sign_in, wrong_password, ...).
      created_at: when.
      ip: from where.
      user_agent: from which device.
      detail: what else is known.
    """
    id: str = Id
    type: str
    created_at: Time
    ip: str
    user_agent: str
    detail: dict[str, Any]


class TotpEnrolment(Answer):
    """A TOTP secret to confirm.

    Attributes:
      secret: base32 secret for the authenticator app.
      otpauth_uri: the same as an otpauth:// URI (for a QR code).
    """
    secret: str = Field(min_length=16, repr=False)
    otpauth_uri: str = Field(repr=False)


class RecoveryCodes(Answer):
    """Shown once.

    Attributes:
      recovery_codes: ten single-use codes.
    """
    recovery_codes: list[str] = Field(min_length=10, max_length=10, repr=False)


class AuditRecord(Answer):
    """An operator's action.

    Attributes:
      id: the record id.
      at: when.
      actor: the operator's handle.
      actor_id: the operator's user id.
      action: what they did.
      target: to whom or what.
      reason: why, as the operator gave it ("" when they gave none).
      details: what else the action recorded (an account id, a new limit).
    """
    id: str = Id
    at: Time
    actor: str
    actor_id: str = Id
    action: str
    target: str
    reason: str
    details: dict[str, Any]


class UserPage(Page):
    __doc__ = Page.__doc__
    data: list[User]


class DeviceSessionPage(Page):
    __doc__ = Page.__doc__
    data: list[DeviceSession]


class SecurityEventPage(Page):
    __doc__ = Page.__doc__
    data: list[SecurityEvent]


class AuditPage(Page):
    __doc__ = Page.__doc__
    data: list[AuditRecord]
