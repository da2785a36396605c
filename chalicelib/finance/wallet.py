"""What a person reads of their money: the account, its entries newest
first, and monthly statements (JSON or CSV)."""
import csv
import io
import re
from datetime import datetime, timezone

from chalicelib import clock, errors, lazy
from chalicelib.config import HOME_CURRENCY
from chalicelib.db import base
from chalicelib.db.balances import ENTRY_PREFIX, AccountItem, EntryItem, account_partition, entry_time_bound
from chalicelib.finance import credit_shards
from chalicelib.finance.accounts import public_account, require_account
from chalicelib.finance.pockets import find_pocket, pocket_account_id
from chalicelib.finance.transfers import require_verified

records = lazy.module("chalicelib.records.money")

STATEMENT_ENTRIES_MAX = 10_000
MONTH = re.compile(r"\A([0-9]{4})-(0[1-9]|1[0-2])\Z")  # ASCII digits: `\d` takes any script's


def public_entry(item: EntryItem) -> "records.Entry":
    return records.Entry(id=item.id, transfer_id=item.transfer_id, kind=item.kind, amount=int(item.amount),
                         currency=item.currency, counterparty=item.counterparty, note=item.note or "",
                         created_at=item.created_at)


def _account(principal, currency: str) -> AccountItem:
    """The caller's pocket of `currency` (the main account for the home currency); 404 before it is opened."""
    if currency == HOME_CURRENCY:
        return require_account(principal.account_id)
    return find_pocket(principal.user_id, currency)


def wallet(principal, currency: str = HOME_CURRENCY) -> "records.Account":
    require_verified(principal)
    pocket_account_id(principal.user_id, currency)  # an unsupported currency is a 400 before any read
    return public_account(credit_shards.with_shards(_account(principal, currency)))


def transactions(principal, limit: int, cursor_key: dict | None,
                 currency: str = HOME_CURRENCY) -> tuple[list["records.Entry"], dict | None]:
    """One query: the pocket's entries, newest first."""
    require_verified(principal)
    account_id = principal.account_id
    if currency != HOME_CURRENCY:
        account_id = pocket_account_id(principal.user_id, currency)
        find_pocket(principal.user_id, currency)
    pk = account_partition(account_id)
    if cursor_key is not None and (cursor_key.get("pk") != pk or not str(cursor_key.get("sk", "")).startswith(ENTRY_PREFIX)):
        raise errors.InvalidRequest("The cursor is not valid.", param="cursor")
    page = EntryItem.query(pk, EntryItem.sk.startswith(ENTRY_PREFIX), scan_index_forward=False,
                           limit=limit, last_evaluated_key=base.key_from_plain(cursor_key), consistent_read=True)
    entries = [public_entry(e) for e in page]
    return entries, base.key_to_plain(page.last_evaluated_key)


def _month_bounds(month: str) -> tuple[datetime, datetime]:
    match = MONTH.match(month)
    if not match:
        raise errors.InvalidRequest("The month is YYYY-MM.", param="month")
    year, mon = int(match.group(1)), int(match.group(2))
    try:
        start = datetime(year, mon, 1, tzinfo=timezone.utc)
        end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=timezone.utc)
    except ValueError:  # well-formed but out of datetime's range: "0000-01", "9999-12"
        raise errors.InvalidRequest("The month is YYYY-MM, years 0001..9998.", param="month") from None
    return start, end


def _entries_between(account_id: str, start: datetime, end: datetime) -> list[EntryItem]:
    found = []
    for item in EntryItem.query(account_partition(account_id),
                                EntryItem.sk.between(entry_time_bound(clock.iso(start)), entry_time_bound(clock.iso(end))),
                                consistent_read=True):
        if item.created_at >= clock.iso(end):
            break
        found.append(item)
        if len(found) > STATEMENT_ENTRIES_MAX:
            raise errors.InvalidRequest("This month has too many entries for one statement.")
    return found


def _opening_balance(account: AccountItem, start: datetime) -> int:
    """The balance before the month's first movement: recorded by the ledger
    as `opens[m<YYYYMM>]`. A month with no movement opens with the closing of
    the last month that had one."""
    opens = {k: v for k, v in account.opens.as_dict().items() if k.startswith("m")}  # months, not days
    target = "m" + start.strftime("%Y%m")
    if target in opens:
        return int(opens[target])
    earlier = sorted(k for k in opens if k < target)
    if not earlier:
        return 0
    last = earlier[-1]
    last_start = datetime(int(last[1:5]), int(last[5:7]), 1, tzinfo=timezone.utc)
    _, last_end = _month_bounds(last_start.strftime("%Y-%m"))
    return int(opens[last]) + sum(int(e.amount) for e in _entries_between(account.id, last_start, last_end))


def statement(principal, month: str, currency: str = HOME_CURRENCY) -> "records.Statement":
    """opening + in - out = closing; one month's closing is the next's opening."""
    require_verified(principal)
    pocket_account_id(principal.user_id, currency)
    start, end = _month_bounds(month)
    now = clock.now()
    if start > now:
        raise errors.InvalidRequest("That month has not begun.", param="month")
    account = _account(principal, currency)
    entries = _entries_between(account.id, start, min(end, now))
    # With credit shards, entries of the month mix the item's and the shards' movements:
    # each item's recorded opening is summed instead.
    opening = credit_shards.month_opening(account, start) if account.credit_shards else _opening_balance(account, start)
    total_in = sum(int(e.amount) for e in entries if int(e.amount) > 0)
    total_out = -sum(int(e.amount) for e in entries if int(e.amount) < 0)
    return records.Statement(
        month=month, account_id=account.id, currency=account.currency,
        opening_balance=opening, closing_balance=opening + total_in - total_out,
        total_in=total_in, total_out=total_out,
        interest_earned=sum(int(e.amount) for e in entries if e.kind == "interest"),
        interest_charged=-sum(int(e.amount) for e in entries if e.kind == "overdraft_interest"),
        entries=[public_entry(e) for e in entries],
    )


def statement_csv(data: "records.Statement") -> str:
    """Each row carries the running balance, so a reader can check it by hand.
    Values are written as the JSON statement writes them (its `as_json`): the
    same times and codes in both files."""
    shown = data.as_json()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["created_at", "kind", "transfer_id", "counterparty", "note", "amount", "currency", "balance"])
    running = shown["opening_balance"]
    writer.writerow(["", "opening_balance", "", "", "", "", shown["currency"], running])
    for entry in shown["entries"]:
        running += entry["amount"]
        writer.writerow([entry["created_at"], entry["kind"], entry["transfer_id"], _csv_safe(entry["counterparty"]),
                         _csv_safe(entry["note"]), entry["amount"], entry["currency"], running])
    writer.writerow(["", "closing_balance", "", "", "", "", shown["currency"], shown["closing_balance"]])
    return out.getvalue()


def _csv_safe(text: str) -> str:
    """A note starting with = + - @ would run as a formula in a spreadsheet."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
