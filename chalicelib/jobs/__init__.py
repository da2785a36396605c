"""Scheduled work: one function per job, each taking an as-of date and
returning a summary. The same function runs from `@app.schedule`, from
`POST /v1/admin/jobs/{name}` and from the CLI.

Every job is idempotent for its date: running it twice changes nothing.
"""
from datetime import date, datetime, time, timedelta, timezone

from chalicelib import clock
from chalicelib.db.balances import HoldItem
from chalicelib.finance import ledger
from chalicelib.finance.reconcile import reconcile
from chalicelib import errors

HOLD_SCAN_SEGMENTS = 4


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


JOBS = {
    "reconcile": run_reconcile,
    "expire-holds": run_expire_holds,
    "subscriptions": run_subscriptions,
}


def run(name: str, as_of: date | None = None) -> dict:
    if name not in JOBS:
        raise errors.NotFound(f"No job {name!r}.")
    as_of = as_of or default_as_of()
    summary = JOBS[name](as_of)
    return {"job": name, "as_of": as_of.isoformat(), **summary}
