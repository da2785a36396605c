"""Proof that the books balance: the sum of every balance (system shards
included) is zero, and every account's balance equals the sum of its entries
and keeps `spendable = balance - held + credit_limit`."""
from chalicelib.db.balances import ENTRY_PREFIX, AccountItem, EntryItem

SEGMENTS = 4
MISMATCHES_REPORTED_MAX = 100


def _accounts():
    for segment in range(SEGMENTS):
        yield from AccountItem.scan(AccountItem.sk == "ACCT", segment=segment, total_segments=SEGMENTS,
                                    consistent_read=True)


def _entries_sum(account_id: str) -> int:
    return sum(int(e.amount) for e in EntryItem.query(f"ACCT#{account_id}", EntryItem.sk.startswith(ENTRY_PREFIX),
                                                      consistent_read=True, attributes_to_get=["amount"]))


def reconcile(check_entries: bool = True) -> dict:
    total = 0
    accounts = 0
    mismatches = []
    system_totals: dict[str, int] = {}
    for account in _accounts():
        accounts += 1
        balance = int(account.balance)
        total += balance
        if account.kind == "system":
            system_totals[account.system_name] = system_totals.get(account.system_name, 0) + balance
        expected_spendable = balance - int(account.held) + int(account.credit_limit)
        if int(account.spendable) != expected_spendable:
            mismatches.append({"account_id": account.id, "problem": "spendable",
                               "spendable": int(account.spendable), "expected": expected_spendable})
        if check_entries:
            entries = _entries_sum(account.id)
            if entries != balance:
                mismatches.append({"account_id": account.id, "problem": "entries",
                                   "balance": balance, "entries_sum": entries})
    return {"balanced": total == 0 and not mismatches, "total": total, "accounts": accounts,
            "system_accounts": system_totals, "mismatch_count": len(mismatches),
            "mismatches": mismatches[:MISMATCHES_REPORTED_MAX]}
