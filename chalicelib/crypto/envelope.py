"""Envelope encryption: AES-256-GCM under a fresh data key from KMS.

`seal(plaintext, context)` asks KMS for a 256-bit data key (GenerateDataKey
under `settings().kms_key_id`, moto's KMS locally), encrypts with AES-256-GCM
and a random 96-bit nonce, and returns one printable string holding the
KMS-encrypted data key, the nonce and the ciphertext. The clear data key
lives only in memory while sealing or opening. `open_sealed` asks KMS to
decrypt the data key and then the ciphertext.

`context` (a small str -> str dict, e.g. {"purpose": "totp", "user_id": ...})
is bound twice: as KMS's EncryptionContext (KMS refuses to decrypt the data
key under another context, and CloudTrail logs it) and as the GCM associated
data. So a sealed value copied onto another person's record does not open.

Used for TOTP secrets; card numbers and CVCs next (DESIGN.md, Card data).
Format: "v1.<b64 encrypted data key>.<b64 nonce>.<b64 ciphertext+tag>".
"""
import base64
import json
import os

from chalicelib import aws
from chalicelib.config import settings

VERSION = "v1"
NONCE_BYTES = 12
CONTEXT_KEYS_MAX = 8


class SealError(Exception):
    """A sealed value that does not open: tampered, truncated or moved."""


def _context(context: dict) -> dict:
    if not context or len(context) > CONTEXT_KEYS_MAX or \
            not all(isinstance(k, str) and isinstance(v, str) for k, v in context.items()):
        raise ValueError("an encryption context is a small non-empty str -> str dict")
    return dict(context)


def _aad(context: dict) -> bytes:
    return json.dumps(context, sort_keys=True, separators=(",", ":")).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


def seal(plaintext: bytes, context: dict) -> str:
    # Not at import: `cryptography` costs a cold start ~25M instructions and only 2FA (and card data) seal.
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    context = _context(context)
    key = aws.client("kms").generate_data_key(KeyId=settings().kms_key_id, KeySpec="AES_256",
                                              EncryptionContext=context)
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(key["Plaintext"]).encrypt(nonce, plaintext, _aad(context))
    return ".".join((VERSION, _b64(key["CiphertextBlob"]), _b64(nonce), _b64(ciphertext)))


def open_sealed(sealed: str, context: dict) -> bytes:
    from cryptography.exceptions import InvalidTag  # see seal()
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    context = _context(context)
    parts = sealed.split(".") if isinstance(sealed, str) else []
    if len(parts) != 4 or parts[0] != VERSION:
        raise SealError("not a sealed value")
    try:
        wrapped, nonce, ciphertext = (base64.urlsafe_b64decode(p) for p in parts[1:])
    except ValueError:
        raise SealError("not a sealed value") from None
    kms = aws.client("kms")
    try:
        data_key = kms.decrypt(CiphertextBlob=wrapped, EncryptionContext=context)["Plaintext"]
    except kms.exceptions.InvalidCiphertextException:
        raise SealError("the data key does not open under this context") from None
    try:
        return AESGCM(data_key).decrypt(nonce, ciphertext, _aad(context))
    except InvalidTag:
        raise SealError("the value was altered or belongs elsewhere") from None


def ensure_key() -> bool:
    """Create the KMS key and its alias if missing (local stacks); True if created.
    On AWS the template creates them."""
    kms = aws.client("kms")
    alias = settings().kms_key_id
    if not alias.startswith("alias/"):
        return False
    try:
        kms.describe_key(KeyId=alias)
        return False
    except kms.exceptions.NotFoundException:
        key_id = kms.create_key(Description="Flock data keys (envelope encryption)",
                                KeyUsage="ENCRYPT_DECRYPT", KeySpec="SYMMETRIC_DEFAULT")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=alias, TargetKeyId=key_id)
        return True
