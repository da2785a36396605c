"""The local AWS: a moto server on 127.0.0.1 and the state Flock needs in it.

moto is not thread-safe (DESIGN.md, measured): its WSGI app runs behind one
lock, so concurrent requests reach it one at a time and tests exercise
Flock's races, not moto's. Real DynamoDB needs no such lock.
"""
import os
import secrets
import threading

from werkzeug.serving import make_server

LOCAL_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


def with_s3_post_cors(environ, start_response):
    """start_response that adds the CORS headers S3 adds to a browser's POST.

    moto answers a CORS preflight from the bucket's rules but leaves them off
    the answer to the POST itself (the presigned form upload), which a
    browser then refuses to read: the web client's upload would fail locally
    only. Path-style addressing (chalicelib/aws.py): the bucket is the
    path's first segment."""
    origin = environ.get("HTTP_ORIGIN")
    if environ.get("REQUEST_METHOD") != "POST" or not origin:
        return start_response
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from moto.s3.utils import cors_matches_origin
    name = environ.get("PATH_INFO", "").lstrip("/").split("/", 1)[0]
    bucket = s3_backends[DEFAULT_ACCOUNT_ID]["global"].buckets.get(name)
    allowed = bucket is not None and any(
        "POST" in (rule.allowed_methods or []) and cors_matches_origin(origin, rule.allowed_origins or [])
        for rule in bucket.cors)
    if not allowed:
        return start_response

    def start(status, headers, exc_info=None):
        if not any(k.lower() == "access-control-allow-origin" for k, _ in headers):
            headers = [*headers, ("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        return start_response(status, headers, exc_info)
    return start


def forget_moto_models() -> None:
    """Drop moto's record of every DynamoDB model object it ever made.

    moto keeps each one in its class's `instances_tracked` list (for its
    dashboard, which Flock does not serve), and TransactWriteItems makes a
    deep copy of every table it touches, to roll back with: so each money
    movement kept a whole copy of the balances table alive for good, and
    freeing them all made SIGTERM take half a minute. Measured on the dev
    server, 4 accounts, +365 then +730 days of interest: 141 -> 645 MB and
    SIGTERM in 33 s; with this, 141 -> 148 MB and 2.5 s (200 deposits:
    139 -> 1119 MB, 63 s; with this 153 MB, 2.9 s). The tables themselves
    are not in these lists (the backends hold them)."""
    from moto.core.model_instances import model_data
    for model in model_data.get("dynamodb", {}).values():
        model.instances_tracked = []


class LockedMotoServer:
    """moto's server app on 127.0.0.1, one request at a time, keeping
    nothing a request made beyond the data itself (`forget_moto_models`)."""

    def __init__(self, port: int = 0):
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        inner = DomainDispatcherApplication(create_backend_app)
        lock = threading.Lock()

        def app(environ, start_response):
            with lock:
                try:
                    return list(inner(environ, with_s3_post_cors(environ, start_response)))
                finally:
                    forget_moto_models()

        class QuietHandler(MotoRequestHandler):
            def log_request(self, *args):  # one line per AWS call drowns the dev server's output
                pass

        self._server = make_server("127.0.0.1", port, app, threaded=True, request_handler=QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "LockedMotoServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


def point_at(endpoint: str) -> None:
    """Environment for Flock to use the local AWS; before importing chalicelib."""
    for name, value in LOCAL_ENV.items():
        os.environ.setdefault(name, value)
    os.environ["FLOCK_DYNAMODB_ENDPOINT"] = endpoint
    os.environ["FLOCK_AWS_ENDPOINT"] = endpoint


def provision(admin_password: str | None = None, network_secrets: dict | None = None, web_origins=()) -> dict:
    """Tables from the spec, the signing secret, the networks' secrets (from
    `network_secrets`, else random), the KMS data key, the videos bucket
    (taking browser uploads from `web_origins`), system accounts, the admin.
    Idempotent: running it against a provisioned stack changes nothing."""
    import boto3

    from chalicelib.config import NETWORKS, settings
    from chalicelib.crypto import envelope
    from chalicelib.db import spec, video_store
    from chalicelib.finance import check_images
    from chalicelib.finance.accounts import ensure_system_accounts
    from chalicelib.identity import keys
    from chalicelib.identity.users import find_by_handle
    from chalicelib.social.people import create_user

    s = settings()
    client = boto3.client("dynamodb", region_name=s.region, endpoint_url=s.dynamodb_endpoint)
    created = spec.create_all(client, s.table_name)
    keys.ensure_signing_key()
    secrets_in_force = {network: keys.ensure_network_secret(network, (network_secrets or {}).get(network))
                        for network in NETWORKS}
    envelope.ensure_key()
    video_store.ensure_bucket(web_origins)
    check_images.ensure_bucket()
    ensure_system_accounts()
    generated = None
    if find_by_handle("admin") is None:
        if not admin_password:
            admin_password = generated = secrets.token_urlsafe(18)
        create_user("admin", admin_password, "Flock operator", role="admin")
    return {"tables_created": created, "admin_password": generated or admin_password,
            "network_secrets": secrets_in_force}


SAMPLE_ECB_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "eurofxref-sample.xml")


def seed_fx_rates(path: str = SAMPLE_ECB_FILE) -> dict | None:
    """Exchange rates from the bundled sample ECB file, so a fresh local
    stack takes a EUR deposit and quotes at once; a stack that has rates
    keeps them (None). The sample is not judged stale: it is a sample."""
    from chalicelib.db.fx import FxRatesItem
    from chalicelib.finance import fx_rates

    if FxRatesItem.latest() is not None:
        return None
    with open(path, "rb") as f:
        text = f.read()
    label = "the bundled sample scripts/data/eurofxref-sample.xml" if path == SAMPLE_ECB_FILE else path
    return fx_rates.load_ecb(text, label)
