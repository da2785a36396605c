"""argon2id password hashes (argon2-cffi)."""
import functools

from chalicelib.config import settings


@functools.lru_cache(maxsize=1)
def _hasher():
    # Imported on first use: only signup, login and password changes hash.
    from argon2 import PasswordHasher, Type
    s = settings()
    return PasswordHasher(time_cost=s.argon2_time_cost, memory_cost=s.argon2_memory_kib,
                          parallelism=1, type=Type.ID)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError
    try:
        return _hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.lru_cache(maxsize=1)
def dummy_hash() -> str:
    """Verified against when the handle is unknown, so a wrong handle costs
    the same time as a wrong password and handles cannot be probed."""
    return hash_password("not-a-password-of-anyone")


def needs_rehash(stored_hash: str) -> bool:
    return _hasher().check_needs_rehash(stored_hash)
