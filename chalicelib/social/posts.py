"""Posts: create (with replies), read, delete (author only), a user's posts, likes."""
import secrets
import unicodedata

from pynamodb.exceptions import UpdateError

from chalicelib import clock, errors, ids, lazy
from chalicelib.config import settings
from chalicelib.db import base
from chalicelib.db.posts import (CounterShard, LikeItem, PostItem, author_partition, counter_key, counter_width,
                                 like_key, post_key)
from chalicelib.db.transact import TRY_AGAIN, TaggedTransaction, commit
from chalicelib.db.videos import VideoItem
from chalicelib.db.warm import Warm
from chalicelib.social import fanout, search, timeline
from chalicelib.social.normalize import words
from chalicelib.social.views import PREVIEW_CHARS, hydrate

records = lazy.module("chalicelib.records.social")

TEXT_CHARS_MAX = 280
ATTEMPTS_MAX = 5
# Shards tombstoned in the deleting transaction itself (moto caps a
# transaction at 25 items); a widened post's others go first, in chunks.
TOMBSTONES_PER_TX = 16
TOMBSTONE_TTL_S = 86_400


def _find(post_id: str) -> PostItem | None:
    if not post_id.startswith("post_") or len(post_id) > 64:
        return None
    try:
        return PostItem.get(*post_key(post_id), consistent_read=True)
    except PostItem.DoesNotExist:
        return None


# A post's author, price and audience never change: money paths (tips,
# unlocks) read them once per warm Lambda. Whether it still exists is the
# condition on its counter shard in their transaction; the entries expire
# long before a deleted post's tombstones do.
POSTS = Warm(max_items=50_000, ttl_s=60)


def cached(post_id: str) -> PostItem | None:
    return POSTS.get(post_id, _find)


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
           audience: str = "public", video_id: str | None = None) -> "records.Post":
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
        parent = _find(reply_to)
        if parent is None:
            raise errors.NotFound("The post replied to does not exist.", param="reply_to")
        # On a shard, not the parent's item: a viral post's replies are no hot item either.
        tx.update("parent", random_shard(parent), [CounterShard.replies.add(1)], condition=CounterShard.live())
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


def get(viewer_id: str | None, post_id: str) -> "records.Post":
    found = hydrate([post_id], viewer_id) if post_id.startswith("post_") and len(post_id) <= 64 else []
    if not found:
        raise errors.NotFound("No such post.")
    return found[0]


def random_shard(post: PostItem) -> CounterShard:
    """Where one write to the post's counters goes (rule 7: no hot item)."""
    return CounterShard(*counter_key(post.id, secrets.randbelow(counter_width(post))))


def _tombstone(tx: TaggedTransaction, post_id: str, shards: range) -> None:
    expires_at = int(clock.real_now().timestamp()) + TOMBSTONE_TTL_S
    for shard in shards:
        tx.update(("tombstone", shard), CounterShard(*counter_key(post_id, shard)),
                  [CounterShard.gone.set(True), CounterShard.expires_at.set(expires_at)])


def delete(principal, post_id: str) -> None:
    """Author only. The post vanishes from lists at once (reads drop posts
    that no longer exist); index postings and timeline entries follow.

    The post's counter shards are tombstoned with it, so a like, tip, reply
    or unlock racing the delete either lands before it or is refused: they
    check the shard they write, never the post item. A widened post's shards
    beyond the first TOMBSTONES_PER_TX are tombstoned first (writes to them
    are refused from then on); the post goes with the rest, conditioned on
    its width still being the one tombstoned."""
    post = require(post_id)
    if post.author_id != principal.user_id:
        raise errors.Forbidden("Only the author can delete a post.")
    POSTS.forget(post_id)
    parent = _find(post.reply_to) if post.reply_to else None
    indexed = list(post.words or [])
    for _ in range(ATTEMPTS_MAX):
        width = counter_width(post)
        for start in range(TOMBSTONES_PER_TX, width, TOMBSTONES_PER_TX):
            chunk = TaggedTransaction()
            _tombstone(chunk, post_id, range(start, min(width, start + TOMBSTONES_PER_TX)))
            _unexpected(commit(chunk, ATTEMPTS_MAX, busy_message=TRY_AGAIN), set())
        same_width = (PostItem.counter_shards == width if post.counter_shards
                      else PostItem.counter_shards.does_not_exist())
        tx = TaggedTransaction()
        tx.delete("post", PostItem.ref(post_id), condition=(PostItem.author_id == principal.user_id) & same_width)
        _tombstone(tx, post_id, range(min(width, TOMBSTONES_PER_TX)))
        if parent is not None:
            tx.update("parent", random_shard(parent), [CounterShard.replies.add(-1)], condition=CounterShard.live())
        failed = commit(tx, ATTEMPTS_MAX, busy_message=TRY_AGAIN)
        if "parent" in failed and "post" not in failed:
            parent = None  # the parent is gone: delete the post alone
            continue
        if "post" in failed:
            # Gone already (a racing delete, or this one's own lost answer),
            # or widened meanwhile: then tombstone the new shards too.
            post = _find(post_id)
            if post is not None:
                continue
        break
    else:
        raise errors.Unavailable(TRY_AGAIN)
    search.unindex_post(post_id, indexed)
    fanout.dispatch("post_deleted", post_id=post_id, author_id=principal.user_id)


def by_author(viewer_id: str | None, author_id: str, limit: int,
              cursor_key: dict | None) -> tuple[list["records.Post"], dict | None]:
    last = base.key_from_plain(cursor_key)
    if cursor_key is not None and cursor_key.get("gsi1_pk") != author_partition(author_id):
        raise errors.InvalidRequest("The cursor is not valid.", param="cursor")
    page = PostItem.by_author.query(author_partition(author_id), scan_index_forward=False, limit=limit,
                                    last_evaluated_key=last, attributes_to_get=["pk", "sk", "gsi1_pk", "gsi1_sk"])
    post_ids = [p.gsi1_sk for p in page]
    key = page.last_evaluated_key
    return hydrate(post_ids, viewer_id), base.key_to_plain(key)


def _shard_sum(post: PostItem, *names: str) -> int:
    return sum(int(raw.get(name, {}).get("N", "0"))
               for raw in base.batch_get("posts", [counter_key(post.id, s) for s in range(counter_width(post))],
                                         consistent=True) for name in names)


def _like_count(post: PostItem) -> int:
    """Never below zero: a batch get is no snapshot of the shards (`views.public_post`)."""
    return max(0, _shard_sum(post, "likes"))


def shard_writes(post: PostItem) -> int:
    """How many likes, tips and unlocks the post's counter shards took: each
    one wrote a shard, so together they say how hot the post is."""
    return _shard_sum(post, "likes", "paid")


def widen_if_hot(post: PostItem, writes: int) -> None:
    """A post past `hot_post_likes` writes of its shards (likes; tips and
    unlocks too, creator.py) gets `hot_post_counter_shards` shards. Widths
    only grow (writers that read the old width write within the new one);
    the post's delete re-reads a width that changed under it."""
    s = settings()
    width = s.hot_post_counter_shards
    if writes < s.hot_post_likes or counter_width(post) >= width:
        return
    try:
        PostItem.ref(post.id).update(actions=[PostItem.counter_shards.set(width)], condition=PostItem.pk.exists() & (
            PostItem.counter_shards.does_not_exist() | (PostItem.counter_shards < width)))
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise  # widened already, or deleted: nothing to do
    POSTS.forget(post.id)  # this Lambda's writers use the new width from now on


def like(principal, post_id: str) -> "records.Liked":
    """Idempotent: the like item is put only if absent, and the counter
    shard moves in the same transaction, so the count stays exact. The
    shard's own condition says the post still exists (see `delete`)."""
    post = require(post_id)
    tx = TaggedTransaction()
    tx.save("like", LikeItem(*like_key(post_id, principal.user_id), user_id=principal.user_id,
                             created_at=clock.iso(clock.now())), condition=LikeItem.pk.does_not_exist())
    tx.update("count", random_shard(post), [CounterShard.likes.add(1)], condition=CounterShard.live())
    _commit_unless(tx, "like")
    count = _like_count(post)
    widen_if_hot(post, count)
    return records.Liked(liked=True, like_count=count)


def unlike(principal, post_id: str) -> "records.Liked":
    post = require(post_id)
    tx = TaggedTransaction()
    tx.delete("like", LikeItem(*like_key(post_id, principal.user_id)), condition=LikeItem.pk.exists())
    tx.update("count", random_shard(post), [CounterShard.likes.add(-1)], condition=CounterShard.live())
    _commit_unless(tx, "like")
    return records.Liked(liked=False, like_count=_like_count(post))


def _commit_unless(tx: TaggedTransaction, idempotent_tag: str) -> None:
    """Commit; a failed condition on `idempotent_tag` means it was already done."""
    failed = commit(tx, ATTEMPTS_MAX, busy_message=TRY_AGAIN)
    if "count" in failed:
        raise errors.NotFound("No such post.")  # its shards are tombstoned: deleted since it was read
    _unexpected(failed, {idempotent_tag})


def _unexpected(failed: dict, expected: set) -> None:
    if set(failed) - expected:
        raise RuntimeError(f"unexpected refused conditions: {sorted(map(str, failed))}")
