"""Money: integer minor units with a currency. Never a float.

The currencies are data (`config.settings().currencies`: ISO 4217 code ->
minor-unit exponent, JPY 0, most 2). A `Money` of any other currency cannot
be made, and arithmetic between two currencies is refused: a conversion is a
quote (`finance/fx.py`), never an addition.
"""
from dataclasses import dataclass

from chalicelib.config import HOME_CURRENCY, MINOR_UNITS_MAX, settings

SUPPORTED_CURRENCIES = tuple(settings().currencies)
if HOME_CURRENCY not in SUPPORTED_CURRENCIES:
    raise RuntimeError(f"{HOME_CURRENCY} must be one of the configured currencies (FLOCK_CURRENCIES)")

AccountId = str
TransferId = str


class CurrencyMismatch(ValueError):
    """Arithmetic between amounts of two currencies."""


def exponent(currency: str) -> int:
    """The number of decimals of the currency's minor unit (ISO 4217)."""
    if currency not in SUPPORTED_CURRENCIES:
        raise ValueError(f"unsupported currency {currency!r}")
    return settings().currencies[currency]


@dataclass(frozen=True)
class Money:
    """An amount of one currency.

    Attributes:
      amount_cents: integer minor units of `currency` (cents, or yen for
        JPY); a bool or float is refused, and so is more than 10^12.
      currency: ISO 4217 code, one of SUPPORTED_CURRENCIES.
    """
    amount_cents: int
    currency: str = HOME_CURRENCY

    def __post_init__(self):
        if type(self.amount_cents) is not int:
            raise TypeError("money is integer minor units")
        if abs(self.amount_cents) > MINOR_UNITS_MAX:
            raise ValueError("amount out of range")
        if self.currency not in SUPPORTED_CURRENCIES:
            raise ValueError(f"unsupported currency {self.currency!r}")

    def _same(self, other: "Money") -> None:
        if not isinstance(other, Money):
            raise TypeError("money adds to money")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} do not mix")

    def __add__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.amount_cents + other.amount_cents, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.amount_cents - other.amount_cents, self.currency)

    def __neg__(self) -> "Money":
        return Money(-self.amount_cents, self.currency)

    def __lt__(self, other: "Money") -> bool:
        self._same(other)
        return self.amount_cents < other.amount_cents

    def __le__(self, other: "Money") -> bool:
        self._same(other)
        return self.amount_cents <= other.amount_cents

    def as_json(self) -> dict:
        return {"amount": self.amount_cents, "currency": self.currency}
