"""A check no one presented within 180 days is void (issue 14: issued ->
paid / stopped / returned / void, stale after 180 days): it says so, and it
can no longer be stopped or paid."""
from datetime import timedelta

from chalicelib import clock
from tests.conftest import TEST_NOW
from tests.unit.checks_world import people, present, presentment, write


def test_an_unpresented_check_is_void_from_day_181_and_cannot_be_stopped_or_paid(api):
    people(api, "alice")
    api.deposit("alice", 10_000)
    check = write(api, "alice", 2_500).json_body
    other = write(api, "alice", 1_000).json_body
    clock.pin(TEST_NOW + timedelta(days=180))
    assert api.call("GET", f"/v1/checks/{check['id']}", as_="alice").json_body["status"] == "issued"
    clock.pin(TEST_NOW + timedelta(days=181))
    listed = {c["id"]: c["status"] for c in api.call("GET", "/v1/checks", as_="alice").json_body["data"]}
    assert listed == {check["id"]: "void", other["id"]: "void"}
    stop = api.call("POST", f"/v1/checks/{check['id']}/stop", as_="alice")
    assert stop.status_code == 409 and stop.json_body["error"]["code"] == "invalid_state"
    answer = present(api, presentment(check)).json_body
    assert (answer["decision"], answer["return_reason"]) == ("returned", "stale_dated")
    assert api.wallet("alice")["balance"] == 10_000


def test_a_paid_or_stopped_check_keeps_its_status_when_old(api):
    people(api, "alice")
    api.deposit("alice", 10_000)
    paid = write(api, "alice", 2_500).json_body
    stopped = write(api, "alice", 1_000).json_body
    assert present(api, presentment(paid)).json_body["decision"] == "paid"
    assert api.call("POST", f"/v1/checks/{stopped['id']}/stop", as_="alice").status_code == 200
    clock.pin(TEST_NOW + timedelta(days=400))
    listed = {c["id"]: c["status"] for c in api.call("GET", "/v1/checks", as_="alice").json_body["data"]}
    assert listed == {paid["id"]: "paid", stopped["id"]: "stopped"}
