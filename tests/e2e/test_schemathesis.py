"""Schemathesis against the dev server over HTTP, from the app's own
`/v1/openapi.json`: every operation, positive and negative data, bounded by
a count of examples per operation (FLOCK_FUZZ_EXAMPLES, 8 by default; set
it higher for a deeper run), not by wall time, so a busy machine runs the
same cases, only slower. Zero 5xx, every status, content type and body as
documented, and every documented operation exercised.

It runs the `st` CLI in a subprocess against servers of its own (it moves
the test clock and sets rates, which the other e2e tests must not see);
this module is also its hooks module (`SCHEMATHESIS_HOOKS`): an auth
provider that signs up and verifies a user through the API (admin routes
get the admin's token), and a counter of the requests sent.
"""
import json
import os
import subprocess
import sys
import uuid

import pytest

from tests.conftest import ADMIN_PASSWORD, PASSWORD, ROOT

EXAMPLES = int(os.environ.get("FLOCK_FUZZ_EXAMPLES", "8"))
# A guard against a hung run only: the run ends when its examples are spent.
TIMEOUT_S = int(os.environ.get("FLOCK_FUZZ_TIMEOUT_S", str(max(1800, 120 * EXAMPLES))))
EXCLUDED_OPERATIONS = ()
CALLS_PER_OPERATION_MIN = 3  # the examples, coverage and fuzzing phases each call every operation
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


@pytest.mark.parametrize("method", ["TRACE", "QUERY", "CONNECT", "BREW"])
def test_a_method_no_route_has_is_a_404_error_object(own_servers, method):
    """Regression (schemathesis): http.server answered these with a 501 HTML page."""
    import httpx
    r = httpx.request(method, f"{own_servers['api']}/v1/wallet", headers={"Authorization": "Bearer x"})
    assert r.status_code == 404 and r.headers["content-type"] == "application/json", r.text
    assert r.json()["error"]["code"] == "not_found"


@pytest.mark.timeout(TIMEOUT_S + 60)
def test_schemathesis_finds_nothing(own_servers, tmp_path):
    import httpx
    counter = tmp_path / "requests"
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.e2e.test_schemathesis", "PYTHONPATH": ROOT,
           "FLOCK_ST_BASE": own_servers["api"], "FLOCK_ST_COUNTER": str(counter)}
    document = httpx.get(f"{own_servers['api']}/v1/openapi.json").json()
    operations = {f"{method.upper()} {path}" for path, item in document["paths"].items() for method, op in item.items()
                  if method in ("get", "put", "post", "delete", "patch")
                  and op.get("operationId") not in EXCLUDED_OPERATIONS}
    # Schemathesis leaves out the operation serving the document it loaded
    # (it selects 55 of these 56); tests/unit/test_openapi.py covers that route.
    operations.discard("GET /v1/openapi.json")
    cmd = [os.path.join(os.path.dirname(sys.executable), "st"), "run", f"{own_servers['api']}/v1/openapi.json",
           "--checks", CHECKS, "--workers", "1", "--max-examples", str(EXAMPLES),
           "--phases", "examples,coverage,fuzzing,stateful", "--seed", os.environ.get("FLOCK_SCHEMATHESIS_SEED", "1"),
           "--request-timeout", "20", "--no-color", "--suppress-health-check", "all",
           "--generation-database", "none"]
    for operation_id in EXCLUDED_OPERATIONS:
        cmd += ["--exclude-operation-id", operation_id]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    output = proc.stdout + proc.stderr
    if os.environ.get("FLOCK_SCHEMATHESIS_OUTPUT"):
        with open(os.environ["FLOCK_SCHEMATHESIS_OUTPUT"], "w") as f:
            f.write(output)
    calls = json.loads(counter.read_text() or "{}") if counter.exists() else {}
    print(output[-6000:])
    print(f"schemathesis sent {sum(calls.values())} requests to {len(calls)} operations with {EXAMPLES} examples each")
    assert proc.returncode == 0, output[-20000:]
    scarce = {op: calls.get(op, 0) for op in operations if calls.get(op, 0) < CALLS_PER_OPERATION_MIN}
    assert not scarce, (scarce, output[-4000:])


# --- hooks, loaded by schemathesis in its own process -----------------------

if os.environ.get("FLOCK_ST_BASE"):
    import threading

    import httpx
    import schemathesis

    _BASE = os.environ["FLOCK_ST_BASE"]
    _lock = threading.Lock()
    _sent: dict = {}
    _admin = {}

    def _admin_token() -> str:
        with _lock:
            if "token" not in _admin:
                r = httpx.post(f"{_BASE}/v1/auth/login", json={"handle": "admin", "password": ADMIN_PASSWORD})
                r.raise_for_status()
                _admin["token"] = r.json()["token"]
            return _admin["token"]

    def _fresh_user() -> str:
        """A verified user with money, signed up through the API."""
        handle = "st" + uuid.uuid4().hex[:12]
        r = httpx.post(f"{_BASE}/v1/auth/signup", json={"handle": handle, "password": PASSWORD})
        r.raise_for_status()
        token = r.json()["token"]
        admin = {"Authorization": f"Bearer {_admin_token()}"}
        httpx.post(f"{_BASE}/v1/admin/users/{handle}/verify", json={"reason": "schemathesis"},
                   headers=admin).raise_for_status()
        httpx.post(f"{_BASE}/v1/wallet/deposits", json={"amount": 500_000, "currency": "USD"},
                   headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
                   ).raise_for_status()
        return token

    @schemathesis.auth(refresh_interval=3600)
    class FlockAuth:
        def get(self, case, context):
            return {"user": _fresh_user()}

        def set(self, case, data, context):
            admin = case.operation.path.startswith("/v1/admin/")
            case.headers = case.headers or {}
            case.headers["Authorization"] = f"Bearer {_admin_token() if admin else data['user']}"

    @schemathesis.hook
    def after_call(context, case, response):
        """Counts the calls of each operation (METHOD /path/{template})."""
        with _lock:
            operation = f"{case.operation.method.upper()} {case.operation.path}"
            _sent[operation] = _sent.get(operation, 0) + 1
            with open(os.environ["FLOCK_ST_COUNTER"], "w") as f:
                json.dump(_sent, f)
