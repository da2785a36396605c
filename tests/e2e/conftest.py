"""End-to-end: the dev server `make run` uses, over real HTTP, against a
locked moto server on 127.0.0.1 (scripts/motoserver.py, with the cheaper
transaction rollback of tests/moto_rollback.py) — both in processes of
their own that stop with the test run.

Business time on every stack starts at a stated instant (the server's
FLOCK_CLOCK_START): TEST_NOW, or the module's own `CLOCK_START` for a module
on `own_servers`. The session's stack is shared, so its tests must not move
its clock: the `http` fixture fails a test that did (a test that moves the
clock or sets rates uses `own_servers`, a stack of its module's own)."""
import contextlib
import os
from datetime import datetime, timezone
import subprocess
import sys
import uuid

import httpx
import pytest

from tests.conftest import ADMIN_PASSWORD, PASSWORD, ROOT, TEST_NOW


# scripts/motoserver.py, with the cheaper TransactWriteItems rollback and
# ProjectionExpression of the unit stacks (tests/moto_rollback.py,
# tests/moto_speedups.py): moto's own rollback copies every table a
# transaction touches, and a session's stack keeps growing, so each
# transaction of a long e2e run cost more than the one before.
MOTO_SERVER = ("import runpy, sys; from tests import moto_rollback, moto_speedups; moto_rollback.install(); "
               "moto_speedups.install(); "
               "sys.argv[0] = 'scripts/motoserver.py'; runpy.run_path(sys.argv[0], run_name='__main__')")


def _start(args, env) -> tuple[subprocess.Popen, str]:
    """Starts a server and waits for its READY line; what it printed before
    (`make run`'s banner) is kept in `proc.printed`."""
    proc = subprocess.Popen([sys.executable, *args, "--exit-with-parent"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    proc.printed = []
    for line in proc.stdout:
        if line.startswith("READY "):
            return proc, line.split()[1]
        proc.printed.append(line)
    proc.kill()
    raise RuntimeError(f"{' '.join(args)[-120:]} did not start")


def _drain(proc):
    import threading
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()


def _stop(*procs) -> None:
    """SIGTERM (the dev server stops within seconds of it), then kill."""
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _iso(moment) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@contextlib.contextmanager
def _stack(clock_start=TEST_NOW):
    """A moto server and the dev server against it, as `make run` starts them,
    with business time starting at `clock_start`. Each binds port 0 and
    reports the port the system gave it (READY url): no port is chosen here
    and bound later, so stacks that pytest-xdist's workers start at the same
    moment cannot collide."""
    env = {**os.environ, "FLOCK_ADMIN_PASSWORD": ADMIN_PASSWORD, "FLOCK_CLOCK_START": _iso(clock_start)}
    moto, moto_url = _start(["-c", MOTO_SERVER, "--port", "0"], env)
    _drain(moto)
    dev, dev_url = _start(["scripts/devserver.py", "--port", "0", "--quiet",
                           "--dynamodb-endpoint", moto_url], env)
    _drain(dev)
    try:
        yield {"api": dev_url, "moto": moto_url}
    finally:
        _stop(dev, moto)


@pytest.fixture(scope="session")
def servers():
    with _stack() as urls:
        yield urls


@pytest.fixture(scope="module")
def own_servers(request):
    """A stack of the module's own, for tests that move the test clock or set
    rates (the session's stack is shared by every other e2e test). Business
    time starts at the module's `CLOCK_START` if it states one, else TEST_NOW."""
    with _stack(getattr(request.module, "CLOCK_START", TEST_NOW)) as urls:
        yield urls


class Http:
    """A client of the API as outside code sees it."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.tokens = {}

    def call(self, method, path, body=None, as_=None, headers=None, content=None):
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        if as_:
            hdrs["Authorization"] = f"Bearer {self.tokens[as_]}"
        return self.http.request(method, path, json=body if content is None else None, content=content,
                                 headers=hdrs)

    def signup(self, handle=None, password=PASSWORD):
        handle = handle or "u" + uuid.uuid4().hex[:12]
        r = self.call("POST", "/v1/auth/signup", {"handle": handle, "password": password})
        assert r.status_code == 201, r.text
        self.tokens[handle] = r.json()["token"]
        return handle

    def login(self, handle, password=PASSWORD):
        r = self.call("POST", "/v1/auth/login", {"handle": handle, "password": password})
        if r.status_code == 200:
            self.tokens[handle] = r.json()["token"]
        return r

    def admin(self, method, path, body=None):
        if "admin" not in self.tokens:
            assert self.login("admin", ADMIN_PASSWORD).status_code == 200
        return self.call(method, path, body, as_="admin")

    def verified(self, handle=None):
        handle = self.signup(handle)
        r = self.admin("POST", f"/v1/admin/users/{handle}/verify", {"reason": "e2e KYC"})
        assert r.status_code == 200, r.text
        return handle

    def money(self, path, body, as_, key=None):
        return self.call("POST", path, body, as_=as_, headers={"Idempotency-Key": key or str(uuid.uuid4())})


def clock_offset(client: "Http") -> float:
    """The server's business time less the real time, in seconds (the test
    clock's offset), read without moving it."""
    r = client.admin("POST", "/v1/admin/test-clock", {"advance_days": 0})
    assert r.status_code == 200, r.text
    now = datetime.fromisoformat(r.json()["now"].replace("Z", "+00:00"))
    return (now - datetime.now(timezone.utc)).total_seconds()


@pytest.fixture(scope="session")
def _shared_clock(servers):
    """The operator of the shared stack, who reads its clock."""
    client = Http(servers["api"])
    yield client
    client.http.close()


@pytest.fixture
def http(servers, _shared_clock):
    """A client of the shared stack. A test that moved its clock fails: the
    other tests of the session would run on its dates."""
    before = clock_offset(_shared_clock)
    client = Http(servers["api"])
    yield client
    client.http.close()
    moved = clock_offset(_shared_clock) - before
    assert abs(moved) < 60, f"the test moved the shared stack's clock by {moved:.0f} s: use own_servers"
