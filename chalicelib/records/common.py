"""What every area's answers share: the base model, money and its
currency, the error object, pages, and the response headers."""
from datetime import datetime
from enum import Enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema, model_validator

from chalicelib import clock, errors
from chalicelib.config import settings


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _error_values(attribute: str) -> dict:
    """Every `type`/`code` an ApiError subclass declares: a new refusal class
    is in the enum without another list to keep."""
    values = sorted({getattr(c, attribute) for c in (errors.ApiError, *_subclasses(errors.ApiError))})
    return {v: v for v in values}


Currency = Enum("Currency", {c: c for c in settings().currencies}, type=str)
Currency.__doc__ = "ISO 4217 code of the money's currency."


ErrorType = Enum("ErrorType", _error_values("type"), type=str)
ErrorType.__doc__ = "The family of a refusal; the HTTP status follows from it."


ErrorCode = Enum("ErrorCode", _error_values("code"), type=str)
ErrorCode.__doc__ = "The precise refusal (API.md's error codes)."


Id = Field(min_length=1)


# A moment in JSON is `clock.iso`'s: UTC, milliseconds, `Z`, so it sorts as
# text and reads the same as every time Flock stored before records.
Time = Annotated[datetime, PlainSerializer(clock.iso, return_type=str, when_used="json"),
                 WithJsonSchema({"type": "string", "format": "date-time"})]


Count = Field(ge=0)


Month = Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")


class Answer(BaseModel):
    """The base of every record a service returns: frozen, and open to
    fields added later. `defer_build`: a record's validator is built when the
    first one is made, so a process pays only for the answers it gives.
    `hide_input_in_errors`: a record a service builds wrong is a 500 whose
    error is logged; the log must not carry the token, secret or card
    number the record was given (its secret fields are `repr=False` too)."""
    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True, defer_build=True,
                              hide_input_in_errors=True)

    def as_json(self) -> dict:
        """The record as its JSON object: what the presenter answers and what
        an idempotent request stores for its replay. A field the service
        did not set is left out, as the answers were before records."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class Money(Answer):
    """An amount of money.

    Attributes:
      amount: integer minor units (cents).
      currency: the currency of the amount.
    """
    amount: int
    currency: Currency

    @model_validator(mode="before")
    @classmethod
    def _from_domain(cls, value):
        """A service's `finance.money.Money` is taken as it is."""
        if hasattr(value, "amount_cents"):
            return {"amount": value.amount_cents, "currency": value.currency}
        return value


class ErrorDetail(Answer):
    """What went wrong.

    Attributes:
      type: the family of the refusal.
      code: the precise refusal.
      message: for people; may change.
      param: the field or header at fault, if one is.
      reasons: why a decision went against the caller, when it has reasons.
    """
    type: ErrorType
    code: ErrorCode
    message: str
    param: str | None
    reasons: list[str] | None = None


class Error(Answer):
    """Every refusal.

    Attributes:
      error: the refusal.
    """
    error: ErrorDetail


class Page(Answer):
    """Attributes:
      data: this page's items.
      next_cursor: pass as `cursor` for the next page; null on the last.
    """
    next_cursor: str | None


HEADERS = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the same "
                       "Idempotency-Key and body (nothing happened again); absent otherwise.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 1},
    },
}
