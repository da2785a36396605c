"""Request models shared by the routes: strict (`true` is not an integer,
`"5"` is not an integer) and closed (unknown fields are refused)."""
import unicodedata
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StrictStr

from chalicelib import errors
from chalicelib.config import HOME_CURRENCY, MINOR_UNITS_MAX
from chalicelib.finance.money import SUPPORTED_CURRENCIES, Money

PAGE_SIZE_MAX = 100
PAGE_SIZE_DEFAULT = 20


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", defer_build=True)


def _no_control_chars(value: str) -> str:
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in value):
        raise ValueError("control characters are not allowed")
    return value


# Characters a reader cannot see or that reorder what they see: controls
# (NUL), format characters (U+200B zero width space, U+202E right-to-left
# override, U+FEFF), separators (spaces), surrogates, private use, unassigned,
# and the letters that draw as blanks.
_UNSEEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _https_url(value: str) -> str:
    """An https URL with a host, no user part (`https://bank.com@evil.example`)
    and nothing invisible in it; stored as given."""
    if any(unicodedata.category(c) in _UNSEEN_CATEGORIES or c in _BLANK_LETTERS for c in value):
        raise ValueError("control and invisible characters are not allowed")
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        raise ValueError("must be an https URL") from None
    if parts.scheme.lower() != "https" or not host or "@" in parts.netloc:
        raise ValueError("must be an https URL with a host")
    return value


def _nfc_length(low: int, high: int):
    def check(value: str) -> str:
        if not low <= len(unicodedata.normalize("NFC", value)) <= high:
            raise ValueError(f"must be {low}..{high} characters")
        return value
    return check


# What the after-validators check, told to the OpenAPI document (pydantic
# cannot see inside them): length after NFC, and no control characters.
NO_CONTROL_CHARS = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$"


def text_schema(low: int | None = None, high: int | None = None):
    extra = {"pattern": NO_CONTROL_CHARS}
    if low is not None:
        extra.update(minLength=low, maxLength=high)
    return Field(json_schema_extra=extra)


Handle = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_]{1,15}$")]
Password = Annotated[StrictStr, Field(min_length=10, max_length=128)]
DisplayName = Annotated[StrictStr, Field(max_length=200), AfterValidator(_nfc_length(1, 50)),
                        AfterValidator(_no_control_chars), text_schema(1, 50)]
Bio = Annotated[StrictStr, Field(max_length=1000), AfterValidator(_nfc_length(0, 160)),
                AfterValidator(_no_control_chars), text_schema(0, 160)]
Note = Annotated[StrictStr, Field(max_length=1200), AfterValidator(_nfc_length(0, 280)),
                 AfterValidator(_no_control_chars), text_schema(0, 280)]
# Paper checks: who a check is to, and its memo line.
Payee = Annotated[StrictStr, Field(max_length=400), AfterValidator(_nfc_length(1, 100)),
                  AfterValidator(_no_control_chars), text_schema(1, 100)]
Memo = Annotated[StrictStr, Field(max_length=400), AfterValidator(_nfc_length(0, 100)),
                 AfterValidator(_no_control_chars), text_schema(0, 100)]
Reason = Annotated[StrictStr, Field(max_length=500), AfterValidator(_no_control_chars), text_schema()]
HttpsUrl = Annotated[StrictStr, Field(max_length=2048, pattern=r"^https://[^\s]+$"), AfterValidator(_https_url)]
AmountCents = Annotated[StrictInt, Field(ge=1, le=MINOR_UNITS_MAX)]
# Any other currency is a 400 unsupported_currency (not invalid_request), so
# the model takes any short string; the document tells the one accepted.
Currency = Annotated[StrictStr, Field(min_length=1, max_length=16, json_schema_extra={"enum": [HOME_CURRENCY]})]
# Where pockets of every currency are meant (API.md, Money in other currencies).
AnyCurrency = Annotated[StrictStr, Field(min_length=1, max_length=16,
                                         json_schema_extra={"enum": sorted(SUPPORTED_CURRENCIES)})]


class MoneyBody(Body):
    amount: AmountCents
    currency: Currency

    def money(self, currencies: tuple = (HOME_CURRENCY,)) -> Money:
        """The amount, in one of `currencies`: a route that moves other
        currencies than the home one says so (pockets, API.md)."""
        if self.currency not in currencies or self.currency not in SUPPORTED_CURRENCIES:
            raise errors.UnsupportedCurrency(param="currency")
        return Money(self.amount, self.currency)


class PocketMoneyBody(MoneyBody):
    """An amount of any configured currency: a pocket's."""
    currency: AnyCurrency


class PaysFrom(Body):
    """`pay_currency`: the pocket a priced payment is paid from (creator
    money); absent, the price's own pocket if the payer holds one, else the
    home one."""
    pay_currency: AnyCurrency | None = None

    def pay_from(self) -> str | None:
        if self.pay_currency is not None and self.pay_currency not in SUPPORTED_CURRENCIES:
            raise errors.UnsupportedCurrency(param="pay_currency")
        return self.pay_currency


class Page(BaseModel):
    """`?limit=&cursor=`; query strings are text, so this one is lax."""
    model_config = ConfigDict(extra="ignore", defer_build=True)
    limit: int = Field(default=PAGE_SIZE_DEFAULT, ge=1, le=PAGE_SIZE_MAX)
    cursor: str | None = Field(default=None, max_length=2048)


class AdminReason(Body):
    reason: Reason | None = None
