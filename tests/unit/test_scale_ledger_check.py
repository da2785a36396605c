"""Issue 17: the ledger check is a job. On AWS (a jobs queue) the admin
route answers from the latest finished `reconcile` run, scanning nothing in
the request, and runs one first only if there has never been one."""
import collections

import pytest

from chalicelib.db import base
from tests.unit.test_interest_jobs import queue  # noqa: F401 - the fixture


@pytest.fixture
def requests_seen():
    seen = collections.Counter()

    def hook(model=None, **kwargs):
        seen[model.name] += 1
    base.register_hook("before-call.dynamodb", hook)
    yield seen
    base.unregister_hook("before-call.dynamodb", hook)


def check(api):
    r = api.admin("GET", "/v1/admin/ledger/check")
    assert r.status_code == 200, r.body
    return r.json_body


def test_the_first_check_runs_the_job_and_later_ones_answer_from_it(api, queue, requests_seen):  # noqa: F811
    api.verified("ann")
    api.deposit("ann", 5_000)
    first = check(api)
    assert first["balanced"] is True and first["total"] == 0 and first["accounts"] >= 1 and first["as_of"]
    api.admin("GET", "/v1/admin/ledger/check")  # the operator's token, read once
    requests_seen.clear()
    api.verified("ben")
    api.deposit("ben", 7_000)
    requests_seen.clear()
    again = check(api)
    assert again == first  # the latest run's answer, not the books now
    assert requests_seen["Scan"] == 0 and requests_seen["Query"] == 0, dict(requests_seen)


def test_a_fanned_out_run_becomes_the_latest_when_its_last_segment_is_counted(api, queue):  # noqa: F811
    api.verified("ann")
    api.deposit("ann", 5_000)
    before = check(api)
    r = api.admin("POST", "/v1/admin/jobs/reconcile", {})
    assert r.status_code == 202, r.body
    run_id = r.json_body["run_id"]
    bodies = queue.take()
    for body in bodies[:-1]:
        queue.deliver(body)
    assert check(api) == before  # not finished: the previous run still answers
    queue.deliver(bodies[-1])
    latest = check(api)
    assert latest["run_id"] == run_id and latest["balanced"] is True and latest["total"] == 0
    assert latest["accounts"] >= before["accounts"]
    queue.deliver(bodies[0])  # SQS delivers again: nothing changes
    assert check(api) == latest


def test_without_a_queue_the_check_is_of_the_books_now(api):
    api.verified("ann")
    api.deposit("ann", 5_000)
    first = check(api)
    api.verified("ben")
    api.deposit("ben", 7_000)
    assert check(api)["accounts"] == first["accounts"] + 1
