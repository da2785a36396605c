"""The request bodies and queries of `chalicelib/api/creator.py`'s routes.

Loaded on the first request that validates one (`chalicelib/lazy.py`):
pydantic is no part of a cold start."""
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api.schemas import AnyCurrency, Note
# Shared models the routes name too, so looked up here with the rest.
from chalicelib.api.schemas import Page, PaysFrom, PocketMoneyBody  # noqa: F401
from chalicelib.config import HOME_CURRENCY


class PaymentBody(PocketMoneyBody, PaysFrom):
    """What the other member receives, in its currency; `pay_currency` optional."""
    note: Note = ""


class TipBody(PocketMoneyBody, PaysFrom):
    """The tip in the currency the author receives; `pay_currency` optional."""


class EarningsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    month: str = Field(max_length=7)
    currency: AnyCurrency = HOME_CURRENCY
