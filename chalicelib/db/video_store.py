"""The videos bucket: private, encrypted, reached only through presigned
requests. The bytes never pass through Lambda: a client uploads with a
presigned POST (its policy fixes the key, the content type and the exact
size) and plays with a presigned GET that expires after a few minutes.

`complete` reads only an object's head and its first bytes. No function
here logs a URL: a presigned GET is a bearer credential for the video.
"""
from botocore.exceptions import ClientError

from chalicelib import aws
from chalicelib.config import settings
from chalicelib.db.videos import UPLOADS_PREFIX, ready_object_key, upload_object_key

MAGIC_BYTES_MAX = 16
MISSING_CODES = {"404", "NoSuchKey", "NotFound", "403", "AccessDenied"}
# Never-completed uploads: the template's lifecycle rule and the local stack agree.
UPLOADS_EXPIRE_DAYS = 1
# How long a browser may keep the answer to its CORS preflight of an upload.
UPLOAD_PREFLIGHT_MAX_AGE_S = 3000


def upload_cors_rules(web_origins) -> list[dict]:
    """The web client's page POSTs the upload form straight to the bucket
    from its own origin: S3 must answer that origin's preflight and POST
    (and no other origin's, no other method: playback is a plain GET from a
    <video>, which needs no CORS). The template's rule says the same."""
    return [{"ID": "web-client-uploads", "AllowedMethods": ["POST"], "AllowedOrigins": list(web_origins),
             "MaxAgeSeconds": UPLOAD_PREFLIGHT_MAX_AGE_S}]


def _s3():
    return aws.client("s3")


def _bucket() -> str:
    return settings().videos_bucket


def upload_form(video_id: str, content_type: str, size_bytes: int, expires_s: int) -> dict:
    """A presigned POST for exactly `size_bytes` bytes of `content_type` to
    the video's upload key: S3 refuses any other size, type or key."""
    fields = {"Content-Type": content_type}
    conditions = [{"Content-Type": content_type}, ["content-length-range", size_bytes, size_bytes]]
    return _s3().generate_presigned_post(_bucket(), upload_object_key(video_id), Fields=fields,
                                         Conditions=conditions, ExpiresIn=expires_s)


def _size(key: str) -> int | None:
    """The object's size, or None if there is none. The API role may not
    list the bucket, so S3 answers a missing key with 403, not 404."""
    try:
        head = _s3().head_object(Bucket=_bucket(), Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in MISSING_CODES:
            return None
        raise
    return int(head["ContentLength"])


def uploaded_size(video_id: str) -> int | None:
    """The size of what was uploaded, or None if nothing was."""
    return _size(upload_object_key(video_id))


def kept_size(video_id: str) -> int | None:
    """The size of the verified copy under videos/, or None if there is none."""
    return _size(ready_object_key(video_id))


def uploaded_start(video_id: str) -> bytes | None:
    """The first bytes of the upload, where a container's signature is; None
    when it is gone (a concurrent `complete` moved it since its size was read)."""
    try:
        got = _s3().get_object(Bucket=_bucket(), Key=upload_object_key(video_id),
                               Range=f"bytes=0-{MAGIC_BYTES_MAX - 1}")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in MISSING_CODES:
            return None
        raise
    return got["Body"].read(MAGIC_BYTES_MAX)


def keep(video_id: str, content_type: str) -> None:
    """Move a verified upload out of reach of the never-completed rule: a
    server-side copy (no bytes through Lambda), then the upload goes."""
    try:
        _s3().copy_object(Bucket=_bucket(), Key=ready_object_key(video_id), ContentType=content_type,
                          MetadataDirective="REPLACE",
                          CopySource={"Bucket": _bucket(), "Key": upload_object_key(video_id)})
    except ClientError as exc:
        # A concurrent `complete` of the same upload moved it first: kept all the same.
        if exc.response.get("Error", {}).get("Code") not in MISSING_CODES or kept_size(video_id) is None:
            raise
    discard(video_id)


def discard(video_id: str) -> None:
    """Delete the upload (idempotent: S3 answers a missing key with success)."""
    _s3().delete_object(Bucket=_bucket(), Key=upload_object_key(video_id))


def playback_url(video_id: str, ttl_s: int) -> str:
    return _s3().generate_presigned_url("get_object", Params={"Bucket": _bucket(), "Key": ready_object_key(video_id)},
                                        ExpiresIn=ttl_s)


def allow_uploads_from(web_origins) -> None:
    """Replace the bucket's CORS rules: uploads from these origins only."""
    _s3().put_bucket_cors(Bucket=_bucket(), CORSConfiguration={"CORSRules": upload_cors_rules(web_origins)})


def ensure_bucket(web_origins=()) -> bool:
    """Create the bucket if missing (local stacks; on AWS the template does),
    private and encrypted as there, taking uploads from `web_origins` (set
    even on an existing bucket: a dev server's port is new each start);
    True if created."""
    s3 = _s3()
    bucket = _bucket()
    try:
        s3.head_bucket(Bucket=bucket)
        if web_origins:
            allow_uploads_from(web_origins)
        return False
    except ClientError:
        pass
    kwargs = {} if settings().region == "us-east-1" else {
        "CreateBucketConfiguration": {"LocationConstraint": settings().region}}
    s3.create_bucket(Bucket=bucket, **kwargs)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [{
        "ID": "never-completed-uploads", "Status": "Enabled", "Filter": {"Prefix": UPLOADS_PREFIX},
        "Expiration": {"Days": UPLOADS_EXPIRE_DAYS},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": UPLOADS_EXPIRE_DAYS}}]})
    if web_origins:
        allow_uploads_from(web_origins)
    return True
