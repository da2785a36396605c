"""Money: integer minor units with a currency. Never a float."""
from dataclasses import dataclass

from chalicelib.config import MINOR_UNITS_MAX

SUPPORTED_CURRENCIES = ("USD",)

AccountId = str
TransferId = str


@dataclass(frozen=True)
class Money:
    """An amount of one currency.

    Attributes:
      amount_cents: integer minor units; a bool or float is refused.
      currency: ISO 4217 code, one of SUPPORTED_CURRENCIES.
    """
    amount_cents: int
    currency: str = "USD"

    def __post_init__(self):
        if type(self.amount_cents) is not int:
            raise TypeError("money is integer minor units")
        if abs(self.amount_cents) > MINOR_UNITS_MAX:
            raise ValueError("amount out of range")
        if self.currency not in SUPPORTED_CURRENCIES:
            raise ValueError(f"unsupported currency {self.currency!r}")

    def as_json(self) -> dict:
        return {"amount": self.amount_cents, "currency": self.currency}
