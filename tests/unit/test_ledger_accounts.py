"""Ledger accounts that are nobody's wallet (a loan's receivable) and the
system accounts cards and loans need (`rewards`, `loan_losses`): a loan's
life is ordinary balanced movements; its account accrues no interest, is
never a wallet, and goes negative freely."""
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import clock, errors, jobs
from chalicelib.config import settings
from chalicelib.db.balances import AccountItem
from chalicelib.finance import accounts, ledger, reconcile
from chalicelib.finance.money import Money
from chalicelib.finance.transfers import system_party
from tests.unit.conftest import module_stack

# Thursday 1 October 2026: alice borrows $1,000.00 over three months.
DISBURSED = datetime(2026, 10, 1, 14, 0, tzinfo=timezone.utc)


def _people(api):
    api.verified("alice")
    return None


stack, aws = module_stack(_people)


@pytest.fixture
def alice(api, stack):
    api.tokens.update(stack[1])
    clock.pin(DISBURSED)
    yield api
    report = reconcile.reconcile()
    assert report["balanced"] and report["total"] == 0, report


def me(api):
    account_id = api.wallet("alice")["id"]
    return ledger.Party(account_id, display="alice", user_id="usr_" + account_id.removeprefix("acct_"))


def loan_account(loan_id="loan_1"):
    account_id = accounts.ledger_account_id("receivable", loan_id)
    accounts.open_ledger_account(account_id, "receivable", loan_id)
    return ledger.Party(account_id, display=loan_id, customer=False)


def balance_of(account_id):
    return int(AccountItem.find(account_id).balance)


def test_the_new_system_accounts_exist_sharded_like_the_others(alice):
    for name in ("rewards", "loan_losses", "check_clearing", "card_settlement", "loans_receivable"):
        shards = [AccountItem.find(accounts.system_shard_id(name, i)) for i in range(settings().system_account_shards)]
        assert all(s is not None and s.kind == "system" and s.system_name == name for s in shards), name
    assert accounts.ensure_system_accounts() == 0  # a rerun creates nothing


def test_cashback_comes_from_rewards(alice):
    alice.deposit("alice", 10_000)
    shop = ledger.Party(system_party("card_settlement").account_id, "Corner Shop", customer=False)
    ledger.transfer(ledger.Movement(
        transfer_id="tr_cb", kind="card", debit=me(alice), credit=shop, money=Money(5_000), request_hash="cb",
        legs=(ledger.Leg(system_party("rewards"), Money(-50), kind="cashback"),
              ledger.Leg(me(alice), Money(50), kind="cashback", counterparty="rewards"))))
    assert reconcile.reconcile()["system_accounts"]["rewards"] == -50
    assert alice.wallet("alice")["balance"] == 5_050


def test_a_loan_is_an_account_of_its_own_through_its_whole_life(alice):
    loan = loan_account()
    assert accounts.open_ledger_account(loan.account_id, "receivable", "loan_1").kind == "receivable"  # idempotent
    # Disbursement: the receivable goes negative; alice's wallet grows, not her money in.
    ledger.transfer(ledger.Movement(transfer_id="tr_disburse", kind="loan_disbursement", debit=loan,
                                    credit=me(alice), money=Money(100_000), request_hash="disburse"))
    assert balance_of(loan.account_id) == -100_000
    assert alice.wallet("alice")["balance"] == 100_000
    assert int(AccountItem.find(me(alice).account_id).inflow.as_dict().get("m202610", 0)) == 0
    # A payment, split: a late fee, interest, principal.
    clock.pin(DISBURSED + timedelta(days=40))
    ledger.transfer(ledger.Movement(
        transfer_id="tr_pay_1", kind="loan_payment", request_hash="pay-1",
        legs=(ledger.Leg(me(alice), Money(-35_000), counterparty="loan_1"),
              ledger.Leg(system_party("fees"), Money(1_500), kind="fee"),
              ledger.Leg(system_party("interest_income"), Money(800), kind="interest"),
              ledger.Leg(loan, Money(32_700), kind="principal"))))
    assert balance_of(loan.account_id) == -100_000 + 32_700
    # Charge-off of what is left: loan_losses takes it, the loan's account is settled.
    ledger.transfer(ledger.Movement(transfer_id="tr_charge_off", kind="fee", debit=system_party("loan_losses"),
                                    credit=loan, money=Money(67_300), request_hash="charge-off"))
    assert balance_of(loan.account_id) == 0
    assert reconcile.reconcile()["system_accounts"]["loan_losses"] == -67_300


def test_a_loan_account_accrues_nothing_and_is_no_ones_wallet(alice):
    loan = loan_account("loan_2")
    ledger.transfer(ledger.Movement(transfer_id="tr_disburse_2", kind="loan_disbursement", debit=loan,
                                    credit=me(alice), money=Money(50_000), request_hash="disburse-2"))
    listed = {a.id for a in AccountItem.listed.scan()}
    assert loan.account_id not in listed and me(alice).account_id in listed
    clock.pin(DISBURSED + timedelta(days=10))
    summary = jobs.run("accrue-interest", (DISBURSED + timedelta(days=9)).date())
    assert summary.changed >= 1
    item = AccountItem.find(loan.account_id)
    assert int(item.accrued_interest_micros) == 0 and item.accrued_through is None
    assert not [k for k in item.opens.as_dict() if k[0] in "dh"]  # no daily openings kept: nobody's interest
    with pytest.raises(errors.VerificationRequired):
        accounts.require_account(loan.account_id)
    with pytest.raises(ValueError):
        accounts.open_ledger_account("acct_x", "customer", "x")
    with pytest.raises(errors.InvalidState):  # an id taken by a person's wallet
        accounts.open_ledger_account(me(alice).account_id, "receivable", "loan_3")
