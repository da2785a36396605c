"""How posts look to a viewer, and reading many of them at once.

A post with a `price` is locked for everyone but its author and those who
unlocked it; a post for `audience: "subscribers"` for everyone but its
author and the author's subscribers. A locked post's `text` is cut to a
40-character preview, its `video_url` and `video_id` are null and `locked`
is true (`has_video` still says a video waits behind the lock).
"""
from chalicelib import clock, lazy
from chalicelib.db import base
from chalicelib.db.posts import (COUNTER_SHARDS, POST_SORT_KEY, PostItem, counter_key, counter_width, post_id_of,
                                 post_key, unlock_key)
from chalicelib.db.users import SubscriptionItem, subscription_key

records = lazy.module("chalicelib.records.social")

PREVIEW_CHARS = 40


def subscription_grants_access(subscription: SubscriptionItem | None, now_iso: str) -> bool:
    """Active subscribers see subscriber posts; a cancelled one until its period ends."""
    if subscription is None:
        return False
    return subscription.status == "active" or (subscription.status == "cancelled" and now_iso < subscription.period_end)


def is_locked(post: PostItem, viewer_id: str | None, access: set) -> bool:
    """`access`: the ids of the viewer's unlocked posts and subscribed authors."""
    mine = viewer_id is not None and viewer_id == post.author_id
    return not mine and ((post.price_amount is not None and post.id not in access)
                         or (post.audience == "subscribers" and post.author_id not in access))


def public_post(post: PostItem, counters: dict, viewer_id: str | None, access: set) -> "records.Post":
    """`access`: the ids of the viewer's unlocked posts and subscribed authors."""
    locked = is_locked(post, viewer_id, access)
    price = (records.Money(amount=int(post.price_amount), currency=post.price_currency)
             if post.price_amount is not None else None)
    # Counts are sums of shards read at different moments (eventually
    # consistent): an unlike's -1 may be seen before its like's +1 on another
    # shard. A count is never shown below zero (the record refuses one).
    # (Replies' shards alone may sum below zero by right: a reply counted on
    # the post item before the shards, deleted since, is taken off a shard.)
    return records.Post(
        id=post.id, author=post.author_handle, text=post.text[:PREVIEW_CHARS] if locked else post.text,
        created_at=post.created_at, reply_to=post.reply_to, like_count=max(0, counters.get("likes", 0)),
        reply_count=max(0, int(post.reply_count) + counters.get("replies", 0)),
        tip_total=max(0, counters.get("tips", 0)),
        price=price, video_url=None if locked else post.video_url, audience=post.audience, locked=locked,
        video_id=None if locked else post.video_id, has_video=post.video_id is not None,
        view_count=max(0, counters.get("views", 0)),
    )


def viewer_access(posts: list[PostItem], viewer_id: str | None) -> set:
    """One batch get of the viewer's unlock records and subscriptions, for
    the locked-looking posts of the page only (none if there are none)."""
    if viewer_id is None:
        return set()
    unlock_keys = [unlock_key(p.id, viewer_id) for p in posts
                   if p.price_amount is not None and p.author_id != viewer_id]
    subscription_keys = list({subscription_key(p.author_id, viewer_id) for p in posts
                              if p.audience == "subscribers" and p.author_id != viewer_id})
    if not unlock_keys and not subscription_keys:
        return set()
    found = base.batch_get_tables({"posts": unlock_keys, "users": subscription_keys}, consistent=True)
    access = {post_id_of(raw["pk"]["S"]) for raw in found["posts"]}
    now_iso = clock.iso(clock.now())
    for raw in found["users"]:
        subscription = SubscriptionItem.from_raw_data(raw)
        if subscription_grants_access(subscription, now_iso):
            access.add(subscription.creator_id)
    return access


def hydrate(post_ids: list[str], viewer_id: str | None) -> list["records.Post"]:
    """The posts of `post_ids` in that order, with their counters, in one
    batch get per 100 keys (posts and counter shards together), plus one for
    the viewer's access to locked posts, plus one for the shards beyond the
    first COUNTER_SHARDS of widened (hot) posts, if the page has any. Posts
    that no longer exist are left out: a deleted post vanishes everywhere."""
    if not post_ids:
        return []
    keys = []
    for post_id in post_ids:
        keys.append(post_key(post_id))
        keys.extend(counter_key(post_id, shard) for shard in range(COUNTER_SHARDS))
    posts: dict[str, PostItem] = {}
    counters: dict[str, dict] = {}

    def add(raws):
        for raw in raws:
            post_id = post_id_of(raw["pk"]["S"])
            if raw["sk"]["S"] == POST_SORT_KEY:
                posts[post_id] = PostItem.from_raw_data(raw)
            else:
                totals = counters.setdefault(post_id, {"likes": 0, "tips": 0, "replies": 0, "views": 0})
                for name in totals:
                    totals[name] += int(raw.get(name, {}).get("N", "0"))
    add(base.batch_get("posts", keys))
    wide = [counter_key(p.id, shard) for p in posts.values() for shard in range(COUNTER_SHARDS, counter_width(p))]
    if wide:
        add(base.batch_get("posts", wide))
    access = viewer_access(list(posts.values()), viewer_id)
    return [public_post(posts[p], counters.get(p, {}), viewer_id, access) for p in post_ids if p in posts]
