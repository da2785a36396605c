"""The home timeline as its readers see it: fan-out on write, celebrities
merged at read time, backfill on follow, removal on unfollow and delete, and
the SQS fan-out worker driven through Chalice's test client events."""
import dataclasses
import json
import urllib.parse

import pytest

from tests.unit.conftest import take_all


def ok(r, status=200):
    assert r.status_code == status, (r.status_code, r.body)
    return r.json_body


def post(api, who, text, **extra):
    return ok(api.call("POST", "/v1/posts", {"text": text, **extra}, as_=who), 201)


def follow(api, who, whom):
    assert ok(api.call("POST", f"/v1/users/{whom}/follow", as_=who)) == {"following": True}


def unfollow(api, who, whom):
    assert ok(api.call("DELETE", f"/v1/users/{whom}/follow", as_=who)) == {"following": False}


def delete(api, who, post_id):
    r = api.call("DELETE", f"/v1/posts/{post_id}", as_=who)
    assert r.status_code == 204, r.body


def pages(api, who, limit=20):
    """The timeline page by page, following next_cursor."""
    out, cursor = [], None
    while True:
        url = f"/v1/timeline?limit={limit}" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        body = ok(api.call("GET", url, as_=who))
        assert len(body["data"]) <= limit
        out.append(body["data"])
        cursor = body["next_cursor"]
        if cursor is None:
            return out
        assert len(out) < 100


def timeline_ids(api, who, limit=100):
    return [p["id"] for page in pages(api, who, limit) for p in page]


def stored_entries(user_handle):
    """The fan-out entries in the reader's timeline partition (not what the API shows)."""
    from chalicelib.db.posts import TimelineItem, timeline_partition
    from chalicelib.identity.users import find_by_handle
    return [e.sk for e in TimelineItem.query(timeline_partition(find_by_handle(user_handle).id),
                                             consistent_read=True)]


def is_celebrity(handle):
    from chalicelib.identity.users import find_by_handle
    return bool(find_by_handle(handle).celebrity)


@pytest.fixture
def threshold(monkeypatch):
    """Lower the celebrity threshold: set(n)."""
    from chalicelib.social import graph

    def set_(n):
        monkeypatch.setattr(graph, "celebrity_followers_min", lambda: n)
    return set_


# --- basics -------------------------------------------------------------------------------------------------------

def test_the_timeline_holds_own_posts_and_followed_ones_newest_first(api):
    for h in ("reader", "bob", "carol", "stranger"):
        api.signup(h)
    follow(api, "reader", "bob")
    follow(api, "reader", "carol")
    made = [post(api, "bob", "b1")["id"], post(api, "reader", "mine")["id"], post(api, "stranger", "nope")["id"],
            post(api, "carol", "c1")["id"], post(api, "bob", "b2")["id"]]
    shown = ok(api.call("GET", "/v1/timeline", as_="reader"))
    assert [p["id"] for p in shown["data"]] == [made[4], made[3], made[1], made[0]]
    assert shown["next_cursor"] is None
    assert [p["author"] for p in shown["data"]] == ["bob", "carol", "reader", "bob"]
    # Bob sees only his own: he follows nobody.
    assert [p["id"] for p in ok(api.call("GET", "/v1/timeline", as_="bob"))["data"]] == [made[4], made[0]]


def test_the_timeline_service_answers_frozen_post_records_the_route_pages(api, threshold):
    from chalicelib.social import timeline
    from tests.unit.test_social import assert_frozen, principal_of
    threshold(1)  # the first follow makes a celebrity: the page merges one too
    for h in ("reader", "star", "bob"):
        api.signup(h)
    follow(api, "reader", "star")
    follow(api, "reader", "bob")
    assert is_celebrity("star")
    made = [post(api, "star", "merged")["id"], post(api, "bob", "fanned out")["id"],
            post(api, "star", "merged again")["id"]]
    shown, last = timeline.home(principal_of("reader"), 2, None)
    assert [p.id for p in shown] == [made[2], made[1]] and last == made[1]
    assert_frozen(shown[0], "author", "bob")
    body = ok(api.call("GET", "/v1/timeline?limit=2", as_="reader"))
    assert [p.as_json() for p in shown] == body["data"]
    rest, last = timeline.home(principal_of("reader"), 2, made[1])
    assert [p.id for p in rest] == [made[0]] and last is None


def test_45_posts_by_3_authors_page_by_20_without_gaps_or_duplicates(api):
    authors = ("ann", "ben", "cat")
    for h in ("reader",) + authors:
        api.signup(h)
    for a in authors:
        follow(api, "reader", a)
    made = [post(api, authors[i % 3], f"post {i}")["id"] for i in range(45)]
    got = pages(api, "reader", limit=20)
    assert [len(p) for p in got][:3] == [20, 20, 5] and all(len(p) == 0 for p in got[3:])
    ids = [p["id"] for page in got for p in page]
    assert ids == list(reversed(made))
    created = [p["created_at"] for page in got for p in page]
    assert created == sorted(created, reverse=True)


def test_timeline_cursors_are_checked(api):
    api.signup("reader")
    for i in range(3):
        post(api, "reader", f"p{i}")
    first = ok(api.call("GET", "/v1/timeline?limit=1", as_="reader"))
    assert first["next_cursor"]
    for bad in ("garbage", "e30.AAAA", first["next_cursor"] + "x", "x" * 3000):
        r = api.call("GET", f"/v1/timeline?cursor={urllib.parse.quote(bad)}", as_="reader")
        assert r.status_code == 400 and r.json_body["error"]["code"] == "invalid_request", (bad, r.body)


def test_new_posts_of_followed_people_are_fanned_out_as_entries(api):
    for h in ("reader", "author", "other"):
        api.signup(h)
    follow(api, "reader", "author")
    follow(api, "other", "author")
    p = post(api, "author", "for my followers")
    assert stored_entries("reader") == [p["id"]] and stored_entries("other") == [p["id"]]
    assert stored_entries("author") == [p["id"]]


# --- backfill, unfollow, delete -----------------------------------------------------------------------------------

def seed_posts(handle, count):
    """`count` posts by `handle`, written with BatchWriteItem (oldest first)."""
    from chalicelib import ids
    from chalicelib.db import base
    from chalicelib.db.posts import PostItem, author_partition, post_key
    from chalicelib.identity.users import find_by_handle
    author = find_by_handle(handle)
    made = []
    for i in range(count):
        post_id = ids.new_id("post")
        made.append(PostItem(*post_key(post_id), id=post_id, author_id=author.id, author_handle=handle,
                             text=f"seeded {i}", created_at="2026-01-01T00:00:00.000Z",
                             gsi1_pk=author_partition(author.id), gsi1_sk=post_id))
    base.batch_write("posts", puts=made)
    return sorted(p.id for p in made)


def test_following_backfills_recent_posts_bounded_by_the_default_50(api):
    from chalicelib.config import settings
    assert settings().backfill_posts_max == 50
    api.signup("reader")
    api.signup("prolific")
    made = seed_posts("prolific", 50) + [post(api, "prolific", f"old {i}")["id"] for i in range(3)]
    follow(api, "reader", "prolific")
    assert timeline_ids(api, "reader") == list(reversed(made))[:50]
    newer = post(api, "prolific", "new one")["id"]
    assert timeline_ids(api, "reader")[:2] == [newer, made[-1]]


def test_the_backfill_bound_is_a_setting(api, monkeypatch):
    from chalicelib.social import graph
    monkeypatch.setattr(graph, "backfill_posts_max", lambda: 3)
    api.signup("reader")
    api.signup("author")
    made = [post(api, "author", f"old {i}")["id"] for i in range(6)]
    follow(api, "reader", "author")
    assert timeline_ids(api, "reader") == list(reversed(made))[:3]


def test_unfollowing_removes_the_authors_posts_and_stops_new_ones(api):
    for h in ("reader", "bob", "carol"):
        api.signup(h)
    old = post(api, "bob", "before the follow")["id"]
    follow(api, "reader", "bob")
    follow(api, "reader", "carol")
    fanned = post(api, "bob", "after the follow")["id"]
    keep = post(api, "carol", "carol stays")["id"]
    mine = post(api, "reader", "my own")["id"]
    assert set(timeline_ids(api, "reader")) == {old, fanned, keep, mine}
    unfollow(api, "reader", "bob")
    assert timeline_ids(api, "reader") == [mine, keep]
    assert set(stored_entries("reader")) == {keep, mine}
    later = post(api, "bob", "not for you any more")["id"]
    assert timeline_ids(api, "reader") == [mine, keep]
    # Following again backfills, the later post included.
    follow(api, "reader", "bob")
    assert timeline_ids(api, "reader") == [later, mine, keep, fanned, old]


def test_a_deleted_post_leaves_every_timeline_and_pages_stay_full(api):
    for h in ("reader", "author"):
        api.signup(h)
    follow(api, "reader", "author")
    made = [post(api, "author", f"p{i}")["id"] for i in range(25)]
    for post_id in made[-5:]:
        delete(api, "author", post_id)
    first = ok(api.call("GET", "/v1/timeline?limit=20", as_="reader"))["data"]
    assert [p["id"] for p in first] == list(reversed(made[:20]))
    assert not set(made[-5:]) & set(stored_entries("reader"))
    assert not set(made[-5:]) & set(stored_entries("author"))


def test_likes_and_replies_show_in_the_timeline(api):
    for h in ("reader", "author"):
        api.signup(h)
    follow(api, "reader", "author")
    p = post(api, "author", "like it")
    ok(api.call("POST", f"/v1/posts/{p['id']}/likes", as_="reader"))
    reply = post(api, "reader", "replying", reply_to=p["id"])
    shown = ok(api.call("GET", "/v1/timeline", as_="reader"))["data"]
    assert [x["id"] for x in shown] == [reply["id"], p["id"]]
    assert shown[1]["like_count"] == 1 and shown[1]["reply_count"] == 1 and shown[0]["reply_to"] == p["id"]


# --- celebrities --------------------------------------------------------------------------------------------------

def test_a_celebritys_posts_are_merged_at_read_time_not_fanned_out(api, threshold):
    threshold(3)
    for h in ("star", "normal", "f1", "f2", "f3", "late"):
        api.signup(h)
    before = post(api, "star", "before fame")["id"]
    follow(api, "f1", "star")
    follow(api, "f2", "star")
    assert not is_celebrity("star")
    follow(api, "f3", "star")
    assert is_celebrity("star")
    follow(api, "f1", "normal")

    made = []
    for i in range(6):
        made.append(post(api, "star" if i % 2 else "normal", f"merged {i}")["id"])
    star_posts = made[1::2]
    # No fan-out entries for the celebrity's new posts...
    for follower in ("f1", "f2", "f3"):
        assert not set(star_posts) & set(stored_entries(follower))
    # ... yet every follower sees them, merged in order with normal posts.
    assert timeline_ids(api, "f1") == list(reversed(made)) + [before]
    assert timeline_ids(api, "f2") == list(reversed(star_posts)) + [before]
    # Someone following after the promotion sees them too, with nothing copied.
    follow(api, "late", "star")
    assert timeline_ids(api, "late") == list(reversed(star_posts)) + [before]
    assert stored_entries("late") == []
    assert ok(api.call("GET", "/v1/users/star", as_="late"))["follower_count"] == 4


def test_celebrity_merge_paginates_in_order(api, threshold):
    threshold(1)
    for h in ("star", "also_star", "normal", "reader"):
        api.signup(h)
    follow(api, "reader", "star")
    follow(api, "reader", "also_star")
    follow(api, "reader", "normal")
    assert is_celebrity("star") and is_celebrity("also_star") and is_celebrity("normal")
    api.signup("plain")
    threshold(10)
    follow(api, "reader", "plain")
    assert not is_celebrity("plain")
    cycle = ("star", "plain", "also_star", "reader", "normal", "plain")
    made = [post(api, cycle[i % len(cycle)], f"n{i}")["id"] for i in range(20)]
    for limit in (3, 7, 20):
        assert timeline_ids(api, "reader", limit=limit) == list(reversed(made)), limit


def test_unfollowing_a_celebrity_removes_their_posts(api, threshold):
    threshold(2)
    for h in ("star", "f1", "f2"):
        api.signup(h)
    follow(api, "f1", "star")
    early = post(api, "star", "fanned out before fame")["id"]
    follow(api, "f2", "star")
    assert is_celebrity("star")
    late = post(api, "star", "merged after fame")["id"]
    assert timeline_ids(api, "f1") == [late, early]
    unfollow(api, "f1", "star")
    assert timeline_ids(api, "f1") == []
    assert stored_entries("f1") == []
    assert timeline_ids(api, "f2") == [late, early]


def test_a_celebritys_deleted_post_vanishes_from_followers(api, threshold):
    threshold(1)
    for h in ("star", "fan"):
        api.signup(h)
    follow(api, "fan", "star")
    keep = post(api, "star", "keep")["id"]
    gone = post(api, "star", "gone")["id"]
    delete(api, "star", gone)
    assert timeline_ids(api, "fan") == [keep]
    assert timeline_ids(api, "star") == [keep]


def test_the_default_threshold_is_10000_followers(api):
    from chalicelib.config import settings
    from chalicelib.db.users import UserItem
    from chalicelib.identity.users import find_by_handle
    assert settings().celebrity_followers_min == 10_000
    for h in ("star", "f1", "f2"):
        api.signup(h)
    # Seed the count (not 9,998 real people): the 9,999th follower is still fanned out to.
    UserItem.ref(find_by_handle("star").id).update(actions=[UserItem.follower_count.set(9_998)])
    follow(api, "f1", "star")
    assert not is_celebrity("star")
    fanned = post(api, "star", "fanned")["id"]
    assert fanned in stored_entries("f1")
    follow(api, "f2", "star")
    assert is_celebrity("star")
    assert ok(api.call("GET", "/v1/users/star", as_="f1"))["follower_count"] == 10_000
    merged = post(api, "star", "merged")["id"]
    assert merged not in stored_entries("f1") and merged not in stored_entries("f2")
    assert timeline_ids(api, "f1") == [merged, fanned]
    assert timeline_ids(api, "f2") == [merged, fanned]


def test_a_post_reaches_more_than_a_page_of_seeded_followers(api, monkeypatch):
    """Fan-out to 260 followers (edges seeded with BatchWriteItem): three
    pages of the followers query (its page size lowered), many batches of
    entries."""
    from chalicelib.social import timeline
    monkeypatch.setattr(timeline, "FOLLOWERS_PAGE", 100)
    from chalicelib import ids
    from chalicelib.db import base
    from chalicelib.db.posts import TimelineItem, timeline_partition
    from chalicelib.db.users import FollowEdge, follow_key, followers_partition, following_partition
    from chalicelib.identity.users import find_by_handle
    api.signup("popular")
    author_id = find_by_handle("popular").id
    followers = [ids.new_id("usr") for _ in range(260)]
    base.batch_write("users", puts=[
        FollowEdge(*follow_key(f, author_id), follower_id=f, followee_id=author_id,
                   created_at="2026-01-01T00:00:00.000Z", gsi1_pk=followers_partition(author_id),
                   gsi1_sk=f"2026-01-01T00:00:00.000Z#{f}", gsi2_pk=following_partition(f),
                   gsi2_sk=f"2026-01-01T00:00:00.000Z#{author_id}") for f in followers])
    p = post(api, "popular", "hello thousands")["id"]
    keys = [(timeline_partition(f), p) for f in followers]
    assert len(base.batch_get("posts", keys)) == 260
    delete(api, "popular", p)
    assert base.batch_get("posts", keys) == []
    assert TimelineItem.count(timeline_partition(followers[0])) == 0


# --- the SQS fan-out worker ---------------------------------------------------------------------------------------

@pytest.fixture
def queue(monkeypatch):
    """Fan-out through an SQS queue (moto), as on AWS; `drain()` returns the
    bodies sent so far and removes them from the queue."""
    import boto3

    from chalicelib.config import settings
    from chalicelib.social import fanout
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="flock-fanout")["QueueUrl"]
    patched = dataclasses.replace(settings(), fanout_queue_url=url)
    monkeypatch.setattr(fanout, "settings", lambda: patched)

    class Queue:
        def drain(self):
            return take_all(sqs, url)
    return Queue()


def deliver(api, bodies):
    """What Lambda does with a batch from the fan-out queue."""
    event = api.client.events.generate_sqs_event(message_bodies=bodies, queue_name="flock-fanout")
    return api.client.lambda_.invoke("fanout_worker", event)


def test_on_aws_fan_out_waits_for_the_queue_worker(api, queue):
    for h in ("reader", "author"):
        api.signup(h)
    follow(api, "reader", "author")
    assert queue.drain() == []
    p = post(api, "author", "queued")["id"]
    assert timeline_ids(api, "reader") == []                    # nothing until the worker runs...
    assert timeline_ids(api, "author") == [p]                   # ... but the author sees their post at once
    bodies = queue.drain()
    assert [json.loads(b)["kind"] for b in bodies] == ["post_created"]
    answer = deliver(api, bodies)
    assert answer.payload == 1
    assert timeline_ids(api, "reader") == [p]
    assert timeline_ids(api, "author") == [p]


def test_the_worker_is_idempotent_under_redelivery(api, queue):
    for h in ("reader", "author"):
        api.signup(h)
    follow(api, "reader", "author")
    first = post(api, "author", "one")["id"]
    second = post(api, "author", "two")["id"]
    bodies = queue.drain()
    assert len(bodies) == 2
    for _ in range(3):                                        # at-least-once: the same batch again and again
        deliver(api, bodies)
        assert timeline_ids(api, "reader") == [second, first]
        assert sorted(stored_entries("reader")) == sorted([first, second])
    deliver(api, [bodies[1], bodies[1], bodies[0]])           # duplicates inside one batch, out of order
    assert sorted(stored_entries("reader")) == sorted([first, second])


def test_a_late_or_repeated_creation_message_does_not_resurrect_a_deleted_post(api, queue):
    for h in ("reader", "author"):
        api.signup(h)
    follow(api, "reader", "author")
    p = post(api, "author", "short-lived")["id"]
    created = queue.drain()
    delete(api, "author", p)
    deleted = queue.drain()
    assert [json.loads(b)["kind"] for b in deleted] == ["post_deleted"]
    deliver(api, deleted)                                     # deletion handled first (no ordering in SQS)
    deliver(api, created)
    deliver(api, deleted + created)
    assert stored_entries("reader") == [] and stored_entries("author") == []
    assert timeline_ids(api, "reader") == []


def test_unfollow_and_promotion_messages_are_idempotent(api, queue, threshold):
    threshold(2)
    for h in ("star", "f1", "f2"):
        api.signup(h)
    follow(api, "f1", "star")
    p = post(api, "star", "hello")["id"]
    deliver(api, queue.drain())
    assert timeline_ids(api, "f1") == [p]
    follow(api, "f2", "star")                                 # the second follower makes a celebrity
    promoted = queue.drain()
    assert [json.loads(b)["kind"] for b in promoted] == ["celebrity_promoted"]
    for _ in range(2):
        deliver(api, promoted)
        assert is_celebrity("star")
        assert timeline_ids(api, "f1") == [p] and timeline_ids(api, "f2") == [p]
    unfollow(api, "f1", "star")
    gone = queue.drain()
    assert [json.loads(b)["kind"] for b in gone] == ["unfollowed"]
    deliver(api, gone)
    deliver(api, gone)
    assert timeline_ids(api, "f1") == [] and stored_entries("f1") == []


def test_an_unfollow_message_arriving_after_a_refollow_keeps_the_timeline(api, queue):
    for h in ("reader", "author"):
        api.signup(h)
    p = post(api, "author", "hi")["id"]
    queue.drain()
    follow(api, "reader", "author")                           # backfill runs in the request
    unfollow(api, "reader", "author")
    follow(api, "reader", "author")
    deliver(api, queue.drain())                               # the stale "unfollowed" arrives last
    assert timeline_ids(api, "reader") == [p]


def test_messages_that_can_never_be_handled_are_dropped_not_retried_forever(api, queue):
    for h in ("reader", "author"):
        api.signup(h)
    follow(api, "reader", "author")
    p = post(api, "author", "good")["id"]
    good = queue.drain()
    answer = deliver(api, ["not json", json.dumps({"kind": "mystery"}), json.dumps({"kind": "post_created"}),
                           json.dumps([1, 2]), *good])
    assert answer.payload == 1
    assert timeline_ids(api, "reader") == [p]


# --- races with a promotion, made deterministic -------------------------------------------------------------------

def test_a_follow_racing_a_promotion_still_gets_the_celebritys_posts(api, threshold, monkeypatch):
    from chalicelib.identity.users import find_by_handle
    from chalicelib.social import graph
    threshold(2)
    for h in ("star", "f1", "f2", "late"):
        api.signup(h)
    follow(api, "f1", "star")
    stale = find_by_handle("star")                            # read before the promotion...
    follow(api, "f2", "star")
    assert is_celebrity("star")
    reads = iter([stale])                                     # ... and used by a follow that commits after it
    real = graph.require_by_handle
    monkeypatch.setattr(graph, "require_by_handle", lambda h: next(reads, None) or real(h))
    follow(api, "late", "star")
    monkeypatch.setattr(graph, "require_by_handle", real)
    news = post(api, "star", "after the promotion")["id"]
    assert news in timeline_ids(api, "late")
    assert ok(api.call("GET", "/v1/users/star", as_="late"))["follower_count"] == 3


def test_a_promotion_listing_someone_who_just_unfollowed_does_not_merge_for_them(api, threshold, monkeypatch):
    from chalicelib.identity.users import find_by_handle
    from chalicelib.social import fanout, timeline
    threshold(100)
    for h in ("star", "gone", "stays"):
        api.signup(h)
    follow(api, "gone", "star")
    follow(api, "stays", "star")
    unfollow(api, "gone", "star")
    # The followers index lags: the promotion still lists "gone".
    listed = [find_by_handle("gone").id, find_by_handle("stays").id]
    monkeypatch.setattr(timeline, "_followers", lambda author_id: iter(listed))
    fanout.handle({"kind": "celebrity_promoted", "author_id": find_by_handle("star").id})
    assert is_celebrity("star")
    news = post(api, "star", "only for followers")["id"]
    assert timeline_ids(api, "stays") == [news]
    assert timeline_ids(api, "gone") == []
