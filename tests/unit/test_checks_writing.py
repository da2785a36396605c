"""Writing checks: numbers per account from 1001, the MICR line, stop
payment, replays, and what strangers and bad bodies get."""
import uuid

import pytest

from chalicelib.config import settings
from chalicelib.finance.accounts import aba_checksum_ok
from tests.unit.checks_world import account_of, race, write  # noqa: F401


@pytest.fixture
def bank(api):
    api.verified("alice")
    api.verified("bob")
    return api


def test_checks_are_numbered_from_1001_per_account_with_flocks_micr(bank):
    first = write(bank, "alice", 2500)
    assert first.status_code == 201, first.body
    second = write(bank, "alice", 900, payee="Carol", memo="")
    bobs = write(bank, "bob", 100)
    check = first.json_body
    assert (check["number"], second.json_body["number"], bobs.json_body["number"]) == (1001, 1002, 1001)
    assert check["status"] == "issued" and check["paid_at"] is None
    assert check["payee"] == "Bob's Bakery" and check["memo"] == "bread" and check["amount"] == 2500
    micr = check["micr"]
    assert micr == {"routing": settings().routing_number, "account": account_of(bank, "alice").account_number,
                    "serial": "1001"}
    assert aba_checksum_ok(micr["routing"])
    assert check["id"].startswith("chk_")


def test_writing_moves_no_money(bank):
    bank.deposit("alice", 1000)
    before = bank.wallet("alice")
    assert write(bank, "alice", 50_000).status_code == 201  # more than she has: a check is a promise
    assert bank.wallet("alice") == before


def test_a_replay_answers_the_same_check_and_another_body_is_refused(bank):
    key = str(uuid.uuid4())
    first = write(bank, "alice", 2500, key=key)
    again = write(bank, "alice", 2500, key=key)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json_body == first.json_body
    other = write(bank, "alice", 2600, key=key)
    assert other.status_code == 409 and other.json_body["error"]["code"] == "idempotency_key_reused"
    assert [c["number"] for c in bank.call("GET", "/v1/checks", as_="alice").json_body["data"]] == [1001]


def test_concurrent_checks_get_distinct_numbers(bank, one_request_at_a_time):
    numbers = race(*(lambda: write(bank, "alice", 100).json_body["number"] for _ in range(4)))
    assert sorted(numbers) == [1001, 1002, 1003, 1004]


def test_list_and_get_are_the_writers_alone(bank):
    ids = [write(bank, "alice", 100 + i).json_body["id"] for i in range(3)]
    page = bank.call("GET", "/v1/checks?limit=2", as_="alice").json_body
    assert [c["id"] for c in page["data"]] == ids[::-1][:2] and page["next_cursor"]
    rest = bank.call("GET", f"/v1/checks?limit=2&cursor={page['next_cursor']}", as_="alice").json_body
    assert [c["id"] for c in rest["data"]] == ids[:1]
    assert bank.call("GET", f"/v1/checks/{ids[0]}", as_="alice").json_body["id"] == ids[0]
    assert bank.call("GET", f"/v1/checks/{ids[0]}", as_="bob").status_code == 404
    assert bank.call("GET", "/v1/checks", as_="bob").json_body["data"] == []
    assert bank.call("GET", f"/v1/checks?cursor={page['next_cursor']}", as_="bob").status_code == 400


def test_stop_only_an_issued_check(bank):
    check = write(bank, "alice", 100).json_body
    assert bank.call("POST", f"/v1/checks/{check['id']}/stop", as_="bob").status_code == 404
    stopped = bank.call("POST", f"/v1/checks/{check['id']}/stop", as_="alice")
    assert stopped.status_code == 200 and stopped.json_body["status"] == "stopped"
    again = bank.call("POST", f"/v1/checks/{check['id']}/stop", as_="alice")
    assert again.status_code == 409 and again.json_body["error"]["code"] == "invalid_state"
    assert bank.call("POST", "/v1/checks/chk_nope/stop", as_="alice").status_code == 404


@pytest.mark.parametrize("body, param", [
    ({"payee": "Bob", "amount": 12.5, "currency": "USD"}, "amount"),
    ({"payee": "Bob", "amount": "100", "currency": "USD"}, "amount"),
    ({"payee": "Bob", "amount": 0, "currency": "USD"}, "amount"),
    ({"payee": "Bob", "amount": -5, "currency": "USD"}, "amount"),
    ({"payee": "Bob", "amount": 10**13, "currency": "USD"}, "amount"),
    ({"payee": "", "amount": 100, "currency": "USD"}, "payee"),
    ({"payee": "x" * 101, "amount": 100, "currency": "USD"}, "payee"),
    ({"payee": "Bob\x00", "amount": 100, "currency": "USD"}, "payee"),
    ({"amount": 100, "currency": "USD"}, "payee"),
    ({"payee": "Bob", "amount": 100, "currency": "USD", "memo": "m" * 101}, "memo"),
    ({"payee": "Bob", "amount": 100, "currency": "USD", "extra": 1}, "extra"),
])
def test_bad_bodies_are_400s_naming_the_field(bank, body, param):
    r = bank.money("POST", "/v1/checks", body, "alice", str(uuid.uuid4()))
    assert r.status_code == 400 and r.json_body["error"]["param"] == param, r.body


def test_other_currency_unverified_and_no_key(bank):
    r = bank.money("POST", "/v1/checks", {"payee": "Bob", "amount": 100, "currency": "EUR"}, "alice", "k1")
    assert r.json_body["error"]["code"] == "unsupported_currency"
    r = bank.call("POST", "/v1/checks", {"payee": "Bob", "amount": 100, "currency": "USD"}, as_="alice")
    assert r.json_body["error"]["code"] == "idempotency_key_required"
    bank.signup("nobody")
    r = bank.money("POST", "/v1/checks", {"payee": "Bob", "amount": 100, "currency": "USD"}, "nobody", "k2")
    assert r.status_code == 403 and r.json_body["error"]["code"] == "verification_required"


def test_the_check_services_return_frozen_records_whose_json_is_the_routes_answer(bank):
    from pydantic import ValidationError

    from chalicelib.finance import checks
    from chalicelib.finance.money import Money
    from chalicelib.identity.users import authenticate
    from chalicelib.records.checks import Check
    alice = authenticate(bank.tokens["alice"])
    key = str(uuid.uuid4())
    check, replayed = checks.write(alice, "Bob's Bakery", Money(2500, "USD"), "bread", key)
    assert type(check) is Check and not replayed
    with pytest.raises(ValidationError):
        check.status = "paid"
    with pytest.raises(ValidationError):
        check.micr.serial = "1"
    again = write(bank, "alice", 2500, key=key)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json_body == check.as_json()
    assert checks.write(alice, "Bob's Bakery", Money(2500, "USD"), "bread", key) == (check, True)
    assert checks.get_check(alice, check.id).as_json() == \
        bank.call("GET", f"/v1/checks/{check.id}", as_="alice").json_body
    stopped = checks.stop(alice, check.id)
    assert stopped.status == "stopped" and check.status == "issued"
    listed, _ = checks.list_checks(alice, 10, None)
    assert [c.as_json() for c in listed] == [stopped.as_json()] == \
        bank.call("GET", "/v1/checks", as_="alice").json_body["data"]
