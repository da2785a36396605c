"""The security log a person can read (GET /v1/me/security-events): every
sign-in, failed sign-in, refresh-token reuse, ended session, password or 2FA
change, step-up refusal (and card reveal), with the client's address and
user agent. Stamped with the real clock; kept `EVENT_TTL_S`.

Types: sign_in, sign_in_failed, refresh_reuse, session_ended,
password_changed, 2fa_enrolled, 2fa_enabled, 2fa_disabled,
recovery_code_used, step_up_refused, card_reveal.
"""
import json

from chalicelib import clock, errors, ids, lazy
from chalicelib.db import base
from chalicelib.db.users import SecurityEventItem
from chalicelib.identity.client import Client

EVENT_TTL_S = 400 * 86400
DETAIL_CHARS_MAX = 2000

records = lazy.module("chalicelib.records.identity")


def record(user_id: str, event_type: str, client: Client, **detail) -> SecurityEventItem:
    """The event to save, alone (`log`) or inside the change's own transaction."""
    now = clock.real_now()
    text = json.dumps(detail, sort_keys=True, ensure_ascii=False)
    if len(text) > DETAIL_CHARS_MAX:
        raise ValueError("a security event's detail is small")
    return SecurityEventItem.new(user_id, ids.new_id("sev"), clock.iso(now), type=event_type, ip=client.ip,
                                 user_agent=client.user_agent, detail=text,
                                 expires_at=int(now.timestamp()) + EVENT_TTL_S)


def log(user_id: str, event_type: str, client: Client, **detail) -> None:
    record(user_id, event_type, client, **detail).save()


def public_event(item: SecurityEventItem) -> "records.SecurityEvent":
    return records.SecurityEvent(id=item.id, type=item.type, created_at=item.created_at, ip=item.ip,
                                 user_agent=item.user_agent, detail=json.loads(item.detail or "{}"))


def list_events(user_id: str, limit: int, cursor_key: dict | None) -> tuple[list["records.SecurityEvent"],
                                                                             dict | None]:
    """Newest first. A cursor names the partition it pages: only the caller's."""
    if cursor_key is not None and cursor_key.get("pk") != SecurityEventItem.partition(user_id):
        raise errors.InvalidRequest("The cursor is not valid.", param="cursor")
    page = SecurityEventItem.page(user_id, limit, base.key_from_plain(cursor_key))
    items = [public_event(e) for e in page]
    return items, base.key_to_plain(page.last_evaluated_key)
