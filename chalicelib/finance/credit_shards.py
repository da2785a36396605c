"""Credit shards of hot receiving accounts (ledger rule 8): which accounts
have them, and the account as its readers must see it, item plus shards.

They turn on by themselves. Every credit to a person's account counts
itself per minute in the item it lands on (`ledger.receipts`), and a payer
reads the payee's count once a minute per warm Lambda anyway (`count_of`):
that read also fetches the item's receipts, and an account receiving more
than `credit_shards_hot_per_min` gets shards (`enable`), as many as keep
each under `credit_shard_target_per_min`, at most `credit_shards` (`sized`).
docs/architecture.md, "Scale", has the arithmetic. An operator may still
call `enable` by hand.

The `sweep-credit-shards` job (`run_sweep`, every 5 minutes) empties the
shards into the item (`ledger.sweep_credit_shards`; a debit refused for
funds does too) and tends each account (`tend`): it widens one that
outgrew its shards, turns shards off for one that cooled below a quarter of
the threshold (`credit_shards_off_at`: payers credit the item again; the
shards stay, summed by readers), and retires them once no payer can still
be crediting one (`credit_shards_off_grace_s`, far past `count_of`'s
minute): one transaction deletes the emptied shards and writes what they
kept of the account's history (openings, inflow) into the item, so
statements and accrual read the same numbers before and after. While
shards exist their count only grows, so whoever knows N finds every shard;
a payer's count read before a retirement finds its shard gone and the
ledger credits the item instead.

Readers of a balance use `with_shards` (wallet, credit line), accrual adds
the shards' daily closes (`closes`), statements open each month with
`month_opening`, reconcile adds the shards it scans beside their item.
"""
from datetime import date, datetime, timedelta

from chalicelib import clock, errors
from chalicelib.config import settings
from chalicelib.db import warm
from chalicelib.db.balances import (CREDIT_SHARDED_INDEX_SHARDS, AccountItem, CreditShardItem, account_key,
                                    credit_sharded_index_keys, credit_sharded_partition)
from chalicelib.db.transact import TaggedTransaction, commit
from chalicelib.finance import ledger

CREDIT_SHARDS_MAX = ledger.SWEEP_SHARDS_PER_TRANSACTION  # enabling them is one transaction too
# The business minute in the key is what renews a count; the TTL (real
# seconds) only lets old minutes' entries go. As short as a minute it would
# also renew a count within a business minute whenever requests run slowly
# (a loaded test machine) and turn shards on earlier than the rule says.
COUNT_TTL_S = 600
_counts = warm.Warm(ttl_s=COUNT_TTL_S)
_RECEIPTS = ["rx0", "rx1", "rx2"]


def sized(per_minute: int) -> int:
    """The credit shards an account receiving `per_minute` credits a
    minute needs: 0 below the hot threshold, else enough that each takes at
    most the target rate, at least 2 and at most the setting."""
    s = settings()
    if per_minute < s.credit_shards_hot_per_min:
        return 0
    return min(max(2, -(-per_minute // s.credit_shard_target_per_min)), s.credit_shards, CREDIT_SHARDS_MAX)


def _cool(per_minute: int) -> bool:
    """Well below the threshold (a quarter of it), so an account near it is
    not turned on and off every few minutes."""
    return per_minute * 4 < settings().credit_shards_hot_per_min


def count_of(account_id: str) -> int:
    """The account's credit shards as a payer uses them (0 when off), read
    once a minute per warm Lambda (the cache is keyed by the minute too, so
    a new minute reads afresh). The same read brings the item's receipts:
    an account found hot gets its shards here, before the count is cached."""
    def load(cached: tuple) -> int:
        key = cached[0]
        try:
            item = AccountItem.get(*account_key(key),
                                   attributes_to_get=["credit_shards", "credit_shards_off_at", *_RECEIPTS])
        except AccountItem.DoesNotExist:
            return 0
        if item.credit_shards and not item.credit_shards_off_at:
            return int(item.credit_shards)  # widening them is the job's: it reads the shards' receipts
        wanted = sized(ledger.receipts([item], clock.now()))
        if not wanted:
            return 0
        try:
            return int(enable(key, wanted).credit_shards)
        except (errors.NotFound, errors.Unavailable):
            return 0  # not a person's account, or busy: this payer credits the item, which is only slower
    return _counts.get((account_id, ledger.minute_of(clock.now())), load)


def enable(account_id: str, shards: int | None = None) -> AccountItem:
    """Give a customer account `shards` credit shards (default: the
    setting), each copying its status, and turn them on if they were off;
    idempotent, and never fewer than it has. One transaction, conditioned
    on the count, the status and the off mark read."""
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
                   AccountItem.gsi1_sk.set(sk), AccountItem.credit_shards_off_at.remove()],
                  condition=count & (AccountItem.status == account.status) & _off_as(account))
        for n in range(have, wanted):
            shard = CreditShardItem.ref(account_id, n)
            shard.account_id, shard.shard, shard.status = account_id, n, account.status
            tx.save(("shard", n), shard, condition=CreditShardItem.pk.does_not_exist())
        return tx

    commit(build, ledger.ATTEMPTS_MAX, stale=("account",))
    _counts.forget((account_id, ledger.minute_of(clock.now())))
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


def _off_as(account: AccountItem):
    """The condition that the off mark is still what was read."""
    if account.credit_shards_off_at:
        return AccountItem.credit_shards_off_at == account.credit_shards_off_at
    return AccountItem.credit_shards_off_at.does_not_exist()


def _turn_off(account: AccountItem) -> None:
    """Payers credit the item again, from their next read of the count;
    the shards stay (readers sum them) until `_retire`."""
    tx = TaggedTransaction()
    tx.update("account", AccountItem.ref(account.id), [AccountItem.credit_shards_off_at.set(clock.iso(clock.now()))],
              condition=(AccountItem.credit_shards == int(account.credit_shards)) & _off_as(account))
    commit(tx, ledger.ATTEMPTS_MAX)  # refused: enabled or retired meanwhile, the next run looks again


class _NotEmpty(Exception):
    """A shard was credited after the sweep: retire on a later run."""


def _folded(account: AccountItem, shards: list[CreditShardItem]) -> list:
    """The item's updates that make it alone tell what it and its shards
    told together: each month's and day's opening (readers take the first
    recorded period at or after the one asked, so every key recorded
    anywhere gets the sum, and periods between keys agree by the same rule)
    and each month's inflow. Only keys whose value changes are written."""
    keys = {k for item in (account, *shards) for k in item.opens.as_dict() if k[0] in ("m", "d")}
    actions = []
    for key in sorted(keys):
        combined = _opening(account, key) + sum(_opening(s, key) for s in shards)
        if account.opens.as_dict().get(key) is None or int(account.opens.as_dict()[key]) != combined:
            actions.append(AccountItem.opens[key].set(combined))
    inflow = {k: int(v) for k, v in (account.inflow.as_dict() if account.inflow else {}).items()}
    added: set[str] = set()
    for shard in shards:
        for key, value in (shard.inflow.as_dict() if shard.inflow else {}).items():
            inflow[key] = inflow.get(key, 0) + int(value)
            added.add(key)
    return actions + [AccountItem.inflow[key].set(inflow[key]) for key in sorted(added)]


def _retire(account_id: str) -> bool:
    """Delete the account's emptied shards and fold their history into the
    item, in one transaction conditioned on nothing having moved since the
    read (the item's and each shard's `movements`). Whether it happened."""
    def build() -> TaggedTransaction:
        account = AccountItem.find(account_id)
        if account is None or not account.credit_shards or not account.credit_shards_off_at:
            raise _NotEmpty()  # turned on again, or retired by another run
        shards = shards_of(account)
        if any(int(s.balance) for s in shards):
            raise _NotEmpty()
        tx = TaggedTransaction()
        for shard in shards:
            tx.delete(("shard", int(shard.shard)), CreditShardItem.ref(account_id, int(shard.shard)),
                      condition=(CreditShardItem.balance == 0) & (CreditShardItem.movements == int(shard.movements)))
        tx.update("account", AccountItem.ref(account_id),
                  _folded(account, shards) + [AccountItem.credit_shards.remove(),
                                              AccountItem.credit_shards_off_at.remove(),
                                              AccountItem.gsi1_pk.remove(), AccountItem.gsi1_sk.remove()],
                  condition=(AccountItem.credit_shards == int(account.credit_shards)) & _off_as(account)
                  & (AccountItem.movements == int(account.movements)))
        return tx

    stale = ("account",) + tuple(("shard", n) for n in range(CREDIT_SHARDS_MAX))
    try:
        return not commit(build, ledger.ATTEMPTS_MAX, stale=stale)
    except _NotEmpty:
        return False
    finally:
        _counts.forget((account_id, ledger.minute_of(clock.now())))


def tend(account_id: str, now: datetime) -> tuple[int, str]:
    """One run of the job for one account: sweep its shards, then widen
    them, turn them off or retire them by its receipts (item and shards,
    this minute and the last). Returns the amount swept and what it did."""
    moved = ledger.sweep_credit_shards(account_id)
    return moved, _decide(account_id, now)


def _decide(account_id: str, now: datetime) -> str:
    account = AccountItem.find(account_id)
    if account is None or not account.credit_shards:
        return "kept"
    per_minute = ledger.receipts([account, *shards_of(account)], now)
    wanted, have, off = sized(per_minute), int(account.credit_shards), account.credit_shards_off_at
    if wanted and (off or wanted > have):
        enable(account_id, max(wanted, have))
        return "widened" if not off else "on"
    if not off and _cool(per_minute):
        _turn_off(account)
        return "off"
    grace = timedelta(seconds=settings().credit_shards_off_grace_s)
    if off and not wanted and now - datetime.fromisoformat(off) >= grace and _retire(account_id):
        return "retired"
    return "kept"


def run_sweep(as_of: date) -> dict:
    """Sweep and tend every account with credit shards (they are listed in
    a few index partitions, not found by scanning accounts). Idempotent: a
    second run moves nothing, and decides the same."""
    processed = changed = 0
    outcomes: dict[str, int] = {}
    now = clock.now()
    for shard in range(CREDIT_SHARDED_INDEX_SHARDS):
        for item in AccountItem.credit_sharded.query(credit_sharded_partition(shard), attributes_to_get=["id"]):
            processed += 1
            moved, outcome = tend(item.id, now)
            changed += moved > 0
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return {"processed": processed, "changed": changed, **outcomes}
