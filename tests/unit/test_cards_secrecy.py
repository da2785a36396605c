"""A card's number and CVC are never in clear (API.md, Cards; DESIGN.md,
Card data): not in any DynamoDB table, log, list, error or other answer;
only `create` and `reveal` show them, and a reveal with 2FA on needs a code."""
import logging
import uuid
from datetime import timedelta

import boto3
import pytest

from tests.conftest import PASSWORD
from tests.unit.cards_world import DINER, SHOP, person_with_card, run_threads  # noqa: F401
from tests.unit.twofactor import T0, code, enable_2fa, totp_time


def _every_table_as_text() -> str:
    client = boto3.client("dynamodb", region_name="us-east-1")
    items = []
    for name in client.list_tables()["TableNames"]:
        for page in client.get_paginator("scan").paginate(TableName=name):
            items.extend(page["Items"])
    return repr(items)


def test_a_card_lived_through_leaves_its_number_nowhere_but_create_and_reveal(api, caplog):
    # Every logger at INFO, as on Lambda (botocore's DEBUG dumps of requests are never on there),
    # Flock's own at DEBUG.
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="flock")
    net = person_with_card(api)
    number, cvc = net.card["number"], net.card["cvc"]
    answers = []
    auth = net.approve(1_000, DINER)
    for r in (net.increment(auth, 100), net.clear(1_150, auth), net.refund(500), net.authorize(10**6),
              net.authorize(100, cvc="000" if cvc != "000" else "111"), net.clear(100),
              net.reverse(net.approve(200)), net.authorize(100, exp_month=net.card["exp_month"] % 12 + 1),
              api.call("GET", "/v1/cards", as_="alice"), api.call("GET", f"/v1/cards/{net.card['id']}", as_="alice"),
              api.call("GET", f"/v1/cards/{net.card['id']}/transactions", as_="alice"),
              api.call("GET", "/v1/wallet/transactions", as_="alice"),
              api.call("GET", "/v1/wallet/statements/2026-03", as_="alice"),
              api.call("POST", f"/v1/cards/{net.card['id']}/reveal", {"password": "wrong password!"}, as_="alice"),
              api.call("PUT", f"/v1/cards/{net.card['id']}/limits", {"daily": 0}, as_="alice"),
              net.authorize(100, card_number=number + "0"), net.authorize(100, merchant={**SHOP, "mcc": number}),
              api.call("GET", "/v1/me/security-events", as_="alice"), api.admin("GET", "/v1/admin/audit"),
              api.call("GET", f"/v1/search?q={number}", as_="alice")):
        answers.append(r.body.decode())
    revealed = api.call("POST", f"/v1/cards/{net.card['id']}/reveal", {"password": PASSWORD}, as_="alice")
    assert revealed.json_body["number"] == number
    for text in answers:
        assert number not in text, text
    stored = _every_table_as_text()
    assert number not in stored and number[-8:] not in stored
    assert f'"cvc": "{cvc}"' not in stored
    assert number not in caplog.text


def test_a_reveal_with_2fa_needs_a_code_and_is_a_security_event(api):
    net = person_with_card(api)
    with totp_time() as at:
        secret = enable_2fa(api, "alice", at)["secret"]
    path = f"/v1/cards/{net.card['id']}/reveal"
    with totp_time(T0 + timedelta(seconds=60)) as at:
        r = api.call("POST", path, {"password": PASSWORD}, as_="alice")
        assert r.status_code == 403 and r.json_body["error"]["code"] == "step_up_required"
        r = api.call("POST", path, {"password": PASSWORD}, as_="alice",
                     headers={"Flock-OTP": code(secret, at.now)})
        assert r.status_code == 200 and r.json_body["number"] == net.card["number"]
        again = api.call("POST", path, {"password": PASSWORD}, as_="alice",
                         headers={"Flock-OTP": code(secret, at.now)})
        assert again.status_code == 403  # each code once
    types = [e["type"] for e in api.call("GET", "/v1/me/security-events?limit=100", as_="alice").json_body["data"]]
    assert types.count("card_reveal") == 1 and types.count("step_up_refused") >= 2


@pytest.mark.usefixtures("one_request_at_a_time")
def test_creates_racing_under_one_key_make_one_card(api):
    api.verified("alice")
    key = str(uuid.uuid4())
    answers = []
    run_threads(lambda: answers.append(api.money("POST", "/v1/cards", {"label": "x"}, "alice", key)), 4)
    assert [a.status_code for a in answers] == [201] * 4
    assert len({a.json_body["id"] for a in answers}) == 1
    assert sum("number" in a.json_body for a in answers) == 1  # the one that issued it
    assert len(api.call("GET", "/v1/cards", as_="alice").json_body["data"]) == 1
