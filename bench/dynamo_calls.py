"""Counting DynamoDB requests, and saying which code sent each one.

`Calls` is a botocore `before-call` handler for the one shared client
(`chalicelib.db.base.register_hook("before-call.dynamodb", calls)`). For
every request it keeps the operation, what it touched (table, key or key
condition, with ids shortened) and the chain of Flock functions that sent it
(innermost first), so a figure over budget can be explained from the output
alone. Used by sections 2 and 3 (bench/stack.py, request_counts.py,
transfer_time.py) and 4 (bench/social.py).
"""
import collections
import json
import os
import re
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
_ID = re.compile(r"\b([a-z]+)_[0-9a-z]{20,}\b")
_TABLE = re.compile(r"^flock-[a-z0-9]+-")


def short(text: str) -> str:
    return _ID.sub(lambda m: m.group(1) + "_…", text)


def _table(name: str) -> str:
    return _TABLE.sub("", name)


def _key(key: dict) -> str:
    return short("/".join(str(next(iter(v.values()))) for _, v in sorted(key.items())))


def describe(op: str, body: dict) -> str:
    """What one request touched, in a few words."""
    if op in ("GetItem", "DeleteItem", "UpdateItem"):
        return f"{_table(body['TableName'])} {_key(body['Key'])}"
    if op == "PutItem":
        item = body["Item"]
        return f"{_table(body['TableName'])} {_key({k: item[k] for k in ('pk', 'sk') if k in item})}"
    if op in ("Query", "Scan"):
        values = {k: next(iter(v.values())) for k, v in body.get("ExpressionAttributeValues", {}).items()}
        index = f" index {body['IndexName']}" if body.get("IndexName") else ""
        return short(f"{_table(body['TableName'])}{index} {body.get('KeyConditionExpression', '')} {values}")
    if op == "BatchGetItem":
        return ", ".join(f"{_table(t)} {len(r['Keys'])} keys" for t, r in body["RequestItems"].items())
    if op == "BatchWriteItem":
        return ", ".join(f"{_table(t)} {len(r)} items" for t, r in body["RequestItems"].items())
    if op == "TransactWriteItems":
        return f"{len(body['TransactItems'])} items"
    return ""


def flock_stack() -> str:
    """The Flock functions on the stack, innermost first: `file:line function`."""
    frames = []
    for frame in reversed(traceback.extract_stack()[:-2]):
        path = os.path.relpath(frame.filename, ROOT)
        if path.startswith("chalicelib" + os.sep) and not path.startswith(os.path.join("chalicelib", "db", "base.py")):
            frames.append(f"{path}:{frame.lineno} {frame.name}")
        elif path == "app.py":
            break
    return " < ".join(frames[:4]) or "?"


Call = collections.namedtuple("Call", "op what site phase body")


class Calls:
    """A botocore `before-call` handler recording every DynamoDB request."""

    def __init__(self, detail: bool = True, keep_bodies: bool = False):
        """`detail=False` records the operation only: cheap enough to stay
        registered around timed requests (parsing the body and walking the
        stack cost about as much as a fast request)."""
        self.log: list[Call] = []
        self.phase = "request"
        self.detail = detail
        self.keep_bodies = keep_bodies

    def __call__(self, model=None, params=None, **kwargs):
        op = model.name
        if not self.detail:
            self.log.append(Call(op, "", "", self.phase, None))
            return
        try:
            body = json.loads(params["body"]) if params and params.get("body") else {}
        except (TypeError, ValueError):
            body = {}
        self.log.append(Call(op, describe(op, body), flock_stack(), self.phase, body if self.keep_bodies else None))
        # Returning None matters: a value from a before-call handler replaces the request.

    def reset(self) -> None:
        self.log.clear()

    def counts(self, phase: str | None = None) -> collections.Counter:
        return collections.Counter(c.op for c in self.log if phase is None or c.phase == phase)

    def total(self, phase: str | None = None) -> int:
        return sum(self.counts(phase).values())

    def reads(self, phase: str | None = None) -> list[Call]:
        return [c for c in self.log if c.op in READS and (phase is None or c.phase == phase)]


def explain(calls: list[Call], indent: str) -> list[str]:
    """One line per request: operation, what it touched, where in chalicelib."""
    return [f"{indent}{c.op} {c.what}  <- {c.site}" for c in calls]
