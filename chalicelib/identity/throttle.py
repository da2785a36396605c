"""Login throttling that cannot be dodged (NIST SP 800-63B, 5.2.2), by the
real clock.

- Per (handle, address): every attempt at a password or a one-time code is
  counted before it is checked, in one conditional write; past
  `login_failures_max` in `login_window_s` the address gets 429 for that
  handle. The address is the gateway's (API Gateway's sourceIp, the dev
  server's socket peer), never a header the client sets. A completed sign-in
  clears the count, so only failures accumulate.
- Per handle, across all addresses: failures are counted too, and past
  `login_handle_failures_max` a password is no longer even checked for a
  person without a second factor, so credential stuffing from many addresses
  slows down as well. A person with 2FA is not locked out by it: the password
  step stays open to them (a right password alone gets an mfa_token, no
  session), and wrong second-factor codes have their own per-handle count,
  which only someone who knows the password can raise.
"""
import time

from pynamodb.exceptions import PutError, UpdateError

from chalicelib import errors
from chalicelib.config import settings
from chalicelib.db.users import LoginFailures, LoginHandleFailures, login_key

PASSWORD = "password"
CODE = "code"
ATTEMPTS_MAX = 3  # tries of the conditional write under contention; then refuse (the safe side)


def _conditional_failure(exc) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def count_attempt(handle: str, address: str) -> None:
    """Counts this attempt against (handle, address) before the secret is
    checked, or refuses it with 429. Counting first means concurrent guesses
    cannot all pass a read-then-check: at most `login_failures_max` attempts
    per window reach the check. A success clears the count (`clear`)."""
    s = settings()
    key = login_key(handle, address)
    for _ in range(ATTEMPTS_MAX):
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
    raise errors.RateLimited(retry_after_s=1)


def clear(handle: str, address: str) -> None:
    LoginFailures(*login_key(handle, address)).delete()


def handle_retry_after_s(handle: str, kind: str) -> int | None:
    """Seconds until the handle's window ends if its ceiling is reached, else None."""
    s = settings()
    record = LoginHandleFailures.find(handle, kind)
    now_s = int(time.time())
    if record is None or int(record.window_start_s) <= now_s - s.login_window_s:
        return None
    if int(record.failures) < s.login_handle_failures_max:
        return None
    return max(1, int(record.window_start_s) + s.login_window_s - now_s)


def count_handle_failure(handle: str, kind: str) -> None:
    """One more failure for the handle from any address (best effort under
    contention: the per-address count is the exact one)."""
    s = settings()
    now_s = int(time.time())
    window_open_since = now_s - s.login_window_s
    try:
        LoginHandleFailures.ref(handle, kind).update(actions=[LoginHandleFailures.failures.add(1)],
                                                     condition=LoginHandleFailures.window_start_s > window_open_since)
        return
    except UpdateError as exc:
        if not _conditional_failure(exc):
            raise
    try:
        record = LoginHandleFailures.ref(handle, kind)
        record.failures, record.window_start_s, record.expires_at = 1, now_s, now_s + s.login_window_s
        record.save(condition=LoginHandleFailures.pk.does_not_exist()
                    | (LoginHandleFailures.window_start_s <= window_open_since))
    except PutError as exc:
        if not _conditional_failure(exc):
            raise  # else: another failure opened the window meanwhile
