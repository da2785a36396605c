"""Hostile review of checks (API.md, Checks and Networks): other people's
ids, frozen accounts on the network's side, and the books after each."""
import pytest

from chalicelib.finance import reconcile
from tests.unit.checks_world import (
    deposit,
    deposit_body,
    people,
    present,
    presentment,
    return_deposit,
    write,
)


@pytest.fixture
def bank(api):
    people(api, "alice", "mallory")
    api.deposit("alice", 100_000)
    yield api
    report = reconcile.reconcile()
    assert report["balanced"] and report["total"] == 0, report
    assert report.get("mismatch_count", 0) == 0, report


def _code(r):
    return r.status_code, r.json_body["error"]["code"]


def test_another_persons_check_and_deposit_are_not_found_everywhere(bank):
    check = write(bank, "alice", 1_000).json_body
    dep = deposit(bank, "alice", deposit_body(1_000)).json_body
    for method, path in (("GET", f"/v1/checks/{check['id']}"), ("POST", f"/v1/checks/{check['id']}/stop"),
                         ("GET", f"/v1/check-deposits/{dep['id']}")):
        assert _code(bank.call(method, path, as_="mallory")) == (404, "not_found")
    assert bank.call("GET", "/v1/checks", as_="mallory").json_body["data"] == []
    assert bank.call("GET", "/v1/check-deposits", as_="mallory").json_body["data"] == []
    assert bank.call("GET", f"/v1/checks/{check['id']}", as_="alice").json_body["status"] == "issued"


@pytest.mark.parametrize("odd", ["chk_" + "9" * 3000, "dep_" + "x" * 3000, "CHK#1", "chk_\u00e9"])
def test_odd_ids_are_not_found(bank, odd):
    for method, path in (("GET", f"/v1/checks/{odd}"), ("POST", f"/v1/checks/{odd}/stop"),
                         ("GET", f"/v1/check-deposits/{odd}")):
        assert _code(bank.call(method, path, as_="alice")) == (404, "not_found")


def test_a_deposit_returned_after_its_account_was_frozen_is_still_taken_back(bank):
    dep = deposit(bank, "alice", deposit_body(2_000)).json_body
    assert bank.admin("POST", "/v1/admin/users/alice/freeze", {"reason": "review"}).status_code == 200
    r = return_deposit(bank, dep["id"])
    assert r.status_code == 200, r.body
    assert r.json_body["status"] == "returned"


def test_a_check_presented_on_a_frozen_account_is_returned_account_closed_and_moves_nothing(bank):
    check = write(bank, "alice", 1_000).json_body
    assert bank.admin("POST", "/v1/admin/users/alice/freeze", {"reason": "review"}).status_code == 200
    r = present(bank, presentment(check))
    assert r.status_code == 200, r.body
    assert (r.json_body["decision"], r.json_body["return_reason"]) == ("returned", "account_closed")


@pytest.mark.parametrize("amount", [0, -5, 10**12 + 1, 10.5, "100", True])
def test_bad_amounts_are_400_everywhere(bank, amount):
    check = write(bank, "alice", 1_000).json_body
    assert _code(write(bank, "alice", amount)) == (400, "invalid_request")
    assert _code(deposit(bank, "alice", deposit_body(amount))) == (400, "invalid_request")
    assert _code(present(bank, presentment(check, amount=amount))) == (400, "invalid_request")
