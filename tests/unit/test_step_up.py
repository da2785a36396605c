"""Step-up for risky moves (API.md, Security of the person): with 2FA on,
money sent to a person above FLOCK_STEP_UP_CENTS or to someone never paid
before, a withdrawal above it, and a password change need a fresh code in
`Flock-OTP`; without it 403 step_up_required, nothing moves and nothing is
stored under the idempotency key. The code is spent by that request's own
transaction: it authorises that request only, and only if the money moves.

alice has 2FA (turned on after she had paid bob once); bob, carol and dave
have none. TOTP time is fixed (tests/unit/twofactor.py).
"""
import uuid
from datetime import timedelta

import pytest

from tests.conftest import PASSWORD
from tests.unit.conftest import module_stack
from tests.unit.twofactor import T0, code, enable_2fa, totp_time

LARGE = 150_000  # $1,500, above the default threshold of $1,000
SMALL = 5_000


def _build(api):
    for handle in ("alice", "bob", "carol", "dave"):
        api.verified(handle)
    api.deposit("alice", 2_000_000)
    api.deposit("bob", 1_000_000)
    r = api.money("POST", "/v1/transfers", {"to": "bob", "amount": 100, "currency": "USD"}, "alice", "before-2fa")
    assert r.status_code == 201, r.body
    post = api.call("POST", "/v1/posts", {"text": "dave's paid post", "price": {"amount": 500, "currency": "USD"}},
                    as_="dave").json_body
    with totp_time() as at:
        secret = enable_2fa(api, "alice", at)["secret"]
    return {"secret": secret, "post_id": post["id"]}


stack, aws = module_stack(_build)


@pytest.fixture
def world(api, stack):
    api.tokens.update(stack[1])
    return stack[2]


@pytest.fixture
def at():
    with totp_time(T0 + timedelta(seconds=60)) as moment:  # past the confirming code's step
        yield moment


def otp(world, at, offset_s=0) -> dict:
    return {"Flock-OTP": code(world["secret"], at.now + timedelta(seconds=offset_s))}


def send(api, to, amount, headers=None, key=None, as_="alice"):
    return api.call("POST", "/v1/transfers", {"to": to, "amount": amount, "currency": "USD"}, as_=as_,
                    headers={"Idempotency-Key": key or str(uuid.uuid4()), **(headers or {})})


def refused(r, status, code_):
    assert r.status_code == status, r.body
    assert r.json_body["error"]["code"] == code_, r.body


def balance(api, handle):
    return api.wallet(handle)["balance"]


def events(api, handle, event_type):
    r = api.call("GET", "/v1/me/security-events?limit=100", as_=handle)
    return [e for e in r.json_body["data"] if e["type"] == event_type]


def test_a_small_payment_to_someone_already_paid_needs_no_code(api, world, at):
    """alice paid bob before she turned 2FA on: he is no new payee."""
    before = balance(api, "alice")
    r = send(api, "bob", SMALL)
    assert r.status_code == 201, r.body
    assert balance(api, "alice") == before - SMALL


def test_a_large_transfer_needs_a_code_and_a_refusal_stores_nothing(api, world, at):
    before = balance(api, "alice"), balance(api, "bob")
    key = "large-1"
    refused(send(api, "bob", LARGE, key=key), 403, "step_up_required")
    assert (balance(api, "alice"), balance(api, "bob")) == before
    refusal = events(api, "alice", "step_up_refused")[0]
    assert refusal["detail"]["risk"] == "amount" and refusal["detail"]["amount"] == LARGE
    r = send(api, "bob", LARGE, headers=otp(world, at), key=key)  # the same key: nothing was stored under it
    assert r.status_code == 201, r.body
    assert "Idempotent-Replayed" not in r.headers
    assert (balance(api, "alice"), balance(api, "bob")) == (before[0] - LARGE, before[1] + LARGE)


def test_the_threshold_itself_needs_no_code(api, world, at):
    assert send(api, "bob", 100_000).status_code == 201


def test_a_new_payee_needs_a_code_the_first_time_only(api, world, at):
    before = balance(api, "carol")
    refused(send(api, "carol", 100), 403, "step_up_required")
    assert balance(api, "carol") == before
    assert events(api, "alice", "step_up_refused")[0]["detail"]["risk"] == "new_payee"
    assert send(api, "carol", 100, headers=otp(world, at)).status_code == 201
    assert send(api, "carol", 100).status_code == 201  # known now
    assert balance(api, "carol") == before + 200


def test_the_code_authorises_that_request_only(api, world, at):
    headers = otp(world, at)
    first = send(api, "carol", 300, headers=headers, key="bound-1")
    assert first.status_code == 201, first.body
    before = balance(api, "alice")
    refused(send(api, "bob", LARGE, headers=headers, key="bound-2"), 403, "step_up_required")
    refused(send(api, "dave", 100, headers=headers, key="bound-3"), 403, "step_up_required")
    assert balance(api, "alice") == before
    # the first request retried (a lost answer): its stored answer, with or without the code
    for retry_headers in (headers, {}):
        again = send(api, "carol", 300, headers=retry_headers, key="bound-1")
        assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true", again.body
        assert again.json_body == first.json_body
    assert balance(api, "alice") == before
    # the next step's code is a new code
    at.advance(30)
    assert send(api, "bob", LARGE, headers=otp(world, at), key="bound-2").status_code == 201


def test_a_movement_refused_for_money_reasons_does_not_spend_the_code(api, world, at):
    headers = otp(world, at)
    refused(send(api, "bob", 1_500_000, headers=headers), 422, "limit_exceeded")  # over the daily $10,000
    assert send(api, "bob", LARGE, headers=headers).status_code == 201


def test_wrong_codes_are_refused_and_throttled(api, world, at):
    right = code(world["secret"], at.now)
    wrong = "000000" if right != "000000" else "111111"
    api.client.http._local_gateway.source_ip = "192.0.2.33"
    for bad in ("12345", "abcdef", wrong, code(world["secret"], at.now - timedelta(seconds=90))):
        refused(send(api, "bob", LARGE, headers={"Flock-OTP": bad}), 403, "step_up_required")
    refused(send(api, "bob", LARGE, headers={"Flock-OTP": wrong}), 403, "step_up_required")
    refused(send(api, "bob", LARGE, headers={"Flock-OTP": right}), 429, "rate_limited")
    api.client.http._local_gateway.source_ip = "192.0.2.34"
    assert send(api, "bob", LARGE, headers={"Flock-OTP": right}).status_code == 201


def test_withdrawals_above_the_threshold_need_a_code(api, world, at):
    def withdraw(amount, headers=None):
        return api.call("POST", "/v1/wallet/withdrawals", {"amount": amount, "currency": "USD"}, as_="alice",
                        headers={"Idempotency-Key": str(uuid.uuid4()), **(headers or {})})
    before = balance(api, "alice")
    refused(withdraw(LARGE), 403, "step_up_required")
    assert balance(api, "alice") == before
    assert withdraw(SMALL).status_code == 201  # to one's own bank: no payee to be new
    assert withdraw(LARGE, otp(world, at)).status_code == 201
    assert balance(api, "alice") == before - SMALL - LARGE


def test_buying_from_a_new_creator_needs_a_code(api, world, at):
    path = f"/v1/posts/{world['post_id']}/unlock"
    before = balance(api, "dave")
    refused(api.call("POST", path, as_="alice", headers={"Idempotency-Key": "u1"}), 403, "step_up_required")
    assert balance(api, "dave") == before
    r = api.call("POST", path, as_="alice", headers={"Idempotency-Key": "u1", **otp(world, at)})
    assert r.status_code == 201, r.body
    assert balance(api, "dave") > before


def test_people_without_2fa_need_no_code(api, world, at):
    assert send(api, "carol", LARGE, as_="bob").status_code == 201


def test_a_password_change_needs_a_code(api, world, at):
    body = {"current_password": PASSWORD, "new_password": "a brand new passphrase"}
    refused(api.call("POST", "/v1/me/password", body, as_="alice"), 403, "step_up_required")
    refused(api.call("POST", "/v1/me/password", body, as_="alice", headers={"Flock-OTP": "000000"}), 403,
            "step_up_required")
    r = api.call("POST", "/v1/me/password", body, as_="alice", headers=otp(world, at))
    assert r.status_code == 200, r.body
    assert [e["detail"]["action"] for e in events(api, "alice", "step_up_refused")][:2] == \
        ["password_change", "password_change"]


def test_a_session_ended_mid_request_moves_no_money(api, world, at):
    """The token check passed, then the session ended (the owner ended it
    from another device): the movement's ConditionCheck on the user item
    refuses it, at no extra read."""
    from chalicelib import errors
    from chalicelib.finance import transfers
    from chalicelib.finance.money import Money
    from chalicelib.identity import sessions, users
    from chalicelib.identity.client import Client

    principal = users.authenticate(api.tokens["bob"], Client(ip="192.0.2.1"))
    sessions.end(principal.user_id, principal.session_id, "ended_by_owner", Client())
    before = balance(api, "carol")
    with pytest.raises(errors.Unauthenticated):
        transfers.send(principal, "carol", Money(100, "USD"), "", "mid-request")
    api.login("bob")
    assert balance(api, "carol") == before
