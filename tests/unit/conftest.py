"""Service-layer tests: in-process moto (`mock_aws`), fresh for every test.

Provisioning a stack (tables, the signing secret, system accounts, the
operator with an argon2 hash) costs about a second; it is done once per
process and kept as a copy of moto's state, which every test gets back
inside a `mock_aws` of its own (tens of milliseconds): as fresh as a stack
provisioned for it."""
import copy
import itertools
import json
import threading
from datetime import timedelta

import pytest
from moto import mock_aws
from moto.core.botocore_stubber import BotocoreStubber

from tests import moto_rollback, moto_speedups
from tests.conftest import ADMIN_PASSWORD, PASSWORD, TEST_NOW

# moto's TransactWriteItems copies every table it touches; the journal copies
# only the items it names (tests/moto_rollback.py): same writes, a fraction of the time.
moto_rollback.install()
# and its projection and item answers cost less (tests/moto_speedups.py).
moto_speedups.install()


class Provisioned:
    """What `localstack.provision` leaves in moto, copied once per process:
    DynamoDB's tables, Secrets Manager's secrets, KMS's keys and S3's
    buckets (all it writes)."""
    state = None

    @classmethod
    def take(cls):
        import localstack
        from chalicelib.identity import keys
        with mock_aws():
            keys.signing_key.cache_clear()
            keys.network_secret.cache_clear()
            localstack.provision(ADMIN_PASSWORD)
            cls.state = (copy.deepcopy(moto_tables()), copy.deepcopy(_secrets_backend().secrets),
                         copy.deepcopy(_kms_backend().keys), copy.deepcopy(moto_buckets()))
        keys.signing_key.cache_clear()
        keys.network_secret.cache_clear()

    @classmethod
    def restore(cls):
        """Into the moto of the `mock_aws` now active."""
        if cls.state is None:
            raise RuntimeError("Provisioned.take() first (the session fixture `provisioned`)")
        tables, secrets, kms_keys, buckets = cls.state
        live = moto_tables()
        live.clear()
        live.update(copy.deepcopy(tables))
        live_buckets = moto_buckets()
        live_buckets.clear()
        live_buckets.update(copy.deepcopy(buckets))
        _secrets_backend().secrets = copy.deepcopy(secrets)
        _kms_backend().keys = copy.deepcopy(kms_keys)


@pytest.fixture(scope="session", autouse=True)
def provisioned():
    """Before any module's own `mock_aws` is open (a session fixture is set
    up first), so the copy is of a stack that saw nothing else."""
    Provisioned.take()


@pytest.fixture(autouse=True)
def aws():
    with mock_aws():
        from chalicelib import clock
        from chalicelib.identity import keys

        from chalicelib.db import warm
        from chalicelib.finance import interest

        keys.signing_key.cache_clear()
        keys.network_secret.cache_clear()
        clock.pin(TEST_NOW)
        Provisioned.restore()
        interest._cache.clear()
        warm.clear_all()  # a fresh stack reuses handles: nothing a previous test cached is true now
        interest.displayed_rates()  # warm, as a running process is: a wallet read is then one request
        yield
        clock.reset()


def _operator():
    """The operator as the admin routes see them after `authenticate`."""
    from chalicelib.identity import users
    op = users.find_by_handle("admin")
    return users.Principal(user_id=op.id, handle=op.handle, role=op.role, verified=bool(op.verified),
                           frozen=bool(op.frozen), account_id=op.account_id)


class Api:
    """The app through Chalice's in-process test client, spoken as a client would."""

    def __init__(self, client):
        self.client = client
        self.tokens = {}

    def call(self, method, path, body=None, token=None, headers=None, raw=None, as_=None):
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        if as_ is not None:
            token = self.tokens[as_]
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        return getattr(self.client.http, method.lower())(path, headers=hdrs, body=payload)

    def signup(self, handle, password=PASSWORD, **extra):
        r = self.call("POST", "/v1/auth/signup", {"handle": handle, "password": password, **extra})
        assert r.status_code == 201, r.body
        self.tokens[handle] = r.json_body["token"]
        return r.json_body

    def login(self, handle, password=PASSWORD):
        r = self.call("POST", "/v1/auth/login", {"handle": handle, "password": password})
        if r.status_code == 200:
            self.tokens[handle] = r.json_body["token"]
        return r

    def admin(self, method, path, body=None):
        if "admin" not in self.tokens:
            assert self.login("admin", ADMIN_PASSWORD).status_code == 200
        return self.call(method, path, body, as_="admin")

    def verified(self, handle):
        """A verified person with a token, made through the services the
        signup and verify routes call (those routes have tests of their own,
        in test_identity and test_authz_matrix): a test that needs people
        spends its time on what it is about, not on two HTTP round trips,
        an argon2 login of the operator and the JSON in between."""
        from chalicelib.finance import customers
        from chalicelib.social import people
        session = people.signup(handle, PASSWORD)
        self.tokens[handle] = session.token
        return customers.verify(_operator(), handle, "test KYC")

    def money(self, method, path, body, as_, key):
        return self.call(method, path, body, as_=as_, headers={"Idempotency-Key": key})

    def deposit(self, handle, amount, key=None):
        import uuid
        r = self.money("POST", "/v1/wallet/deposits", {"amount": amount, "currency": "USD"}, handle,
                       key or str(uuid.uuid4()))
        assert r.status_code == 201, r.body
        return r.json_body

    def network(self, network, path, body, t=None, secret=None, signature=None):
        """A call from the card or check network, signed as that network
        signs (with its secret from the stack, at time `t`), unless
        `signature` gives the header to send instead."""
        from chalicelib.identity import keys, network_auth
        raw = json.dumps(body).encode()
        if signature is None:
            signature = network_auth.sign(secret or keys.network_secret(network), raw, t)
        return self.call("POST", path, raw=raw, headers={"Flock-Signature": signature})

    def wallet(self, handle):
        r = self.call("GET", "/v1/wallet", as_=handle)
        assert r.status_code == 200, r.body
        return r.json_body


@pytest.fixture
def api():
    """The app behind the dev server's gateway (scripts/devserver.py), which
    answers unknown paths as the template's GatewayResponses do on AWS;
    Chalice's own test gateway would answer them with a 403 echoing headers."""
    import devserver
    from chalice.test import Client

    from app import app
    devserver.thread_local_requests(app)  # the concurrency tests call it from many threads
    with Client(app) as client:
        client.http._local_gateway = devserver.FlockGateway(client.http._app, client.http._config)
        yield Api(client)


@pytest.fixture
def network_call(api):
    """`network_call(network, path, body)`: a correctly signed network call
    through the in-process app (more: `api.network`)."""
    return lambda network, path, body, **kw: api.network(network, path, body, **kw)


@pytest.fixture
def one_request_at_a_time(monkeypatch):
    """moto is not thread-safe: as the local stack does, let one request
    reach it at a time (threads still interleave between requests, so reads
    go stale and transactions meet each other's changes)."""
    lock = threading.Lock()
    real = BotocoreStubber.__call__

    def serialized(self, *args, **kwargs):
        with lock:
            return real(self, *args, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", serialized)


def take_all(sqs, url) -> list[str]:
    """Every message waiting on an SQS queue, as the bodies it would deliver,
    removed from the queue."""
    bodies = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return bodies
        for m in got:
            bodies.append(m["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def moto_tables():
    """moto's DynamoDB tables in this process."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from chalicelib.config import settings
    return dynamodb_backends[DEFAULT_ACCOUNT_ID][settings().region].tables


def moto_buckets():
    """moto's S3 buckets in this process (S3's backend is global, not per region)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    return s3_backends[DEFAULT_ACCOUNT_ID]["global"].buckets


def _kms_backend():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.kms.models import kms_backends

    from chalicelib.config import settings
    return kms_backends[DEFAULT_ACCOUNT_ID][settings().region]


def _secrets_backend():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.secretsmanager.models import secretsmanager_backends

    from chalicelib.config import settings
    return secretsmanager_backends[DEFAULT_ACCOUNT_ID][settings().region]


_handles = itertools.count(1)


def fresh(prefix: str) -> str:
    """A handle no other test of this process uses (for modules whose tests share a stack)."""
    n = str(next(_handles))
    return prefix[:15 - len(n)] + n


def real_clock_stack():
    """Fixtures `stack` and `aws` for a module about security time (tokens,
    sessions, TOTP), which comes from the real clock: one stack provisioned
    for the whole module, its tests telling their people apart by `fresh`
    handles, the business clock left real.

        stack, aws = real_clock_stack()
    """
    @pytest.fixture(scope="module", name="stack")
    def stack_fixture():
        with mock_aws():
            import localstack
            from chalicelib import clock
            from chalicelib.identity import keys

            keys.signing_key.cache_clear()
            keys.network_secret.cache_clear()
            clock.reset()
            localstack.provision(ADMIN_PASSWORD)
            yield
            clock.reset()

    @pytest.fixture(autouse=True, name="aws")
    def aws_fixture(stack):
        """Replaces the per-test stack of this conftest with the module's."""
        from chalicelib import clock
        clock.reset()
        yield
        clock.reset()

    return stack_fixture, aws_fixture


def module_stack(build):
    """Fixtures `stack` and `aws` for a module whose tests share one world:
    one provisioned stack, with the people `build(api)` makes, kept as a copy
    of its tables; each test starts from that copy, as fresh as a stack of
    its own (provisioning and signing people up per test cost more than the
    tests). `stack` is (tables, tokens, what build returned, the business time
    each test starts at).

        stack, aws = module_stack(_people)
    """
    import copy

    @pytest.fixture(scope="module", name="stack")
    def stack_fixture():
        import devserver
        from chalice.test import Client

        from app import app
        from chalicelib import clock
        from chalicelib.identity import keys
        with mock_aws():
            keys.signing_key.cache_clear()
            keys.network_secret.cache_clear()
            clock.pin(TEST_NOW)
            Provisioned.restore()
            devserver.thread_local_requests(app)
            with Client(app) as client:
                client.http._local_gateway = devserver.FlockGateway(client.http._app, client.http._config)
                builder = Api(client)
                built = build(builder)
                builder.admin("GET", "/v1/admin/ledger/check")  # the operator's token, too
            # The build ran seconds of real time on a clock pinned to TEST_NOW:
            # each test resumes after it, or its entries would sort before the build's.
            ended = clock.now() + timedelta(seconds=1)
            yield copy.deepcopy(moto_tables()), dict(builder.tokens), built, ended
            clock.reset()

    @pytest.fixture(autouse=True, name="aws")
    def aws_fixture(stack):
        """Replaces the per-test stack of this conftest: the module's, restored."""
        from chalicelib import clock
        tables = moto_tables()
        tables.clear()
        tables.update(copy.deepcopy(stack[0]))
        clock.pin(stack[3])
        yield
        clock.reset()

    return stack_fixture, aws_fixture
