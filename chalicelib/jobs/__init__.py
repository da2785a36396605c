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
import logging
from datetime import date, datetime, time, timedelta, timezone

from pynamodb.exceptions import UpdateError

from chalicelib import aws, clock, errors, ids
from chalicelib.config import settings
from chalicelib.db.balances import (PENDING_HOLD_SHARDS, AccountItem, HoldItem, JobRunItem, job_run_key,
                                    pending_hold_shard)
from chalicelib.finance import creator, fx_rates, interest, ledger, loans, reconcile

log = logging.getLogger("flock.jobs")

RUN_TTL_S = 30 * 86400


def default_as_of() -> date:
    """Yesterday: the last whole UTC day by business time."""
    return clock.now().date() - timedelta(days=1)


def run_expire_holds(as_of: date) -> dict:
    """Expire every pending hold whose expiry has passed by the end of
    `as_of` (and not after business now). Only pending holds are in the
    index, sorted by expiry: the work is the holds that expire, not the
    table. The index may lag: a hold released a moment ago is refused by the
    release's condition, one placed a moment ago expires on a later run."""
    cutoff = clock.iso(min(datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=timezone.utc), clock.now()))
    processed = changed = 0
    for shard in range(PENDING_HOLD_SHARDS):
        # "<expiry>#<id>" < cutoff + "$" ("$" follows "#"): every expiry up to and at the cutoff.
        for hold in HoldItem.pending_by_expiry.query(pending_hold_shard(shard), HoldItem.gsi1_sk < cutoff + "$",
                                                     attributes_to_get=["id"]):
            processed += 1
            try:
                ledger.expire_hold(hold.id)
                changed += 1
            except errors.InvalidState:
                pass  # posted or voided meanwhile
    return {"processed": processed, "changed": changed}


def run_subscriptions(as_of: date) -> dict:
    return creator.run_renewals(as_of)


def _accounts(segment: int, total: int):
    """The customer accounts of one segment, from the sparse index of account
    items (a scan of the table would read every entry ever made). An index
    read is eventually consistent: accrual, whose closes come from the copy,
    conditions its write on the `movements` it saw; posting needs no fresh
    balance (its amounts follow accrual's totals, re-read when stale, and a
    month posted by another run replays)."""
    return AccountItem.listed.scan(AccountItem.gsi3_sk == "customer", segment=segment, total_segments=total)


def accrue_segment(as_of: date, segment: int, total: int, history=None) -> dict:
    history = history if history is not None else interest.rate_history()
    processed = changed = 0
    for account in _accounts(segment, total):
        processed += 1
        changed += interest.accrue_account(account, as_of, history)
    return {"processed": processed, "changed": changed}


def post_segment(as_of: date, segment: int, total: int, history=None) -> dict:
    """`behind`: accounts with months left for a later run (a run posts a
    bounded number per account, whatever the clock did)."""
    history = history if history is not None else interest.rate_history()
    processed = changed = behind = 0
    for account in _accounts(segment, total):
        processed += 1
        changed += interest.post_account(account, as_of, history) > 0
        behind += interest.posting_behind(account, as_of)
    return {"processed": processed, "changed": changed, "behind": behind}


def reconcile_segment(as_of: date, segment: int, total: int, history=None) -> dict:
    return reconcile.reconcile_segment(segment, total)


def loan_servicing_segment(as_of: date, segment: int, total: int, history=None) -> dict:
    """Every open loan of the segment brought up to the end of `as_of`
    (finance/loans.py: idempotent per day, catching up missed days)."""
    return loans.service_segment(as_of, segment, total)


def _sum_counts(parts: list[dict]) -> dict:
    return {"processed": sum(p["processed"] for p in parts), "changed": sum(p["changed"] for p in parts)}


def _reconcile_summary(parts: list[dict]) -> dict:
    return {**_sum_counts(parts), **reconcile.combine(parts)}


def _posting_summary(parts: list[dict]) -> dict:
    return {**_sum_counts(parts), "behind": sum(p["behind"] for p in parts)}


def run_fx_rates(as_of: date) -> dict:
    """Mid-market rates from the configured ECB file (finance/fx_rates.py)."""
    return fx_rates.run_job()


JOBS = {
    "expire-holds": run_expire_holds,
    "subscriptions": run_subscriptions,
    "fx-rates": run_fx_rates,
}
SEGMENTED = {
    "accrue-interest": accrue_segment,
    "post-interest": post_segment,
    "reconcile": reconcile_segment,
    "loan-servicing": loan_servicing_segment,
}
RATED = ("accrue-interest", "post-interest")  # the jobs that read the rate history
# How a run's summary is made from its segments' (default: the counts added up).
COMBINE = {"reconcile": _reconcile_summary, "post-interest": _posting_summary}
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
        combine = COMBINE.get(name, _sum_counts)
        history = interest.rate_history() if name in RATED else None  # once for every segment of the run
        parts = []
        for segment in range(total):
            parts.append(SEGMENTED[name](as_of, segment, total, history=history))
            if progress:
                progress(segment + 1, total, _sum_counts(parts))
        summary = {**combine(parts), "segments": total}
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
               started_at=clock.iso(clock.real_now()), expires_at=int(clock.real_now().timestamp()) + RUN_TTL_S,
               # Each currency's key exists from the start, so a worker adds to it in place.
               currency_totals={c: 0 for c in settings().currencies} if name == "reconcile" else None).save()
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
    if part.get("mismatches"):
        log.warning("job %s run %s segment %d: %s", name, message["run_id"], segment, json.dumps(part["mismatches"]))
    run = JobRunItem(*job_run_key(message["run_id"]))
    actions = [JobRunItem.processed.add(part["processed"]), JobRunItem.changed.add(part["changed"]),
               JobRunItem.segments_done.add({segment})]
    if "total" in part:
        actions += [JobRunItem.balance_total.add(part["total"]), JobRunItem.mismatch_count.add(part["mismatch_count"])]
        actions += [JobRunItem.currency_totals[c].set(JobRunItem.currency_totals[c] + amount)
                    for c, amount in part.get("totals", {}).items() if amount and c in settings().currencies]
    try:
        run.update(actions=actions, condition=JobRunItem.pk.exists() & ~JobRunItem.segments_done.contains(segment))
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
    progress = {"run_id": run.id, "job": run.job, "as_of": run.as_of, "segments": int(run.segments_total),
                "segments_done": done, "status": "done" if done >= int(run.segments_total) else "running",
                "processed": int(run.processed), "changed": int(run.changed), "started_at": run.started_at}
    if run.job == "reconcile":  # the mismatches themselves are in the workers' logs
        totals = {c: int(v) for c, v in (run.currency_totals.as_dict() if run.currency_totals else {}).items()}
        progress.update(total=int(run.balance_total), mismatch_count=int(run.mismatch_count), totals=totals,
                        balanced=progress["status"] == "done" and not run.balance_total and not run.mismatch_count
                        and not any(totals.values()))
    return progress
