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


@functools.lru_cache(maxsize=None)
def network_secret(network: str) -> bytes:
    """The secret a network signs its calls with (API.md, Networks)."""
    value = _client().get_secret_value(SecretId=settings().network_secret_ids[network])["SecretString"]
    if len(value) < 32:
        raise RuntimeError(f"the {network} network secret is too short")
    return value.encode()


def ensure_network_secret(network: str, value: str | None = None) -> str:
    """Create the network's secret if it is missing (local stacks), from
    `value` or a fresh random one; returns the secret in force."""
    client = _client()
    secret_id = settings().network_secret_ids[network]
    try:
        return client.get_secret_value(SecretId=secret_id)["SecretString"]
    except client.exceptions.ResourceNotFoundException:
        value = value or secrets.token_urlsafe(32)
        client.create_secret(Name=secret_id, SecretString=value)
        return value


def ensure_signing_key() -> bool:
    """Create the signing secret if it is missing (local stacks); True if created."""
    client = _client()
    try:
        client.describe_secret(SecretId=settings().signing_key_secret_id)
        return False
    except client.exceptions.ResourceNotFoundException:
        client.create_secret(Name=settings().signing_key_secret_id, SecretString=secrets.token_urlsafe(48))
        return True
