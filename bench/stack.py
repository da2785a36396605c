"""The local stack sections 2 and 3 run on: a LockedMotoServer on
127.0.0.1 (scripts/localstack.py) whose DynamoDB requests are counted as
they arrive, and the app through chalice's test client."""
import collections
import json
import os
import sys
import uuid

from dynamo_calls import Calls
from figures import FAKE_AWS, ROOT

PASSWORD = "correct horse battery"
ADMIN_PASSWORD = "bench-operator-password"


class Seen(Calls):
    """DynamoDB requests as a botocore `before-call` hook saw them (client
    side, with what each touched and which Flock code sent it) and as the
    moto server received them (server side, by operation)."""

    def __init__(self):
        super().__init__()
        self.server = collections.Counter()

    @property
    def client(self):
        return self.counts()

    def reset(self):
        super().reset()
        self.server.clear()


def start_stack():
    for name in ("FLOCK_DYNAMODB_ENDPOINT", "FLOCK_AWS_ENDPOINT"):
        os.environ.pop(name, None)
    os.environ.update(FAKE_AWS)
    os.environ.update({"FLOCK_STAGE": "dev",
                       # Cheaper (still argon2id) hashing: only signups and logins pay it, not what is timed.
                       "FLOCK_ARGON2_MEMORY_KIB": "8192", "FLOCK_ARGON2_TIME_COST": "1",
                       # Two shards per system account (tests use 4, prod 8): a p2p transfer touches none, and
                       # fewer items keep moto's per-transaction table copies (see transfer_time) affordable.
                       "FLOCK_SYSTEM_ACCOUNT_SHARDS": "2"})
    sys.path.insert(0, ROOT)
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import localstack
    seen = Seen()
    server = localstack.LockedMotoServer()
    inner = server._server.app

    def counting_app(environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("DynamoDB_"):
            seen.server[target.split(".", 1)[1]] += 1
        return inner(environ, start_response)

    server._server.app = counting_app
    server.start()
    localstack.point_at(server.url)
    localstack.provision(ADMIN_PASSWORD)
    return server, seen


class App:
    """The app through chalice.test.Client, as a client would call it."""

    def __init__(self, client):
        self.client = client
        self.tokens = {}

    def call(self, method, path, body=None, as_=None, headers=None, expect=None):
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        if as_:
            hdrs["Authorization"] = f"Bearer {self.tokens[as_]}"
        r = getattr(self.client.http, method.lower())(path, headers=hdrs,
                                                       body=json.dumps(body) if body is not None else None)
        if expect is not None and r.status_code != expect:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.body!r}")
        return r

    def signup(self, handle):
        r = self.call("POST", "/v1/auth/signup", {"handle": handle, "password": PASSWORD}, expect=201)
        self.tokens[handle] = r.json_body["token"]

    def login(self, handle, password):
        r = self.call("POST", "/v1/auth/login", {"handle": handle, "password": password}, expect=200)
        self.tokens[handle] = r.json_body["token"]

    def money(self, path, body, as_):
        return self.call("POST", path, body, as_=as_, headers={"Idempotency-Key": str(uuid.uuid4())}, expect=201)
