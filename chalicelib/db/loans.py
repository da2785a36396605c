"""The loans table: lending products, applications, loans, loan payments.

Item kinds (pk / sk):
  LOANPRODUCTS              PRODUCTS        the lending product in force (amounts, terms, APR per grade)
  LOANS#<user_id>           APP#<app_id>    an application: its decision, reasons and offer
  LOANS#<user_id>           LOAN#<loan_id>  a loan: its terms, state and the installments fallen due
  LOANS#<user_id>           PAY#<tr_id>     a payment's allocation (written with the payment's transfer)
  gsi1 (sparse) of a loan still open: LOANSOPEN#<shard> / <loan_id>, removed when it is paid off or
  charged off: the servicing job queries it, never the table.

A person's loans share a partition with their applications and payments, so
reading "my loans" is one query, and a loan read by someone else's key is
simply not found.
"""
import hashlib

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.db.base import Gsi1, Item, meta

OPEN_LOAN_SHARDS = 16
PRODUCTS_KEY = ("LOANPRODUCTS", "PRODUCTS")
APPLICATION_PREFIX = "APP#"
LOAN_PREFIX = "LOAN#"
PAYMENT_PREFIX = "PAY#"


def loans_partition(user_id: str) -> str:
    return f"LOANS#{user_id}"


def application_key(user_id: str, application_id: str) -> tuple[str, str]:
    return loans_partition(user_id), f"{APPLICATION_PREFIX}{application_id}"


def loan_key(user_id: str, loan_id: str) -> tuple[str, str]:
    return loans_partition(user_id), f"{LOAN_PREFIX}{loan_id}"


def payment_key(user_id: str, transfer_id: str) -> tuple[str, str]:
    return loans_partition(user_id), f"{PAYMENT_PREFIX}{transfer_id}"


def open_loan_shard(shard: int) -> str:
    return f"LOANSOPEN#{shard}"


def open_loan_index_keys(loan_id: str) -> tuple[str, str]:
    shard = int(hashlib.sha256(loan_id.encode()).hexdigest(), 16) % OPEN_LOAN_SHARDS
    return open_loan_shard(shard), loan_id


class ProductsItem(Item):
    """The product as an operator last set it (absent: config's defaults)."""
    Meta = meta("loans")
    body = UnicodeAttribute()  # JSON: {min_amount, max_amount, terms, apr_bps_by_grade}
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute()


class ApplicationItem(Item):
    Meta = meta("loans")
    id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    amount = NumberAttribute()
    term_months = NumberAttribute()
    status = UnicodeAttribute()  # approved | declined | accepted
    grade = UnicodeAttribute(null=True)
    reasons = UnicodeAttribute()  # JSON list of {code, message}
    offer = UnicodeAttribute(null=True)  # JSON of the offer (schedule included)
    request_hash = UnicodeAttribute()
    created_at = UnicodeAttribute()
    expires_at = UnicodeAttribute(null=True)
    loan_id = UnicodeAttribute(null=True)


class LoanItem(Item):
    """`version` is bumped by every write: each payment, servicing step and
    charge-off is conditioned on the version it read, so two writers never
    both act on one state (the loser reads again). `installments` is the
    JSON list of installments fallen due: {n, due_date, installment,
    principal, interest, paid, fee}; the rest of the schedule is projected
    from the state."""
    Meta = meta("loans")
    id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    handle = UnicodeAttribute()
    wallet_account_id = UnicodeAttribute()
    ledger_account_id = UnicodeAttribute()
    application_id = UnicodeAttribute()
    principal = NumberAttribute()
    apr_bps = NumberAttribute()
    term_months = NumberAttribute()
    installment = NumberAttribute()
    disbursed_on = UnicodeAttribute()  # YYYY-MM-DD
    status = UnicodeAttribute()  # active | late | default | paid_off | charged_off
    principal_outstanding = NumberAttribute()
    interest_due = NumberAttribute(default=0)
    fees_due = NumberAttribute(default=0)
    installments = UnicodeAttribute(default="[]")
    serviced_through = UnicodeAttribute()  # YYYY-MM-DD: the servicing watermark
    charged_off_principal = NumberAttribute(default=0)
    version = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    gsi1_pk = UnicodeAttribute(null=True)
    gsi1_sk = UnicodeAttribute(null=True)
    open_loans = Gsi1()


class PaymentItem(Item):
    Meta = meta("loans")
    id = UnicodeAttribute()
    loan_id = UnicodeAttribute()
    transfer_id = UnicodeAttribute()
    amount = NumberAttribute()
    fees = NumberAttribute()
    interest = NumberAttribute()
    principal = NumberAttribute()
    source = UnicodeAttribute()  # payment | autopay
    created_at = UnicodeAttribute()
