"""Posts: create (with replies), read, delete (author only), a user's posts, likes."""
import secrets
import unicodedata


from chalicelib import clock, errors, ids
from chalicelib.db import base
from chalicelib.db.posts import (COUNTER_SHARDS, CounterShard, LikeItem, PostItem, author_partition, like_key,
                                 counter_key, post_key)
from chalicelib.db.transact import TRY_AGAIN, TaggedTransaction, commit
from chalicelib.db.videos import VideoItem
from chalicelib.social import fanout, search, timeline
from chalicelib.social.normalize import words
from chalicelib.social.views import PREVIEW_CHARS, hydrate

TEXT_CHARS_MAX = 280
ATTEMPTS_MAX = 5


def _find(post_id: str) -> PostItem | None:
    if not post_id.startswith("post_") or len(post_id) > 64:
        return None
    try:
        return PostItem.get(*post_key(post_id), consistent_read=True)
    except PostItem.DoesNotExist:
        return None


def require(post_id: str) -> PostItem:
    post = _find(post_id)
    if post is None:
        raise errors.NotFound("No such post.")
    return post


def _searchable_words(text: str, paywalled: bool) -> list[str]:
    """The words the index gets. A paid or subscribers-only post is found
    only by the words of its public preview: indexing the hidden part would
    let anyone probe it word by word through search. A word the preview cuts
    in two is left out."""
    if not paywalled:
        return words(text)
    whole = set(words(text))
    return [w for w in words(text[:PREVIEW_CHARS]) if w in whole]


def _bad_video() -> errors.InvalidRequest:
    return errors.InvalidRequest("video_id must be one of your own ready videos, not yet on a post.",
                                 param="video_id")


def create(principal, text: str, reply_to: str | None = None, price=None, video_url: str | None = None,
           audience: str = "public", video_id: str | None = None) -> dict:
    """The post, the author's own timeline entry, the parent's reply count
    and the claim on the video in one transaction; then the search index and
    the fan-out to followers' timelines."""
    if not 1 <= len(unicodedata.normalize("NFC", text)) <= TEXT_CHARS_MAX:
        raise errors.InvalidRequest("text is 1..280 characters.", param="text")
    if video_id is not None and (video_url is not None or VideoItem.find(video_id) is None):
        raise _bad_video()
    post_id = ids.new_id("post")
    post = PostItem(*post_key(post_id), id=post_id, author_id=principal.user_id, author_handle=principal.handle,
                    text=text, created_at=clock.iso(clock.now()), reply_to=reply_to, audience=audience,
                    video_url=video_url, video_id=video_id, words=_searchable_words(text, price is not None or audience == "subscribers"),
                    gsi1_pk=author_partition(principal.user_id), gsi1_sk=post_id)
    if price is not None:
        post.price_amount, post.price_currency = price.amount_cents, price.currency
    tx = TaggedTransaction()
    tx.save("post", post, condition=PostItem.pk.does_not_exist())
    # The author's own timeline entry lands with the post: on AWS the fan-out
    # to followers runs later, from the queue, but the author sees it at once.
    tx.save("own", timeline.own_entry(post_id, principal.user_id))
    if reply_to is not None:
        if _find(reply_to) is None:
            raise errors.NotFound("The post replied to does not exist.", param="reply_to")
        tx.update("parent", PostItem.ref(reply_to), [PostItem.reply_count.add(1)], condition=PostItem.pk.exists())
    if video_id is not None:
        # One post per video, the poster's own, verified: all three in the condition.
        tx.update("video", VideoItem.ref(video_id), [VideoItem.post_id.set(post_id)],
                  condition=(VideoItem.owner_id == principal.user_id) & (VideoItem.status == "ready")
                  & VideoItem.post_id.does_not_exist())
    failed = commit(tx, ATTEMPTS_MAX, busy_message=TRY_AGAIN)
    # A failed "post" condition on a new id is this transaction's own write (a lost answer).
    if "parent" in failed and "post" not in failed:
        raise errors.NotFound("The post replied to does not exist.", param="reply_to")
    if "video" in failed and "post" not in failed:
        raise _bad_video()
    _unexpected(failed, {"post", "parent", "video"})
    search.index_post(post_id, post.words)
    fanout.dispatch("post_created", post_id=post_id, author_id=principal.user_id)
    return hydrate([post_id], principal.user_id)[0]


def get(viewer_id: str | None, post_id: str) -> dict:
    found = hydrate([post_id], viewer_id) if post_id.startswith("post_") and len(post_id) <= 64 else []
    if not found:
        raise errors.NotFound("No such post.")
    return found[0]


def delete(principal, post_id: str) -> None:
    """Author only. The post vanishes from lists at once (reads drop posts
    that no longer exist); index postings and timeline entries follow."""
    post = require(post_id)
    if post.author_id != principal.user_id:
        raise errors.Forbidden("Only the author can delete a post.")
    parent = post.reply_to
    for _ in range(2):
        tx = TaggedTransaction()
        tx.delete("post", PostItem.ref(post_id), condition=PostItem.author_id == principal.user_id)
        if parent:
            tx.update("parent", PostItem.ref(parent), [PostItem.reply_count.add(-1)], condition=PostItem.pk.exists())
        failed = commit(tx, ATTEMPTS_MAX, busy_message=TRY_AGAIN)
        if "parent" in failed and "post" not in failed:
            parent = None  # the parent is gone: delete the post alone
            continue
        # A failed "post" condition: gone already (a racing delete, or this
        # one's own lost answer); clean up all the same.
        break
    search.unindex_post(post_id, list(post.words or []))
    base.batch_write("posts", deletes=[counter_key(post_id, s) for s in range(COUNTER_SHARDS)])
    fanout.dispatch("post_deleted", post_id=post_id, author_id=principal.user_id)


def by_author(viewer_id: str | None, author_id: str, limit: int, cursor_key: dict | None) -> tuple[list, dict | None]:
    last = base.key_from_plain(cursor_key)
    if cursor_key is not None and cursor_key.get("gsi1_pk") != author_partition(author_id):
        raise errors.InvalidRequest("The cursor is not valid.", param="cursor")
    page = PostItem.by_author.query(author_partition(author_id), scan_index_forward=False, limit=limit,
                                    last_evaluated_key=last, attributes_to_get=["pk", "sk", "gsi1_pk", "gsi1_sk"])
    post_ids = [p.gsi1_sk for p in page]
    key = page.last_evaluated_key
    return hydrate(post_ids, viewer_id), base.key_to_plain(key)


def _like_count(post_id: str) -> int:
    return sum(int(raw.get("likes", {}).get("N", "0"))
               for raw in base.batch_get("posts", [counter_key(post_id, s) for s in range(COUNTER_SHARDS)],
                                         consistent=True))


def like(principal, post_id: str) -> dict:
    """Idempotent: the like item is put only if absent, and the counter
    shard moves in the same transaction, so the count stays exact."""
    require(post_id)
    tx = TaggedTransaction()
    tx.save("like", LikeItem(*like_key(post_id, principal.user_id), user_id=principal.user_id,
                             created_at=clock.iso(clock.now())), condition=LikeItem.pk.does_not_exist())
    tx.update("count", CounterShard(*counter_key(post_id, secrets.randbelow(COUNTER_SHARDS))), [CounterShard.likes.add(1)])
    tx.check("post", PostItem.ref(post_id), condition=PostItem.pk.exists())
    _commit_unless(tx, "like")
    return {"liked": True, "like_count": _like_count(post_id)}


def unlike(principal, post_id: str) -> dict:
    require(post_id)
    tx = TaggedTransaction()
    tx.delete("like", LikeItem(*like_key(post_id, principal.user_id)), condition=LikeItem.pk.exists())
    tx.update("count", CounterShard(*counter_key(post_id, secrets.randbelow(COUNTER_SHARDS))), [CounterShard.likes.add(-1)])
    _commit_unless(tx, "like")
    return {"liked": False, "like_count": _like_count(post_id)}


def _commit_unless(tx: TaggedTransaction, idempotent_tag: str) -> None:
    """Commit; a failed condition on `idempotent_tag` means it was already done."""
    failed = commit(tx, ATTEMPTS_MAX, busy_message=TRY_AGAIN)
    if "post" in failed:
        raise errors.NotFound("No such post.")
    _unexpected(failed, {idempotent_tag})


def _unexpected(failed: dict, expected: set) -> None:
    if set(failed) - expected:
        raise RuntimeError(f"unexpected refused conditions: {sorted(map(str, failed))}")
