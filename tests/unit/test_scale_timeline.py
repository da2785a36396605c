"""Issue 17, bounded timelines: entries expire (TTL) and a person's
timeline keeps its newest `timeline_entries_max` entries; older posts stay
on the author's page."""
import dataclasses
import time

import pytest

from chalicelib.config import settings
from chalicelib.db.posts import TimelineItem, timeline_partition
from chalicelib.identity.users import find_by_handle
from chalicelib.social import timeline


def ok(r, status=200):
    assert r.status_code == status, r.body
    return r.json_body


def entries(handle):
    return list(TimelineItem.query(timeline_partition(find_by_handle(handle).id), scan_index_forward=False))


@pytest.fixture
def small(monkeypatch):
    tight = dataclasses.replace(settings(), timeline_entries_max=3, timeline_ttl_days=30)
    monkeypatch.setattr("chalicelib.social.timeline.settings", lambda: tight)
    return tight


def test_every_entry_expires_thirty_days_after_it_is_written(api):
    api.verified("author")
    api.verified("reader")
    ok(api.call("POST", "/v1/users/author/follow", as_="reader"))
    ok(api.call("POST", "/v1/posts", {"text": "first"}, as_="author"), 201)  # fanned out to the reader
    api.verified("late")
    ok(api.call("POST", "/v1/users/author/follow", as_="late"))  # backfilled
    month = settings().timeline_ttl_days * 86_400
    for handle in ("author", "reader", "late"):
        (entry,) = entries(handle)
        assert abs(int(entry.expires_at) - (time.time() + month)) < 120, handle


def test_a_timeline_keeps_its_newest_entries_and_older_posts_stay_on_the_profile(api, small, monkeypatch):
    monkeypatch.setattr(timeline, "TRIM_ONE_IN", 1)  # every write trims
    api.verified("author")
    api.verified("reader")
    ok(api.call("POST", "/v1/users/author/follow", as_="reader"))
    made = [ok(api.call("POST", "/v1/posts", {"text": f"post {i}"}, as_="author"), 201)["id"] for i in range(6)]
    newest = sorted(made, reverse=True)[:3]
    assert [e.sk for e in entries("reader")] == newest
    assert [p["id"] for p in ok(api.call("GET", "/v1/timeline", as_="reader"))["data"]] == newest
    assert len(ok(api.call("GET", "/v1/users/author/posts?limit=50", as_="reader"))["data"]) == 6


def test_trim_deletes_only_what_is_beyond_the_newest(api, small, monkeypatch):
    monkeypatch.setattr(timeline, "TRIM_ONE_IN", 10 ** 9)  # no write trims: this test does
    api.verified("author")
    user_id = find_by_handle("author").id
    for i in range(3):
        ok(api.call("POST", "/v1/posts", {"text": f"post {i}"}, as_="author"), 201)
    assert timeline.trim(user_id) == 0 and len(entries("author")) == 3
    for i in range(4):
        ok(api.call("POST", "/v1/posts", {"text": f"more {i}"}, as_="author"), 201)
    assert len(entries("author")) == 7
    kept = [e.sk for e in entries("author")][:3]
    assert timeline.trim(user_id) == 4
    assert [e.sk for e in entries("author")] == kept
    assert timeline.trim(user_id) == 0
