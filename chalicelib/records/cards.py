"""Answers of the debit card (API.md, Cards): the card, its secrets (shown
at creation and by reveal only), its transactions and the network's decisions."""
from enum import Enum
from typing import Literal

from pydantic import Field

from chalicelib.records.common import Answer, Count, Currency, Id, Page, Time


class CardStatus(str, Enum):
    """Closed is final; a frozen card declines every authorization."""
    active = "active"
    frozen = "frozen"
    closed = "closed"


class CardTransactionStatus(str, Enum):
    """Where a card transaction stands: held, posted (wholly or in part), undone or refused."""
    pending = "pending"
    posted = "posted"
    partially_captured = "partially_captured"
    reversed = "reversed"
    expired = "expired"
    declined = "declined"
    refunded = "refunded"


class DeclineReason(str, Enum):
    """Why the network was told no, checked in this order."""
    unknown_card = "unknown_card"
    card_frozen = "card_frozen"
    card_closed = "card_closed"
    card_expired = "card_expired"
    invalid_cvc = "invalid_cvc"
    account_frozen = "account_frozen"
    insufficient_funds = "insufficient_funds"
    limit_exceeded = "limit_exceeded"
    blocked_merchant = "blocked_merchant"
    blocked_country = "blocked_country"


# `repr=False`: a record logged or shown in a traceback never prints a card's secrets.
CardNumber = Field(pattern=r"^[0-9]{16}$", repr=False)
Cvc = Field(pattern=r"^[0-9]{3}$", repr=False)
ExpMonth = Field(ge=1, le=12)


class CardLimits(Answer):
    """Attributes:
      per_transaction: the largest single authorization, minor units; null: none.
      daily: authorized per UTC day, minor units; null: none.
      monthly: authorized per calendar month, minor units; null: none.
      blocked_mccs: merchant category codes always declined.
      allowed_countries: ISO 3166 alpha-2 countries allowed; empty: all.
    """
    per_transaction: int | None
    daily: int | None
    monthly: int | None
    blocked_mccs: list[str]
    allowed_countries: list[str]


class Card(Answer):
    """A debit card drawn on the person's balance; never its number or CVC.

    Attributes:
      id: the card id.
      brand: the network.
      last4: the number's last four digits.
      exp_month: expiry month (valid through its end).
      exp_year: expiry year.
      label: the person's name for it.
      status: active, frozen or closed.
      limits: its spending limits.
      created_at: when it was issued.
    """
    id: str = Id
    brand: Literal["visa"]
    last4: str = Field(pattern=r"^[0-9]{4}$")
    exp_month: int = ExpMonth
    exp_year: int = Count
    label: str | None
    status: CardStatus
    limits: CardLimits
    created_at: Time


class NewCard(Card):
    """A card as created: with its number and CVC, the only time they are
    shown (a replay of the creation answers without them).

    Attributes:
      id: the card id.
      brand: the network.
      last4: the number's last four digits.
      exp_month: expiry month (valid through its end).
      exp_year: expiry year.
      label: the person's name for it.
      status: active, frozen or closed.
      limits: its spending limits.
      created_at: when it was issued.
      number: the 16-digit card number.
      cvc: the 3-digit code.
    """
    number: str | None = Field(default=None, pattern=r"^[0-9]{16}$", repr=False)
    cvc: str | None = Field(default=None, pattern=r"^[0-9]{3}$", repr=False)


class CardPage(Page):
    __doc__ = Page.__doc__
    data: list[Card]


class CardSecrets(Answer):
    """What `reveal` shows, once per request.

    Attributes:
      number: the 16-digit card number.
      cvc: the 3-digit code.
      exp_month: expiry month.
      exp_year: expiry year.
    """
    number: str = CardNumber
    cvc: str = Cvc
    exp_month: int = ExpMonth
    exp_year: int


class Merchant(Answer):
    """Attributes:
      name: as the network names it.
      mcc: merchant category code (4 digits).
      city: the merchant's city.
      country: ISO 3166 alpha-2.
    """
    name: str
    mcc: str
    city: str
    country: str


class CardTransaction(Answer):
    """One authorization and what became of it, or a forced post or refund.

    Attributes:
      id: the card transaction id.
      card_id: the card.
      authorization_id: the authorization it belongs to; null for a forced post or unknown card.
      status: where it stands.
      forced: posted without a live hold (may pass the credit line).
      amount_held: minor units held now.
      amount_posted: minor units posted so far.
      currency: the currency.
      merchant: where.
      decline_reason: why it was declined, if it was.
      cashback: paid (> 0), or taken back by a refund (< 0), minor units.
      created_at: when.
      amount_refunded: minor units refunded.
    """
    id: str = Id
    card_id: str = Id
    authorization_id: str | None
    status: CardTransactionStatus
    forced: bool
    amount_held: int = Count
    amount_posted: int = Count
    currency: Currency
    merchant: Merchant | None
    decline_reason: DeclineReason | None
    cashback: int
    created_at: Time
    amount_refunded: int | None = Field(default=None, ge=0)


class CardTransactionPage(Page):
    __doc__ = Page.__doc__
    data: list[CardTransaction]


class CardDecision(Answer):
    """The answer to an authorization or increment.

    Attributes:
      id: the network's event id.
      authorization_id: the authorization; null for an unknown card.
      approved: whether the amount is held.
      amount_approved: minor units approved (0 when declined).
      decline_reason: why not, if not.
      card_transaction_id: the card transaction recording the decision; null for an unknown card.
    """
    id: str
    authorization_id: str | None
    approved: bool
    amount_approved: int = Count
    decline_reason: DeclineReason | None
    card_transaction_id: str | None
