"""How posts look to a viewer, and reading many of them at once.

A post with a `price`, or for `audience: "subscribers"`, is locked for
everyone but its author: `text` is cut to a 40-character preview,
`video_url` is null and `locked` is true. (Unlocks and subscriptions come
with creator money; until then nobody else has unlocked anything.)
"""
from chalicelib.db import base
from chalicelib.db.posts import LIKE_SHARDS, PostItem, like_shard_key, post_key

PREVIEW_CHARS = 40


def is_locked(post: PostItem, viewer_id: str | None) -> bool:
    if viewer_id == post.author_id:
        return False
    return post.price_amount is not None or post.audience == "subscribers"


def public_post(post: PostItem, like_count: int, viewer_id: str | None) -> dict:
    locked = is_locked(post, viewer_id)
    price = ({"amount": int(post.price_amount), "currency": post.price_currency}
             if post.price_amount is not None else None)
    return {
        "id": post.id, "author": post.author_handle, "text": post.text[:PREVIEW_CHARS] if locked else post.text,
        "created_at": post.created_at, "reply_to": post.reply_to, "like_count": like_count,
        "reply_count": int(post.reply_count), "tip_total": 0, "price": price,
        "video_url": None if locked else post.video_url, "audience": post.audience, "locked": locked,
    }


def hydrate(post_ids: list[str], viewer_id: str | None) -> list[dict]:
    """The posts of `post_ids` in that order, with their like counts, in one
    batch get per 100 keys (posts and counter shards together). Posts that
    no longer exist are left out: a deleted post vanishes everywhere."""
    if not post_ids:
        return []
    keys = []
    for post_id in post_ids:
        keys.append(post_key(post_id))
        keys.extend(like_shard_key(post_id, shard) for shard in range(LIKE_SHARDS))
    posts: dict[str, PostItem] = {}
    likes: dict[str, int] = {}
    for raw in base.batch_get("posts", keys):
        post_id = raw["pk"]["S"].removeprefix("POST#")
        if raw["sk"]["S"] == "POST":
            posts[post_id] = PostItem.from_raw_data(raw)
        else:
            likes[post_id] = likes.get(post_id, 0) + int(raw.get("n", {}).get("N", "0"))
    return [public_post(posts[p], likes.get(p, 0), viewer_id) for p in post_ids if p in posts]
