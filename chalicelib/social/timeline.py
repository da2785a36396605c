"""The home timeline: the caller's posts and those of whom they follow.

Fan-out on write: a new post is copied as a `TL#<follower>` entry into the
timeline of each follower (25 per BatchWriteItem). Authors with at least
`celebrity_followers_min` followers are not fanned out; each follower keeps
their ids (read with the token check) and their recent posts are merged at
read time — the hybrid Twitter uses. A timeline page therefore costs one
query, one query per followed celebrity and one batch get, whatever the
number of accounts followed.

Post ids sort by creation time, so "newest first" is key order and a cursor
is the last post id shown.

Timelines are bounded: an entry expires `timeline_ttl_days` after it is
written (the table's TTL deletes it), and a timeline is trimmed to its
newest `timeline_entries_max` entries — by the write that adds entries, one
in TRIM_ONE_IN on average, so a timeline may hold a few dozen more between
trims. Older posts stay on their author's page and in search.
"""
import secrets

from chalicelib import clock, errors, lazy
from chalicelib.config import settings
from chalicelib.db import base
from chalicelib.db.posts import (PostItem, TimelineItem, author_partition, post_key, timeline_author_partition,
                                 timeline_partition)
from chalicelib.db.transact import TRY_AGAIN, TaggedTransaction, commit
from chalicelib.db.users import FollowEdge, UserItem, follow_key, followers_partition
from chalicelib.social.views import hydrate

records = lazy.module("chalicelib.records.social")

FOLLOWERS_PAGE = 1000
ATTEMPTS_MAX = 5
TRIM_ONE_IN = 50
DAY_S = 86_400


def _entry(user_id: str, post_id: str, author_id: str) -> TimelineItem:
    # Real time: DynamoDB's TTL compares it with the real clock, not business time.
    expires_at = int(clock.real_now().timestamp()) + settings().timeline_ttl_days * DAY_S
    return TimelineItem(timeline_partition(user_id), post_id, post_id=post_id, author_id=author_id,
                        gsi1_pk=timeline_author_partition(user_id, author_id), gsi1_sk=post_id,
                        expires_at=expires_at)


def trim(user_id: str) -> int:
    """Deletes the entries beyond the newest `timeline_entries_max`: one
    keys-only query of those kept, one of the rest. Returns how many went."""
    keep = settings().timeline_entries_max
    kept = [e.sk for e in TimelineItem.query(timeline_partition(user_id), scan_index_forward=False, limit=keep,
                                             attributes_to_get=["pk", "sk"])]
    if len(kept) < keep:
        return 0
    older = [(e.pk, e.sk) for e in TimelineItem.query(timeline_partition(user_id), TimelineItem.sk < kept[-1],
                                                      attributes_to_get=["pk", "sk"])]
    if older:
        base.batch_write("posts", deletes=older)
    return len(older)


def _trim_now(entries_written: int) -> bool:
    """Whether this write trims: on average once per TRIM_ONE_IN entries written."""
    return secrets.randbelow(TRIM_ONE_IN) < entries_written


def own_entry(post_id: str, author_id: str) -> TimelineItem:
    """The author's own timeline entry for a new post."""
    return _entry(author_id, post_id, author_id)


def _followers(author_id: str):
    for edge in FollowEdge.followers.query(followers_partition(author_id), page_size=FOLLOWERS_PAGE,
                                           attributes_to_get=["follower_id"]):
        yield edge.follower_id


def _author(author_id: str) -> UserItem | None:
    return UserItem.find(author_id, consistent=False)


def _post_exists(post_id: str) -> bool:
    try:
        PostItem.get(*post_key(post_id), consistent_read=True, attributes_to_get=["pk"])
        return True
    except PostItem.DoesNotExist:
        return False


def fan_out_post(post_id: str, author_id: str) -> int:
    """The post's entry in each follower's timeline (the author's own came
    with the post). Idempotent: writing an entry twice leaves one. A post
    already deleted when this runs (SQS does not keep order, and delivers
    again) gets no entries back. Returns the batch calls."""
    if not _post_exists(post_id):
        return 0
    author = _author(author_id)
    if author is None or author.celebrity:
        return 0  # the author's own entry came with the post; followers merge a celebrity at read time
    followers = list(_followers(author_id))
    calls = base.batch_write("posts", puts=[_entry(f, post_id, author_id) for f in followers])
    for follower_id in [author_id] + followers:  # the author's own entry came with the post
        if _trim_now(1):
            trim(follower_id)
    return calls


def remove_post(post_id: str, author_id: str) -> int:
    """A celebrity's posts were not fanned out (any entries from before the
    promotion point at a deleted post and reads drop them): only the
    author's own entry goes, not one delete per follower of millions."""
    keys = [(timeline_partition(author_id), post_id)]
    author = _author(author_id)
    if author is None or not author.celebrity:
        keys.extend((timeline_partition(f), post_id) for f in _followers(author_id))
    return base.batch_write("posts", deletes=keys)


def backfill(user_id: str, author_id: str, posts_max: int) -> None:
    """Following someone copies their most recent posts (a bounded number)."""
    recent = PostItem.by_author.query(author_partition(author_id), scan_index_forward=False, limit=posts_max,
                                      attributes_to_get=["pk", "sk", "gsi1_pk", "gsi1_sk"])
    entries = [_entry(user_id, p.gsi1_sk, author_id) for p in recent]
    base.batch_write("posts", puts=entries)
    if _trim_now(len(entries)):
        trim(user_id)


def remove_author(user_id: str, author_id: str) -> None:
    """Unfollowing removes the author's entries from the timeline — unless
    the person follows the author again by the time this runs."""
    try:
        FollowEdge.get(*follow_key(user_id, author_id), consistent_read=True, attributes_to_get=["pk"])
        return
    except FollowEdge.DoesNotExist:
        pass
    entries = TimelineItem.by_author.query(timeline_author_partition(user_id, author_id),
                                           attributes_to_get=["pk", "sk", "gsi1_pk", "gsi1_sk"])
    base.batch_write("posts", deletes=[(e.pk, e.sk) for e in entries])


def promote_celebrity(author_id: str) -> None:
    """From now on the author is merged at read time: each follower learns
    the id. Entries already fanned out stay (reads drop duplicates)."""
    author = _author(author_id)
    if author is None or author.celebrity:
        return
    author.update(actions=[UserItem.celebrity.set(True)])
    for follower_id in _followers(author_id):
        _learn_celebrity(follower_id, author_id)


def _learn_celebrity(follower_id: str, author_id: str) -> None:
    """The follower keeps the celebrity's id — only if they still follow:
    the followers index may list someone who has just unfollowed, and the
    id must not outlive the edge (their timeline would keep merging)."""
    tx = TaggedTransaction()
    tx.check("edge", FollowEdge(*follow_key(follower_id, author_id)), condition=FollowEdge.pk.exists())
    tx.update("follower", UserItem.ref(follower_id), [UserItem.celebrity_follows.add({author_id})],
              condition=UserItem.pk.exists())
    commit(tx, ATTEMPTS_MAX, busy_message=TRY_AGAIN)  # a refusal: no longer follows (or no longer exists), nothing to learn


def home(principal, limit: int, before: str | None) -> tuple[list["records.Post"], str | None]:
    """Newest first; `before` is the last post id of the previous page."""
    if before is not None and not before.startswith("post_"):
        raise errors.InvalidRequest("The cursor is not valid.", param="cursor")
    condition = TimelineItem.sk < before if before else None
    candidates = [e.sk for e in TimelineItem.query(timeline_partition(principal.user_id), condition,
                                                   scan_index_forward=False, limit=limit + 1,
                                                   attributes_to_get=["pk", "sk"])]
    for celebrity_id in sorted(principal.celebrity_follows):
        celebrity_condition = PostItem.gsi1_sk < before if before else None
        candidates.extend(p.gsi1_sk for p in PostItem.by_author.query(
            author_partition(celebrity_id), celebrity_condition, scan_index_forward=False, limit=limit + 1,
            attributes_to_get=["pk", "sk", "gsi1_pk", "gsi1_sk"]))
    ordered = sorted(set(candidates), reverse=True)
    page_ids, more = ordered[:limit], len(ordered) > limit
    posts = hydrate(page_ids, principal.user_id)
    return posts, (page_ids[-1] if more and page_ids else None)
