"""Proof that the books balance: the sum of every balance (system shards
included) is zero, and every account's balance equals the sum of its entries
and keeps `spendable = balance - held + credit_limit`, and its `held` equals
the sum of its pending holds (debit and credit alike; `held_credit` that of
its pending credit holds).

Holds: an account whose item says it holds something has its pending holds
listed (`ledger.pending_holds`, one query on an index); pending hold items
come in the scan too, so an account that holds nothing while a hold of it is
pending is found as well — by its own segment, or, when the hold's item lies
in another segment than the account's, by the segment of its first pending
hold (so it is reported once). A suspect is read again, consistently, hold
by hold, before it is reported.

The balances table is read in parallel scan segments, a job of its own
(`reconcile`) that fans out like the interest jobs. Segments split the
partition-key space (so moto does; DynamoDB does so in practice, though its
documentation does not promise it), so an account's item and its entries
come in the same segment: one pass sums every account's entries at a Scan
page per megabyte, where a Query per account would cost a request per
account. Should a segment hold only part of an account, the account is a
suspect, checked on its own; it is never counted twice.

A scan is not a snapshot: a movement landing between the reading of an
account's item and of its entries shows as a mismatch. A suspect is read
again, consistently, before it is reported. For the same reason the sum of
all balances, read account by account while money moves, can be off while
a movement is in flight (no account mismatching): on a live ledger such a
run is to be run again before anyone is alarmed; it is exact on a quiet one.

A loan's receivable account must hold minus the loan's principal
outstanding (finance/loans.py books interest and fees when paid): one read
of the loan per loan account, reported as `loan_principal` if not.
"""
from chalicelib import lazy
from chalicelib.config import HOME_CURRENCY, settings
from chalicelib.db import base
from chalicelib.db.balances import (ACCOUNT_SORT_KEY, CREDIT_SHARD_PREFIX, ENTRY_PREFIX, HOLD_SORT_KEY, AccountItem,
                                    EntryItem, account_id_of, account_partition)
from chalicelib.finance import ledger, loans

records = lazy.module("chalicelib.records.money")

MISMATCHES_REPORTED_MAX = 100
_FIELDS = ("pk", "sk", "amount", "balance", "held", "held_credit", "credit_limit", "spendable", "kind",
           "system_name", "id", "account_id", "status", "owner_id", "currency")
WALLET_KINDS = ("customer", "pocket")  # a person's money, in any currency


def _scan(segment: int, total: int, check_entries: bool):
    values = {":acct": {"S": ACCOUNT_SORT_KEY}, ":hold": {"S": HOLD_SORT_KEY}, ":pending": {"S": "pending"},
              ":cs": {"S": CREDIT_SHARD_PREFIX}}
    condition = "#sk = :acct OR (#sk = :hold AND #status = :pending) OR begins_with(#sk, :cs)"
    if check_entries:
        values[":entry"] = {"S": ENTRY_PREFIX}
        condition += " OR begins_with(#sk, :entry)"
    pages = base.botocore_client().get_paginator("scan").paginate(
        TableName=AccountItem.Meta.table_name, Segment=segment, TotalSegments=total, ConsistentRead=True,
        FilterExpression=condition, ExpressionAttributeValues=values,
        ProjectionExpression=", ".join("#" + f for f in _FIELDS), ExpressionAttributeNames={"#" + f: f for f in _FIELDS})
    for page in pages:
        yield from page["Items"]


def _number(item: dict, name: str) -> int:
    return int(item[name]["N"]) if name in item else 0


def _entries_sum(account_id: str) -> int:
    return sum(int(e.amount) for e in EntryItem.query(account_partition(account_id), EntryItem.sk.startswith(ENTRY_PREFIX),
                                                      consistent_read=True, attributes_to_get=["amount"]))


def _problems(balance: int, held: int, credit_limit: int, spendable: int, entries: int | None,
              sharded: int = 0) -> list[dict]:
    """`balance` and `spendable` are the item's; `sharded` what its credit
    shards hold, which the entries include (ledger rule 8)."""
    found = []
    if spendable != balance - held + credit_limit:
        found.append({"problem": "spendable", "spendable": spendable, "expected": balance - held + credit_limit})
    if entries is not None and entries != balance + sharded:
        found.append({"problem": "entries", "balance": balance + sharded, "entries_sum": entries})
    return found


def _shards_sum(account_id: str, shards: int) -> int:
    return sum(int(raw.get("balance", {}).get("N", "0")) for raw in ledger.credit_shard_items(account_id, shards))


def _recheck(account_id: str, check_entries: bool) -> tuple[int, list[dict]]:
    """The account read again: its balance now, and what is still wrong."""
    item = AccountItem.find(account_id)
    entries = _entries_sum(account_id) if check_entries else None
    if item is None:  # gone since the scan read it: accounts are closed, never deleted
        return 0, [{"problem": "missing", "balance": 0, "entries_sum": entries}]
    balance, sharded = int(item.balance), _shards_sum(account_id, int(item.credit_shards or 0))
    return balance + sharded, _problems(balance, int(item.held), int(item.credit_limit), int(item.spendable), entries,
                                        sharded)


def _held_problems(account_id: str, held: int, held_credit: int, consistent: bool = False) -> list[dict]:
    """`held` against the sum of the account's pending holds."""
    holds = ledger.pending_holds(account_id, consistent=consistent)
    total = sum(h.holding for h in holds)
    credit = sum(h.holding for h in holds if h.kind == "credit")
    found = []
    if total != held:
        found.append({"problem": "held", "held": held, "pending_holds_sum": total})
    if credit != held_credit:
        found.append({"problem": "held_credit", "held_credit": held_credit, "pending_credit_holds_sum": credit})
    return found


def _recheck_held(account_id: str) -> list[dict]:
    item = AccountItem.find(account_id)
    if item is None:
        return []
    return _held_problems(account_id, int(item.held), int(item.held_credit or 0), consistent=True)


def _holding_nothing(holds_here: dict[str, set], accounts: dict[str, dict]) -> list[str]:
    """Accounts whose item holds nothing while a hold of theirs found in
    this segment is pending. Their holds may lie in several segments, and
    their item in yet another: the segment that has their first pending
    hold checks them, so they are reported once. (An account that holds
    something is checked by its own segment.)"""
    found = []
    for account_id, hold_ids in sorted(holds_here.items()):
        if account_id in accounts:
            held = _number(accounts[account_id], "held")
        else:
            item = AccountItem.find(account_id)
            if item is None:
                continue
            held = int(item.held)
        if held:
            continue
        listed = ledger.pending_holds(account_id, consistent=True)
        if listed and min(h.id for h in listed) in hold_ids:
            found.append(account_id)
    return found


def reconcile_segment(segment: int, total: int, check_entries: bool = True) -> dict:
    accounts: dict[str, dict] = {}
    entries: dict[str, int] = {}
    holds_here: dict[str, set] = {}
    sharded: dict[str, int] = {}  # what each account's credit shards hold
    for item in _scan(segment, total, check_entries):
        if item["sk"]["S"] == HOLD_SORT_KEY:
            holds_here.setdefault(item["account_id"]["S"], set()).add(item["id"]["S"])
            continue
        account_id = account_id_of(item["pk"]["S"])
        if item["sk"]["S"].startswith(CREDIT_SHARD_PREFIX):
            sharded[account_id] = sharded.get(account_id, 0) + _number(item, "balance")
        elif item["sk"]["S"] == ACCOUNT_SORT_KEY:
            accounts[account_id] = item
        else:
            entries[account_id] = entries.get(account_id, 0) + _number(item, "amount")
    balances_total = 0
    currency_totals: dict[str, int] = {}  # books per currency: each sums to zero on its own
    system_totals: dict[str, int] = {}
    ledger_totals: dict[str, int] = {}  # ledger accounts by kind (loans' receivables)
    mismatches = []
    for account_id in sorted(set(accounts) | set(entries)):
        item = accounts.get(account_id)
        if item is None:  # entries here, and the item in another segment, which checks it, or nowhere
            if AccountItem.find(account_id) is None:
                mismatches.append({"account_id": account_id, "problem": "entries", "balance": 0,
                                   "entries_sum": _entries_sum(account_id)})
            continue
        balance = _number(item, "balance") + sharded.get(account_id, 0)
        found = _problems(_number(item, "balance"), _number(item, "held"), _number(item, "credit_limit"),
                          _number(item, "spendable"), entries.get(account_id, 0) if check_entries else None,
                          sharded.get(account_id, 0))
        if found:
            balance, found = _recheck(account_id, check_entries)
        owner = item.get("owner_id", {}).get("S")
        if item.get("kind", {}).get("S") == "receivable" and owner and loans.is_loan_account(account_id):
            found += _loan_problems(account_id, owner, balance, check_entries)
        mismatches += [{"account_id": account_id, **problem} for problem in found]
        held = _number(item, "held")
        if held:
            if _held_problems(account_id, held, _number(item, "held_credit")):
                mismatches += [{"account_id": account_id, **problem} for problem in _recheck_held(account_id)]
        balances_total += balance
        currency = item.get("currency", {}).get("S", HOME_CURRENCY)
        currency_totals[currency] = currency_totals.get(currency, 0) + balance
        kind = item.get("kind", {}).get("S")
        if kind == "system":
            name = item["system_name"]["S"]
            system_totals[name] = system_totals.get(name, 0) + balance
        elif kind not in WALLET_KINDS:
            ledger_totals[kind] = ledger_totals.get(kind, 0) + balance
    for account_id in _holding_nothing(holds_here, accounts):
        mismatches += [{"account_id": account_id, **problem} for problem in _recheck_held(account_id)]
    return {"processed": len(accounts), "changed": 0, "total": balances_total, "totals": currency_totals,
            "system_accounts": system_totals,
            "ledger_accounts": ledger_totals,
            "mismatch_count": len(mismatches), "mismatches": mismatches[:MISMATCHES_REPORTED_MAX]}


def _loan_problems(account_id: str, owner_id: str | None, balance: int, check_entries: bool) -> list[dict]:
    """The loan's account against its principal outstanding, read again
    before a difference is reported (a payment may have landed between)."""
    if loans.expected_balance(account_id, owner_id) == balance:
        return []
    balance, _ = _recheck(account_id, check_entries)
    expected = loans.expected_balance(account_id, owner_id)
    return [] if expected == balance else [{"problem": "loan_principal", "balance": balance, "expected": expected}]


def combine(parts: list[dict]) -> dict:
    """One report from the reports of every segment."""
    system_totals: dict[str, int] = {}
    ledger_totals: dict[str, int] = {}
    totals = {currency: 0 for currency in settings().currencies}
    mismatches = []
    for part in parts:
        for currency, amount in part.get("totals", {}).items():
            totals[currency] = totals.get(currency, 0) + amount
        for name, amount in part["system_accounts"].items():
            system_totals[name] = system_totals.get(name, 0) + amount
        for kind, amount in part.get("ledger_accounts", {}).items():
            ledger_totals[kind] = ledger_totals.get(kind, 0) + amount
        mismatches += part["mismatches"]
    total = sum(p["total"] for p in parts)
    mismatch_count = sum(p["mismatch_count"] for p in parts)
    # What Flock holds of each currency from conversions: the fx_<CCY> accounts' sums.
    fx_position = {name.removeprefix("fx_"): amount for name, amount in sorted(system_totals.items())
                   if name.startswith("fx_")}
    balanced = total == 0 and mismatch_count == 0 and not any(totals.values())
    return {"balanced": balanced, "total": total, "totals": totals, "fx_position": fx_position,
            "accounts": sum(p["processed"] for p in parts), "system_accounts": system_totals,
            "ledger_accounts": ledger_totals, "mismatch_count": mismatch_count, "mismatches": mismatches[:MISMATCHES_REPORTED_MAX]}


def reconcile(check_entries: bool = True) -> dict:
    total = settings().job_segments
    return combine([reconcile_segment(segment, total, check_entries) for segment in range(total)])


def ledger_check(report: dict) -> "records.LedgerCheck":
    """The ledger check's answer of a `reconcile` run's report (`jobs.ledger_check`:
    the run's summary, read back from its stored JSON on AWS). The report stays
    a plain dict for the jobs, which merge and store it; only the answer is a record."""
    return records.LedgerCheck.model_validate(report)
