"""The posts table: posts, likes, timelines, the search index, direct messages.

Item kinds (pk / sk):
  POST#<post_id>        POST              a post; gsi1 AUTHOR#<author_id> / <post_id> lists an author's posts
  POST#<post_id>        CNT#<shard>       one shard of the post's like, tip, reply and video-view counters (sum on
                                          read); made by the first write to it; `gone` once the post is deleted
                                          (a tombstone that refuses later writes, expiring by TTL)
  POST#<post_id>        UNLOCK#<user_id>  one person's unlock of a paid post
  POST#<post_id>        LIKE#<user_id>    one person's like (existence is the like)
  TL#<user_id>          <post_id>         a home-timeline entry; gsi1 TLA#<user>#<author> / <post_id>
                                          finds one author's entries (unfollow removes them)
  IDX#<word>            <post_id>         a posting of the search index
  CONV#<conv_id>        CONV              a conversation between two people
  CONV#<conv_id>        MSG#<msg_id>      a message
  INBOX#<user_id>       <conv_id>         a member's view of a conversation (unread count);
                                          gsi1 INBOX#<user_id> / <last activity>#<conv_id>
"""
from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, ListAttribute

from chalicelib.db.base import Gsi1, Item, meta

COUNTER_SHARDS = 4  # every post's; a hot post is widened (`PostItem.counter_shards`)


POST_PREFIX = "POST#"
POST_SORT_KEY = "POST"


def post_key(post_id: str) -> tuple[str, str]:
    return f"{POST_PREFIX}{post_id}", POST_SORT_KEY


def post_id_of(pk: str) -> str:
    """The post whose partition `pk` is (the post, its counters, likes, unlocks)."""
    return pk.removeprefix(POST_PREFIX)


def like_key(post_id: str, user_id: str) -> tuple[str, str]:
    return f"POST#{post_id}", f"LIKE#{user_id}"


def counter_key(post_id: str, shard: int) -> tuple[str, str]:
    return f"POST#{post_id}", f"CNT#{shard}"


def unlock_key(post_id: str, user_id: str) -> tuple[str, str]:
    return f"POST#{post_id}", f"UNLOCK#{user_id}"


def author_partition(author_id: str) -> str:
    return f"AUTHOR#{author_id}"


def timeline_partition(user_id: str) -> str:
    return f"TL#{user_id}"


def timeline_author_partition(user_id: str, author_id: str) -> str:
    return f"TLA#{user_id}#{author_id}"


def posting_partition(word: str) -> str:
    return f"IDX#{word}"


def conversation_key(conv_id: str) -> tuple[str, str]:
    return f"CONV#{conv_id}", "CONV"


MESSAGE_PREFIX = "MSG#"


def message_key(conv_id: str, msg_id: str) -> tuple[str, str]:
    return f"CONV#{conv_id}", f"{MESSAGE_PREFIX}{msg_id}"


def inbox_partition(user_id: str) -> str:
    """A member's conversations: by id in the table, by activity in gsi1."""
    return f"INBOX#{user_id}"


def inbox_key(user_id: str, conv_id: str) -> tuple[str, str]:
    return inbox_partition(user_id), conv_id


def inbox_activity_sort_key(at: str, conv_id: str) -> str:
    return f"{at}#{conv_id}"


class PostItem(Item):
    Meta = meta("posts")
    id = UnicodeAttribute()
    author_id = UnicodeAttribute()
    author_handle = UnicodeAttribute()
    text = UnicodeAttribute()
    created_at = UnicodeAttribute()
    reply_to = UnicodeAttribute(null=True)
    reply_count = NumberAttribute(default=0)  # from before replies were counted on the shards; still summed
    counter_shards = NumberAttribute(null=True)  # how many CNT# shards: COUNTER_SHARDS unless widened
    price_amount = NumberAttribute(null=True)
    price_currency = UnicodeAttribute(null=True)
    video_url = UnicodeAttribute(null=True)
    video_id = UnicodeAttribute(null=True)  # an uploaded video (db/videos.py), played by presigned GET
    audience = UnicodeAttribute(default="public")
    words = ListAttribute(default=list)
    gsi1_pk = UnicodeAttribute(null=True)
    gsi1_sk = UnicodeAttribute(null=True)
    by_author = Gsi1()

    @classmethod
    def ref(cls, post_id: str) -> "PostItem":
        return cls(*post_key(post_id))


class LikeItem(Item):
    Meta = meta("posts")
    user_id = UnicodeAttribute()
    created_at = UnicodeAttribute()


class CounterShard(Item):
    """Hot counters are sharded: one item takes about 1,000 writes/s."""
    Meta = meta("posts")
    likes = NumberAttribute(default=0)
    tips = NumberAttribute(default=0)  # USD minor units
    views = NumberAttribute(default=0)  # answers of GET /v1/posts/{id}/video
    replies = NumberAttribute(default=0)
    paid = NumberAttribute(null=True)  # how many tips and unlocks: with likes, what makes a post hot
    gone = BooleanAttribute(null=True)
    expires_at = NumberAttribute(null=True)

    @classmethod
    def live(cls):
        """The condition of every write to a shard: the post was not deleted.
        A shard not yet written passes (the post's existence was read just
        before), so no write needs the post item itself."""
        return cls.gone.does_not_exist()


def counter_width(post: PostItem) -> int:
    return int(post.counter_shards or COUNTER_SHARDS)


class UnlockItem(Item):
    Meta = meta("posts")
    user_id = UnicodeAttribute()
    transfer_id = UnicodeAttribute()
    idempotency_key = UnicodeAttribute()
    created_at = UnicodeAttribute()


class TimelineItem(Item):
    Meta = meta("posts")
    post_id = UnicodeAttribute()
    author_id = UnicodeAttribute()
    gsi1_pk = UnicodeAttribute()
    gsi1_sk = UnicodeAttribute()
    by_author = Gsi1()
    expires_at = NumberAttribute(null=True)


class Posting(Item):
    Meta = meta("posts")
    post_id = UnicodeAttribute()


class ConversationItem(Item):
    Meta = meta("posts")
    id = UnicodeAttribute()
    members = ListAttribute(of=UnicodeAttribute)
    member_handles = ListAttribute(of=UnicodeAttribute)
    created_at = UnicodeAttribute()
    last_activity_at = UnicodeAttribute()


class MessageItem(Item):
    Meta = meta("posts")
    id = UnicodeAttribute()
    conversation_id = UnicodeAttribute()
    sender_id = UnicodeAttribute()
    sender_handle = UnicodeAttribute()
    text = UnicodeAttribute()
    created_at = UnicodeAttribute()
    payment_transfer_id = UnicodeAttribute(null=True)
    payment = UnicodeAttribute(null=True)  # JSON of the transfer, written in its own transaction


class InboxItem(Item):
    Meta = meta("posts")
    conversation_id = UnicodeAttribute()
    other_id = UnicodeAttribute()
    other_handle = UnicodeAttribute()
    unread = NumberAttribute(default=0)
    last_activity_at = UnicodeAttribute()
    last_preview = UnicodeAttribute(default="")
    gsi1_pk = UnicodeAttribute()
    gsi1_sk = UnicodeAttribute()
    by_activity = Gsi1()
