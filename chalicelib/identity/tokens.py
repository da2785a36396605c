"""Signed short-lived bearer tokens (PyJWT, HS256).

Claims: `sub` user id, `role`, `tv` token version, `iat`, `exp`, `jti`.
Expiry is checked against the real clock (security time), never the test clock.
A token is valid only while its `tv` equals the user's current token version.
"""
import secrets
import time
from dataclasses import dataclass

from chalicelib.config import settings
from chalicelib.errors import Unauthenticated
from chalicelib.identity.keys import signing_key

ALGORITHM = "HS256"


@dataclass(frozen=True)
class Claims:
    user_id: str
    role: str
    token_version: int


def issue(user_id: str, role: str, token_version: int) -> str:
    import jwt  # here, not at import: PyJWT pulls in `cryptography` where installed (cold start)
    now_s = int(time.time())
    payload = {"sub": user_id, "role": role, "tv": token_version, "iat": now_s,
               "exp": now_s + settings().token_ttl_s, "jti": secrets.token_urlsafe(12)}
    return jwt.encode(payload, signing_key(), algorithm=ALGORITHM)


def verify(token: str) -> Claims:
    import jwt
    try:
        payload = jwt.decode(token, signing_key(), algorithms=[ALGORITHM],
                             options={"require": ["exp", "iat", "sub", "tv"]})
    except jwt.PyJWTError:
        raise Unauthenticated("The token is invalid or expired.") from None
    if not isinstance(payload.get("sub"), str) or type(payload.get("tv")) is not int:
        raise Unauthenticated("The token is invalid or expired.")
    return Claims(user_id=payload["sub"], role=str(payload.get("role", "user")), token_version=payload["tv"])
