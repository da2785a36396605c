"""Work that follows a post's creation or deletion, an unfollow and a celebrity's
promotion: writing or removing timeline entries of every follower.

On AWS `dispatch` sends a message to the fan-out queue and `handle` runs in
the `@app.on_sqs_message` consumer (SQS delivers at least once: every
handler is idempotent). Locally and in tests, with no queue configured,
`dispatch` runs the same handler inline.
"""
import json
import logging

from chalicelib import aws
from chalicelib.config import settings
from chalicelib.social import timeline

log = logging.getLogger("flock")


def dispatch(kind: str, **payload) -> None:
    message = {"kind": kind, **payload}
    queue_url = settings().fanout_queue_url
    if queue_url:
        aws.client("sqs").send_message(
            QueueUrl=queue_url, MessageBody=json.dumps(message))
    else:
        handle(message)


FIELDS = {
    "post_created": ("post_id", "author_id"),
    "post_deleted": ("post_id", "author_id"),
    "celebrity_promoted": ("author_id",),
    "unfollowed": ("user_id", "author_id"),
}


def handle(message: dict) -> None:
    kind = message.get("kind")
    if kind == "post_created":
        timeline.fan_out_post(message["post_id"], message["author_id"])
    elif kind == "post_deleted":
        timeline.remove_post(message["post_id"], message["author_id"])
    elif kind == "celebrity_promoted":
        timeline.promote_celebrity(message["author_id"])
    elif kind == "unfollowed":
        timeline.remove_author(message["user_id"], message["author_id"])
    else:
        raise ValueError(f"unknown fan-out message {kind!r}")


def _parse(body) -> dict | None:
    """The message, or None if it can never be handled."""
    try:
        message = json.loads(body)
    except (TypeError, ValueError):
        return None
    if not isinstance(message, dict) or message.get("kind") not in FIELDS:
        return None
    if not all(isinstance(message.get(f), str) and message[f] for f in FIELDS[message["kind"]]):
        return None
    return message


def handle_sqs_event(event) -> int:
    """The `@app.on_sqs_message` entry point; returns the messages handled.

    A message that can never be handled (not JSON, unknown kind, missing
    fields) is logged and dropped: raising would fail the whole batch again
    and again. Any other error propagates, and SQS delivers the batch again
    (every handler is idempotent)."""
    count = 0
    for record in event:
        message = _parse(record.body)
        if message is None:
            log.error("fan-out: dropped a message that cannot be handled: %.200r", record.body)
            continue
        handle(message)
        count += 1
    return count
