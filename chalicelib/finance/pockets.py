"""Pockets: one ledger account per person per currency.

The home-currency (USD) pocket is the person's account, opened on
verification, with the credit line. A pocket of another currency is an
account item of kind `pocket` (listed in gsi3 under its kind: the interest
jobs accrue and post its currency's APY, 0 unless set, from
`interest_expense_<CCY>`; no credit line, so no overdraft charge), opened on first
use: when the person buys that currency or receives it, never before — a
person never holds a pocket they did not ask for or receive into.

Opening costs nothing on the way that matters: a movement into a pocket is
sent as if the pocket existed; only when its transaction is refused because
the pocket is missing (the refusal's class says it was a pocket) is the
pocket opened and the movement sent again. A steady-state transfer stays one
transaction.
"""
from collections.abc import Callable

from pynamodb.exceptions import DeleteError, PutError

from chalicelib import clock, errors, lazy
from chalicelib.config import HOME_CURRENCY, settings
from chalicelib.db import base
from chalicelib.db.balances import AccountItem, account_key
from chalicelib.finance import ledger
from chalicelib.finance.accounts import currency_system_name, customer_account_id, public_account, random_system_shard
from chalicelib.finance.money import SUPPORTED_CURRENCIES

records = lazy.module("chalicelib.records.money")

POCKET_KINDS = ("customer", "pocket")


class PocketRefused(errors.NotEligible):
    """A receiving pocket was missing, frozen or closed (told apart afterwards)."""


class OwnPocketRefused(errors.AccountFrozen):
    """The caller's own pocket (what they sell or pay from) was missing, frozen or closed."""


def pocket_account_id(user_id: str, currency: str) -> str:
    """The id follows from (person, currency): no lookup."""
    if currency not in SUPPORTED_CURRENCIES:
        raise errors.UnsupportedCurrency(param="currency")
    main = customer_account_id(user_id)
    return main if currency == HOME_CURRENCY else f"{main}_{currency.lower()}"


def pocket_party(user_id: str, handle: str, currency: str, own: bool = False) -> ledger.Party:
    """A pocket as one side of a movement; `own`: the caller's (refusals say account_frozen)."""
    return ledger.Party(pocket_account_id(user_id, currency), display=handle, user_id=user_id,
                        inactive_refusal=OwnPocketRefused if own else PocketRefused)


def system_party_in(name: str, currency: str) -> ledger.Party:
    """A random shard of the system account `name` of that currency (rule 7)."""
    system = currency_system_name(name, currency)
    display = system if name == "fx" else name
    return ledger.Party(random_system_shard(system), display=display, customer=False)


def receiver_is_active(user_id: str) -> ledger.Extra:
    """A person frozen is frozen in every currency: their main account's
    status rides in the movement's transaction (no read)."""
    main = customer_account_id(user_id)
    return ledger.Extra("check", AccountItem.ref(main), condition=AccountItem.status == "active",
                        refusal=errors.NotEligible("That account cannot receive money."))


def open_pocket(user_id: str, currency: str) -> AccountItem:
    """Open the person's pocket of `currency` (idempotent): it carries the
    main account's owner and number. Refused (NotEligible) for a person
    with no account or a frozen one."""
    main = AccountItem.find(customer_account_id(user_id))
    if main is None or main.kind != "customer" or main.status != "active":
        raise errors.NotEligible("That account cannot hold money.")
    account_id = pocket_account_id(user_id, currency)
    if account_id == main.id:
        return main
    item = AccountItem.new(account_id, "pocket")
    item.owner_id, item.owner_handle, item.account_number = user_id, main.owner_handle, main.account_number
    item.currency = currency
    item.opened_at = clock.iso(clock.now())
    try:
        item.save(condition=AccountItem.pk.does_not_exist())
    except PutError:
        existing = AccountItem.find(account_id)
        if existing is None:
            raise errors.Unavailable() from None
        return existing
    return item


def _existing(account_ids: list[str]) -> set[str]:
    raws = base.batch_get("balances", [account_key(a) for a in account_ids], consistent=True)
    return {raw["id"]["S"] for raw in raws}


def into_pockets(move: Callable[[], ledger.Posted], receiving: list[tuple[str, str]],
                 own: list[tuple[str, str]] = ()) -> ledger.Posted:
    """Send `move`; if a pocket refused it, open the missing `receiving`
    pockets ((user_id, currency)) and send it once more (also when none is
    missing any more: a racing request opened it). A missing `own`
    pocket (one paid from) is never opened: it holds nothing."""
    try:
        return move()
    except (PocketRefused, OwnPocketRefused):
        ids_own = [pocket_account_id(u, c) for u, c in own]
        ids_receiving = [pocket_account_id(u, c) for u, c in receiving]
        present = _existing(ids_own + ids_receiving)
        if any(a not in present for a in ids_own):
            raise errors.InsufficientFunds("There is no money in that currency.") from None
        # None missing: another request opened it since the refusal (two
        # payments racing into a new pocket), or it refuses for its status;
        # the second attempt tells which.
        missing = [(u, c) for (u, c), a in zip(receiving, ids_receiving) if a not in present]
        opened = [open_pocket(user_id, currency) for user_id, currency in missing]
    try:
        return move()
    except errors.ApiError as refused:
        for item in opened:  # a refused request leaves nothing behind, not even a pocket
            _close_unused(item)
        if isinstance(refused, OwnPocketRefused):
            raise errors.AccountFrozen() from None
        if isinstance(refused, PocketRefused):
            raise errors.NotEligible() from None
        raise


def _close_unused(item: AccountItem) -> None:
    """Remove a pocket this request opened, if nothing has moved it since."""
    try:
        item.delete(condition=(AccountItem.movements == 0) & (AccountItem.kind == "pocket"))
    except DeleteError:
        pass  # another movement reached it meanwhile: it stays, as that one's


def list_pockets(user_id: str) -> list["records.Account"]:
    """Every pocket the person holds, home currency first: one batch read
    of every id a pocket could have (the currencies are few)."""
    wanted = [pocket_account_id(user_id, c) for c in settings().currencies]
    raws = base.batch_get("balances", [account_key(a) for a in wanted], consistent=True)
    items = {item.id: item for item in (AccountItem.from_raw_data(raw) for raw in raws)}
    return [public_account(items[a]) for a in wanted if a in items and items[a].kind in POCKET_KINDS]


def holds(user_id: str, currency: str) -> bool:
    """Whether the person holds a pocket of `currency` (one read)."""
    item = AccountItem.find(pocket_account_id(user_id, currency))
    return item is not None and item.kind in POCKET_KINDS


def find_pocket(user_id: str, currency: str) -> AccountItem:
    """The person's pocket of `currency`; 404 before it is opened."""
    item = AccountItem.find(pocket_account_id(user_id, currency))
    if item is None or item.kind not in POCKET_KINDS or item.owner_id not in (None, user_id):
        raise errors.NotFound(f"No {currency} pocket.")
    return item
