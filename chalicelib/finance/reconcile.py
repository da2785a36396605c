"""Proof that the books balance: the sum of every balance (system shards
included) is zero, and every account's balance equals the sum of its entries
and keeps `spendable = balance - held + credit_limit`.

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
"""
from chalicelib.config import settings
from chalicelib.db import base
from chalicelib.db.balances import (ACCOUNT_SORT_KEY, ENTRY_PREFIX, AccountItem, EntryItem, account_id_of,
                                    account_partition)

MISMATCHES_REPORTED_MAX = 100
_FIELDS = ("pk", "sk", "amount", "balance", "held", "credit_limit", "spendable", "kind", "system_name")


def _scan(segment: int, total: int, check_entries: bool):
    values = {":acct": {"S": ACCOUNT_SORT_KEY}}
    condition = "#sk = :acct"
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


def _problems(balance: int, held: int, credit_limit: int, spendable: int, entries: int | None) -> list[dict]:
    found = []
    if spendable != balance - held + credit_limit:
        found.append({"problem": "spendable", "spendable": spendable, "expected": balance - held + credit_limit})
    if entries is not None and entries != balance:
        found.append({"problem": "entries", "balance": balance, "entries_sum": entries})
    return found


def _recheck(account_id: str, check_entries: bool) -> tuple[int, list[dict]]:
    """The account read again: its balance now, and what is still wrong."""
    item = AccountItem.find(account_id)
    entries = _entries_sum(account_id) if check_entries else None
    if item is None:  # gone since the scan read it: accounts are closed, never deleted
        return 0, [{"problem": "missing", "balance": 0, "entries_sum": entries}]
    balance = int(item.balance)
    return balance, _problems(balance, int(item.held), int(item.credit_limit), int(item.spendable), entries)


def reconcile_segment(segment: int, total: int, check_entries: bool = True) -> dict:
    accounts: dict[str, dict] = {}
    entries: dict[str, int] = {}
    for item in _scan(segment, total, check_entries):
        account_id = account_id_of(item["pk"]["S"])
        if item["sk"]["S"] == ACCOUNT_SORT_KEY:
            accounts[account_id] = item
        else:
            entries[account_id] = entries.get(account_id, 0) + _number(item, "amount")
    balances_total = 0
    system_totals: dict[str, int] = {}
    mismatches = []
    for account_id in sorted(set(accounts) | set(entries)):
        item = accounts.get(account_id)
        if item is None:  # entries here, and the item in another segment, which checks it, or nowhere
            if AccountItem.find(account_id) is None:
                mismatches.append({"account_id": account_id, "problem": "entries", "balance": 0,
                                   "entries_sum": _entries_sum(account_id)})
            continue
        balance = _number(item, "balance")
        found = _problems(balance, _number(item, "held"), _number(item, "credit_limit"), _number(item, "spendable"),
                          entries.get(account_id, 0) if check_entries else None)
        if found:
            balance, found = _recheck(account_id, check_entries)
        mismatches += [{"account_id": account_id, **problem} for problem in found]
        balances_total += balance
        if item.get("kind", {}).get("S") == "system":
            name = item["system_name"]["S"]
            system_totals[name] = system_totals.get(name, 0) + balance
    return {"processed": len(accounts), "changed": 0, "total": balances_total, "system_accounts": system_totals,
            "mismatch_count": len(mismatches), "mismatches": mismatches[:MISMATCHES_REPORTED_MAX]}


def combine(parts: list[dict]) -> dict:
    """One report from the reports of every segment."""
    system_totals: dict[str, int] = {}
    mismatches = []
    for part in parts:
        for name, amount in part["system_accounts"].items():
            system_totals[name] = system_totals.get(name, 0) + amount
        mismatches += part["mismatches"]
    total = sum(p["total"] for p in parts)
    mismatch_count = sum(p["mismatch_count"] for p in parts)
    return {"balanced": total == 0 and mismatch_count == 0, "total": total,
            "accounts": sum(p["processed"] for p in parts), "system_accounts": system_totals,
            "mismatch_count": mismatch_count, "mismatches": mismatches[:MISMATCHES_REPORTED_MAX]}


def reconcile(check_entries: bool = True) -> dict:
    total = settings().job_segments
    return combine([reconcile_segment(segment, total, check_entries) for segment in range(total)])
