"""Routes of Identity (API.md): signup, login, logout, me, admin actions on
people, and Security of the person: sessions, refresh, security events."""
from chalice import Blueprint

from chalicelib import http, lazy
from chalicelib.finance import customers
from chalicelib.identity import events, sessions, users
from chalicelib.identity.users import authenticate
from chalicelib.social import people

bp = Blueprint(__name__)
# The request models, and pydantic with them, load on the first request that needs one.
inputs = lazy.module("chalicelib.api.inputs.identity")
route = http.routes(bp, authenticate, inputs)


@route("/v1/auth/signup", methods=["POST"], auth=False, status=201, body="Signup")
def signup(req):
    """Create an account and sign in."""
    return people.signup(req.data.handle, req.data.password, req.data.display_name, req.client)


@route("/v1/auth/login", methods=["POST"], auth=False, body="Login")
def login(req):
    """Sign in with handle and password.

    Answers a session, or, with two-factor authentication on, a challenge to finish at `/v1/auth/mfa`.
    """
    return users.login(req.data.handle, req.data.password, req.client)


@route("/v1/auth/mfa", methods=["POST"], auth=False, body="Mfa")
def finish_mfa(req):
    """Finish a sign-in with a TOTP or recovery code."""
    return users.finish_mfa(req.data.mfa_token, req.data.code, req.client)


@route("/v1/me/2fa/totp", methods=["POST"])
def enrol_totp(req):
    """Start enrolling a TOTP authenticator; confirm it with a code."""
    return users.enrol_totp(req.principal)


@route("/v1/me/2fa/totp/confirm", methods=["POST"], body="TotpCode")
def confirm_totp(req):
    """Confirm a TOTP authenticator with a code; answers the recovery codes, once."""
    return users.confirm_totp(req.principal, req.data.code)


@route("/v1/me/2fa", methods=["DELETE"], body="DisableTwoFactor")
def disable_totp(req):
    """Turn off two-factor authentication.

    Needs the password and a current code (or a recovery code).
    """
    users.disable_totp(req.principal, req.data.password, req.data.code)
    return http.Reply(None, 204)


@route("/v1/auth/refresh", methods=["POST"], auth=False, body="Refresh")
def refresh(req):
    """Trade a refresh token for a new token pair.

    A refresh token works once; reusing a spent one ends its session.
    """
    return users.refresh(req.data.refresh_token, req.client)


@route("/v1/auth/logout", methods=["POST"])
def logout(req):
    """End the caller's current session."""
    users.logout(req.principal.user_id, req.principal.session_id, req.client)
    return http.Reply(None, 204)


@route("/v1/me/sessions")
def list_sessions(req):
    """The caller's signed-in devices."""
    return {"data": sessions.list_sessions(req.principal.user_id, req.principal.session_id), "next_cursor": None}


@route("/v1/me/sessions/{session_id}", methods=["DELETE"])
def end_session(req, session_id):
    """Sign one of the caller's devices out."""
    sessions.end_by_owner(req.principal.user_id, session_id, req.client)
    return http.Reply(None, 204)


@route("/v1/me/security-events", query="Page")
def security_events(req):
    """The caller's security log, newest first."""
    items, key = events.list_events(req.principal.user_id, req.params.limit, http.decode_cursor(req.params.cursor))
    return {"data": items, "next_cursor": http.encode_cursor(key)}


@route("/v1/me")
def get_me(req):
    """The caller's own profile."""
    return users.own_user(users.require(req.principal.user_id))


@route("/v1/me", methods=["PATCH"], body="PatchMe")
def patch_me(req):
    """Change the caller's display name or bio."""
    return people.update_profile(req.principal.user_id, req.data.display_name, req.data.bio)


@route("/v1/me/password", methods=["POST"], body="ChangePassword")
def change_password(req):
    """Change the caller's password; other sessions end."""
    return users.change_password(req.principal, req.data.current_password, req.data.new_password)


@route("/v1/users/{handle}")
def get_user(req, handle):
    """A person's public profile."""
    return users.public_user(users.require_by_handle(handle))


@route("/v1/admin/users/{handle}/verify", methods=["POST"], admin=True, body="AdminReason", body_required=False)
def verify(req, handle):
    """Mark a person as verified (KYC passed), opening their money account."""
    return customers.verify(req.principal, handle, req.data.reason)


@route("/v1/admin/users/{handle}/freeze", methods=["POST"], admin=True, body="AdminReason", body_required=False)
def freeze(req, handle):
    """Freeze a person and their money account.

    Their sessions end and their account moves nothing until unfrozen.
    """
    return customers.freeze(req.principal, handle, req.data.reason)


@route("/v1/admin/users/{handle}/unfreeze", methods=["POST"], admin=True, body="AdminReason", body_required=False)
def unfreeze(req, handle):
    """Unfreeze a person and their money account."""
    return customers.unfreeze(req.principal, handle, req.data.reason)


@route("/v1/admin/users/{handle}/credit-limit", methods=["PUT"], admin=True, body="CreditLimit")
def credit_limit(req, handle):
    """Set a person's credit limit."""
    return customers.set_credit_limit(req.principal, handle, req.data.credit_limit, req.data.reason)
