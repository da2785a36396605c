"""Section 2: DynamoDB requests per call.

Counted by a botocore `before-call` hook on the one shared client
(chalicelib.db.base.register_hook), checked against what the moto server
itself received; each read is listed with the Flock code that sent it.
Creator money (a tip, an unlock of a priced post, a payment in a DM) beside
its floor, the P2P transfer: 1 TransactWriteItems + at most 2 reads, the
token read being one. A broken rule is a failure (exit status 1): counts
are exact, not noisy.
"""
import base64
import json
import os
import uuid

from dynamo_calls import explain
from figures import say
from stack import ADMIN_PASSWORD, App


def _check(seen, exact, reads_max=None, total_max=None):
    """The problems of the request just counted against its rule."""
    problems = []
    if seen.client != seen.server:
        problems.append(f"hook saw {dict(seen.client)} but server got {dict(seen.server)}")
    for op, n in exact.items():
        if seen.client[op] != n:
            problems.append(f"{op} {seen.client[op]} != {n}")
    reads = len(seen.reads())
    if reads_max is not None and reads > reads_max:
        problems.append(f"reads {reads} > {reads_max}")
    if total_max is not None and seen.total() > total_max:
        problems.append(f"requests {seen.total()} > {total_max}")
    return problems


def present_check(api, check: dict):
    """The check network presents `check`, signed as it signs, and it pays."""
    from chalicelib.identity import keys, network_auth
    body = {"id": str(uuid.uuid4()), "routing": check["micr"]["routing"], "account": check["micr"]["account"],
            "serial": check["micr"]["serial"], "amount": check["amount"], "currency": check["currency"]}
    signature = network_auth.sign(keys.network_secret("check"), json.dumps(body).encode())
    r = api.call("POST", "/v1/network/check-presentments", body, headers={"Flock-Signature": signature}, expect=200)
    if r.json_body["decision"] != "paid":
        raise RuntimeError(f"bench check not paid: {r.json_body}")
    return r


def check_deposit_body() -> dict:
    """A fresh check (its MICR and images never deposited before)."""
    image = lambda magic: base64.b64encode(magic + os.urandom(4096)).decode()  # noqa: E731
    return {"amount": 1_000, "currency": "USD",
            "micr": {"routing": "021000021", "account": "99887766", "serial": str(uuid.uuid4().int % 10**9)},
            "front_image": image(b"\x89PNG\r\n\x1a\n"), "back_image": image(b"\xff\xd8\xff"), "endorsed": True}


def request_counts(seen):
    """Section 2: one call of each route, counted on both sides of the wire.
    The money routes of Creator money (a tip, an unlock of a priced post, a
    payment in a DM) stand beside the P2P transfer, their floor: each is one
    TransactWriteItems and at most two reads, the token read being one."""
    # Imported here: the app reads its settings once, from the environment start_stack() sets, which is
    # after the driver has imported this module.
    from chalice.test import Client

    from app import app
    from chalicelib.db import base

    say("2. DynamoDB requests per call (client hook on the shared botocore client; server = what moto received)")
    failures = []
    with Client(app) as client:
        api = App(client)
        for handle in ("alice", "bob"):
            api.signup(handle)
        api.login("admin", ADMIN_PASSWORD)
        for handle in ("alice", "bob"):
            api.call("POST", f"/v1/admin/users/{handle}/verify", {"reason": "bench KYC"}, as_="admin", expect=200)
        api.money("/v1/wallet/deposits", {"amount": 2_000_000, "currency": "USD"}, "alice")
        api.money("/v1/transfers", {"to": "bob", "amount": 1, "currency": "USD"}, "alice")  # warm every client
        # Creator money: bob's posts (one free, two priced) and a conversation; each route once before counting.
        post = api.call("POST", "/v1/posts", {"text": "bench post for tips"}, as_="bob", expect=201).json_body["id"]
        priced = [api.call("POST", "/v1/posts", {"text": f"bench paid video {i}", "price": {"amount": 500,
                                                                                           "currency": "USD"}},
                           as_="bob", expect=201).json_body["id"] for i in range(2)]
        conv = api.call("POST", "/v1/conversations", {"with": "bob"}, as_="alice").json_body["id"]
        api.money(f"/v1/posts/{post}/tips", {"amount": 100, "currency": "USD"}, "alice")
        api.money(f"/v1/posts/{priced[0]}/unlock", None, "alice")
        # The post counted below: its read and its paid-count check are once per warm Lambda and minute
        # (a tip pays them as an unlock would), so the count is the steady state of a post people pay on.
        api.money(f"/v1/posts/{priced[1]}/tips", {"amount": 1, "currency": "USD"}, "alice")
        api.money(f"/v1/conversations/{conv}/payments", {"amount": 100, "currency": "USD", "note": "warm"}, "alice")
        checks = [api.money("/v1/checks", {"payee": "bench", "amount": 100, "currency": "USD"}, "alice").json_body
                  for _ in range(2)]
        present_check(api, checks[0])  # warm
        api.money("/v1/check-deposits", check_deposit_body(), "alice")
        base.register_hook("before-call.dynamodb", seen)
        money_rule = ({"TransactWriteItems": 1}, 2, 3)  # exactly one TWI, reads <= 2, nothing else
        try:
            cases = [
                # The person and their handle claim, then the first session on the person (issue 12's live
                # session ids), then the people-search index.
                ("signup (hook self-test)", lambda: api.signup("carol"), ({"TransactWriteItems": 2}, None, None),
                 "TWI = 2 seen by the hook"),
                ("POST /v1/transfers (floor)", lambda: api.money("/v1/transfers", {"to": "bob", "amount": 1,
                                                                                   "currency": "USD", "note": "bench"},
                                                                 "alice"), money_rule, "TWI = 1, reads <= 2"),
                ("POST /v1/posts/{id}/tips", lambda: api.money(f"/v1/posts/{post}/tips",
                                                               {"amount": 100, "currency": "USD"}, "alice"),
                 money_rule, "as P2P: TWI = 1, reads <= 2"),
                ("POST /v1/posts/{id}/unlock", lambda: api.money(f"/v1/posts/{priced[1]}/unlock", None, "alice"),
                 money_rule, "as P2P: TWI = 1, reads <= 2"),
                ("POST /v1/conversations/{id}/payments",
                 lambda: api.money(f"/v1/conversations/{conv}/payments",
                                   {"amount": 100, "currency": "USD", "note": "bench"}, "alice"),
                 money_rule, "as P2P: TWI = 1, reads <= 2"),
                # Paper checks (issue 14): 1 TWI and at most one read besides authentication (S3 aside).
                ("POST /v1/network/check-presentments", lambda: present_check(api, checks[1]),
                 ({"TransactWriteItems": 1}, 1, 2), "TWI = 1, reads <= 1 (no token: signed)"),
                ("POST /v1/check-deposits", lambda: api.money("/v1/check-deposits", check_deposit_body(), "alice"),
                 ({"TransactWriteItems": 1}, 2, 3), "TWI = 1, reads <= 2 (auth read + 1)"),
                # The first wallet read of a process also reads the interest rates (cached for a minute).
                ("GET /v1/wallet (first of the process)", lambda: api.call("GET", "/v1/wallet", as_="alice",
                                                                            expect=200), ({}, None, None),
                 "no rule (the rates are read once a minute)"),
                ("GET /v1/wallet", lambda: api.call("GET", "/v1/wallet", as_="alice", expect=200), ({}, None, 2),
                 "total <= 2 (auth read + 1)"),
                ("GET /v1/wallet/transactions", lambda: api.call("GET", "/v1/wallet/transactions?limit=20",
                                                                 as_="alice", expect=200), ({}, None, 2),
                 "total <= 2 (auth read + 1)"),
            ]
            say(f"   {'call':38}{'TWI':>4}{'reads':>6}{'total':>6}{'server':>7}  detail; rule")
            floor = None
            for label, run, (exact, reads_max, total_max), rule in cases:
                seen.reset()
                run()
                twi, reads, total = seen.client["TransactWriteItems"], len(seen.reads()), seen.total()
                problems = _check(seen, exact, reads_max, total_max)
                if label.endswith("(floor)"):
                    floor = (twi, reads, total)
                beside = (f"; P2P floor {floor[0]} TWI + {floor[1]} reads: {reads - floor[1]:+d} reads"
                          if floor and "as P2P" in rule else "")
                say(f"   {label:38}{twi:4}{reads:6}{total:6}{sum(seen.server.values()):7}  "
                    f"{dict(sorted(seen.client.items()))}; {rule}: "
                    f"{'ok' if not problems else 'FAIL ' + '; '.join(problems)}{beside}")
                if problems or "as P2P" in rule or label.endswith("(floor)") or rule.startswith("no rule"):
                    say(f"   {'':38}reads, innermost Flock frame first:")
                    for line in explain(seen.reads(), " " * 43):
                        say(line)
                failures += [f"{label}: {p}" for p in problems]
        finally:
            base.unregister_hook("before-call.dynamodb", seen)
    say()
    return api.tokens, failures
