"""Sessions: one per sign-in, with short access tokens and single-use,
rotating refresh tokens (OAuth 2.0 Security BCP, refresh token rotation).

- Signing in starts a session: an access token (15 min, carrying the session
  id `sid`) and a refresh token (30 days). The refresh token is opaque to the
  client: `<user id>.<session id>.<generation>.<random>.<tag>`, where the tag
  is a keyed MAC of the rest, so a token Flock issued is recognised without
  storing it; only its SHA-256 is stored, and only the current one.
- `refresh` trades the current refresh token for a new pair and moves the
  session to the next generation, with a condition on the generation it read.
  A genuine refresh token of an earlier generation is a used one: presenting
  it again ends the whole session (reuse detection), its access token
  included, and is a security event. Two refreshes of one token at once: one
  wins the conditional update, the other is then a reuse, so the session ends
  for both — Flock cannot tell a client's double send from a thief racing the
  owner, and the BCP says to end the family.
- The user item keeps the ids of the live sessions (`UserItem.sessions`).
  The token check reads the user item anyway, so an ended session's access
  token is refused at once at no extra read, and a money transaction can
  hold the same fact as a ConditionCheck on the user item.

Times are the real clock's (security time), never the business test clock.
"""
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from pynamodb.exceptions import UpdateError

from chalicelib import clock, errors, ids, lazy
from chalicelib.config import settings
from chalicelib.db.transact import TaggedTransaction, commit
from chalicelib.db.users import SessionItem, UserItem
from chalicelib.identity import events, keys, tokens
from chalicelib.identity.client import Client

SESSION_KEEP_S = 7 * 86400  # an ended or expired session stays listed for the record this long (TTL)
REFRESH_TOKEN_CHARS_MAX = 512
TAG_CHARS = 32

records = lazy.module("chalicelib.records.identity")


@dataclass(frozen=True)
class Issued:
    """Tokens of a session: `token` (access) and `refresh_token`."""
    session_id: str
    token: str
    refresh_token: str


def _now_s() -> int:
    return int(clock.real_now().timestamp())


def _tag(body: str) -> str:
    return hmac.new(keys.derived_key("refresh-token"), body.encode(), hashlib.sha256).hexdigest()[:TAG_CHARS]


def _refresh_token(user_id: str, session_id: str, generation: int) -> str:
    body = f"{user_id}.{session_id}.{generation}.{secrets.token_urlsafe(32)}"
    return f"{body}.{_tag(body)}"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class _Parsed:
    user_id: str
    session_id: str
    generation: int


def _parse(token: str) -> _Parsed:
    """A refresh token Flock issued, or 401: a forged one ends nothing."""
    bad = errors.Unauthenticated("The refresh token is invalid or expired.")
    if not isinstance(token, str) or len(token) > REFRESH_TOKEN_CHARS_MAX or token.count(".") != 4:
        raise bad
    body, _, tag = token.rpartition(".")
    if not hmac.compare_digest(tag, _tag(body)):
        raise bad
    user_id, session_id, generation, _ = body.split(".")
    if not generation.isdigit():
        raise bad
    return _Parsed(user_id, session_id, int(generation))


def start(user: UserItem, client: Client) -> Issued:
    """A new session for `user`, recorded with a `sign_in` event in one transaction."""
    _make_room(user, client)
    s = settings()
    now = clock.real_now()
    now_s = int(now.timestamp())
    session_id = ids.new_id("sess")
    refresh = _refresh_token(user.id, session_id, 0)
    item = SessionItem.new(user.id, session_id,
                       created_at=clock.iso(now), last_used_at=clock.iso(now), user_agent=client.user_agent,
                       ip=client.ip, generation=0, refresh_hash=_hash(refresh),
                       refresh_expires_s=now_s + s.refresh_ttl_s,
                       expires_at=now_s + s.refresh_ttl_s + SESSION_KEEP_S)
    tx = TaggedTransaction()
    tx.save("session", item, condition=SessionItem.pk.does_not_exist())
    tx.update("user", UserItem.ref(user.id), [UserItem.sessions.add({session_id})], condition=UserItem.pk.exists())
    tx.save("event", events.record(user.id, "sign_in", client, session_id=session_id))
    refused = commit(tx)
    if refused:
        raise errors.Unauthenticated("The sign-in could not be completed; sign in again.")
    return Issued(session_id, tokens.issue(user.id, user.role, int(user.token_version), session_id), refresh)


def _make_room(user: UserItem, client: Client) -> None:
    """At most `sessions_max` live sessions: the sessions whose refresh token
    has expired are dropped from the live set, then the least recently used."""
    live = set(user.sessions or ())
    limit = settings().sessions_max
    if len(live) < limit:
        return
    now_s = _now_s()
    found = {item.id: item for item in SessionItem.find_many(user.id, live)}
    stale = [sid for sid in live if sid not in found or found[sid].ended_at
             or int(found[sid].refresh_expires_s) <= now_s]
    if stale:
        UserItem.ref(user.id).update(actions=[UserItem.sessions.delete(set(stale))])
        live -= set(stale)
    if len(live) >= limit:
        oldest = min(live, key=lambda sid: found[sid].last_used_at)
        end(user.id, oldest, "too_many_sessions", client)


def refresh(token: str, client: Client) -> Issued:
    parsed = _parse(token)
    session = SessionItem.find(parsed.user_id, parsed.session_id)
    if session is None or session.ended_at:
        raise errors.Unauthenticated("The session has ended.")
    if parsed.generation < int(session.generation):
        _reuse(session, parsed, client)
    if parsed.generation != int(session.generation) or not hmac.compare_digest(_hash(token), session.refresh_hash) \
            or int(session.refresh_expires_s) <= _now_s():
        raise errors.Unauthenticated("The refresh token is invalid or expired.")
    user = UserItem.find(parsed.user_id)
    if user is None or session.id not in (user.sessions or ()):
        raise errors.Unauthenticated("The session has ended.")
    s = settings()
    now = clock.real_now()
    now_s = int(now.timestamp())
    new_refresh = _refresh_token(user.id, session.id, parsed.generation + 1)
    tx = TaggedTransaction()
    tx.update("session", SessionItem.ref(user.id, session.id),
              [SessionItem.generation.set(parsed.generation + 1), SessionItem.refresh_hash.set(_hash(new_refresh)),
               SessionItem.refresh_expires_s.set(now_s + s.refresh_ttl_s), SessionItem.last_used_at.set(clock.iso(now)),
               SessionItem.ip.set(client.ip), SessionItem.user_agent.set(client.user_agent),
               SessionItem.expires_at.set(now_s + s.refresh_ttl_s + SESSION_KEEP_S)],
              condition=(SessionItem.generation == parsed.generation) & SessionItem.ended_at.does_not_exist())
    tx.check("user", UserItem.ref(user.id), condition=UserItem.sessions.contains(session.id))
    refused = commit(tx)
    if "session" in refused:
        # Rotated by another request since it was read: this token was used
        # twice (two refreshes at once, or a thief racing the owner).
        _reuse(SessionItem.find(user.id, session.id) or session, parsed, client)
    if refused:
        raise errors.Unauthenticated("The session has ended.")
    return Issued(session.id, tokens.issue(user.id, user.role, int(user.token_version), session.id), new_refresh)


def _reuse(session: SessionItem, parsed: _Parsed, client: Client):
    """A used refresh token came back: end the session, say so, refuse."""
    if not session.ended_at:
        end(parsed.user_id, session.id, "refresh_reuse", client, event=False)
    events.log(parsed.user_id, "refresh_reuse", client, session_id=session.id, generation=parsed.generation)
    raise errors.Unauthenticated("This refresh token was already used; the session has ended.")


def end(user_id: str, session_id: str, reason: str, client: Client, event: bool = True) -> bool:
    """End one session at once: out of the live set (its access token stops)
    and marked ended, in one transaction. False if it was not live."""
    tx = TaggedTransaction()
    tx.update("session", SessionItem.ref(user_id, session_id),
              [SessionItem.ended_at.set(clock.iso(clock.real_now())), SessionItem.end_reason.set(reason)],
              condition=SessionItem.pk.exists() & SessionItem.ended_at.does_not_exist())
    tx.update("user", UserItem.ref(user_id), [UserItem.sessions.delete({session_id})],
              condition=UserItem.pk.exists())
    if event:
        tx.save("event", events.record(user_id, "session_ended", client, session_id=session_id, reason=reason))
    return not commit(tx)


def end_others(user_id: str, keep_session_id: str | None, reason: str, live_ids) -> int:
    """Mark the sessions `live_ids` (the live set as read before the
    caller's change) ended, but `keep_session_id`. The live set is the truth
    and its change is the caller's, in the caller's own transaction: a token
    or refresh token of a session out of the set is refused whatever its
    record says; this brings the records in line. Returns how many it ended."""
    ended = 0
    stamp = clock.iso(clock.real_now())
    for item in SessionItem.find_many(user_id, set(live_ids or ()) - {keep_session_id}):
        if item.id == keep_session_id or item.ended_at:
            continue
        try:
            item.update(actions=[SessionItem.ended_at.set(stamp), SessionItem.end_reason.set(reason)],
                        condition=SessionItem.ended_at.does_not_exist())
            ended += 1
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise  # else: ended meanwhile
    return ended


def public_session(item: SessionItem, current_session_id: str) -> "records.DeviceSession":
    return records.DeviceSession(id=item.id, created_at=item.created_at, last_used_at=item.last_used_at,
                                 user_agent=item.user_agent, ip=item.ip, current=item.id == current_session_id)


def list_sessions(user_id: str, current_session_id: str) -> list["records.DeviceSession"]:
    """The live sessions, most recently used first (at most `sessions_max`
    are live, so one page holds them all)."""
    user = UserItem.find(user_id)
    live = set(user.sessions or ()) if user else set()
    now_s = _now_s()
    items = [i for i in SessionItem.find_many(user_id, live)
             if not i.ended_at and int(i.refresh_expires_s) > now_s]
    items.sort(key=lambda i: i.last_used_at, reverse=True)
    return [public_session(i, current_session_id) for i in items]


def end_by_owner(user_id: str, session_id: str, client: Client) -> None:
    """DELETE /v1/me/sessions/{id}: another person's session id, or one
    already ended, is a 404."""
    if not (isinstance(session_id, str) and session_id.startswith("sess_") and len(session_id) <= 64):
        raise errors.NotFound("No such session.")
    if not end(user_id, session_id, "ended_by_owner", client):
        raise errors.NotFound("No such session.")
