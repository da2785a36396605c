"""Routes of the Social section (API.md): profiles, follows, posts, likes,
timeline, search, direct messages."""
from chalice import Blueprint

from chalicelib import errors, http, lazy
from chalicelib.finance.money import SUPPORTED_CURRENCIES
from chalicelib.identity.users import authenticate, require_by_handle
from chalicelib.social import graph, messages, posts, search, timeline

bp = Blueprint(__name__)
# The request models, and pydantic with them, load on the first request that needs one.
inputs = lazy.module("chalicelib.api.inputs.social")
route = http.routes(bp, authenticate, inputs)


def _page(items_and_key) -> dict:
    items, key = items_and_key
    return {"data": items, "next_cursor": http.encode_cursor(key)}


@route("/v1/users/{handle}/follow", methods=["POST"])
def follow(req, handle):
    """Follow a person."""
    return graph.follow(req.principal, handle)


@route("/v1/users/{handle}/follow", methods=["DELETE"])
def unfollow(req, handle):
    """Stop following a person."""
    return graph.unfollow(req.principal, handle)


@route("/v1/users/{handle}/followers", query="Page")
def followers(req, handle):
    """The people following a person."""
    return _page(graph.followers(handle, req.params.limit, http.decode_cursor(req.params.cursor)))


@route("/v1/users/{handle}/following", query="Page")
def following(req, handle):
    """The people a person follows."""
    return _page(graph.following(handle, req.params.limit, http.decode_cursor(req.params.cursor)))


@route("/v1/posts", methods=["POST"], body="PostBody", status=201)
def create_post(req):
    """Publish a post, optionally paid or for subscribers only."""
    d = req.data
    return posts.create(req.principal, d.text, d.reply_to, d.price.money(SUPPORTED_CURRENCIES) if d.price else None,
                        d.video_url, d.audience, d.video_id)


@route("/v1/posts/{post_id}")
def get_post(req, post_id):
    """A post (its text hidden while locked to the caller)."""
    return posts.get(req.principal.user_id, post_id)


@route("/v1/posts/{post_id}", methods=["DELETE"])
def delete_post(req, post_id):
    """Delete one of the caller's posts."""
    posts.delete(req.principal, post_id)
    return http.Reply(None, 204)


@route("/v1/users/{handle}/posts", query="Page")
def user_posts(req, handle):
    """A person's posts, newest first."""
    author = require_by_handle(handle)
    return _page(posts.by_author(req.principal.user_id, author.id, req.params.limit,
                                 http.decode_cursor(req.params.cursor)))


@route("/v1/posts/{post_id}/likes", methods=["POST"])
def like(req, post_id):
    """Like a post."""
    return posts.like(req.principal, post_id)


@route("/v1/posts/{post_id}/likes", methods=["DELETE"])
def unlike(req, post_id):
    """Take back a like."""
    return posts.unlike(req.principal, post_id)


@route("/v1/timeline", query="Page")
def home_timeline(req):
    """The caller's home timeline: posts of the people they follow, newest first."""
    cursor = http.decode_cursor(req.params.cursor)
    before = cursor.get("before") if cursor else None
    if cursor is not None and not isinstance(before, str):
        raise errors.InvalidRequest("The cursor is not valid.", param="cursor")
    items, last = timeline.home(req.principal, req.params.limit, before)
    return {"data": items, "next_cursor": http.encode_cursor({"before": last} if last else None)}


@route("/v1/search", query="SearchQuery")
def search_route(req):
    """Search posts (default) or people (`type=users`)."""
    p = req.params
    cursor = http.decode_cursor(p.cursor)
    if p.type == "users":
        return _page(search.search_users(p.q, p.limit, cursor))
    return _page(search.search_posts(req.principal.user_id, p.q, p.limit, cursor))


@route("/v1/conversations", methods=["POST"], body="ConversationBody")
def open_conversation(req):
    """Open a conversation with a person (or get the one already open).

    201 when it is new, 200 when it existed.
    """
    conversation, created = messages.open_conversation(req.principal, req.data.with_)
    return http.Reply(conversation, 201 if created else 200)


@route("/v1/conversations", query="Page")
def list_conversations(req):
    """The caller's conversations, most recently active first."""
    return _page(messages.conversations(req.principal, req.params.limit, http.decode_cursor(req.params.cursor)))


@route("/v1/conversations/{conv_id}/messages", methods=["POST"], body="MessageBody", status=201)
def send_message(req, conv_id):
    """Send a message in a conversation."""
    return messages.send(req.principal, conv_id, req.data.text)


@route("/v1/conversations/{conv_id}/messages", query="Page")
def list_messages(req, conv_id):
    """A conversation's messages, newest first."""
    return _page(messages.messages(req.principal, conv_id, req.params.limit, http.decode_cursor(req.params.cursor)))
