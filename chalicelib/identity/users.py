"""People: signup, login, logout, profile, password change, and the
authentication of a bearer token into a Principal."""
import re
import time
from dataclasses import dataclass

from pynamodb.exceptions import PutError, UpdateError

from chalicelib import clock, errors, ids
from chalicelib.config import settings
from chalicelib.db.transact import TaggedTransaction, commit
from chalicelib.db.users import HandleItem, LoginFailures, UserItem, login_key
from chalicelib.identity import passwords, tokens

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
    """
    user_id: str
    handle: str
    role: str
    verified: bool
    frozen: bool
    account_id: str | None
    celebrity_follows: frozenset = frozenset()


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


def session(user: UserItem) -> dict:
    return {"user": own_user(user), "token": tokens.issue(user.id, user.role, int(user.token_version))}


def create_user(handle: str, password: str, display_name: str | None = None, role: str = "user") -> UserItem:
    """Claims the handle and creates the person in one transaction: two
    concurrent signups of one handle give one user and one HandleTaken.
    Finding them in search is social's (social/people.py)."""
    user = UserItem.new(id=ids.new_id("usr"), handle=handle, display_name=display_name or handle,
                        password_hash=passwords.hash_password(password), role=role,
                        created_at=clock.iso(clock.now()))
    tx = TaggedTransaction()
    tx.save("handle", HandleItem.new(handle, user.id), condition=HandleItem.pk.does_not_exist())
    tx.save("user", user, condition=UserItem.pk.does_not_exist())
    # A conflict is another signup of this handle in flight: trying again
    # decides whether this one is taken or may go ahead.
    if commit(tx, SIGNUP_ATTEMPTS_MAX, busy_message="Many signups of this handle at once; try again."):
        raise errors.HandleTaken(param="handle")
    return user


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


def login(handle: str, password: str, address: str) -> dict:
    """Throttled per (handle, address), by the real clock: a stranger's wrong
    guesses elsewhere cannot lock the owner out."""
    _count_attempt(handle, address)
    user = find_by_handle(handle)
    ok = passwords.verify_password(user.password_hash if user else passwords.dummy_hash(), password)
    if not (user and ok):
        raise errors.InvalidCredentials()
    LoginFailures(*login_key(handle, address)).delete()
    if passwords.needs_rehash(user.password_hash):
        user.update(actions=[UserItem.password_hash.set(passwords.hash_password(password))])
    return session(user)


def logout(user_id: str) -> None:
    _bump_token_version(user_id)


def _bump_token_version(user_id: str, *extra_actions) -> UserItem:
    user = UserItem.ref(user_id)
    user.update(actions=[UserItem.token_version.add(1), *extra_actions], condition=UserItem.pk.exists())
    return user


def change_profile(user_id: str, display_name: str | None = None, bio: str | None = None) -> tuple[UserItem, str]:
    """The person after the change, and their display name before it."""
    actions = []
    if display_name is not None:
        actions.append(UserItem.display_name.set(display_name))
    if bio is not None:
        actions.append(UserItem.bio.set(bio))
    user = require(user_id)
    old_display_name = user.display_name
    if actions:
        user.update(actions=actions, condition=UserItem.pk.exists())
    return user, old_display_name


def change_password(user_id: str, current_password: str, new_password: str, address: str = "unknown") -> dict:
    """Guesses at the current password count as failed logins from the
    address: a stolen token is no unthrottled way to learn the password."""
    user = require(user_id)
    _count_attempt(user.handle, address)
    if not passwords.verify_password(user.password_hash, current_password):
        raise errors.InvalidCredentials("The current password is wrong.")
    LoginFailures(*login_key(user.handle, address)).delete()
    user.update(actions=[UserItem.password_hash.set(passwords.hash_password(new_password)),
                         UserItem.token_version.add(1)])
    return session(user)


def authenticate(token: str) -> Principal:
    """One consistent read: a revoked token (logout, password change,
    freeze) stops working at once."""
    claims = tokens.verify(token)
    user = UserItem.find(claims.user_id)
    if user is None or int(user.token_version) != claims.token_version:
        raise errors.Unauthenticated("The token has been revoked.")
    return Principal(user_id=user.id, handle=user.handle, role=user.role, verified=bool(user.verified),
                     frozen=bool(user.frozen), account_id=user.account_id,
                     celebrity_follows=frozenset(user.celebrity_follows or ()))
