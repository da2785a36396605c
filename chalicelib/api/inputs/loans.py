"""The request bodies and queries of `chalicelib/api/loans.py`'s routes.

Loaded on the first request that validates one (`chalicelib/lazy.py`):
pydantic is no part of a cold start."""
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from chalicelib.api.schemas import AmountCents, Body
# Shared models the routes name too, so looked up here with the rest.
from chalicelib.api.schemas import MoneyBody  # noqa: F401

Months = Annotated[StrictInt, Field(ge=1, le=120)]


class ApplicationBody(Body):
    amount: AmountCents
    term_months: Months


class ProductBody(Body):
    min_amount: AmountCents
    max_amount: AmountCents
    terms: Annotated[list[Months], Field(min_length=1, max_length=120)]
    apr_bps_by_grade: dict[Annotated[str, Field(pattern=r"^[A-E]$")], Annotated[StrictInt, Field(ge=0, le=10_000)]]


class PayoffQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    date: str | None = Field(default=None, max_length=10)
