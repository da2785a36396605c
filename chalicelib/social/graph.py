"""Follows: follow / unfollow (idempotent, exact counts) and the lists."""
from pynamodb.exceptions import TransactWriteError

from chalicelib import clock, errors
from chalicelib.config import settings
from chalicelib.db import base
from chalicelib.db.base import TaggedTransaction
from chalicelib.db.users import (FollowEdge, UserItem, follow_key, followers_partition, following_partition,
                                 user_key)
from chalicelib.identity.users import public_user, require_by_handle
from chalicelib.social import fanout, timeline

ATTEMPTS_MAX = 5


def _target(principal, handle: str) -> UserItem:
    target = require_by_handle(handle)
    if target.id == principal.user_id:
        raise errors.InvalidRequest("You cannot follow yourself.", param="handle")
    return target


def follow(principal, handle: str) -> dict:
    """The edge (put only if absent) and both counts move in one
    transaction, so counts stay exact under any concurrency and a second
    follow changes nothing."""
    target = _target(principal, handle)
    at = clock.iso(clock.now())
    edge = FollowEdge(*follow_key(principal.user_id, target.id), follower_id=principal.user_id,
                      followee_id=target.id, created_at=at,
                      gsi1_pk=followers_partition(target.id), gsi1_sk=f"{at}#{principal.user_id}",
                      gsi2_pk=following_partition(principal.user_id), gsi2_sk=f"{at}#{target.id}")
    follower_actions = [UserItem.following_count.add(1)]
    if target.celebrity:
        follower_actions.append(UserItem.celebrity_follows.add({target.id}))
    tx = TaggedTransaction()
    tx.save("edge", edge, condition=FollowEdge.pk.does_not_exist())
    tx.update("follower", UserItem.ref(principal.user_id), follower_actions, condition=UserItem.pk.exists())
    tx.update("followee", UserItem.ref(target.id), [UserItem.follower_count.add(1)], condition=UserItem.pk.exists())
    if not _commit(tx):
        return {"following": True}
    if not target.celebrity:  # a celebrity's posts are merged at read time: nothing to copy
        timeline.backfill(principal.user_id, target.id, settings().backfill_posts_max)
        if int(target.follower_count) + 1 >= settings().celebrity_followers_min:
            fanout.dispatch("celebrity_promoted", author_id=target.id)
    return {"following": True}


def unfollow(principal, handle: str) -> dict:
    target = _target(principal, handle)
    tx = TaggedTransaction()
    tx.delete("edge", FollowEdge(*follow_key(principal.user_id, target.id)), condition=FollowEdge.pk.exists())
    tx.update("follower", UserItem.ref(principal.user_id),
              [UserItem.following_count.add(-1), UserItem.celebrity_follows.delete({target.id})],
              condition=UserItem.pk.exists())
    tx.update("followee", UserItem.ref(target.id), [UserItem.follower_count.add(-1)], condition=UserItem.pk.exists())
    if _commit(tx):
        timeline.remove_author(principal.user_id, target.id)
    return {"following": False}


def _commit(tx: TaggedTransaction) -> bool:
    """True if it committed; False if the edge condition says it was already so."""
    for _ in range(ATTEMPTS_MAX):
        try:
            tx.commit()
            return True
        except TransactWriteError as exc:
            reasons = tx.reasons(exc)
            if any(r.code == "TransactionConflict" for r in reasons.values()):
                continue
            if "edge" in reasons:
                return False
            raise
    raise errors.Unavailable()


def _people(partition: str, index, limit: int, cursor_key: dict | None, id_attr: str) -> tuple[list, dict | None]:
    hash_name = index.Meta.index_name + "_pk"
    if cursor_key is not None and cursor_key.get(hash_name) != partition:
        raise errors.InvalidRequest("The cursor is not valid.", param="cursor")
    page = index.query(partition, scan_index_forward=False, limit=limit,
                       last_evaluated_key=base.key_from_plain(cursor_key))
    ids = [getattr(edge, id_attr) for edge in page]
    users = {raw["id"]["S"]: UserItem.from_raw_data(raw) for raw in base.batch_get("users", [user_key(i) for i in ids])}
    key = page.last_evaluated_key
    return [public_user(users[i]) for i in ids if i in users], base.key_to_plain(key)


def followers(handle: str, limit: int, cursor_key: dict | None) -> tuple[list, dict | None]:
    user = require_by_handle(handle)
    return _people(followers_partition(user.id), FollowEdge.followers, limit, cursor_key, "follower_id")


def following(handle: str, limit: int, cursor_key: dict | None) -> tuple[list, dict | None]:
    user = require_by_handle(handle)
    return _people(following_partition(user.id), FollowEdge.following, limit, cursor_key, "followee_id")
