"""Identity over real HTTP, through the dev server and a locked moto server:
the flows a client runs, what the local gateway answers on its own, and
races that only show with concurrent requests."""
import json
import socket
import threading
import uuid
from urllib.parse import urlparse

import httpx
import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import Http

SECRET = "zq-DISTINCTIVE-e2e-7731"


def fresh() -> str:
    return "e" + uuid.uuid4().hex[:12]


def refused(r, status, code, param=None, echo=()):
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/json")
    err = r.json()["error"]
    assert set(err) == {"type", "code", "message", "param"}
    assert err["code"] == code and err["param"] == param, err
    for text in echo:
        assert text not in r.text
        assert all(text not in v for v in r.headers.values())
    return err


def test_signup_login_me_verify_logout(http):
    handle = fresh()
    r = http.call("POST", "/v1/auth/signup", {"handle": handle, "password": PASSWORD, "display_name": "E2E"})
    assert r.status_code == 201, r.text
    assert set(r.json()) == {"user", "token", "refresh_token"} and r.json()["user"]["handle"] == handle
    http.tokens[handle] = r.json()["token"]
    refused(http.call("GET", "/v1/wallet", as_=handle), 403, "verification_required")

    r = http.login(handle.upper())
    assert r.status_code == 200 and r.json()["user"]["handle"] == handle
    me = http.call("GET", "/v1/me", as_=handle)
    assert me.status_code == 200 and me.json()["display_name"] == "E2E" and me.json()["verified"] is False
    r = http.call("PATCH", "/v1/me", {"bio": "over the wire"}, as_=handle)
    assert r.status_code == 200 and r.json()["bio"] == "over the wire"

    r = http.admin("POST", f"/v1/admin/users/{handle}/verify", {"reason": "passport checked"})
    assert r.status_code == 200 and r.json()["verified"] is True
    wallet = http.call("GET", "/v1/wallet", as_=handle)
    assert wallet.status_code == 200 and wallet.json()["balance"] == 0

    token = http.tokens[handle]
    r = http.call("POST", "/v1/auth/logout", as_=handle)
    assert r.status_code == 204 and r.content == b""
    refused(http.call("GET", "/v1/me", headers={"Authorization": f"Bearer {token}"}), 401, "unauthenticated")


def test_signup_refusals_over_http(http):
    handle = fresh()
    refused(http.call("POST", "/v1/auth/signup", {"handle": handle, "password": "short"}), 400, "invalid_request",
            "password")
    refused(http.call("POST", "/v1/auth/signup", content=b'{"handle": "x", "password": NaN}'), 400,
            "invalid_request")
    refused(http.call("POST", "/v1/auth/signup", content=b"{" + b" " * 100_000 + b"}"), 400, "invalid_request")
    refused(http.call("POST", "/v1/auth/signup", content=b"handle=x", headers={"Content-Type": "text/plain"}), 400,
            "invalid_request")
    refused(http.login(handle), 401, "invalid_credentials")  # none of those created the person


def test_unknown_paths_and_methods_are_404_and_echo_nothing(http):
    for method, path in (("GET", "/v1/nowhere"), ("POST", "/v1/nowhere"), ("POST", "/"), ("DELETE", "/v1/me"),
                         ("PUT", "/v1/auth/login"), ("OPTIONS", "/v1/nowhere")):
        r = http.http.request(method, path, headers={"Authorization": f"Bearer {SECRET}"})
        refused(r, 404, "not_found", echo=[SECRET, "Authorization"])
    r = http.http.get("/v1/nowhere")
    refused(r, 404, "not_found")


def test_a_non_ascii_authorization_header_on_an_unknown_path_is_a_404(http):
    """Chalice's gateway builds its echo with .encode('ascii') and dropped the
    connection on anything else."""
    header = f"Bearer caf\u00e9-{SECRET}".encode("latin-1")
    r = http.http.get("/v1/nowhere", headers={"Authorization": header})
    refused(r, 404, "not_found", echo=[SECRET])
    r = http.http.get("/v1/me", headers={"Authorization": header})
    refused(r, 401, "unauthenticated", echo=[SECRET])


def test_head_answers_carry_no_body(http):
    """A body after a HEAD answer would be read as the next answer on the
    same kept-alive connection."""
    with httpx.Client(base_url=http.base_url, timeout=10) as client:
        for path in ("/v1/health", "/v1/nowhere", "/v1/me"):
            head = client.head(path)
            assert head.status_code == 404 and head.content == b""
            r = client.get("/v1/health")
            assert r.status_code == 200 and r.json() == {"status": "ok"}


def _raw(base_url: str, request: bytes) -> bytes:
    url = urlparse(base_url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            try:
                data = sock.recv(65536)
            except socket.timeout:
                # The answers tested here close the connection: one left
                # open after 10 s is a failure, not the end of the stream.
                raise AssertionError(f"the server kept the connection open; got {b''.join(chunks)[:300]!r}") from None
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)


def _answers(raw: bytes) -> list:
    """(status, body) of each HTTP/1.1 answer in a byte stream."""
    found = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = next((int(v) for k, _, v in (line.partition(b":") for line in lines[1:])
                       if k.strip().lower() == b"content-length"), 0)
        found.append((status, rest[:length]))
        raw = rest[length:]
    return found


def test_unreadable_framing_is_a_400_and_closes_the_connection(http):
    host = urlparse(http.base_url).netloc.encode()
    smuggled = b"GET /v1/admin/audit HTTP/1.1\r\nHost: x\r\n\r\n"
    for framing in (b"Content-Length: abc\r\n", b"Content-Length: -5\r\n",
                    b"Transfer-Encoding: chunked\r\n"):
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(smuggled), smuggled) if b"chunked" in framing else smuggled
        raw = _raw(http.base_url, b"POST /v1/auth/login HTTP/1.1\r\nHost: " + host + b"\r\n"
                   b"Content-Type: application/json\r\n" + framing + b"\r\n" + body)
        answers = _answers(raw)
        assert len(answers) == 1, answers  # the rest of the stream was not taken as a request
        status, payload = answers[0]
        assert status == 400 and json.loads(payload)["error"]["code"] == "invalid_request"


def test_twenty_simultaneous_signups_of_one_handle_make_one_person(http):
    handle = fresh()
    start = threading.Barrier(20)
    results = [None] * 20

    def attempt(i):
        with httpx.Client(base_url=http.base_url, timeout=60) as client:
            start.wait()
            results[i] = client.post("/v1/auth/signup", json={"handle": handle, "password": f"{PASSWORD} #{i}"})

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201] + [409] * 19, statuses
    for r in results:
        if r.status_code == 409:
            refused(r, 409, "handle_taken", "handle")
    winner = next(i for i, r in enumerate(results) if r.status_code == 201)
    user = results[winner].json()["user"]
    r = http.login(handle, f"{PASSWORD} #{winner}")
    assert r.status_code == 200 and r.json()["user"]["id"] == user["id"]
    loser = (winner + 1) % 20
    refused(http.login(handle, f"{PASSWORD} #{loser}"), 401, "invalid_credentials")


@pytest.fixture
def own_http(own_servers):
    """A client of the module's own stack (business time from TEST_NOW),
    whose clock a test may move without moving the shared one."""
    client = Http(own_servers["api"])
    yield client
    client.http.close()


def test_five_failed_logins_then_429_with_retry_after(own_http):
    http = own_http
    handle = http.signup(fresh())
    for _ in range(5):
        refused(http.login(handle, "not the password"), 401, "invalid_credentials")
    for password in ("not the password", PASSWORD):
        r = http.login(handle, password)
        refused(r, 429, "rate_limited")
        assert 1 <= int(r.headers["Retry-After"]) <= 901
    # the test clock moves business time only
    assert http.admin("POST", "/v1/admin/test-clock", {"advance_days": 400}).status_code == 200
    refused(http.login(handle), 429, "rate_limited")
    assert http.call("GET", "/v1/me", as_=handle).status_code == 200  # the signup token still works


def test_simultaneous_wrong_guesses_get_no_more_than_five_tries(http):
    """The limit holds under concurrency: guesses racing each other cannot
    all pass a check made before any of them is counted."""
    handle = http.signup(fresh())
    start = threading.Barrier(20)
    results = [None] * 20

    def guess(i):
        with httpx.Client(base_url=http.base_url, timeout=60) as client:
            start.wait()
            results[i] = client.post("/v1/auth/login", json={"handle": handle, "password": f"guess number {i}"})

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    statuses = [r.status_code for r in results]
    assert statuses.count(401) == 5 and statuses.count(429) == 15, sorted(statuses)
    for r in results:
        refused(r, r.status_code, "invalid_credentials" if r.status_code == 401 else "rate_limited")
    refused(http.login(handle), 429, "rate_limited")
