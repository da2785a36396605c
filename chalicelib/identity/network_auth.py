"""Who is calling from a network (API.md, Networks): the card and check
networks sign each call with their own secret; there is no bearer token.

`Flock-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.
Time here is the real clock, as for every security check: a test clock
moved a year ahead must not make a fresh signature stale.
"""
import hashlib
import hmac
import time

from chalicelib import errors
from chalicelib.identity import keys

SIGNATURE_TOLERANCE_S = 300
HEADER = "flock-signature"


def sign(secret: str | bytes, raw_body: bytes, t: int | None = None) -> str:
    """The `Flock-Signature` header a network sends with `raw_body`."""
    t = int(time.time()) if t is None else t
    key = secret.encode() if isinstance(secret, str) else secret
    mac = hmac.new(key, f"{t}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(network: str, header: str | None, raw_body: bytes) -> None:
    """Refuses (401 `invalid_signature`) a call not signed with the network's
    secret over exactly this body, or signed more than 5 minutes from now
    (a captured call cannot be played back later)."""
    parts = dict(part.strip().split("=", 1) for part in (header or "")[:512].split(",") if "=" in part)
    t, given = parts.get("t", ""), parts.get("v1", "")
    if not (t.isascii() and t.isdigit()) or len(t) > 12 or abs(time.time() - int(t)) > SIGNATURE_TOLERANCE_S:
        raise errors.InvalidSignature()
    expected = sign(keys.network_secret(network), raw_body, int(t)).split(",v1=", 1)[1]
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise errors.InvalidSignature()
