"""The audit trail: every admin action, with who, when, what and why."""
import json

from chalicelib import clock, errors, ids, lazy
from chalicelib.db import base
from chalicelib.db.users import AUDIT_PARTITION, AuditRecord

records = lazy.module("chalicelib.records.identity")


def record(actor, action: str, target: str, reason: str | None, **details) -> AuditRecord:
    """The record to save, usually inside the action's own transaction."""
    return AuditRecord.new(id=ids.new_id("aud"), at=clock.iso(clock.real_now()), actor_id=actor.user_id,
                           actor_handle=actor.handle, action=action, target=target, reason=reason or "",
                           details=json.dumps(details, sort_keys=True))


def public_record(item: AuditRecord) -> "records.AuditRecord":
    return records.AuditRecord(id=item.id, at=item.at, actor=item.actor_handle, actor_id=item.actor_id,
                               action=item.action, target=item.target, reason=item.reason,
                               details=json.loads(item.details or "{}"))


def list_records(limit: int, cursor_key: dict | None) -> tuple[list["records.AuditRecord"], dict | None]:
    if cursor_key is not None and cursor_key.get("pk") != AUDIT_PARTITION:
        raise errors.InvalidRequest("The cursor is not valid.", param="cursor")
    last_key = base.key_from_plain(cursor_key)
    page = AuditRecord.query(AUDIT_PARTITION, scan_index_forward=False, limit=limit, last_evaluated_key=last_key)
    items = [public_record(r) for r in page]
    key = page.last_evaluated_key
    return items, base.key_to_plain(key)
