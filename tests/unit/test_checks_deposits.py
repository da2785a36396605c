"""Mobile check deposits: credited at once and held, images in S3,
duplicates (also racing), refusals in API order, and limits."""
import base64
import dataclasses
import hashlib
import uuid

import boto3
import pytest

from chalicelib.config import settings
from chalicelib.finance import check_deposits, reconcile
from tests.unit.checks_world import (JPEG, OTHER_BANK, PNG, account_of, deposit, deposit_body, image,
                                     people, race)  # noqa: F401


@pytest.fixture
def bank(api):
    people(api, "alice", "bob")
    yield api
    report = reconcile.reconcile()
    assert report["balanced"] and report["total"] == 0, report


def code_of(r):
    return r.status_code, r.json_body["error"]["code"]


def test_a_deposit_is_credited_held_and_its_images_kept_under_their_hash(bank):
    front = image(PNG)
    r = deposit(bank, "alice", deposit_body(12_000, front=front))
    assert r.status_code == 201, r.body
    d = r.json_body
    assert d["id"].startswith("dep_") and d["status"] == "pending" and d["available_now"] == 0
    assert d["micr"] == {"routing": OTHER_BANK, "account": "99887766", "serial": "4411"}
    assert sum(h["amount"] for h in d["holds"]) == 12_000
    w = bank.wallet("alice")
    assert (w["balance"], w["held"], w["available"], w["spendable"]) == (12_000, 12_000, 0, 0)
    s3 = boto3.client("s3", region_name="us-east-1")
    key = hashlib.sha256(base64.b64decode(front)).hexdigest()
    got = s3.get_object(Bucket=settings().check_images_bucket, Key=key)
    assert got["Body"].read() == base64.b64decode(front) and got["ContentType"] == "image/png"
    assert bank.call("GET", f"/v1/check-deposits/{d['id']}", as_="alice").json_body == d
    assert bank.call("GET", f"/v1/check-deposits/{d['id']}", as_="bob").status_code == 404
    assert [x["id"] for x in bank.call("GET", "/v1/check-deposits", as_="alice").json_body["data"]] == [d["id"]]
    assert bank.call("GET", "/v1/check-deposits", as_="bob").json_body["data"] == []
    entry = bank.call("GET", "/v1/wallet/transactions", as_="alice").json_body["data"][0]
    assert (entry["kind"], entry["amount"], entry["counterparty"]) == ("check", 12_000, "check_clearing")


def test_held_money_cannot_be_spent(bank):
    deposit(bank, "alice", deposit_body(12_000))
    r = bank.money("POST", "/v1/wallet/withdrawals", {"amount": 1, "currency": "USD"}, "alice", "w")
    assert code_of(r) == (422, "insufficient_funds")


def test_a_replay_answers_the_first_deposit(bank):
    body, key = deposit_body(5_000), str(uuid.uuid4())
    first = deposit(bank, "alice", body, key)
    again = deposit(bank, "alice", body, key)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json_body == first.json_body
    assert code_of(deposit(bank, "alice", {**body, "amount": 5_001}, key)) == (409, "idempotency_key_reused")
    assert bank.wallet("alice")["balance"] == 5_000


def test_the_same_check_twice_by_micr_and_amount(bank):
    assert deposit(bank, "alice", deposit_body(5_000, serial="77")).status_code == 201
    r = deposit(bank, "bob", deposit_body(5_000, serial="0077"))  # other images, anyone
    assert code_of(r) == (409, "duplicate_deposit")
    assert deposit(bank, "bob", deposit_body(4_999, serial="77")).status_code == 201  # another amount: another check
    assert bank.wallet("bob")["balance"] == 4_999


def test_leading_zeros_of_the_account_number_do_not_make_another_check(bank):
    assert deposit(bank, "alice", deposit_body(5_000, account="99887766")).status_code == 201
    r = deposit(bank, "bob", deposit_body(5_000, account="0099887766"))
    assert code_of(r) == (409, "duplicate_deposit")
    assert bank.wallet("bob")["balance"] == 0


def test_the_same_image_twice(bank):
    front = image(JPEG)
    assert deposit(bank, "alice", deposit_body(5_000, serial="1", front=front)).status_code == 201
    assert code_of(deposit(bank, "bob", deposit_body(100, serial="2", back=front))) == (409, "duplicate_deposit")


def test_duplicate_comes_before_the_422s(bank):
    body = deposit_body(5_000)
    assert deposit(bank, "alice", body).status_code == 201
    again = {**body, "endorsed": False}
    assert code_of(deposit(bank, "alice", again)) == (409, "duplicate_deposit")
    assert code_of(deposit(bank, "alice", {**body, "amount": 900_000, "front_image": body["front_image"]})) == \
        (409, "duplicate_deposit")


def test_racing_duplicates_credit_once(bank, one_request_at_a_time):
    body = deposit_body(3_000)
    answers = race(*(lambda who=who: deposit(bank, who, {**body, "back_image": image(JPEG)}).status_code
                     for who in ("alice", "bob", "alice")))
    assert sorted(answers) == [201, 409, 409]
    assert bank.wallet("alice")["balance"] + bank.wallet("bob")["balance"] == 3_000


def test_racing_deposits_of_one_account_keep_the_window(bank, one_request_at_a_time):
    answers = race(*(lambda: deposit(bank, "alice", deposit_body(4_000, serial=uuid.uuid4().hex[:8].translate(
        str.maketrans("abcdef", "123456")))).status_code for _ in range(4)))
    assert sorted(answers) == [201, 201, 201, 201]
    assert bank.wallet("alice")["balance"] == 16_000


@pytest.mark.parametrize("field, value", [
    ("front_image", base64.b64encode(b"GIF89a" + b"\x00" * 100).decode()),
    ("front_image", base64.b64encode(b"just text").decode()),
    ("back_image", "not base64!!"),
    ("back_image", ""),
    ("front_image", base64.b64encode(PNG + b"\x00" * (2 * 1024 * 1024)).decode()),
    ("front_image", 12),
])
def test_images_must_be_png_or_jpeg_within_2_mib(bank, field, value):
    r = deposit(bank, "alice", {**deposit_body(5_000), field: value})
    assert r.status_code == 400 and r.json_body["error"]["param"] == field, r.body[:300]
    assert bank.wallet("alice")["balance"] == 0


def test_an_image_of_exactly_2_mib_is_taken(bank):
    big = base64.b64encode(JPEG + b"\x01" * (2 * 1024 * 1024 - len(JPEG))).decode()
    assert deposit(bank, "alice", deposit_body(5_000, front=big)).status_code == 201


@pytest.mark.parametrize("micr, param", [
    ({"routing": "021000022", "account": "99887766", "serial": "1"}, "micr.routing"),
    ({"routing": "02100002", "account": "99887766", "serial": "1"}, "micr.routing"),
    ({"routing": OTHER_BANK, "account": "12a", "serial": "1"}, "micr.account"),
    ({"routing": OTHER_BANK, "account": "99887766", "serial": ""}, "micr.serial"),
    ({"routing": OTHER_BANK, "account": "99887766", "serial": 5}, "micr.serial"),
])
def test_bad_micr_is_a_400(bank, micr, param):
    r = deposit(bank, "alice", {**deposit_body(5_000), "micr": micr})
    assert r.status_code == 400 and r.json_body["error"]["param"] == param, r.body


def test_a_check_on_ones_own_account_is_refused_but_a_friends_is_fine(bank):
    mine = account_of(bank, "alice").account_number
    r = deposit(bank, "alice", deposit_body(5_000, routing=settings().routing_number, account=mine))
    assert code_of(r) == (400, "invalid_request")
    r = deposit(bank, "alice", deposit_body(5_000, routing=settings().routing_number, account="00" + mine))
    assert code_of(r) == (400, "invalid_request")
    r = deposit(bank, "bob", deposit_body(5_000, routing=settings().routing_number, account=mine))
    assert r.status_code == 201


def test_endorsement_is_required(bank):
    assert code_of(deposit(bank, "alice", deposit_body(5_000, endorsed=False))) == (422, "not_eligible")
    assert code_of(deposit(bank, "alice", {**deposit_body(5_000), "endorsed": "true"}))[0] == 400
    assert code_of(deposit(bank, "alice", deposit_body(900_000, endorsed=False))) == (422, "not_eligible")


def test_limits_per_check_per_window_amount_and_count(bank, monkeypatch):
    assert code_of(deposit(bank, "alice", deposit_body(500_001))) == (422, "limit_exceeded")
    assert deposit(bank, "alice", deposit_body(500_000, serial="1")).status_code == 201
    assert deposit(bank, "alice", deposit_body(500_000, serial="2")).status_code == 201
    assert code_of(deposit(bank, "alice", deposit_body(1, serial="3"))) == (422, "limit_exceeded")
    for i in range(10):
        assert deposit(bank, "bob", deposit_body(100, serial=str(100 + i))).status_code == 201
    assert code_of(deposit(bank, "bob", deposit_body(100, serial="200"))) == (422, "limit_exceeded")


def test_the_window_is_thirty_days_and_counts_returned_deposits(bank):
    from datetime import timedelta

    from chalicelib import clock
    from tests.unit.checks_world import return_deposit
    first = deposit(bank, "alice", deposit_body(500_000, serial="1")).json_body
    assert return_deposit(bank, first["id"]).status_code == 200
    assert deposit(bank, "alice", deposit_body(500_000, serial="2")).status_code == 201
    assert code_of(deposit(bank, "alice", deposit_body(1, serial="3"))) == (422, "limit_exceeded")
    clock.pin(clock.now() + timedelta(days=31))
    assert deposit(bank, "alice", deposit_body(500_000, serial="4")).status_code == 201


def test_check_deposits_count_toward_the_days_deposit_limit(bank, monkeypatch):
    real = settings()
    monkeypatch.setattr(check_deposits, "settings", lambda: dataclasses.replace(
        real, limits={"verified": dataclasses.replace(real.tier_limits("verified"), deposits_per_day_max_cents=6_000)}))
    bank.deposit("alice", 5_000)
    assert code_of(deposit(bank, "alice", deposit_body(1_001))) == (422, "limit_exceeded")
    assert deposit(bank, "alice", deposit_body(1_000)).status_code == 201


def test_unverified_frozen_and_no_key(bank):
    bank.signup("nobody")
    assert code_of(deposit(bank, "nobody", deposit_body(100))) == (403, "verification_required")
    r = bank.call("POST", "/v1/check-deposits", deposit_body(100), as_="alice")
    assert code_of(r) == (400, "idempotency_key_required")
    assert bank.call("GET", "/v1/check-deposits/dep_nope", as_="alice").status_code == 404


def test_s3_failing_is_a_503_and_moves_nothing(bank, monkeypatch):
    from chalicelib.finance import check_images

    class Broken:
        def put_object(self, **kwargs):
            from botocore.exceptions import EndpointConnectionError
            raise EndpointConnectionError(endpoint_url="https://s3")

    monkeypatch.setattr(check_images.aws, "client", lambda service: Broken())
    body, key = deposit_body(5_000), str(uuid.uuid4())
    assert code_of(deposit(bank, "alice", body, key)) == (503, "unavailable")
    assert bank.wallet("alice")["balance"] == 0
    monkeypatch.undo()
    assert deposit(bank, "alice", body, key).status_code == 201  # the retry under its key goes through


def test_the_deposit_services_return_frozen_records_whose_json_is_the_routes_answer(bank):
    from pydantic import ValidationError

    from chalicelib.finance.money import Money
    from chalicelib.identity.users import authenticate
    from chalicelib.records.checks import CheckDeposit
    alice = authenticate(bank.tokens["alice"])
    body = deposit_body(50_000)
    key = str(uuid.uuid4())
    done, replayed = check_deposits.deposit(
        alice, Money(50_000, "USD"), check_deposits.Micr(**body["micr"]), base64.b64decode(body["front_image"]),
        base64.b64decode(body["back_image"]), True, key)
    assert type(done) is CheckDeposit and not replayed
    with pytest.raises(ValidationError):
        done.status = "available"
    with pytest.raises(ValidationError):
        done.holds[0].amount = 1
    again = deposit(bank, "alice", body, key=key)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json_body == done.as_json()
    assert [h["amount"] for h in done.as_json()["holds"]] == [27_500, 22_500]
    assert check_deposits.get_deposit(alice, done.id).as_json() == \
        bank.call("GET", f"/v1/check-deposits/{done.id}", as_="alice").json_body
    listed, _ = check_deposits.list_deposits(alice, 10, None)
    assert [d.as_json() for d in listed] == [done.as_json()] == \
        bank.call("GET", "/v1/check-deposits", as_="alice").json_body["data"]
