"""Who sees what of paid and subscriber posts (issue 5), on every surface a
post appears on: GET /v1/posts/{id}, the home timeline, the author's post
list and search results.

alice is the creator; bob unlocked her paid post; carol subscribes to her;
dave is a stranger; erin unlocked *and* subscribes; nobody signed in gets 401.
The people, posts, unlocks and subscriptions are built once per module and
restored for each test."""
import urllib.parse
import uuid

import pytest

from tests.unit.conftest import module_stack

VIDEO = "https://video.example/premium.mp4"
# Each text starts with its own marker word (inside the 40-character preview,
# so search finds the post) and hides a word past the preview.
TEXTS = {
    "free": "freemarker an everyday post anyone may read in full, no price",
    "paid": "paidmarker a secret recipe for sourdough, the hidden step is zanzibarword",
    "subs": "subsmarker for my subscribers only, the backstage story is quixoticword",
    "both": "bothmarker paid and for subscribers only, the exclusive part is xylophoneword",
}
PRICE = {"amount": 999, "currency": "USD"}
SURFACES = ("get", "timeline", "user_posts", "search")


def ok(r, status=200):
    assert r.status_code == status, (r.status_code, r.body)
    return r.json_body


def refused(r, status, code):
    assert r.status_code == status, (r.status_code, r.body)
    assert r.json_body["error"]["code"] == code, r.body


def key():
    return str(uuid.uuid4())


def seen_on(api, viewer, post_id, marker):
    """How `viewer` sees the post on each surface (None where it is absent)."""
    found = {"get": ok(api.call("GET", f"/v1/posts/{post_id}", as_=viewer))}
    lists = {"timeline": "/v1/timeline?limit=100", "user_posts": "/v1/users/alice/posts?limit=100",
             "search": f"/v1/search?q={urllib.parse.quote(marker)}&limit=100"}
    for surface, path in lists.items():
        items = [p for p in ok(api.call("GET", path, as_=viewer))["data"] if p["id"] == post_id]
        assert len(items) <= 1, (surface, items)
        found[surface] = items[0] if items else None
    return found


def _build(api):
    for h in ("alice", "bob", "carol", "erin"):
        api.verified(h)
    api.signup("dave")
    for h in ("bob", "carol", "erin"):
        api.deposit(h, 50_000)
    for h in ("bob", "carol", "dave", "erin"):
        ok(api.call("POST", "/v1/users/alice/follow", as_=h))
    ok(api.call("PUT", "/v1/me/subscription-price", {"amount": 500, "currency": "USD"}, as_="alice"))
    posts = {
        "free": ok(api.call("POST", "/v1/posts", {"text": TEXTS["free"]}, as_="alice"), 201),
        "paid": ok(api.call("POST", "/v1/posts", {"text": TEXTS["paid"], "price": PRICE, "video_url": VIDEO},
                            as_="alice"), 201),
        "subs": ok(api.call("POST", "/v1/posts", {"text": TEXTS["subs"], "audience": "subscribers",
                                                  "video_url": VIDEO}, as_="alice"), 201),
        "both": ok(api.call("POST", "/v1/posts", {"text": TEXTS["both"], "price": PRICE, "audience": "subscribers",
                                                  "video_url": VIDEO}, as_="alice"), 201),
    }
    ids = {name: p["id"] for name, p in posts.items()}
    for who in ("bob", "erin"):
        ok(api.money("POST", f"/v1/posts/{ids['paid']}/unlock", None, who, key()), 201)
    for who in ("carol", "erin"):
        ok(api.money("POST", "/v1/users/alice/subscription", None, who, key()), 201)
    # Only a subscriber may buy a subscribers-only post.
    ok(api.money("POST", f"/v1/posts/{ids['both']}/unlock", None, "erin", key()), 201)
    return ids


stack, aws = module_stack(_build)


@pytest.fixture
def world(api, stack):
    api.tokens.update(stack[1])
    return api, stack[2]


# Who may read each post in full (everyone else sees it locked).
OPEN_TO = {
    "free": {"alice", "bob", "carol", "dave", "erin"},
    "paid": {"alice", "bob", "erin"},
    "subs": {"alice", "carol", "erin"},
    "both": {"alice", "erin"},  # paid *and* for subscribers: both are needed
}


def everything_seen_by(api, viewer, ids):
    """(post name, surface) -> how `viewer` sees it, None where it is absent:
    one read of each list, one search per post (by its marker word)."""
    by_id = {post_id: name for name, post_id in ids.items()}
    seen = {(name, surface): None for name in ids for surface in SURFACES}
    for name, post_id in ids.items():
        seen[(name, "get")] = ok(api.call("GET", f"/v1/posts/{post_id}", as_=viewer))
    lists = [("timeline", "/v1/timeline?limit=100"), ("user_posts", "/v1/users/alice/posts?limit=100")]
    lists += [("search", f"/v1/search?q={TEXTS[name].split()[0]}&limit=100") for name in ids]
    for surface, path in lists:
        for item in ok(api.call("GET", path, as_=viewer))["data"]:
            name = by_id.get(item["id"])
            if name is not None and (surface != "search" or path.endswith(f"q={TEXTS[name].split()[0]}&limit=100")):
                seen[(name, surface)] = item
    return seen


def test_the_visibility_matrix_on_every_surface(world):
    api, ids = world
    failures = []
    for viewer in ("alice", "bob", "carol", "dave", "erin"):
        seen = everything_seen_by(api, viewer, ids)
        for name in ids:
            expected_open = viewer in OPEN_TO[name]
            video = None if name == "free" or not expected_open else VIDEO
            text = TEXTS[name] if expected_open else TEXTS[name][:40]
            price = PRICE if name in ("paid", "both") else None
            for surface in SURFACES:
                view = seen[(name, surface)]
                if view is None:
                    failures.append((name, viewer, surface, "missing"))
                elif (view["locked"], view["text"], view["video_url"], view["price"]) != (
                        not expected_open, text, video, price):
                    failures.append((name, viewer, surface, view["locked"], view["text"], view["video_url"],
                                     view["price"]))
    assert failures == []


def test_signed_out_callers_see_nothing_at_all(world):
    api, ids = world
    for path in (f"/v1/posts/{ids['paid']}", f"/v1/posts/{ids['subs']}", "/v1/timeline", "/v1/users/alice/posts",
                 "/v1/search?q=paidmarker"):
        refused(api.call("GET", path), 401, "unauthenticated")
        refused(api.call("GET", path, token="not-a-token"), 401, "unauthenticated")
    for path, body in ((f"/v1/posts/{ids['paid']}/unlock", None), (f"/v1/posts/{ids['paid']}/tips", {"amount": 100, "currency": "USD"}),
                       ("/v1/users/alice/subscription", {"pay_currency": "USD"})):
        refused(api.call("POST", path, body, headers={"Idempotency-Key": key()}), 401, "unauthenticated")


def test_search_never_finds_a_locked_post_by_its_hidden_words(world):
    """A paywalled post is indexed by its preview only (indexing the rest
    would let anyone probe it word by word), for every viewer, those who
    may read it included. The controls show the searches could find what
    they do not: the same query finds a public post with that word, and the
    post's preview word finds the post itself."""
    api, ids = world
    markers = {"paid": "paidmarker", "subs": "subsmarker", "both": "bothmarker"}
    public = ok(api.call("POST", "/v1/posts", {"text": "open to all: zanzibarword quixoticword xylophoneword"},
                         as_="bob"), 201)
    for name, hidden in (("paid", "zanzibarword"), ("subs", "quixoticword"), ("both", "xylophoneword")):
        for viewer in ("dave", "bob", "carol", "erin", "alice"):
            found = [p["id"] for p in ok(api.call("GET", f"/v1/search?q={hidden}", as_=viewer))["data"]]
            assert ids[name] not in found, (name, viewer)
            assert public["id"] in found, (name, viewer)  # the word is searchable, and this viewer gets results
            by_preview = [p["id"] for p in ok(api.call("GET", f"/v1/search?q={markers[name]}", as_=viewer))["data"]]
            assert ids[name] in by_preview, (name, viewer)  # the post itself is in the index, shown to this viewer


def test_an_unlock_opens_that_post_only_and_a_subscription_that_creator_only(world):
    api, ids = world
    api.verified("zed")
    ok(api.call("PUT", "/v1/me/subscription-price", {"amount": 300, "currency": "USD"}, as_="zed"))
    zed_paid = ok(api.call("POST", "/v1/posts", {"text": TEXTS["paid"], "price": PRICE}, as_="zed"), 201)
    zed_subs = ok(api.call("POST", "/v1/posts", {"text": TEXTS["subs"], "audience": "subscribers"}, as_="zed"), 201)
    # bob unlocked alice's paid post, carol subscribes to alice: neither opens zed's.
    assert ok(api.call("GET", f"/v1/posts/{zed_paid['id']}", as_="bob"))["locked"] is True
    assert ok(api.call("GET", f"/v1/posts/{zed_subs['id']}", as_="carol"))["locked"] is True
    # A second paid post by alice stays locked for bob until he unlocks it too.
    second = ok(api.call("POST", "/v1/posts", {"text": TEXTS["paid"], "price": PRICE}, as_="alice"), 201)
    assert ok(api.call("GET", f"/v1/posts/{second['id']}", as_="bob"))["locked"] is True
    ok(api.money("POST", f"/v1/posts/{second['id']}/unlock", None, "bob", key()), 201)
    assert ok(api.call("GET", f"/v1/posts/{second['id']}", as_="bob"))["locked"] is False
    # A subscriber post alice makes later is open to her subscribers at once.
    later = ok(api.call("POST", "/v1/posts", {"text": TEXTS["subs"], "audience": "subscribers"}, as_="alice"), 201)
    assert ok(api.call("GET", f"/v1/posts/{later['id']}", as_="carol"))["locked"] is False
    assert ok(api.call("GET", f"/v1/posts/{later['id']}", as_="dave"))["locked"] is True


def test_a_failed_subscription_or_unlock_opens_nothing(world):
    api, ids = world
    api.verified("frank")  # verified, but no money
    refused(api.money("POST", f"/v1/posts/{ids['paid']}/unlock", None, "frank", key()), 422, "insufficient_funds")
    refused(api.money("POST", "/v1/users/alice/subscription", None, "frank", key()), 422, "insufficient_funds")
    for name in ("paid", "subs", "both"):
        views = seen_on(api, "frank", ids[name], TEXTS[name].split()[0])
        assert views["get"]["locked"] is True, name
        assert views["user_posts"]["locked"] is True and views["search"]["locked"] is True, name


def test_a_deleted_paid_post_vanishes_for_those_who_paid_too(world):
    api, ids = world
    assert api.call("DELETE", f"/v1/posts/{ids['paid']}", as_="alice").status_code == 204
    for viewer in ("alice", "bob", "dave"):
        refused(api.call("GET", f"/v1/posts/{ids['paid']}", as_=viewer), 404, "not_found")
        for path in ("/v1/timeline?limit=100", "/v1/users/alice/posts?limit=100", "/v1/search?q=paidmarker"):
            assert ids["paid"] not in [p["id"] for p in ok(api.call("GET", path, as_=viewer))["data"]], (viewer, path)
    refused(api.money("POST", f"/v1/posts/{ids['paid']}/unlock", None, "carol", key()), 404, "not_found")


def test_locking_costs_one_batch_read_per_page_not_one_per_post(world):
    """The viewer's unlocks and subscriptions for a whole page come in one
    BatchGetItem, beside the one of the posts and counters."""
    from chalicelib.db.base import register_hook, unregister_hook
    api, ids = world
    calls = []

    def count(event_name, **kwargs):
        calls.append(event_name.rsplit(".", 1)[-1])
    register_hook("before-call.dynamodb", count)
    try:
        page = ok(api.call("GET", "/v1/users/alice/posts?limit=100", as_="dave"))["data"]
    finally:
        unregister_hook("before-call.dynamodb", count)
    assert len(page) == 4
    assert calls.count("BatchGetItem") == 2, calls
