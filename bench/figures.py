"""What every section shares: where things are, the target ratio, the fake
AWS credentials (nothing here may reach real AWS), and how a figure is
printed and judged."""
import collections
import contextlib
import os
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
TARGET = 1.5  # a figure judged against its floor may be at most this many times the floor
FAKE_AWS = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def say(text=""):
    print(text, flush=True)


def ms(seconds):
    return seconds * 1000.0


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))]


def verdict(ratio, target=TARGET):
    return "ok" if ratio <= target else "OVER"


# The sections that run a job over seeded items (accrual, loans) share the
# rest: in-process moto in a dev-stage environment, items written straight
# into a table, requests counted on Flock's client, time summed per side.
IN_PROCESS_ENV = {**FAKE_AWS, "FLOCK_STAGE": "dev", "FLOCK_ARGON2_MEMORY_KIB": "8192", "FLOCK_ARGON2_TIME_COST": "1",
                  "FLOCK_SYSTEM_ACCOUNT_SHARDS": "2", "FLOCK_JOB_SEGMENTS": "8"}
BATCH_WRITE_ITEMS_MAX = 25  # DynamoDB's limit per BatchWriteItem


def use_in_process_moto():
    """Set before chalicelib is imported (its settings are read once): the
    dev stage, fake credentials, and no endpoint or queue, so every request
    goes to the `mock_aws` of this process and jobs run inline."""
    os.environ.update(IN_PROCESS_ENV)
    for name in ("FLOCK_DYNAMODB_ENDPOINT", "FLOCK_AWS_ENDPOINT", "FLOCK_JOBS_QUEUE_URL"):
        os.environ.pop(name, None)


def floor_client(region):
    """A plain boto3 DynamoDB client configured as PynamoDB configures its
    own, for the floor. boto3 is imported here, not at the top: run.py
    imports this module and must not pay for boto3 before its cold-start
    section."""
    import boto3
    from botocore.config import Config
    return boto3.client("dynamodb", region_name=region,
                        config=Config(parameter_validation=False, retries={"mode": "standard", "total_max_attempts": 4}))


def batch_put(raw, table, items):
    """Seeds `items` (low-level attribute maps) 25 to a request, resending
    what DynamoDB hands back unprocessed until nothing is left."""
    for i in range(0, len(items), BATCH_WRITE_ITEMS_MAX):
        pending = {table: [{"PutRequest": {"Item": item}} for item in items[i:i + BATCH_WRITE_ITEMS_MAX]]}
        while pending:
            pending = raw.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


class Counter:
    """DynamoDB requests by operation: a botocore `before-call` handler."""

    def __init__(self):
        self.calls = collections.Counter()

    def __call__(self, model=None, **kwargs):
        self.calls[model.name] += 1
        # None: a before-call handler's return value would replace the request.


@contextlib.contextmanager
def counting(counter):
    """Counts the requests Flock's own client sends inside the block.
    chalicelib is imported here: the caller has set the environment first."""
    from chalicelib.db import base
    base.register_hook("before-call.dynamodb", counter)
    try:
        yield counter
    finally:
        base.unregister_hook("before-call.dynamodb", counter)


class Clock:
    """CPU and wall seconds of a block, added up."""

    def __init__(self):
        self.cpu = self.wall = 0.0

    def __enter__(self):
        self._cpu, self._wall = time.process_time(), time.perf_counter()

    def __exit__(self, *exc):
        self.cpu += time.process_time() - self._cpu
        self.wall += time.perf_counter() - self._wall


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def segmented_round(what, size, round_number, segments, floor_segments, counter, flock, floor,
                    run_segment, run_floor_segment):
    """One round of a segmented job beside its floor: each segment runs
    `run_segment(segment)` (timed on `flock`, its requests counted) and, in
    the sampled `floor_segments`, `run_floor_segment(segment)` (timed on
    `floor`), in alternating order. Every one of `size` items must have been
    processed and changed; returns how many items the floor touched."""
    processed = changed = floor_items = 0
    for segment in range(segments):
        def run_flock():
            nonlocal processed, changed
            with counting(counter), flock:
                part = run_segment(segment)
            processed += part["processed"]
            changed += part["changed"]

        def run_floor():
            nonlocal floor_items
            if segment in floor_segments:
                with floor:
                    floor_items += run_floor_segment(segment)

        for step in alternating(segment, round_number, run_flock, run_floor):
            step()
    if (processed, changed) != (size, size):
        raise RuntimeError(f"{what} processed {processed}, changed {changed} of {size}")
    return floor_items


def alternating(segment, round_number, flock, floor):
    """Which side runs first in this segment: it alternates by segment and
    round, so a busy machine's drift hits both sides alike."""
    return (flock, floor) if (segment + round_number) % 2 == 0 else (floor, flock)
