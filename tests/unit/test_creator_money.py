"""Creator money as fans and creators meet it (issue 5): tips, unlocks of paid
posts with the platform fee, payments inside direct messages, and the
creator's earnings. Every refusal moves nothing; every success moves once;
after each test the books balance."""
import json
import types
import uuid
from datetime import date

import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError
from moto.core.botocore_stubber import MockRawResponse
from moto.core.models import botocore_stubber
from pydantic import ValidationError

from chalicelib.config import MINOR_UNITS_MAX
from chalicelib.finance import creator
from chalicelib.identity.users import authenticate
from tests.unit import dates
from tests.unit.conftest import module_stack

USD = "USD"
LONG = "A long paid post: the first forty characters are its preview, the rest is for payers."


def key():
    return str(uuid.uuid4())


def usd(amount, **extra):
    return {"amount": amount, "currency": USD, **extra}


def ok(r, status=200):
    assert r.status_code == status, (r.status_code, r.body)
    return r.json_body


def refused(r, status, code, param=None):
    assert r.status_code == status, (r.status_code, r.body)
    error = r.json_body["error"]
    assert set(error) == {"type", "code", "message", "param"}, error
    assert error["code"] == code, r.body
    if param is not None:
        assert error["param"] == param, r.body


def books(api):
    r = api.admin("GET", "/v1/admin/ledger/check")
    assert r.status_code == 200, r.body
    return r.json_body


def fees(api):
    """The `fees` system account's balance (a fresh stack starts with none)."""
    return books(api)["system_accounts"].get("fees", 0)


def balances(api, *handles):
    return {h: api.wallet(h)["balance"] for h in handles}


def entries(api, handle):
    return ok(api.call("GET", "/v1/wallet/transactions?limit=100", as_=handle))["data"]


def post(api, who, text=LONG, **extra):
    return ok(api.call("POST", "/v1/posts", {"text": text, **extra}, as_=who), 201)


def tip(api, who, post_id, amount, k=None):
    return api.money("POST", f"/v1/posts/{post_id}/tips", usd(amount), who, k or key())


def unlock(api, who, post_id, k=None):
    return api.money("POST", f"/v1/posts/{post_id}/unlock", None, who, k or key())


def seen(api, post_id, as_):
    return ok(api.call("GET", f"/v1/posts/{post_id}", as_=as_))


def _people(api):
    """alice the creator and bob a fan (verified, $1,000.00); carol verified
    with nothing; dave signed up, never verified."""
    for h in ("alice", "bob", "carol"):
        api.verified(h)
    api.signup("dave")
    api.deposit("bob", 100_000)


stack, aws = module_stack(_people)


@pytest.fixture
def fans(api, stack):
    api.tokens.update(stack[1])
    yield api
    check = books(api)
    assert check["balanced"] is True and check["total"] == 0, check


class CallNames:
    """The DynamoDB operations the app calls, in order."""
    def __init__(self):
        self.names = []

    def __call__(self, event_name, **kwargs):
        self.names.append(event_name.rsplit(".", 1)[-1])


@pytest.fixture
def dynamodb_calls():
    from chalicelib.db.base import register_hook, unregister_hook
    counter = CallNames()
    register_hook("before-call.dynamodb", counter)
    yield counter
    unregister_hook("before-call.dynamodb", counter)


# Tips -----------------------------------------------------------------------------------------------------------------

def test_a_tip_goes_whole_to_the_author_and_grows_the_posts_tip_total(fans):
    api = fans
    p = post(api, "alice", "a free post worth a tip")
    r = tip(api, "bob", p["id"], 500, k="tip-1")
    transfer = ok(r, 201)
    assert r.headers.get("Idempotent-Replayed") is None
    assert {k: transfer[k] for k in ("kind", "from", "to", "amount", "currency", "status")} == {
        "kind": "tip", "from": "bob", "to": "alice", "amount": 500, "currency": USD, "status": "posted"}
    assert transfer["id"].startswith("tr_") and transfer["created_at"].endswith("Z")
    ok(tip(api, "bob", p["id"], 250), 201)
    assert balances(api, "alice", "bob") == {"alice": 750, "bob": 100_000 - 750}
    assert fees(api) == 0  # no fee on tips
    for viewer in ("alice", "bob", "carol", "dave"):
        assert seen(api, p["id"], viewer)["tip_total"] == 750
    assert ok(api.call("GET", "/v1/users/alice/posts", as_="carol"))["data"][0]["tip_total"] == 750
    alice_entries = entries(api, "alice")
    assert sorted((e["kind"], e["amount"], e["counterparty"]) for e in alice_entries) == [
        ("tip", 250, "bob"), ("tip", 500, "bob")]
    # A replay answers the first tip again and moves nothing; the key with another body is refused.
    again = tip(api, "bob", p["id"], 500, k="tip-1")
    assert again.status_code == 201 and again.json_body == transfer
    assert again.headers.get("Idempotent-Replayed") == "true"
    refused(tip(api, "bob", p["id"], 600, k="tip-1"), 409, "idempotency_key_reused")
    other = post(api, "alice", "another post")
    refused(tip(api, "bob", other["id"], 500, k="tip-1"), 409, "idempotency_key_reused")
    assert seen(api, p["id"], "bob")["tip_total"] == 750 and seen(api, other["id"], "bob")["tip_total"] == 0
    assert balances(api, "alice", "bob") == {"alice": 750, "bob": 100_000 - 750}


def test_many_tips_sum_exactly_over_the_counter_shards(fans):
    api = fans
    p = post(api, "alice", "tip me")
    amounts = [1, 2, 3, 5, 8, 13, 21, 34]
    for amount in amounts:
        ok(tip(api, "bob", p["id"], amount), 201)
    assert seen(api, p["id"], "carol")["tip_total"] == sum(amounts)
    assert api.wallet("alice")["balance"] == sum(amounts)


def test_a_paid_posts_tips_count_whether_or_not_it_is_unlocked(fans):
    api = fans
    p = post(api, "alice", price=usd(999))
    ok(tip(api, "bob", p["id"], 300), 201)
    view = seen(api, p["id"], "carol")
    assert view["locked"] is True and view["tip_total"] == 300


def test_tips_refused_move_nothing(fans):
    api = fans
    p = post(api, "alice", "tip target")
    mine = post(api, "bob", "bob's own post")
    gone = post(api, "alice", "soon deleted")
    assert api.call("DELETE", f"/v1/posts/{gone['id']}", as_="alice").status_code == 204
    api.signup("uma")
    unverified_authors = post(api, "uma", "an unverified author's post")
    before = balances(api, "alice", "bob", "carol")

    refused(tip(api, "bob", mine["id"], 100), 422, "self_transfer")
    refused(tip(api, "bob", gone["id"], 100), 404, "not_found")
    for bad_id in ("post_doesnotexist", "nonsense", "post_" + "x" * 300, "usr_abc"):
        refused(tip(api, "bob", bad_id, 100), 404, "not_found")
    refused(tip(api, "carol", p["id"], 100), 422, "insufficient_funds")
    refused(tip(api, "dave", p["id"], 100), 403, "verification_required")
    refused(tip(api, "bob", unverified_authors["id"], 100), 422, "not_eligible")
    refused(tip(api, "bob", p["id"], 1_000_001), 422, "limit_exceeded")  # above $10,000 a day sent
    # Order of refusals: 404 before 422, self_transfer before insufficient_funds, 403 before 404.
    refused(tip(api, "carol", gone["id"], 100), 404, "not_found")
    carols = post(api, "carol", "carol's own")
    refused(tip(api, "carol", carols["id"], 100), 422, "self_transfer")
    refused(tip(api, "dave", "post_doesnotexist", 100), 403, "verification_required")

    for amount in (0, -1, -500, 1.5, 10.0, "100", True, None, [100], {"cents": 100}, MINOR_UNITS_MAX + 1):
        refused(api.money("POST", f"/v1/posts/{p['id']}/tips", usd(amount), "bob", key()), 400, "invalid_request",
                "amount")
    refused(api.money("POST", f"/v1/posts/{p['id']}/tips", {"currency": USD}, "bob", key()), 400,
            "invalid_request", "amount")
    refused(api.money("POST", f"/v1/posts/{p['id']}/tips", {"amount": 100}, "bob", key()), 400,
            "invalid_request", "currency")
    refused(api.money("POST", f"/v1/posts/{p['id']}/tips", {"amount": 100, "currency": "BTC"}, "bob", key()), 400,
            "unsupported_currency")
    refused(api.money("POST", f"/v1/posts/{p['id']}/tips", usd(100, note="hi"), "bob", key()), 400,
            "invalid_request")
    for raw in ("{", "[]", "100", '{"amount": 1e2, "currency": "USD"}'):
        refused(api.call("POST", f"/v1/posts/{p['id']}/tips", raw=raw, as_="bob", headers={"Idempotency-Key": key()}),
                400, "invalid_request")
    refused(api.call("POST", f"/v1/posts/{p['id']}/tips", usd(100), as_="bob"), 400, "idempotency_key_required")

    assert balances(api, "alice", "bob", "carol") == before
    assert seen(api, p["id"], "bob")["tip_total"] == 0
    assert entries(api, "alice") == []


def test_a_refused_tip_may_be_retried_with_its_key(fans):
    api = fans
    p = post(api, "alice", "later")
    refused(tip(api, "carol", p["id"], 400, k="carol-tip"), 422, "insufficient_funds")
    api.deposit("carol", 400)
    r = tip(api, "carol", p["id"], 400, k="carol-tip")
    assert r.status_code == 201 and r.headers.get("Idempotent-Replayed") is None
    assert seen(api, p["id"], "carol")["tip_total"] == 400


def test_a_tip_is_one_transaction(fans, dynamodb_calls):
    api = fans
    p = post(api, "alice", "count my writes")
    dynamodb_calls.names.clear()
    ok(tip(api, "bob", p["id"], 100), 201)
    writes = [n for n in dynamodb_calls.names if n in ("TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem",
                                                       "BatchWriteItem")]
    assert writes == ["TransactWriteItems"], dynamodb_calls.names


# Unlocks --------------------------------------------------------------------------------------------------------------

def test_an_unlock_pays_the_creator_the_price_minus_the_fee_rounded_down(fans):
    api, price, fee = fans, 999, 99
    p = post(api, "alice", price=usd(price), video_url="https://video.example/v.mp4")
    r = unlock(api, "bob", p["id"], k="unlock-1")
    transfer = ok(r, 201)
    assert {k: transfer[k] for k in ("kind", "from", "to", "amount", "currency")} == {
        "kind": "unlock", "from": "bob", "to": "alice", "amount": price, "currency": USD}
    assert balances(api, "alice", "bob") == {"alice": price - fee, "bob": 100_000 - price}
    assert fees(api) == fee
    # One transfer: the fan's debit, the creator's and the fee's credits all carry its id.
    bob_entry = [e for e in entries(api, "bob") if e["kind"] == "unlock"]
    alice_entry = entries(api, "alice")
    assert [(e["transfer_id"], e["amount"]) for e in bob_entry] == [(transfer["id"], -price)]
    assert [(e["transfer_id"], e["amount"], e["counterparty"]) for e in alice_entry] == [
        (transfer["id"], price - fee, "bob")]
    view = seen(api, p["id"], "bob")
    assert view["locked"] is False and view["text"] == LONG and view["video_url"] == "https://video.example/v.mp4"


def test_fee_rounding_across_prices(fans):
    """10% rounded down to the cent: the creator keeps every fraction."""
    api = fans
    expected_fee = {1: 0, 9: 0, 10: 1, 19: 1, 999: 99, 1_001: 100, 1_999: 199, 99_999: 9_999}
    api.deposit("bob", 50_000)
    paid = {}
    for price in expected_fee:
        p = post(api, "alice", price=usd(price))
        paid[ok(unlock(api, "bob", p["id"]), 201)["id"]] = price
    credited = {e["transfer_id"]: e["amount"] for e in entries(api, "alice")}
    assert {paid[t]: paid[t] - credited[t] for t in paid} == expected_fee
    assert api.wallet("alice")["balance"] == sum(p - f for p, f in expected_fee.items())
    assert api.wallet("bob")["balance"] == 150_000 - sum(expected_fee)
    assert fees(api) == sum(expected_fee.values())


def test_an_unlock_charges_once_however_often_it_is_asked(fans):
    api = fans
    p = post(api, "alice", price=usd(999))
    first = unlock(api, "bob", p["id"], k="u1")
    transfer = ok(first, 201)
    replay = unlock(api, "bob", p["id"], k="u1")
    assert replay.status_code == 201 and replay.json_body == transfer
    assert replay.headers.get("Idempotent-Replayed") == "true"
    for _ in range(3):
        again = unlock(api, "bob", p["id"])
        body = ok(again, 200)
        assert again.headers.get("Idempotent-Replayed") is None
        assert body.get("charged") is False, body
    own = ok(unlock(api, "alice", p["id"]), 200)
    assert own.get("charged") is False, own
    assert balances(api, "alice", "bob") == {"alice": 900, "bob": 100_000 - 999}
    assert [e["kind"] for e in entries(api, "bob")] == ["unlock", "deposit"]


def test_an_unlock_of_a_free_post_charges_nothing(fans):
    api = fans
    p = post(api, "alice", "free to all")
    body = ok(unlock(api, "bob", p["id"]), 200)
    assert body.get("charged") is False
    assert balances(api, "alice", "bob") == {"alice": 0, "bob": 100_000}


def test_two_unlocks_racing_with_different_keys_charge_once(fans, monkeypatch):
    """Both requests pass every check before either writes: the first's
    transaction is built, then the second request runs whole and commits,
    then the first commits. The unlock record, put only if absent in the
    charge's own transaction, lets one charge through; the other is answered
    as an unlock that charged nothing, with the charge that did happen."""
    from chalicelib.finance import ledger
    api = fans
    p = post(api, "alice", price=usd(999))
    build = ledger._transaction
    second = []

    def the_other_request_lands_first(m, *args, **kwargs):
        built = build(m, *args, **kwargs)
        if m.kind == "unlock" and not second:
            second.append(None)  # the second request's own transaction is built and committed normally
            second[0] = unlock(api, "bob", p["id"], k="second")
        return built

    monkeypatch.setattr(ledger, "_transaction", the_other_request_lands_first)
    first = unlock(api, "bob", p["id"], k="first")
    monkeypatch.undo()
    won = ok(second[0], 201)
    late = ok(first, 200)
    assert late.get("charged") is False and first.headers.get("Idempotent-Replayed") is None, late
    assert late["unlocked"] is True and late["transfer"] == won, (late, won)
    assert balances(api, "alice", "bob") == {"alice": 900, "bob": 100_000 - 999}
    assert [e["kind"] for e in entries(api, "bob")] == ["unlock", "deposit"]
    assert seen(api, p["id"], "bob")["locked"] is False
    # The loser's key stored nothing: it may be used again for something else.
    assert ok(tip(api, "bob", p["id"], 100, k="first"), 201)["kind"] == "tip"


def test_an_unlock_asked_again_with_no_money_left_is_still_no_charge(fans):
    """The fan spent their last cent on the unlock; asking again (a new key)
    fails two conditions at once, the unlock record (already there) and
    the funds. The answer is the one that says what happened: unlocked
    before, nothing charged, not 'insufficient funds'."""
    api = fans
    p = post(api, "alice", price=usd(999))
    api.deposit("carol", 999)
    paid = ok(unlock(api, "carol", p["id"]), 201)
    assert api.wallet("carol")["balance"] == 0
    again = ok(unlock(api, "carol", p["id"]), 200)
    assert again["unlocked"] is True and again["charged"] is False and again["transfer"] == paid, again
    assert balances(api, "alice", "carol") == {"alice": 900, "carol": 0}
    assert seen(api, p["id"], "carol")["locked"] is False


def test_an_idempotency_key_is_one_request_whatever_the_route(fans):
    api = fans
    a, b = post(api, "alice", price=usd(999)), post(api, "alice", price=usd(500))
    ok(unlock(api, "bob", a["id"], k="shared"), 201)
    refused(unlock(api, "bob", b["id"], k="shared"), 409, "idempotency_key_reused")
    refused(tip(api, "bob", a["id"], 100, k="shared"), 409, "idempotency_key_reused")
    ok(tip(api, "bob", a["id"], 100, k="tip-key"), 201)
    refused(unlock(api, "bob", b["id"], k="tip-key"), 409, "idempotency_key_reused")
    assert seen(api, b["id"], "bob")["locked"] is True
    assert balances(api, "alice", "bob") == {"alice": 900 + 100, "bob": 100_000 - 999 - 100}


def test_an_unlock_is_one_transaction(fans, dynamodb_calls):
    api = fans
    p = post(api, "alice", price=usd(999))
    dynamodb_calls.names.clear()
    ok(unlock(api, "bob", p["id"]), 201)
    writes = [n for n in dynamodb_calls.names if n in ("TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem",
                                                       "BatchWriteItem")]
    assert writes == ["TransactWriteItems"], dynamodb_calls.names


def test_unlocks_refused_move_nothing_and_may_be_retried(fans):
    api = fans
    p = post(api, "alice", price=usd(999))
    gone = post(api, "alice", price=usd(999))
    assert api.call("DELETE", f"/v1/posts/{gone['id']}", as_="alice").status_code == 204
    refused(unlock(api, "carol", p["id"], k="carol-u"), 422, "insufficient_funds")
    assert seen(api, p["id"], "carol")["locked"] is True
    refused(unlock(api, "bob", gone["id"]), 404, "not_found")
    refused(unlock(api, "bob", "post_nope"), 404, "not_found")
    refused(unlock(api, "bob", "x" * 500), 404, "not_found")
    refused(unlock(api, "dave", p["id"]), 403, "verification_required")
    refused(api.call("POST", f"/v1/posts/{p['id']}/unlock", as_="bob"), 400, "idempotency_key_required")
    assert balances(api, "alice", "carol") == {"alice": 0, "carol": 0}
    api.deposit("carol", 999)
    r = unlock(api, "carol", p["id"], k="carol-u")
    assert r.status_code == 201 and r.headers.get("Idempotent-Replayed") is None, r.body
    assert seen(api, p["id"], "carol")["locked"] is False
    assert balances(api, "alice", "carol") == {"alice": 900, "carol": 0}


def test_an_unlock_by_a_frozen_fan_is_refused(fans):
    api = fans
    p = post(api, "alice", price=usd(999))
    ok(api.admin("POST", "/v1/admin/users/bob/freeze", {"reason": "test"}))
    refused(unlock(api, "bob", p["id"]), 401, "unauthenticated")  # freezing revoked the tokens
    assert api.login("bob").status_code == 200
    refused(unlock(api, "bob", p["id"]), 403, "account_frozen")
    refused(tip(api, "bob", p["id"], 100), 403, "account_frozen")
    assert balances(api, "alice") == {"alice": 0}


# Payments in direct messages ------------------------------------------------------------------------------------------

@pytest.fixture
def chat(fans):
    conv = ok(fans.call("POST", "/v1/conversations", {"with": "alice"}, as_="bob"), 201)
    return fans, conv["id"]


def pay(api, who, conv_id, amount, k=None, note="coffee"):
    return api.money("POST", f"/v1/conversations/{conv_id}/payments", usd(amount, note=note), who, k or key())


def messages(api, conv_id, as_):
    return ok(api.call("GET", f"/v1/conversations/{conv_id}/messages?limit=100", as_=as_))["data"]


def test_a_dm_payment_is_a_message_carrying_its_transfer(chat):
    api, conv = chat
    r = pay(api, "bob", conv, 300, k="m1")
    msg = ok(r, 201)
    assert msg["id"].startswith("msg_") and msg["sender"] == "bob" and msg["conversation_id"] == conv
    assert msg["text"] == "coffee"
    payment = msg["payment"]
    assert {k: payment[k] for k in ("kind", "from", "to", "amount", "currency", "note", "status")} == {
        "kind": "message_payment", "from": "bob", "to": "alice", "amount": 300, "currency": USD, "note": "coffee",
        "status": "posted"}
    assert balances(api, "alice", "bob") == {"alice": 300, "bob": 100_000 - 300}
    for member in ("alice", "bob"):
        seen_msgs = messages(api, conv, member)
        assert [(m["id"], m["payment"]["id"], m["payment"]["amount"]) for m in seen_msgs] == [
            (msg["id"], payment["id"], 300)], member
    assert [e["transfer_id"] for e in entries(api, "alice")] == [payment["id"]]
    # A replay answers the same message and writes no second one.
    again = pay(api, "bob", conv, 300, k="m1")
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json_body["id"] == msg["id"] and again.json_body["payment"]["id"] == payment["id"]
    refused(pay(api, "bob", conv, 300, k="m1", note="tea"), 409, "idempotency_key_reused")
    refused(pay(api, "bob", conv, 301, k="m1"), 409, "idempotency_key_reused")
    assert len(messages(api, conv, "alice")) == 1
    assert balances(api, "alice", "bob") == {"alice": 300, "bob": 100_000 - 300}
    # alice pays back in the same conversation.
    back = ok(pay(api, "alice", conv, 100, note="change"), 201)
    assert back["payment"]["from"] == "alice" and back["payment"]["to"] == "bob"
    assert balances(api, "alice", "bob") == {"alice": 200, "bob": 100_000 - 200}
    convs = ok(api.call("GET", "/v1/conversations", as_="bob"))["data"]
    assert convs[0]["id"] == conv and convs[0]["last_message_preview"] == "change"


def assert_no_trace(api, conv, before_balances):
    """Neither a message nor money: no message, no entry, no balance moved."""
    assert messages(api, conv, "alice") == [] and messages(api, conv, "bob") == []
    assert balances(api, *before_balances) == before_balances
    assert [e["kind"] for e in entries(api, "alice")] == [] and [e["kind"] for e in entries(api, "bob")] == ["deposit"]
    inbox = ok(api.call("GET", "/v1/conversations", as_="alice"))["data"][0]
    assert inbox["unread_count"] == 0 and inbox["last_message_preview"] == ""


def test_a_dm_payment_that_cannot_be_paid_leaves_no_message(chat):
    api, conv = chat
    carol_conv = ok(api.call("POST", "/v1/conversations", {"with": "alice"}, as_="carol"), 201)["id"]
    before = balances(api, "alice", "bob", "carol")
    refused(pay(api, "carol", carol_conv, 100, k="carol-pay"), 422, "insufficient_funds")
    assert messages(api, carol_conv, "alice") == []
    refused(pay(api, "bob", conv, 1_000_001), 422, "limit_exceeded")
    ok(api.admin("POST", "/v1/admin/users/alice/freeze", {"reason": "test"}))
    refused(pay(api, "bob", conv, 100), 422, "not_eligible")  # the receiver's account is frozen
    ok(api.admin("POST", "/v1/admin/users/alice/unfreeze", {"reason": "test"}))
    assert api.login("alice").status_code == 200
    assert_no_trace(api, conv, before)
    # carol's refused key stored nothing: with money, the same request goes through once.
    api.deposit("carol", 100)
    ok(pay(api, "carol", carol_conv, 100, k="carol-pay"), 201)
    assert len(messages(api, carol_conv, "alice")) == 1


def test_dm_payment_refusals(chat):
    api, conv = chat
    api.verified("erin")
    before = balances(api, "alice", "bob")
    refused(pay(api, "erin", conv, 100), 404, "not_found")  # not a member
    refused(pay(api, "bob", "conv_nope", 100), 404, "not_found")
    refused(pay(api, "bob", "x" * 300, 100), 404, "not_found")
    refused(pay(api, "dave", conv, 100), 403, "verification_required")
    for amount in (0, -1, 2.5, "300", True, None):
        refused(api.money("POST", f"/v1/conversations/{conv}/payments", usd(amount), "bob", key()), 400,
                "invalid_request", "amount")
    refused(api.money("POST", f"/v1/conversations/{conv}/payments", usd(100, note="x" * 281), "bob", key()), 400,
            "invalid_request", "note")
    refused(api.money("POST", f"/v1/conversations/{conv}/payments", usd(100, note=5), "bob", key()), 400,
            "invalid_request", "note")
    refused(api.money("POST", f"/v1/conversations/{conv}/payments", {"amount": 100, "currency": "BTC"}, "bob",
                      key()), 400, "unsupported_currency")
    refused(api.call("POST", f"/v1/conversations/{conv}/payments", usd(100), as_="bob"), 400,
            "idempotency_key_required")
    assert_no_trace(api, conv, before)


def test_a_dm_payment_without_a_note_is_still_a_message(chat):
    api, conv = chat
    msg = ok(api.money("POST", f"/v1/conversations/{conv}/payments", usd(250), "bob", key()), 201)
    assert msg["payment"]["amount"] == 250
    assert [m["id"] for m in messages(api, conv, "alice")] == [msg["id"]]


class TransactFaults:
    """Faults on the TransactWriteItems that carries a message: `fail` answers
    500 to every try (nothing written); `lose` lets the first one commit and
    loses its answer, so botocore sends the same transaction again."""

    def __init__(self, client):
        self.client = client
        self.mode = None
        self.sent = 0

    def send(self, request, event_name, **kwargs):
        if not event_name.endswith(".TransactWriteItems") or b"MSG#" not in (request.body or b""):
            return botocore_stubber(event_name=event_name, request=request, **kwargs)
        self.sent += 1
        if self.mode == "fail":
            body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
                               "message": "Internal server error"})
            return AWSResponse(request.url, 500, {"Content-Type": "application/x-amz-json-1.0",
                                                  "x-amzn-RequestId": uuid.uuid4().hex}, MockRawResponse(body))
        response = botocore_stubber(event_name=event_name, request=request, **kwargs)
        if self.mode == "lose" and self.sent == 1:
            raise ReadTimeoutError(endpoint_url=request.url)
        return response


@pytest.fixture
def faults(monkeypatch):
    from chalicelib.db import base
    from chalicelib.db.base import botocore_client
    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=lambda s: None))
    monkeypatch.setattr(base, "backoff", lambda attempt_number: None)
    client = botocore_client()
    injector = TransactFaults(client)
    client.meta.events.unregister("before-send", botocore_stubber)
    client.meta.events.register("before-send", injector.send)
    try:
        yield injector
    finally:
        client.meta.events.unregister("before-send", injector.send)
        client.meta.events.register("before-send", botocore_stubber)


def test_a_dm_payment_whose_transaction_fails_leaves_neither_message_nor_money(chat, faults):
    api, conv = chat
    before = balances(api, "alice", "bob")
    faults.mode = "fail"
    r = pay(api, "bob", conv, 300, k="doomed")
    assert r.status_code == 503 and r.json_body["error"]["code"] == "unavailable", (r.status_code, r.body)
    assert faults.sent > 1  # retried, never written
    faults.mode = None
    assert_no_trace(api, conv, before)
    # The refused key stored nothing: the same request goes through once the database answers.
    ok(pay(api, "bob", conv, 300, k="doomed"), 201)
    assert len(messages(api, conv, "alice")) == 1 and balances(api, "alice")["alice"] == 300


def test_a_dm_payment_whose_answer_was_lost_is_one_message_and_one_movement(chat, faults):
    api, conv = chat
    faults.mode = "lose"
    msg = ok(pay(api, "bob", conv, 300, k="lost"), 201)
    assert faults.sent >= 2
    faults.mode = None
    stored = messages(api, conv, "alice")
    assert [(m["id"], m["payment"]["amount"]) for m in stored] == [(msg["id"], 300)]
    assert balances(api, "alice", "bob") == {"alice": 300, "bob": 100_000 - 300}
    assert [e["transfer_id"] for e in entries(api, "alice")] == [msg["payment"]["id"]]


# Earnings -------------------------------------------------------------------------------------------------------------

def earnings(api, who, month):
    return ok(api.call("GET", f"/v1/me/earnings?month={month}", as_=who))


def earned_from_entries(api, who, month):
    """The month's creator income as the entries show it, by kind."""
    found = {}
    for e in entries(api, who):
        if e["created_at"][:7] == month and e["kind"] in ("tip", "unlock", "subscription") and e["amount"] > 0:
            found[e["kind"]] = found.get(e["kind"], 0) + e["amount"]
    return found


def test_earnings_add_up_to_the_entries_of_the_month(fans):
    from datetime import date
    api = fans
    dates.pin(date(2026, 5, 15))  # mid-month, mid-afternoon: every movement below falls in May 2026
    month, previous = "2026-05", "2026-04"
    api.deposit("carol", 10_000)
    p = post(api, "alice", price=usd(999))
    ok(tip(api, "bob", p["id"], 500), 201)
    ok(tip(api, "carol", p["id"], 250), 201)
    ok(unlock(api, "bob", p["id"]), 201)
    ok(unlock(api, "carol", p["id"]), 201)
    ok(api.call("PUT", "/v1/me/subscription-price", usd(1_001), as_="alice"))
    ok(api.money("POST", "/v1/users/alice/subscription", None, "bob", key()), 201)
    # Not creator income: a plain transfer and a DM payment.
    ok(api.money("POST", "/v1/transfers", {"to": "alice", **usd(4_000)}, "bob", key()), 201)
    conv = ok(api.call("POST", "/v1/conversations", {"with": "alice"}, as_="bob"), 201)["id"]
    ok(pay(api, "bob", conv, 700), 201)

    e = earnings(api, "alice", month)
    assert e["month"] == month and e["currency"] == USD
    assert e["by_kind"]["tip"] == {"gross": 750, "fees": 0, "net": 750, "count": 2}
    assert e["by_kind"]["unlock"] == {"gross": 1_998, "fees": 198, "net": 1_800, "count": 2}
    assert e["by_kind"]["subscription"] == {"gross": 1_001, "fees": 100, "net": 901, "count": 1}
    assert (e["gross"], e["fees"], e["net"]) == (750 + 1_998 + 1_001, 198 + 100, 750 + 1_800 + 901)
    assert e["gross"] - e["fees"] == e["net"]
    assert {k: v["net"] for k, v in e["by_kind"].items() if v["count"]} == earned_from_entries(api, "alice", month)
    assert api.wallet("alice")["balance"] == e["net"] + 4_000 + 700
    # The fan earned nothing; another month holds nothing.
    assert earnings(api, "bob", month)["net"] == 0
    assert earnings(api, "alice", previous)["gross"] == 0


def test_earnings_are_per_month(fans):
    from chalicelib import clock
    api = fans
    first = clock.now().strftime("%Y-%m")
    p = post(api, "alice", price=usd(999))
    ok(tip(api, "bob", p["id"], 100), 201)
    ok(api.admin("POST", "/v1/admin/test-clock", {"advance_days": 31}))
    second = clock.now().strftime("%Y-%m")
    assert second != first
    ok(unlock(api, "bob", p["id"]), 201)
    a, b = earnings(api, "alice", first), earnings(api, "alice", second)
    assert (a["gross"], a["fees"], a["net"]) == (100, 0, 100)
    assert (b["gross"], b["fees"], b["net"]) == (999, 99, 900)
    assert {k: v["net"] for k, v in a["by_kind"].items() if v["count"]} == earned_from_entries(api, "alice", first)
    assert {k: v["net"] for k, v in b["by_kind"].items() if v["count"]} == earned_from_entries(api, "alice", second)


def test_the_services_answer_frozen_records_that_are_what_the_routes_answer(fans):
    api = fans
    dates.pin(date(2026, 6, 15))
    alice, bob = authenticate(api.tokens["alice"]), authenticate(api.tokens["bob"])
    p = post(api, "alice", price=usd(999))
    charged = ok(unlock(api, "bob", p["id"]), 201)
    # Asked again: no charge, and the answer is the `Unlocked` record carrying the first transfer.
    answer, was_charged, replayed = creator.unlock(bob, p["id"], key())
    assert (was_charged, replayed) == (False, False)
    assert answer.charged is False and answer.transfer.as_json() == charged
    with pytest.raises(ValidationError):
        answer.charged = True
    assert answer.as_json() == ok(unlock(api, "bob", p["id"]), 200)
    record = creator.earnings(alice, "2026-06")
    with pytest.raises(ValidationError):
        record.net = 0
    with pytest.raises(ValidationError):
        record.by_kind["unlock"].net = 0
    assert record.as_json() == earnings(api, "alice", "2026-06")
    row = next(r for r in record.posts if r.post_id == p["id"])
    assert (row.unlocks, row.unlock_gross, row.unlock_fees, row.unlock_net) == (1, 999, 99, 900)


def test_earnings_refuse_bad_months_and_strangers(fans):
    api = fans
    for month in ("2026-13", "2026-00", "2026-1", "26-01", "abcd-ef", "", "2026-01-01", "0000-01", "2026-01x"):
        refused(api.call("GET", f"/v1/me/earnings?month={month}", as_="alice"), 400, "invalid_request")
    refused(api.call("GET", "/v1/me/earnings", as_="alice"), 400, "invalid_request")
    refused(api.call("GET", "/v1/me/earnings?month=2026-01", as_="dave"), 403, "verification_required")
    refused(api.call("GET", "/v1/me/earnings?month=2026-01"), 401, "unauthenticated")
