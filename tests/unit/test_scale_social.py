"""Issue 17: no hot item on the social paths. Likes, tips, replies and
unlocks write one of the post's counter shards and never the post item
(its existence is a condition on the shard, which a delete tombstones); a
hot post is widened; a celebrity's follower count lives on shards.

Concurrency: moto is not thread-safe, so, as the local stack does, one
request reaches it at a time; threads still interleave between requests."""
import dataclasses
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib import clock, ids
from chalicelib.config import settings
from chalicelib.db import base
from chalicelib.db.users import HandleItem, UserItem
from chalicelib.identity import tokens
from chalicelib.db.posts import PostItem, post_key
from chalicelib.social import timeline



class Writes:
    """The items every DynamoDB write request touches (pk, sk)."""

    def __init__(self):
        self.items = []

    def __call__(self, model=None, params=None, **kwargs):
        body = json.loads(params["body"]) if params and params.get("body") else {}
        for entry in body.get("TransactItems", []):
            (_, spec), = entry.items()
            key = spec.get("Key") or spec["Item"]
            self.items.append((key["pk"]["S"], key["sk"]["S"]))
        if model.name in ("PutItem", "UpdateItem", "DeleteItem"):
            key = body.get("Key") or body["Item"]
            self.items.append((key["pk"]["S"], key["sk"]["S"]))


@pytest.fixture
def writes():
    seen = Writes()
    base.register_hook("before-call.dynamodb", seen)
    yield seen
    base.unregister_hook("before-call.dynamodb", seen)


def crowd(api, n, prefix="f"):
    """`n` people with live sessions and tokens, written in a few batch
    calls: what signup leaves for a person (the person, the handle claim, a
    session the token names), without n argon2 hashes and 2n transactions —
    signup has tests of its own; these are about the n requests after it."""
    handles = [f"{prefix}{i:03d}" for i in range(n)]
    items = []
    for handle in handles:
        user_id, session_id = ids.new_id("usr"), ids.new_id("ses")
        items += [UserItem.new(id=user_id, handle=handle, password_hash="-", created_at=clock.iso(clock.now()),
                               sessions={session_id}),
                  HandleItem.new(handle, user_id)]
        api.tokens[handle] = tokens.issue(user_id, "user", 0, session_id)
    base.batch_write("users", puts=items)
    return handles


def ok(r, status=200):
    assert r.status_code == status, r.body
    return r.json_body


def test_each_thread_calling_the_app_sees_its_own_request(api):
    """Chalice keeps the current request on the app (one per Lambda). The
    concurrency tests call one app from many threads: each must read its own
    request, or a like sent as one fan lands as another (once, 99 likes of
    100 were counted)."""
    from app import app
    app.current_request = "this thread's"
    other = threading.Thread(target=setattr, args=(app, "current_request", "another thread's"))
    other.start()
    other.join()
    assert app.current_request == "this thread's"


def test_100_concurrent_likes_on_one_post_count_exactly(api, one_request_at_a_time):
    api.verified("star")
    post = ok(api.call("POST", "/v1/posts", {"text": "viral"}, as_="star"), 201)
    fans = crowd(api, 100)
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda h: api.call("POST", f"/v1/posts/{post['id']}/likes", as_=h), fans))
    assert [r.status_code for r in answers] == [200] * 100
    assert all(r.json_body["liked"] is True and 1 <= r.json_body["like_count"] <= 100 for r in answers)
    assert ok(api.call("GET", f"/v1/posts/{post['id']}", as_="star"))["like_count"] == 100
    # Again, and unlikes, concurrently: likes are idempotent, unlikes exact.
    with ThreadPoolExecutor(max_workers=16) as pool:
        again = list(pool.map(lambda h: api.call("POST", f"/v1/posts/{post['id']}/likes", as_=h), fans[:50]))
        gone = list(pool.map(lambda h: api.call("DELETE", f"/v1/posts/{post['id']}/likes", as_=h), fans[50:]))
    assert {r.status_code for r in again + gone} == {200}
    assert ok(api.call("GET", f"/v1/posts/{post['id']}", as_="star"))["like_count"] == 50


def test_100_concurrent_follows_of_a_celebrity_count_exactly(api, one_request_at_a_time):
    api.verified("celeb")
    timeline.promote_celebrity(people_id(api, "celeb"))
    fans = crowd(api, 100)
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda h: api.call("POST", "/v1/users/celeb/follow", as_=h), fans))
    assert [r.status_code for r in answers] == [200] * 100
    assert ok(api.call("GET", "/v1/users/celeb", as_="celeb"))["follower_count"] == 100
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda h: api.call("POST", "/v1/users/celeb/follow", as_=h), fans[:30]))  # no-ops
        left = list(pool.map(lambda h: api.call("DELETE", "/v1/users/celeb/follow", as_=h), fans[70:]))
    assert {r.status_code for r in left} == {200}
    assert ok(api.call("GET", "/v1/users/celeb", as_="celeb"))["follower_count"] == 70
    listed = ok(api.call("GET", "/v1/users/f000/following", as_="f000"))["data"]
    assert listed[0]["handle"] == "celeb" and listed[0]["follower_count"] == 70


def test_100_concurrent_follows_of_a_person_becoming_a_celebrity_count_exactly(api, one_request_at_a_time,
                                                                             monkeypatch):
    """The promotion lands midway: follows before it count on the user item,
    after it on the shards; the count is their sum."""
    tight = dataclasses.replace(settings(), celebrity_followers_min=40)
    monkeypatch.setattr("chalicelib.social.graph.settings", lambda: tight)
    api.verified("rising")
    fans = crowd(api, 100)
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda h: api.call("POST", "/v1/users/rising/follow", as_=h), fans))
    assert [r.status_code for r in answers] == [200] * 100
    assert ok(api.call("GET", "/v1/users/rising", as_="rising"))["follower_count"] == 100


def people_id(api, handle):
    from chalicelib.identity.users import find_by_handle
    return find_by_handle(handle).id


def test_likes_tips_replies_and_unlocks_never_write_the_post_item(api, writes):
    api.verified("author")
    api.verified("fan")
    api.deposit("fan", 10_000)
    post = ok(api.call("POST", "/v1/posts", {"text": "free"}, as_="author"), 201)
    paid = ok(api.call("POST", "/v1/posts", {"text": "paid " * 20, "price": {"amount": 300, "currency": "USD"}},
                       as_="author"), 201)
    writes.items.clear()
    ok(api.call("POST", f"/v1/posts/{post['id']}/likes", as_="fan"))
    ok(api.call("DELETE", f"/v1/posts/{post['id']}/likes", as_="fan"))
    ok(api.money("POST", f"/v1/posts/{post['id']}/tips", {"amount": 100, "currency": "USD"}, "fan", "t1"), 201)
    ok(api.money("POST", f"/v1/posts/{paid['id']}/unlock", None, "fan", "u1"), 201)
    ok(api.call("POST", "/v1/posts", {"text": "a reply", "reply_to": post["id"]}, as_="fan"), 201)
    assert writes.items and post_key(post["id"]) not in writes.items and post_key(paid["id"]) not in writes.items
    shown = ok(api.call("GET", f"/v1/posts/{post['id']}", as_="fan"))
    assert (shown["like_count"], shown["tip_total"], shown["reply_count"]) == (0, 100, 1)


def test_a_like_tip_or_reply_that_read_the_post_before_its_delete_is_refused(api, monkeypatch):
    """The post item is not in their transactions: the tombstoned shard refuses them."""
    api.verified("author")
    api.verified("fan")
    api.deposit("fan", 10_000)
    post = ok(api.call("POST", "/v1/posts", {"text": "soon gone"}, as_="author"), 201)
    stale = PostItem.get(*post_key(post["id"]), consistent_read=True)
    assert api.call("DELETE", f"/v1/posts/{post['id']}", as_="author").status_code == 204
    monkeypatch.setattr("chalicelib.social.posts._find", lambda post_id: stale)
    monkeypatch.setattr("chalicelib.finance.creator._live_post", lambda post_id: stale)
    before = api.wallet("fan")["balance"]
    assert api.call("POST", f"/v1/posts/{post['id']}/likes", as_="fan").status_code == 404
    assert api.money("POST", f"/v1/posts/{post['id']}/tips", {"amount": 100, "currency": "USD"}, "fan",
                     "t1").status_code == 404
    assert api.call("POST", "/v1/posts", {"text": "late", "reply_to": post["id"]}, as_="fan").status_code == 404
    assert api.wallet("fan")["balance"] == before


def test_a_hot_post_is_widened_and_still_counts_and_deletes_exactly(api, monkeypatch):
    hot = dataclasses.replace(settings(), hot_post_likes=3, hot_post_counter_shards=40)
    monkeypatch.setattr("chalicelib.social.posts.settings", lambda: hot)
    api.verified("author")
    api.verified("fan")
    api.deposit("fan", 10_000)
    post = ok(api.call("POST", "/v1/posts", {"text": "going viral"}, as_="author"), 201)
    fans = crowd(api, 12)
    for i, handle in enumerate(fans):
        assert ok(api.call("POST", f"/v1/posts/{post['id']}/likes", as_=handle))["like_count"] == i + 1
    assert int(PostItem.get(*post_key(post["id"])).counter_shards) == 40
    ok(api.money("POST", f"/v1/posts/{post['id']}/tips", {"amount": 250, "currency": "USD"}, "fan", "t1"), 201)
    shown = ok(api.call("GET", f"/v1/posts/{post['id']}", as_="fan"))
    assert (shown["like_count"], shown["tip_total"]) == (12, 250)
    page = ok(api.call("GET", "/v1/users/author/posts", as_="fan"))["data"]
    assert page[0]["like_count"] == 12
    stale = PostItem.get(*post_key(post["id"]), consistent_read=True)
    assert api.call("DELETE", f"/v1/posts/{post['id']}", as_="author").status_code == 204
    assert api.call("GET", f"/v1/posts/{post['id']}", as_="fan").status_code == 404
    monkeypatch.setattr("chalicelib.social.posts._find", lambda post_id: stale)
    for handle in ("fan", "author"):  # every one of the 40 shards refuses, whichever is picked
        for _ in range(5):
            assert api.call("POST", f"/v1/posts/{post['id']}/likes", as_=handle).status_code == 404
