"""The answers of API.md as frozen pydantic models: the one source of the
OpenAPI response schemas (`components/schemas`, built by `component_schemas`).

Services still return plain dicts (turning them into these records is the
deferred refactor of issue 11, item 4); tests/unit/test_openapi.py validates
real answers against both the generated schemas and these models, so the two
cannot drift.

Objects stay open (API.md: "add fields freely"). Times are `datetime`
(`format: date-time`), days are `date`; every closed set of values is an
`Enum`, so a generated client gets typed values and one shared `Currency`.
A model's `Attributes:` docstring section becomes its properties'
descriptions.
"""
from datetime import date, datetime
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from chalicelib import errors, jobs
from chalicelib.finance.money import SUPPORTED_CURRENCIES


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _error_values(attribute: str) -> dict:
    """Every `type`/`code` an ApiError subclass declares: a new refusal class
    is in the enum without another list to keep."""
    values = sorted({getattr(c, attribute) for c in (errors.ApiError, *_subclasses(errors.ApiError))})
    return {v: v for v in values}


Currency = Enum("Currency", {c: c for c in SUPPORTED_CURRENCIES}, type=str)
Currency.__doc__ = "ISO 4217 code of the money's currency."
ErrorType = Enum("ErrorType", _error_values("type"), type=str)
ErrorType.__doc__ = "The family of a refusal; the HTTP status follows from it."
ErrorCode = Enum("ErrorCode", _error_values("code"), type=str)
ErrorCode.__doc__ = "The precise refusal (API.md's error codes)."
JobName = Enum("JobName", {n: n for n in jobs.NAMES}, type=str)
JobName.__doc__ = "A scheduled job (chalicelib/jobs/registry.py)."

# A new kind of money movement (cards, checks, ...) adds its name here.
TRANSFER_KINDS = ("deposit", "withdrawal", "p2p", "request_payment", "tip", "unlock", "subscription",
                  "message_payment", "interest", "overdraft_interest", "loan_disbursement", "loan_payment",
                  "loan_charge_off")
TransferKind = Enum("TransferKind", {k: k for k in TRANSFER_KINDS}, type=str)
TransferKind.__doc__ = "What a money movement was, on transfers and on the entries they made."


class Role(str, Enum):
    """Who a person is to Flock: operators are `admin`."""
    user = "user"
    admin = "admin"


class AccountStatus(str, Enum):
    """Frozen and closed accounts move nothing."""
    active = "active"
    frozen = "frozen"
    closed = "closed"


class TransferStatus(str, Enum):
    """A transfer is posted once it moved the money."""
    posted = "posted"
    pending = "pending"


class PaymentRequestStatus(str, Enum):
    pending = "pending"
    paid = "paid"
    declined = "declined"


class SubscriptionStatus(str, Enum):
    new = "new"
    active = "active"
    past_due = "past_due"
    cancelled = "cancelled"
    ended = "ended"


class Audience(str, Enum):
    public = "public"
    subscribers = "subscribers"


class LoanApplicationStatus(str, Enum):
    approved = "approved"
    declined = "declined"
    accepted = "accepted"


class LoanStatus(str, Enum):
    active = "active"
    late = "late"
    default = "default"
    paid_off = "paid_off"
    charged_off = "charged_off"


class JobRunStatus(str, Enum):
    running = "running"
    done = "done"


Id = Field(min_length=1)
Count = Field(ge=0)
Month = Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")


class Answer(BaseModel):
    """The base of every answer: frozen, and open to fields added later.
    `defer_build`: `import app` (a cold start) does not pay for validators
    only the document and the tests use."""
    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True, defer_build=True)


# Shared pieces ---------------------------------------------------------------

class Money(Answer):
    """An amount of money.

    Attributes:
      amount: integer minor units (cents).
      currency: the currency of the amount.
    """
    amount: int
    currency: Currency


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


# Identity --------------------------------------------------------------------

class User(Answer):
    """A person as others see them.

    Attributes:
      id: the user id.
      handle: the unique @handle.
      display_name: the chosen name, if any.
      bio: the profile text, if any.
      verified: whether the person passed KYC (and has a money account).
      role: user or admin.
      created_at: when they signed up.
      follower_count: people following them.
      following_count: people they follow.
      frozen: on the person's own profile and to operators: whether they are frozen.
      two_factor: on the person's own profile: whether two-factor authentication is on.
    """
    id: str = Id
    handle: str
    display_name: str | None
    bio: str | None
    verified: bool
    role: Role
    created_at: datetime
    follower_count: int = Count
    following_count: int = Count
    frozen: bool | None = None
    two_factor: bool | None = None


class Session(Answer):
    """A signed-in session.

    Attributes:
      user: who signed in.
      token: the bearer access token.
      refresh_token: trades for a new token pair at /v1/auth/refresh.
    """
    user: User
    token: str = Id
    refresh_token: str | None = Field(default=None, min_length=1)


class MfaChallenge(Answer):
    """A password was right and the second factor is still due.

    Attributes:
      mfa_required: always true.
      mfa_token: hand it to /v1/auth/mfa with the code.
    """
    mfa_required: Literal[True]
    mfa_token: str = Id


class SignIn(RootModel[Session | MfaChallenge]):
    """A session, or the challenge for the second factor."""
    model_config = ConfigDict(frozen=True, defer_build=True)


class Tokens(Answer):
    """A fresh token pair.

    Attributes:
      token: the bearer access token.
      refresh_token: the next refresh token (the old one is spent).
    """
    token: str = Id
    refresh_token: str = Id


class DeviceSession(Answer):
    """One signed-in device.

    Attributes:
      id: the session id.
      created_at: when it signed in.
      last_used_at: when it last refreshed.
      user_agent: the device's User-Agent.
      ip: the address it signed in from.
      current: whether the caller's token belongs to it.
    """
    id: str = Id
    created_at: datetime
    last_used_at: datetime
    user_agent: str
    ip: str
    current: bool


class SecurityEvent(Answer):
    """An entry of the person's security log.

    Attributes:
      id: the event id.
      type: what happened (sign_in, wrong_password, ...).
      created_at: when.
      ip: from where.
      user_agent: from which device.
      detail: what else is known.
    """
    id: str = Id
    type: str
    created_at: datetime
    ip: str
    user_agent: str
    detail: dict[str, Any]


class TotpEnrolment(Answer):
    """A TOTP secret to confirm.

    Attributes:
      secret: base32 secret for the authenticator app.
      otpauth_uri: the same as an otpauth:// URI (for a QR code).
    """
    secret: str = Field(min_length=16)
    otpauth_uri: str


class RecoveryCodes(Answer):
    """Shown once.

    Attributes:
      recovery_codes: ten single-use codes.
    """
    recovery_codes: list[str] = Field(min_length=10, max_length=10)


class AuditRecord(Answer):
    """An operator's action.

    Attributes:
      id: the record id.
      at: when.
      actor: the operator's handle.
      action: what they did.
      target: to whom or what.
    """
    id: str = Id
    at: datetime
    actor: str
    action: str
    target: str


# Money -----------------------------------------------------------------------

class Account(Answer):
    """The caller's money account.

    Attributes:
      id: the account id.
      currency: the account's currency.
      balance: minor units; may be negative on a credit line.
      held: minor units set aside by pending holds.
      available: balance - held.
      credit_limit: the credit line.
      spendable: available + credit_limit.
      apy_bps: the interest rate earned, basis points a year.
      overdraft_apr_bps: the rate charged on a negative balance.
      accrued_interest_micros: interest accrued and not yet posted, in millionths of a cent.
      status: active, frozen or closed.
      account_number: for payments from outside.
      routing_number: for payments from outside.
      opened_at: when the account opened.
    """
    id: str = Id
    currency: Currency
    balance: int
    held: int
    available: int
    credit_limit: int = Count
    spendable: int
    apy_bps: int = Count
    overdraft_apr_bps: int = Count
    accrued_interest_micros: int
    status: AccountStatus
    account_number: str
    routing_number: str
    opened_at: datetime


class Transfer(Answer):
    """A money movement.

    Attributes:
      id: the transfer id.
      kind: what moved the money.
      from: the payer's handle, if a person.
      to: the payee's handle, if a person.
      amount: minor units, never negative.
      currency: the currency.
      note: the payer's note.
      status: posted once the money moved.
      forced: whether an operator posted it past the usual checks.
      created_at: when it was made.
    """
    id: str = Id
    kind: TransferKind
    from_: str | None = Field(alias="from")
    to: str | None
    amount: int = Count
    currency: Currency
    note: str
    status: TransferStatus
    forced: bool
    created_at: datetime


class Entry(Answer):
    """A line of the caller's account: one side of a transfer.

    Attributes:
      id: the entry id.
      transfer_id: the transfer that made it.
      kind: what moved the money.
      amount: signed minor units: positive in, negative out.
      currency: the currency.
      counterparty: who was on the other side, if anyone.
      created_at: when.
      note: the transfer's note.
    """
    id: str = Id
    transfer_id: str = Id
    kind: TransferKind
    amount: int
    currency: Currency
    counterparty: str | None
    created_at: datetime
    note: str | None = None


class Statement(Answer):
    """A calendar month of the account.

    Attributes:
      month: YYYY-MM.
      opening_balance: at the month's start.
      closing_balance: at its end (or now).
      total_in: credits.
      total_out: debits, as a positive number.
      interest_earned: interest credited.
      interest_charged: overdraft interest debited.
      entries: the month's entries, oldest first.
      account_id: the account.
      currency: the currency.
    """
    month: str = Month
    opening_balance: int
    closing_balance: int
    total_in: int = Count
    total_out: int = Count
    interest_earned: int
    interest_charged: int
    entries: list[Entry]
    account_id: str | None = None
    currency: Currency | None = None


class PaymentRequest(Answer):
    """One person asking another for money.

    Attributes:
      id: the request id.
      from: who is asked to pay.
      to: who asked.
      amount: minor units.
      currency: the currency.
      note: the asker's note.
      status: pending, paid or declined.
      created_at: when it was asked.
      paid: the transfer that paid it.
    """
    id: str = Id
    from_: str = Field(alias="from")
    to: str
    amount: int = Count
    currency: Currency
    note: str
    status: PaymentRequestStatus
    created_at: datetime
    paid: Transfer | None


class Rates(Answer):
    """The interest rates from a day on.

    Attributes:
      effective_date: the first day they apply.
      apy_bps: earned on balances.
      overdraft_apr_bps: charged on overdrafts.
    """
    effective_date: date
    apy_bps: int = Count
    overdraft_apr_bps: int = Count


class LedgerCheck(Answer):
    """The ledger's books.

    Attributes:
      balanced: whether every balance sums to zero and matches its entries.
      total: the sum of all balances (zero when balanced).
      accounts: accounts checked.
    """
    balanced: bool
    total: int
    accounts: int = Count


# Social ----------------------------------------------------------------------

class Post(Answer):
    """A post.

    Attributes:
      id: the post id.
      author: the author's handle.
      text: the text (hidden while locked).
      created_at: when it was posted.
      reply_to: the post it answers, if any.
      like_count: likes.
      reply_count: replies.
      tip_total: minor units tipped.
      price: what unlocking costs, if it is paid.
      video_url: the video, if any (null while locked).
      audience: who may read it.
      locked: whether the caller must pay or subscribe first.
      video_id: the post's video, if any (null while locked).
      view_count: plays of the post's video.
      has_video: whether a video waits behind the lock.
    """
    id: str = Id
    author: str
    text: str
    created_at: datetime
    reply_to: str | None
    like_count: int = Count
    reply_count: int = Count
    tip_total: int = Count
    price: Money | None
    video_url: str | None
    audience: Audience
    locked: bool
    video_id: str | None
    view_count: int = Count
    has_video: bool | None = None


class Following(Answer):
    """Attributes:
      following: whether the caller now follows them.
    """
    following: bool


class Liked(Answer):
    """Attributes:
      liked: whether the caller now likes the post.
      like_count: the post's likes.
    """
    liked: bool
    like_count: int = Count


class Conversation(Answer):
    """A direct-message conversation.

    Attributes:
      id: the conversation id.
      with: the other person's handle (one-to-one).
      members: every member's handle.
      created_at: when it was opened.
      last_activity_at: the last message's time.
      unread_count: messages the caller has not read.
      last_message_preview: the start of the last message.
    """
    id: str = Id
    with_: str | None = Field(alias="with")
    members: list[str]
    created_at: datetime
    last_activity_at: datetime | None
    unread_count: int = Count
    last_message_preview: str | None


class Message(Answer):
    """A direct message.

    Attributes:
      id: the message id.
      conversation_id: its conversation.
      sender: the sender's handle.
      text: the text.
      created_at: when it was sent.
      payment: the transfer sent with it, if any.
    """
    id: str = Id
    conversation_id: str = Id
    sender: str
    text: str
    created_at: datetime
    payment: Transfer | None


# Creator money ---------------------------------------------------------------

class Subscription(Answer):
    """A fan's monthly subscription to a creator.

    Attributes:
      id: the subscription id.
      creator: the creator's handle.
      subscriber: the fan's handle.
      status: new, active, past_due, cancelled or ended.
      price: the monthly price.
      current_period_start: the paid period's start.
      current_period_end: the paid period's end (the next renewal).
      cancel_at_period_end: whether it ends then.
      periods_paid: months paid.
      created_at: when it started.
    """
    id: str = Id
    creator: str
    subscriber: str
    status: SubscriptionStatus
    price: Money
    current_period_start: datetime
    current_period_end: datetime
    cancel_at_period_end: bool
    periods_paid: int = Count
    created_at: datetime


class SubscriptionPrice(Answer):
    """Attributes:
      subscription_price: the monthly price, or null when the creator takes no subscriptions.
    """
    subscription_price: Money | None


class Unlocked(Answer):
    """An unlock that charged nothing (already unlocked, or one's own post).

    Attributes:
      post_id: the post.
      unlocked: always true.
      charged: always false.
      transfer: the earlier unlock's transfer, if there was one.
    """
    post_id: str = Id
    unlocked: bool
    charged: bool
    transfer: Transfer | None


class EarningsOfKind(Answer):
    """Attributes:
      gross: paid by fans.
      fees: kept by the platform.
      net: received.
      count: payments.
    """
    gross: int
    fees: int
    net: int
    count: int = Count


class PostEarnings(Answer):
    """Attributes:
      post_id: the post.
      view_count: plays of its video.
      unlocks: paid unlocks.
      unlock_gross: paid for unlocks.
      unlock_fees: kept by the platform.
      unlock_net: received.
    """
    post_id: str = Id
    view_count: int = Count
    unlocks: int = Count
    unlock_gross: int = Count
    unlock_fees: int = Count
    unlock_net: int = Count


class Earnings(Answer):
    """A creator's month.

    Attributes:
      month: YYYY-MM.
      currency: the currency.
      gross: paid by fans.
      fees: kept by the platform.
      net: received.
      by_kind: the same per kind (tip, unlock, subscription).
      posts: per post with a video: its plays and what its unlocks earned.
    """
    month: str = Month
    currency: Currency
    gross: int
    fees: int
    net: int
    by_kind: dict[str, EarningsOfKind]
    posts: list[PostEarnings] | None = None


# Lending ---------------------------------------------------------------------

class LoanRow(Answer):
    """An installment of the schedule.

    Attributes:
      n: its number, from 1.
      due_date: its day.
      installment: minor units due.
      principal: of which principal.
      interest: of which interest.
      paid: whether it is paid.
    """
    n: int = Count
    due_date: date
    installment: int
    principal: int
    interest: int
    paid: bool


class LoanOffer(Answer):
    """The terms offered.

    Attributes:
      apr_bps: the rate, basis points a year.
      amount: the principal.
      term_months: the term.
      installment: the monthly payment.
      schedule: every installment.
      total_interest: interest over the term.
      finance_charge: the cost of the credit.
      total_of_payments: what the borrower pays in all.
      first_due_date: the first installment's day.
      expires_at: when the offer lapses.
    """
    apr_bps: int = Count
    amount: int
    term_months: int = Count
    installment: int
    schedule: list[LoanRow]
    total_interest: int
    finance_charge: int
    total_of_payments: int
    first_due_date: date
    expires_at: datetime


class LoanDecisionReason(Answer):
    """Attributes:
      code: the reason's code.
      message: for people.
    """
    code: str
    message: str


class LoanApplication(Answer):
    """A decided application.

    Attributes:
      id: the application id.
      status: approved, declined or accepted.
      grade: the credit grade, if approved.
      offer: the offer, if approved.
      reasons: why, if declined.
    """
    id: str = Id
    status: LoanApplicationStatus
    grade: str | None
    offer: LoanOffer | None
    reasons: list[LoanDecisionReason]


class Loan(Answer):
    """A loan.

    Attributes:
      id: the loan id.
      status: active, late, default, paid_off or charged_off.
      principal: borrowed.
      apr_bps: the rate.
      principal_outstanding: still owed.
      interest_due: interest due now.
      fees_due: late fees due now.
      next_due_date: the next installment's day, if any.
      next_due_amount: what is due then.
      days_past_due: days late.
      schedule: every installment.
      created_at: when it was disbursed.
    """
    id: str = Id
    status: LoanStatus
    principal: int
    apr_bps: int = Count
    principal_outstanding: int
    interest_due: int
    fees_due: int
    next_due_date: date | None
    next_due_amount: int
    days_past_due: int = Count
    schedule: list[LoanRow]
    created_at: datetime


class LoanAllocation(Answer):
    """Attributes:
      fees: paid towards fees.
      interest: paid towards interest.
      principal: paid towards principal.
    """
    fees: int
    interest: int
    principal: int


class LoanPayment(Answer):
    """A loan payment.

    Attributes:
      id: the payment id.
      amount: minor units paid.
      allocation: how it was applied.
      transfer_id: the transfer that moved it.
    """
    id: str = Id
    amount: int
    allocation: LoanAllocation
    transfer_id: str = Id


class LoanPayoff(Answer):
    """What paying the loan off today costs.

    Attributes:
      payoff_amount: in all.
      principal: principal outstanding.
      interest: interest to today.
      fees: fees due.
      per_diem: interest per further day.
      good_through: the last day the amount holds.
    """
    payoff_amount: int
    principal: int
    interest: int
    fees: int
    per_diem: int
    good_through: date


class LoanProducts(Answer):
    """What may be borrowed.

    Attributes:
      min_amount: the smallest principal.
      max_amount: the largest principal.
      terms: the terms offered, in months.
      apr_bps_by_grade: the rate of each credit grade.
    """
    min_amount: int
    max_amount: int
    terms: list[int]
    apr_bps_by_grade: dict[str, int]


# Operations ------------------------------------------------------------------

class JobSummary(Answer):
    """A job run to its end.

    Attributes:
      job: the job.
      as_of: the business day it ran for.
      processed: items looked at.
      changed: items this run wrote.
    """
    job: JobName
    as_of: date
    processed: int = Count
    changed: int = Count


class JobStarted(Answer):
    """A job fanned out over its segments; follow it at .../runs/{run_id}.

    Attributes:
      run_id: the run.
      job: the job.
      as_of: the business day it runs for.
    """
    run_id: str = Id
    job: JobName
    as_of: date


class JobRun(Answer):
    """A fanned-out run's progress.

    Attributes:
      run_id: the run.
      job: the job.
      as_of: the business day it runs for.
      segments: segments in all.
      segments_done: segments finished.
      status: running or done.
      processed: items looked at so far.
      changed: items written so far.
    """
    run_id: str = Id
    job: JobName
    as_of: date
    segments: int = Count
    segments_done: int = Count
    status: JobRunStatus
    processed: int = Count
    changed: int = Count


class Clock(Answer):
    """Attributes:
      now: business time.
    """
    now: datetime


class Health(Answer):
    """Attributes:
      status: ok.
    """
    status: str


class OpenApiDocument(Answer):
    """This document.

    Attributes:
      openapi: the OpenAPI version.
      paths: the routes.
    """
    openapi: str
    paths: dict[str, Any]


# Pages -----------------------------------------------------------------------

class _Page(Answer):
    """Attributes:
      data: this page's items.
      next_cursor: pass as `cursor` for the next page; null on the last.
    """
    next_cursor: str | None


class UserPage(_Page):
    __doc__ = _Page.__doc__
    data: list[User]


class PostPage(_Page):
    __doc__ = _Page.__doc__
    data: list[Post]


class EntryPage(_Page):
    __doc__ = _Page.__doc__
    data: list[Entry]


class ConversationPage(_Page):
    __doc__ = _Page.__doc__
    data: list[Conversation]


class MessagePage(_Page):
    __doc__ = _Page.__doc__
    data: list[Message]


class PaymentRequestPage(_Page):
    __doc__ = _Page.__doc__
    data: list[PaymentRequest]


class SubscriptionPage(_Page):
    __doc__ = _Page.__doc__
    data: list[Subscription]


class AuditPage(_Page):
    __doc__ = _Page.__doc__
    data: list[AuditRecord]


class DeviceSessionPage(_Page):
    __doc__ = _Page.__doc__
    data: list[DeviceSession]


class SecurityEventPage(_Page):
    __doc__ = _Page.__doc__
    data: list[SecurityEvent]


class LoanPage(_Page):
    __doc__ = _Page.__doc__
    data: list[Loan]


class SearchPage(_Page):
    __doc__ = _Page.__doc__
    data: list[Post | User]


# Response headers --------------------------------------------------------------

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
