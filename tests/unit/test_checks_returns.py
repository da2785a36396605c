"""Returns of deposited checks by the clearing network: the held part back
first, the rest forced (the balance may go below zero), the fee, once."""
import dataclasses
from datetime import timedelta

import pytest

from chalicelib import clock
from chalicelib.config import settings
from chalicelib.db.balances import TransferItem
from chalicelib.finance import check_deposits, ledger, reconcile
from tests.conftest import TEST_NOW
from tests.unit.checks_world import account_of, deposit, deposit_body, people, return_deposit


@pytest.fixture
def bank(api):
    people(api, "alice", "bob")
    yield api
    report = reconcile.reconcile()
    assert report["balanced"] and report["total"] == 0, report
    assert report.get("mismatch_count", 0) == 0, report


@pytest.fixture
def fee(monkeypatch):
    monkeypatch.setattr(check_deposits, "settings", lambda: dataclasses.replace(settings(), return_fee_cents=1_500))
    return 1_500


def release(api, as_of):
    r = api.admin("POST", "/v1/admin/jobs/release-deposit-holds", {"as_of": as_of})
    assert r.status_code == 200, r.body


def test_a_return_of_held_money_takes_it_back_unforced(bank):
    d = deposit(bank, "alice", deposit_body(50_000)).json_body
    r = return_deposit(bank, d["id"], "altered_or_fictitious", event_id="ret-1")
    assert r.status_code == 200, r.body
    assert r.json_body["status"] == "returned" and r.json_body["return_reason"] == "altered_or_fictitious"
    w = bank.wallet("alice")
    assert (w["balance"], w["held"], w["spendable"]) == (0, 0, 0)
    assert bank.call("GET", f"/v1/check-deposits/{d['id']}", as_="alice").json_body["status"] == "returned"
    transfer = TransferItem.find(check_deposits.DepositItem.find(d["id"]).return_transfer_id)
    assert transfer.forced is False
    # The same event again: the first answer; another event: 409.
    again = return_deposit(bank, d["id"], "altered_or_fictitious", event_id="ret-1")
    assert (again.status_code, again.json_body) == (200, r.json_body)
    twice = return_deposit(bank, d["id"], "altered_or_fictitious")
    assert twice.status_code == 409 and twice.json_body["error"]["code"] == "invalid_state"
    assert bank.wallet("alice")["balance"] == 0
    clock.pin(TEST_NOW + timedelta(days=10))
    release(bank, "2026-03-19")  # its holds were returned: nothing to release
    assert bank.wallet("alice")["balance"] == 0


def test_a_return_after_the_money_was_spent_goes_negative_by_the_spent_part_and_fee(bank, fee):
    d = deposit(bank, "alice", deposit_body(50_000)).json_body
    clock.pin(TEST_NOW + timedelta(days=2))
    release(bank, "2026-03-12")
    r = bank.money("POST", "/v1/transfers", {"to": "bob", "amount": 40_000, "currency": "USD"}, "alice", "spend")
    assert r.status_code == 201, r.body
    r = return_deposit(bank, d["id"], "not_sufficient_funds")
    assert r.status_code == 200, r.body
    w = bank.wallet("alice")
    assert (w["balance"], w["held"]) == (-(40_000 + fee), 0)
    transfer = TransferItem.find(check_deposits.DepositItem.find(d["id"]).return_transfer_id)
    assert transfer.forced is True
    entries = bank.call("GET", "/v1/wallet/transactions", as_="alice").json_body["data"]
    assert sorted((e["kind"], e["amount"]) for e in entries[:2]) == [("check", -50_000), ("fee", -fee)]
    assert ledger.pending_holds(account_of(bank, "alice").id) == []


def test_a_partly_released_deposit_returns_the_held_part_first(bank):
    d = deposit(bank, "alice", deposit_body(50_000)).json_body
    clock.pin(TEST_NOW + timedelta(days=1))
    release(bank, "2026-03-11")  # $275 free, $225 still held
    assert return_deposit(bank, d["id"], "stop_payment").status_code == 200
    w = bank.wallet("alice")
    assert (w["balance"], w["held"], w["available"]) == (0, 0, 0)
    clock.pin(TEST_NOW + timedelta(days=3))
    release(bank, "2026-03-13")
    assert bank.wallet("alice")["balance"] == 0


def test_a_return_below_the_credit_line_is_forced_too(bank, fee):
    ledger.set_credit_limit(account_of(bank, "alice").id, 10_000)
    d = deposit(bank, "alice", deposit_body(50_000)).json_body
    clock.pin(TEST_NOW + timedelta(days=2))
    release(bank, "2026-03-12")
    bank.money("POST", "/v1/wallet/withdrawals", {"amount": 60_000, "currency": "USD"}, "alice", "all")
    assert return_deposit(bank, d["id"]).status_code == 200
    w = bank.wallet("alice")
    assert w["balance"] == -(60_000 + fee) and w["spendable"] == -(50_000 + fee)


def test_unknown_deposits_and_bad_bodies(bank):
    assert return_deposit(bank, "dep_nope").status_code == 404
    d = deposit(bank, "alice", deposit_body(5_000)).json_body
    r = return_deposit(bank, d["id"], reason="because")
    assert r.status_code == 400 and r.json_body["error"]["param"] == "reason"
    r = bank.network("check", "/v1/network/check-returns", {"id": "e", "deposit_id": d["id"],
                                                            "reason": "stop_payment"}, secret="nope")
    assert r.status_code == 401
    assert bank.wallet("alice")["balance"] == 5_000


def test_a_deposits_return_reason_in_its_answer_is_the_set_the_return_call_accepts():
    from chalicelib.records.checks import DepositReturnReason
    assert [r.value for r in DepositReturnReason] == list(check_deposits.RETURN_REASONS)
