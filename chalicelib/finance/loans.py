"""Lending (API.md, Loans): the product, explained underwriting, offers,
disbursement, payments, payoff, and the daily servicing of every open loan.

The loan in the ledger. Each loan has a ledger account of its own (kind
`receivable`, `accounts.open_ledger_account`: a sub-account of
`loans_receivable`; reconcile reports their sum under `ledger_accounts`),
which is nobody's wallet and accrues nothing. Disbursing
moves the principal from it to the wallet, so its balance is minus the
principal outstanding; a payment is one movement from the wallet split
three ways — principal back to the loan's account, interest to
`interest_income`, late fees to `fees`; a charge-off moves what is left of
the principal from `loan_losses`. Interest and fees are booked when paid
(cash basis), so `reconcile` can prove -balance = principal outstanding.

The state of a loan (`db.loans.LoanItem`) changes only in the same
transaction as its money, conditioned on the `version` it was read at; a
lost race reads again. Time is business time (`clock`): `advance` brings a
loan's state up to a day (interest on each due date, the late fee ten days
after an installment still unpaid, delinquency), a pure function of the
state and the day, so the servicing job, a payment and a payoff quote all
see the same loan on the same day, and a run repeated or caught up over
missed days does each thing once.

Rules of a payment: late fees, then interest due, then principal; paying
ahead lowers the principal, so the level installment pays it off sooner
(the schedule shortens); a payment above the payoff is refused. Interest
accrued since the last due date is due only when the payment reaches it,
i.e. when it pays the principal off: so the payoff quote for a day is
exactly what closes the loan that day.
"""
import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from pynamodb.exceptions import PutError, UpdateError

from chalicelib import clock, errors, ids, lazy
from chalicelib.config import settings
from chalicelib.db.balances import AccountItem, TransferItem
from chalicelib.db.loans import (LOAN_PREFIX, OPEN_LOAN_SHARDS, PRODUCTS_KEY, ApplicationItem, LoanItem, PaymentItem,
                                 ProductsItem, application_key, loan_key, loans_partition, open_loan_index_keys,
                                 open_loan_shard, payment_key)
from chalicelib.db.transact import TaggedTransaction, commit
from chalicelib.finance import accounts, amortization, credit, ledger
from chalicelib.finance.money import Money
from chalicelib.finance.transfers import (caller_party, request_hash, require_money_caller, require_verified,
                                          system_party, transfer_id_for)
from chalicelib.identity import audit

records = lazy.module("chalicelib.records.loans")

GRADES = ("A", "B", "C", "D", "E")
OFFER_DAYS = 7
LOAN_ACCOUNT_AGE_DAYS_MIN = 30
# Money in over this month and the two before (the credit line's monthly totals).
LOAN_INFLOW_MIN_CENTS = 100_000
LOAN_DAYS_BELOW_ZERO_MAX = 5
LOANS_OUTSTANDING_MAX = 0  # one loan at a time
# The grade follows the three months' money in (at least, in cents); any
# day below zero in them costs one grade.
GRADE_INFLOW_MIN = (("A", 1_500_000), ("B", 900_000), ("C", 600_000), ("D", 300_000), ("E", LOAN_INFLOW_MIN_CENTS))
# The largest amount offered: this share of the three months' money in (percent), whole dollars.
GRADE_AMOUNT_PCT = {"A": 100, "B": 80, "C": 60, "D": 50, "E": 40}
LATE_FEE_DAY = 10
LATE_DAYS, DEFAULT_DAYS, CHARGE_OFF_DAYS = 1, 90, 120
OPEN = ("active", "late", "default")
WRITE_ATTEMPTS_MAX = 5


class StaleLoan(errors.InvalidState):
    """The loan changed since it was read: read it again and redo."""


# Products --------------------------------------------------------------------

@dataclass(frozen=True)
class Product:
    min_amount: int
    max_amount: int
    terms: tuple
    apr_bps_by_grade: dict

    def body(self) -> dict:
        return {"min_amount": self.min_amount, "max_amount": self.max_amount, "terms": list(self.terms),
                "apr_bps_by_grade": dict(self.apr_bps_by_grade)}

    def record(self) -> "records.LoanProducts":
        return records.LoanProducts(min_amount=self.min_amount, max_amount=self.max_amount, terms=list(self.terms),
                                    apr_bps_by_grade=dict(self.apr_bps_by_grade))


def default_product() -> Product:
    s = settings()
    return Product(s.loan_min_amount, s.loan_max_amount, tuple(s.loan_terms), dict(s.loan_apr_bps_by_grade))


def product() -> Product:
    try:
        item = ProductsItem.get(*PRODUCTS_KEY, consistent_read=True)
    except ProductsItem.DoesNotExist:
        return default_product()
    body = json.loads(item.body)
    return Product(body["min_amount"], body["max_amount"], tuple(body["terms"]), body["apr_bps_by_grade"])


def set_product(actor, body: dict) -> "records.LoanProducts":
    """PUT /v1/admin/loan-products: the product and its audit record, in one transaction."""
    rates = body["apr_bps_by_grade"]
    if set(rates) != set(GRADES):
        raise errors.InvalidRequest("apr_bps_by_grade names each grade A-E once", param="apr_bps_by_grade")
    if any(type(v) is not int or not 0 <= v <= 10_000 for v in rates.values()):
        raise errors.InvalidRequest("an APR is 0-10000 basis points", param="apr_bps_by_grade")
    if not 0 < body["min_amount"] <= body["max_amount"] <= 10**10:
        raise errors.InvalidRequest("0 < min_amount <= max_amount", param="min_amount")
    terms = sorted(set(body["terms"]))
    if not terms or any(not 1 <= t <= 120 for t in terms):
        raise errors.InvalidRequest("terms are 1-120 months", param="terms")
    chosen = Product(body["min_amount"], body["max_amount"], tuple(terms), {g: rates[g] for g in GRADES})
    item = ProductsItem(*PRODUCTS_KEY, body=json.dumps(chosen.body(), sort_keys=True),
                        updated_at=clock.iso(clock.real_now()), updated_by=actor.user_id)
    tx = TaggedTransaction()
    tx.save("products", item)
    tx.save("audit", audit.record(actor, "set_loan_products", "loan-products", None, **chosen.body()))
    commit(tx)
    return chosen.record()


# Underwriting ----------------------------------------------------------------

@dataclass(frozen=True)
class Decision:
    grade: str | None
    apr_bps: int | None
    max_amount: int
    reasons: tuple  # (records.LoanDecisionReason, ...): every rule that failed


def _reason(code: str, message: str) -> "records.LoanDecisionReason":
    return records.LoanDecisionReason(code=code, message=message)


def underwrite(account: AccountItem, loans: list[LoanItem], chosen: Product, today: date) -> Decision:
    """The rules, each from the account's own history, each failing on its own:

    1. account_age: open at least LOAN_ACCOUNT_AGE_DAYS_MIN days;
    2. account_frozen: the account is active;
    3. inflow: money in this calendar month and the two before it is at least
       LOAN_INFLOW_MIN_CENTS (the ledger's monthly `inflow`: loans and
       interest are not money in);
    4. days_below_zero: at most LOAN_DAYS_BELOW_ZERO_MAX days of those months
       closed below zero (counted by accrual), today's balance included;
    5. loans_outstanding: no other loan open;
    6. past_default: no loan ever in default or charged off.

    The grade follows the money in (GRADE_INFLOW_MIN), one lower for any day
    below zero; the largest amount is GRADE_AMOUNT_PCT of the money in, in
    whole dollars, within the product's range (below its minimum: declined)."""
    reasons = []
    age_days = (today - date.fromisoformat(account.opened_at[:10])).days
    if age_days < LOAN_ACCOUNT_AGE_DAYS_MIN:
        reasons.append(_reason("account_age", f"The account is {age_days} days old; a loan needs "
                                              f"{LOAN_ACCOUNT_AGE_DAYS_MIN}."))
    if account.status != "active":
        reasons.append(_reason("account_frozen", "The account is not active."))
    money_in = credit.inflow(account, today)
    if money_in < LOAN_INFLOW_MIN_CENTS:
        reasons.append(_reason("inflow", f"Money in this month and the two before is {money_in} cents; "
                                         f"a loan needs {LOAN_INFLOW_MIN_CENTS}."))
    months = set(credit.inflow_months(today))
    below = sum(int(v) for k, v in (account.below_zero.as_dict() if account.below_zero else {}).items() if k in months)
    below += 1 if int(account.balance) < 0 else 0
    if below > LOAN_DAYS_BELOW_ZERO_MAX:
        reasons.append(_reason("days_below_zero", f"The balance was below zero on {below} days of the last three "
                                                  f"months; at most {LOAN_DAYS_BELOW_ZERO_MAX} are allowed."))
    open_loans = [loan for loan in loans if loan.status in OPEN]
    if len(open_loans) > LOANS_OUTSTANDING_MAX:
        reasons.append(_reason("loans_outstanding", f"{len(open_loans)} loan(s) outstanding; repay it first."))
    if any(loan.status in ("default", "charged_off") or int(loan.charged_off_principal) for loan in loans) \
            or any(_ever_defaulted(loan) for loan in loans):
        reasons.append(_reason("past_default", "A loan was in default or charged off."))
    grade = next((g for g, floor in GRADE_INFLOW_MIN if money_in >= floor), None)
    if grade and below:
        grade = GRADES[min(GRADES.index(grade) + 1, len(GRADES) - 1)]
    largest = 0
    if grade:
        largest = min(chosen.max_amount, money_in * GRADE_AMOUNT_PCT[grade] // 100 // 100 * 100)
        if largest < chosen.min_amount and not reasons:
            reasons.append(_reason("amount", f"The largest amount the history supports, {largest} cents, is below "
                                             f"the product's minimum of {chosen.min_amount}."))
    if reasons:
        return Decision(None, None, 0, tuple(reasons))
    return Decision(grade, int(chosen.apr_bps_by_grade[grade]), largest, ())


def _ever_defaulted(loan: LoanItem) -> bool:
    return any(int(i.get("dpd_max", 0)) >= DEFAULT_DAYS for i in json.loads(loan.installments))


# Offers -------------------------------------------------------------------------

def offer(amount: int, term_months: int, apr_bps: int, on: date, expires_at: datetime) -> "records.LoanOffer":
    rows = amortization.schedule(amount, apr_bps, term_months, on)
    total_interest = sum(r.interest for r in rows)
    return records.LoanOffer(apr_bps=apr_bps, amount=amount, term_months=term_months,
                             installment=rows[0].installment, schedule=[_row(r, False) for r in rows],
                             total_interest=total_interest, finance_charge=total_interest,
                             total_of_payments=amount + total_interest, first_due_date=rows[0].due_date,
                             expires_at=expires_at)


def _row(r: amortization.Row, paid: bool) -> "records.LoanRow":
    return records.LoanRow(n=r.n, due_date=r.due_date, installment=r.installment, principal=r.principal,
                           interest=r.interest, paid=paid)


def public_application(item: ApplicationItem) -> "records.LoanApplication":
    # The offer and the reasons are stored answers (JSON), read back as they were written.
    return records.LoanApplication(
        id=item.id, status=item.status, grade=item.grade, amount=int(item.amount),
        term_months=int(item.term_months),
        offer=records.LoanOffer.model_validate(json.loads(item.offer)) if item.offer else None,
        reasons=[records.LoanDecisionReason.model_validate(r) for r in json.loads(item.reasons)],
        loan_id=item.loan_id, created_at=item.created_at)


def _person_loans(user_id: str) -> list[LoanItem]:
    return list(LoanItem.query(loans_partition(user_id), LoanItem.sk.startswith(LOAN_PREFIX), consistent_read=True))


def apply(principal, amount: int, term_months: int, idempotency_key: str) -> tuple["records.LoanApplication", bool]:
    """Decide, and record the decision (declined ones too); nothing moves."""
    require_money_caller(principal)
    chosen = product()
    if not chosen.min_amount <= amount <= chosen.max_amount:
        raise errors.InvalidRequest(f"amount is {chosen.min_amount}-{chosen.max_amount}", param="amount")
    if term_months not in chosen.terms:
        raise errors.InvalidRequest(f"term_months is one of {list(chosen.terms)}", param="term_months")
    application_id = ids.derived_id("lap", principal.user_id, idempotency_key)
    fingerprint = request_hash("loan_application", amount=amount, term_months=term_months)
    try:
        stored = ApplicationItem.get(*application_key(principal.user_id, application_id), consistent_read=True)
    except ApplicationItem.DoesNotExist:
        stored = None
    if stored is not None:
        if stored.request_hash != fingerprint:
            raise errors.IdempotencyKeyReused()
        return public_application(stored), True
    account = AccountItem.find(principal.account_id)
    if account is None:
        raise errors.VerificationRequired()
    now = clock.now()
    decision = underwrite(account, _person_loans(principal.user_id), chosen, now.date())
    item = ApplicationItem(*application_key(principal.user_id, application_id), id=application_id,
                           user_id=principal.user_id, amount=amount, term_months=term_months,
                           grade=decision.grade, reasons=json.dumps([r.as_json() for r in decision.reasons]),
                           request_hash=fingerprint, created_at=clock.iso(now))
    if decision.grade:
        expires = now + timedelta(days=OFFER_DAYS)
        item.status = "approved"
        item.expires_at = clock.iso(expires)
        item.offer = json.dumps(offer(min(amount, decision.max_amount), term_months, decision.apr_bps, now.date(),
                                      expires).as_json())
    else:
        item.status = "declined"
    try:
        item.save(condition=ApplicationItem.pk.does_not_exist())
    except PutError:  # the same key, a moment earlier
        return apply(principal, amount, term_months, idempotency_key)
    return public_application(item), False


def get_application(principal, application_id: str) -> "records.LoanApplication":
    require_verified(principal)
    return public_application(_application(principal.user_id, application_id))


def _application(user_id: str, application_id: str) -> ApplicationItem:
    try:
        return ApplicationItem.get(*application_key(user_id, application_id), consistent_read=True)
    except ApplicationItem.DoesNotExist:
        raise errors.NotFound("No such application.") from None


# Accepting: disbursement ---------------------------------------------------------

def loan_id_for(application_id: str) -> str:
    return ids.derived_id("loan", application_id)


def ledger_account_id(loan_id: str) -> str:
    return accounts.ledger_account_id("receivable", loan_id)


def is_loan_account(account_id: str) -> bool:
    return account_id.startswith(ledger_account_id("loan_"))


def loan_party(loan: LoanItem, actions: tuple = ()) -> ledger.Party:
    return ledger.Party(loan.ledger_account_id, display="loans_receivable", customer=False, actions=actions)


def accept(principal, application_id: str, idempotency_key: str) -> tuple["records.Loan", bool]:
    """Disburse `loans_receivable` (the loan's own account) -> wallet in the
    transaction that makes the loan active and the application accepted:
    an application not approved, or its offer expired, moves nothing."""
    require_money_caller(principal)
    application = _application(principal.user_id, application_id)
    loan_id = loan_id_for(application_id)
    transfer_id = transfer_id_for(principal.user_id, idempotency_key)
    fingerprint = request_hash("loan_accept", application=application_id)
    now = clock.now()
    if not application.offer:
        raise errors.InvalidState(f"The application is {application.status}.")
    # Accepted already, or expired: the transaction says so (its conditions
    # refuse), after the replay of an accept that succeeded is recognised.
    terms = json.loads(application.offer)
    account = accounts.open_ledger_account(ledger_account_id(loan_id), "receivable", "loans_receivable",
                                           owner_id=principal.user_id)
    loan = LoanItem(*loan_key(principal.user_id, loan_id), id=loan_id, user_id=principal.user_id,
                    handle=principal.handle, wallet_account_id=principal.account_id,
                    ledger_account_id=account.id, application_id=application_id, principal=terms["amount"],
                    apr_bps=terms["apr_bps"], term_months=terms["term_months"], installment=terms["installment"],
                    disbursed_on=now.date().isoformat(), status="active", principal_outstanding=terms["amount"],
                    interest_due=0, fees_due=0, installments="[]", serviced_through=now.date().isoformat(),
                    version=0, created_at=clock.iso(now))
    loan.gsi1_pk, loan.gsi1_sk = open_loan_index_keys(loan_id)
    accepted = ledger.Extra("update", ApplicationItem(*application_key(principal.user_id, application_id)),
                            actions=(ApplicationItem.status.set("accepted"), ApplicationItem.loan_id.set(loan_id)),
                            condition=(ApplicationItem.status == "approved")
                            & (ApplicationItem.expires_at > clock.iso(now)),
                            refusal=errors.InvalidState("The application is not approved, or its offer expired."))
    opened = ledger.Extra("save", loan, condition=LoanItem.pk.does_not_exist(),
                          refusal=errors.InvalidState("The loan exists already."))
    movement = ledger.Movement(
        transfer_id=transfer_id, kind="loan_disbursement", debit=loan_party(loan),
        credit=ledger.Party(principal.account_id, display=principal.handle, user_id=principal.user_id,
                            inactive_refusal=errors.AccountFrozen),
        money=Money(int(terms["amount"])), request_hash=fingerprint, note=f"loan {loan_id}",
        extras=(accepted, opened))
    posted = ledger.transfer(movement)
    if posted.replayed:
        return public_loan(_loan(principal.user_id, loan_id), now.date()), True
    return public_loan(loan, now.date()), False


# The loan's state over time --------------------------------------------------------

@dataclass
class State:
    """A loan's mutable state, as stored; `advance` and `allocate` change it."""
    status: str
    principal_outstanding: int
    interest_due: int
    fees_due: int
    installments: list = field(default_factory=list)
    serviced_through: str = ""
    charged_off_principal: int = 0

    @classmethod
    def of(cls, loan: LoanItem) -> "State":
        return cls(loan.status, int(loan.principal_outstanding), int(loan.interest_due), int(loan.fees_due),
                   json.loads(loan.installments), loan.serviced_through, int(loan.charged_off_principal))

    def copy(self) -> "State":
        return replace(self, installments=[dict(i) for i in self.installments])

    def owed(self) -> int:
        return self.principal_outstanding + self.interest_due + self.fees_due

    def arrears(self) -> int:
        return sum(int(i["installment"]) - int(i["paid"]) for i in self.installments)

    def oldest_unpaid(self) -> dict | None:
        return next((i for i in self.installments if int(i["paid"]) < int(i["installment"])), None)

    def days_past_due(self, today: date) -> int:
        oldest = self.oldest_unpaid()
        return max(0, (today - date.fromisoformat(oldest["due_date"])).days) if oldest else 0

    def actions(self, version: int) -> list:
        closed = self.status in ("paid_off", "charged_off")
        actions = [LoanItem.status.set(self.status), LoanItem.principal_outstanding.set(self.principal_outstanding),
                   LoanItem.interest_due.set(self.interest_due), LoanItem.fees_due.set(self.fees_due),
                   LoanItem.installments.set(json.dumps(self.installments, separators=(",", ":"))),
                   LoanItem.serviced_through.set(self.serviced_through),
                   LoanItem.charged_off_principal.set(self.charged_off_principal),
                   LoanItem.version.set(version + 1)]
        if closed:
            actions += [LoanItem.gsi1_pk.remove(), LoanItem.gsi1_sk.remove()]
        return actions


def _status(state: State, today: date) -> str:
    if state.status in ("paid_off", "charged_off"):
        return state.status
    if state.owed() == 0:
        return "paid_off"
    dpd = state.days_past_due(today)
    return "default" if dpd >= DEFAULT_DAYS else "late" if dpd >= LATE_DAYS else "active"


def advance(loan: LoanItem, state: State, through: date) -> State:
    """The state at the end of `through`: each due date on or before it adds
    its month's interest and its installment; each tenth day after a due
    date with the installment unpaid adds the late fee, once; the status
    follows the days past due. Idempotent: days already applied are skipped."""
    state = state.copy()
    day = date.fromisoformat(state.serviced_through) + timedelta(days=1)
    disbursed = date.fromisoformat(loan.disbursed_on)
    term = int(loan.term_months)
    fee = settings().loan_late_fee
    while day <= through and state.status not in ("paid_off", "charged_off"):
        n = len(state.installments) + 1
        if state.principal_outstanding > 0 and amortization.due_date(disbursed, n) == day:
            interest = amortization.month_interest(state.principal_outstanding, int(loan.apr_bps))
            due = amortization.installment_due(n, term, state.principal_outstanding, interest, int(loan.installment))
            state.interest_due += interest
            state.installments.append({"n": n, "due_date": day.isoformat(), "installment": due,
                                       "interest": interest, "principal": due - interest, "paid": 0, "fee": 0,
                                       "autopay": 0, "dpd_max": 0})
        for inst in state.installments:
            unpaid = int(inst["paid"]) < int(inst["installment"])
            if unpaid and not inst["fee"] and (day - date.fromisoformat(inst["due_date"])).days >= LATE_FEE_DAY:
                inst["fee"] = fee
                state.fees_due += fee
        oldest = state.oldest_unpaid()
        if oldest:
            oldest["dpd_max"] = max(int(oldest.get("dpd_max", 0)), state.days_past_due(day))
        state.status = _status(state, day)
        state.serviced_through = day.isoformat()
        day += timedelta(days=1)
    if date.fromisoformat(state.serviced_through) < through:
        state.serviced_through = through.isoformat()
    return state


def _last_due(loan: LoanItem, state: State) -> date:
    return date.fromisoformat(state.installments[-1]["due_date"]) if state.installments \
        else date.fromisoformat(loan.disbursed_on)


def accrued(loan: LoanItem, state: State, on: date) -> int:
    """Interest accrued since the last due date, day by day, to `on`."""
    return amortization.accrued_interest(state.principal_outstanding, int(loan.apr_bps),
                                         (on - _last_due(loan, state)).days)


@dataclass(frozen=True)
class Allocation:
    fees: int
    interest: int
    principal: int


def allocate(loan: LoanItem, state: State, amount: int, on: date) -> tuple[Allocation, State]:
    """Late fees, then interest due, then principal; interest accrued since
    the last due date only when the payment pays the principal off."""
    payoff = state.owed() + accrued(loan, state, on)
    if amount <= 0 or amount > payoff:
        raise errors.InvalidRequest(f"amount is 1-{payoff} (the payoff today)", param="amount")
    state = state.copy()
    rest = amount
    fees = min(rest, state.fees_due)
    rest -= fees
    interest = min(rest, state.interest_due)
    rest -= interest
    principal = min(rest, state.principal_outstanding)
    rest -= principal
    extra_interest = rest  # only when the principal is paid off: accrued interest, at most what accrued
    state.fees_due -= fees
    state.interest_due -= interest
    state.principal_outstanding -= principal
    if state.principal_outstanding == 0:
        # The accrued interest becomes due once no principal is left to bear it.
        state.interest_due += accrued(loan, replace(state, principal_outstanding=principal), on) - extra_interest
    credited = interest + extra_interest + principal
    for inst in state.installments:
        take = min(credited, int(inst["installment"]) - int(inst["paid"]))
        inst["paid"] = int(inst["paid"]) + take
        credited -= take
    state.status = _status(state, on)
    return Allocation(fees, interest + extra_interest, principal), state


# Payments ---------------------------------------------------------------------------

def _loan(user_id: str, loan_id: str) -> LoanItem:
    try:
        return LoanItem.get(*loan_key(user_id, loan_id), consistent_read=True)
    except LoanItem.DoesNotExist:
        raise errors.NotFound("No such loan.") from None


def _loan_update(loan: LoanItem, state: State, extra_actions: tuple = ()) -> ledger.Extra:
    return ledger.Extra("update", LoanItem(*loan_key(loan.user_id, loan.id)),
                        actions=tuple(state.actions(int(loan.version))) + extra_actions,
                        condition=LoanItem.version == int(loan.version), refusal=StaleLoan())


def _payment_movement(loan: LoanItem, state: State, allocation: Allocation, debit: ledger.Party, transfer_id: str,
                      fingerprint: str, source: str) -> ledger.Movement:
    """One movement of legs: out of the wallet, principal to the loan's
    account, interest to interest_income, fees to fees (parts of zero left out)."""
    parts = [(loan_party(loan), allocation.principal), (system_party("interest_income"), allocation.interest),
             (system_party("fees"), allocation.fees)]
    parts = [(party, cents) for party, cents in parts if cents > 0]
    amount = sum(cents for _, cents in parts)
    legs = [ledger.Leg(debit, Money(-amount), counterparty=f"loan {loan.id}")]
    legs += [ledger.Leg(party, Money(cents), counterparty=debit.display) for party, cents in parts]
    record = PaymentItem(*payment_key(loan.user_id, transfer_id), id=transfer_id, loan_id=loan.id,
                         transfer_id=transfer_id, amount=amount, fees=allocation.fees, interest=allocation.interest,
                         principal=allocation.principal, source=source, created_at=clock.iso(clock.now()))
    return ledger.Movement(transfer_id=transfer_id, kind="loan_payment", legs=tuple(legs),
                           request_hash=fingerprint, note=f"loan {loan.id}",
                           extras=(_loan_update(loan, state),
                                   ledger.Extra("save", record, condition=PaymentItem.pk.does_not_exist())))


def public_payment(item: PaymentItem) -> "records.LoanPayment":
    return records.LoanPayment(
        id=item.id, loan_id=item.loan_id, amount=int(item.amount),
        allocation=records.LoanAllocation(fees=int(item.fees), interest=int(item.interest),
                                          principal=int(item.principal)),
        transfer_id=item.transfer_id, source=item.source, created_at=item.created_at)


def _stored_payment(user_id: str, transfer_id: str) -> PaymentItem | None:
    try:
        return PaymentItem.get(*payment_key(user_id, transfer_id), consistent_read=True)
    except PaymentItem.DoesNotExist:
        return None


def pay(principal, loan_id: str, money: Money, idempotency_key: str) -> tuple["records.LoanPayment", bool]:
    """A payment of any amount up to the payoff: one read of the loan and one
    transaction (the transfer, the wallet, the loan's account, the income
    accounts, the entries, the loan's new state and the payment record)."""
    require_money_caller(principal)
    transfer_id = transfer_id_for(principal.user_id, idempotency_key)
    fingerprint = request_hash("loan_payment", loan=loan_id, amount=money.amount_cents, currency=money.currency)
    for _ in range(WRITE_ATTEMPTS_MAX):
        loan = _loan(principal.user_id, loan_id)
        today = clock.now().date()
        try:
            if loan.status not in OPEN:
                raise errors.InvalidState(f"The loan is {loan.status}.")
            allocation, state = allocate(loan, advance(loan, State.of(loan), today), money.amount_cents, today)
        except errors.ApiError:
            stored = _stored_payment(principal.user_id, transfer_id)  # a replay of the payment that closed it?
            if stored is None:
                raise
            return _replayed(stored, fingerprint), True
        movement = _payment_movement(loan, state, allocation, caller_party(principal), transfer_id, fingerprint,
                                     "payment")
        try:
            posted = ledger.transfer(movement)
        except StaleLoan:
            continue  # the servicing job or another payment came first: allocate again
        if posted.replayed:
            return public_payment(_stored_payment(principal.user_id, transfer_id)), True
        return public_payment(movement.extras[1].model), False
    raise errors.Unavailable("The loan is busy; try again.")


def _replayed(stored: PaymentItem, fingerprint: str) -> "records.LoanPayment":
    transfer = TransferItem.find(stored.transfer_id)
    if transfer is not None and transfer.request_hash != fingerprint:
        raise errors.IdempotencyKeyReused()
    return public_payment(stored)


# Reading -------------------------------------------------------------------------------

def payoff(loan: LoanItem, on: date) -> "records.LoanPayoff":
    state = advance(loan, State.of(loan), on) if loan.status in OPEN else State.of(loan)
    interest = accrued(loan, state, on) if loan.status in OPEN else 0
    return records.LoanPayoff(
        loan_id=loan.id, payoff_amount=state.owed() + interest, principal=state.principal_outstanding,
        interest=state.interest_due + interest, fees=state.fees_due,
        per_diem=amortization.per_diem(state.principal_outstanding, int(loan.apr_bps)), good_through=on)


def payoff_quote(principal, loan_id: str, on: date | None) -> "records.LoanPayoff":
    require_verified(principal)
    today = clock.now().date()
    on = on or today
    if on < today:
        raise errors.InvalidRequest("date is today or later", param="date")
    return payoff(_loan(principal.user_id, loan_id), on)


def public_loan(loan: LoanItem, today: date) -> "records.Loan":
    """The loan as of `today`: what is due now, and the schedule — the
    installments fallen due (with paid flags) and the rest projected from
    the principal outstanding at the level installment."""
    stored = State.of(loan)
    state = advance(loan, stored, today) if loan.status in OPEN else stored
    rows = [records.LoanRow(n=i["n"], due_date=i["due_date"], installment=int(i["installment"]),
                            principal=int(i["principal"]), interest=int(i["interest"]),
                            paid=int(i["paid"]) >= int(i["installment"])) for i in state.installments]
    projected = []
    if state.status in OPEN and state.principal_outstanding > 0:
        projected = amortization.schedule(state.principal_outstanding, int(loan.apr_bps), int(loan.term_months),
                                          date.fromisoformat(loan.disbursed_on), first_n=len(rows) + 1,
                                          installment=int(loan.installment))
    rows += [_row(r, False) for r in projected]
    oldest = state.oldest_unpaid()
    if oldest:
        next_due_date, next_due_amount = oldest["due_date"], state.arrears() + state.fees_due
    elif projected:
        next_due_date, next_due_amount = projected[0].due_date, projected[0].installment + state.fees_due
    else:
        next_due_date, next_due_amount = None, 0
    return records.Loan(
        id=loan.id, status=state.status, principal=int(loan.principal), apr_bps=int(loan.apr_bps),
        term_months=int(loan.term_months), installment=int(loan.installment),
        principal_outstanding=state.principal_outstanding, interest_due=state.interest_due,
        fees_due=state.fees_due, next_due_date=next_due_date, next_due_amount=next_due_amount,
        days_past_due=state.days_past_due(today) if state.status in OPEN else 0,
        charged_off_principal=state.charged_off_principal, schedule=rows, disbursed_on=loan.disbursed_on,
        created_at=loan.created_at)


def list_loans(principal) -> list["records.Loan"]:
    require_verified(principal)
    today = clock.now().date()
    return [public_loan(loan, today) for loan in _person_loans(principal.user_id)]


def get_loan(principal, loan_id: str) -> "records.Loan":
    require_verified(principal)
    return public_loan(_loan(principal.user_id, loan_id), clock.now().date())


# Servicing ------------------------------------------------------------------------------

def open_loans(segment: int, total: int):
    """The open loans of one segment of the job: the shards of the sparse
    index of open loans whose number falls to it (paid off and charged off
    loans have left the index)."""
    for shard in range(segment, OPEN_LOAN_SHARDS, total):
        yield from LoanItem.open_loans.query(open_loan_shard(shard))


def service_loan(loan: LoanItem, as_of: date) -> bool:
    """Bring one loan up to the end of `as_of`: due dates (interest, the
    installment, autopay from the wallet without taking it below zero), late
    fees, delinquency, charge-off at 120 days. Each step that moves money
    carries the loan's new state in its own transaction; the rest is one
    conditional update. Returns whether anything changed."""
    changed = False
    for _ in range(WRITE_ATTEMPTS_MAX):
        try:
            return _service(loan, as_of) or changed
        except StaleLoan:
            changed = True
            loan = _loan(loan.user_id, loan.id)
    raise errors.Unavailable(f"loan {loan.id} did not settle in {WRITE_ATTEMPTS_MAX} attempts")


def _service(loan: LoanItem, as_of: date) -> bool:
    if loan.status not in OPEN or loan.serviced_through >= as_of.isoformat():
        return False
    day = date.fromisoformat(loan.serviced_through)
    while day < as_of:
        day += timedelta(days=1)
        before = State.of(loan)
        state = advance(loan, before, day)
        due_today = [i for i in state.installments if i["due_date"] == day.isoformat() and not i["autopay"]]
        if due_today:
            due_today[0]["autopay"] = 1
            paid = _autopay(loan, state, day, due_today[0]["n"])
            if paid is not None:
                loan = _written(loan, paid)
                continue
        if state.status == "default" and state.days_past_due(day) >= CHARGE_OFF_DAYS:
            _charge_off(loan, state)
            return True
        if day == as_of or state.status != before.status or state.installments != before.installments \
                or state.fees_due != before.fees_due:
            bumped = replace(state, serviced_through=loan.serviced_through) != before
            _save(loan, state)
            loan = _written(loan, state, bumped)
    return True


def _written(loan: LoanItem, state: State, bumped: bool = True) -> LoanItem:
    """The local copy brought up to what was just written (no read back)."""
    copy = LoanItem.from_raw_data(loan.serialize())
    copy.status, copy.principal_outstanding = state.status, state.principal_outstanding
    copy.interest_due, copy.fees_due = state.interest_due, state.fees_due
    copy.installments = json.dumps(state.installments, separators=(",", ":"))
    copy.serviced_through, copy.charged_off_principal = state.serviced_through, state.charged_off_principal
    copy.version = int(loan.version) + (1 if bumped else 0)
    return copy


def _save(loan: LoanItem, state: State) -> None:
    """Only the loan changes: one conditional update, no item back. A day
    on which nothing fell due moves the watermark alone (the version stays:
    a payment that read the loan before computes the same state from it)."""
    hash_key, range_key = loan._get_hash_range_key_serialized_values()
    if replace(state, serviced_through=loan.serviced_through) == State.of(loan):
        actions = [LoanItem.serviced_through.set(state.serviced_through)]
    else:
        actions = state.actions(int(loan.version))
    try:
        LoanItem._get_connection().update_item(hash_key, range_key=range_key, actions=actions,
                                               condition=LoanItem.version == int(loan.version), return_values="NONE")
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise StaleLoan() from None
        raise


def _autopay(loan: LoanItem, state: State, day: date, n: int) -> "State | None":
    """Take what is due (fees and installments unpaid) from the wallet, as
    much as it holds above zero; what it cannot take stays due."""
    wallet = AccountItem.find(loan.wallet_account_id)
    available = max(0, int(wallet.balance) - int(wallet.held)) if wallet and wallet.status == "active" else 0
    due = min(state.arrears() + state.fees_due, available, state.owed() + accrued(loan, state, day))
    if due <= 0:
        return None
    allocation, paid = allocate(loan, state, due, day)
    transfer_id = ids.derived_id("tr", "loan_autopay", loan.id, str(n))
    debit = ledger.Party(loan.wallet_account_id, display=loan.handle, user_id=loan.user_id)
    try:
        ledger.transfer(_payment_movement(loan, paid, allocation, debit, transfer_id,
                                          request_hash("loan_autopay", loan=loan.id, n=n), "autopay"))
    except errors.InsufficientFunds:
        return None  # spent meanwhile: it stays due
    return paid


def _charge_off(loan: LoanItem, state: State) -> None:
    """What is left of the principal moves from `loan_losses` to the loan's
    account (its balance is then zero); interest and fees, never booked, are
    simply not owed to the books any more."""
    state = state.copy()
    written_off = state.principal_outstanding
    state.charged_off_principal = written_off
    state.principal_outstanding = 0
    state.status = "charged_off"
    if written_off <= 0:
        _save(loan, state)
        return
    movement = ledger.Movement(transfer_id=ids.derived_id("tr", "loan_charge_off", loan.id), kind="loan_charge_off",
                               debit=system_party("loan_losses"), credit=loan_party(loan),
                               money=Money(written_off), request_hash=f"loan_charge_off:{loan.id}",
                               note=f"loan {loan.id} charged off", extras=(_loan_update(loan, state),))
    ledger.transfer(movement)


def service_segment(as_of: date, segment: int, total: int) -> dict:
    processed = changed = 0
    for loan in open_loans(segment, total):
        processed += 1
        changed += service_loan(loan, as_of)
    return {"processed": processed, "changed": changed}


# Reconcile --------------------------------------------------------------------------------

def expected_balance(account_id: str, owner_id: str | None) -> int | None:
    """What a loan's account must hold: minus the principal outstanding
    (zero if the loan was never made: an accept that did not commit)."""
    if not owner_id:
        return None
    try:
        loan = LoanItem.get(*loan_key(owner_id, account_id.removeprefix(ledger_account_id(""))), consistent_read=True)
    except LoanItem.DoesNotExist:
        return 0
    return -int(loan.principal_outstanding)

