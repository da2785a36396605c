"""Images of deposited checks: what counts as one, and where they are kept.

An image is base64 of a PNG or a JPEG, at most `check_image_bytes_max`
(2 MiB) decoded; the decoded bytes must start like one (magic bytes: a
renamed text file is no image). They go to a private, encrypted bucket of
their own under their SHA-256, so an image deposited twice is one object,
and the deposit keeps only the hash. Nothing serves them back.
"""
import base64
import binascii
import hashlib

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import aws, errors
from chalicelib.config import settings

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
CONTENT_TYPES = ((PNG_MAGIC, "image/png"), (JPEG_MAGIC, "image/jpeg"))


def encoded_chars_max() -> int:
    """The longest base64 text of an image within the limit (4 chars per 3 bytes, padded)."""
    return 4 * -(-settings().check_image_bytes_max // 3)


def decode(text: str) -> bytes:
    """The image's bytes; ValueError (the request's 400) when the text is
    not base64, too large, or not a PNG or JPEG."""
    if len(text) > encoded_chars_max():
        raise ValueError(f"an image is at most {settings().check_image_bytes_max} bytes")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("an image is base64 text") from None
    if len(data) > settings().check_image_bytes_max:
        raise ValueError(f"an image is at most {settings().check_image_bytes_max} bytes")
    content_type(data)
    return data


def content_type(data: bytes) -> str:
    for magic, kind in CONTENT_TYPES:
        if data.startswith(magic):
            return kind
    raise ValueError("an image is a PNG or a JPEG")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store(data: bytes) -> str:
    """Put the image under its hash (idempotent: the same bytes, the same
    object); returns the hash."""
    digest = sha256_hex(data)
    # The bucket encrypts under its default (the data key on AWS): the call names no key.
    try:
        aws.client("s3").put_object(Bucket=settings().check_images_bucket, Key=digest, Body=data,
                                    ContentType=content_type(data))
    except (BotoCoreError, ClientError):
        raise errors.Unavailable("The check images could not be stored; retry with the same Idempotency-Key.") \
            from None
    return digest


def ensure_bucket() -> str:
    """The local stack's bucket (moto), private and encrypted as the
    template makes it on AWS; idempotent."""
    s3 = aws.client("s3")
    name = settings().check_images_bucket
    try:
        s3.create_bucket(Bucket=name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    return name
