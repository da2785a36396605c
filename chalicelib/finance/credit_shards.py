"""Credit shards of hot receiving accounts (ledger rule 8): which accounts
have them, and the account as its readers must see it, item plus shards.

An operator turns them on for an account (`enable`, N from
`FLOCK_CREDIT_SHARDS`); the count only grows, so whoever knows N finds
every shard, and a payer's cached count (`count_of`, read once per warm
Lambda) is never wrong in a way that matters: a stale 0 credits the item,
which is only slower. The `sweep-credit-shards` job empties the shards into
the item (`ledger.sweep_credit_shards`); a debit refused for funds does too.

Readers of a balance use `with_shards` (wallet, credit line), accrual adds
the shards' daily closes (`closes`), statements open each month with
`month_opening`, reconcile adds the shards it scans beside their item.
"""
from datetime import date, timedelta

from chalicelib import errors
from chalicelib.config import settings
from chalicelib.db import warm
from chalicelib.db.balances import (CREDIT_SHARDED_INDEX_SHARDS, AccountItem, CreditShardItem, account_key,
                                    credit_sharded_index_keys, credit_sharded_partition)
from chalicelib.db.transact import TaggedTransaction, commit
from chalicelib.finance import ledger

CREDIT_SHARDS_MAX = ledger.SWEEP_SHARDS_PER_TRANSACTION  # enabling them is one transaction too
_counts = warm.Warm(ttl_s=60)


def count_of(account_id: str) -> int:
    """The account's credit shards, as read once a minute per warm Lambda."""
    def load(key: str) -> int:
        try:
            item = AccountItem.get(*account_key(key), attributes_to_get=["credit_shards"])
        except AccountItem.DoesNotExist:
            return 0
        return int(item.credit_shards or 0)
    return _counts.get(account_id, load)


def enable(account_id: str, shards: int | None = None) -> AccountItem:
    """Give a customer account `shards` credit shards (default: the
    setting), each copying its status; idempotent, and never fewer than it
    has. One transaction, conditioned on the count and status read."""
    wanted = settings().credit_shards if shards is None else shards
    if type(wanted) is not int or not 1 <= wanted <= CREDIT_SHARDS_MAX:
        raise errors.InvalidRequest(f"credit shards are 1..{CREDIT_SHARDS_MAX}", param="credit_shards")

    def build() -> TaggedTransaction:
        account = AccountItem.find(account_id)
        if account is None or account.kind != "customer":
            raise errors.NotFound("No money account.")
        have = int(account.credit_shards or 0)
        tx = TaggedTransaction()
        count = AccountItem.credit_shards == have if have else AccountItem.credit_shards.does_not_exist()
        pk, sk = credit_sharded_index_keys(account_id)
        tx.update("account", AccountItem.ref(account_id),
                  [AccountItem.credit_shards.set(max(have, wanted)), AccountItem.gsi1_pk.set(pk),
                   AccountItem.gsi1_sk.set(sk)],
                  condition=count & (AccountItem.status == account.status))
        for n in range(have, wanted):
            shard = CreditShardItem.ref(account_id, n)
            shard.account_id, shard.shard, shard.status = account_id, n, account.status
            tx.save(("shard", n), shard, condition=CreditShardItem.pk.does_not_exist())
        return tx

    commit(build, ledger.ATTEMPTS_MAX, stale=("account",))
    _counts.forget(account_id)
    return AccountItem.find(account_id)


def status_updates(tx: TaggedTransaction, account: AccountItem, status: str):
    """Freezing (or unfreezing) an account does its shards in the same
    transaction, so a frozen account is credited on none of them. Returns
    the condition for the account's own update: its count as read, so
    shards added meanwhile are not missed."""
    have = int(account.credit_shards or 0)
    for n in range(have):
        tx.update(("credit_shard", n), CreditShardItem.ref(account.id, n), [CreditShardItem.status.set(status)],
                  condition=CreditShardItem.pk.exists())
    return AccountItem.credit_shards == have if have else AccountItem.credit_shards.does_not_exist()


def shards_of(account: AccountItem) -> list[CreditShardItem]:
    return [CreditShardItem.from_raw_data(raw)
            for raw in ledger.credit_shard_items(account.id, int(account.credit_shards or 0))]


def with_shards(account: AccountItem) -> AccountItem:
    """A copy of the account item for readers: balance, spendable and money
    in (`inflow`) include its shards'. Never written back."""
    shards = shards_of(account)
    if not shards:
        return account
    merged = AccountItem.from_raw_data(account.serialize())
    extra = sum(int(s.balance) for s in shards)
    merged.balance = int(account.balance) + extra
    merged.spendable = int(account.spendable) + extra
    inflow = {k: int(v) for k, v in (account.inflow.as_dict() if account.inflow else {}).items()}
    for shard in shards:
        for k, v in (shard.inflow.as_dict() if shard.inflow else {}).items():
            inflow[k] = inflow.get(k, 0) + int(v)
    merged.inflow = inflow
    return merged


def _opening(item, key: str) -> int:
    """One item's balance at the start of the period `key` (m<YYYYMM> or
    d<YYYYMMDD>): recorded at its first movement of the period, else that
    of the first later period it moved in, else its balance now."""
    opens = {k: int(v) for k, v in item.opens.as_dict().items() if k[0] == key[0]}
    later = sorted(k for k in opens if k >= key)
    return opens[later[0]] if later else int(item.balance)


def month_opening(account: AccountItem, month_start: date) -> int:
    """The account's opening balance of a month, item and shards."""
    key = ledger.month_key(month_start)
    return _opening(account, key) + sum(_opening(s, key) for s in shards_of(account))


def closes(account: AccountItem, first: date, last: date) -> dict[date, int]:
    """The shards' part of each day's close in [first, last] (0 without shards)."""
    shards = shards_of(account)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return {day: sum(_opening(s, ledger.day_key(day + timedelta(days=1))) for s in shards) for day in days}


def run_sweep(as_of: date) -> dict:
    """Sweep every account with credit shards (they are listed in a few
    index partitions, not found by scanning accounts). Idempotent: a second
    run moves nothing."""
    processed = changed = 0
    for shard in range(CREDIT_SHARDED_INDEX_SHARDS):
        for item in AccountItem.credit_sharded.query(credit_sharded_partition(shard), attributes_to_get=["id"]):
            processed += 1
            changed += ledger.sweep_credit_shards(item.id) > 0
    return {"processed": processed, "changed": changed}
