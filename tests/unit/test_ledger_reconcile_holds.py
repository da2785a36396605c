"""An account's pending holds, listed; and reconcile proving that `held` is
exactly their sum (debit and credit holds alike) — and saying so, once,
when it is not."""
import dataclasses
import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import clock, jobs
from chalicelib.config import settings
from chalicelib.db.balances import AccountItem, HoldItem, account_holds_index_keys, hold_key
from chalicelib.finance import ledger, reconcile
from chalicelib.finance.money import Money
from chalicelib.finance.transfers import system_party
from tests.unit.conftest import module_stack
from tests.unit.moneykit import assert_frozen

# Saturday 14 November 2026, evening.
NOW = datetime(2026, 11, 14, 19, 0, tzinfo=timezone.utc)


def _people(api):
    for handle in ("alice", "bob", "carol"):
        api.verified(handle)
    api.deposit("alice", 50_000)
    return None


stack, aws = module_stack(_people)


@pytest.fixture
def bank(api, stack, monkeypatch):
    """Reconcile over four segments, so holds and their accounts fall in different ones."""
    api.tokens.update(stack[1])
    clock.pin(NOW)
    monkeypatch.setattr(reconcile, "settings", lambda: dataclasses.replace(settings(), job_segments=4))
    return api


def party(api, handle):
    account_id = api.wallet(handle)["id"]
    return ledger.Party(account_id, display=handle, user_id="usr_" + account_id.removeprefix("acct_"))


def holds_of_both_kinds(api):
    alice, bob = party(api, "alice"), party(api, "bob")
    week = clock.now() + timedelta(days=7)
    ledger.hold("hold_a1", alice, Money(3_000), week, "Cinema")
    ledger.hold("hold_a2", alice, Money(2_000), week, "Taxi")
    ledger.increment_hold("hold_a2", "evt_a2_tip", Money(400))
    ledger.capture_hold("hold_a1", 1_000, system_party("card_settlement"), "tr_a1_part", "card", "a1",
                        final=False)
    ledger.transfer(ledger.Movement(
        transfer_id="tr_bob_check", kind="check", debit=system_party("check_clearing"), credit=bob,
        money=Money(9_000), request_hash="bob-check",
        credit_holds=(ledger.CreditHold("hold_b1", Money(9_000), clock.now() + timedelta(days=2)),)))
    return alice, bob


def mismatches(report):
    return sorted((m["account_id"], m["problem"]) for m in report["mismatches"])


def test_pending_holds_lists_both_kinds_and_forgets_the_finished(bank):
    alice, bob = holds_of_both_kinds(bank)
    assert [(h.id, h.kind, h.holding) for h in ledger.pending_holds(alice.account_id)] == [
        ("hold_a1", "debit", 2_000), ("hold_a2", "debit", 2_400)]
    assert [(h.id, h.kind, h.holding) for h in ledger.pending_holds(bob.account_id, consistent=True)] == [
        ("hold_b1", "credit", 9_000)]
    ledger.void_hold("hold_a1")
    ledger.release_credit_hold("hold_b1", "rel-b1")
    assert [h.id for h in ledger.pending_holds(alice.account_id)] == ["hold_a2"]
    assert ledger.pending_holds(bob.account_id) == []
    assert ledger.pending_holds(party(bank, "carol").account_id) == []


def test_reconcile_proves_held_is_the_sum_of_pending_holds(bank):
    holds_of_both_kinds(bank)
    report = reconcile.reconcile()
    assert report["balanced"] is True and report["mismatch_count"] == 0, report
    r = bank.admin("POST", "/v1/admin/jobs/reconcile", {})
    assert r.status_code == 200 and r.json_body["balanced"] is True and r.json_body["mismatch_count"] == 0


def _tamper(account_id, held=0, held_credit=0):
    """Change `held` behind the ledger's back (spendable kept in step, so only the holds can tell)."""
    AccountItem.ref(account_id).update(actions=[
        AccountItem.held.set(AccountItem.held + held), AccountItem.spendable.set(AccountItem.spendable - held),
        AccountItem.held_credit.set(AccountItem.held_credit + held_credit)])


def test_held_that_no_hold_explains_is_a_mismatch(bank):
    alice, bob = holds_of_both_kinds(bank)
    _tamper(alice.account_id, held=100)
    _tamper(bob.account_id, held_credit=-9_000)  # the credit hold no longer counted as credit
    report = reconcile.reconcile()
    assert report["balanced"] is False
    assert mismatches(report) == sorted([(alice.account_id, "held"), (bob.account_id, "held_credit")])
    held = next(m for m in report["mismatches"] if m["problem"] == "held")
    assert (held["held"], held["pending_holds_sum"]) == (4_500, 4_400)


def test_a_pending_hold_on_an_account_that_holds_nothing_is_found_once(bank):
    carol = party(bank, "carol")
    for i in range(6):  # holds spread over segments other than carol's, and hers
        item = HoldItem(*hold_key(f"hold_ghost_{i}"), id=f"hold_ghost_{i}", kind="debit", account_id=carol.account_id,
                        amount=100, held_amount=100, currency="USD", status="pending",
                        created_at=clock.iso(clock.now()), expires_at_iso=clock.iso(clock.now() + timedelta(days=7)))
        item.gsi2_pk, item.gsi2_sk = account_holds_index_keys(carol.account_id, item.created_at, item.id)
        item.save()
    report = reconcile.reconcile()
    assert mismatches(report) == [(carol.account_id, "held")], report
    assert report["mismatches"][0]["pending_holds_sum"] == 600


def test_a_hold_changed_behind_the_ledgers_back_is_a_mismatch(bank):
    alice, _ = holds_of_both_kinds(bank)
    HoldItem(*hold_key("hold_a2")).update(actions=[HoldItem.held_amount.set(2_000)])
    report = reconcile.reconcile()
    assert mismatches(report) == [(alice.account_id, "held")]
    # Put right by the ledger's own means? No: a correction is the operator's; here, put it back.
    HoldItem(*hold_key("hold_a2")).update(actions=[HoldItem.held_amount.set(2_400)])
    assert reconcile.reconcile()["mismatch_count"] == 0


def test_the_ledger_check_is_a_frozen_record_with_its_mismatches_that_is_what_the_route_sends(bank):
    alice, _ = holds_of_both_kinds(bank)
    _tamper(alice.account_id, held=100)
    check = jobs.ledger_check()
    assert check.balanced is False and check.mismatch_count == 1 and check.job == "reconcile"
    assert [(m.account_id, m.problem, m.held, m.pending_holds_sum) for m in check.mismatches] == [
        (alice.account_id, "held", 4_500, 4_400)]
    assert_frozen(check, "balanced", True)
    assert_frozen(check.mismatches[0], "held", 4_400)
    r = bank.admin("GET", "/v1/admin/ledger/check")
    assert r.status_code == 200 and r.json_body == check.as_json(), r.body
    # On AWS the answer is the latest run's summary read back from its JSON: unchanged by the record.
    stored = json.loads(json.dumps({**jobs.run("reconcile").as_json(), "run_id": "run_1",
                                    "finished_at": clock.iso(clock.real_now())}))
    assert reconcile.ledger_check(stored).as_json() == stored
