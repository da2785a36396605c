"""Payment requests: the payee asks, the payer pays (exactly once) or declines.

A request may be in any supported currency: it is what the asker receives,
into their pocket of it. The payer pays by the rule of priced payments
(finance/priced.py): from their pocket of that currency if they hold one,
else (or when they name `pay_currency`) from that pocket, converted in the
same transaction as the payment."""
from pynamodb.exceptions import UpdateError

from chalicelib import clock, errors, ids, lazy
from chalicelib.db import base
from chalicelib.db.balances import (PaymentRequestItem, TransferItem, incoming_requests_partition, is_request_key,
                                    outgoing_requests_partition, request_key, requests_sort_key, transfer_key)
from chalicelib.db.users import HandleItem, UserItem
from chalicelib.finance import ledger, priced
from chalicelib.finance.accounts import customer_account_id
from chalicelib.finance.money import Money
from chalicelib.finance.transfers import (public_transfer, request_hash, require_money_caller, require_verified,
                                          transfer_id_for)

records = lazy.module("chalicelib.records.money")


def public_request(item: PaymentRequestItem, transfer: "records.Transfer | None" = None) -> "records.PaymentRequest":
    if transfer is None and item.transfer_id:
        stored = TransferItem.find(item.transfer_id)
        transfer = public_transfer(stored) if stored else None
    return records.PaymentRequest(id=item.id, from_=item.payer_handle, to=item.payee_handle, amount=int(item.amount),
                                  currency=item.currency, note=item.note or "", status=item.status,
                                  created_at=item.created_at, paid=transfer)


def create(principal, from_handle: str, money: Money, note: str) -> "records.PaymentRequest":
    require_money_caller(principal)
    claim = HandleItem.find(from_handle)
    if claim is None:
        raise errors.NotFound(f"No user @{from_handle}.")
    if claim.user_id == principal.user_id:
        raise errors.SelfTransfer("You cannot ask yourself for money.")
    payer = UserItem.find(claim.user_id)
    if payer is None or not payer.verified or payer.frozen:
        raise errors.NotEligible("That person cannot pay requests.")
    request_id = ids.new_id("req")
    at = clock.iso(clock.now())
    item = PaymentRequestItem(*request_key(request_id), id=request_id, payee_id=principal.user_id,
                              payee_handle=principal.handle, payer_id=payer.id, payer_handle=payer.handle,
                              amount=money.amount_cents, currency=money.currency, note=note, created_at=at,
                              gsi1_pk=incoming_requests_partition(payer.id), gsi1_sk=requests_sort_key(at, request_id),
                              gsi2_pk=outgoing_requests_partition(principal.user_id),
                              gsi2_sk=requests_sort_key(at, request_id))
    item.save(condition=PaymentRequestItem.pk.does_not_exist())
    return public_request(item, transfer=None)


def list_requests(principal, role: str, limit: int,
                  cursor_key: dict | None) -> tuple[list["records.PaymentRequest"], dict | None]:
    require_verified(principal)
    index = PaymentRequestItem.incoming if role == "incoming" else PaymentRequestItem.outgoing
    partition = (incoming_requests_partition if role == "incoming" else outgoing_requests_partition)(principal.user_id)
    gsi = "gsi1" if role == "incoming" else "gsi2"
    if cursor_key is not None and not _cursor_of(cursor_key, gsi, partition):
        # A cursor of another list (or another person's) is no key to this one.
        raise errors.InvalidRequest("The cursor is not valid.", param="cursor")
    last_key = base.key_from_plain(cursor_key)
    page = index.query(partition, scan_index_forward=False, limit=limit, last_evaluated_key=last_key)
    requests = list(page)
    # The transfers of paid requests, in one batch get for the page (not one read each).
    paid = {raw["id"]["S"]: public_transfer(TransferItem.from_raw_data(raw)) for raw in
            base.batch_get("balances", [transfer_key(r.transfer_id) for r in requests if r.transfer_id])}
    items = [public_request(r, paid.get(r.transfer_id)) if r.transfer_id else public_request(r) for r in requests]
    return items, base.key_to_plain(page.last_evaluated_key)


def _cursor_of(key: dict, gsi: str, partition: str) -> bool:
    return (set(key) == {"pk", "sk", f"{gsi}_pk", f"{gsi}_sk"} and all(isinstance(v, str) for v in key.values())
            and key[f"{gsi}_pk"] == partition and is_request_key(key["pk"], key["sk"]))


def _for_payer(principal, request_id: str) -> PaymentRequestItem:
    item = PaymentRequestItem.find(request_id) if request_id.startswith("req_") and len(request_id) <= 64 else None
    if item is None or principal.user_id not in (item.payer_id, item.payee_id):
        raise errors.NotFound("No such payment request.")
    if item.payer_id != principal.user_id:
        raise errors.Forbidden("Only the person asked can pay or decline.")
    return item


def pay(principal, request_id: str, idempotency_key: str,
        pay_currency: str | None = None) -> tuple["records.PaymentRequest", bool]:
    """The request turns `paid` in the same transaction that moves the money,
    so it is paid exactly once whatever the keys and retries. The asker
    receives the requested amount and currency; the payer's pocket is
    `pay_currency`, else chosen by the rule of priced payments."""
    require_money_caller(principal)
    item = _for_payer(principal, request_id)
    transfer_id = transfer_id_for(principal.user_id, idempotency_key)
    if item.status != "pending" and item.transfer_id != transfer_id:
        raise errors.InvalidState(f"The request is {item.status}.")
    mark_paid = ledger.Extra("update", PaymentRequestItem(*request_key(request_id)),
                             actions=(PaymentRequestItem.status.set("paid"),
                                      PaymentRequestItem.transfer_id.set(transfer_id)),
                             condition=PaymentRequestItem.status == "pending",
                             refusal=errors.InvalidState("The request is no longer pending."))
    money = Money(int(item.amount), item.currency)
    payee = ledger.Party(customer_account_id(item.payee_id), display=item.payee_handle, user_id=item.payee_id)
    base = ledger.Movement(
        transfer_id=transfer_id, kind="request_payment", note=item.note or "",
        request_hash=request_hash("request_payment", request_id=request_id, **priced.named(pay_currency)),
        extras=(mark_paid,))
    posted = priced.pay(priced.caller_payer(principal, money.currency, pay_currency), payee, money, base)
    item.status, item.transfer_id = "paid", posted.transfer.id
    return public_request(item, public_transfer(posted.transfer)), posted.replayed


def decline(principal, request_id: str) -> "records.PaymentRequest":
    require_verified(principal)
    item = _for_payer(principal, request_id)
    try:
        item.update(actions=[PaymentRequestItem.status.set("declined")],
                    condition=PaymentRequestItem.status == "pending")
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise errors.InvalidState(f"The request is {PaymentRequestItem.find(request_id).status}.") from None
        raise
    return public_request(item)
