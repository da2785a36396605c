"""Money that people move: deposits, withdrawals, P2P transfers, and the
public view of a transfer. Each function checks who may move what, builds one
`ledger.Movement` and hands it to the ledger."""
import functools
import json

from chalicelib import errors, ids, lazy
from chalicelib.config import settings
from chalicelib.db.balances import PayeeItem, TransferItem
from chalicelib.db.users import HandleItem, UserItem
from chalicelib.db.warm import Warm
from chalicelib.finance import ledger
from chalicelib.finance.accounts import customer_account_id, random_system_shard
from chalicelib.finance.money import Money
from chalicelib.identity import stepup

records = lazy.module("chalicelib.records.money")


def public_transfer(item: TransferItem) -> "records.Transfer":
    body = {"id": item.id, "kind": item.kind, "from": item.from_party, "to": item.to_party,
            "amount": int(item.amount), "currency": item.currency, "note": item.note or "",
            "status": item.status, "forced": bool(item.forced), "created_at": item.created_at}
    for leg in item.legs or ():  # a cross-currency transfer: what the receiver got (API.md)
        if leg.account_id != item.from_account and leg.user_id and leg.user_id == item.to_user \
                and leg.currency != item.currency and int(leg.amount) > 0:
            # Gross of a platform fee taken from it: the price bought, as a same-currency payment's `amount`.
            body["delivered"] = {"amount": int(leg.amount) + int(leg.fee or 0), "currency": leg.currency}
    if item.rate:
        body["rate"] = item.rate
    return records.Transfer.model_validate(body)


def transfer_id_for(user_id: str, idempotency_key: str) -> str:
    """Rule 5: the id follows from (caller, key), so a replay collides."""
    return ids.derived_id("tr", user_id, idempotency_key)


def request_hash(operation: str, **fields) -> str:
    return ids.fingerprint(json.dumps({"op": operation, **fields}, sort_keys=True, ensure_ascii=False))


def stored_success(transfer_id: str, request: str) -> TransferItem | None:
    """The success kept under an idempotency key, for a request refused
    before it reached the ledger (its post deleted since, its subscription
    price removed): a client retrying after a timeout must learn that it was
    charged, not hear 404. One read, on the refusal path only."""
    stored = TransferItem.find(transfer_id)
    if stored is not None and stored.request_hash != request:
        raise errors.IdempotencyKeyReused()
    return stored


def require_verified(principal) -> None:
    if not principal.verified or not principal.account_id:
        raise errors.VerificationRequired()


def require_money_caller(principal) -> None:
    """403s first, in API order: unverified, then frozen."""
    require_verified(principal)
    if principal.frozen:
        raise errors.AccountFrozen()


def caller_party(principal) -> ledger.Party:
    """The caller's account as the debit of a movement the caller starts,
    gated by the caller's authorisation (`authorize`)."""
    return ledger.Party(principal.account_id, display=principal.handle, user_id=principal.user_id,
                        inactive_refusal=errors.AccountFrozen, gate=functools.partial(authorize, principal))


def step_up_reason(principal, m: ledger.Movement) -> str | None:
    """Why money needs a code (API.md): above the threshold, or to a person
    the caller has never sent money to (payments from before 2FA count)."""
    if m.money.amount_cents > settings().step_up_cents:
        return "amount"
    if m.credit.user_id and m.credit.user_id != principal.user_id \
            and PayeeItem.find(principal.user_id, m.credit.user_id) is None:
        return "new_payee"
    return None


def authorize(principal, m: ledger.Movement) -> tuple:
    """The caller's authorisation, held in the movement's own transaction:
    the session still live (a ConditionCheck on the user item: an ended
    session moves nothing, at no extra read) and, with 2FA on and a risky
    move, the request's one-time code spent (so it moves this money only,
    and is spent only if the money moves)."""
    extras = []
    if principal.session_id:
        extras.append(ledger.Extra("check", UserItem.ref(principal.user_id),
                                   condition=UserItem.sessions.contains(principal.session_id),
                                   refusal=errors.Unauthenticated("The session has ended.")))
    reason = step_up_reason(principal, m) if principal.mfa else None
    if reason:
        use = stepup.code_use(principal, m.kind, risk=reason, amount=m.money.amount_cents,
                              to=m.credit.display)
        extras.append(ledger.Extra("update", use.model, actions=use.actions, condition=use.condition,
                                   refusal=errors.StepUpRequired("That one-time code was already used.")))
    return tuple(extras)


def sent_limit(principal) -> ledger.Limit:
    return ledger.Limit(principal.account_id, "sent", settings().tier_limits("verified").sent_per_day_max_cents)


def system_party(name: str) -> ledger.Party:
    return ledger.Party(random_system_shard(name), display=name, customer=False)


def _posted(posted: ledger.Posted) -> tuple["records.Transfer", bool]:
    return public_transfer(posted.transfer), posted.replayed


def deposit(principal, money: Money, idempotency_key: str) -> tuple["records.Transfer", bool]:
    """From the linked bank, instantly, through the `external` system account."""
    require_money_caller(principal)
    limits = settings().tier_limits("verified")
    # A deposit above the per-deposit maximum gets a daily cap of 0, so its
    # limit condition fails in the transaction, in API order of refusals.
    daily_cap = limits.deposits_per_day_max_cents if money.amount_cents <= limits.deposit_max_cents else 0
    movement = ledger.Movement(
        transfer_id=transfer_id_for(principal.user_id, idempotency_key), kind="deposit",
        debit=system_party("external"), credit=caller_party(principal), money=money,
        request_hash=request_hash("deposit", amount=money.amount_cents, currency=money.currency),
        limits=(ledger.Limit(principal.account_id, "deposited", daily_cap),))
    return _posted(ledger.transfer(movement))


def withdraw(principal, money: Money, idempotency_key: str) -> tuple["records.Transfer", bool]:
    require_money_caller(principal)
    movement = ledger.Movement(
        transfer_id=transfer_id_for(principal.user_id, idempotency_key), kind="withdrawal",
        debit=caller_party(principal), credit=system_party("external"), money=money,
        request_hash=request_hash("withdrawal", amount=money.amount_cents, currency=money.currency))
    return _posted(ledger.transfer(movement))


# A handle's owner never changes once claimed: read once per warm Lambda.
HANDLE_OWNERS = Warm(max_items=100_000, ttl_s=3600)


def _handle_owner(handle: str) -> tuple[str, str] | None:
    claim = HandleItem.find(handle)
    return (claim.user_id, claim.handle) if claim else None


def receiver_party(handle: str) -> ledger.Party:
    owner = HANDLE_OWNERS.get(handle.lower(), _handle_owner)
    if owner is None:
        raise errors.NotFound(f"No user @{handle}.")
    user_id, display = owner
    return ledger.Party(customer_account_id(user_id), display=display, user_id=user_id)


def send(principal, to_handle: str, money: Money, note: str, idempotency_key: str) -> tuple["records.Transfer", bool]:
    """P2P: one transaction and one read (the caller's token state); the
    receiver's handle is read once per warm Lambda. Whether the receiver may
    receive is the credit condition of that transaction, not another read;
    refused so, the handle is read again in case the cached owner is stale
    (a local stack made afresh reuses handles; on AWS a claim never moves)."""
    require_money_caller(principal)
    receiver = receiver_party(to_handle)
    try:
        return _send_to(principal, receiver, to_handle, money, note, idempotency_key)
    except errors.NotEligible:
        HANDLE_OWNERS.forget(to_handle.lower())
        fresh = receiver_party(to_handle)
        if fresh.user_id == receiver.user_id:
            raise
        return _send_to(principal, fresh, to_handle, money, note, idempotency_key)


def _send_to(principal, receiver: ledger.Party, to_handle: str, money: Money, note: str,
             idempotency_key: str) -> tuple["records.Transfer", bool]:
    if receiver.user_id == principal.user_id:
        raise errors.SelfTransfer()
    movement = ledger.Movement(
        transfer_id=transfer_id_for(principal.user_id, idempotency_key), kind="p2p",
        debit=caller_party(principal), credit=receiver, money=money, note=note,
        request_hash=request_hash("p2p", to=to_handle.lower(), amount=money.amount_cents,
                                  currency=money.currency, note=note),
        limits=(sent_limit(principal),))
    return _posted(ledger.transfer(movement))


def get_transfer(principal, transfer_id: str) -> "records.Transfer":
    """Parties only; anyone else learns nothing, not even that it exists."""
    require_verified(principal)
    item = TransferItem.find(transfer_id) if transfer_id.startswith("tr_") and len(transfer_id) <= 64 else None
    if item is None or principal.user_id not in ledger.transfer_users(item):
        raise errors.NotFound("No such transfer.")
    return public_transfer(item)
