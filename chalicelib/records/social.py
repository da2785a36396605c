"""Answers about posts, follows, likes, conversations and search."""
from enum import Enum

from pydantic import Field

from chalicelib.records.common import Answer, Count, Id, Money, Page, Time
from chalicelib.records.identity import User
from chalicelib.records.money import Transfer


class Audience(str, Enum):
    public = "public"
    subscribers = "subscribers"


class Post(Answer):
    """A post.

    Attributes:
      id: the post id.
      author: the author's handle.
      text: the text (hidden while locked).
      created_at: when it was posted.
      reply_to: the post it answers, if any.
      like_count: likes.
      reply_count: replies.
      tip_total: minor units tipped.
      price: what unlocking costs, if it is paid.
      video_url: the video, if any (null while locked).
      audience: who may read it.
      locked: whether the caller must pay or subscribe first.
      video_id: the post's video, if any (null while locked).
      view_count: plays of the post's video.
      has_video: whether a video waits behind the lock.
    """
    id: str = Id
    author: str
    text: str
    created_at: Time
    reply_to: str | None
    like_count: int = Count
    reply_count: int = Count
    tip_total: int = Count
    price: Money | None
    video_url: str | None
    audience: Audience
    locked: bool
    video_id: str | None
    view_count: int = Count
    has_video: bool | None = None


class Following(Answer):
    """Attributes:
      following: whether the caller now follows them.
    """
    following: bool


class Liked(Answer):
    """Attributes:
      liked: whether the caller now likes the post.
      like_count: the post's likes.
    """
    liked: bool
    like_count: int = Count


class Conversation(Answer):
    """A direct-message conversation.

    Attributes:
      id: the conversation id.
      with: the other person's handle (one-to-one).
      members: every member's handle.
      created_at: when it was opened.
      last_activity_at: the last message's time.
      unread_count: messages the caller has not read.
      last_message_preview: the start of the last message.
    """
    id: str = Id
    with_: str | None = Field(alias="with")
    members: list[str]
    created_at: Time
    last_activity_at: Time | None
    unread_count: int = Count
    last_message_preview: str | None


class Message(Answer):
    """A direct message.

    Attributes:
      id: the message id.
      conversation_id: its conversation.
      sender: the sender's handle.
      text: the text.
      created_at: when it was sent.
      payment: the transfer sent with it, if any: `amount`/`currency` what the sender paid,
        `delivered`/`rate` when it converted to the currency the other member received.
    """
    id: str = Id
    conversation_id: str = Id
    sender: str
    text: str
    created_at: Time
    payment: Transfer | None


class PostPage(Page):
    __doc__ = Page.__doc__
    data: list[Post]


class ConversationPage(Page):
    __doc__ = Page.__doc__
    data: list[Conversation]


class MessagePage(Page):
    __doc__ = Page.__doc__
    data: list[Message]


class SearchPage(Page):
    __doc__ = Page.__doc__
    data: list[Post | User]
