"""Authorization matrix, generated from the route table (`http.REGISTRY`):
every route with a path parameter that names someone's thing (a handle or
an id), called by a second, verified user on the first user's thing, is
refused with 403 or 404 and changes nothing in any table.

A new route is covered the day it is declared. The only way out is
`OTHERS_MAY`: routes whose whole point is to act on someone else's public
thing as oneself (follow them, read their profile, like their post), each
with why; a refusal from those is not expected, but they too may not
change the first user's own records beyond what the action is.
"""
import uuid
from datetime import timedelta

import boto3
import pytest

import app  # noqa: F401  (declaring the routes fills the registry)
from chalicelib import clock, http
from tests.conftest import TEST_NOW
from tests.conftest import PASSWORD
from tests.unit.conftest import module_stack
from tests.unit.videos_helpers import ready_video

# view -> why a stranger may call it on the first user's thing.
OTHERS_MAY = {
    "get_user": "profiles are public",
    "follow": "anyone may follow anyone",
    "unfollow": "the caller's own follow",
    "followers": "follower lists are public",
    "following": "following lists are public",
    "user_posts": "posts are public (paid ones are cut to a preview)",
    "get_post": "posts are public (paid ones are cut to a preview)",
    "like": "the caller's own like",
    "unlike": "the caller's own like",
    "tip": "the caller pays the author",
    "unlock": "the caller buys access",
    "subscribe": "the caller subscribes to the creator",
    "cancel": "the caller's own subscription (404 when there is none)",
    "get_statement": "{month} is a month of the caller's own account, not anyone's thing",
    "get_statement_csv": "{month} is a month of the caller's own account, not anyone's thing",
    "web_asset": "{file} is a file of the public web client, nobody's thing",
    "card_increment": "the card network's call: signed, no person's token (a bearer gets 401 invalid_signature)",
}

# A valid body for each model a path-parameter route takes, so that a
# refusal is about who asks, not about the body.
BODIES = {
    "MoneyBody": {"amount": 100, "currency": "USD"},
    "TipBody": {"amount": 100, "currency": "USD"},
    "PaysFrom": {},
    "PaymentBody": {"amount": 100, "currency": "USD", "note": "hi"},
    "MessageBody": {"text": "hello"},
    "AdminReason": {"reason": "matrix"},
    "CreditLimit": {"credit_limit": 100, "reason": "matrix"},
    "JobBody": {},
    "RevealBody": {"password": PASSWORD},
    "LimitsBody": {"daily": 100},
    "IncrementBody": {"id": "matrix", "amount": 100},
}


def _with_params():
    return [s for s in http.REGISTRY if "{" in s.path]


def _scan_all() -> dict:
    client = boto3.client("dynamodb", region_name="us-east-1")
    state = {}
    for name in client.list_tables()["TableNames"]:
        items = []
        for page in client.get_paginator("scan").paginate(TableName=name, ConsistentRead=True):
            items.extend(page["Items"])
        state[name] = sorted(repr(sorted(i.items())) for i in items)
    return state


def _world(api):
    """alice owns one of everything; mallory is a verified stranger with money."""
    clock.pin(TEST_NOW - timedelta(days=60))  # old enough to borrow
    api.verified("alice")
    api.deposit("alice", 200_000)
    clock.pin(TEST_NOW)
    api.verified("carol")
    api.verified("mallory")
    api.deposit("alice", 10_000)
    api.deposit("mallory", 10_000)
    video_id = ready_video(api, "alice")
    post = api.call("POST", "/v1/posts", {"text": "alice's post", "price": {"amount": 100, "currency": "USD"},
                                          "video_id": video_id}, as_="alice").json_body
    conv = api.call("POST", "/v1/conversations", {"with": "carol"}, as_="alice").json_body
    api.call("POST", f"/v1/conversations/{conv['id']}/messages", {"text": "hi carol"}, as_="alice")
    req = api.call("POST", "/v1/payment-requests", {"from": "carol", "amount": 100, "currency": "USD"},
                   as_="alice").json_body
    transfer = api.deposit("alice", 500)
    session = api.call("GET", "/v1/me/sessions", as_="alice").json_body["data"][0]
    application = api.money("POST", "/v1/loans/applications", {"amount": 10_000, "term_months": 3}, "alice",
                            str(uuid.uuid4())).json_body
    loan = api.money("POST", f"/v1/loans/applications/{application['id']}/accept", None, "alice",
                     str(uuid.uuid4())).json_body
    card = api.money("POST", "/v1/cards", {"label": "alice's"}, "alice", str(uuid.uuid4())).json_body
    auth = api.network("card", "/v1/network/card-authorizations", {
        "id": "matrix-auth", "card_number": card["number"], "exp_month": card["exp_month"],
        "exp_year": card["exp_year"], "amount": 100, "currency": "USD",
        "merchant": {"name": "Shop", "mcc": "5411", "city": "Portland", "country": "US"}}).json_body
    from tests.unit.checks_world import deposit_body
    check = api.money("POST", "/v1/checks", {"payee": "Bob", "amount": 100, "currency": "USD"}, "alice",
                      str(uuid.uuid4())).json_body
    check_deposit = api.money("POST", "/v1/check-deposits", deposit_body(1_000), "alice", str(uuid.uuid4())).json_body
    from chalicelib import jobs
    return {"check_id": check["id"], "deposit_id": check_deposit["id"], "card_id": card["id"],
            "auth_id": auth["authorization_id"], "handle": "alice", "post_id": post["id"],
            "video_id": video_id, "conv_id": conv["id"], "request_id": req["id"],
            "transfer_id": transfer["id"], "month": "2020-01", "name": sorted(jobs.NAMES)[0],
            "run_id": "run_0000000000000000000000000",
            "application_id": application["id"], "loan_id": loan["id"], "session_id": session["id"]}


# Built once for the module and restored before each test: fifty tests,
# each with every kind of thing alice owns (module_stack, tests/unit/conftest.py).
stack, aws = module_stack(_world)


@pytest.fixture
def world(api, stack):
    api.tokens.update(stack[1])
    return stack[2]


def test_every_parameter_route_is_in_the_matrix():
    specs = _with_params()
    assert len(specs) >= 20
    names = {s.view_name for s in http.REGISTRY}
    assert set(OTHERS_MAY) <= names, "OTHERS_MAY names a view that no longer exists"
    for spec in specs:
        if spec.body is not None:
            assert spec.body.__name__ in BODIES, f"add a valid {spec.body.__name__} to BODIES for {spec.path}"


@pytest.mark.parametrize("spec", [s for s in _with_params() if s.view_name not in OTHERS_MAY],
                         ids=lambda s: f"{s.method} {s.path}")
def test_a_stranger_is_refused_and_changes_nothing(api, world, spec):
    path = spec.path
    for name, value in world.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"no resource of alice for {spec.path}: add it to the world fixture"
    if spec.admin:
        api.login("alice")  # the owner calling an admin route on her own thing is refused too
    before = _scan_all()
    headers = {"Idempotency-Key": str(uuid.uuid4())} if spec.idempotent else None
    body = BODIES[spec.body.__name__] if spec.body is not None else None
    for caller in ("mallory",) + (("alice",) if spec.admin else ()):
        r = api.call(spec.method, path, body, as_=caller, headers=headers)
        assert r.status_code in (403, 404), (caller, spec.method, path, r.status_code, r.body)
        assert r.json_body["error"]["code"] in ("forbidden", "not_found"), r.body
    assert _scan_all() == before, f"{spec.method} {path} changed something though refused"


@pytest.mark.parametrize("spec", [s for s in _with_params() if s.view_name in OTHERS_MAY],
                         ids=lambda s: f"{s.method} {s.path}")
def test_public_actions_do_not_touch_the_owners_money(api, world, spec):
    """What a stranger may do to alice's things never takes her money or
    changes her profile: her wallet only grows (tips, unlocks) and her
    user record reads the same apart from counters."""
    path = spec.path
    for name, value in world.items():
        path = path.replace("{" + name + "}", value)
    wallet = api.wallet("alice")
    me = api.call("GET", "/v1/me", as_="alice").json_body
    headers = {"Idempotency-Key": str(uuid.uuid4())} if spec.idempotent else None
    body = BODIES[spec.body.__name__] if spec.body is not None else None
    r = api.call(spec.method, path, body, as_="mallory", headers=headers)
    assert r.status_code < 500, r.body
    assert api.wallet("alice")["balance"] >= wallet["balance"]
    after = api.call("GET", "/v1/me", as_="alice").json_body
    counters = ("follower_count", "following_count")
    assert {k: v for k, v in after.items() if k not in counters} == \
        {k: v for k, v in me.items() if k not in counters}
