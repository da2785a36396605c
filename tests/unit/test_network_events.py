"""The networks' side of Flock (API.md, Networks): signed calls, each event
id answered once, the first answer replayed. Cards and checks test their own
routes; this is the part they share, seen through a route of its own."""
import json
import time

import pytest
from chalice import Blueprint, Chalice
from chalice.test import Client

from chalicelib import errors, http
from chalicelib.db.network import NetworkEventItem
from chalicelib.finance import network_events
from chalicelib.identity import keys, network_auth

bp = Blueprint(__name__)
route = http.routes(bp, authenticate=None)
EFFECTS = []


@route("/v1/network/test-events", methods=["POST"], network="card")
def record_event(req):
    body = json.loads(req.raw_body)
    event = network_events.begin("card", body)
    EFFECTS.append(body["id"])
    status, answer = event.save(200, {"seen": body["id"], "n": len(EFFECTS)})
    return http.Reply(answer, status)


# The app's route table (OpenAPI, authz matrix) is not this test's business.
http.REGISTRY[:] = [s for s in http.REGISTRY if s.view is not record_event]


app = Chalice("network-test")
app.register_blueprint(bp)


@pytest.fixture
def client():
    EFFECTS.clear()
    with Client(app) as c:
        yield c


def call(client, body, network="card", t=None, secret=None, raw=None, header=None):
    raw = raw if raw is not None else json.dumps(body).encode()
    signature = header if header is not None else network_auth.sign(secret or keys.network_secret(network), raw, t)
    return client.http.post("/v1/network/test-events", body=raw,
                            headers={"Content-Type": "application/json", "Flock-Signature": signature})


def test_a_signed_event_is_answered_and_its_replay_gets_the_first_answer(client):
    first = call(client, {"id": "evt_1", "amount": 5})
    again = call(client, {"id": "evt_1", "amount": 5})
    assert first.status_code == again.status_code == 200
    assert first.json_body == again.json_body == {"seen": "evt_1", "n": 1}
    assert EFFECTS == ["evt_1"]


def test_the_same_event_id_with_another_body_is_refused_and_changes_nothing(client):
    call(client, {"id": "evt_1", "amount": 5})
    reused = call(client, {"id": "evt_1", "amount": 6})
    assert reused.status_code == 409
    assert reused.json_body["error"]["code"] == "idempotency_key_reused"
    assert NetworkEventItem.find("card", "evt_1").answered() == (200, {"seen": "evt_1", "n": 1})


@pytest.mark.parametrize("how", ["missing", "garbage", "wrong secret", "other network's secret", "too old",
                                 "from the future", "body changed", "no t", "non-ascii t"])
def test_a_bad_signature_is_401_and_stores_nothing(client, how):
    body = {"id": "evt_sig", "amount": 5}
    raw = json.dumps(body).encode()
    now = int(time.time())
    header = {
        "missing": "",
        "garbage": "not a signature",
        "wrong secret": network_auth.sign("x" * 40, raw, now),
        "other network's secret": network_auth.sign(keys.network_secret("check"), raw, now),
        "too old": network_auth.sign(keys.network_secret("card"), raw, now - 301),
        "from the future": network_auth.sign(keys.network_secret("card"), raw, now + 301),
        "body changed": network_auth.sign(keys.network_secret("card"), raw + b" ", now),
        "no t": network_auth.sign(keys.network_secret("card"), raw, now).split(",", 1)[1],
        "non-ascii t": network_auth.sign(keys.network_secret("card"), raw, now).replace("t=", "t=\u0661"),
    }[how]
    r = call(client, body, header=header)
    assert r.status_code == 401
    assert r.json_body["error"]["code"] == "invalid_signature"
    assert NetworkEventItem.find("card", "evt_sig") is None
    assert EFFECTS == []


def test_a_signature_within_five_minutes_is_accepted(client):
    assert call(client, {"id": "evt_old"}, t=int(time.time()) - 290).status_code == 200


@pytest.mark.parametrize("event_id", [None, "", "x" * 65, 7, ["a"]])
def test_an_event_without_a_usable_id_is_400(client, event_id):
    r = call(client, {"id": event_id})
    assert r.status_code == 400
    assert r.json_body["error"]["param"] == "id"


def test_the_first_of_two_racing_identical_events_is_the_answer_of_both():
    """Both pass `begin` before either saved: the second save finds the first."""
    a = network_events.begin("card", {"id": "evt_race", "amount": 1})
    b = network_events.begin("card", {"id": "evt_race", "amount": 1})
    assert a.save(200, {"winner": "a"}) == (200, {"winner": "a"})
    assert b.save(200, {"winner": "b"}) == (200, {"winner": "a"})
    with pytest.raises(network_events.Replayed) as replayed:
        network_events.begin("card", {"id": "evt_race", "amount": 1})
    assert (replayed.value.status, replayed.value.answer) == (200, {"winner": "a"})


def test_a_racing_event_with_another_body_is_refused_not_answered_with_the_first():
    a = network_events.begin("card", {"id": "evt_race2", "amount": 1})
    b = network_events.begin("card", {"id": "evt_race2", "amount": 2})
    a.save(200, {"winner": "a"})
    with pytest.raises(errors.IdempotencyKeyReused):
        b.save(200, {"winner": "b"})


def test_events_of_the_two_networks_do_not_collide():
    network_events.begin("card", {"id": "evt_same"}).save(200, {"network": "card"})
    assert network_events.begin("check", {"id": "evt_same"}).save(200, {"network": "check"}) == \
        (200, {"network": "check"})


def test_a_record_answer_is_stored_as_its_json_and_a_lost_race_reads_it_back_as_that_record():
    from pydantic import ValidationError

    from chalicelib.records.checks import CheckPresentmentDecision
    a = network_events.begin("check", {"id": "evt_record", "amount": 1})
    b = network_events.begin("check", {"id": "evt_record", "amount": 1})
    won = CheckPresentmentDecision(decision="paid", return_reason=None, check_id="chk_a")
    assert a.save(200, won) == (200, won)
    status, first = b.save(200, CheckPresentmentDecision(decision="returned", return_reason="stop_payment",
                                                         check_id="chk_b"))
    assert status == 200 and type(first) is CheckPresentmentDecision and first == won
    with pytest.raises(ValidationError):
        first.decision = "returned"
    stored = NetworkEventItem.find("check", "evt_record")
    assert json.loads(stored.answer) == won.as_json() == {"decision": "paid", "return_reason": None,
                                                          "check_id": "chk_a"}
