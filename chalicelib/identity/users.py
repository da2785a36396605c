"""People: signup, login, logout, profile, password change, and the
authentication of a bearer token into a Principal."""
import re
import time
from dataclasses import dataclass

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib import clock, errors, ids
from chalicelib.config import settings
from chalicelib.db.base import TaggedTransaction, connection
from chalicelib.db.users import HandleItem, LoginFailures, UserItem, login_key
from chalicelib.identity import events, passwords, sessions, tokens
from chalicelib.identity.client import NOBODY, Client
from chalicelib.social import search

HANDLE = re.compile(r"\A[A-Za-z0-9_]{1,15}\Z")
SIGNUP_ATTEMPTS_MAX = 3


@dataclass(frozen=True)
class Principal:
    """The authenticated caller.

    Attributes:
      user_id, handle, role: who calls; role is "user" or "admin".
      verified: KYC done; only verified people hold a money account.
      frozen: an operator froze the person; money moves nothing.
      account_id: the money account, None until verified.
      celebrity_follows: ids of the celebrity authors this person follows
        (their posts are merged into the timeline at read time).
      session_id: the session the token belongs to ("" for none).
      mfa: the person has a confirmed second factor (step-up applies).
      client: the request's address, user agent and one-time code.
    """
    user_id: str
    handle: str
    role: str
    verified: bool
    frozen: bool
    account_id: str | None
    celebrity_follows: frozenset = frozenset()
    session_id: str = ""
    mfa: bool = False
    client: Client = NOBODY


def public_user(user: UserItem) -> dict:
    """The person as anyone may see them (profiles, lists, search)."""
    return {
        "id": user.id, "handle": user.handle, "display_name": user.display_name, "bio": user.bio,
        "verified": bool(user.verified), "role": user.role,
        "created_at": user.created_at,
        "follower_count": int(user.follower_count), "following_count": int(user.following_count),
    }


def own_user(user: UserItem) -> dict:
    """The person as they themselves and operators see them: also whether
    the account is frozen, which is nobody else's business."""
    return {**public_user(user), "frozen": bool(user.frozen)}


def _signed_in(user: UserItem, client: Client, extras: tuple = ()) -> dict:
    issued = sessions.start(user, client, extras)
    return {"user": own_user(user), "token": issued.token, "refresh_token": issued.refresh_token}


def create_user(handle: str, password: str, display_name: str | None = None, role: str = "user") -> UserItem:
    """Claims the handle and creates the person in one transaction: two
    concurrent signups of one handle give one user and one HandleTaken."""
    user = UserItem.new(id=ids.new_id("usr"), handle=handle, display_name=display_name or handle,
                        password_hash=passwords.hash_password(password), role=role,
                        created_at=clock.iso(clock.now()))
    for _ in range(SIGNUP_ATTEMPTS_MAX):
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.save(HandleItem.new(handle, user.id), condition=HandleItem.pk.does_not_exist())
                tx.save(user, condition=UserItem.pk.does_not_exist())
            break
        except TransactWriteError as exc:
            codes = {r.code for r in exc.cancellation_reasons if r is not None} \
                if exc.cause_response_code == "TransactionCanceledException" else set()
            if "ConditionalCheckFailed" in codes:
                raise errors.HandleTaken(param="handle") from None
            if codes != {"TransactionConflict"}:
                raise
            # another signup of this handle is in flight: look again, it
            # decides whether this one is taken or may go ahead
    else:
        raise errors.Unavailable("Many signups of this handle at once; try again.")
    search.index_user(user.id, user.handle, user.display_name)
    return user


def signup(handle: str, password: str, display_name: str | None = None, client: Client = NOBODY) -> dict:
    return _signed_in(create_user(handle, password, display_name), client)


def is_handle(text) -> bool:
    return isinstance(text, str) and HANDLE.match(text) is not None


def find_by_handle(handle: str) -> UserItem | None:
    """None for a string that cannot be a handle (from a path, say), without
    asking DynamoDB: an over-long key would be a ValidationException there."""
    if not is_handle(handle):
        return None
    claim = HandleItem.find(handle)
    return UserItem.find(claim.user_id) if claim else None


def require_by_handle(handle: str) -> UserItem:
    user = find_by_handle(handle)
    if user is None:
        raise errors.NotFound(f"No user @{handle}." if is_handle(handle) else "No such user.")
    return user


def require(user_id: str) -> UserItem:
    user = UserItem.find(user_id)
    if user is None:
        raise errors.NotFound()
    return user


def _conditional_failure(exc) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def _count_attempt(handle: str, address: str) -> None:
    """Counts this attempt against (handle, address) before the password is
    checked, in one conditional write, or refuses it with 429. Counting first
    means concurrent guesses cannot all pass a read-then-check: at most
    `login_failures_max` attempts per window reach the password. A success
    deletes the count (`login`), so only failures accumulate."""
    s = settings()
    key = login_key(handle, address)
    for _ in range(3):
        now_s = int(time.time())
        window_open_since = now_s - s.login_window_s
        try:
            LoginFailures(*key).update(
                actions=[LoginFailures.failures.add(1)],
                condition=(LoginFailures.window_start_s > window_open_since)
                & (LoginFailures.failures < s.login_failures_max))
            return
        except UpdateError as exc:
            if not _conditional_failure(exc):
                raise
        record = LoginFailures.find(handle, address)
        if record is not None and record.window_start_s > window_open_since:
            if record.failures >= s.login_failures_max:
                raise errors.RateLimited(retry_after_s=int(record.window_start_s) + s.login_window_s - now_s)
            continue  # changed since the update: count again
        try:  # no window, or an expired one: open a new one with this attempt
            LoginFailures(*key, failures=1, window_start_s=now_s, expires_at=now_s + s.login_window_s).save(
                condition=LoginFailures.pk.does_not_exist() | (LoginFailures.window_start_s <= window_open_since))
            return
        except PutError as exc:
            if not _conditional_failure(exc):
                raise
    raise errors.RateLimited(retry_after_s=1)  # contended; refusing is the safe side


def _as_client(client: "Client | str") -> Client:
    return Client(ip=client) if isinstance(client, str) else client


def login(handle: str, password: str, client: "Client | str") -> dict:
    """Throttled per (handle, address), by the real clock: a stranger's wrong
    guesses elsewhere cannot lock the owner out. A success starts a session."""
    client = _as_client(client)
    _count_attempt(handle, client.ip)
    user = find_by_handle(handle)
    ok = passwords.verify_password(user.password_hash if user else passwords.dummy_hash(), password)
    if not (user and ok):
        if user:
            events.log(user.id, "sign_in_failed", client, reason="wrong_password")
        raise errors.InvalidCredentials()
    LoginFailures(*login_key(handle, client.ip)).delete()
    if passwords.needs_rehash(user.password_hash):
        user.update(actions=[UserItem.password_hash.set(passwords.hash_password(password))])
    return _signed_in(user, client)


def refresh(refresh_token: str, client: Client) -> dict:
    issued = sessions.refresh(refresh_token, client)
    return {"token": issued.token, "refresh_token": issued.refresh_token}


def logout(user_id: str, session_id: str | None = None, client: Client = NOBODY) -> None:
    """Ends the caller's session; with no session named, every session."""
    if session_id:
        sessions.end(user_id, session_id, "logout", client)
    else:
        end_every_session(user_id, "logout", client)


def end_every_session(user_id: str, reason: str, client: Client) -> None:
    """Every session and every token of the person stop at once (the live
    set emptied, the token version bumped), then the records follow."""
    UserItem.ref(user_id).update(actions=[UserItem.token_version.add(1), UserItem.sessions.remove()],
                                 condition=UserItem.pk.exists())
    ended = sessions.end_others(user_id, None, reason)
    events.log(user_id, "session_ended", client, reason=reason, sessions=ended)


def update_profile(user_id: str, display_name: str | None = None, bio: str | None = None) -> dict:
    actions = []
    if display_name is not None:
        actions.append(UserItem.display_name.set(display_name))
    if bio is not None:
        actions.append(UserItem.bio.set(bio))
    user = require(user_id)
    old_display_name = user.display_name
    if actions:
        user.update(actions=actions, condition=UserItem.pk.exists())
        search.index_user(user.id, user.handle, user.display_name, old_display_name)
    return own_user(user)


def change_password(user_id: str, session_id: str, current_password: str, new_password: str,
                    client: "Client | str" = NOBODY) -> dict:
    """Guesses at the current password count as failed logins from the
    address: a stolen token is no unthrottled way to learn the password.
    Every other session ends with the change (in its transaction); the
    caller's goes on, and gets a fresh access token."""
    client = _as_client(client)
    user = require(user_id)
    _count_attempt(user.handle, client.ip)
    if not passwords.verify_password(user.password_hash, current_password):
        events.log(user.id, "sign_in_failed", client, reason="wrong_current_password")
        raise errors.InvalidCredentials("The current password is wrong.")
    LoginFailures(*login_key(user.handle, client.ip)).delete()
    keep = UserItem.sessions.set({session_id}) if session_id else UserItem.sessions.remove()
    tx = TaggedTransaction()
    tx.update("user", UserItem.ref(user.id), [UserItem.password_hash.set(passwords.hash_password(new_password)), keep],
              condition=UserItem.pk.exists())
    tx.save("event", events.record(user.id, "password_changed", client, session_id=session_id))
    if tx.commit_or_refusals():
        raise errors.NotFound()
    sessions.end_others(user.id, session_id, "password_changed")
    return {"user": own_user(user), "token": tokens.issue(user.id, user.role, int(user.token_version), session_id)}


def authenticate(token: str, client: Client = NOBODY) -> Principal:
    """One consistent read: a revoked token (its session ended, the person
    frozen) stops working at once."""
    claims = tokens.verify(token)
    user = UserItem.find(claims.user_id)
    if user is None or int(user.token_version) != claims.token_version \
            or claims.session_id not in (user.sessions or ()):
        raise errors.Unauthenticated("The token has been revoked.")
    return Principal(user_id=user.id, handle=user.handle, role=user.role, verified=bool(user.verified),
                     frozen=bool(user.frozen), account_id=user.account_id,
                     celebrity_follows=frozenset(user.celebrity_follows or ()), session_id=claims.session_id,
                     mfa=bool(user.mfa), client=client)
