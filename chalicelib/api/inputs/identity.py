"""The request bodies and queries of `chalicelib/api/identity.py`'s routes.

Loaded on the first request that validates one (`chalicelib/lazy.py`):
pydantic is no part of a cold start."""
from typing import Annotated

from pydantic import Field, StrictInt, StrictStr

from chalicelib.api.schemas import Bio, Body, DisplayName, Handle, Password
# Shared models the routes name too, so looked up here with the rest.
from chalicelib.api.schemas import AdminReason, Page  # noqa: F401


class Signup(Body):
    handle: Handle
    password: Password
    display_name: DisplayName | None = None


class Login(Body):
    handle: Handle
    password: Annotated[StrictStr, Field(min_length=1, max_length=128)]


class PatchMe(Body):
    display_name: DisplayName | None = None
    bio: Bio | None = None


class ChangePassword(Body):
    current_password: Annotated[StrictStr, Field(min_length=1, max_length=128)]
    new_password: Password


class Refresh(Body):
    refresh_token: Annotated[StrictStr, Field(min_length=1, max_length=512)]


Code = Annotated[StrictStr, Field(min_length=1, max_length=32)]


class Mfa(Body):
    mfa_token: Annotated[StrictStr, Field(min_length=1, max_length=128)]
    code: Code


class TotpCode(Body):
    code: Code


class DisableTwoFactor(Body):
    password: Annotated[StrictStr, Field(min_length=1, max_length=128)]
    code: Code


class CreditLimit(AdminReason):
    credit_limit: Annotated[StrictInt, Field(ge=0, le=10**12)]
