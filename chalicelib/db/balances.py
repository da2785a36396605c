"""The balances table: money accounts, transfers, entries, holds, limits.

Item kinds (pk / sk):
  ACCT#<account_id>     ACCT               an account (customer, or one shard of a system account)
  ACCT#<account_id>     E#<at>#<tr_id>     an immutable ledger entry of that account (signed amount)
  ACCT#<account_id>     LIM#<YYYY-MM-DD>   the day's running totals that limits are checked against (TTL)
  ACCT#<account_id>     CS#<nnn>           a credit shard of a hot receiving account: part of its balance
                                           (the account's balance is its item's plus its shards')
  ACCTNUM#<number>      ACCTNUM            the unique claim on an account number
  TR#<transfer_id>      TR                 a transfer; its id derives from (caller, idempotency key)
  HOLD#<hold_id>        HOLD               a hold: debit (pending -> posted | voided | expired) or
                                           credit (pending -> released | returned)
  PREQ#<request_id>     PREQ               a payment request
  RATES                 <YYYY-MM-DD>       the interest rates in force from that day on (home and pockets)
  JOBRUN#<run_id>       JOBRUN             one run of a job fanned out in segments: progress
  JOBLATEST#<job>       JOBLATEST          the latest finished run of a job (the ledger check answers from it)
  PAYEE#<payer user>    <payee user>       the payer has sent money to that person (step-up: a new payee)
  GSIs of a payment request: gsi1 PREQ_IN#<payer user>, gsi2 PREQ_OUT#<payee user>, by created_at
  gsi1 (sparse) of an account with credit shards: CSHARDED#<shard> / <account_id>, for the sweep job
  gsi3 (sparse) of an account: ACCT#<account_id> / <kind>: the account items alone, for jobs to scan
  gsi1 (sparse) of a pending hold: HOLDS#<shard> / <expires_at>#<hold_id> (a debit hold, by expiry) or
       CHOLDS#<shard> / <available_on>#<hold_id> (a credit hold, by availability); removed when it leaves pending
  gsi2 (sparse) of a pending hold: HOLDS_OF#<account_id> / <created_at>#<hold_id>: an account's pending holds
  An entry's sort key is E#<at>#<tr_id> for an account's first leg of a transfer, E#<at>#<tr_id>#<n> for its n-th
  (a balanced set of legs may touch one account twice: a purchase and its cashback)
"""
import hashlib

from pynamodb.attributes import (BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute, NumberSetAttribute,
                                 UnicodeAttribute, UnicodeSetAttribute)

from chalicelib.db.base import Gsi1, Gsi2, Gsi3, Item, meta


ACCOUNT_PREFIX = "ACCT#"
ACCOUNT_SORT_KEY = "ACCT"


def account_partition(account_id: str) -> str:
    """The partition of an account: its item, its entries, its daily totals."""
    return f"{ACCOUNT_PREFIX}{account_id}"


def account_id_of(pk: str) -> str:
    return pk.removeprefix(ACCOUNT_PREFIX)


def account_key(account_id: str) -> tuple[str, str]:
    return account_partition(account_id), ACCOUNT_SORT_KEY


def entry_key(account_id: str, at: str, transfer_id: str, leg: int = 0) -> tuple[str, str]:
    """The entry of an account's `leg`-th posting (from 0) in a transfer."""
    sk = f"{entry_time_bound(at)}#{transfer_id}"
    return account_partition(account_id), sk if leg == 0 else f"{sk}#{leg}"


ENTRY_PREFIX = "E#"


def entry_time_bound(at: str) -> str:
    """The sort key before every entry made at or after `at` (ISO time)."""
    return f"{ENTRY_PREFIX}{at}"


CREDIT_SHARD_PREFIX = "CS#"
CREDIT_SHARDED_INDEX_SHARDS = 8


def credit_shard_key(account_id: str, shard: int) -> tuple[str, str]:
    """A credit shard lives in its account's partition: reconcile's scan
    segment sees it with the account item and the entries it must match."""
    return account_partition(account_id), f"{CREDIT_SHARD_PREFIX}{shard:03d}"


def credit_sharded_partition(shard: int) -> str:
    return f"CSHARDED#{shard}"


def credit_sharded_index_keys(account_id: str) -> tuple[str, str]:
    """gsi1 of an account with credit shards: the sweep job queries these
    few partitions instead of scanning every account."""
    shard = int(hashlib.sha256(account_id.encode()).hexdigest(), 16) % CREDIT_SHARDED_INDEX_SHARDS
    return credit_sharded_partition(shard), account_id


def limit_key(account_id: str, day: str) -> tuple[str, str]:
    return account_partition(account_id), f"LIM#{day}"


def account_number_key(number: str) -> tuple[str, str]:
    return f"ACCTNUM#{number}", "ACCTNUM"


def transfer_key(transfer_id: str) -> tuple[str, str]:
    return f"TR#{transfer_id}", "TR"


def hold_key(hold_id: str) -> tuple[str, str]:
    return f"HOLD#{hold_id}", HOLD_SORT_KEY


PENDING_HOLD_SHARDS = 8


HOLD_KINDS = ("debit", "credit")


def pending_hold_shard(shard: int, kind: str = "debit") -> str:
    """A partition of gsi1 where pending holds of `kind` wait, by expiry
    (debit) or availability (credit): the expiry job never sees a deposit's hold."""
    if kind not in HOLD_KINDS:
        raise ValueError(kind)
    return f"HOLDS#{shard}" if kind == "debit" else f"CHOLDS#{shard}"


def pending_hold_index_keys(hold_id: str, expires_at_iso: str, kind: str = "debit") -> tuple[str, str]:
    """Where a pending hold waits for its expiry: spread over shards (many
    holds are placed at once), sorted by expiry within each."""
    shard = int(hashlib.sha256(hold_id.encode()).hexdigest(), 16) % PENDING_HOLD_SHARDS
    return pending_hold_shard(shard, kind), f"{expires_at_iso}#{hold_id}"


def pending_hold_due_bound(cutoff_iso: str) -> str:
    """gsi1_sk below which every hold expiring at or before `cutoff_iso` sorts
    ("$" follows "#")."""
    return cutoff_iso + "$"


def account_holds_index_keys(account_id: str, created_at: str, hold_id: str) -> tuple[str, str]:
    """gsi2 of a pending hold: the account's pending holds, oldest first."""
    return account_holds_partition(account_id), f"{created_at}#{hold_id}"


def account_holds_partition(account_id: str) -> str:
    return f"HOLDS_OF#{account_id}"


HOLD_SORT_KEY = "HOLD"


REQUEST_PREFIX = "PREQ#"
REQUEST_SORT_KEY = "PREQ"


def request_key(request_id: str) -> tuple[str, str]:
    return f"{REQUEST_PREFIX}{request_id}", REQUEST_SORT_KEY


def is_request_key(pk: str, sk: str) -> bool:
    return sk == REQUEST_SORT_KEY and pk.startswith(REQUEST_PREFIX)


def incoming_requests_partition(payer_id: str) -> str:
    return f"PREQ_IN#{payer_id}"


def outgoing_requests_partition(payee_id: str) -> str:
    return f"PREQ_OUT#{payee_id}"


def requests_sort_key(at: str, request_id: str) -> str:
    """Both lists of payment requests are newest first."""
    return f"{at}#{request_id}"


class AccountItem(Item):
    """`spendable = balance - held + credit_limit` is stored because DynamoDB
    conditions cannot add; the ledger keeps it true on every update.
    `opens` holds `m<YYYYMM>` -> balance at the first movement of that month
    (and, for accounts that earn interest, `d<YYYYMMDD>` of each day, and
    `h<YYYYMMDD>` -> `held_credit` at the first change of it that day).

    `kind`: customer (a person's account, listed in gsi3, earns interest),
    pocket (a person's money in another currency, listed in gsi3, earns its
    currency's APY), system (a shard of a system account, listed in gsi3), or a ledger account
    that is nobody's wallet, e.g. receivable (a loan's): not listed in gsi3,
    so no job that scans accounts sees it, and it accrues nothing.
    `held_credit`: of `held`, money credited but not yet available (a
    deposit's credit holds); it earns no interest until released.

    Jobs scan gsi3, whose copy may lag the item: `movements` counts the
    ledger's balance updates, so a job's write conditioned on the count it
    scanned is refused if the copy was stale (or a movement came after)."""
    Meta = meta("balances")
    id = UnicodeAttribute()
    kind = UnicodeAttribute()  # customer | pocket | system | receivable
    owner_id = UnicodeAttribute(null=True)
    owner_handle = UnicodeAttribute(null=True)
    system_name = UnicodeAttribute(null=True)
    currency = UnicodeAttribute(default="USD")
    balance = NumberAttribute(default=0)
    held = NumberAttribute(default=0)
    held_credit = NumberAttribute(default=0)
    credit_limit = NumberAttribute(default=0)
    spendable = NumberAttribute(default=0)
    status = UnicodeAttribute(default="active")  # active | frozen | closed
    account_number = UnicodeAttribute(null=True)
    opened_at = UnicodeAttribute()
    accrued_interest_micros = NumberAttribute(default=0)  # signed micro-cents, not yet posted
    # Of those, the overdraft interest charged (<= 0): earned and charged
    # interest are posted as transfers of their own, each keeping its fraction.
    accrued_charged_micros = NumberAttribute(null=True)
    accrued_through = UnicodeAttribute(null=True)  # YYYY-MM-DD: the watermark of daily accrual
    posted_through = UnicodeAttribute(null=True)  # YYYY-MM: the last month whose interest was posted
    posted_interest_micros = NumberAttribute(default=0)  # all interest ever posted (signed)
    posted_charged_micros = NumberAttribute(null=True)  # of which charged (<= 0)
    # m<YYYYMM> -> all interest ever accrued (posted + unposted) at the end of
    # that month, recorded by accrual, removed when the month is posted.
    month_interest = MapAttribute(default=dict)
    # m<YYYYMM> -> of that, all overdraft interest ever charged; absent if none.
    month_charged = MapAttribute(null=True)
    opens = MapAttribute(default=dict)
    # m<YYYYMM> -> money in that month that counts toward a credit line
    # (finance/credit.py), added by the ledger; older months are removed by accrual.
    inflow = MapAttribute(default=dict)
    # m<YYYYMM> -> days of that month that closed below zero, counted by
    # accrual (which reads every close anyway) for underwriting (finance/loans.py).
    below_zero = MapAttribute(null=True)
    movements = NumberAttribute(default=0)
    # How many credit shards (CS#<n>) may hold part of the balance; only
    # grows while they exist, so a reader that knows N finds every shard.
    # None: none. They go only with their retirement (finance/credit_shards.py).
    credit_shards = NumberAttribute(null=True)
    # When the shards were turned off for payers (ISO time; credits land on
    # the item again): they are retired once no payer can still know them.
    credit_shards_off_at = UnicodeAttribute(null=True)
    # Credits received per minute (ledger `receipts`): 3 slots, minute % 3,
    # each minute * RECEIPT_STAMP + count; what turns credit shards on.
    rx0 = NumberAttribute(null=True)
    rx1 = NumberAttribute(null=True)
    rx2 = NumberAttribute(null=True)
    gsi1_pk = UnicodeAttribute(null=True)
    gsi1_sk = UnicodeAttribute(null=True)
    credit_sharded = Gsi1()
    gsi3_pk = UnicodeAttribute(null=True)
    gsi3_sk = UnicodeAttribute(null=True)
    listed = Gsi3()

    @classmethod
    def ref(cls, account_id: str) -> "AccountItem":
        return cls(*account_key(account_id))

    @classmethod
    def new(cls, account_id: str, kind: str, listed: bool = True) -> "AccountItem":
        """A new account, listed in gsi3 unless not `listed`."""
        pk, sk = account_key(account_id)
        if not listed:
            return cls(pk, sk, id=account_id, kind=kind)
        return cls(pk, sk, id=account_id, kind=kind, gsi3_pk=pk, gsi3_sk=kind)

    @classmethod
    def find(cls, account_id: str) -> "AccountItem | None":
        try:
            return cls.get(*account_key(account_id), consistent_read=True)
        except cls.DoesNotExist:
            return None


class CreditShardItem(Item):
    """One credit shard of a hot receiving account: credits land here (the
    ledger picks a shard at random), the sweep moves them to the account
    item. It keeps what the account item keeps for its own balance history,
    under the same attribute names: `opens` (m<YYYYMM>, d<YYYYMMDD>: its
    balance at its first movement of that month or day), `inflow`, and
    `movements`; `status` copies the account's (credits need `active`).
    Never debited by a customer: its balance is >= 0."""
    Meta = meta("balances")
    account_id = UnicodeAttribute()
    shard = NumberAttribute()
    balance = NumberAttribute(default=0)
    spendable = NumberAttribute(default=0)  # = balance: the ledger's balance update moves both
    status = UnicodeAttribute(default="active")
    opens = MapAttribute(default=dict)
    inflow = MapAttribute(default=dict)
    movements = NumberAttribute(default=0)
    rx0 = NumberAttribute(null=True)  # credits received per minute, as on the account item
    rx1 = NumberAttribute(null=True)
    rx2 = NumberAttribute(null=True)

    @classmethod
    def ref(cls, account_id: str, shard: int) -> "CreditShardItem":
        return cls(*credit_shard_key(account_id, shard))


class AccountNumberClaim(Item):
    Meta = meta("balances")
    account_id = UnicodeAttribute()


class EntryItem(Item):
    Meta = meta("balances")
    id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    transfer_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    amount = NumberAttribute()  # signed minor units: + in, - out
    currency = UnicodeAttribute()
    counterparty = UnicodeAttribute()
    note = UnicodeAttribute(default="")
    created_at = UnicodeAttribute()
    fee = NumberAttribute(null=True)  # on a payee's entry: the platform fee taken from the gross


class DailyTotals(Item):
    Meta = meta("balances")
    sent = NumberAttribute(default=0)
    deposited = NumberAttribute(default=0)
    expires_at = NumberAttribute()


class LegMap(MapAttribute):
    """One posting of a transfer, as the transfer lists it."""
    account_id = UnicodeAttribute()
    amount = NumberAttribute()  # signed minor units
    currency = UnicodeAttribute()
    party = UnicodeAttribute()
    user_id = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(null=True)
    fee = NumberAttribute(null=True)  # on a payee's posting: the platform fee taken from the gross


class TransferItem(Item):
    """`request_hash` is the fingerprint of the request that made it; a replay
    with another body is refused. `response` is the JSON first answered.
    `from_*`/`to_*`/`amount` name the movement's headline (its first debit
    and credit); `legs` lists every posting; `forced` marks a post that
    skipped the funds check."""
    Meta = meta("balances")
    id = UnicodeAttribute()
    kind = UnicodeAttribute()
    from_account = UnicodeAttribute()
    to_account = UnicodeAttribute()
    from_party = UnicodeAttribute()
    to_party = UnicodeAttribute()
    from_user = UnicodeAttribute(null=True)
    to_user = UnicodeAttribute(null=True)
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    note = UnicodeAttribute(default="")
    status = UnicodeAttribute(default="posted")
    created_at = UnicodeAttribute()
    request_hash = UnicodeAttribute()
    attempt = UnicodeAttribute()
    hold_id = UnicodeAttribute(null=True)
    fee = NumberAttribute(null=True)  # of `amount`, to the `fees` account
    rate = UnicodeAttribute(null=True)  # a conversion inside it: buy units per sell unit, spread applied
    legs = ListAttribute(of=LegMap, null=True)
    forced = BooleanAttribute(null=True)

    @classmethod
    def find(cls, transfer_id: str) -> "TransferItem | None":
        try:
            return cls.get(*transfer_key(transfer_id), consistent_read=True)
        except cls.DoesNotExist:
            return None


class HoldItem(Item):
    """A hold on one account. `amount` is all ever held (the first amount
    plus increments); `held_amount` what it holds now (the account's `held`
    carries it while pending); `posted_amount` all captured (over-captures
    included), `released_amount` all released. `applied` names every change
    (increment, capture, release) made to it, so a retried one is a replay.
    A credit hold (`kind` credit) is money credited not yet available:
    `expires_at_iso` is when it becomes available, `transfer_id` the deposit."""
    Meta = meta("balances")
    id = UnicodeAttribute()
    kind = UnicodeAttribute(default="debit")  # debit | credit
    account_id = UnicodeAttribute()
    amount = NumberAttribute()
    held_amount = NumberAttribute(null=True)
    released_amount = NumberAttribute(default=0)
    currency = UnicodeAttribute()
    status = UnicodeAttribute()  # pending | posted | voided | expired (debit); pending | released | returned (credit)
    created_at = UnicodeAttribute()
    expires_at_iso = UnicodeAttribute()
    transfer_id = UnicodeAttribute(null=True)
    applied = UnicodeSetAttribute(null=True)
    posted_amount = NumberAttribute(default=0)
    description = UnicodeAttribute(default="")
    # Whose money it is, as the transfer that posts it names them.
    owner_id = UnicodeAttribute(null=True)
    owner_display = UnicodeAttribute(null=True)
    # The attempt that voided or expired it: a release whose answer was lost
    # recognises its own write on the retry (as a transfer's `attempt` does).
    released_by = UnicodeAttribute(null=True)
    # Set while pending only: the expiry job queries these, not the table.
    gsi1_pk = UnicodeAttribute(null=True)
    gsi1_sk = UnicodeAttribute(null=True)
    pending_by_expiry = Gsi1()
    gsi2_pk = UnicodeAttribute(null=True)
    gsi2_sk = UnicodeAttribute(null=True)
    pending_by_account = Gsi2()

    @property
    def holding(self) -> int:
        """What the hold holds now."""
        return int(self.amount) if self.held_amount is None else int(self.held_amount)

    @classmethod
    def find(cls, hold_id: str) -> "HoldItem | None":
        try:
            return cls.get(*hold_key(hold_id), consistent_read=True)
        except cls.DoesNotExist:
            return None


class PaymentRequestItem(Item):
    """One item, listed by the payer (gsi1, incoming) and the payee (gsi2, outgoing)."""
    Meta = meta("balances")
    id = UnicodeAttribute()
    payee_id = UnicodeAttribute()
    payee_handle = UnicodeAttribute()
    payer_id = UnicodeAttribute()
    payer_handle = UnicodeAttribute()
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    note = UnicodeAttribute(default="")
    status = UnicodeAttribute(default="pending")  # pending | paid | declined
    created_at = UnicodeAttribute()
    transfer_id = UnicodeAttribute(null=True)
    gsi1_pk = UnicodeAttribute()
    gsi1_sk = UnicodeAttribute()
    gsi2_pk = UnicodeAttribute()
    gsi2_sk = UnicodeAttribute()
    incoming = Gsi1()
    outgoing = Gsi2()

    @classmethod
    def find(cls, request_id: str) -> "PaymentRequestItem | None":
        try:
            return cls.get(*request_key(request_id), consistent_read=True)
        except cls.DoesNotExist:
            return None


RATES_PARTITION = "RATES"


def rate_key(effective_date: str) -> tuple[str, str]:
    return RATES_PARTITION, effective_date


class RateItem(Item):
    Meta = meta("balances")
    effective_date = UnicodeAttribute()
    apy_bps = NumberAttribute()
    overdraft_apr_bps = NumberAttribute()
    # currency -> APY of its pockets from that day on; None: those in force before it.
    pocket_apy_bps = MapAttribute(null=True)
    set_by = UnicodeAttribute()
    created_at = UnicodeAttribute()


def payee_key(payer_user_id: str, payee_user_id: str) -> tuple[str, str]:
    return f"PAYEE#{payer_user_id}", payee_user_id


class PayeeItem(Item):
    """Written with every movement from one person to another, in its
    transaction: whether someone is a new payee is then one read."""
    Meta = meta("balances")
    first_paid_at = UnicodeAttribute()

    @classmethod
    def ref(cls, payer_user_id: str, payee_user_id: str) -> "PayeeItem":
        return cls(*payee_key(payer_user_id, payee_user_id))

    @classmethod
    def find(cls, payer_user_id: str, payee_user_id: str) -> "PayeeItem | None":
        try:
            return cls.get(*payee_key(payer_user_id, payee_user_id), consistent_read=True)
        except cls.DoesNotExist:
            return None


def job_run_key(run_id: str) -> tuple[str, str]:
    return f"JOBRUN#{run_id}", "JOBRUN"


class JobRunItem(Item):
    """Workers add their segment's counts once each (`segments_done` is the
    condition), so a redelivered SQS message does not count twice."""
    Meta = meta("balances")
    id = UnicodeAttribute()
    job = UnicodeAttribute()
    as_of = UnicodeAttribute()
    segments_total = NumberAttribute()
    segments_done = NumberSetAttribute(null=True)
    processed = NumberAttribute(default=0)
    changed = NumberAttribute(default=0)
    # reconcile: the sum of the balances seen, and the mismatches found
    balance_total = NumberAttribute(default=0)
    mismatch_count = NumberAttribute(default=0)
    mismatches = UnicodeSetAttribute(null=True)  # reconcile: each segment's reported mismatches, as JSON
    # reconcile: the sum per currency (each must be zero); every configured currency starts at 0
    currency_totals = MapAttribute(null=True)
    started_at = UnicodeAttribute()
    expires_at = NumberAttribute(null=True)


def latest_run_key(job: str) -> tuple[str, str]:
    return f"JOBLATEST#{job}", "JOBLATEST"


class LatestRunItem(Item):
    """The latest finished run of a job: its summary (a run in this process)
    or its run id (a run fanned out over SQS, whose item holds the counts).
    Replaced only by a run started later (`started_at`)."""
    Meta = meta("balances")
    job = UnicodeAttribute()
    run_id = UnicodeAttribute(null=True)
    as_of = UnicodeAttribute()
    started_at = UnicodeAttribute()
    finished_at = UnicodeAttribute()
    summary = UnicodeAttribute(null=True)  # JSON

    @classmethod
    def find(cls, job: str) -> "LatestRunItem | None":
        try:
            return cls.get(*latest_run_key(job), consistent_read=True)
        except cls.DoesNotExist:
            return None
