"""Scheduled work: one function per job, each taking an as-of date and
returning a summary. The same function runs from `@app.schedule`, from
`POST /v1/admin/jobs/{name}` and from the CLI.

Every job is idempotent for its date: running it twice changes nothing.
Jobs that scan every account are split into parallel scan segments: on AWS
the scheduled (or admin) start fans the segments out over SQS to an
`@app.on_sqs_message` worker and answers with a run id; locally they run
in-process one after another and the answer is the summary.
"""
import json
from datetime import date, datetime, time, timedelta, timezone

from pynamodb.exceptions import UpdateError

from chalicelib import aws, clock, errors, ids
from chalicelib.config import settings
from chalicelib.db.balances import AccountItem, HoldItem, JobRunItem, job_run_key
from chalicelib.finance import interest, ledger
from chalicelib.finance.reconcile import reconcile

HOLD_SCAN_SEGMENTS = 4
RUN_TTL_S = 30 * 86400


def default_as_of() -> date:
    """Yesterday: the last whole UTC day by business time."""
    return clock.now().date() - timedelta(days=1)


def run_reconcile(as_of: date) -> dict:
    report = reconcile(check_entries=True)
    return {"processed": report["accounts"], "changed": 0, **report}


def run_expire_holds(as_of: date) -> dict:
    """Expire every pending hold whose expiry has passed by the end of
    `as_of` (and not after business now)."""
    cutoff = min(datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=timezone.utc), clock.now())
    processed = changed = 0
    for segment in range(HOLD_SCAN_SEGMENTS):
        for hold in HoldItem.scan((HoldItem.sk == "HOLD") & (HoldItem.status == "pending")
                                  & (HoldItem.expires_at_iso <= clock.iso(cutoff)),
                                  segment=segment, total_segments=HOLD_SCAN_SEGMENTS):
            processed += 1
            try:
                ledger.expire_hold(hold.id)
                changed += 1
            except errors.InvalidState:
                pass  # posted or voided meanwhile
    return {"processed": processed, "changed": changed}


def run_subscriptions(as_of: date) -> dict:
    from chalicelib.finance.creator import run_renewals
    return run_renewals(as_of)


def _accounts(segment: int, total: int):
    """Consistent: an eventually consistent scan could miss a movement made
    just before the end of the day being accrued (its balance and opening)."""
    return AccountItem.scan((AccountItem.sk == "ACCT") & (AccountItem.kind == "customer"),
                            segment=segment, total_segments=total, consistent_read=True)


def accrue_segment(as_of: date, segment: int, total: int, history=None) -> dict:
    history = history if history is not None else interest.rate_history()
    processed = changed = 0
    for account in _accounts(segment, total):
        processed += 1
        changed += interest.accrue_account(account, as_of, history)
    return {"processed": processed, "changed": changed}


def post_segment(as_of: date, segment: int, total: int, history=None) -> dict:
    history = history if history is not None else interest.rate_history()
    processed = changed = 0
    for account in _accounts(segment, total):
        processed += 1
        changed += interest.post_account(account, as_of, history) > 0
    return {"processed": processed, "changed": changed}


JOBS = {
    "reconcile": run_reconcile,
    "expire-holds": run_expire_holds,
    "subscriptions": run_subscriptions,
}
SEGMENTED = {
    "accrue-interest": accrue_segment,
    "post-interest": post_segment,
}
NAMES = tuple(JOBS) + tuple(SEGMENTED)


def _require(name: str) -> None:
    if name not in NAMES:
        raise errors.NotFound(f"No job {name!r}.")


def run(name: str, as_of: date | None = None, progress=None) -> dict:
    """Run a job to the end in this process; `progress(done, total, summary)`
    hears after each segment."""
    _require(name)
    as_of = as_of or default_as_of()
    if name in JOBS:
        summary = JOBS[name](as_of)
    else:
        total = settings().job_segments
        summary = {"processed": 0, "changed": 0, "segments": total}
        history = interest.rate_history()  # read once for every segment of this run
        for segment in range(total):
            part = SEGMENTED[name](as_of, segment, total, history=history)
            summary["processed"] += part["processed"]
            summary["changed"] += part["changed"]
            if progress:
                progress(segment + 1, total, summary)
    return {"job": name, "as_of": as_of.isoformat(), **summary}


def start(name: str, as_of: date | None = None) -> tuple[int, dict]:
    """(status, body): on AWS a segmented job is fanned out over SQS and
    answers 202 with its run id (API Gateway allows 29 s); otherwise the job
    runs here and answers 200 with its summary."""
    _require(name)
    queue_url = settings().jobs_queue_url
    if name not in SEGMENTED or not queue_url:
        return 200, run(name, as_of)
    as_of = as_of or default_as_of()
    total = settings().job_segments
    run_id = ids.new_id("run")
    JobRunItem(*job_run_key(run_id), id=run_id, job=name, as_of=as_of.isoformat(), segments_total=total,
               started_at=clock.iso(clock.real_now()), expires_at=int(clock.real_now().timestamp()) + RUN_TTL_S).save()
    sqs = aws.client("sqs")
    for first in range(0, total, 10):
        sqs.send_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(segment), "MessageBody": json.dumps({"run_id": run_id, "job": name, "as_of": as_of.isoformat(),
                                                            "segment": segment, "total": total})}
            for segment in range(first, min(total, first + 10))])
    return 202, {"run_id": run_id, "job": name, "as_of": as_of.isoformat(), "segments": total}


def run_segment_message(message: dict) -> dict:
    """The worker: run one segment, then count it on its run once. SQS
    delivers at least once; the segment's work is idempotent and the
    count is conditional on the segment not being counted yet."""
    name, segment, total = message["job"], int(message["segment"]), int(message["total"])
    if name not in SEGMENTED or not 0 <= segment < total:
        raise ValueError(f"bad job message {message!r}")
    part = SEGMENTED[name](date.fromisoformat(message["as_of"]), segment, total)
    run = JobRunItem(*job_run_key(message["run_id"]))
    try:
        run.update(actions=[JobRunItem.processed.add(part["processed"]), JobRunItem.changed.add(part["changed"]),
                            JobRunItem.segments_done.add({segment})],
                   condition=JobRunItem.pk.exists() & ~JobRunItem.segments_done.contains(segment))
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
    return part


def handle_sqs_event(event) -> int:
    count = 0
    for record in event:
        run_segment_message(json.loads(record.body))
        count += 1
    return count


def get_run(name: str, run_id: str) -> dict:
    _require(name)
    try:
        run = JobRunItem.get(*job_run_key(run_id), consistent_read=True) if run_id.startswith("run_") else None
    except JobRunItem.DoesNotExist:
        run = None
    if run is None or run.job != name:
        raise errors.NotFound("No such run.")
    done = len(run.segments_done or ())
    return {"run_id": run.id, "job": run.job, "as_of": run.as_of, "segments": int(run.segments_total),
            "segments_done": done, "status": "done" if done >= int(run.segments_total) else "running",
            "processed": int(run.processed), "changed": int(run.changed), "started_at": run.started_at}
