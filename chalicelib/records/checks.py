"""Answers of paper checks (API.md, Checks): checks written, deposits of
checks others wrote, and the clearing network's decisions."""
from datetime import date
from enum import Enum

from pydantic import Field

from chalicelib.records.common import Answer, Currency, Id, Page, Time

Digits = Field(pattern=r"^[0-9]+$")
Positive = Field(ge=1)


class CheckStatus(str, Enum):
    """Issued until paid, stopped, returned (unpaid) or void."""
    issued = "issued"
    paid = "paid"
    stopped = "stopped"
    returned = "returned"
    void = "void"


class DepositStatus(str, Enum):
    """Pending while part is held; available once all is; returned by the network; rejected."""
    pending = "pending"
    available = "available"
    returned = "returned"
    rejected = "rejected"


class PresentmentDecision(str, Enum):
    """Whether the check was paid."""
    paid = "paid"
    returned = "returned"


class ReturnReason(str, Enum):
    """Why a presented check was not paid (positive pay, in this order)."""
    no_account = "no_account"
    account_closed = "account_closed"
    altered_or_fictitious = "altered_or_fictitious"
    stop_payment = "stop_payment"
    duplicate_presentment = "duplicate_presentment"
    stale_dated = "stale_dated"
    not_sufficient_funds = "not_sufficient_funds"


class DepositReturnReason(str, Enum):
    """Why the clearing network returned a deposited check (`finance.check_deposits.RETURN_REASONS`)."""
    not_sufficient_funds = "not_sufficient_funds"
    stop_payment = "stop_payment"
    account_closed = "account_closed"
    altered_or_fictitious = "altered_or_fictitious"
    unusable_image = "unusable_image"
    refer_to_maker = "refer_to_maker"


class Micr(Answer):
    """The check's magnetic line.

    Attributes:
      routing: the bank's routing number (ABA).
      account: the account number.
      serial: the check's number.
    """
    routing: str = Digits
    account: str = Digits
    serial: str = Digits


class Check(Answer):
    """A check you wrote.

    Attributes:
      id: the check id.
      number: its number, per account from 1001.
      payee: whom it pays.
      amount: minor units.
      currency: the currency.
      memo: the memo line.
      status: where it stands.
      micr: its MICR line.
      issued_at: when it was written.
      paid_at: when it was paid, if it was.
      return_reason: why its last presentment was not paid, if it was not.
    """
    id: str = Id
    number: int = Field(ge=1001)
    payee: str
    amount: int = Positive
    currency: Currency
    memo: str
    status: CheckStatus
    micr: Micr
    issued_at: Time
    paid_at: Time | None
    return_reason: ReturnReason | None = None


class CheckPage(Page):
    __doc__ = Page.__doc__
    data: list[Check]


class CheckHold(Answer):
    """Part of a deposit not available yet.

    Attributes:
      amount: minor units held.
      available_on: the business day it becomes available.
    """
    amount: int = Positive
    available_on: date


class CheckDeposit(Answer):
    """A check you deposited by photographing it.

    Attributes:
      id: the deposit id.
      amount: minor units credited.
      currency: the currency.
      status: where it stands.
      available_now: minor units available at once.
      holds: when each held part becomes available.
      micr: the deposited check's MICR line.
      created_at: when it was deposited.
      pending_holds: the holds still held.
      returned_at: when the network returned it, if it did.
      return_reason: why it was returned.
    """
    id: str = Id
    amount: int = Positive
    currency: Currency
    status: DepositStatus
    available_now: int = Field(ge=0)
    holds: list[CheckHold]
    micr: Micr
    created_at: Time
    pending_holds: list[CheckHold] | None = None
    returned_at: Time | None = None
    return_reason: DepositReturnReason | None = None


class CheckDepositPage(Page):
    __doc__ = Page.__doc__
    data: list[CheckDeposit]


class CheckPresentmentDecision(Answer):
    """The answer to the clearing network's presentment.

    Attributes:
      decision: paid or returned.
      return_reason: why not, if returned.
      check_id: the check presented, if Flock knows it.
    """
    decision: PresentmentDecision
    return_reason: ReturnReason | None
    check_id: str | None
