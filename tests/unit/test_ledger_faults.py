"""Fault injection under the ledger: DynamoDB throttles, transactions
conflict, and answers get lost after the write committed. Whatever happens
underneath, a caller's movement happens exactly once or not at all, the
caller learns which, and the books balance.

The faults are injected where the network would make them: in botocore's
`before-send` of the transaction client, in front of moto (which is itself a
`before-send` handler), so botocore's own retries and the ledger's run on top
of them exactly as they would against DynamoDB.
"""
import json
import types
import uuid
from datetime import timedelta

import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError
from moto.core.botocore_stubber import MockRawResponse
from moto.core.models import botocore_stubber

from chalicelib import clock, errors
from chalicelib.db.balances import EntryItem, HoldItem, TransferItem
from chalicelib.db.base import botocore_client
from chalicelib.finance import ledger, reconcile
from chalicelib.finance.money import Money

ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"


def _error(request, status: int, code: str, message: str, **extra) -> AWSResponse:
    body = json.dumps({"__type": ERROR_PREFIX + code, "message": message, **extra})
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": uuid.uuid4().hex}
    return AWSResponse(request.url, status, headers, MockRawResponse(body))


class Faults:
    """Scripted faults on TransactWriteItems.

    `script` is consumed one fault per request sent (botocore's retries
    included); `always` applies to every request while set. Faults:
      throttle     400 ThrottlingException, nothing written
      conflict     TransactionCanceledException with a TransactionConflict reason, nothing written
      server_error 500 InternalServerError, nothing written
      dropped      the connection closes before the request arrives, nothing written
      lost         the write commits, then the answer is lost (ReadTimeoutError): botocore resends
      lost_late    the write commits, botocore returns, then a timeout reaches the ledger
                   (as when the Lambda's own client gives up): the ledger retries
      ok           pass through
    """

    def __init__(self):
        self.client = botocore_client()
        self.script: list[str] = []
        self.always: str | None = None
        self.sends = 0
        self.committed = 0
        self._lose_answer = False

    def install(self):
        events = self.client.meta.events
        events.unregister("before-send", botocore_stubber)
        events.register("before-send", self._send)
        events.register("after-call.dynamodb.TransactWriteItems", self._after_call)

    def uninstall(self):
        events = self.client.meta.events
        events.unregister("after-call.dynamodb.TransactWriteItems", self._after_call)
        events.unregister("before-send", self._send)
        events.register("before-send", botocore_stubber)

    def _send(self, request, event_name, **kwargs):
        if not event_name.endswith(".TransactWriteItems"):
            return botocore_stubber(event_name=event_name, request=request, **kwargs)
        self.sends += 1
        fault = self.always or (self.script.pop(0) if self.script else "ok")
        if fault == "throttle":
            return _error(request, 400, "ThrottlingException", "Rate of requests exceeds the allowed throughput.")
        if fault == "server_error":
            return _error(request, 500, "InternalServerError", "Internal server error")
        if fault == "conflict":
            items = len(json.loads(request.body)["TransactItems"])
            reasons = [{"Code": "None"} for _ in range(items)]
            reasons[min(1, items - 1)] = {"Code": "TransactionConflict",
                                          "Message": "Transaction is ongoing for the item"}
            return _error(request, 400, "TransactionCanceledException",
                          "Transaction cancelled, please refer cancellation reasons for specific reasons",
                          CancellationReasons=reasons)
        if fault == "dropped":
            raise ConnectionClosedError(endpoint_url=request.url)
        response = botocore_stubber(event_name=event_name, request=request, **kwargs)
        if response is not None and response.status_code == 200:
            self.committed += 1
        if fault == "lost":
            raise ReadTimeoutError(endpoint_url=request.url)
        if fault == "lost_late":
            self._lose_answer = True
        return response

    def _after_call(self, **kwargs):
        if self._lose_answer:
            self._lose_answer = False
            raise ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")


@pytest.fixture
def faults(monkeypatch):
    # botocore's own backoff sleeps up to seconds between its retries; the
    # retries still happen, without the wait. The ledger's backoff is real.
    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=lambda s: None))
    injector = Faults()
    injector.install()
    try:
        yield injector
    finally:
        injector.uninstall()


# Helpers ----------------------------------------------------------------------

def transfer_count() -> int:
    return sum(1 for _ in TransferItem.scan(TransferItem.sk == "TR"))


def entries_of(transfer_id: str) -> list:
    return list(EntryItem.scan(EntryItem.transfer_id == transfer_id))


def assert_sums_to_zero():
    """The cheap half of reconciliation (one scan), for use inside loops."""
    report = reconcile.reconcile(check_entries=False)
    assert report["balanced"] and report["total"] == 0, report


def assert_books_balance():
    """Full reconciliation: every balance equals its entries, and all sum to zero."""
    report = reconcile.reconcile()
    assert report["balanced"] and report["total"] == 0, report


def assert_one_transfer_two_entries(transfer_id: str, amount: int):
    assert TransferItem.find(transfer_id) is not None
    assert sorted(int(e.amount) for e in entries_of(transfer_id)) == [-amount, amount]


@pytest.fixture
def people(api):
    """alice (with $1,000.00) and bob, verified."""
    api.verified("alice")
    api.verified("bob")
    api.deposit("alice", 100_000)
    return api


def send(api, key, amount=2_500, to="bob"):
    return api.money("POST", "/v1/transfers", {"to": to, "amount": amount, "currency": "USD", "note": "lunch"},
                     "alice", key)


def balances(api, *handles):
    return tuple(api.wallet(h)["balance"] for h in handles)


ONE_OFF_FAULTS = [
    ["throttle"],
    ["throttle", "throttle", "throttle"],
    ["conflict"],
    ["server_error"],
    ["dropped"],
    ["lost"],
    ["lost_late"],
    ["lost", "throttle", "conflict"],
    ["conflict", "lost_late", "throttle"],
    ["throttle"] * 4 + ["conflict"] * 2,  # past botocore's own retries: the ledger's loop carries on
]


# P2P over the API ------------------------------------------------------------------

def test_alice_pays_bob_exactly_once_whatever_the_network_does(people, faults):
    api = people
    alice, bob = 100_000, 0
    transfers = transfer_count()
    for i, script in enumerate(ONE_OFF_FAULTS):
        faults.script, committed = list(script), faults.committed
        r = send(api, f"k-lunch-{i}")
        assert r.status_code == 201, (script, r.body)
        assert r.headers.get("Idempotent-Replayed") is None, script  # the first answer to this request
        assert faults.script == [] and faults.committed == committed + 1, script
        transfer = r.json_body
        assert (transfer["amount"], transfer["from"], transfer["to"]) == (2_500, "alice", "bob")
        alice, bob, transfers = alice - 2_500, bob + 2_500, transfers + 1
        assert balances(api, "alice", "bob") == (alice, bob), script
        assert transfer_count() == transfers, script
        assert_one_transfer_two_entries(transfer["id"], 2_500)

        # Alice's app retries anyway: the first answer again, marked as a replay; nothing moves.
        again = send(api, f"k-lunch-{i}")
        assert again.status_code == 201 and again.json_body == transfer, script
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert faults.committed == committed + 1
        assert balances(api, "alice", "bob") == (alice, bob), script
        assert_sums_to_zero()
    assert transfer_count() == transfers
    assert_books_balance()


@pytest.mark.parametrize("fault", ["throttle", "conflict", "server_error", "dropped"])
def test_a_persistent_failure_is_503_and_writes_nothing(people, faults, fault):
    api = people
    transfers = transfer_count()
    faults.always = fault
    r = send(api, "k-busy")
    assert r.status_code == 503, r.body
    assert r.json_body["error"]["code"] == "unavailable"
    assert r.headers.get("Retry-After")
    assert faults.committed == 0 and faults.sends >= ledger.ATTEMPTS_MAX
    faults.always = None
    assert transfer_count() == transfers
    assert balances(api, "alice", "bob") == (100_000, 0)
    # A refused request stores nothing: the same key goes through once the storm passes.
    r = send(api, "k-busy")
    assert r.status_code == 201 and r.headers.get("Idempotent-Replayed") is None
    assert balances(api, "alice", "bob") == (97_500, 2_500)
    assert_one_transfer_two_entries(r.json_body["id"], 2_500)
    assert transfer_count() == transfers + 1
    assert_books_balance()


def test_answers_lost_every_time_503_then_the_retry_finds_the_one_transfer(people, faults):
    """The write committed but no answer ever came back: the caller is told
    to retry with its key (503), and that retry reports the one transfer."""
    api = people
    transfers = transfer_count()
    faults.always = "lost"
    r = send(api, "k-dark")
    assert r.status_code == 503 and r.json_body["error"]["code"] == "unavailable"
    assert faults.committed == 1  # the first send landed; every resend was refused by the transfer's condition
    faults.always = None
    r = send(api, "k-dark")
    assert r.status_code == 201 and r.headers.get("Idempotent-Replayed") == "true"
    assert balances(api, "alice", "bob") == (97_500, 2_500)
    assert transfer_count() == transfers + 1
    assert_one_transfer_two_entries(r.json_body["id"], 2_500)
    assert_books_balance()


def test_refusals_under_faults_are_still_refusals_and_move_nothing(people, faults):
    api = people
    api.verified("carol")
    api.admin("POST", "/v1/admin/users/carol/freeze", {"reason": "fraud review"})
    api.signup("dave")  # never verified
    cases = [
        (dict(amount=100_001), 422, "insufficient_funds"),
        (dict(amount=1_000_001), 422, "limit_exceeded"),
        (dict(to="carol"), 422, "not_eligible"),
        (dict(to="dave"), 422, "not_eligible"),
    ]
    committed = faults.committed
    for script in (["lost"], ["lost_late"], ["conflict"], ["throttle"], ["dropped"]):
        for i, (args, status, code) in enumerate(cases):
            faults.script = list(script)
            r = send(api, f"k-no-{script[0]}-{i}", **args)
            assert (r.status_code, r.json_body["error"]["code"]) == (status, code), (script, args)
    assert faults.committed == committed
    assert balances(api, "alice", "bob") == (100_000, 0)
    assert_books_balance()


def test_a_lost_answer_does_not_count_twice_against_the_daily_limit(people, faults):
    """The day's sent total rides in the transfer's transaction: a resend
    after a lost answer is refused as a whole, so the limit counts once."""
    api = people
    api.deposit("alice", 2_000_000)
    faults.script = ["lost", "lost_late"]
    assert send(api, "k-big", amount=600_000).status_code == 201
    faults.script = ["lost_late"]
    r = send(api, "k-big-2", amount=400_000)  # 600k + 400k = exactly the $10,000 day
    assert r.status_code == 201, r.body
    r = send(api, "k-big-3", amount=1)
    assert r.status_code == 422 and r.json_body["error"]["code"] == "limit_exceeded"
    assert balances(api, "alice", "bob") == (1_100_000, 1_000_000)
    assert_books_balance()


def test_deposits_and_withdrawals_survive_lost_answers(people, faults):
    api = people
    faults.script = ["lost"]
    r = api.money("POST", "/v1/wallet/deposits", {"amount": 5_000, "currency": "USD"}, "alice", "dep-1")
    assert r.status_code == 201 and faults.committed == 1
    faults.script = ["lost_late", "conflict"]
    r2 = api.money("POST", "/v1/wallet/withdrawals", {"amount": 1_000, "currency": "USD"}, "alice", "wd-1")
    assert r2.status_code == 201 and faults.committed == 2
    assert balances(api, "alice") == (104_000,)
    assert_one_transfer_two_entries(r.json_body["id"], 5_000)
    assert_one_transfer_two_entries(r2.json_body["id"], 1_000)
    assert_books_balance()


# Holds, at the service layer (card authorizations will call these) -----------------

def _party(api, handle):
    account = api.wallet(handle)
    return ledger.Party(account["id"], display=handle, user_id="usr_" + account["id"].removeprefix("acct_"),
                        inactive_refusal=errors.AccountFrozen)


def _merchant():
    from chalicelib.finance.transfers import system_party
    return system_party("card_settlement")


def _expiry():
    return clock.now() + timedelta(days=7)


def _wallet(api, handle="alice"):
    w = api.wallet(handle)
    return w["balance"], w["held"], w["spendable"]


HOLD_FAULTS = [["throttle"], ["conflict"], ["server_error"], ["dropped"], ["lost"], ["lost_late"],
               ["lost", "conflict", "throttle"], ["throttle"] * 4 + ["lost_late"]]


def test_holds_are_placed_exactly_once(people, faults):
    alice = _party(people, "alice")
    held_total = 0
    for i, script in enumerate(HOLD_FAULTS):
        faults.script, committed = list(script), faults.committed
        held = ledger.hold(f"hold_p{i}", alice, Money(3_000), _expiry(), "coffee shop")
        assert (held.id, held.status, int(held.amount)) == (f"hold_p{i}", "pending", 3_000), script
        assert faults.committed == committed + 1 and faults.script == [], script
        held_total += 3_000
        assert _wallet(people) == (100_000, held_total, 100_000 - held_total), script
        # The authorization is retried: the same hold, nothing more set aside.
        assert ledger.hold(f"hold_p{i}", alice, Money(3_000), _expiry(), "coffee shop").id == f"hold_p{i}"
        assert _wallet(people) == (100_000, held_total, 100_000 - held_total), script
    assert_books_balance()


def test_holds_are_posted_exactly_once(people, faults):
    alice = _party(people, "alice")
    balance = 100_000
    for i, script in enumerate(HOLD_FAULTS):
        ledger.hold(f"hold_c{i}", alice, Money(3_000), _expiry(), "coffee shop")
        faults.script, committed = list(script), faults.committed
        posted = ledger.post_hold(f"hold_c{i}", 2_400, _merchant(), f"tr_clearing_{i}", "card", f"clearing-{i}")
        assert posted.replayed is False, script
        assert (posted.transfer.id, int(posted.transfer.amount)) == (f"tr_clearing_{i}", 2_400)
        assert faults.committed == committed + 1 and faults.script == [], script
        balance -= 2_400
        assert _wallet(people) == (balance, 0, balance), script
        assert HoldItem.find(f"hold_c{i}").status == "posted"
        assert_one_transfer_two_entries(f"tr_clearing_{i}", 2_400)
        # The network sends the clearing again: the same transfer, nothing moves.
        again = ledger.post_hold(f"hold_c{i}", 2_400, _merchant(), f"tr_clearing_{i}", "card", f"clearing-{i}")
        assert again.replayed is True and again.transfer.id == f"tr_clearing_{i}"
        assert _wallet(people) == (balance, 0, balance), script
        assert_sums_to_zero()
    assert_books_balance()


def test_holds_are_voided_exactly_once(people, faults):
    alice = _party(people, "alice")
    for i, script in enumerate(HOLD_FAULTS):
        ledger.hold(f"hold_v{i}", alice, Money(3_000), _expiry(), "coffee shop")
        faults.script, committed = list(script), faults.committed
        voided = ledger.void_hold(f"hold_v{i}")
        assert voided.status == "voided", script
        assert faults.committed == committed + 1 and faults.script == [], script
        assert _wallet(people) == (100_000, 0, 100_000), script
        assert HoldItem.find(f"hold_v{i}").status == "voided"
        # Voiding it again is another request: the hold is no longer pending.
        with pytest.raises(errors.InvalidState):
            ledger.void_hold(f"hold_v{i}")
        assert _wallet(people) == (100_000, 0, 100_000), script
    assert_books_balance()


def test_hold_operations_under_a_persistent_failure_are_unavailable_and_write_nothing(people, faults):
    alice = _party(people, "alice")
    for fault in ("throttle", "conflict"):
        for op in ("hold", "post", "void"):
            hold_id, transfer_id = f"hold_{fault}_{op}", f"tr_{fault}_{op}"
            if op != "hold":
                ledger.hold(hold_id, alice, Money(3_000), _expiry(), "coffee shop")
            faults.always, committed = fault, faults.committed
            with pytest.raises(errors.Unavailable):
                if op == "hold":
                    ledger.hold(hold_id, alice, Money(3_000), _expiry(), "coffee shop")
                elif op == "post":
                    ledger.post_hold(hold_id, 3_000, _merchant(), transfer_id, "card", transfer_id)
                else:
                    ledger.void_hold(hold_id)
            faults.always = None
            assert faults.committed == committed, (fault, op)
            hold = HoldItem.find(hold_id)
            assert (hold is None) if op == "hold" else (hold.status == "pending"), (fault, op)
            assert TransferItem.find(transfer_id) is None and entries_of(transfer_id) == []
            if op != "hold":
                ledger.void_hold(hold_id)  # once the storm passes, it works
            assert _wallet(people) == (100_000, 0, 100_000), (fault, op)
    assert_books_balance()


def test_credit_limit_changes_survive_lost_answers(people, faults):
    alice = _party(people, "alice")
    faults.script = ["lost"]
    account = ledger.set_credit_limit(alice.account_id, 50_000)
    assert (int(account.credit_limit), int(account.spendable)) == (50_000, 150_000)
    faults.script = ["lost_late", "conflict"]
    account = ledger.set_credit_limit(alice.account_id, 20_000)
    assert (int(account.credit_limit), int(account.spendable)) == (20_000, 120_000)
    assert faults.script == []
    assert_books_balance()
