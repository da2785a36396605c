"""Money in many currencies: minor units per ISO 4217, and no mixing."""
import pytest

from chalicelib.config import MINOR_UNITS_MAX
from chalicelib.finance.money import SUPPORTED_CURRENCIES, CurrencyMismatch, Money, exponent


def test_the_configured_currencies_and_their_exponents():
    assert set(SUPPORTED_CURRENCIES) == {"USD", "EUR", "GBP", "JPY", "CAD", "AUD", "CHF", "MXN", "INR", "TRY", "AED"}
    assert exponent("JPY") == 0
    assert exponent("EUR") == 2
    with pytest.raises(ValueError):
        exponent("BTC")


@pytest.mark.parametrize("bad", [12.5, 12.0, True, "100", None])
def test_money_is_integer_minor_units(bad):
    with pytest.raises(TypeError):
        Money(bad, "EUR")


@pytest.mark.parametrize("code", ["BTC", "usd", "", "EURO"])
def test_an_unsupported_currency_is_refused(code):
    with pytest.raises(ValueError):
        Money(100, code)


def test_past_ten_to_the_twelve_is_refused():
    with pytest.raises(ValueError):
        Money(MINOR_UNITS_MAX + 1, "JPY")


def test_arithmetic_in_one_currency():
    assert Money(150, "EUR") + Money(50, "EUR") == Money(200, "EUR")
    assert Money(150, "JPY") - Money(200, "JPY") == Money(-50, "JPY")
    assert -Money(5, "GBP") == Money(-5, "GBP")
    assert Money(1, "EUR") < Money(2, "EUR")


@pytest.mark.parametrize("op", [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a < b, lambda a, b: a <= b])
def test_arithmetic_refuses_mixing_currencies(op):
    with pytest.raises(CurrencyMismatch):
        op(Money(100, "USD"), Money(100, "EUR"))


def test_money_adds_only_to_money():
    with pytest.raises(TypeError):
        Money(100, "USD") + 1
