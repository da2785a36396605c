"""Scheduled work: one function per job, each taking an as-of date and
returning a summary, declared once below (`registry.declare`, see
registry.py). The same function runs from `@app.schedule`, from
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

from pynamodb.exceptions import PutError, UpdateError

from chalicelib import aws, clock, errors, ids, lazy
from chalicelib.config import settings
from chalicelib.db.balances import (PENDING_HOLD_SHARDS, AccountItem, HoldItem, JobRunItem, LatestRunItem,
                                    job_run_key, latest_run_key, pending_hold_shard)
from chalicelib.finance import (card_network, check_deposits, creator, credit_shards, fx_rates, interest, ledger,
                               loans, reconcile)
from chalicelib.jobs import registry

log = logging.getLogger("flock.jobs")
records = lazy.module("chalicelib.records.operations")

RUN_TTL_S = 30 * 86400


def default_as_of() -> date:
    """Yesterday: the last whole UTC day by business time."""
    return clock.now().date() - timedelta(days=1)


def run_expire_holds(as_of: date) -> dict:
    """Expire every pending hold whose expiry has passed by the end of
    `as_of` (and not after business now). Only pending holds are in the
    index, sorted by expiry: the work is the holds that expire, not the
    table. A card's hold takes its card transaction with it (`expired`). The index may lag: a hold released a moment ago is refused by the
    release's condition, one placed a moment ago expires on a later run."""
    cutoff = clock.iso(min(datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=timezone.utc), clock.now()))
    processed = changed = 0
    for shard in range(PENDING_HOLD_SHARDS):
        # "<expiry>#<id>" < cutoff + "$" ("$" follows "#"): every expiry up to and at the cutoff.
        for hold in HoldItem.pending_by_expiry.query(pending_hold_shard(shard), HoldItem.gsi1_sk < cutoff + "$",
                                                     attributes_to_get=["id", "description"]):
            processed += 1
            try:
                ledger.expire_hold(hold.id, extras=card_network.expiry_extras(hold.description))
                changed += 1
            except errors.InvalidState:
                pass  # posted or voided meanwhile
    return {"processed": processed, "changed": changed}


def run_subscriptions(as_of: date) -> dict:
    return creator.run_renewals(as_of)


def _accounts(segment: int, total: int):
    """The accounts of people of one segment (wallets and pockets of other
    currencies), from the sparse index of account
    items (a scan of the table would read every entry ever made). An index
    read is eventually consistent: accrual, whose closes come from the copy,
    conditions its write on the `movements` it saw; posting needs no fresh
    balance (its amounts follow accrual's totals, re-read when stale, and a
    month posted by another run replays)."""
    return AccountItem.listed.scan(AccountItem.gsi3_sk.is_in(*interest.EARNING_KINDS), segment=segment,
                                   total_segments=total)


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
        behind += interest.posting_behind(account, as_of, history)
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


def run_release_deposit_holds(as_of: date) -> dict:
    """Check deposits' held funds available on or before `as_of`, released."""
    return check_deposits.release_due(as_of)


def run_fx_rates(as_of: date) -> dict:
    """Mid-market rates from the configured ECB file (finance/fx_rates.py);
    its freshness is judged against business today, whatever `as_of`."""
    return fx_rates.run_job()


# The declarations (chalicelib/jobs/registry.py): everything else about a job
# follows from these. A scheduled run of a segmented job only fans out; its
# timeout is the jobs worker's, per segment. A hold expires at its own time,
# so the hourly run looks up to today; loans are serviced for today, so
# autopay takes an installment on its due date.
registry.declare(registry.Job(
    "reconcile", reconcile_segment, "Prove the ledger balances: every balance sums to zero and matches its entries.",
    segmented=True, timeout_s=900, combine=_reconcile_summary))
registry.declare(registry.Job(
    "expire-holds", run_expire_holds, "Release pending holds whose expiry has passed.",
    schedule="rate(1 hour)", as_of="today", timeout_s=300))
registry.declare(registry.Job(
    "sweep-credit-shards", credit_shards.run_sweep, "Move what hot receiving accounts' credit shards hold to the "
    "accounts.", schedule="rate(5 minutes)", as_of="today", timeout_s=300))
registry.declare(registry.Job(
    "subscriptions", run_subscriptions, "Charge the subscriptions whose period ended; end those unpaid too long.",
    timeout_s=900))
registry.declare(registry.Job(
    "accrue-interest", accrue_segment, "Accrue each account's daily interest up to the as-of day.",
    segmented=True, timeout_s=900, rated=True))
registry.declare(registry.Job(
    "post-interest", post_segment, "Post each finished month's accrued interest as whole cents.",
    segmented=True, timeout_s=900, combine=_posting_summary, rated=True))
registry.declare(registry.Job(
    "loan-servicing", loan_servicing_segment, "Bring every open loan up to the as-of day: autopay, late fees, "
    "charge-offs.", segmented=True, as_of="today", timeout_s=900))
# Deposit holds come due at the start of their day: today's run frees them that day.
registry.declare(registry.Job(
    "release-deposit-holds", run_release_deposit_holds, "Make check deposits' held funds available when due.",
    as_of="today", timeout_s=900))
# The ECB publishes its reference rates around 16:00 CET on TARGET business
# days. EventBridge crons are UTC and know no daylight saving: 16:00 CET is
# 15:00 UTC in winter and 14:00 UTC in summer (CEST), so 16:30 UTC is at least
# half an hour after publication all year, and still the same business day in
# Frankfurt and in UTC. Weekdays only: there is no fixing on weekends (a
# holiday's run finds the last day's file and changes nothing).
FX_RATES_SCHEDULE = "cron(30 16 ? * MON-FRI *)"
registry.declare(registry.Job(
    "fx-rates", run_fx_rates, "Load the day's mid-market FX rates from the ECB reference-rate file (S3 or a path).",
    schedule=FX_RATES_SCHEDULE, as_of="today", timeout_s=60))

NAMES = registry.names()


def _require(name: str) -> registry.Job:
    job = registry.get(name)
    if job is None:
        raise errors.NotFound(f"No job {name!r}.")
    return job


# Jobs whose latest finished run is kept (`LatestRunItem`) for a route to answer from.
REMEMBERED = ("reconcile",)


def _remember(name: str, as_of: str, started_at: str, run_id: str | None = None,
              summary: "records.JobSummary | None" = None) -> None:
    """Record a finished run as the latest, unless one started later is recorded already."""
    if name not in REMEMBERED:
        return
    latest = LatestRunItem(*latest_run_key(name), job=name, run_id=run_id, as_of=as_of, started_at=started_at,
                           finished_at=clock.iso(clock.real_now()),
                           summary=json.dumps(summary.as_json()) if summary is not None else None)
    try:
        latest.save(condition=LatestRunItem.pk.does_not_exist() | (LatestRunItem.started_at <= started_at))
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


def run(name: str, as_of: date | None = None, progress=None) -> "records.JobSummary":
    """Run a job to the end in this process; `progress(done, total, counts)`
    hears after each segment. The job's own counts, whatever they are, ride
    on the summary beside the ones every job has."""
    job = _require(name)
    started_at = clock.iso(clock.real_now())
    as_of = as_of or default_as_of()
    if not job.segmented:
        summary = job.run(as_of)
    else:
        total = settings().job_segments
        combine = job.combine or _sum_counts
        history = interest.rate_history() if job.rated else None  # once for every segment of the run
        parts = []
        for segment in range(total):
            parts.append(job.run(as_of, segment, total, history=history))
            if progress:
                progress(segment + 1, total, _sum_counts(parts))
        summary = {**combine(parts), "segments": total}
    summary = records.JobSummary(job=name, as_of=as_of, **summary)
    _remember(name, as_of.isoformat(), started_at, summary=summary)
    return summary


def scheduled_as_of(job: registry.Job) -> date | None:
    """The as-of day of a scheduled run (None: the default, yesterday)."""
    return clock.now().date() if job.as_of == "today" else None


def start(name: str, as_of: date | None = None) -> tuple[int, "records.JobSummary | records.JobStarted"]:
    """(status, body): on AWS a segmented job is fanned out over SQS and
    answers 202 with its run id (API Gateway allows 29 s); otherwise the job
    runs here and answers 200 with its summary."""
    job = _require(name)
    queue_url = settings().jobs_queue_url
    if not job.segmented or not queue_url:
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
    return 202, records.JobStarted(run_id=run_id, job=name, as_of=as_of, segments=total)


def run_segment_message(message: dict) -> dict:
    """The worker: run one segment, then count it on its run once. SQS
    delivers at least once; the segment's work is idempotent and the
    count is conditional on the segment not being counted yet."""
    name, segment, total = message["job"], int(message["segment"]), int(message["total"])
    job = registry.get(name)
    if job is None or not job.segmented or not 0 <= segment < total:
        raise ValueError(f"bad job message {message!r}")
    part = job.run(date.fromisoformat(message["as_of"]), segment, total)
    if part.get("mismatches"):
        log.warning("job %s run %s segment %d: %s", name, message["run_id"], segment, json.dumps(part["mismatches"]))
    run = JobRunItem(*job_run_key(message["run_id"]))
    actions = [JobRunItem.processed.add(part["processed"]), JobRunItem.changed.add(part["changed"]),
               JobRunItem.segments_done.add({segment})]
    if "total" in part:
        actions += [JobRunItem.balance_total.add(part["total"]), JobRunItem.mismatch_count.add(part["mismatch_count"])]
        actions += [JobRunItem.currency_totals[c].set(JobRunItem.currency_totals[c] + amount)
                    for c, amount in part.get("totals", {}).items() if amount and c in settings().currencies]
        if part["mismatches"]:  # for the ledger check to show (a set: a redelivery adds nothing new)
            actions.append(JobRunItem.mismatches.add({json.dumps(m, sort_keys=True) for m in part["mismatches"]}))
    try:
        run.update(actions=actions, condition=JobRunItem.pk.exists() & ~JobRunItem.segments_done.contains(segment))
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return part  # counted already: a redelivery
    if len(run.segments_done or ()) >= int(run.segments_total):  # this segment finished the run
        _remember(name, run.as_of, run.started_at, run_id=run.id)
    return part


def handle_sqs_event(event) -> int:
    count = 0
    for record in event:
        run_segment_message(json.loads(record.body))
        count += 1
    return count


def ledger_check() -> "reconcile.records.LedgerCheck":
    """GET /v1/admin/ledger/check: the latest `reconcile` run, not a scan of
    the balances table inside an API request (API Gateway stops at 29 s).

    With the jobs queue (AWS) it answers from the latest finished run, and
    runs one first only if there has never been one. Without it (locally,
    where the job runs in-process anyway) it runs the job and answers with
    what it found, so the check is of the books as they are now."""
    if not settings().jobs_queue_url:
        return reconcile.ledger_check(run("reconcile").as_json())
    latest = LatestRunItem.find("reconcile")
    if latest is None:
        run("reconcile")
        latest = LatestRunItem.find("reconcile")
    if latest.summary:
        return reconcile.ledger_check({**json.loads(latest.summary), "finished_at": latest.finished_at})
    stored = _find_run("reconcile", latest.run_id)
    progress = _progress(stored)
    mismatches = sorted((json.loads(m) for m in stored.mismatches or ()), key=lambda m: json.dumps(m, sort_keys=True))
    return reconcile.ledger_check({
        "balanced": progress["balanced"], "total": progress["total"], "accounts": progress["processed"],
        "mismatch_count": progress["mismatch_count"], "mismatches": mismatches[:reconcile.MISMATCHES_REPORTED_MAX],
        "as_of": progress["as_of"], "run_id": latest.run_id, "finished_at": latest.finished_at})


def _find_run(name: str, run_id: str) -> JobRunItem:
    try:
        run = JobRunItem.get(*job_run_key(run_id), consistent_read=True) if run_id.startswith("run_") else None
    except JobRunItem.DoesNotExist:
        run = None
    if run is None or run.job != name:
        raise errors.NotFound("No such run.")
    return run


def get_run(name: str, run_id: str) -> "records.JobRun":
    _require(name)
    return records.JobRun(**_progress(_find_run(name, run_id)))


def _progress(run: JobRunItem) -> dict:
    done = len(run.segments_done or ())
    progress = {"run_id": run.id, "job": run.job, "as_of": run.as_of, "segments": int(run.segments_total),
                "segments_done": done, "status": "done" if done >= int(run.segments_total) else "running",
                "processed": int(run.processed), "changed": int(run.changed), "started_at": run.started_at}
    if run.job == "reconcile":  # the mismatches themselves: the ledger check shows them
        totals = {c: int(v) for c, v in (run.currency_totals.as_dict() if run.currency_totals else {}).items()}
        progress.update(total=int(run.balance_total), mismatch_count=int(run.mismatch_count), totals=totals,
                        balanced=progress["status"] == "done" and not run.balance_total and not run.mismatch_count
                        and not any(totals.values()))
    return progress
