"""Work that follows a post's creation or deletion, and a celebrity's
promotion: writing or removing timeline entries of every follower.

On AWS `dispatch` sends a message to the fan-out queue and `handle` runs in
the `@app.on_sqs_message` consumer (SQS delivers at least once: every
handler is idempotent). Locally and in tests, with no queue configured,
`dispatch` runs the same handler inline.
"""
import json

import boto3

from chalicelib.config import settings


def dispatch(kind: str, **payload) -> None:
    message = {"kind": kind, **payload}
    queue_url = settings().fanout_queue_url
    if queue_url:
        s = settings()
        boto3.client("sqs", region_name=s.region, endpoint_url=s.aws_endpoint).send_message(
            QueueUrl=queue_url, MessageBody=json.dumps(message))
    else:
        handle(message)


def handle(message: dict) -> None:
    from chalicelib.social import timeline
    kind = message.get("kind")
    if kind == "post_created":
        timeline.fan_out_post(message["post_id"], message["author_id"])
    elif kind == "post_deleted":
        timeline.remove_post(message["post_id"], message["author_id"])
    elif kind == "celebrity_promoted":
        timeline.promote_celebrity(message["author_id"])
    else:
        raise ValueError(f"unknown fan-out message {kind!r}")


def handle_sqs_event(event) -> int:
    """The `@app.on_sqs_message` entry point; returns the messages handled."""
    count = 0
    for record in event:
        handle(json.loads(record.body))
        count += 1
    return count
