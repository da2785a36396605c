"""The request bodies and queries of `chalicelib/api/cards.py`'s routes.

Loaded on the first request that validates one (`chalicelib/lazy.py`):
pydantic is no part of a cold start."""
from typing import Annotated

from pydantic import Field, StrictInt, StrictStr

from chalicelib.api.schemas import NO_CONTROL_CHARS, AmountCents, Body, MoneyBody
# Shared models the routes name too, so looked up here with the rest.
from chalicelib.api.schemas import Page  # noqa: F401
from chalicelib.finance import card_network

Label = Annotated[StrictStr, Field(max_length=40, pattern=NO_CONTROL_CHARS)]
Mcc = Annotated[StrictStr, Field(pattern=r"^[0-9]{4}$")]
Country = Annotated[StrictStr, Field(pattern=r"^[A-Z]{2}$")]
EventId = Annotated[StrictStr, Field(min_length=1, max_length=64)]
CardNumber = Annotated[StrictStr, Field(pattern=r"^[0-9]{12,19}$")]
AuthorizationId = Annotated[StrictStr, Field(min_length=1, max_length=64)]
MerchantText = Annotated[StrictStr, Field(max_length=100, pattern=NO_CONTROL_CHARS)]


class CreateCardBody(Body):
    label: Label | None = None


class RevealBody(Body):
    password: Annotated[StrictStr, Field(min_length=1, max_length=128)]


class LimitsBody(Body):
    per_transaction: AmountCents | None = None
    daily: AmountCents | None = None
    monthly: AmountCents | None = None
    blocked_mccs: Annotated[list[Mcc], Field(max_length=100)] | None = None
    allowed_countries: Annotated[list[Country], Field(max_length=250)] | None = None


class MerchantBody(Body):
    name: Annotated[MerchantText, Field(min_length=1)]
    mcc: Mcc
    city: MerchantText
    country: Country

    def merchant(self) -> card_network.Merchant:
        return card_network.Merchant(self.name, self.mcc, self.city, self.country)


class AuthorizationBody(MoneyBody):
    id: EventId
    card_number: CardNumber
    exp_month: Annotated[StrictInt, Field(ge=1, le=12)]
    exp_year: Annotated[StrictInt, Field(ge=2000, le=2100)]
    cvc: Annotated[StrictStr, Field(pattern=r"^[0-9]{3,4}$")] | None = None
    merchant: MerchantBody


class IncrementBody(Body):
    id: EventId
    amount: AmountCents


class ClearingBody(MoneyBody):
    id: EventId
    authorization_id: AuthorizationId | None = None
    card_number: CardNumber | None = None
    merchant: MerchantBody | None = None


class ReversalBody(Body):
    id: EventId
    authorization_id: AuthorizationId
    amount: AmountCents | None = None


class RefundBody(MoneyBody):
    id: EventId
    card_number: CardNumber
    merchant: MerchantBody
    authorization_id: AuthorizationId | None = None
