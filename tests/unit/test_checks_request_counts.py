"""DynamoDB requests of the check calls (issue 14, Performance): a paid
presentment and a mobile deposit are each one TransactWriteItems and at
most one read besides the caller's authentication (the S3 put of the
images aside)."""
import pytest

from tests.unit.checks_world import deposit, deposit_body, people, present, presentment, write
from tests.unit.test_request_counts import _assert_hook_saw_everything, calls  # noqa: F401


@pytest.fixture
def alice(api):
    people(api, "alice")
    api.deposit("alice", 100_000)
    return api


def test_a_paid_presentment_is_one_read_and_one_transaction(alice, calls):  # noqa: F811 (the fixture)
    check = write(alice, "alice", 2_500).json_body
    calls.reset()
    r = present(alice, presentment(check))
    assert r.status_code == 200 and r.json_body["decision"] == "paid", r.body
    assert calls.hook["TransactWriteItems"] == 1 and calls.reads == 1 and calls.total == 2, dict(calls.hook)
    calls.reset()
    again = present(alice, presentment(check))  # a second presentment: one read, one record of the answer
    assert again.json_body["return_reason"] == "duplicate_presentment"
    assert calls.total <= 3, dict(calls.hook)
    _assert_hook_saw_everything(calls)


def test_a_deposit_is_the_auth_read_one_read_and_one_transaction(alice, calls):  # noqa: F811 (the fixture)
    calls.reset()
    r = deposit(alice, "alice", deposit_body(5_000))
    assert r.status_code == 201, r.body
    assert calls.hook["TransactWriteItems"] == 1, dict(calls.hook)
    assert calls.reads <= 2 and calls.total <= 3, dict(calls.hook)
    _assert_hook_saw_everything(calls)
