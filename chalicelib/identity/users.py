"""People: signup, login, logout, profile, password change, and the
authentication of a bearer token into a Principal."""
import hashlib
import re
import secrets
from dataclasses import dataclass

from pynamodb.exceptions import DeleteError

from chalicelib import clock, errors, ids, lazy
from chalicelib.config import settings
from chalicelib.db import base
from chalicelib.db.transact import TaggedTransaction, commit
from chalicelib.db.users import HandleItem, MfaChallenge, TotpItem, UserItem, follower_shard_key
from chalicelib.identity import events, passwords, sessions, stepup, throttle, tokens, totp
from chalicelib.identity.client import NOBODY, Client

records = lazy.module("chalicelib.records.identity")

HANDLE = re.compile(r"\A[A-Za-z0-9_]{1,15}\Z")
SIGNUP_ATTEMPTS_MAX = 3
MFA_TOKEN_CHARS_MAX = 128


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


def follower_counts(users: list[UserItem]) -> dict[str, int]:
    """user id -> follower count. A celebrity's count is the user item's
    plus its shards (`db.users.FollowerShard`): one batch get for all the
    celebrities among `users`, none if there are none."""
    counts = {user.id: int(user.follower_count) for user in users}
    owners = {follower_shard_key(user.id, 0)[0]: user.id for user in users if user.celebrity}
    if owners:
        keys = [follower_shard_key(user_id, shard) for user_id in owners.values()
                for shard in range(settings().follower_count_shards)]
        for raw in base.batch_get("users", keys, consistent=True):
            counts[owners[raw["pk"]["S"]]] += int(raw.get("followers", {}).get("N", "0"))
    # The user item and its shards are read apart, so an unfollow counted on a
    # shard can be seen before the follow it undoes: never show fewer than none.
    return {user_id: max(0, count) for user_id, count in counts.items()}


def _user(user: UserItem, follower_count: int, **own) -> "records.User":
    return records.User(id=user.id, handle=user.handle, display_name=user.display_name, bio=user.bio,
                        verified=bool(user.verified), role=user.role, created_at=user.created_at,
                        follower_count=follower_count, following_count=int(user.following_count), **own)


def public_users(users: list[UserItem]) -> list["records.User"]:
    """The people as anyone may see them (profiles, lists, search)."""
    counts = follower_counts(users)
    return [_user(user, counts[user.id]) for user in users]


def public_user(user: UserItem) -> "records.User":
    return public_users([user])[0]


def own_user(user: UserItem) -> "records.User":
    """The person as they themselves and operators see them: also whether
    the account is frozen and whether two-step verification is on, which is
    nobody else's business."""
    return _user(user, follower_counts([user])[user.id], frozen=bool(user.frozen), two_factor=bool(user.mfa))


def session(user: UserItem, client: Client = NOBODY) -> "records.Session":
    """A new session for `user`: the person, an access token and a refresh token."""
    issued = sessions.start(user, client)
    return records.Session(user=own_user(user), token=issued.token, refresh_token=issued.refresh_token)


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


def _as_client(client: "Client | str") -> Client:
    return Client(ip=client) if isinstance(client, str) else client


def login(handle: str, password: str, client: "Client | str") -> "records.Session | records.MfaChallenge":
    """Throttled (identity/throttle.py) per (handle, address) and per handle,
    by the real clock. A right password starts a session, or with 2FA on
    answers an `mfa_token` for `finish_mfa`; the per-address count is
    cleared only when the sign-in completes."""
    client = _as_client(client)
    throttle.count_attempt(handle, client.ip)
    user = find_by_handle(handle)
    wait_s = throttle.handle_retry_after_s(handle, throttle.PASSWORD)
    if wait_s is not None and not (user and user.mfa):
        raise errors.RateLimited(retry_after_s=wait_s)
    ok = passwords.verify_password(user.password_hash if user else passwords.dummy_hash(), password)
    if not (user and ok):
        throttle.count_handle_failure(handle, throttle.PASSWORD)
        if user:
            events.log(user.id, "sign_in_failed", client, reason="wrong_password")
        raise errors.InvalidCredentials()
    if passwords.needs_rehash(user.password_hash):
        user.update(actions=[UserItem.password_hash.set(passwords.hash_password(password))])
    if user.mfa:
        return _mfa_challenge(user, client)
    throttle.clear(handle, client.ip)
    return session(user, client)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _mfa_challenge(user: UserItem, client: Client) -> "records.MfaChallenge":
    token = secrets.token_urlsafe(32)
    now_s = int(clock.real_now().timestamp())
    ttl_s = settings().mfa_token_ttl_s
    challenge = MfaChallenge.ref(_token_hash(token))
    challenge.user_id, challenge.handle, challenge.ip, challenge.user_agent = user.id, user.handle, client.ip, \
        client.user_agent
    challenge.expires_s, challenge.expires_at = now_s + ttl_s, now_s + ttl_s + 3600
    challenge.save(condition=MfaChallenge.pk.does_not_exist())
    return records.MfaChallenge(mfa_required=True, mfa_token=token)


def finish_mfa(mfa_token: str, code: str, client: Client) -> "records.Session":
    """The second step of a sign-in with 2FA: a TOTP code or a recovery code,
    each accepted once. The mfa_token is used up by this call whatever the
    code (a wrong code means signing in again), and wrong codes count toward
    the throttle of the address and of the handle."""
    invalid = errors.InvalidCredentials("The sign-in expired or the code is wrong; sign in again.")
    if not isinstance(mfa_token, str) or len(mfa_token) > MFA_TOKEN_CHARS_MAX:
        raise invalid
    key_hash = _token_hash(mfa_token)
    challenge = MfaChallenge.find(key_hash)
    if challenge is None:
        raise invalid
    try:  # used once: of two concurrent uses, one deletes it
        MfaChallenge.ref(key_hash).delete(condition=MfaChallenge.pk.exists())
    except DeleteError:
        raise invalid from None
    if int(challenge.expires_s) <= int(clock.real_now().timestamp()):
        raise invalid
    throttle.count_attempt(challenge.handle, client.ip)
    wait_s = throttle.handle_retry_after_s(challenge.handle, throttle.CODE)
    if wait_s is not None:
        raise errors.RateLimited(retry_after_s=wait_s)
    item = totp.find(challenge.user_id)
    use = totp.totp_use(item, challenge.user_id, code) or totp.recovery_use(item, challenge.user_id, code)
    if not totp.spend(use):
        throttle.count_handle_failure(challenge.handle, throttle.CODE)
        events.log(challenge.user_id, "sign_in_failed", client, reason="wrong_code")
        raise invalid
    throttle.clear(challenge.handle, client.ip)
    if use.kind == "recovery_code":
        events.log(challenge.user_id, "recovery_code_used", client,
                   recovery_codes_left=len((totp.find(challenge.user_id).recovery_hashes or ())))
    return session(require(challenge.user_id), client)


def enrol_totp(principal) -> "records.TotpEnrolment":
    """A secret to put in an authenticator; not active until confirmed. With
    2FA already on this is a 2FA change: 409 (disable first, with a code)."""
    enrolment = totp.enrol(principal.user_id, principal.handle)
    events.log(principal.user_id, "2fa_enrolled", principal.client)
    return enrolment


def confirm_totp(principal, code: str) -> "records.RecoveryCodes":
    """Turns 2FA on with a first code; answers the recovery codes, once."""
    item = totp.find(principal.user_id)
    if item is None or item.status != "pending":
        raise errors.InvalidState("There is no enrolment to confirm; start one with POST /v1/me/2fa/totp.")
    use = totp.totp_use(item, principal.user_id, code, status="pending")
    if use is None:
        raise errors.InvalidRequest("The code is not right.", param="code")
    codes = totp.new_recovery_codes()
    tx = TaggedTransaction()
    tx.update("totp", use.model, [*use.actions, TotpItem.status.set("active"),
                                  TotpItem.recovery_hashes.set({totp.recovery_hash(principal.user_id, c)
                                                                for c in codes})],
              condition=use.condition & (TotpItem.secret == item.secret))
    tx.update("user", UserItem.ref(principal.user_id), [UserItem.mfa.set(True)], condition=UserItem.pk.exists())
    tx.save("event", events.record(principal.user_id, "2fa_enabled", principal.client))
    if commit(tx):
        raise errors.InvalidRequest("The code is not right or was already used.", param="code")
    return records.RecoveryCodes(recovery_codes=codes)


def disable_totp(principal, password: str, code: str) -> None:
    """Turning 2FA off needs the password and a code (TOTP or recovery);
    both count as attempts of the address, as a login's do."""
    user = require(principal.user_id)
    item = totp.find(principal.user_id)
    if item is None or item.status != "active":
        raise errors.InvalidState("Two-factor authentication is not on.")
    throttle.count_attempt(user.handle, principal.client.ip)
    if not passwords.verify_password(user.password_hash, password):
        events.log(user.id, "sign_in_failed", principal.client, reason="wrong_current_password")
        raise errors.InvalidCredentials("The password is wrong.")
    use = totp.totp_use(item, user.id, code) or totp.recovery_use(item, user.id, code)
    if use is None:
        events.log(user.id, "step_up_refused", principal.client, action="2fa_disable", reason="wrong_code")
        raise errors.InvalidCredentials("The code is wrong.")
    tx = TaggedTransaction()
    tx.delete("totp", TotpItem.ref(user.id), condition=use.condition)
    tx.update("user", UserItem.ref(user.id), [UserItem.mfa.set(False)], condition=UserItem.pk.exists())
    tx.save("event", events.record(user.id, "2fa_disabled", principal.client))
    if commit(tx):
        raise errors.InvalidCredentials("The code was already used.")
    throttle.clear(user.handle, principal.client.ip)


def refresh(refresh_token: str, client: Client) -> "records.Tokens":
    issued = sessions.refresh(refresh_token, client)
    return records.Tokens(token=issued.token, refresh_token=issued.refresh_token)


def logout(user_id: str, session_id: str | None = None, client: Client = NOBODY) -> None:
    """Ends the caller's session; with no session named, every session."""
    if session_id:
        sessions.end(user_id, session_id, "logout", client)
    else:
        end_every_session(user_id, "logout", client)


def end_every_session(user_id: str, reason: str, client: Client) -> None:
    """Every session and every token of the person stop at once (the live
    set emptied, the token version bumped), then the records follow."""
    live = require(user_id).sessions
    UserItem.ref(user_id).update(actions=[UserItem.token_version.add(1), UserItem.sessions.remove()],
                                 condition=UserItem.pk.exists())
    ended = sessions.end_others(user_id, None, reason, live)
    events.log(user_id, "session_ended", client, reason=reason, sessions=ended)


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


def change_password(principal, current_password: str, new_password: str) -> "records.Session":
    """With 2FA on, a step-up code first (a stolen token and password are not
    enough). Guesses at the current password count as failed logins from the
    address: a stolen token is no unthrottled way to learn the password.
    Every other session ends with the change (in its transaction); the
    caller's goes on, and gets a fresh access token."""
    client = principal.client
    stepup.require(principal, "password_change")
    user = require(principal.user_id)
    throttle.count_attempt(user.handle, client.ip)
    if not passwords.verify_password(user.password_hash, current_password):
        events.log(user.id, "sign_in_failed", client, reason="wrong_current_password")
        raise errors.InvalidCredentials("The current password is wrong.")
    throttle.clear(user.handle, client.ip)
    session_id = principal.session_id
    keep = UserItem.sessions.set({session_id}) if session_id else UserItem.sessions.remove()
    tx = TaggedTransaction()
    tx.update("user", UserItem.ref(user.id), [UserItem.password_hash.set(passwords.hash_password(new_password)), keep],
              condition=UserItem.pk.exists())
    tx.save("event", events.record(user.id, "password_changed", client, session_id=session_id))
    if commit(tx):
        raise errors.NotFound()
    sessions.end_others(user.id, session_id, "password_changed", user.sessions)
    # No refresh token: the caller's session keeps the one it has.
    return records.Session(user=own_user(user), token=tokens.issue(user.id, user.role, int(user.token_version),
                                                                    session_id))


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
