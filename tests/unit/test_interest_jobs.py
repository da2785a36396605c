"""The interest jobs as operators meet them: reruns change nothing, a crash
midway is finished by the next run, forty missed days caught up in one run
leave the books a clean daily run leaves, and on AWS the segments fan out
over SQS to the worker, which counts each segment once however often SQS
delivers it. The books balance after every job."""
import dataclasses
import json
import uuid
from datetime import timedelta

import pytest

from chalicelib import clock, errors, jobs
from chalicelib.api import queue_name
from chalicelib.config import settings
from chalicelib.db.balances import AccountItem
from chalicelib.finance import interest, ledger
from tests.unit import dates
from tests.unit import interest_model as model
from tests.unit.conftest import take_all
from tests.unit.test_interest import (DAY, advance, balanced, clock_to, entries, job, start_of_next_month,
                                      sums_to_zero, today, withdraw)


def books_of(api, *handles):
    """What each person sees: the account and every entry (kind, amount)."""
    seen = {}
    for h in handles:
        w = api.wallet(h)
        seen[h] = ({k: w[k] for k in ("balance", "held", "credit_limit", "spendable", "accrued_interest_micros")},
                   sorted((e["kind"], e["amount"]) for e in entries(api, h)))
    return seen


def people(api, deposits):
    """Verified people with an opening deposit each (cents; 0 for none)."""
    for handle, cents in deposits.items():
        api.verified(handle)
        if cents:
            api.deposit(handle, cents)
    return today()


def expect(api, handle, book):
    w = api.wallet(handle)
    assert (w["balance"], w["accrued_interest_micros"]) == (book.balance, book.accrued), handle
    posted = sorted(e["amount"] for e in entries(api, handle) if e["kind"] in ("interest", "overdraft_interest"))
    assert posted == sorted(c for _, c in book.postings), handle


# Reruns and crashes ----------------------------------------------------------------------

@pytest.mark.parametrize("start", dates.START_DATES, ids=str)
def test_rerunning_the_same_as_of_changes_nothing(api, start):
    dates.pin(start)
    opened = people(api, {"ann": 120_000, "ben": 7_777})
    now = advance(api, 35)
    yesterday = now - DAY
    assert job(api, "accrue-interest", yesterday)["changed"] == 2
    after_accrual = books_of(api, "ann", "ben")
    for as_of in (yesterday, opened):
        again = job(api, "accrue-interest", as_of, full_check=False)
        assert (again["processed"], again["changed"]) == (2, 0), again
    assert books_of(api, "ann", "ben") == after_accrual
    assert job(api, "post-interest", yesterday)["changed"] == 2
    after_posting = books_of(api, "ann", "ben")
    for name in ("post-interest", "accrue-interest", "post-interest"):
        assert job(api, name, yesterday, full_check=False)["changed"] == 0
    assert books_of(api, "ann", "ben") == after_posting
    for handle, cents in (("ann", 120_000), ("ben", 7_777)):  # every month ended by yesterday (two from a 31st)
        expect(api, handle, model.simulate(opened, yesterday, {opened: cents}, post_by=yesterday))


def _fail_after(monkeypatch, module, name, k):
    """`module.name` works k times, then raises as a crashed worker would."""
    real = getattr(module, name)
    calls = []

    def flaky(*args, **kwargs):
        calls.append(args)
        if len(calls) > k:
            raise RuntimeError("worker crashed")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, flaky)
    return calls


DEPOSITS = {"p0": 100_000, "p1": 250_000, "p2": 999_999, "p3": 12_345, "p4": 2_000_000}


def test_an_accrual_crash_after_k_of_n_accounts_is_finished_by_the_rerun(api, monkeypatch):
    opened = people(api, DEPOSITS)
    yesterday = advance(api, 12) - DAY
    _fail_after(monkeypatch, interest, "accrue_account", 2)
    with pytest.raises(RuntimeError, match="worker crashed"):
        jobs.run("accrue-interest", yesterday)
    monkeypatch.undo()
    balanced(api)
    done = [h for h in DEPOSITS if api.wallet(h)["accrued_interest_micros"]]
    assert len(done) == 2, done
    summary = job(api, "accrue-interest", yesterday)
    assert (summary["processed"], summary["changed"]) == (5, 3), summary
    for handle, cents in DEPOSITS.items():
        expect(api, handle, model.simulate(opened, yesterday, {opened: cents}))


@pytest.mark.parametrize("start", dates.START_DATES, ids=str)
def test_a_posting_crash_after_k_of_n_accounts_is_finished_by_the_rerun(api, monkeypatch, start):
    dates.pin(start)
    opened = people(api, DEPOSITS)
    yesterday = advance(api, 33) - DAY
    job(api, "accrue-interest", yesterday)
    _fail_after(monkeypatch, interest, "post_account", 3)
    with pytest.raises(RuntimeError, match="worker crashed"):
        jobs.run("post-interest", yesterday)
    monkeypatch.undo()
    balanced(api)
    assert sum(1 for h in DEPOSITS if any(e["kind"] == "interest" for e in entries(api, h))) == 3
    summary = job(api, "post-interest", yesterday)
    assert (summary["processed"], summary["changed"]) == (5, 2), summary
    for handle, cents in DEPOSITS.items():
        expect(api, handle, model.simulate(opened, yesterday, {opened: cents}, post_by=yesterday))


def test_a_posting_stopped_between_the_interest_earned_and_the_charge_is_finished_by_the_rerun(api, monkeypatch):
    """A month that earned and was charged posts two transfers; a worker
    that dies after the first leaves the month unposted, and the rerun
    posts the charge alone, once."""
    start_of_next_month(api)
    api.verified("swing")
    assert api.admin("PUT", "/v1/admin/users/swing/credit-limit", {"credit_limit": 600_000}).status_code == 200
    opened = today()
    api.deposit("swing", 200_000)
    spent = advance(api, 10)
    withdraw(api, "swing", 500_000)  # -> -$3,000 for the rest of the month
    month_end = interest.month_end(opened.year, opened.month)
    clock_to(api, (month_end + DAY).isoformat() + "T12:00:00Z")
    moves = {opened: 200_000, spent: -500_000}
    job(api, "accrue-interest", month_end)
    calls = _fail_after(monkeypatch, ledger, "transfer", 1)
    with pytest.raises(RuntimeError, match="worker crashed"):
        jobs.run("post-interest", month_end)
    monkeypatch.undo()
    assert [m.kind for m, *_ in calls] == ["interest", "overdraft_interest"]
    assert [e["kind"] for e in entries(api, "swing") if "interest" in e["kind"]] == ["interest"]
    balanced(api)
    assert job(api, "post-interest", month_end)["changed"] == 1
    assert job(api, "post-interest", month_end)["changed"] == 0
    expected = model.simulate(opened, month_end, moves, post_by=month_end)
    assert [c > 0 for _, c in expected.postings] == [True, False]
    expect(api, "swing", expected)
    assert sorted(e["kind"] for e in entries(api, "swing") if "interest" in e["kind"]) == \
        ["interest", "overdraft_interest"]


@pytest.mark.parametrize("start", dates.START_DATES, ids=str)
def test_a_posting_whose_answer_was_lost_posts_once(api, monkeypatch, start):
    """The transfer committed, then the worker died before it heard so."""
    dates.pin(start)
    opened = people(api, {"ann": 500_000})
    yesterday = advance(api, 32) - DAY
    real = ledger.transfer

    def commit_then_die(movement, hold=None):
        real(movement, hold)
        raise TimeoutError("the answer was lost")

    monkeypatch.setattr(ledger, "transfer", commit_then_die)
    with pytest.raises(TimeoutError):
        jobs.run("post-interest", yesterday)
    monkeypatch.undo()
    # The movement carried the watermark: the rerun finds the month posted,
    # and posts only the next one when two had ended (from a 31st).
    ended = dates.month_ends(opened, yesterday)
    assert job(api, "post-interest", yesterday)["changed"] == (len(ended) - 1)
    assert len(ended) in (1, 2)
    expect(api, "ann", model.simulate(opened, yesterday, {opened: 500_000}, post_by=yesterday))
    assert api.wallet("ann")["accrued_interest_micros"] >= 0


# Forty missed days ------------------------------------------------------------------------

def test_forty_missed_days_caught_up_in_one_run_equal_a_clean_daily_run(api, monkeypatch):
    """Two identical worlds: d_* run every day, l_* miss forty days and
    catch up in one run (posting first, the harder order). A saver with
    movements and a borrower in overdraft across a month end."""
    worlds = ("d", "l")
    start_of_next_month(api)
    opened = people(api, {f"{w}_{p}": 0 for w in worlds for p in ("save", "owe")})
    for w in worlds:
        api.deposit(f"{w}_save", 1_000_000)
        r = api.admin("PUT", f"/v1/admin/users/{w}_owe/credit-limit", {"credit_limit": 600_000})
        assert r.status_code == 200, r.body
        withdraw(api, f"{w}_owe", 500_000)
    moves = {"save": {opened: 1_000_000}, "owe": {opened: -500_000}}
    plan = {12: [("save", 50_000)], 20: [("owe", 100_000)], 25: [("save", -200_000)], 33: [("owe", -25_000)]}
    # The daily world's jobs do not see the late world (one segment: the daily loop stays quick).
    late = {AccountItem.ref(api.wallet(f"l_{p}")["id"]).pk for p in ("save", "owe")}
    scan = jobs._accounts
    monkeypatch.setattr(jobs, "_accounts", lambda segment, total: (
        a for a in scan(segment, total) if a.pk not in late))
    monkeypatch.setattr(jobs, "settings", lambda: dataclasses.replace(settings(), job_segments=1))
    for day_number in range(1, 41):
        now = clock.advance_days(1).date()
        for who, cents in plan.get(day_number, ()):
            for w in worlds:
                api.deposit(f"{w}_{who}", cents) if cents > 0 else withdraw(api, f"{w}_{who}", -cents)
            moves[who][now] = cents
        assert jobs.run("accrue-interest").changed == 2
        if jobs.run("post-interest").changed or day_number in plan:
            sums_to_zero()  # on the days money moved (the other days' jobs move none)
    monkeypatch.undo()
    balanced(api)
    yesterday = today() - DAY
    posted = job(api, "post-interest")
    assert (posted["processed"], posted["changed"]) == (4, 2), posted
    assert job(api, "accrue-interest")["changed"] == 0  # posting brought accrual up to date first
    month_end = interest.month_end(opened.year, opened.month)
    for p in ("save", "owe"):
        daily, caught_up = books_of(api, f"d_{p}")[f"d_{p}"], books_of(api, f"l_{p}")[f"l_{p}"]
        assert caught_up == daily, p
        expect(api, f"l_{p}", model.simulate(opened, yesterday, moves[p], post_by=month_end))
    charged = model.simulate(opened, yesterday, moves["owe"], post_by=month_end).postings
    assert len(charged) == 1 and charged[0][1] < 0


def test_a_long_outage_catches_up_window_by_window(api, monkeypatch):
    """More days (and more openings) than one update covers: several
    updates, the same books. Windows made small here so a few movements fill them."""
    monkeypatch.setattr(interest, "ACCRUAL_WINDOW_DAYS", 50)
    monkeypatch.setattr(interest, "ACCRUAL_WINDOW_OPENINGS_MAX", 2)
    opened = people(api, {"ann": 300_000})
    moves = {opened: 300_000}
    for step in range(4):  # movements on several days, each an opening to remove
        moves[advance(api, 11 + step)] = 1_000 + step
        api.deposit("ann", 1_000 + step)
    now = advance(api, 120)
    updates = []
    real = interest._accrue_window
    monkeypatch.setattr(interest, "_accrue_window", lambda *a: updates.append(1) or real(*a))
    job(api, "accrue-interest")
    assert len(updates) > 4  # 2 windows cut by openings, 3 by days, and the last call finding nothing left
    expect(api, "ann", model.simulate(opened, now - DAY, moves))
    item = AccountItem.find(api.wallet("ann")["id"])
    assert item.accrued_through == (now - DAY).isoformat()
    assert not [k for k in item.opens.as_dict() if k.startswith("d")]
    job(api, "post-interest")
    expect(api, "ann", model.simulate(opened, now - DAY, moves, post_by=now - DAY))


def test_an_outage_longer_than_one_run_takes_several_and_posting_waits(api, monkeypatch):
    """A run accrues at most CATCH_UP_DAYS_MAX days per account (the test
    clock may move a century); posting waits until accrual has caught up."""
    monkeypatch.setattr(interest, "CATCH_UP_DAYS_MAX", 45)
    opened = people(api, {"ann": 300_000})
    now = advance(api, 100)
    assert job(api, "accrue-interest")["changed"] == 1
    assert AccountItem.find(api.wallet("ann")["id"]).accrued_through == (opened + timedelta(days=44)).isoformat()
    assert job(api, "post-interest")["changed"] == 0  # it accrued 45 days more, and is still behind
    assert AccountItem.find(api.wallet("ann")["id"]).accrued_through == (opened + timedelta(days=89)).isoformat()
    assert not any(e["kind"] == "interest" for e in entries(api, "ann"))
    assert job(api, "post-interest")["changed"] == 1  # caught up: every ended month posted
    expect(api, "ann", model.simulate(opened, now - DAY, {opened: 300_000}, post_by=now - DAY))


# SQS fan-out ---------------------------------------------------------------------------------

@pytest.fixture
def queue(api, monkeypatch):
    """A jobs queue in moto, and settings that point the jobs at it (as
    FLOCK_JOBS_QUEUE_URL does on AWS)."""
    from chalicelib import aws
    sqs = aws.client("sqs")
    name = queue_name("jobs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    on_aws = dataclasses.replace(settings(), jobs_queue_url=url)
    monkeypatch.setattr(jobs, "settings", lambda: on_aws)

    class Queue:
        def take(self):
            return take_all(sqs, url)

        def deliver(self, *bodies):
            """To the worker, through the entry point AWS calls."""
            event = api.client.events.generate_sqs_event(message_bodies=list(bodies), queue_name=name)
            return api.client.lambda_.invoke("jobs_worker", event)
    return Queue()


def run_of(api, name, run_id):
    r = api.admin("GET", f"/v1/admin/jobs/{name}/runs/{run_id}")
    assert r.status_code == 200, r.body
    return r.json_body


def test_accrual_fans_out_over_sqs_and_each_segment_counts_once(api, queue):
    opened = people(api, {"ann": 100_000, "ben": 200_000, "cat": 300_000})
    yesterday = advance(api, 9) - DAY
    r = api.admin("POST", "/v1/admin/jobs/accrue-interest", {"as_of": yesterday.isoformat()})
    assert r.status_code == 202, r.body
    run_id = r.json_body["run_id"]
    assert run_id.startswith("run_") and r.json_body["segments"] == settings().job_segments
    bodies = queue.take()
    assert len(bodies) == settings().job_segments
    assert sorted(json.loads(b)["segment"] for b in bodies) == list(range(settings().job_segments))
    assert {json.loads(b)["run_id"] for b in bodies} == {run_id}
    progress = run_of(api, "accrue-interest", run_id)
    assert (progress["status"], progress["segments_done"], progress["processed"]) == ("running", 0, 0)
    assert api.wallet("ann")["accrued_interest_micros"] == 0  # nothing ran yet
    for i, body in enumerate(bodies):
        queue.deliver(body)
        progress = run_of(api, "accrue-interest", run_id)
        assert progress["segments_done"] == i + 1
        assert progress["status"] == ("done" if i + 1 == len(bodies) else "running")
        sums_to_zero()
    assert (progress["processed"], progress["changed"], progress["as_of"]) == (3, 3, yesterday.isoformat())
    settled = books_of(api, "ann", "ben", "cat")
    for body in bodies[:3] + bodies:  # SQS delivers at least once
        queue.deliver(body)
    assert run_of(api, "accrue-interest", run_id) == progress
    assert books_of(api, "ann", "ben", "cat") == settled
    for handle, cents in (("ann", 100_000), ("ben", 200_000), ("cat", 300_000)):
        expect(api, handle, model.simulate(opened, yesterday, {opened: cents}))
    balanced(api)


def test_a_failing_segment_retried_later_finishes_the_run(api, queue, monkeypatch):
    opened = people(api, {"ann": 100_000, "ben": 200_000})
    yesterday = advance(api, 5) - DAY
    status, started = jobs.start("accrue-interest", yesterday)
    assert status == 202
    bodies = queue.take()
    calls = _fail_after(monkeypatch, interest, "accrue_account", 0)  # the first account's segment fails
    failed = []
    for body in bodies:
        try:
            queue.deliver(body)
        except RuntimeError:
            failed.append(body)
            monkeypatch.undo()  # the fault passes; SQS will deliver that message again
    assert len(failed) == 1 and len(calls) == 1
    progress = run_of(api, "accrue-interest", started.run_id)
    assert (progress["status"], progress["segments_done"]) == ("running", len(bodies) - 1)
    balanced(api)
    queue.deliver(*failed)  # the redelivery, after the visibility timeout
    progress = run_of(api, "accrue-interest", started.run_id)
    assert (progress["status"], progress["processed"], progress["changed"]) == ("done", 2, 2)
    for handle, cents in (("ann", 100_000), ("ben", 200_000)):
        expect(api, handle, model.simulate(opened, yesterday, {opened: cents}))
    balanced(api)


@pytest.mark.parametrize("start", dates.START_DATES, ids=str)
def test_the_scheduled_posting_fans_out_and_posts_once(api, queue, start):
    dates.pin(start)
    opened = people(api, {"ann": 400_000})
    yesterday = advance(api, 31) - DAY
    event = api.client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                                 resources=["arn:aws:events:us-east-1:123456789012:rule/x"])
    summary = api.client.lambda_.invoke("job_post_interest", event).payload
    assert summary["as_of"] == yesterday.isoformat() and summary["run_id"].startswith("run_"), summary
    bodies = queue.take()
    for body in bodies + bodies:
        queue.deliver(body)
    progress = run_of(api, "post-interest", summary["run_id"])
    assert (progress["status"], progress["processed"], progress["changed"]) == ("done", 1, 1)
    expect(api, "ann", model.simulate(opened, yesterday, {opened: 400_000}, post_by=yesterday))
    assert len([e for e in entries(api, "ann") if e["kind"] == "interest"]) == len(dates.month_ends(opened, yesterday))
    balanced(api)
    # Runs are per job and unguessable: another job's name, or no such run, is 404.
    assert api.admin("GET", f"/v1/admin/jobs/accrue-interest/runs/{summary['run_id']}").status_code == 404
    assert api.admin("GET", f"/v1/admin/jobs/post-interest/runs/run_{uuid.uuid4().hex}").status_code == 404
    assert api.admin("GET", "/v1/admin/jobs/no-such-job/runs/run_x").status_code == 404
    # Jobs that do not scan accounts still answer in-process.
    r = api.admin("POST", "/v1/admin/jobs/subscriptions", {})
    assert r.status_code == 200 and r.json_body["job"] == "subscriptions", r.body


def test_reconcile_fans_out_and_its_run_says_whether_the_books_balance(api, queue, monkeypatch):
    people(api, {"ann": 100_000, "ben": 200_000})
    r = api.admin("POST", "/v1/admin/jobs/reconcile", {})
    assert r.status_code == 202, r.body
    bodies = queue.take()
    assert len(bodies) == settings().job_segments
    for body in bodies[:-1] + bodies:  # the last one late, then each once more
        queue.deliver(body)
    progress = run_of(api, "reconcile", r.json_body["run_id"])
    assert (progress["status"], progress["balanced"], progress["total"], progress["mismatch_count"]) == \
        ("done", True, 0, 0), progress
    accounts = sum(1 for _ in AccountItem.scan(AccountItem.sk == "ACCT"))
    assert progress["processed"] == accounts
    # A balance that its entries do not explain is found, and stays found on the re-read.
    account = AccountItem.find(api.wallet("ann")["id"])
    account.update(actions=[AccountItem.balance.add(1), AccountItem.spendable.add(1)])
    r = api.admin("POST", "/v1/admin/jobs/reconcile", {})
    for body in queue.take():
        queue.deliver(body)
    progress = run_of(api, "reconcile", r.json_body["run_id"])
    assert (progress["status"], progress["balanced"], progress["total"], progress["mismatch_count"]) == \
        ("done", False, 1, 1), progress
    report = api.admin("GET", "/v1/admin/ledger/check").json_body
    assert report["balanced"] is False and report["mismatches"] == [
        {"account_id": account.id, "problem": "entries", "balance": 100_001, "entries_sum": 100_000}]
    account.update(actions=[AccountItem.balance.add(-1), AccountItem.spendable.add(-1)])
    # The check answers from the latest run (issue 17): a run after the fix finds the books balanced.
    assert api.admin("POST", "/v1/admin/jobs/reconcile", {}).status_code == 202
    for body in queue.take():
        queue.deliver(body)
    balanced(api)


def test_a_movement_between_reading_an_account_and_its_entries_is_not_a_mismatch(api, monkeypatch):
    """The scan is not a snapshot: the item read before a deposit, its
    entries after it. The suspect is read again before it is reported."""
    from chalicelib.finance import reconcile
    people(api, {"ann": 100_000})
    account_id = api.wallet("ann")["id"]
    api.deposit("ann", 5_000)
    scan = reconcile._scan

    def item_read_before_the_deposit(*args):
        for item in scan(*args):
            if item["pk"]["S"] == f"ACCT#{account_id}" and item["sk"]["S"] == "ACCT":
                for name in ("balance", "spendable"):
                    item[name] = {"N": str(int(item[name]["N"]) - 5_000)}
            yield item

    monkeypatch.setattr(reconcile, "_scan", item_read_before_the_deposit)
    report = api.admin("GET", "/v1/admin/ledger/check").json_body
    assert (report["balanced"], report["mismatch_count"], report["total"]) == (True, 0, 0), report


def test_entries_of_an_account_that_does_not_exist_are_reported_and_counted_once(api):
    from chalicelib.db.balances import EntryItem, entry_key
    people(api, {"ann": 100_000})
    EntryItem(*entry_key("acct_ghost", clock.iso(clock.now()), "tr_ghost"), id="ent_ghost", account_id="acct_ghost",
              transfer_id="tr_ghost", kind="p2p", amount=700, currency="USD", counterparty="x",
              created_at=clock.iso(clock.now())).save()
    report = api.admin("GET", "/v1/admin/ledger/check").json_body
    assert (report["balanced"], report["total"], report["mismatches"]) == \
        (False, 0, [{"account_id": "acct_ghost", "problem": "entries", "balance": 0, "entries_sum": 700}]), report


def test_a_bad_job_message_is_refused():
    with pytest.raises(ValueError):
        jobs.run_segment_message({"run_id": "run_x", "job": "subscriptions", "as_of": "2026-12-01", "segment": 0,
                                  "total": 1})
    with pytest.raises(ValueError):
        jobs.run_segment_message({"run_id": "run_x", "job": "accrue-interest", "as_of": "2026-12-01",
                                  "segment": 3, "total": 2})
    with pytest.raises(errors.NotFound):
        jobs.run("no-such-job")


# Runs at once ------------------------------------------------------------------------------------

def test_two_accruals_of_one_account_at_once_accrue_each_day_once(api):
    opened = people(api, {"ann": 800_000})
    now = advance(api, 6)
    account_id = api.wallet("ann")["id"]
    first, second = AccountItem.find(account_id), AccountItem.find(account_id)  # both scanned the same item
    history = interest.rate_history()
    assert interest.accrue_account(first, now - 3 * DAY, history) is True
    # The second run's watermark condition fails; it reads the item again and does only what is left.
    assert interest.accrue_account(second, now - 3 * DAY, history) is False
    expect(api, "ann", model.simulate(opened, now - 3 * DAY, {opened: 800_000}))
    stale = AccountItem.find(account_id)
    assert interest.accrue_account(first, now - DAY, history) is True
    assert interest.accrue_account(stale, now - DAY, history) is False
    expect(api, "ann", model.simulate(opened, now - DAY, {opened: 800_000}))
    balanced(api)


@pytest.mark.parametrize("start", dates.START_DATES, ids=str)
def test_a_posting_between_the_scan_and_the_accrual_is_not_overwritten(api, monkeypatch, start):
    dates.pin(start)
    opened = people(api, {"ann": 800_000})
    yesterday = advance(api, 33) - DAY
    scanned = interest.end_of_day_balances
    posted = []

    def post_meanwhile(account, first, last):
        if not posted:
            posted.append(True)
            assert jobs.run("post-interest", yesterday).changed == 1  # accrues, then posts the month
        return scanned(account, first, last)

    monkeypatch.setattr(interest, "end_of_day_balances", post_meanwhile)
    assert job(api, "accrue-interest", yesterday)["changed"] == 0  # the posting's accrual did it all
    monkeypatch.undo()
    expect(api, "ann", model.simulate(opened, yesterday, {opened: 800_000}, post_by=yesterday))


def test_a_fanned_out_run_is_a_frozen_record_whose_json_is_what_the_route_answers(api, queue):
    from pydantic import ValidationError
    people(api, {"ann": 100_000})
    yesterday = advance(api, 2) - DAY
    status, started = jobs.start("accrue-interest", yesterday)
    with pytest.raises(ValidationError):
        started.segments = 1
    assert (status, started.job, started.as_of, started.segments) == (202, "accrue-interest", yesterday,
                                                                     len(queue.take()))
    progress = jobs.get_run("accrue-interest", started.run_id)
    with pytest.raises(ValidationError):
        progress.status = "done"
    assert run_of(api, "accrue-interest", started.run_id) == progress.as_json()
    assert (progress.status, progress.segments_done) == ("running", 0)
    unknown = api.admin("GET", "/v1/admin/jobs/accrue-interest/runs/run_nosuchrun")
    assert unknown.status_code == 404 and unknown.json_body["error"]["code"] == "not_found"
