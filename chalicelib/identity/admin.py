"""What operators do to people: verify (KYC, which opens the money account),
freeze, unfreeze, set a credit line. Each action is audited in the same
transaction as the change it records."""
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib import errors
from chalicelib.db.balances import AccountItem, AccountNumberClaim
from chalicelib.db.base import TaggedTransaction, connection
from chalicelib.db.users import UserItem
from chalicelib.finance import accounts, ledger
from chalicelib.identity import audit, events, sessions
from chalicelib.identity.client import NOBODY
from chalicelib.identity.users import own_user, require_by_handle

OPEN_ATTEMPTS_MAX = 5


def verify(actor, handle: str, reason: str | None) -> dict:
    """Idempotent: verifying a verified person changes nothing."""
    user = require_by_handle(handle)
    if user.verified:
        return own_user(user)
    for _ in range(OPEN_ATTEMPTS_MAX):
        account, claim = accounts.new_customer_account(user.id, user.handle)
        tx = TaggedTransaction()
        tx.update("user", UserItem.ref(user.id), [UserItem.verified.set(True), UserItem.account_id.set(account.id)],
                  condition=UserItem.pk.exists() & (UserItem.verified == False))  # noqa: E712
        tx.save("account", account, condition=AccountItem.pk.does_not_exist())
        tx.save("number", claim, condition=AccountNumberClaim.pk.does_not_exist())
        tx.save("audit", audit.record(actor, "verify", user.handle, reason, account_id=account.id))
        try:
            tx.commit()
            break
        except TransactWriteError as exc:
            failed = tx.reasons(exc)
            if "user" in failed or "account" in failed:
                break  # verified concurrently: nothing to do
            if "number" in failed:
                continue  # account number taken: draw another
            raise
    return own_user(UserItem.find(user.id))


def _set_frozen(actor, handle: str, frozen: bool, reason: str | None) -> dict:
    """Freezing also ends every session of the person (its tokens stop at
    once); the account follows the person in the same transaction."""
    user = require_by_handle(handle)
    actions = [UserItem.frozen.set(frozen)]
    if frozen:
        actions += [UserItem.token_version.add(1), UserItem.sessions.remove()]
    with TransactWrite(connection=connection()) as tx:
        tx.update(UserItem.ref(user.id), actions=actions, condition=UserItem.pk.exists())
        if user.account_id:
            tx.update(AccountItem.ref(user.account_id),
                      actions=[AccountItem.status.set("frozen" if frozen else "active")],
                      condition=AccountItem.pk.exists())
        tx.save(audit.record(actor, "freeze" if frozen else "unfreeze", user.handle, reason))
        if frozen:
            tx.save(events.record(user.id, "session_ended", NOBODY, reason="frozen"))
    if frozen:
        sessions.end_others(user.id, None, "frozen")
    return own_user(UserItem.find(user.id))


def freeze(actor, handle: str, reason: str | None) -> dict:
    return _set_frozen(actor, handle, True, reason)


def unfreeze(actor, handle: str, reason: str | None) -> dict:
    return _set_frozen(actor, handle, False, reason)


def set_credit_limit(actor, handle: str, credit_limit_cents: int, reason: str | None) -> dict:
    user = require_by_handle(handle)
    if not user.account_id:
        raise errors.NotEligible("That person has no money account.")
    record = audit.record(actor, "credit_limit", user.handle, reason, credit_limit=credit_limit_cents)
    account = ledger.set_credit_limit(user.account_id, credit_limit_cents, extras=(ledger.Extra("save", record),))
    return accounts.public_account(account)
