"""Follows: follow / unfollow (idempotent, exact counts) and the lists."""
import secrets

from chalicelib import clock, errors, lazy
from chalicelib.config import settings
from chalicelib.db import base
from chalicelib.db.transact import TRY_AGAIN, TaggedTransaction, commit
from chalicelib.db.users import (FollowEdge, FollowerShard, UserItem, follow_key, follower_shard_key,
                                 followers_partition, following_partition, user_key)
from chalicelib.identity.users import public_users, require_by_handle
from chalicelib.social import fanout, timeline

records = lazy.module("chalicelib.records.social")

ATTEMPTS_MAX = 5


def celebrity_followers_min() -> int:
    """From this many followers on, an author is merged at read time, not fanned out."""
    return settings().celebrity_followers_min


def backfill_posts_max() -> int:
    """How many of an author's recent posts a new follower's timeline receives."""
    return settings().backfill_posts_max


def _target(principal, handle: str) -> UserItem:
    target = require_by_handle(handle)
    if target.id == principal.user_id:
        raise errors.InvalidRequest("You cannot follow yourself.", param="handle")
    return target


def _celebrity_as_read(target: UserItem):
    """The followee's celebrity flag is still what this follow read."""
    if target.celebrity:
        return UserItem.celebrity == True  # noqa: E712 - a PynamoDB condition, not a comparison
    return UserItem.celebrity.does_not_exist() | (UserItem.celebrity == False)  # noqa: E712


def _followee_count(target: UserItem, delta: int, flag_as_read: bool = True) -> tuple:
    """(item, actions, condition) moving the followee's follower count.

    A celebrity's count moves on a random shard, with no condition: a
    celebrity stays one (nothing unsets the flag), and the follow edge's own
    condition keeps the count exact. Anyone else's moves on the user item,
    conditioned on the flag still being as read (a follow; an unfollow may
    move either part, since the count is their sum)."""
    if target.celebrity:
        shard = FollowerShard(*follower_shard_key(target.id, secrets.randbelow(settings().follower_count_shards)))
        return shard, [FollowerShard.followers.add(delta)], None
    condition = UserItem.pk.exists() & _celebrity_as_read(target) if flag_as_read else UserItem.pk.exists()
    return UserItem.ref(target.id), [UserItem.follower_count.add(delta)], condition


def follow(principal, handle: str) -> "records.Following":
    """The edge (put only if absent) and both counts move in one
    transaction, so counts stay exact under any concurrency and a second
    follow changes nothing.

    The transaction also checks that the followee's celebrity flag is still
    the one read: a follow racing a promotion either lands before it (and the
    promotion, listing followers, finds the edge) or is refused and redone as
    a follow of a celebrity — never a follower whom the celebrity's posts
    reach neither by fan-out nor by the merge."""
    for _ in range(ATTEMPTS_MAX):
        target = _target(principal, handle)
        at = clock.iso(clock.now())
        edge = FollowEdge.new(principal.user_id, target.id, at)
        follower_actions = [UserItem.following_count.add(1)]
        if target.celebrity:
            follower_actions.append(UserItem.celebrity_follows.add({target.id}))
        tx = TaggedTransaction()
        tx.save("edge", edge, condition=FollowEdge.pk.does_not_exist(), return_values="ALL_OLD")
        tx.update("follower", UserItem.ref(principal.user_id), follower_actions, condition=UserItem.pk.exists())
        tx.update("followee", *_followee_count(target, +1))
        committed = _committed(tx, retry_tag="followee", ours=lambda raw, sk=edge.gsi1_sk: _attr(raw, "gsi1_sk") == sk)
        if committed is None:
            continue  # promoted meanwhile: read the followee again
        if not committed:
            return records.Following(following=True)
        if not target.celebrity:  # a celebrity's posts are merged at read time: nothing to copy
            timeline.backfill(principal.user_id, target.id, backfill_posts_max())
            if int(target.follower_count) + 1 >= celebrity_followers_min():
                fanout.dispatch("celebrity_promoted", author_id=target.id)
        return records.Following(following=True)
    raise errors.Unavailable()


def unfollow(principal, handle: str) -> "records.Following":
    target = _target(principal, handle)
    tx = TaggedTransaction()
    tx.delete("edge", FollowEdge(*follow_key(principal.user_id, target.id)), condition=FollowEdge.pk.exists())
    tx.update("follower", UserItem.ref(principal.user_id),
              [UserItem.following_count.add(-1), UserItem.celebrity_follows.delete({target.id})],
              condition=UserItem.pk.exists())
    tx.update("followee", *_followee_count(target, -1, flag_as_read=False))
    _committed(tx)
    # Removing the author's entries takes as many calls as there are entries:
    # it runs with the fan-out work, not in this request. Also when the edge
    # was already gone — that may be this request's own first attempt, whose
    # answer was lost — as the removal is idempotent.
    fanout.dispatch("unfollowed", user_id=principal.user_id, author_id=target.id)
    return records.Following(following=False)


def _attr(raw: dict | None, name: str):
    return ((raw or {}).get(name) or {}).get("S")


def _committed(tx: TaggedTransaction, retry_tag: str | None = None, ours=None) -> bool | None:
    """True if it committed; False if the edge condition says it was already
    so; None if the condition on `retry_tag` failed (read again and retry).

    `ours(raw_edge)` recognises the edge this very transaction wrote: when
    botocore sends it again after a lost answer, the edge's condition fails
    on our own write, and that is a commit, not "already following"."""
    failed = commit(tx, ATTEMPTS_MAX, busy_message=TRY_AGAIN)
    if not failed:
        return True
    if "edge" in failed:
        return bool(ours and ours(failed["edge"].raw_item))
    if retry_tag is not None and retry_tag in failed:
        return None
    raise RuntimeError(f"unexpected refused conditions: {sorted(failed)}")


def _people(partition: str, index, limit: int, cursor_key: dict | None, id_attr: str) -> tuple[list, dict | None]:
    hash_name = index.Meta.index_name + "_pk"
    if cursor_key is not None and cursor_key.get(hash_name) != partition:
        raise errors.InvalidRequest("The cursor is not valid.", param="cursor")
    page = index.query(partition, scan_index_forward=False, limit=limit,
                       last_evaluated_key=base.key_from_plain(cursor_key))
    ids = [getattr(edge, id_attr) for edge in page]
    users = {raw["id"]["S"]: UserItem.from_raw_data(raw) for raw in base.batch_get("users", [user_key(i) for i in ids])}
    key = page.last_evaluated_key
    return public_users([users[i] for i in ids if i in users]), base.key_to_plain(key)


def followers(handle: str, limit: int, cursor_key: dict | None) -> tuple[list, dict | None]:
    user = require_by_handle(handle)
    return _people(followers_partition(user.id), FollowEdge.followers, limit, cursor_key, "follower_id")


def following(handle: str, limit: int, cursor_key: dict | None) -> tuple[list, dict | None]:
    user = require_by_handle(handle)
    return _people(following_partition(user.id), FollowEdge.following, limit, cursor_key, "followee_id")
