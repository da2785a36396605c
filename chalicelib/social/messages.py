"""Direct messages: one conversation per pair of people, messages newest
first, conversations by latest activity, unread counts. Only the two
members can see a conversation; to anyone else it does not exist (404)."""
import json

from chalicelib import clock, errors, ids, lazy
from chalicelib.db import base
from chalicelib.db.posts import (MESSAGE_PREFIX, ConversationItem, InboxItem, MessageItem, conversation_key,
                                 inbox_activity_sort_key, inbox_key, inbox_partition, message_key)
from chalicelib.db.transact import TRY_AGAIN, TaggedTransaction, commit
from chalicelib.db.warm import Warm
from chalicelib.identity.users import require_by_handle

records = lazy.module("chalicelib.records.social")

PREVIEW_CHARS = 80
ATTEMPTS_MAX = 5


def conversation_id_for(user_a: str, user_b: str) -> str:
    """The pair decides the id, so creating it twice finds the same one."""
    return ids.derived_id("conv", *sorted((user_a, user_b)))


def _inbox(user_id: str, other_id: str, other_handle: str, conv_id: str, at: str) -> InboxItem:
    return InboxItem(*inbox_key(user_id, conv_id), conversation_id=conv_id, other_id=other_id,
                     other_handle=other_handle, last_activity_at=at,
                     gsi1_pk=inbox_partition(user_id), gsi1_sk=inbox_activity_sort_key(at, conv_id))


def public_conversation(conv: ConversationItem, viewer_id: str,
                        inbox: InboxItem | None = None) -> "records.Conversation":
    other = [h for m, h in zip(conv.members, conv.member_handles) if m != viewer_id]
    return records.Conversation(id=conv.id, with_=other[0] if other else None, members=list(conv.member_handles),
                                created_at=conv.created_at, last_activity_at=conv.last_activity_at,
                                unread_count=int(inbox.unread) if inbox else 0,
                                last_message_preview=inbox.last_preview if inbox else "")


def public_message(item: MessageItem, payment=None) -> "records.Message":
    """`payment`: the transfer a payment message carries (stored with it), as
    `records.money.Transfer` or its JSON object."""
    if payment is None and item.payment:
        stored = json.loads(item.payment)
        stored.setdefault("created_at", item.created_at)  # stored without it: it lands with the message
        stored.setdefault("forced", False)  # stored without it before cca7d0b: a DM payment is never forced
        payment = records.Transfer.model_validate(stored)
    return records.Message(id=item.id, conversation_id=item.conversation_id, sender=item.sender_handle,
                           text=item.text, created_at=item.created_at, payment=payment)


REPLAY_SEARCH_MESSAGES_MAX = 500


def find_message_by_payment(conv_id: str, transfer_id: str) -> MessageItem | None:
    """The message a payment wrote, for answering a replay: among the newest
    REPLAY_SEARCH_MESSAGES_MAX messages (a replay follows its first try)."""
    newest = MessageItem.query(conversation_key(conv_id)[0], MessageItem.sk.startswith(MESSAGE_PREFIX),
                               scan_index_forward=False, page_size=100, consistent_read=True)
    for count, message in enumerate(newest):
        if count >= REPLAY_SEARCH_MESSAGES_MAX:
            break
        if message.payment_transfer_id == transfer_id:
            return message
    return None


def open_conversation(principal, with_handle: str) -> tuple["records.Conversation", bool]:
    """Returns (conversation, created)."""
    other = require_by_handle(with_handle)
    if other.id == principal.user_id:
        raise errors.InvalidRequest("A conversation needs someone else.", param="with")
    conv_id = conversation_id_for(principal.user_id, other.id)
    at = clock.iso(clock.now())
    conv = ConversationItem(*conversation_key(conv_id), id=conv_id, members=[principal.user_id, other.id],
                            member_handles=[principal.handle, other.handle], created_at=at, last_activity_at=at)
    tx = TaggedTransaction()
    tx.save("conv", conv, condition=ConversationItem.pk.does_not_exist())
    tx.save("mine", _inbox(principal.user_id, other.id, other.handle, conv_id, at))
    tx.save("theirs", _inbox(other.id, principal.user_id, principal.handle, conv_id, at))
    if not commit(tx, ATTEMPTS_MAX, busy_message=TRY_AGAIN):
        return public_conversation(conv, principal.user_id), True
    existing = require_member(principal.user_id, conv_id)
    # Created by this very request when botocore sent it again after a lost answer.
    created = existing.created_at == at and list(existing.members) == conv.members
    return public_conversation(existing, principal.user_id, _find_inbox(principal.user_id, conv_id)), created


def _find_inbox(user_id: str, conv_id: str) -> InboxItem | None:
    try:
        return InboxItem.get(*inbox_key(user_id, conv_id), consistent_read=True)
    except InboxItem.DoesNotExist:
        return None


# A conversation's members never change: a payment reads them once per warm Lambda.
CONVERSATIONS = Warm(max_items=50_000, ttl_s=300)


def _conversation(conv_id: str) -> ConversationItem | None:
    try:
        return ConversationItem.get(*conversation_key(conv_id), consistent_read=True)
    except ConversationItem.DoesNotExist:
        return None


def require_member(user_id: str, conv_id: str, cached: bool = False) -> ConversationItem:
    conv = None
    if conv_id.startswith("conv_") and len(conv_id) <= 64:
        conv = CONVERSATIONS.get(conv_id, _conversation) if cached else _conversation(conv_id)
    if conv is None or user_id not in conv.members:
        raise errors.NotFound("No such conversation.")
    return conv


def message_writes(conv: ConversationItem, sender_id: str, sender_handle: str, text: str,
                   payment_transfer_id: str | None = None, payment: dict | None = None) -> tuple[MessageItem, list]:
    """The message and the activity it causes, as (op, model, actions,
    condition) writes for one transaction — a payment's ledger transaction
    takes them as extra items, so message and money land together."""
    msg_id = ids.new_id("msg")
    at = clock.iso(clock.now())
    message = MessageItem(*message_key(conv.id, msg_id), id=msg_id, conversation_id=conv.id, sender_id=sender_id,
                          sender_handle=sender_handle, text=text, created_at=at,
                          payment_transfer_id=payment_transfer_id,
                          payment=json.dumps(payment, sort_keys=True) if payment else None)
    preview = text[:PREVIEW_CHARS]
    writes = [("save", message, (), MessageItem.pk.does_not_exist()),
              ("update", ConversationItem(*conversation_key(conv.id)),
               (ConversationItem.last_activity_at.set(at),), ConversationItem.pk.exists())]
    for member in conv.members:
        actions = [InboxItem.last_activity_at.set(at), InboxItem.gsi1_sk.set(inbox_activity_sort_key(at, conv.id)),
                   InboxItem.last_preview.set(preview)]
        actions.append(InboxItem.unread.set(0) if member == sender_id else InboxItem.unread.add(1))
        writes.append(("update", InboxItem(*inbox_key(member, conv.id)), tuple(actions), InboxItem.pk.exists()))
    return message, writes


def send(principal, conv_id: str, text: str) -> "records.Message":
    conv = require_member(principal.user_id, conv_id)
    message, writes = message_writes(conv, principal.user_id, principal.handle, text)
    tx = TaggedTransaction()
    for i, (op, model, actions, condition) in enumerate(writes):
        if op == "save":
            tx.save(i, model, condition=condition)
        else:
            tx.update(i, model, actions, condition=condition)
    failed = commit(tx, ATTEMPTS_MAX, busy_message=TRY_AGAIN)
    if set(failed) - {0}:  # a failed 0 (the message, a new id) is this transaction's own lost answer
        raise RuntimeError(f"unexpected refused conditions: {sorted(failed)}")
    return public_message(message)


def messages(principal, conv_id: str, limit: int,
             cursor_key: dict | None) -> tuple[list["records.Message"], dict | None]:
    """Newest first. Reading the first page marks the conversation read."""
    conv = require_member(principal.user_id, conv_id)
    pk = conversation_key(conv.id)[0]
    if cursor_key is not None and cursor_key.get("pk") != pk:
        raise errors.InvalidRequest("The cursor is not valid.", param="cursor")
    page = MessageItem.query(pk, MessageItem.sk.startswith(MESSAGE_PREFIX), scan_index_forward=False, limit=limit,
                             last_evaluated_key=base.key_from_plain(cursor_key),
                             consistent_read=True)
    items = [public_message(m) for m in page]
    if cursor_key is None:
        InboxItem(*inbox_key(principal.user_id, conv.id)).update(actions=[InboxItem.unread.set(0)],
                                                                 condition=InboxItem.pk.exists())
    key = page.last_evaluated_key
    return items, base.key_to_plain(key)


def conversations(principal, limit: int,
                  cursor_key: dict | None) -> tuple[list["records.Conversation"], dict | None]:
    """Most recent activity first, with the caller's unread counts."""
    partition = inbox_partition(principal.user_id)
    if cursor_key is not None and cursor_key.get("gsi1_pk") != partition:
        raise errors.InvalidRequest("The cursor is not valid.", param="cursor")
    page = InboxItem.by_activity.query(partition, scan_index_forward=False, limit=limit,
                                       last_evaluated_key=base.key_from_plain(cursor_key))
    inboxes = list(page)
    convs = {raw["id"]["S"]: ConversationItem.from_raw_data(raw)
             for raw in base.batch_get("posts", [conversation_key(i.conversation_id) for i in inboxes])}
    key = page.last_evaluated_key
    return ([public_conversation(convs[i.conversation_id], principal.user_id, i)
             for i in inboxes if i.conversation_id in convs],
            base.key_to_plain(key))
