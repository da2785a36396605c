"""Presentment by the clearing network: every positive-pay outcome in
API.md's order, the NSF fee, stale dates, replays and racing presentments."""
import dataclasses
from datetime import timedelta

import pytest

from chalicelib import clock
from chalicelib.config import settings
from chalicelib.db.balances import AccountItem
from chalicelib.finance import checks, reconcile
from tests.conftest import TEST_NOW
from tests.unit.checks_world import OTHER_BANK, account_of, present, presentment, race, write  # noqa: F401


@pytest.fixture
def bank(api):
    api.verified("alice")
    api.deposit("alice", 10_000)
    yield api
    report = reconcile.reconcile()
    assert report["balanced"] and report["total"] == 0, report


def check_of(api, amount=2500, **kw):
    r = write(api, "alice", amount, **kw)
    assert r.status_code == 201, r.body
    return r.json_body


def decide(api, body):
    r = present(api, body)
    assert r.status_code == 200, r.body
    return r.json_body["decision"], r.json_body["return_reason"]


def test_a_good_check_is_paid_to_check_clearing_once(bank):
    check = check_of(bank)
    r = present(bank, presentment(check, event_id="evt-1", payee="bob's bakery"))
    assert r.status_code == 200
    assert r.json_body == {"decision": "paid", "return_reason": None, "check_id": check["id"]}
    assert bank.wallet("alice")["balance"] == 7500
    got = bank.call("GET", f"/v1/checks/{check['id']}", as_="alice").json_body
    assert got["status"] == "paid" and got["paid_at"]
    again = present(bank, presentment(check, event_id="evt-1", payee="bob's bakery"))
    assert (again.status_code, again.json_body) == (200, r.json_body)  # the event's first answer
    assert bank.wallet("alice")["balance"] == 7500
    entries = bank.call("GET", "/v1/wallet/transactions", as_="alice").json_body["data"]
    assert entries[0]["kind"] == "check" and entries[0]["amount"] == -2500
    assert entries[0]["counterparty"] == "check_clearing"


def test_leading_zeros_on_the_presented_account_number_pay_the_same_check_once(bank):
    check = check_of(bank)
    padded = "00" + check["micr"]["account"]
    assert decide(bank, presentment(check, account=padded)) == ("paid", None)
    assert bank.wallet("alice")["balance"] == 7500
    assert decide(bank, presentment(check)) == ("returned", "duplicate_presentment")
    assert bank.wallet("alice")["balance"] == 7500


def test_every_outcome_in_order(bank):
    """Each case breaks one rule and every rule after it: the first broken is the answer."""
    check = check_of(bank)
    expensive = check_of(bank, amount=20_000)
    stopped = check_of(bank, amount=20_000)
    bank.call("POST", f"/v1/checks/{stopped['id']}/stop", as_="alice")
    assert decide(bank, presentment(check, routing=OTHER_BANK)) == ("returned", "no_account")
    assert decide(bank, presentment(check, account="99999999999")) == ("returned", "no_account")
    assert decide(bank, presentment(check, serial="7777", amount=1)) == ("returned", "altered_or_fictitious")
    assert decide(bank, presentment(stopped, amount=1, payee="x")) == ("returned", "stop_payment")
    assert decide(bank, presentment(check, amount=2501)) == ("returned", "altered_or_fictitious")
    assert decide(bank, presentment(check, payee="Mallory")) == ("returned", "altered_or_fictitious")
    assert decide(bank, presentment(expensive)) == ("returned", "not_sufficient_funds")
    assert decide(bank, presentment(check)) == ("paid", None)
    assert decide(bank, presentment(check, amount=1)) == ("returned", "duplicate_presentment")
    clock.pin(TEST_NOW + timedelta(days=200))
    assert decide(bank, presentment(expensive, amount=1)) == ("returned", "altered_or_fictitious")
    assert decide(bank, presentment(expensive)) == ("returned", "stale_dated")
    assert bank.wallet("alice")["balance"] == 7500


def test_a_closed_or_frozen_account_comes_before_the_check(bank):
    check = check_of(bank)
    good = check_of(bank)
    bank.call("POST", f"/v1/checks/{check['id']}/stop", as_="alice")
    r = bank.admin("POST", "/v1/admin/users/alice/freeze", {"reason": "fraud"})
    assert r.status_code == 200, r.body
    assert decide(bank, presentment(check)) == ("returned", "account_closed")
    assert decide(bank, presentment(good, serial="9999")) == ("returned", "account_closed")
    assert decide(bank, presentment(good)) == ("returned", "account_closed")
    assert int(account_of(bank, "alice").balance) == 10_000


def test_a_closed_account_pays_nothing_even_when_the_check_is_good(bank):
    check = check_of(bank)
    account = account_of(bank, "alice")
    AccountItem(account.pk, account.sk).update(actions=[AccountItem.status.set("closed")])
    assert decide(bank, presentment(check)) == ("returned", "account_closed")
    assert bank.wallet("alice")["balance"] == 10_000


def test_stale_from_day_181(bank):
    check = check_of(bank)
    clock.pin(TEST_NOW + timedelta(days=180))
    assert checks.is_stale(check["issued_at"], clock.now()) is False
    stale_check = check_of(bank)  # written on day 180 of the first: fresh
    clock.pin(TEST_NOW + timedelta(days=181))
    assert checks.is_stale(check["issued_at"], clock.now()) is True
    assert decide(bank, presentment(check)) == ("returned", "stale_dated")
    assert decide(bank, presentment(stale_check)) == ("paid", None)


def test_day_180_still_pays(bank):
    check = check_of(bank)
    clock.pin(TEST_NOW.replace(hour=23, minute=59) + timedelta(days=180))
    assert decide(bank, presentment(check)) == ("paid", None)


def test_nsf_without_a_fee_returns_the_check_and_a_later_presentment_pays_it(bank):
    check = check_of(bank, amount=15_000)
    assert decide(bank, presentment(check)) == ("returned", "not_sufficient_funds")
    assert bank.call("GET", f"/v1/checks/{check['id']}", as_="alice").json_body["status"] == "returned"
    assert bank.wallet("alice")["balance"] == 10_000
    bank.deposit("alice", 10_000)
    assert decide(bank, presentment(check)) == ("paid", None)
    assert bank.wallet("alice")["balance"] == 5_000


def test_nsf_fee_is_charged_forced_once(bank, monkeypatch):
    monkeypatch.setattr(checks, "settings", lambda: dataclasses.replace(settings(), nsf_fee_cents=3_500))
    bank.call("POST", "/v1/wallet/withdrawals", {"amount": 9_000, "currency": "USD"}, as_="alice",
              headers={"Idempotency-Key": "w1"})
    check = check_of(bank, amount=5_000)
    body = presentment(check, event_id="nsf-1")
    assert decide(bank, body) == ("returned", "not_sufficient_funds")
    assert decide(bank, body) == ("returned", "not_sufficient_funds")  # the event's replay: no second fee
    wallet = bank.wallet("alice")
    assert wallet["balance"] == 1_000 - 3_500
    fee = bank.call("GET", "/v1/wallet/transactions", as_="alice").json_body["data"][0]
    assert (fee["kind"], fee["amount"], fee["counterparty"]) == ("fee", -3_500, "fees")


def test_credit_line_counts_as_funds(bank):
    account = account_of(bank, "alice")
    from chalicelib.finance import ledger
    ledger.set_credit_limit(account.id, 5_000)
    assert decide(bank, presentment(check_of(bank, amount=14_000))) == ("paid", None)
    assert bank.wallet("alice")["balance"] == -4_000


def test_two_presentments_racing_pay_once(bank, one_request_at_a_time):
    check = check_of(bank, amount=3_000)
    answers = race(*(lambda i=i: decide(bank, presentment(check, event_id=f"race-{i}")) for i in range(3)))
    assert sorted(answers) == [("paid", None)] + [("returned", "duplicate_presentment")] * 2
    assert bank.wallet("alice")["balance"] == 7_000


def test_the_same_event_racing_itself_has_one_effect(bank, one_request_at_a_time):
    check = check_of(bank, amount=3_000)
    body = presentment(check, event_id="same")
    assert race(*(lambda: decide(bank, body) for _ in range(3))) == [("paid", None)] * 3
    assert bank.wallet("alice")["balance"] == 7_000


def test_network_calls_need_the_signature_and_a_sound_body(bank):
    check = check_of(bank)
    body = presentment(check)
    r = bank.network("check", "/v1/network/check-presentments", body, secret="wrong")
    assert r.status_code == 401 and r.json_body["error"]["code"] == "invalid_signature"
    r = bank.network("card", "/v1/network/check-presentments", body)  # the card network's secret
    assert r.status_code == 401
    for bad in ({**body, "amount": 0}, {**body, "amount": 1.5}, {**body, "serial": "12a"}, {**body, "id": ""},
                {**body, "id": "x" * 65}, {**body, "routing": "12"}, {k: v for k, v in body.items() if k != "id"}):
        r = present(bank, bad)
        assert r.status_code == 400, (bad, r.body)
    r = present(bank, {**body, "currency": "EUR"})
    assert r.json_body["error"]["code"] == "unsupported_currency"
    assert decide(bank, body) == ("paid", None)
    r = present(bank, {**body, "payee": "x"})  # the same event id with another body
    assert r.status_code == 409 and r.json_body["error"]["code"] == "idempotency_key_reused"


def test_a_presentment_answers_a_frozen_record_whose_json_the_network_gets_again(bank):
    from pydantic import ValidationError

    from chalicelib.finance.money import Money
    from chalicelib.records.checks import CheckPresentmentDecision
    check = check_of(bank)
    # As the route hands the call to the service: its parsed body, every field named.
    for body, decision, reason in ((presentment(check, payee=None), "paid", None),
                                   (presentment(check, payee=None), "returned", "duplicate_presentment")):
        presented = checks.Presentment(body["routing"], body["account"], body["serial"], Money(body["amount"], "USD"))
        status, answer = checks.present(body, presented)
        assert status == 200 and type(answer) is CheckPresentmentDecision
        assert answer.as_json() == {"decision": decision, "return_reason": reason, "check_id": check["id"]}
        with pytest.raises(ValidationError):
            answer.decision = "returned"
        replayed = present(bank, body)
        assert replayed.status_code == 200 and replayed.json_body == answer.as_json()
