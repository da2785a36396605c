"""Helpers for the 2FA tests: TOTP codes at a fixed, stated time.

The TOTP step is taken from `T0` (Tuesday 10 March 2026, 15:00:10 UTC) and
moved by the tests, never from the day the suite runs; tokens and throttling
keep the real clock (PyJWT checks `exp` against it).
"""
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from unittest import mock

import pyotp

T0 = datetime(2026, 3, 10, 15, 0, 10, tzinfo=timezone.utc)


class TotpTime:
    """The time TOTP codes are checked at; `advance(seconds)` moves it."""

    def __init__(self, start: datetime = T0):
        self.now = start

    def step(self) -> int:
        return int(self.now.timestamp()) // 30

    def advance(self, seconds: int) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@contextmanager
def totp_time(start: datetime = T0):
    from chalicelib.identity import totp
    at = TotpTime(start)
    with mock.patch.object(totp, "_step_now", at.step):
        yield at


def code(secret: str, moment: datetime) -> str:
    return pyotp.TOTP(secret).at(moment)


def enable_2fa(api, handle: str, at: TotpTime) -> dict:
    """Enrol and confirm at `at`; answers {secret, recovery_codes}."""
    r = api.call("POST", "/v1/me/2fa/totp", as_=handle)
    assert r.status_code == 200, r.body
    secret = r.json_body["secret"]
    r = api.call("POST", "/v1/me/2fa/totp/confirm", {"code": code(secret, at.now)}, as_=handle)
    assert r.status_code == 200, r.body
    return {"secret": secret, "recovery_codes": r.json_body["recovery_codes"]}
