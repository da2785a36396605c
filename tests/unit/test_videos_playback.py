"""Playback (API.md, Videos): who gets a presigned GET of a post's video,
who is refused; the URL in no other answer and no log; views counted exactly.

alice is the creator. bob unlocked her paid post; carol subscribes; dave
follows and pays nothing; erin is a verified stranger; frank is unverified.
Built once per module, restored for each test."""
import logging
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from chalicelib.social import videos
from tests.unit.conftest import module_stack
from tests.unit.videos_helpers import MP4, WEBM, ready_video

PRICE = {"amount": 999, "currency": "USD"}
TEXTS = {"free": "freefilm an everyday film anyone may watch",
         "paid": "paidfilm a film behind a price, the secret is zanzibarword",
         "subs": "subsfilm a film for my subscribers only"}
VIEWERS = ("alice", "bob", "carol", "dave", "erin", "frank")
WATCHES = {"free": set(VIEWERS), "paid": {"alice", "bob"}, "subs": {"alice", "carol"}}


def ok(r, status=200):
    assert r.status_code == status, (r.status_code, r.body)
    return r.json_body


def key():
    return str(uuid.uuid4())


def _build(api):
    for h in ("alice", "bob", "carol", "dave", "erin"):
        api.verified(h)
    api.signup("frank")
    for h in ("bob", "carol"):
        api.deposit(h, 50_000)
    for h in ("bob", "carol", "dave"):
        ok(api.call("POST", "/v1/users/alice/follow", as_=h))
    ok(api.call("PUT", "/v1/me/subscription-price", {"amount": 500, "currency": "USD"}, as_="alice"))
    bodies = {"free": {}, "paid": {"price": PRICE}, "subs": {"audience": "subscribers"}}
    ids = {}
    for name, extra in bodies.items():
        video_id = ready_video(api, "alice", WEBM if name == "subs" else MP4,
                               "video/webm" if name == "subs" else "video/mp4")
        ids[name] = ok(api.call("POST", "/v1/posts", {"text": TEXTS[name], "video_id": video_id, **extra},
                                as_="alice"), 201)["id"]
    ok(api.money("POST", f"/v1/posts/{ids['paid']}/unlock", None, "bob", key()), 201)
    ok(api.money("POST", "/v1/users/alice/subscription", None, "carol", key()), 201)
    ok(api.call("POST", "/v1/conversations", {"with": "bob"}, as_="alice"), 201)
    return ids


stack, aws = module_stack(_build)


@pytest.fixture
def world(api, stack):
    api.tokens.update(stack[1])
    return api, stack[2]


def test_the_playback_matrix(world):
    api, ids = world
    for name, post_id in ids.items():
        for viewer in VIEWERS:
            r = api.call("GET", f"/v1/posts/{post_id}/video", as_=viewer)
            if viewer in WATCHES[name]:
                body = ok(r)
                assert set(body) == {"url", "expires_at"}
            else:
                assert r.status_code == 403 and r.json_body["error"]["code"] == "forbidden", (name, viewer, r.body)
    assert api.call("GET", f"/v1/posts/{ids['free']}/video").status_code == 401


def test_the_url_fetches_the_bytes_and_is_signed_for_the_ttl(world):
    api, ids = world
    body = ok(api.call("GET", f"/v1/posts/{ids['paid']}/video", as_="bob"))
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(body["url"]).query)
    assert query["X-Amz-Expires"] == ["300"] and "X-Amz-Signature" in query
    got = requests.get(body["url"])
    assert got.status_code == 200 and got.content == MP4
    again = ok(api.call("GET", f"/v1/posts/{ids['paid']}/video", as_="bob"))
    assert again["url"] != body["url"] or again["expires_at"] >= body["expires_at"]


def test_a_post_without_a_video_or_gone_is_404(world):
    api, ids = world
    plain = ok(api.call("POST", "/v1/posts", {"text": "no film here"}, as_="alice"), 201)["id"]
    for post_id in (plain, "post_nope", "x" * 200):
        r = api.call("GET", f"/v1/posts/{post_id}/video", as_="alice")
        assert r.status_code == 404 and r.json_body["error"]["code"] == "not_found", r.body
    assert api.call("DELETE", f"/v1/posts/{ids['free']}", as_="alice").status_code == 204
    assert api.call("GET", f"/v1/posts/{ids['free']}/video", as_="dave").status_code == 404


def test_a_locked_post_keeps_its_video_locked_like_its_text(world):
    api, ids = world
    seen = ok(api.call("GET", f"/v1/posts/{ids['paid']}", as_="dave"))
    assert seen["locked"] and seen["video_id"] is None and seen["video_url"] is None and seen["has_video"]
    mine = ok(api.call("GET", f"/v1/posts/{ids['paid']}", as_="alice"))
    assert not mine["locked"] and mine["video_id"].startswith("vid_") and mine["view_count"] == 0


def _every_answer(api, ids, viewer):
    paths = [f"/v1/posts/{p}" for p in ids.values()]
    paths += ["/v1/timeline?limit=100", "/v1/users/alice/posts?limit=100", "/v1/conversations",
              "/v1/me/earnings?month=2026-03"]
    paths += [f"/v1/search?q={t.split()[0]}" for t in TEXTS.values()]
    return [api.call("GET", path, as_=viewer).body.decode() for path in paths]


def test_the_url_is_in_no_other_answer_and_no_log(world, caplog):
    api, ids = world
    # Every logger at INFO (Lambda's level; botocore's own DEBUG wire log prints
    # the signature of every request it signs, DynamoDB's too, and stays off),
    # Flock's own at DEBUG.
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="flock")
    caplog.set_level(logging.DEBUG, logger="app")
    urls = [ok(api.call("GET", f"/v1/posts/{p}/video", as_="alice"))["url"] for p in ids.values()]
    reply = ok(api.call("POST", "/v1/posts", {"text": "a reply", "reply_to": ids["free"]}, as_="bob"), 201)
    for viewer in VIEWERS:
        for text in _every_answer(api, ids, viewer) + [api.call("GET", f"/v1/posts/{reply['id']}", as_=viewer).body.decode()]:
            assert "X-Amz-Signature" not in text and "amazonaws" not in text and "videos/" not in text
    signatures = [urllib.parse.parse_qs(urllib.parse.urlsplit(u).query)["X-Amz-Signature"][0] for u in urls]
    assert not any(sig in caplog.text for sig in signatures)


def test_each_answer_counts_a_view_the_authors_too(world):
    api, ids = world
    for viewer in ("alice", "bob", "bob"):
        ok(api.call("GET", f"/v1/posts/{ids['paid']}/video", as_=viewer))
    ok(api.call("GET", f"/v1/posts/{ids['paid']}/video", as_="dave"), 403)  # refused: no view
    assert ok(api.call("GET", f"/v1/posts/{ids['paid']}", as_="dave"))["view_count"] == 3



def test_a_hundred_concurrent_viewers_are_counted_exactly(world, one_request_at_a_time):
    api, ids = world
    viewer_id = api.call("GET", "/v1/me", as_="dave").json_body["id"]
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda _: videos.playback(viewer_id, ids["free"]), range(100)))
    assert len({a.url for a in answers}) >= 1 and all(a.url for a in answers)
    assert ok(api.call("GET", f"/v1/posts/{ids['free']}", as_="erin"))["view_count"] == 100


def test_earnings_show_each_posts_views_and_unlock_revenue(world):
    api, ids = world
    for _ in range(2):
        ok(api.call("GET", f"/v1/posts/{ids['paid']}/video", as_="bob"))
    ok(api.call("GET", f"/v1/posts/{ids['subs']}/video", as_="carol"))
    earned = ok(api.call("GET", "/v1/me/earnings?month=2026-03", as_="alice"))
    rows = {r["post_id"]: r for r in earned["posts"]}
    assert rows[ids["paid"]] == {"post_id": ids["paid"], "view_count": 2, "unlocks": 1, "unlock_gross": 999,
                                 "unlock_fees": 99, "unlock_net": 900}
    assert rows[ids["subs"]]["view_count"] == 1 and rows[ids["subs"]]["unlocks"] == 0
    assert rows[ids["free"]]["view_count"] == 0
    assert earned["by_kind"]["unlock"]["gross"] == 999


def test_video_id_on_a_post_is_only_the_posters_own_ready_unused_video(world):
    api, ids = world
    theirs = ready_video(api, "erin")
    mine_used = ok(api.call("GET", f"/v1/posts/{ids['free']}", as_="alice"))["video_id"]
    offered = ok(api.call("POST", "/v1/videos", {"content_type": "video/mp4", "size_bytes": 10}, as_="alice"), 201)
    for video_id in (theirs, mine_used, offered["id"], "vid_nope", "post_x"):
        r = api.call("POST", "/v1/posts", {"text": "mine now", "video_id": video_id}, as_="alice")
        assert r.status_code == 400 and r.json_body["error"]["param"] == "video_id", (video_id, r.body)
    fresh = ready_video(api, "alice")
    r = api.call("POST", "/v1/posts", {"text": "both", "video_id": fresh, "video_url": "https://x.example/v"},
                 as_="alice")
    assert r.status_code == 400 and r.json_body["error"]["param"] == "video_id"
    for bad in (5, ["vid_x"], "v" * 65, True):
        r = api.call("POST", "/v1/posts", {"text": "typed", "video_id": bad}, as_="alice")
        assert r.status_code == 400 and r.json_body["error"]["param"] == "video_id", r.body


def test_two_posts_racing_for_one_video_one_wins(world, one_request_at_a_time):
    api, _ = world
    from chalicelib.identity import users
    from chalicelib.social import posts
    fresh = ready_video(api, "alice")
    alice = users.find_by_handle("alice")
    principal = users.Principal(user_id=alice.id, handle="alice", role="user", verified=True, frozen=False,
                                account_id=alice.account_id)

    def attach(i):
        try:
            return posts.create(principal, f"race {i}", video_id=fresh).id
        except Exception as refusal:  # noqa: BLE001  (the loser's 400)
            return type(refusal).__name__
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attach, range(8)))
    won = [o for o in outcomes if o.startswith("post_")]
    assert len(won) == 1 and set(outcomes) - set(won) == {"InvalidRequest"}
    assert ok(api.call("GET", f"/v1/videos/{fresh}", as_="alice"))["post_id"] == won[0]
