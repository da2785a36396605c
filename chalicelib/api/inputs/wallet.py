"""The request bodies and queries of `chalicelib/api/wallet.py`'s routes.

Loaded on the first request that validates one (`chalicelib/lazy.py`):
pydantic is no part of a cold start."""
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from chalicelib.api.schemas import AnyCurrency, Body, Handle, Note, Page
# Shared models the routes name too, so looked up here with the rest.
from chalicelib.api.schemas import PaysFrom, PocketMoneyBody  # noqa: F401
from chalicelib.config import HOME_CURRENCY


class TransferBody(PocketMoneyBody):
    to: Handle
    note: Note = ""
    deliver_currency: AnyCurrency | None = None


class WithdrawalBody(PocketMoneyBody):
    iban: Annotated[StrictStr, Field(min_length=1, max_length=64)] | None = None


class PocketQuery(BaseModel):
    """`?currency=`: the pocket (the home currency's, the account, by default)."""
    model_config = ConfigDict(extra="ignore", defer_build=True)
    currency: str = Field(default=HOME_CURRENCY, max_length=16)


class PocketPage(Page):
    currency: str = Field(default=HOME_CURRENCY, max_length=16)


class RequestBody(PocketMoneyBody):
    from_: Annotated[Handle, Field(alias="from")]
    note: Note = ""


class CreditLineBody(Body):
    requested_limit: Annotated[StrictInt, Field(ge=0, le=10**12)]


class StatementQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    format: Literal["json", "csv"] = "json"
    currency: str = Field(default=HOME_CURRENCY, max_length=16)


class RequestsQuery(Page):
    role: Literal["incoming", "outgoing"] = "incoming"
