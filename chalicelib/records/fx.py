"""Answers of money in other currencies (API.md): pockets, quotes, rates."""
from datetime import date
from enum import Enum

from pydantic import Field

from chalicelib.records.common import Answer, Count, Currency, Id, Time
from chalicelib.records.money import Account

DecimalText = Field(pattern=r"^[0-9]+(\.[0-9]+)?$")


class PocketList(Answer):
    """Attributes:
      data: every pocket the person holds, the home currency's first.
    """
    data: list[Account]


class QuoteStatus(str, Enum):
    """A quote converts once."""
    open = "open"
    used = "used"


class Quote(Answer):
    """A price to convert, locked for 30 s of real time.

    Attributes:
      id: the quote id, for the conversion.
      sell_currency: what leaves the sell pocket.
      buy_currency: what arrives in the buy pocket.
      rate: buy units per sell unit, spread applied, as a decimal string.
      sell_amount: minor units leaving the sell pocket, the fee included.
      buy_amount: minor units arriving: (sell_amount - fee) x rate, rounded down.
      fee: minor units of the sell currency kept as the fee.
      expires_at: after this the quote converts nothing (409).
      mid_rate: the mid-market rate the quote started from.
      status: open until converted.
    """
    id: str = Id
    sell_currency: Currency
    buy_currency: Currency
    rate: str = DecimalText
    sell_amount: int = Count
    buy_amount: int = Count
    fee: int = Count
    expires_at: Time
    mid_rate: str | None = None
    status: QuoteStatus | None = None


class FxRates(Answer):
    """Mid-market rates in force.

    Attributes:
      base: the currency the rates are quoted against.
      rates: currency -> units of it per unit of base, as decimal strings.
      as_of: the day they are for.
      source: who set them (an operator, or the reference-rate file).
    """
    base: Currency
    rates: dict[str, str]
    as_of: date
    source: str
