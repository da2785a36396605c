"""Step-up: with 2FA on, a risky request needs a fresh TOTP code in the
`Flock-OTP` header, bound to that one request (PSD2 strong customer
authentication with dynamic linking, in spirit): the code is spent by the
request's own write, so it cannot authorise another.

Risky: a password or 2FA change, a card reveal, and money sent to a person
above `FLOCK_STEP_UP_CENTS` or to someone never paid before, or a
withdrawal above it (the money rule lives in finance/transfers.py, which
puts the code's `CodeUse` into the movement's own transaction).

Without a right code: 403 step_up_required, a `step_up_refused` security
event, and nothing moves or is stored. Codes presented are throttled like
login attempts per (handle, address), so a stolen access token is no
unthrottled way to guess codes.
"""
from chalicelib import errors
from chalicelib.identity import events, throttle, totp


def _refuse(principal, action: str, reason: str, **detail):
    events.log(principal.user_id, "step_up_refused", principal.client, action=action, reason=reason, **detail)
    raise errors.StepUpRequired()


def code_use(principal, action: str, **detail) -> totp.CodeUse:
    """The request's code as the update that spends it; 403 if absent or wrong."""
    code = principal.client.otp
    if code is None:
        _refuse(principal, action, "missing", **detail)
    throttle.count_attempt(principal.handle, principal.client.ip)
    use = totp.totp_use(totp.find(principal.user_id), principal.user_id, code)
    if use is None:
        _refuse(principal, action, "wrong_code", **detail)
    throttle.clear(principal.handle, principal.client.ip)
    return use


def require(principal, action: str, **detail) -> None:
    """For a change that is not money: spend the request's code now."""
    if not principal.mfa:
        return
    if not totp.spend(code_use(principal, action, **detail)):
        _refuse(principal, action, "code_used", **detail)
