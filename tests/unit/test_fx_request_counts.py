"""A cross-currency transfer costs what a USD one does: one transaction and
at most two reads (the token's, the receiver's handle); the rates come
from the process's cache, the receiver's pocket is not read."""
import uuid

from tests.unit import fxkit, test_request_counts
from tests.unit.fxkit import deposit
from tests.unit.test_request_counts import _assert_hook_saw_everything

rates = fxkit.rates  # the fixtures, for this module
calls = test_request_counts.calls


def test_a_cross_currency_transfer_is_one_transaction_and_at_most_two_reads(api, rates, calls):
    api.verified("alice")
    api.verified("bob")
    api.deposit("alice", 10_000)
    deposit(api, "bob", 100, "EUR")  # bob's EUR pocket exists: the steady state
    api.money("POST", "/v1/transfers", {"to": "bob", "amount": 100, "currency": "USD", "deliver_currency": "EUR"},
              "alice", str(uuid.uuid4()))  # warms the rates cache, as a running process has it
    calls.reset()
    r = api.money("POST", "/v1/transfers", {"to": "bob", "amount": 2_500, "currency": "USD",
                                            "deliver_currency": "EUR"}, "alice", str(uuid.uuid4()))
    assert r.status_code == 201, r.body
    assert calls.hook["TransactWriteItems"] == 1, dict(calls.hook)
    assert calls.reads <= 2, dict(calls.hook)
    assert calls.total - calls.reads == 1, f"a write outside the transaction: {dict(calls.hook)}"
    _assert_hook_saw_everything(calls)


def test_a_pocket_is_the_auth_read_and_one_more(api, rates, calls):
    api.verified("alice")
    deposit(api, "alice", 100, "JPY")
    calls.reset()
    assert api.call("GET", "/v1/wallet?currency=JPY", as_="alice").status_code == 200
    assert api.call("GET", "/v1/wallet/pockets", as_="alice").status_code == 200
    assert calls.total <= 4, dict(calls.hook)


def test_a_cross_currency_dm_payment_is_one_transaction_and_at_most_two_reads(api, rates, calls):
    """The token's read and whether the payer holds the price's pocket; the
    conversation's members are read once per warm Lambda, the rates cached."""
    api.verified("alice")
    api.verified("bob")
    api.deposit("alice", 10_000)
    deposit(api, "bob", 100, "EUR")  # bob's EUR pocket exists: the steady state
    conv = api.call("POST", "/v1/conversations", {"with": "bob"}, as_="alice").json_body["id"]
    pay = {"amount": 500, "currency": "EUR", "note": "rent"}
    assert api.money("POST", f"/v1/conversations/{conv}/payments", pay, "alice", str(uuid.uuid4())).status_code == 201
    calls.reset()
    r = api.money("POST", f"/v1/conversations/{conv}/payments", pay, "alice", str(uuid.uuid4()))
    assert r.status_code == 201, r.body
    assert r.json_body["payment"]["delivered"] == {"amount": 500, "currency": "EUR"}
    assert calls.hook["TransactWriteItems"] == 1, dict(calls.hook)
    assert calls.reads <= 2, dict(calls.hook)
    assert calls.total - calls.reads == 1, f"a write outside the transaction: {dict(calls.hook)}"
    _assert_hook_saw_everything(calls)
