"""The request bodies and queries of `chalicelib/api/fx.py`'s routes.

Loaded on the first request that validates one (`chalicelib/lazy.py`):
pydantic is no part of a cold start."""
from typing import Annotated

from pydantic import Field, StrictStr

from chalicelib.api.schemas import AmountCents, AnyCurrency, Body, Reason

RATES_MAX = 64


class QuoteBody(Body):
    sell_currency: AnyCurrency
    buy_currency: AnyCurrency
    sell_amount: AmountCents | None = None
    buy_amount: AmountCents | None = None


class ConversionBody(Body):
    quote_id: Annotated[StrictStr, Field(min_length=1, max_length=64)]


class FxRatesBody(Body):
    base: AnyCurrency
    # Decimal strings, checked by the service (a JSON number would be a float).
    rates: Annotated[dict[Annotated[StrictStr, Field(max_length=16)], Annotated[StrictStr, Field(max_length=32)]],
                     Field(min_length=1, max_length=RATES_MAX)]
    reason: Reason | None = None
