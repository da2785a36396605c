"""A hostile sweep over every money route (generated from the route table,
so a new money route is swept the day it is declared): each is called with
a token whose session was ended, a token past its expiry, and a validly
signed token that names another person's session; every answer is 401 and
nothing in any table changes.
"""
import re
import time
import uuid

import boto3
import jwt
import pytest

import app  # noqa: F401  (declaring the routes fills the registry)
from chalicelib import http
from chalicelib.api import examples
from tests.unit.conftest import module_stack

MONEY_ROUTES = [s for s in http.REGISTRY if s.idempotent]
# A valid body for every money route: each route's documented example, unless named here.
BODIES = {
    **examples.REQUESTS,
    "MoneyBody": {"amount": 100, "currency": "USD"},
    "PaymentBody": {"amount": 100, "currency": "USD", "note": "hi"},
    "TransferBody": {"to": "bob", "amount": 100, "currency": "USD"},
    "ApplicationBody": {"amount": 10_000, "term_months": 3},
}


def _build(api):
    api.verified("alice")
    api.verified("bob")
    api.deposit("alice", 100_000)
    api.deposit("bob", 100_000)
    post = api.call("POST", "/v1/posts", {"text": "bob's paid post", "price": {"amount": 100, "currency": "USD"}},
                    as_="bob").json_body
    api.call("PUT", "/v1/me/subscription-price", {"amount": 100, "currency": "USD"}, as_="bob")
    conv = api.call("POST", "/v1/conversations", {"with": "bob"}, as_="alice").json_body
    req = api.call("POST", "/v1/payment-requests", {"from": "alice", "amount": 100, "currency": "USD"},
                   as_="bob").json_body
    ended = api.login("alice").json_body["token"]
    assert api.call("POST", "/v1/auth/logout", token=ended).status_code == 204
    return {"params": {"post_id": post["id"], "handle": "bob", "conv_id": conv["id"], "request_id": req["id"]},
            "ended": ended}


stack, aws = module_stack(_build)


def _scan_all() -> dict:
    client = boto3.client("dynamodb", region_name="us-east-1")
    state = {}
    for name in client.list_tables()["TableNames"]:
        items = []
        for page in client.get_paginator("scan").paginate(TableName=name, ConsistentRead=True):
            items.extend(page["Items"])
        state[name] = sorted(repr(sorted(i.items())) for i in items)
    return state


def _tokens(stack) -> dict:
    from chalicelib.identity import keys
    tokens, built = stack[1], stack[2]
    alice = jwt.decode(tokens["alice"], options={"verify_signature": False})
    bob = jwt.decode(tokens["bob"], options={"verify_signature": False})
    now = int(time.time())
    expired = {**alice, "iat": now - 1000, "exp": now - 100}
    crossed = {**alice, "sid": bob["sid"], "iat": now, "exp": now + 600}  # alice, riding bob's session
    return {"ended session": built["ended"],
            "expired": jwt.encode(expired, keys.signing_key(), algorithm="HS256"),
            "another person's session": jwt.encode(crossed, keys.signing_key(), algorithm="HS256")}


def test_there_are_money_routes_to_sweep():
    assert len(MONEY_ROUTES) >= 8


@pytest.mark.parametrize("spec", MONEY_ROUTES, ids=lambda s: f"{s.method} {s.path}")
def test_revoked_expired_and_borrowed_tokens_move_nothing(api, stack, spec):
    path = spec.path
    for name, value in stack[2]["params"].items():
        path = path.replace("{" + name + "}", value)
    path = re.sub(r"{[a-z_]+}", "none_0", path)  # a thing of alice's or none: 401 comes first either way
    body = BODIES[spec.body.__name__] if spec.body is not None else None
    before = _scan_all()
    for why, token in _tokens(stack).items():
        r = api.call(spec.method, path, body, token=token, headers={"Idempotency-Key": str(uuid.uuid4())})
        assert r.status_code == 401, (why, r.body)
        assert r.json_body["error"]["code"] == "unauthenticated", (why, r.body)
    assert _scan_all() == before
