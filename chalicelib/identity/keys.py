"""Secrets from AWS Secrets Manager (moto locally), read once per process."""
import functools
import hashlib
import hmac
import secrets

from chalicelib import aws
from chalicelib.config import settings


def _client():
    return aws.client("secretsmanager")


@functools.lru_cache(maxsize=1)
def signing_key() -> bytes:
    value = _client().get_secret_value(SecretId=settings().signing_key_secret_id)["SecretString"]
    if len(value) < 32:
        raise RuntimeError("the token signing key is too short")
    return value.encode()


def derived_key(purpose: str) -> bytes:
    """A key for one purpose (cursors, ...), so no two uses share a key."""
    return hmac.new(signing_key(), purpose.encode(), hashlib.sha256).digest()


def ensure_signing_key() -> bool:
    """Create the signing secret if it is missing (local stacks); True if created."""
    client = _client()
    try:
        client.describe_secret(SecretId=settings().signing_key_secret_id)
        return False
    except client.exceptions.ResourceNotFoundException:
        client.create_secret(Name=settings().signing_key_secret_id, SecretString=secrets.token_urlsafe(48))
        return True
