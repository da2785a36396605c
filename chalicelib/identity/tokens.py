"""Signed short-lived bearer tokens (PyJWT, HS256).

Claims: `sub` user id, `role`, `tv` token version, `sid` session id, `iat`,
`exp`, `jti`. Expiry is checked against the real clock (security time),
never the test clock. A token is valid only while its `tv` equals the
user's current token version and its session is among the user's live ones
(identity/users.py `authenticate`).
"""
import secrets
from dataclasses import dataclass

from chalicelib import clock
from chalicelib.config import settings
from chalicelib.errors import Unauthenticated
from chalicelib.identity.keys import signing_key

ALGORITHM = "HS256"


@dataclass(frozen=True)
class Claims:
    user_id: str
    role: str
    token_version: int
    session_id: str


def issue(user_id: str, role: str, token_version: int, session_id: str) -> str:
    import jwt  # not at import: PyJWT loads `cryptography` (~180M instructions, an eighth of `import app`)
    now_s = int(clock.real_now().timestamp())
    payload = {"sub": user_id, "role": role, "tv": token_version, "sid": session_id, "iat": now_s,
               "exp": now_s + settings().token_ttl_s, "jti": secrets.token_urlsafe(12)}
    return jwt.encode(payload, signing_key(), algorithm=ALGORITHM)


def verify(token: str) -> Claims:
    import jwt  # see issue(); once loaded this is a dict lookup
    try:
        payload = jwt.decode(token, signing_key(), algorithms=[ALGORITHM],
                             options={"require": ["exp", "iat", "sub", "tv", "sid"]})
    except jwt.PyJWTError:
        raise Unauthenticated("The token is invalid or expired.") from None
    if not isinstance(payload.get("sub"), str) or type(payload.get("tv")) is not int \
            or not isinstance(payload.get("sid"), str):
        raise Unauthenticated("The token is invalid or expired.")
    return Claims(user_id=payload["sub"], role=str(payload.get("role", "user")), token_version=payload["tv"],
                  session_id=payload["sid"])
