"""The request bodies and queries of `chalicelib/api/creator.py`'s routes.

Loaded on the first request that validates one (`chalicelib/lazy.py`):
pydantic is no part of a cold start."""
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api.schemas import Note
# Shared models the routes name too, so looked up here with the rest.
from chalicelib.api.schemas import MoneyBody, Page  # noqa: F401


class PaymentBody(MoneyBody):
    note: Note = ""


class EarningsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    month: str = Field(max_length=7)
