"""What operators do to a person as the bank's customer: verify (KYC, which
opens their money account), freeze and unfreeze (the account with the
person), set a credit line. Each action is audited in the same transaction
as the change it records; the person's side of it is identity's
(identity/admin.py), the account's is here."""
from chalicelib import errors, lazy
from chalicelib.db.balances import AccountItem, AccountNumberClaim
from chalicelib.db.transact import TaggedTransaction, commit
from chalicelib.db.users import UserItem
from chalicelib.finance import accounts, credit_shards, ledger
from chalicelib.identity import admin, audit
from chalicelib.identity.users import own_user, require_by_handle

OPEN_ATTEMPTS_MAX = 5

records = lazy.module("chalicelib.records.identity")


def verify(actor, handle: str, reason: str | None) -> "records.User":
    """Idempotent: verifying a verified person changes nothing."""
    user = require_by_handle(handle)
    if user.verified:
        return own_user(user)

    def build() -> TaggedTransaction:
        account, claim = accounts.new_customer_account(user.id, user.handle)
        tx = TaggedTransaction()
        admin.add_verified(tx, user.id, account.id)
        tx.save("account", account, condition=AccountItem.pk.does_not_exist())
        tx.save("number", claim, condition=AccountNumberClaim.pk.does_not_exist())
        tx.save("audit", audit.record(actor, "verify", user.handle, reason, account_id=account.id))
        return tx

    # A refused user or account: verified concurrently, nothing to do. A
    # refused number alone: that account number is taken, draw another.
    commit(build, OPEN_ATTEMPTS_MAX, stale=("number",))
    return own_user(UserItem.find(user.id))


def _set_frozen(actor, handle: str, frozen: bool, reason: str | None) -> "records.User":
    """The account follows the person in the same transaction."""
    user = require_by_handle(handle)
    tx = TaggedTransaction()
    admin.add_frozen(tx, user.id, frozen)
    if user.account_id:
        status = "frozen" if frozen else "active"
        condition = AccountItem.pk.exists()
        account = AccountItem.find(user.account_id)
        if account is not None:  # its credit shards follow it
            condition = condition & credit_shards.status_updates(tx, account, status)
        tx.update("account", AccountItem.ref(user.account_id), [AccountItem.status.set(status)], condition=condition)
    tx.save("audit", audit.record(actor, "freeze" if frozen else "unfreeze", user.handle, reason))
    if commit(tx):
        raise errors.NotFound("No such user.")  # deleted since it was read
    admin.after_frozen(user.id, frozen, user.sessions)
    return own_user(UserItem.find(user.id))


def freeze(actor, handle: str, reason: str | None) -> "records.User":
    return _set_frozen(actor, handle, True, reason)


def unfreeze(actor, handle: str, reason: str | None) -> "records.User":
    return _set_frozen(actor, handle, False, reason)


def set_credit_limit(actor, handle: str, credit_limit_cents: int, reason: str | None) -> "accounts.records.Account":
    user = require_by_handle(handle)
    if not user.account_id:
        raise errors.NotEligible("That person has no money account.")
    record = audit.record(actor, "credit_limit", user.handle, reason, credit_limit=credit_limit_cents)
    account = ledger.set_credit_limit(user.account_id, credit_limit_cents, extras=(ledger.Extra("save", record),))
    return accounts.public_account(account)
