"""Social benchmarks (issue 4), each beside its floor measured in the same run.

    .venv/bin/python bench/social.py

In-process moto (`mock_aws`). Requests are counted with a botocore
`before-call` hook on every DynamoDB client Flock uses. Floors:
- timeline page: the same Query + BatchGetItem issued with plain boto3, and
  the request-count floor of 1 query + 1 batch get (+1 token read);
- post to N followers: ceil((N + 1) / 25) BatchWriteItem calls;
- search page: the same Query + BatchGetItem calls with plain boto3.
Times are medians; moto slows as tables grow, so app and floor are measured
alternately on the same tables. The figures that matter are ratios.
"""
import collections
import math
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "scripts")]
os.environ.update({"FLOCK_STAGE": "dev", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                   "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
                   "FLOCK_ARGON2_MEMORY_KIB": "8192", "FLOCK_ARGON2_TIME_COST": "1",
                   "FLOCK_CELEBRITY_FOLLOWERS_MIN": "1000000"})
for name in ("FLOCK_DYNAMODB_ENDPOINT", "FLOCK_AWS_ENDPOINT"):
    os.environ.pop(name, None)

REPEATS = 7


class Counter:
    def __init__(self):
        self.calls = collections.Counter()

    def __call__(self, model, **kwargs):
        self.calls[model.name] += 1

    def total(self):
        return sum(self.calls.values())


def counted(fn):
    from chalicelib.db.base import register_hook, unregister_hook
    counter = Counter()
    register_hook("before-call.dynamodb", counter)
    try:
        result = fn()
    finally:
        unregister_hook("before-call.dynamodb", counter)
    return result, counter


def median_ms(fn, repeats=REPEATS):
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def seed_followees(user_id, count, posts_each=1):
    """`user_id` follows `count` seeded authors, each with posts fanned out into
    the timeline, written with BatchWriteItem (no per-item API calls)."""
    from chalicelib import ids
    from chalicelib.db import base
    from chalicelib.db.posts import PostItem, TimelineItem, author_partition, post_key
    from chalicelib.db.users import FollowEdge, UserItem, follow_key, followers_partition, following_partition
    from chalicelib.social.timeline import _entry
    users, edges, posts, entries = [], [], [], []
    for i in range(count):
        author_id = ids.new_id("usr")
        users.append(UserItem.new(id=author_id, handle=f"a{i}", password_hash="x", created_at="2026-01-01T00:00:00.000Z"))
        edges.append(FollowEdge(*follow_key(user_id, author_id), follower_id=user_id, followee_id=author_id,
                                created_at="2026-01-01T00:00:00.000Z", gsi1_pk=followers_partition(author_id),
                                gsi1_sk=f"x#{user_id}", gsi2_pk=following_partition(user_id), gsi2_sk=f"x#{author_id}"))
        for _ in range(posts_each):
            post_id = ids.new_id("post")
            posts.append(PostItem(*post_key(post_id), id=post_id, author_id=author_id, author_handle=f"a{i}",
                                  text=f"post {i}", created_at="2026-01-01T00:00:00.000Z",
                                  gsi1_pk=author_partition(author_id), gsi1_sk=post_id))
            entries.append(_entry(user_id, post_id, author_id))
    base.batch_write("users", puts=users + edges)
    base.batch_write("posts", puts=posts + entries)


def timeline_figures(api_users):
    import boto3
    from chalicelib.config import settings
    from chalicelib.db.posts import timeline_partition
    from chalicelib.social import timeline
    rows = []
    client = boto3.client("dynamodb", region_name="us-east-1")
    table = settings().table_name("posts")
    for followees in (10, 2000):
        principal = api_users(f"reader{followees}")
        seed_followees(principal.user_id, followees, posts_each=3 if followees < 20 else 1)
        page, counter = counted(lambda: timeline.home(principal, 20, None))
        assert len(page[0]) == 20, len(page[0])
        app_ms = median_ms(lambda: timeline.home(principal, 20, None))

        def floor():
            q = client.query(TableName=table, KeyConditionExpression="pk = :p",
                             ExpressionAttributeValues={":p": {"S": timeline_partition(principal.user_id)}},
                             ScanIndexForward=False, Limit=21, ProjectionExpression="pk, sk")
            keys = [{"pk": {"S": f"POST#{i['sk']['S']}"}, "sk": {"S": "POST"}} for i in q["Items"][:20]]
            keys += [{"pk": k["pk"], "sk": {"S": f"CNT#{s}"}} for k in keys for s in range(4)]
            client.batch_get_item(RequestItems={table: {"Keys": keys}})
        floor_ms = median_ms(floor)
        rows.append((f"timeline page, {followees} followees", counter.total() + 1, 3, app_ms, floor_ms,
                     dict(counter.calls)))
    return rows


def celebrity_figure(api_users):
    from chalicelib.social import timeline
    from chalicelib.db.users import UserItem
    principal = api_users("fan")
    seed_followees(principal.user_id, 10)
    celebs = [api_users(f"celeb{i}") for i in range(2)]
    from chalicelib.social import posts
    for c in celebs:
        for _ in range(3):
            posts.create(c, "celebrity news")
        UserItem.ref(c.user_id).update(actions=[UserItem.celebrity.set(True)])
    fan = principal.__class__(**{**principal.__dict__, "celebrity_follows": frozenset(c.user_id for c in celebs)})
    _, counter = counted(lambda: timeline.home(fan, 20, None))
    return ("timeline page, 10 followees + 2 celebrities", counter.total() + 1, 3 + 2, None, None, dict(counter.calls))


def post_fanout_figure(api_users):
    from chalicelib import ids
    from chalicelib.db import base
    from chalicelib.db.users import FollowEdge, follow_key, followers_partition, following_partition
    from chalicelib.social import posts
    author = api_users("popular")
    edges = []
    for i in range(1000):
        follower = ids.new_id("usr")
        edges.append(FollowEdge(*follow_key(follower, author.user_id), follower_id=follower,
                                followee_id=author.user_id, created_at="2026-01-01T00:00:00.000Z",
                                gsi1_pk=followers_partition(author.user_id), gsi1_sk=f"x#{follower}",
                                gsi2_pk=following_partition(follower), gsi2_sk=f"x#{author.user_id}"))
    base.batch_write("users", puts=edges)
    _, counter = counted(lambda: posts.create(author, "hello to my thousand followers"))
    floor = math.ceil(1001 / 25)
    return ("create a post, 1,000 followers", counter.total() + 1, floor, None, None, dict(counter.calls))


def search_figure(api_users):
    import boto3
    from chalicelib.config import settings
    from chalicelib.social import posts, search
    author = api_users("writer")
    for i in range(60):
        posts.create(author, f"flock news number {i} " + ("کتاب" if i % 3 == 0 else "other"))
    _, counter = counted(lambda: search.search_posts(author.user_id, "كتاب news", 20, None))
    app_ms = median_ms(lambda: search.search_posts(author.user_id, "كتاب news", 20, None))
    client = boto3.client("dynamodb", region_name="us-east-1")
    table = settings().table_name("posts")

    def floor():
        q = client.query(TableName=table, KeyConditionExpression="pk = :p", ScanIndexForward=False, Limit=40,
                         ExpressionAttributeValues={":p": {"S": "IDX#کتاب"}})
        ids_ = [i["sk"]["S"] for i in q["Items"]]
        client.batch_get_item(RequestItems={table: {"Keys": [{"pk": {"S": "IDX#news"}, "sk": {"S": p}} for p in ids_]}})
        keys = [{"pk": {"S": f"POST#{p}"}, "sk": {"S": "POST"}} for p in ids_[:20]]
        keys += [{"pk": k["pk"], "sk": {"S": f"CNT#{s}"}} for k in keys for s in range(4)]
        client.batch_get_item(RequestItems={table: {"Keys": keys}})
    floor_ms = median_ms(floor)
    return ("search page, 2 words", counter.total() + 1, 4, app_ms, floor_ms, dict(counter.calls))


def main():
    from moto import mock_aws
    with mock_aws():
        import localstack
        localstack.provision("bench-operator-password")
        from chalicelib.identity import users

        def api_users(handle):
            session = users.signup(handle, "correct horse battery")
            return users.authenticate(session["token"])

        rows = timeline_figures(api_users) + [celebrity_figure(api_users), post_fanout_figure(api_users),
                                              search_figure(api_users)]
    print("\nSocial (in-process moto; requests include the token read)")
    print(f"{'figure':46} {'requests':>8} {'floor':>6} {'ms':>8} {'floor ms':>9} {'ratio':>6}  calls")
    for name, requests, floor, app_ms, floor_ms, calls in rows:
        timing = (f"{app_ms:8.1f} {floor_ms:9.1f} {app_ms / floor_ms:6.2f}" if app_ms is not None
                  else f"{'':8} {'':9} {'':6}")
        print(f"{name:46} {requests:8d} {floor:6d} {timing}  {calls} + GetItem(token)")


if __name__ == "__main__":
    main()
