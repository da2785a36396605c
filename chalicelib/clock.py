"""The only source of business time ("now") in Flock.

Business time drives interest, renewals, holds, loans and statements. In the
`dev` stage an operator may move it forward (the test clock); in `prod` it is
the real clock. Security time (token expiry, login throttling) never comes
from here: it is `real_now()`, so a test clock a year ahead logs no one out.
The offset lives in this process, which in `dev` is the single dev server.
"""
import threading
from datetime import datetime, timedelta, timezone

_lock = threading.Lock()
_offset = timedelta(0)
# Business time stays far from datetime's end (year 9999): past it, `now()`
# and every `now() + delta` would raise OverflowError for everyone.
LATEST = datetime(9000, 1, 1, tzinfo=timezone.utc)


def real_now() -> datetime:
    return datetime.now(timezone.utc)


def now() -> datetime:
    return real_now() + _offset


def today_iso() -> str:
    return now().date().isoformat()


def set_now(target: datetime) -> datetime:
    """Move business time to `target`; it only moves forward."""
    global _offset
    with _lock:
        current = now()
        try:
            target = target.astimezone(timezone.utc)
        except OverflowError:
            raise ValueError("the time is out of range") from None
        if target < current:
            raise ValueError("the test clock only moves forward")
        if target > LATEST:
            raise ValueError(f"the test clock stops at {iso(LATEST)}")
        _offset += target - current
        return now()


def advance_days(days: int) -> datetime:
    global _offset
    if days < 0:
        raise ValueError("the test clock only moves forward")
    with _lock:
        if days > (LATEST - now()).days:
            raise ValueError(f"the test clock stops at {iso(LATEST)}")
        _offset += timedelta(days=days)
        return now()


def reset() -> None:
    """Back to the real time; for tests only."""
    global _offset
    with _lock:
        _offset = timedelta(0)


def pin(moment: datetime) -> datetime:
    """Business time at `moment` now, earlier or later than the real time:
    for tests, which must not depend on the day they run, and for a dev
    server started at a stated time (FLOCK_CLOCK_START). Never from a route."""
    global _offset
    with _lock:
        _offset = moment.astimezone(timezone.utc) - real_now()
        return now()


def iso(moment: datetime) -> str:
    """ISO 8601 UTC with `Z` and millisecond precision: sorts as text."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
