"""The local outage an outside attack caused with two admin calls (issue
12): the dev server `make run` starts (its own moto in-process) keeps its
memory through a long interest catch-up, and stops within seconds of
SIGTERM even with a heavy job in flight."""
import os
import signal
import threading
import time
import uuid

import httpx

from tests.conftest import ADMIN_PASSWORD, PASSWORD, TEST_NOW
from tests.e2e.conftest import _drain, _iso, _start


def _rss_mib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) // 1024 for line in f if line.startswith("VmRSS"))


def test_a_long_catch_up_keeps_the_dev_server_small_and_sigterm_stops_it_at_once():
    env = {**os.environ, "FLOCK_ADMIN_PASSWORD": ADMIN_PASSWORD, "FLOCK_CLOCK_START": _iso(TEST_NOW)}
    dev, url = _start(["scripts/devserver.py", "--port", "0", "--quiet"], env)
    _drain(dev)
    try:
        http = httpx.Client(base_url=url, timeout=120)

        def call(method, path, body=None, token=None, money=False):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            if money:
                headers["Idempotency-Key"] = str(uuid.uuid4())
            return http.request(method, path, json=body, headers=headers)

        admin = call("POST", "/v1/auth/login", {"handle": "admin", "password": ADMIN_PASSWORD}).json()["token"]
        for handle in ("ann", "ben"):
            token = call("POST", "/v1/auth/signup", {"handle": handle, "password": PASSWORD}).json()["token"]
            assert call("POST", f"/v1/admin/users/{handle}/verify", {}, admin).status_code == 200
            assert call("POST", "/v1/wallet/deposits", {"amount": 500_000, "currency": "USD"}, token,
                        money=True).status_code == 201
        before = _rss_mib(dev.pid)
        assert call("POST", "/v1/admin/test-clock", {"advance_days": 365}, admin).status_code == 200
        for job in ("accrue-interest", "post-interest"):
            assert call("POST", f"/v1/admin/jobs/{job}", {}, admin).json()["changed"] == 2
        grown = _rss_mib(dev.pid) - before
        assert grown < 60, f"{grown} MiB kept after a year of postings"

        assert call("POST", "/v1/admin/test-clock", {"advance_days": 3650}, admin).status_code == 200
        assert call("POST", "/v1/admin/jobs/accrue-interest", {}, admin).status_code == 200

        def post_interest():
            try:
                call("POST", "/v1/admin/jobs/post-interest", {}, admin)
            except httpx.HTTPError:
                pass  # stopped midway, as it may be: the next run finishes it

        threading.Thread(target=post_interest, daemon=True).start()
        time.sleep(1.0)  # the posting run is under way
        asked = time.monotonic()
        dev.send_signal(signal.SIGTERM)
        dev.wait(timeout=15)
        assert time.monotonic() - asked < 8  # 33 s before, freeing what moto had kept
    finally:
        if dev.poll() is None:
            dev.kill()
