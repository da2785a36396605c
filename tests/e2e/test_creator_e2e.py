"""Creator money over real HTTP with people acting at once (issue 5): the dev
server and a locked moto server, threads of clients tipping one post,
unlocking it, subscribing, paying in a DM, and running the renewal job
side by side. Whatever the interleaving, each movement happens exactly
once and the books balance.

The test clock is the dev server's and only moves forward. The renewal test
moves it, so it runs on a stack of the module's own whose business time
starts on a stated day, a 31st (the first month then ends on February 28th)."""
import threading
import uuid
from collections import Counter
from datetime import datetime, timezone

import httpx
import pytest

from tests.e2e.conftest import Http

CLOCK_START = datetime(2027, 1, 31, 15, 0, tzinfo=timezone.utc)  # own_servers' business time starts here
LONG = "A paid post over HTTP: forty characters of preview, then the part that costs money."


def _client(http: Http) -> Http:
    client = Http(http.base_url)
    client.tokens = dict(http.tokens)
    return client


def _race(http: Http, calls) -> list[httpx.Response]:
    """Every `call(client)` of `calls` at the same moment, each on its own client."""
    clients = [_client(http) for _ in calls]
    start = threading.Barrier(len(calls))
    answers: list = [None] * len(calls)

    def run(i):
        start.wait()
        try:
            answers[i] = calls[i](clients[i])
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            answers[i] = exc
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for c in clients:
        c.http.close()
    assert all(isinstance(a, httpx.Response) for a in answers), answers
    return answers


def _balance(http: Http, handle: str) -> int:
    r = http.call("GET", "/v1/wallet", as_=handle)
    assert r.status_code == 200, r.text
    return r.json()["balance"]


def _entries(http: Http, handle: str) -> list:
    r = http.call("GET", "/v1/wallet/transactions?limit=100", as_=handle)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def _balanced(http: Http) -> None:
    r = http.admin("GET", "/v1/admin/ledger/check")
    assert r.status_code == 200 and r.json()["balanced"] is True and r.json()["total"] == 0, r.text


def _funded(http: Http, cents: int) -> str:
    handle = http.verified()
    assert http.money("/v1/wallet/deposits", {"amount": cents, "currency": "USD"}, handle).status_code == 201
    return handle


def _post(http: Http, who: str, **body) -> dict:
    r = http.call("POST", "/v1/posts", {"text": LONG, **body}, as_=who)
    assert r.status_code == 201, r.text
    return r.json()


def test_twenty_concurrent_tips_are_all_counted_and_their_replays_none(http):
    author = http.verified()
    fans = [_funded(http, 50_000) for _ in range(4)]
    p = _post(http, author)
    tips = [(fans[i % 4], 100 + i, str(uuid.uuid4())) for i in range(20)]
    answers = _race(http, [lambda c, f=f, a=a, k=k: c.money(f"/v1/posts/{p['id']}/tips",
                                                           {"amount": a, "currency": "USD"}, f, k)
                           for f, a, k in tips])
    assert [a.status_code for a in answers] == [201] * 20, [a.text for a in answers]
    total = sum(a for _, a, _ in tips)
    # Ten of them again, at once, with their keys: the same answers, nothing more.
    replays = _race(http, [lambda c, f=f, a=a, k=k: c.money(f"/v1/posts/{p['id']}/tips",
                                                           {"amount": a, "currency": "USD"}, f, k)
                           for f, a, k in tips[:10]])
    assert all(r.status_code == 201 and r.headers.get("Idempotent-Replayed") == "true" for r in replays)
    assert [r.json()["id"] for r in replays] == [a.json()["id"] for a in answers[:10]]
    seen = http.call("GET", f"/v1/posts/{p['id']}", as_=fans[0]).json()
    assert seen["tip_total"] == total
    assert _balance(http, author) == total
    for i, fan in enumerate(fans):
        assert _balance(http, fan) == 50_000 - sum(a for f, a, _ in tips if f == fan), i
    _balanced(http)


def test_ten_unlocks_at_once_charge_once(http):
    author, fan, stranger = http.verified(), _funded(http, 10_000), http.verified()
    p = _post(http, author, price={"amount": 999, "currency": "USD"}, video_url="https://video.example/e2e.mp4")
    assert http.call("GET", f"/v1/posts/{p['id']}", as_=fan).json()["locked"] is True
    same_key = str(uuid.uuid4())
    keys = [str(uuid.uuid4()) for _ in range(7)] + [same_key] * 3
    answers = _race(http, [lambda c, k=k: c.money(f"/v1/posts/{p['id']}/unlock", None, fan, k) for k in keys])
    statuses = Counter(a.status_code for a in answers)
    assert set(statuses) <= {200, 201}, [(a.status_code, a.text) for a in answers]
    charged = [a for a in answers if a.status_code == 201 and a.headers.get("Idempotent-Replayed") != "true"]
    assert len(charged) == 1, [(a.status_code, a.headers.get("Idempotent-Replayed"), a.text) for a in answers]
    assert all(a.json().get("charged") is False for a in answers if a.status_code == 200)
    assert _balance(http, fan) == 10_000 - 999
    assert _balance(http, author) == 900
    view = http.call("GET", f"/v1/posts/{p['id']}", as_=fan).json()
    assert view["locked"] is False and view["text"] == LONG and view["video_url"] == "https://video.example/e2e.mp4"
    locked = http.call("GET", f"/v1/posts/{p['id']}", as_=stranger).json()
    assert locked["locked"] is True and locked["text"] == LONG[:40] and locked["video_url"] is None
    assert http.call("GET", f"/v1/posts/{p['id']}").status_code == 401
    _balanced(http)


def test_ten_subscribes_at_once_charge_the_first_month_once(http):
    creator, fan = http.verified(), _funded(http, 10_000)
    r = http.call("PUT", "/v1/me/subscription-price", {"amount": 1_000, "currency": "USD"}, as_=creator)
    assert r.status_code == 200, r.text
    answers = _race(http, [lambda c: c.money(f"/v1/users/{creator}/subscription", None, fan) for _ in range(10)])
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {201: 1, 409: 9}, [(a.status_code, a.text) for a in answers]
    assert all(a.json()["error"]["code"] == "already_exists" for a in answers if a.status_code == 409)
    assert _balance(http, fan) == 9_000 and _balance(http, creator) == 900
    subs = http.call("GET", "/v1/me/subscriptions", as_=fan).json()["data"]
    assert [(s["creator"], s["status"], s["periods_paid"]) for s in subs] == [(creator, "active", 1)]
    _balanced(http)


def test_dm_payments_at_once_beyond_the_balance_leave_no_message_for_the_refused(http):
    payer, payee = _funded(http, 1_000), http.verified()
    conv = http.call("POST", "/v1/conversations", {"with": payee}, as_=payer).json()["id"]
    answers = _race(http, [lambda c, i=i: c.money(f"/v1/conversations/{conv}/payments",
                                                  {"amount": 200, "currency": "USD", "note": f"part {i}"}, payer)
                           for i in range(10)])
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {201: 5, 422: 5}, [(a.status_code, a.text) for a in answers]
    assert all(a.json()["error"]["code"] == "insufficient_funds" for a in answers if a.status_code == 422)
    paid_notes = sorted(a.json()["text"] for a in answers if a.status_code == 201)
    messages = http.call("GET", f"/v1/conversations/{conv}/messages?limit=100", as_=payee).json()["data"]
    assert sorted(m["text"] for m in messages) == paid_notes
    assert all(m["payment"]["amount"] == 200 for m in messages)
    assert sorted(e["transfer_id"] for e in _entries(http, payee)) == sorted(m["payment"]["id"] for m in messages)
    assert _balance(http, payer) == 0 and _balance(http, payee) == 1_000
    _balanced(http)


@pytest.fixture
def own_http(own_servers):
    """A client of the module's own stack, whose clock a test may move."""
    client = Http(own_servers["api"])
    yield client
    client.http.close()


def test_renewal_jobs_running_at_once_renew_each_subscription_once(own_http):
    http = own_http
    now = http.admin("POST", "/v1/admin/test-clock", {"advance_days": 0}).json()["now"]
    assert now[:10] == "2027-01-31", now  # subscriptions start on the stated day; this test moved nothing yet
    creator = http.verified()
    fans = [_funded(http, 5_000) for _ in range(2)]
    assert http.call("PUT", "/v1/me/subscription-price", {"amount": 1_000, "currency": "USD"},
                     as_=creator).status_code == 200
    for fan in fans:
        assert http.money(f"/v1/users/{creator}/subscription", None, fan).status_code == 201
    broke = http.verified()  # subscribes, then spends everything: its renewal fails
    assert http.money("/v1/wallet/deposits", {"amount": 1_000, "currency": "USD"}, broke).status_code == 201
    assert http.money(f"/v1/users/{creator}/subscription", None, broke).status_code == 201
    for fan in fans + [broke]:
        sub = http.call("GET", "/v1/me/subscriptions", as_=fan).json()["data"][0]
        assert sub["current_period_end"][:10] == "2027-02-28", sub
    r = http.admin("POST", "/v1/admin/test-clock", {"advance_days": 32})  # to March 4th: one period ended
    assert r.status_code == 200, r.text
    runs = _race(http, [lambda c: c.admin("POST", "/v1/admin/jobs/subscriptions", {}) for _ in range(6)])
    assert [r.status_code for r in runs] == [200] * 6, [r.text for r in runs]
    for fan in fans:
        assert _balance(http, fan) == 5_000 - 2 * 1_000, fan
        sub = http.call("GET", "/v1/me/subscriptions", as_=fan).json()["data"][0]
        assert (sub["status"], sub["periods_paid"]) == ("active", 2), sub
        assert len([e for e in _entries(http, fan) if e["kind"] == "subscription"]) == 2
    broke_sub = http.call("GET", "/v1/me/subscriptions", as_=broke).json()["data"][0]
    assert (broke_sub["status"], broke_sub["periods_paid"]) == ("past_due", 1), broke_sub
    assert _balance(http, creator) == (len(fans) * 2 + 1) * 900
    # Run again, any number of times: nothing more moves today.
    again = _race(http, [lambda c: c.admin("POST", "/v1/admin/jobs/subscriptions", {}) for _ in range(3)])
    assert all(r.status_code == 200 for r in again)
    assert _balance(http, creator) == (len(fans) * 2 + 1) * 900
    _balanced(http)
