"""The social network over real HTTP: the dev server against a locked moto
server. Handles are random, so these tests share the stack with any others."""
import random
import uuid
from concurrent.futures import ThreadPoolExecutor

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"


def ok(r, status=200):
    assert r.status_code == status, (r.status_code, r.text)
    return r.json()


def post(http, who, text, **extra):
    return ok(http.call("POST", "/v1/posts", {"text": text, **extra}, as_=who), 201)


def get(http, who, path, **params):
    """A GET with query parameters, encoded by httpx."""
    return http.http.get(path, params=params, headers={"Authorization": f"Bearer {http.tokens[who]}"})


def test_post_follow_timeline_over_http(http):
    author, reader = http.signup(), http.signup()
    before = post(http, author, "before the follow")
    assert ok(http.call("POST", f"/v1/users/{author}/follow", as_=reader)) == {"following": True}
    after = post(http, author, "after the follow")
    mine = post(http, reader, "my own")
    timeline = ok(http.call("GET", "/v1/timeline", as_=reader))
    assert [p["id"] for p in timeline["data"]] == [mine["id"], after["id"], before["id"]]
    assert timeline["next_cursor"] is None
    page = ok(http.call("GET", "/v1/timeline?limit=2", as_=reader))
    rest = ok(get(http, reader, "/v1/timeline", limit=2, cursor=page["next_cursor"]))
    assert [p["id"] for p in page["data"] + rest["data"]] == [mine["id"], after["id"], before["id"]]

    assert ok(http.call("DELETE", f"/v1/users/{author}/follow", as_=reader)) == {"following": False}
    assert [p["id"] for p in ok(http.call("GET", "/v1/timeline", as_=reader))["data"]] == [mine["id"]]

    r = http.call("DELETE", f"/v1/posts/{mine['id']}", as_=author)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert http.call("DELETE", f"/v1/posts/{mine['id']}", as_=reader).status_code == 204
    assert http.call("GET", f"/v1/posts/{mine['id']}", as_=author).status_code == 404


def test_bad_posts_over_http(http):
    who = http.signup()
    assert post(http, who, "🐦" * 280)["text"] == "🐦" * 280
    for body in ({"text": "🐦" * 281}, {"text": ""}, {"text": 5}):
        r = http.call("POST", "/v1/posts", body, as_=who)
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_request", r.text
    r = http.call("POST", "/v1/posts", as_=who, content=b"\xff\xfe not json")
    assert r.status_code == 400


def test_persian_query_finds_an_arabic_spelled_post(http):
    writer, reader = http.signup(), http.signup()
    number = str(random.randrange(10**8, 10**9))
    arabic_number = "".join(ARABIC_DIGITS[int(d)] for d in number)
    persian_number = "".join(PERSIAN_DIGITS[int(d)] for d in number)
    p = post(http, writer, f"كتاب علي الجديدة رقم {arabic_number} 📚")
    found = ok(get(http, reader, "/v1/search", q=f"کتاب علی {persian_number}", type="posts"))
    assert [x["id"] for x in found["data"]] == [p["id"]]
    assert [x["id"] for x in ok(get(http, reader, "/v1/search", q=f"الجديده {number}"))["data"]] == [p["id"]]
    assert ok(get(http, reader, "/v1/search", q=f"کتابها {persian_number}"))["data"] == []


def test_user_search_and_a_5kb_query_over_http(http):
    handle = "s" + uuid.uuid4().hex[:12]
    http.signup(handle)
    reader = http.signup()
    assert [u["handle"] for u in ok(get(http, reader, "/v1/search", q=handle[:10], type="users"))["data"]] == [handle]
    for q in ("a" * 5000, "س " * 2500):
        r = get(http, reader, "/v1/search", q=q)
        assert r.status_code in (200, 400), r.status_code
        if r.status_code == 400:
            assert r.json()["error"]["code"] == "invalid_request"


def test_dms_are_private_over_http(http):
    alice, bob, eve = http.signup(), http.signup(), http.signup()
    conv = ok(http.call("POST", "/v1/conversations", {"with": bob}, as_=alice), 201)
    assert ok(http.call("POST", "/v1/conversations", {"with": alice}, as_=bob), 200)["id"] == conv["id"]
    ok(http.call("POST", f"/v1/conversations/{conv['id']}/messages", {"text": "for bob only"}, as_=alice), 201)
    for method, body in (("GET", None), ("POST", {"text": "eve was here"})):
        r = http.call(method, f"/v1/conversations/{conv['id']}/messages", body, as_=eve)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text
        assert "for bob only" not in r.text
    assert ok(http.call("GET", "/v1/conversations", as_=eve))["data"] == []
    listed = ok(http.call("GET", "/v1/conversations", as_=bob))["data"]
    assert [c["id"] for c in listed] == [conv["id"]] and listed[0]["unread_count"] == 1
    texts = [m["text"] for m in ok(http.call("GET", f"/v1/conversations/{conv['id']}/messages", as_=bob))["data"]]
    assert texts == ["for bob only"]
    assert ok(http.call("GET", "/v1/conversations", as_=bob))["data"][0]["unread_count"] == 0


# --- concurrency: many clients at once, exact counts -------------------------------------------------------------

def _all(fn, items, workers=20):
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items))


def _fresh_clients(http, n):
    """n people, each with their own connection (httpx clients are not shared across threads here)."""
    import httpx
    handles = [http.signup() for _ in range(n)]
    return [(h, httpx.Client(base_url=http.base_url, timeout=60,
                             headers={"Authorization": f"Bearer {http.tokens[h]}",
                                      "Content-Type": "application/json"})) for h in handles]


def test_20_concurrent_likes_count_exactly_20(http):
    author = http.signup()
    p = post(http, author, "like me, all at once")
    clients = _fresh_clients(http, 20)
    try:
        answers = _all(lambda c: c[1].post(f"/v1/posts/{p['id']}/likes"), clients)
        assert [a.status_code for a in answers] == [200] * 20, [a.text for a in answers if a.status_code != 200]
        assert all(a.json()["liked"] is True for a in answers)
        assert ok(http.call("GET", f"/v1/posts/{p['id']}", as_=author))["like_count"] == 20
        # Everyone likes again, at once: idempotent, still 20.
        again = _all(lambda c: c[1].post(f"/v1/posts/{p['id']}/likes"), clients)
        assert [a.status_code for a in again] == [200] * 20
        assert ok(http.call("GET", f"/v1/posts/{p['id']}", as_=author))["like_count"] == 20
        # Half unlike, twice each, at once.
        half = clients[:10] * 2
        gone = _all(lambda c: c[1].delete(f"/v1/posts/{p['id']}/likes"), half)
        assert [a.status_code for a in gone] == [200] * 20
        assert ok(http.call("GET", f"/v1/posts/{p['id']}", as_=author))["like_count"] == 10
    finally:
        for _, c in clients:
            c.close()


def test_20_concurrent_follows_count_exactly_20(http):
    star = http.signup()
    clients = _fresh_clients(http, 20)
    try:
        twice = clients * 2                                   # each follower follows twice, all at once
        answers = _all(lambda c: c[1].post(f"/v1/users/{star}/follow"), twice, workers=40)
        assert [a.status_code for a in answers] == [200] * 40, [a.text for a in answers if a.status_code != 200]
        assert ok(http.call("GET", f"/v1/users/{star}", as_=star))["follower_count"] == 20
        for handle, _ in clients:
            assert ok(http.call("GET", f"/v1/users/{handle}", as_=star))["following_count"] == 1
        followers, cursor = [], None
        while True:
            body = ok(get(http, star, f"/v1/users/{star}/followers", limit=7, **({"cursor": cursor} if cursor else {})))
            followers += [u["handle"] for u in body["data"]]
            cursor = body["next_cursor"]
            if not cursor:
                break
        assert sorted(followers) == sorted(h for h, _ in clients)
        gone = _all(lambda c: c[1].delete(f"/v1/users/{star}/follow"), twice, workers=40)
        assert [a.status_code for a in gone] == [200] * 40
        assert ok(http.call("GET", f"/v1/users/{star}", as_=star))["follower_count"] == 0
    finally:
        for _, c in clients:
            c.close()
