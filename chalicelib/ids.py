"""Opaque ids with a type prefix (`usr_`, `tr_`, ...).

Random ids sort by creation time (48-bit milliseconds, then 80 random bits),
so "newest first" is a key order. Derived ids (idempotency) are a keyed hash
of their inputs, so the same inputs always give the same id.
"""
import base64
import hashlib
import os
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def _b32(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    chars = []
    for _ in range((len(data) * 8 + 4) // 5):
        number, rem = divmod(number, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    millis = int(time.time() * 1000).to_bytes(6, "big")
    return f"{prefix}_{_b32(millis + os.urandom(10))}"


def derived_id(prefix: str, *parts: str) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()[:16]
    return f"{prefix}_{_b32(digest)}"


def fingerprint(payload: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(payload.encode()).digest()).decode().rstrip("=")
