"""DynamoDB requests per call (DESIGN.md, Scale and money rule 3): a P2P
transfer is one TransactWriteItems and at most two reads (the caller's token
state, the receiver's handle); reading the wallet or one page of its entries
is the authentication read plus one request.

Counted by a botocore `before-call` hook on every DynamoDB client Flock uses
(`chalicelib.db.base.register_hook`), and checked against a count taken
below every client (`BaseClient._make_api_call`), so a client the hook does
not reach shows up as a difference instead of a pass.
"""
import collections
import uuid

import botocore.client
import pytest

READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}


class Calls:
    def __init__(self):
        self.hook = collections.Counter()  # what register_hook's handler saw
        self.every_client = collections.Counter()  # every botocore DynamoDB client, whoever made it

    def __call__(self, model=None, **kwargs):
        self.hook[model.name] += 1
        # Returns None: a before-call handler's return value would replace the request.

    def reset(self):
        self.hook.clear()
        self.every_client.clear()

    @property
    def reads(self) -> int:
        return sum(n for op, n in self.hook.items() if op in READS)

    @property
    def total(self) -> int:
        return sum(self.hook.values())


@pytest.fixture
def calls(api, monkeypatch):
    from chalicelib.db import base

    seen = Calls()
    make_api_call = botocore.client.BaseClient._make_api_call

    def counting(client, operation_name, api_params):
        if client.meta.service_model.service_name == "dynamodb":
            seen.every_client[operation_name] += 1
        return make_api_call(client, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    base.register_hook("before-call.dynamodb", seen)
    yield seen
    base.unregister_hook("before-call.dynamodb", seen)


def _assert_hook_saw_everything(calls):
    assert calls.hook == calls.every_client, \
        f"the hook missed a DynamoDB client: hook {dict(calls.hook)}, every client {dict(calls.every_client)}"


def _funded_pair(api):
    api.verified("alice")
    api.verified("bob")
    api.deposit("alice", 10_000)


def test_the_counting_hook_sees_signups_transaction(api, calls):
    api.signup("carol")
    # one for the person and the handle, one for the first session
    assert calls.hook["TransactWriteItems"] == 2, dict(calls.hook)
    _assert_hook_saw_everything(calls)


def test_p2p_transfer_is_one_transaction_and_at_most_two_reads(api, calls):
    _funded_pair(api)
    calls.reset()
    r = api.money("POST", "/v1/transfers", {"to": "bob", "amount": 2_500, "currency": "USD", "note": "lunch"},
                  "alice", str(uuid.uuid4()))
    assert r.status_code == 201, r.body
    assert calls.hook["TransactWriteItems"] == 1, dict(calls.hook)
    assert calls.reads <= 2, dict(calls.hook)
    assert calls.total - calls.reads == 1, f"a write outside the transaction: {dict(calls.hook)}"
    _assert_hook_saw_everything(calls)


def test_wallet_is_the_auth_read_and_one_more(api, calls):
    _funded_pair(api)
    calls.reset()
    api.wallet("alice")
    assert calls.total <= 2, dict(calls.hook)
    _assert_hook_saw_everything(calls)


def test_a_page_of_transactions_is_the_auth_read_and_one_more(api, calls):
    _funded_pair(api)
    api.money("POST", "/v1/transfers", {"to": "bob", "amount": 100, "currency": "USD"}, "alice", str(uuid.uuid4()))
    calls.reset()
    r = api.call("GET", "/v1/wallet/transactions?limit=20", as_="alice")
    assert r.status_code == 200, r.body
    assert len(r.json_body["data"]) == 2
    assert calls.total <= 2, dict(calls.hook)
    _assert_hook_saw_everything(calls)


def test_a_credit_line_decision_costs_the_same_however_busy_the_account(api, calls):
    """The rules read the monthly money in kept on the account item, not the
    entries of the months they count."""
    api.verified("few")
    api.verified("many")
    api.deposit("few", 300_000)
    for _ in range(30):
        api.deposit("many", 10_000)
    assert api.admin("POST", "/v1/admin/test-clock", {"advance_days": 31}).status_code == 200
    seen = {}
    for handle in ("few", "many"):
        calls.reset()
        r = api.call("POST", "/v1/wallet/credit-line", {"requested_limit": 20_000}, as_=handle)
        assert r.status_code == 200 and r.json_body["credit_limit"] == 20_000, r.body
        seen[handle] = dict(calls.hook)
    assert seen["few"] == seen["many"], seen
    assert seen["many"].get("Query", 0) == 0 and seen["many"]["TransactWriteItems"] == 1, seen
    _assert_hook_saw_everything(calls)
