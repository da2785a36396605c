"""Social benchmarks (issue 4), each beside its floor measured in the same run.

    .venv/bin/python bench/social.py [--json SUMMARY.json]

`make bench` runs it (bench/run.py, section 4). In-process moto (`mock_aws`).

Requests are counted per HTTP request (chalice's test client, the token read
included) with a botocore `before-call` hook on the one shared DynamoDB client
(bench/dynamo_calls.py: operation, what it touched, which Flock code sent it).
Request floors (also the budgets: more is a broken rule, exit status 1):
- timeline page: token read + 1 query + 1 batch get (posts and counter shards
  together) = 3; + 1 query per followed celebrity; + 1 batch get of the
  viewer's unlocks and subscriptions if the page holds locked posts;
- search page, 2 words: token read + 1 query + 2 batch gets = 4;
- a post to N followers: token read + 1 transaction (post and the author's
  own timeline entry) + ceil(N/1000) follower queries + ceil(N/25)
  BatchWriteItem of the followers' entries. The rule: the fan-out writes the
  N followers' entries (not the author's again) in exactly ceil(N/25) calls;
  the other requests are shown beside the floor, split into the request
  itself and the fan-out consumer (SQS on AWS, inline here).
Times (timeline and search pages): the service function against the same
requests sent with plain boto3 (no token read on either side), alternated on
the same tables, medians. moto slows as tables grow; the ratios matter.
Exit status: 0, or 1 if a request budget is broken.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time
import urllib.parse

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path[:0] = [ROOT, os.path.join(ROOT, "scripts"), BENCH]
os.environ.update({"FLOCK_STAGE": "dev", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                   "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
                   "FLOCK_ARGON2_MEMORY_KIB": "8192", "FLOCK_ARGON2_TIME_COST": "1",
                   "FLOCK_CELEBRITY_FOLLOWERS_MIN": "1000000"})
for name in ("FLOCK_DYNAMODB_ENDPOINT", "FLOCK_AWS_ENDPOINT", "FLOCK_FANOUT_QUEUE_URL", "FLOCK_JOBS_QUEUE_URL"):
    os.environ.pop(name, None)

from dynamo_calls import Calls, explain  # noqa: E402

REPEATS = 7
PAGE = 20
PASSWORD = "correct horse battery"
AT = "2026-01-01T00:00:00.000Z"


def say(text=""):
    print(text, flush=True)


class Api:
    """The app through chalice.test.Client, as a client would call it."""

    def __init__(self, client):
        self.client = client
        self.tokens = {}

    def call(self, method, path, body=None, as_=None, expect=200):
        headers = {"Content-Type": "application/json"}
        if as_:
            headers["Authorization"] = f"Bearer {self.tokens[as_]}"
        r = getattr(self.client.http, method.lower())(path, headers=headers,
                                                       body=json.dumps(body) if body is not None else None)
        if expect is not None and r.status_code != expect:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.body!r}")
        return r.json_body

    def signup(self, handle):
        """Signs `handle` up; returns the service-layer principal."""
        from chalicelib.identity.users import authenticate
        body = self.call("POST", "/v1/auth/signup", {"handle": handle, "password": PASSWORD}, expect=201)
        self.tokens[handle] = body["token"]
        return authenticate(body["token"])


def counted(calls, fn):
    from chalicelib.db.base import register_hook, unregister_hook
    calls.reset()
    register_hook("before-call.dynamodb", calls)
    try:
        return fn()
    finally:
        unregister_hook("before-call.dynamodb", calls)


def paired_ms(app, floor, repeats=REPEATS):
    """Medians of app and floor, alternated (who goes first swaps each round)."""
    samples = {"app": [], "floor": []}
    for i in range(repeats):
        for name, fn in ((("app", app), ("floor", floor)) if i % 2 == 0 else (("floor", floor), ("app", app))):
            start = time.perf_counter()
            fn()
            samples[name].append((time.perf_counter() - start) * 1000)
    return statistics.median(samples["app"]), statistics.median(samples["floor"])


def seed_followees(user_id, count, posts_each=1):
    """`user_id` follows `count` seeded authors, each with posts fanned out into
    the timeline, written with BatchWriteItem (no per-item API calls)."""
    from chalicelib import ids
    from chalicelib.db import base
    from chalicelib.db.posts import PostItem, author_partition, post_key
    from chalicelib.db.users import FollowEdge, UserItem, follow_key, followers_partition, following_partition
    from chalicelib.social.timeline import _entry
    users, edges, posts, entries = [], [], [], []
    for i in range(count):
        author_id = ids.new_id("usr")
        users.append(UserItem.new(id=author_id, handle=f"a{i}x{user_id[-6:]}", password_hash="x", created_at=AT))
        edges.append(FollowEdge(*follow_key(user_id, author_id), follower_id=user_id, followee_id=author_id,
                                created_at=AT, gsi1_pk=followers_partition(author_id), gsi1_sk=f"x#{user_id}",
                                gsi2_pk=following_partition(user_id), gsi2_sk=f"x#{author_id}"))
        for _ in range(posts_each):
            post_id = ids.new_id("post")
            posts.append(PostItem(*post_key(post_id), id=post_id, author_id=author_id, author_handle=f"a{i}",
                                  text=f"post {i}", created_at=AT, gsi1_pk=author_partition(author_id),
                                  gsi1_sk=post_id))
            entries.append(_entry(user_id, post_id, author_id))
    base.batch_write("users", puts=users + edges)
    base.batch_write("posts", puts=posts + entries)


def _hydrate_keys(post_ids):
    """The keys hydrate reads for a page: each post and its counter shards."""
    from chalicelib.db.base import _key
    from chalicelib.db.posts import COUNTER_SHARDS, counter_key, post_key
    keys = []
    for p in post_ids:
        keys.append(_key(*post_key(p)))
        keys.extend(_key(*counter_key(p, s)) for s in range(COUNTER_SHARDS))
    return keys


def _row(name, calls, floor, budget_note, app_ms=None, floor_ms=None, extra_failures=()):
    total = calls.total()
    failures = list(extra_failures)
    if floor is not None and total > floor:
        failures.append(f"{name}: {total} requests > {floor}")
    return {"name": name, "requests": total, "floor": floor, "app_ms": app_ms, "floor_ms": floor_ms,
            "calls": dict(sorted(calls.counts().items())), "note": budget_note, "failures": failures,
            "explain": explain(calls.log, "      ") if failures else []}


def timeline_rows(api, calls, raw):
    from chalicelib.config import settings
    from chalicelib.db.posts import timeline_partition
    from chalicelib.social import timeline
    table = settings().table_name("posts")
    rows = []
    for followees in (10, 2000):
        handle = f"reader{followees}"
        principal = api.signup(handle)
        seed_followees(principal.user_id, followees, posts_each=3 if followees < 20 else 1)
        page = counted(calls, lambda: api.call("GET", f"/v1/timeline?limit={PAGE}", as_=handle))
        problems = [] if len(page["data"]) == PAGE else [f"timeline page of {len(page['data'])} posts, not {PAGE}"]

        def floor():
            q = raw.query(TableName=table, KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues={":p": {"S": timeline_partition(principal.user_id)}},
                          ScanIndexForward=False, Limit=PAGE + 1, ProjectionExpression="pk, sk")
            raw.batch_get_item(RequestItems={table: {"Keys": _hydrate_keys([i["sk"]["S"] for i in q["Items"][:PAGE]])}})
        app_ms, floor_ms = paired_ms(lambda: timeline.home(principal, PAGE, None), floor)
        rows.append(_row(f"timeline page, {followees} followees", calls, 3, "token + query + batch get",
                         app_ms, floor_ms, problems))
    return rows


def celebrity_row(api, calls):
    from chalicelib.db.users import UserItem
    fan = api.signup("fan")
    seed_followees(fan.user_id, 10)
    celebs = [api.signup(f"celeb{i}") for i in range(2)]
    for i, c in enumerate(celebs):
        for _ in range(3):
            api.call("POST", "/v1/posts", {"text": "celebrity news"}, as_=f"celeb{i}", expect=201)
        UserItem.ref(c.user_id).update(actions=[UserItem.celebrity.set(True)])
    # What a promotion leaves on the follower's item (read with the token check), set directly.
    UserItem.ref(fan.user_id).update(actions=[UserItem.celebrity_follows.add({c.user_id for c in celebs})])
    page = counted(calls, lambda: api.call("GET", f"/v1/timeline?limit={PAGE}", as_="fan"))
    merged = sum(1 for p in page["data"] if p["author"].startswith("celeb"))
    problems = [] if merged == 6 else [f"celebrity merge: {merged} of the 6 celebrity posts on the page"]
    return _row("timeline page, 10 followees + 2 celebrities", calls, 3 + 2, "+ 1 query per celebrity",
                extra_failures=problems)


def locked_row(api, calls):
    """A page with priced posts on it pays one more batch get (the viewer's access)."""
    api.signup("seller")
    for i in range(4):
        api.call("POST", "/v1/posts", {"text": f"paid video {i}", "price": {"amount": 300, "currency": "USD"}},
                 as_="seller", expect=201)
    api.call("POST", "/v1/posts", {"text": "free post"}, as_="seller", expect=201)
    buyer = api.signup("buyer")
    seed_followees(buyer.user_id, 5)
    api.call("POST", "/v1/users/seller/follow", as_="buyer", expect=None)
    page = counted(calls, lambda: api.call("GET", f"/v1/timeline?limit={PAGE}", as_="buyer"))
    locked = sum(1 for p in page["data"] if p["locked"])
    problems = [] if locked == 4 else [f"locked posts: {locked} of 4 priced posts shown locked"]
    return _row("timeline page with 4 locked posts", calls, 3 + 1, "+ 1 batch get of the viewer's access",
                extra_failures=problems)


def fanout_row(api, calls, followers=1000):
    from chalicelib import ids
    from chalicelib.db import base
    from chalicelib.db.posts import timeline_partition
    from chalicelib.db.users import FollowEdge, follow_key, followers_partition, following_partition
    from chalicelib.social import fanout
    author = api.signup("popular")
    edges = []
    for _ in range(followers):
        follower = ids.new_id("usr")
        edges.append(FollowEdge(*follow_key(follower, author.user_id), follower_id=follower,
                                followee_id=author.user_id, created_at=AT,
                                gsi1_pk=followers_partition(author.user_id), gsi1_sk=f"x#{follower}",
                                gsi2_pk=following_partition(follower), gsi2_sk=f"x#{author.user_id}"))
    base.batch_write("users", puts=edges)
    handle = fanout.handle

    def consumer(message):  # the SQS consumer's part, inline here: counted apart
        calls.phase = "fan-out"
        try:
            return handle(message)
        finally:
            calls.phase = "request"
    fanout.handle = consumer
    calls.keep_bodies = True
    try:
        counted(calls, lambda: api.call("POST", "/v1/posts", {"text": "hello to my thousand followers"},
                                        as_="popular", expect=201))
    finally:
        fanout.handle, calls.keep_bodies = handle, False
    tl = timeline_partition("")
    entry_calls = entries = author_entries = 0
    others = []  # every request but the batch writes of timeline entries
    for c in calls.log:
        others.append(c)
        if c.op == "BatchWriteItem":
            keys = [r["PutRequest"]["Item"]["pk"]["S"] for reqs in c.body["RequestItems"].values() for r in reqs
                    if "PutRequest" in r]
            timeline = [k for k in keys if k.startswith(tl)]
            if timeline:
                others.pop()
            entry_calls += bool(timeline)
            entries += len(timeline)
            author_entries += timeline.count(timeline_partition(author.user_id))
    floor = 1 + 1 + math.ceil(followers / 1000) + math.ceil(followers / 25)
    problems = []
    if entry_calls > math.ceil(followers / 25):
        problems.append(f"fan-out: {entry_calls} BatchWriteItem calls of timeline entries > ceil({followers}/25)")
    if entries != followers or author_entries:
        problems.append(f"fan-out: {entries} timeline entries written ({author_entries} the author's), "
                        f"not the {followers} followers'")
    row = _row(f"create a post, {followers:,} followers", calls, None, "token + TWI + follower query + ceil(N/25) BWI",
               extra_failures=problems)
    row["floor"] = floor
    row["split"] = {phase: dict(sorted(calls.counts(phase).items())) for phase in ("request", "fan-out")}
    row["entries"] = (entry_calls, entries)
    row["explain"] = explain(others, "      ")  # what the floor does not have is among these
    return row


def search_row(api, calls, raw):
    from chalicelib.config import settings
    from chalicelib.db.posts import posting_partition
    from chalicelib import ids
    from chalicelib.db import base
    from chalicelib.db.posts import PostItem, author_partition, post_key
    from chalicelib.social import search
    from chalicelib.social.normalize import words
    author = api.signup("writer")
    # 60 posts seeded with BatchWriteItem and indexed by the app's own index_post: by now the posts table is
    # large, and moto copies a table on every transaction (60 creates took 40 s here).
    seeded = []
    for i in range(60):
        post_id, text = ids.new_id("post"), f"flock news number {i} " + ("کتاب" if i % 3 == 0 else "other")
        seeded.append(PostItem(*post_key(post_id), id=post_id, author_id=author.user_id, author_handle="writer",
                               text=text, created_at=AT, gsi1_pk=author_partition(author.user_id), gsi1_sk=post_id,
                               words=words(text)))
    base.batch_write("posts", puts=seeded)
    for post in seeded:
        search.index_post(post.id, post.words)
    q = "كتاب news"  # Arabic kaf: the index holds the Persian form
    path = f"/v1/search?type=posts&limit={PAGE}&q={urllib.parse.quote(q)}"
    page = counted(calls, lambda: api.call("GET", path, as_="writer"))
    problems = [] if len(page["data"]) == 20 else [f"search found {len(page['data'])} posts, not 20"]
    table = settings().table_name("posts")
    lead, other = sorted(words(q), key=len, reverse=True)[:2]

    def floor():
        found = raw.query(TableName=table, KeyConditionExpression="pk = :p", ScanIndexForward=False, Limit=2 * PAGE,
                          ExpressionAttributeValues={":p": {"S": posting_partition(lead)}})
        ids_ = [i["sk"]["S"] for i in found["Items"]]
        raw.batch_get_item(RequestItems={table: {"Keys": [{"pk": {"S": posting_partition(other)}, "sk": {"S": p}}
                                                          for p in ids_]}})
        raw.batch_get_item(RequestItems={table: {"Keys": _hydrate_keys(ids_[:PAGE])}})
    app_ms, floor_ms = paired_ms(lambda: search.search_posts(author.user_id, q, PAGE, None), floor)
    return _row("search page, 2 words", calls, 4, "token + query + 2 batch gets", app_ms, floor_ms, problems)


def report(rows, seconds):
    say("Social (in-process moto; requests per HTTP request, the token read included; ms: the service function "
        "vs the same requests through plain boto3)")
    say(f"{'figure':46} {'requests':>8} {'floor':>6} {'ms':>8} {'floor ms':>9} {'ratio':>6}  calls; rule")
    failures, summary = [], []
    for row in rows:
        timing = (f"{row['app_ms']:8.1f} {row['floor_ms']:9.1f} {row['app_ms'] / row['floor_ms']:5.2f}x"
                  if row["app_ms"] is not None else f"{'':8} {'':9} {'':6}")
        verdict = "FAIL " + "; ".join(row["failures"]) if row["failures"] else "ok"
        say(f"{row['name']:46} {row['requests']:8d} {row['floor']:6d} {timing}  {row['calls']}; {row['note']}: "
            f"{verdict}")
        if "split" in row:
            calls, entries = row["entries"]
            say(f"{'':48}the request: {row['split']['request']}; the fan-out consumer (SQS on AWS): "
                f"{row['split']['fan-out']}; timeline entries {entries} in {calls} BatchWriteItem calls "
                f"(floor ceil(N/25)); the other requests:")
        for line in row["explain"]:
            say(line)
        failures += row["failures"]
        timing_text = (f", {row['app_ms']:.1f} vs {row['floor_ms']:.1f} ms = {row['app_ms'] / row['floor_ms']:.2f}x"
                       if row["app_ms"] is not None else "")
        summary.append(f"{row['name']}: {row['requests']} requests (floor {row['floor']}){timing_text}"
                       f"{'' if not row['failures'] else ' BROKEN'}")
    say(f"social bench time {seconds:.0f} s")
    return failures, summary


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", help="also write the failures and summary lines here")
    args = parser.parse_args()
    started = time.perf_counter()
    from moto import mock_aws
    with mock_aws():
        import boto3
        import localstack
        from chalice.test import Client

        localstack.provision("bench-operator-password")
        from app import app
        raw = boto3.client("dynamodb", region_name="us-east-1")
        calls = Calls()
        with Client(app) as client:
            api = Api(client)
            rows = timeline_rows(api, calls, raw) + [celebrity_row(api, calls), locked_row(api, calls),
                                                     fanout_row(api, calls), search_row(api, calls, raw)]
    failures, summary = report(rows, time.perf_counter() - started)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"failures": failures, "summary": summary}, f)
    return 1 if failures else 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    os._exit(status)  # moto's in-memory state takes seconds to tear down; nothing is left to write
