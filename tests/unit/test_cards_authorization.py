"""Card authorizations (API.md, Cards): decisions in order, holds, replays."""
import json

import pytest

from tests.unit.cards_world import (AUTH, SHOP, assert_books_clean, event_id,  # noqa: F401
                                   person_with_card, run_threads)


@pytest.fixture
def net(api):
    return person_with_card(api)


def test_an_approval_holds_the_amount_at_once(net):
    before = net.api.wallet("alice")
    r = net.authorize(2_500)
    assert r.status_code == 200, r.body
    d = r.json_body
    assert d["approved"] and d["amount_approved"] == 2_500 and d["decline_reason"] is None
    assert d["authorization_id"].startswith("auth_")
    after = net.api.wallet("alice")
    assert after["balance"] == before["balance"]
    assert after["held"] == 2_500 and after["available"] == before["available"] - 2_500
    assert after["spendable"] == before["spendable"] - 2_500
    txs = net.api.call("GET", f"/v1/cards/{net.card['id']}/transactions", as_="alice").json_body["data"]
    assert [(t["status"], t["amount_held"], t["merchant"]["name"]) for t in txs] == [("pending", 2_500, "Corner Shop")]
    assert_books_clean()


def _reason(r):
    assert r.status_code == 200, r.body
    assert r.json_body["approved"] is False and r.json_body["amount_approved"] == 0
    return r.json_body["decline_reason"]


def _limits(net, **limits):
    r = net.api.call("PUT", f"/v1/cards/{net.card['id']}/limits", limits, as_="alice")
    assert r.status_code == 200, r.body


def _everything_after_wrong(net):
    """Every reason from account_frozen on would apply too."""
    _limits(net, per_transaction=100, blocked_mccs=["5411"], allowed_countries=["FR"])


def test_unknown_card_first(net):
    _everything_after_wrong(net)
    other = "4532750000000000"
    from chalicelib.finance.cards import luhn_check_digit
    other = other[:-1] + luhn_check_digit(other[:-1])
    assert _reason(net.authorize(50_000, card_number=other)) == "unknown_card"
    assert _reason(net.authorize(500, exp_year=net.card["exp_year"] + 1)) == "unknown_card"


def test_frozen_before_expired_cvc_and_money(net):
    _everything_after_wrong(net)
    net.api.call("POST", f"/v1/cards/{net.card['id']}/freeze", as_="alice")
    assert _reason(net.authorize(50_000, cvc="000" if net.card["cvc"] != "000" else "111")) == "card_frozen"


def test_closed_before_expired_and_cvc(net):
    net.api.call("DELETE", f"/v1/cards/{net.card['id']}", as_="alice")
    from chalicelib import clock
    from tests.conftest import TEST_NOW
    from datetime import timedelta
    clock.pin(TEST_NOW + timedelta(days=6 * 365))
    assert _reason(net.authorize(50_000, cvc="999" if net.card["cvc"] != "999" else "111")) == "card_closed"


def test_expired_after_the_end_of_its_month_before_cvc(net):
    from datetime import datetime, timezone
    from chalicelib import clock
    clock.pin(datetime(2030, 3, 31, 23, 59, tzinfo=timezone.utc))  # the last minute it is valid
    assert net.authorize(100).json_body["approved"]
    clock.pin(datetime(2030, 4, 1, 0, 0, tzinfo=timezone.utc))
    wrong = "999" if net.card["cvc"] != "999" else "111"
    assert _reason(net.authorize(100, cvc=wrong)) == "card_expired"


def test_invalid_cvc_before_the_account(net):
    _everything_after_wrong(net)
    assert net.api.admin("POST", "/v1/admin/users/alice/freeze", {"reason": "test"}).status_code == 200
    wrong = "999" if net.card["cvc"] != "999" else "111"
    assert _reason(net.authorize(50_000, cvc=wrong)) == "invalid_cvc"
    assert net.authorize(100, cvc=None).json_body["decline_reason"] == "account_frozen"  # no CVC: card present


def test_account_frozen_before_funds_and_rules(net):
    _everything_after_wrong(net)
    net.api.admin("POST", "/v1/admin/users/alice/freeze", {"reason": "test"})
    assert _reason(net.authorize(50_000)) == "account_frozen"
    assert _reason(net.authorize(50)) == "account_frozen"


def test_insufficient_funds_before_limits_and_rules(net):
    _everything_after_wrong(net)
    assert _reason(net.authorize(10_001)) == "insufficient_funds"
    _limits(net, per_transaction=None, blocked_mccs=[], allowed_countries=[], daily=500)
    assert _reason(net.authorize(10_001)) == "insufficient_funds"


def test_limit_exceeded_before_merchant_and_country(net):
    _everything_after_wrong(net)
    assert _reason(net.authorize(101)) == "limit_exceeded"
    _limits(net, per_transaction=None, daily=1_000)
    assert _reason(net.authorize(600)) == "blocked_merchant"
    _limits(net, blocked_mccs=[], allowed_countries=[])
    assert net.authorize(600).json_body["approved"]
    assert _reason(net.authorize(401)) == "limit_exceeded"  # the day's 1,000 would pass
    assert net.authorize(400).json_body["approved"]
    _limits(net, daily=None, monthly=1_500)
    assert _reason(net.authorize(501)) == "limit_exceeded"
    assert net.api.wallet("alice")["held"] == 1_000


def test_the_daily_money_sent_limit_counts_card_spending(api):
    net = person_with_card(api, deposit=2_000_000)
    assert net.authorize(900_000).json_body["approved"]
    assert _reason(net.authorize(100_001)) == "limit_exceeded"
    assert net.authorize(100_000).json_body["approved"]


def test_blocked_merchant_then_blocked_country(net):
    _limits(net, blocked_mccs=["5411"], allowed_countries=["FR"])
    assert _reason(net.authorize(100)) == "blocked_merchant"
    _limits(net, blocked_mccs=[])
    assert _reason(net.authorize(100)) == "blocked_country"
    assert net.authorize(100, merchant={**SHOP, "country": "FR"}).json_body["approved"]


def test_a_decline_is_a_card_transaction_and_moves_nothing(net):
    before = net.api.wallet("alice")
    assert _reason(net.authorize(10_001)) == "insufficient_funds"
    assert net.api.wallet("alice") == before
    txs = net.api.call("GET", f"/v1/cards/{net.card['id']}/transactions", as_="alice").json_body["data"]
    assert [(t["status"], t["decline_reason"]) for t in txs] == [("declined", "insufficient_funds")]


# Signatures and replays -----------------------------------------------------------

def _body(net, amount=100, event=None):
    return {"id": event or event_id(), "card_number": net.card["number"], "exp_month": net.card["exp_month"],
            "exp_year": net.card["exp_year"], "cvc": net.card["cvc"], "amount": amount, "currency": "USD",
            "merchant": SHOP}


@pytest.mark.parametrize("how", ["missing", "wrong", "stale", "future", "other_body"])
def test_a_refused_signature_stores_nothing(net, how):
    import time
    from chalicelib.identity import network_auth
    body = _body(net)
    raw = json.dumps(body).encode()
    headers = {"missing": None,
               "wrong": network_auth.sign("not the secret", raw),
               "stale": network_auth.sign(_secret(), raw, int(time.time()) - 301),
               "future": network_auth.sign(_secret(), raw, int(time.time()) + 310),  # seconds pass before it is checked
               "other_body": network_auth.sign(_secret(), raw + b" ")}[how]
    before = net.api.wallet("alice")
    r = net.api.call("POST", AUTH, raw=raw, headers={"Flock-Signature": headers} if headers else {})
    assert r.status_code == 401 and r.json_body["error"]["code"] == "invalid_signature"
    assert net.card["number"] not in r.body.decode()
    assert net.api.wallet("alice") == before
    # Nothing was stored against the event id: signed properly, it is a first answer.
    again = net.api.network("card", AUTH, body)
    assert again.json_body["approved"] and net.api.wallet("alice")["held"] == 100


def _secret():
    from chalicelib.identity import keys
    return keys.network_secret("card")


def test_a_replayed_event_gets_the_same_answer_and_holds_once(net):
    body = _body(net, 700)
    first = net.api.network("card", AUTH, body)
    again = net.api.network("card", AUTH, body)
    assert again.status_code == first.status_code == 200 and again.json_body == first.json_body
    assert net.api.wallet("alice")["held"] == 700
    other = net.api.network("card", AUTH, {**body, "amount": 701})
    assert other.status_code == 409 and other.json_body["error"]["code"] == "idempotency_key_reused"
    assert net.api.wallet("alice")["held"] == 700


def test_a_replayed_decline_is_the_same_decline_even_when_it_would_now_pass(net):
    body = _body(net, 10_001)
    assert _reason(net.api.network("card", AUTH, body)) == "insufficient_funds"
    net.api.deposit("alice", 5_000)
    assert net.api.network("card", AUTH, body).json_body["decline_reason"] == "insufficient_funds"
    assert net.api.wallet("alice")["held"] == 0


@pytest.mark.usefixtures("one_request_at_a_time")
def test_identical_events_racing_hold_once(net):
    from chalicelib.finance import card_network
    from chalicelib.finance.money import Money
    from tests.unit.cards_world import SHOP as shop
    body = _body(net, 900)
    merchant = card_network.Merchant(**shop)
    answers, errors_ = [], []

    def call():
        try:
            status, decision = card_network.authorize(body, body["card_number"], body["exp_month"], body["exp_year"],
                                                      body["cvc"], Money(900, "USD"), merchant)
            answers.append((status, decision.as_json()))
        except Exception as exc:  # Replayed answers are answers too
            from chalicelib import errors
            if isinstance(exc, errors.Replayed):
                answers.append((exc.status, exc.answer))
            else:
                errors_.append(exc)
    run_threads(call, 6)
    assert not errors_, errors_
    assert len(answers) == 6 and all(a == answers[0] for a in answers)
    assert net.api.wallet("alice")["held"] == 900
    assert_books_clean()


@pytest.mark.usefixtures("one_request_at_a_time")
def test_twenty_concurrent_authorizations_on_money_for_seven(api):
    from chalicelib import errors
    from chalicelib.finance import card_network
    from chalicelib.finance.money import Money
    net = person_with_card(api, deposit=7_000)
    merchant = card_network.Merchant(**SHOP)
    decisions, failures = [], []

    def call():
        body = _body(net, 1_000)
        try:
            decisions.append(card_network.authorize(body, body["card_number"], body["exp_month"], body["exp_year"],
                                                    body["cvc"], Money(1_000, "USD"), merchant)[1])
        except errors.ApiError as exc:
            failures.append(exc)
    run_threads(call, 20)
    assert not failures
    assert sum(d.approved for d in decisions) == 7
    assert {d.decline_reason for d in decisions if not d.approved} == {"insufficient_funds"}
    wallet = api.wallet("alice")
    assert wallet["held"] == 7_000 and wallet["spendable"] == 0
    assert_books_clean()


@pytest.mark.parametrize("bad", [
    {"amount": 0}, {"amount": -5}, {"amount": 10**12 + 1}, {"amount": 12.5}, {"amount": "100"},
    {"currency": "EUR"}, {"card_number": "4532"}, {"card_number": 4532750000000000}, {"exp_month": 13},
    {"merchant": {**SHOP, "mcc": "54"}}, {"merchant": {**SHOP, "country": "usa"}}, {"id": ""}, {"id": "x" * 65},
    {"cvc": "12"}, {"unexpected": True}])
def test_a_malformed_call_is_400_and_never_echoes_the_number(net, bad):
    body = {**_body(net), **bad}
    r = net.api.network("card", AUTH, body)
    assert r.status_code == 400, r.body
    assert net.card["number"] not in r.body.decode()
    assert net.api.wallet("alice")["held"] == 0


def test_an_authorization_is_one_batch_read_and_one_transaction(net):
    import collections
    from chalicelib.db import base
    seen = collections.Counter()

    def count(model=None, **kwargs):
        seen[model.name] += 1
    base.register_hook("before-call.dynamodb", count)
    try:
        assert net.authorize(300).json_body["approved"]
    finally:
        base.unregister_hook("before-call.dynamodb", count)
    assert seen == {"BatchGetItem": 1, "TransactWriteItems": 1}, seen


def test_a_decision_is_a_frozen_record_and_its_json_is_what_the_route_stored_and_replays(net):
    from pydantic import ValidationError

    from chalicelib.db.network import NetworkEventItem
    from chalicelib.finance import card_network
    from chalicelib.finance.money import Money
    from chalicelib.identity.users import authenticate
    from chalicelib.records.cards import CardDecision, CardTransaction
    merchant = card_network.Merchant(**SHOP)
    for amount, approved in ((700, True), (10_001, False)):
        body = _body(net, amount)
        status, decision = card_network.authorize(body, body["card_number"], body["exp_month"], body["exp_year"],
                                                  body["cvc"], Money(amount, "USD"), merchant)
        assert status == 200 and type(decision) is CardDecision and decision.approved is approved
        with pytest.raises(ValidationError):
            decision.approved = not approved
        assert decision.card_transaction_id == card_network.ctx_id_of(decision.authorization_id)
        assert NetworkEventItem.find("card", body["id"]).answered() == (200, decision.as_json())
        assert net.api.network("card", AUTH, body).json_body == decision.as_json()
    listed, _ = card_network.transactions(authenticate(net.api.tokens["alice"]), net.card["id"], 10, None)
    assert all(type(t) is CardTransaction for t in listed)
    assert [t.as_json() for t in listed] == net.api.call(
        "GET", f"/v1/cards/{net.card['id']}/transactions", as_="alice").json_body["data"]
    assert sorted((t.status.value, t.amount_held, t.decline_reason) for t in listed) == [
        ("declined", 0, "insufficient_funds"), ("pending", 700, None)]
