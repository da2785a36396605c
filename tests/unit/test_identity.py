"""Identity as a client sees it (in-process Chalice + moto): signup, login,
the login throttle, logout, password change, freeze, profile, verification,
admin-only routes, the audit trail and the test clock.

One moto stack serves the whole module (provisioning it per test costs more
than the tests): every test works on handles of its own (`fresh`), and the
test clock is reset around each test.
"""
import dataclasses
import json
import sys
import time
import types
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from tests.conftest import ADMIN_PASSWORD, PASSWORD
from tests.unit.conftest import fresh, real_clock_stack

NEW_PASSWORD = "another long passphrase"



stack, aws = real_clock_stack()


def error_of(r, status, code, param=None):
    assert r.status_code == status, r.body
    err = r.json_body["error"]
    assert set(err) == {"type", "code", "message", "param"}
    assert err["code"] == code, err
    assert err["param"] == param, err
    assert isinstance(err["message"], str) and err["message"]
    return err


def me(api, token):
    return api.call("GET", "/v1/me", token=token)


def parse_time(text):
    assert text.endswith("Z")
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- signup -----------------------------------------------------------------

def test_signup_answers_201_with_user_and_working_token(api):
    name = fresh("alice")
    r = api.call("POST", "/v1/auth/signup", {"handle": name, "password": PASSWORD, "display_name": "Alice A."})
    assert r.status_code == 201, r.body
    body = r.json_body
    assert set(body) == {"user", "token", "refresh_token"}  # a session, as login starts
    user = body["user"]
    for field in ("id", "handle", "display_name", "bio", "verified", "role", "created_at",
                  "follower_count", "following_count"):
        assert field in user
    assert user["id"].startswith("usr_")
    assert user["handle"] == name and user["display_name"] == "Alice A." and user["bio"] == ""
    assert user["verified"] is False and user["role"] == "user"
    assert user["follower_count"] == 0 and user["following_count"] == 0
    parse_time(user["created_at"])
    assert "password_hash" not in user and "token_version" not in user
    got = me(api, body["token"])
    assert got.status_code == 200 and got.json_body["id"] == user["id"]


def test_display_name_defaults_to_the_handle(api):
    name = fresh("bob")
    assert api.signup(name)["user"]["display_name"] == name


@pytest.mark.parametrize("variant", [str, str.capitalize, str.upper, str.swapcase])
def test_handles_are_unique_case_insensitively(api, variant):
    name = fresh("alice")
    first = api.signup(name)
    second = variant(name)
    r = api.call("POST", "/v1/auth/signup", {"handle": second, "password": "some other password"})
    error_of(r, 409, "handle_taken", "handle")
    # nothing changed: the first owner still logs in, the second password does not
    assert api.login(second).status_code == 200
    got = me(api, api.tokens[second]).json_body
    assert got["id"] == first["user"]["id"] and got["handle"] == name
    error_of(api.login(name, "some other password"), 401, "invalid_credentials")


def test_admin_handle_is_taken(api):
    error_of(api.call("POST", "/v1/auth/signup", {"handle": "Admin", "password": PASSWORD}), 409, "handle_taken",
             "handle")
    assert api.login("admin", ADMIN_PASSWORD).status_code == 200


@pytest.fixture
def transaction_faults(monkeypatch):
    """Answers the next TransactWriteItems calls with the given cancellation
    reasons instead of moto, as DynamoDB would under a concurrent writer.
    (botocore calls every `before-send` handler, so moto's own stands behind
    this one rather than next to it.)"""
    import botocore.endpoint
    from botocore.awsrequest import AWSResponse
    from moto.core.botocore_stubber import MockRawResponse
    from moto.core.models import botocore_stubber

    from chalicelib.db.base import botocore_client
    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=lambda s: None))
    script = []

    def send(request, event_name, **kwargs):
        if not (script and event_name.endswith(".TransactWriteItems")):
            return botocore_stubber(event_name=event_name, request=request, **kwargs)
        codes = script.pop(0)
        body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                           "message": "Transaction cancelled, please refer cancellation reasons for specific reasons",
                           "CancellationReasons": [{"Code": c} for c in codes]})
        return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.0"},
                           MockRawResponse(body))
    events = botocore_client().meta.events
    events.unregister("before-send", botocore_stubber)
    events.register("before-send", send)
    try:
        yield script
    finally:
        events.unregister("before-send", send)
        events.register("before-send", botocore_stubber)


def test_a_signup_that_meets_a_concurrent_transaction_is_not_told_the_handle_is_taken(api, transaction_faults):
    name = fresh("conflict")
    transaction_faults.append(["TransactionConflict", "None"])
    r = api.call("POST", "/v1/auth/signup", {"handle": name, "password": PASSWORD})
    assert r.status_code == 201, r.body
    assert not transaction_faults
    assert api.login(name).status_code == 200


def test_a_signup_that_keeps_meeting_conflicts_is_told_to_retry(api, transaction_faults):
    name = fresh("conflict")
    transaction_faults.extend([["TransactionConflict", "None"]] * 3)
    r = api.call("POST", "/v1/auth/signup", {"handle": name, "password": PASSWORD})
    error_of(r, 503, "unavailable")
    assert r.headers.get("Retry-After")
    assert api.call("POST", "/v1/auth/signup", {"handle": name, "password": PASSWORD}).status_code == 201


# --- login ------------------------------------------------------------------

def test_login_ok_with_any_case_of_the_handle(api):
    name = fresh("carol")
    user = api.signup(name)["user"]
    for handle in (name, name.upper()):
        r = api.login(handle)
        assert r.status_code == 200, r.body
        assert set(r.json_body) == {"user", "token", "refresh_token"}
        assert r.json_body["user"]["id"] == user["id"] and r.json_body["user"]["handle"] == name
        assert me(api, r.json_body["token"]).status_code == 200


def test_wrong_password_and_unknown_handle_get_the_same_answer(api):
    name = fresh("dave")
    api.signup(name)
    wrong = error_of(api.login(name, "not the password"), 401, "invalid_credentials")
    unknown = error_of(api.login(fresh("nobody"), PASSWORD), 401, "invalid_credentials")
    assert wrong == unknown


def _fail(handle, address, n=1):
    from chalicelib import errors
    from chalicelib.identity import users
    for _ in range(n):
        with pytest.raises(errors.InvalidCredentials):
            users.login(handle, "wrong password!", address)


def test_five_failures_from_one_address_lock_that_address_out(api):
    from chalicelib import errors
    from chalicelib.identity import users
    name = fresh("erin")
    api.signup(name)
    _fail(name, "10.0.0.1", 5)
    with pytest.raises(errors.RateLimited) as refused:
        users.login(name, PASSWORD, "10.0.0.1")  # even the right password
    assert refused.value.status == 429 and refused.value.code == "rate_limited"
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 901
    # the handle in another case is the same handle
    with pytest.raises(errors.RateLimited):
        users.login(name.upper(), PASSWORD, "10.0.0.1")
    # another address is not locked out, nor is another handle from that address
    assert users.login(name, PASSWORD, "10.0.0.2").user.handle == name
    other = fresh("erin")
    api.signup(other)
    assert users.login(other, PASSWORD, "10.0.0.1").user.handle == other
    # and the locked pair stays locked
    with pytest.raises(errors.RateLimited):
        users.login(name, PASSWORD, "10.0.0.1")


def test_fifth_failure_is_still_401_and_a_success_clears_the_count(api):
    from chalicelib import errors
    from chalicelib.identity import users
    name = fresh("frank")
    api.signup(name)
    _fail(name, "10.0.0.1", 4)
    assert users.login(name, PASSWORD, "10.0.0.1").token
    _fail(name, "10.0.0.1", 4)  # the count started again
    assert users.login(name, PASSWORD, "10.0.0.1").token
    _fail(name, "10.0.0.1", 5)
    with pytest.raises(errors.RateLimited):
        users.login(name, PASSWORD, "10.0.0.1")


def test_unknown_handles_are_throttled_too(api):
    from chalicelib import errors
    from chalicelib.identity import users
    name = fresh("ghost")
    _fail(name, "10.0.0.9", 5)
    with pytest.raises(errors.RateLimited):
        users.login(name, PASSWORD, "10.0.0.9")


def test_throttle_over_http_answers_429_with_retry_after(api):
    name = fresh("gina")
    api.signup(name)
    for _ in range(5):
        error_of(api.login(name, "not the password"), 401, "invalid_credentials")
    r = api.login(name)
    error_of(r, 429, "rate_limited")
    assert 1 <= int(r.headers["Retry-After"]) <= 901
    assert "token" not in r.json_body


def _users_table():
    from chalicelib.config import settings
    s = settings()
    return boto3.client("dynamodb", region_name=s.region), s.table_name("users")


def _raw_login_item(handle, address):
    client, table = _users_table()
    return client.get_item(TableName=table, ConsistentRead=True,
                           Key={"pk": {"S": f"LOGIN#{handle.lower()}#{address}"}, "sk": {"S": "LOGIN"}}).get("Item")


def test_throttle_state_lives_in_dynamodb_with_a_ttl(api):
    from chalicelib import errors
    from chalicelib.identity import users
    name = fresh("hank")
    api.signup(name)
    _fail(name, "10.0.0.1", 5)
    item = _raw_login_item(name, "10.0.0.1")
    assert item is not None and int(item["failures"]["N"]) == 5
    expires_at = int(item["expires_at"]["N"])
    assert time.time() + 800 < expires_at <= time.time() + 901
    # A fresh process shares nothing with this one but the table: the answer
    # comes from the item alone, and removing it (as the TTL will) lifts it.
    with pytest.raises(errors.RateLimited):
        users.login(name, PASSWORD, "10.0.0.1")
    client, table = _users_table()
    client.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
    assert users.login(name, PASSWORD, "10.0.0.1").token
    assert _raw_login_item(name, "10.0.0.1") is None  # a success leaves nothing behind


def test_throttle_window_ends_by_the_real_clock(api, monkeypatch):
    from chalicelib import errors
    from chalicelib.identity import throttle, users
    name = fresh("iris")
    api.signup(name)
    _fail(name, "10.0.0.1", 5)
    with pytest.raises(errors.RateLimited):
        users.login(name, PASSWORD, "10.0.0.1")
    later = time.time() + 901
    monkeypatch.setattr(throttle, "time", types.SimpleNamespace(time=lambda: later))
    assert users.login(name, PASSWORD, "10.0.0.1").token


def test_an_expired_window_starts_a_fresh_count(api, monkeypatch):
    from chalicelib import errors
    from chalicelib.identity import throttle, users
    name = fresh("ivan")
    api.signup(name)
    _fail(name, "10.0.0.1", 4)
    later = time.time() + 901
    monkeypatch.setattr(throttle, "time", types.SimpleNamespace(time=lambda: later))
    _fail(name, "10.0.0.1", 4)  # the old four no longer count
    assert users.login(name, PASSWORD, "10.0.0.1").token
    _fail(name, "10.0.0.1", 5)
    with pytest.raises(errors.RateLimited):
        users.login(name, PASSWORD, "10.0.0.1")


def test_test_clock_logs_no_one_out_and_keeps_the_throttle(api):
    name = fresh("jack")
    api.signup(name)
    token = api.tokens[name]
    for _ in range(5):
        error_of(api.login(name, "not the password"), 401, "invalid_credentials")
    r = api.admin("POST", "/v1/admin/test-clock", {"advance_days": 400})
    assert r.status_code == 200, r.body
    assert parse_time(r.json_body["now"]) > datetime.now(timezone.utc) + timedelta(days=399)
    assert me(api, token).status_code == 200
    assert me(api, api.tokens["admin"]).status_code == 200
    error_of(api.login(name), 429, "rate_limited")
    # a token issued now is good now, whatever the business date
    other = fresh("jill")
    api.signup(other)
    assert me(api, api.tokens[other]).status_code == 200


# --- logout, password change, freeze ---------------------------------------

def test_logout_ends_the_callers_session_only(api):
    """Sessions (API.md, Security of the person): logout ends the session of
    the token it is called with; the person's other sessions go on."""
    name = fresh("kate")
    api.signup(name)
    first = api.tokens[name]
    assert api.login(name).status_code == 200
    second = api.tokens[name]
    bystander = fresh("kurt")
    api.signup(bystander)
    r = api.call("POST", "/v1/auth/logout", token=first)
    assert r.status_code == 204 and not r.body
    error_of(me(api, first), 401, "unauthenticated")
    assert me(api, second).status_code == 200
    error_of(api.call("POST", "/v1/auth/logout", token=first), 401, "unauthenticated")
    assert me(api, api.tokens[bystander]).status_code == 200  # nobody else is logged out
    assert api.login(name).status_code == 200 and me(api, api.tokens[name]).status_code == 200


def test_logout_needs_a_token(api):
    error_of(api.call("POST", "/v1/auth/logout"), 401, "unauthenticated")


def test_password_change_ends_other_sessions_and_returns_a_new_token(api):
    name = fresh("liam")
    api.signup(name)
    elsewhere = api.tokens[name]
    assert api.login(name).status_code == 200
    old = api.tokens[name]
    r = api.call("POST", "/v1/me/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, token=old)
    assert r.status_code == 200, r.body
    assert set(r.json_body) == {"user", "token"} and r.json_body["user"]["handle"] == name
    new = r.json_body["token"]
    error_of(me(api, elsewhere), 401, "unauthenticated")
    assert me(api, old).status_code == 200  # the caller's session goes on
    assert me(api, new).status_code == 200
    error_of(api.login(name, PASSWORD), 401, "invalid_credentials")
    assert api.login(name, NEW_PASSWORD).status_code == 200
    assert me(api, new).status_code == 200  # logging in elsewhere revokes nothing


def test_password_change_with_the_wrong_current_password_changes_nothing(api):
    name = fresh("mia")
    api.signup(name)
    token = api.tokens[name]
    r = api.call("POST", "/v1/me/password", {"current_password": "not my password", "new_password": NEW_PASSWORD},
                 token=token)
    error_of(r, 401, "invalid_credentials")
    assert me(api, token).status_code == 200
    assert api.login(name, PASSWORD).status_code == 200
    error_of(api.login(name, NEW_PASSWORD), 401, "invalid_credentials")


def test_guessing_the_current_password_is_throttled_like_a_login(api):
    name = fresh("mike")
    api.signup(name)
    token = api.tokens[name]
    for i in range(5):
        r = api.call("POST", "/v1/me/password", {"current_password": f"guess {i} of many", "new_password": NEW_PASSWORD},
                     token=token)
        error_of(r, 401, "invalid_credentials")
    r = api.call("POST", "/v1/me/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, token=token)
    error_of(r, 429, "rate_limited")
    assert 1 <= int(r.headers["Retry-After"]) <= 901
    error_of(api.login(name), 429, "rate_limited")  # the same count as logins from this address
    assert me(api, token).status_code == 200  # nothing changed: the token works, the password is the old one
    from chalicelib.identity import users
    assert users.login(name, PASSWORD, "10.9.9.9").token


@pytest.mark.parametrize("body,param", [
    ({"current_password": PASSWORD, "new_password": "short pw1"}, "new_password"),
    ({"current_password": PASSWORD, "new_password": "x" * 129}, "new_password"),
    ({"current_password": PASSWORD}, "new_password"),
    ({"new_password": NEW_PASSWORD}, "current_password"),
    ({"current_password": PASSWORD, "new_password": 1234567890}, "new_password"),
    ({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "admin": True}, "admin"),
])
def test_password_change_shape_is_checked(api, body, param):
    name = fresh("noah")
    api.signup(name)
    token = api.tokens[name]
    error_of(api.call("POST", "/v1/me/password", body, token=token), 400, "invalid_request", param)
    assert me(api, token).status_code == 200
    assert api.login(name, PASSWORD).status_code == 200


def test_password_change_needs_a_token(api):
    error_of(api.call("POST", "/v1/me/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
             401, "unauthenticated")


def test_freeze_revokes_tokens_and_unfreeze_lifts_it(api):
    name = fresh("olga")
    api.verified(name)
    token = api.tokens[name]
    r = api.admin("POST", f"/v1/admin/users/{name}/freeze", {"reason": "suspicious activity"})
    assert r.status_code == 200, r.body
    assert r.json_body["handle"] == name and r.json_body["frozen"] is True
    error_of(me(api, token), 401, "unauthenticated")
    error_of(api.call("GET", "/v1/wallet", token=token), 401, "unauthenticated")
    r = api.admin("POST", f"/v1/admin/users/{name}/unfreeze", {"reason": "cleared"})
    assert r.status_code == 200 and r.json_body["frozen"] is False
    error_of(me(api, token), 401, "unauthenticated")  # unfreezing revives no old token
    assert api.login(name).status_code == 200
    assert me(api, api.tokens[name]).json_body["frozen"] is False
    assert api.wallet(name)["status"] == "active"


def test_only_the_person_and_operators_see_that_an_account_is_frozen(api):
    name, other = fresh("fran"), fresh("otto")
    api.verified(name)
    api.signup(other)
    r = api.admin("POST", f"/v1/admin/users/{name}/freeze", {"reason": "fraud review"})
    assert r.status_code == 200 and r.json_body["frozen"] is True
    profile = api.call("GET", f"/v1/users/{name}", as_=other)
    assert profile.status_code == 200 and profile.json_body["handle"] == name
    assert "frozen" not in profile.json_body
    assert api.login(name).status_code == 200
    assert me(api, api.tokens[name]).json_body["frozen"] is True


def test_freeze_of_an_unknown_handle_is_404(api):
    error_of(api.admin("POST", "/v1/admin/users/nobody_here/freeze", {"reason": "x"}), 404, "not_found")


# --- profile ----------------------------------------------------------------

def test_get_me(api):
    name = fresh("pia")
    user = api.signup(name, display_name="Pia")["user"]
    r = me(api, api.tokens[name])
    assert r.status_code == 200 and r.json_body == user


def test_get_me_needs_a_token(api):
    error_of(api.call("GET", "/v1/me"), 401, "unauthenticated")


def test_patch_me_updates_display_name_and_bio(api):
    name = fresh("quinn")
    api.signup(name)
    r = api.call("PATCH", "/v1/me", {"display_name": "Quinn Q", "bio": "hello, world"}, as_=name)
    assert r.status_code == 200, r.body
    assert r.json_body["display_name"] == "Quinn Q" and r.json_body["bio"] == "hello, world"
    got = me(api, api.tokens[name]).json_body
    assert got["display_name"] == "Quinn Q" and got["bio"] == "hello, world"
    r = api.call("PATCH", "/v1/me", {"bio": ""}, as_=name)
    assert r.status_code == 200 and r.json_body["bio"] == "" and r.json_body["display_name"] == "Quinn Q"
    r = api.call("PATCH", "/v1/me", {}, as_=name)
    assert r.status_code == 200 and r.json_body["display_name"] == "Quinn Q"


@pytest.mark.parametrize("value_ok", [
    {"display_name": "x" * 50},
    {"display_name": "é" * 50},
    {"display_name": "e\u0301" * 50},  # 100 code points, 50 after NFC
    {"bio": "b" * 160},
    {"bio": "line one\nline two"},
    {"display_name": "علی رضایی", "bio": "سلام 👋"},
])
def test_patch_me_bounds_accepted(api, value_ok):
    name = fresh("rosa")
    api.signup(name)
    r = api.call("PATCH", "/v1/me", value_ok, as_=name)
    assert r.status_code == 200, r.body
    got = me(api, api.tokens[name]).json_body
    for k, v in value_ok.items():
        assert r.json_body[k] == v and got[k] == v  # stored as given


@pytest.mark.parametrize("body,param", [
    ({"display_name": "x" * 51}, "display_name"),
    ({"display_name": ""}, "display_name"),
    ({"bio": "b" * 161}, "bio"),
    ({"display_name": 5}, "display_name"),
    ({"bio": ["a"]}, "bio"),
    ({"display_name": "a\x00b"}, "display_name"),
    ({"bio": "bell\x07"}, "bio"),
    ({"display_name": "fine", "bio": "b" * 161}, "bio"),
    ({"handle": "newname"}, "handle"),
    ({"verified": True}, "verified"),
    ({"role": "admin"}, "role"),
])
def test_patch_me_refusals_change_nothing(api, body, param):
    name = fresh("sam")
    api.signup(name, display_name="Sam")
    error_of(api.call("PATCH", "/v1/me", body, as_=name), 400, "invalid_request", param)
    got = me(api, api.tokens[name]).json_body
    assert got["display_name"] == "Sam" and got["bio"] == "" and got["handle"] == name
    assert got["role"] == "user" and got["verified"] is False


def test_patch_me_needs_a_token(api):
    error_of(api.call("PATCH", "/v1/me", {"bio": "x"}), 401, "unauthenticated")


# --- verification, admin-only routes, audit --------------------------------

def test_verify_opens_the_money_account(api):
    name = fresh("tara")
    api.signup(name)
    error_of(api.call("GET", "/v1/wallet", as_=name), 403, "verification_required")
    r = api.admin("POST", f"/v1/admin/users/{name}/verify", {"reason": "passport checked"})
    assert r.status_code == 200, r.body
    assert r.json_body["verified"] is True and r.json_body["handle"] == name
    # the caller's token still works, and now reaches money
    wallet = api.wallet(name)
    assert wallet["balance"] == 0 and wallet["currency"] == "USD" and wallet["id"].startswith("acct_")
    assert wallet["status"] == "active"
    assert me(api, api.tokens[name]).json_body["verified"] is True


def test_verify_is_idempotent(api):
    name = fresh("uma")
    api.verified(name)
    account = api.wallet(name)
    for body in ({"reason": "again"}, None):
        r = api.admin("POST", f"/v1/admin/users/{name}/verify", body)
        assert r.status_code == 200 and r.json_body["verified"] is True
    assert api.wallet(name) == account
    audit = api.admin("GET", "/v1/admin/audit?limit=100").json_body["data"]
    assert [a["action"] for a in audit if a["target"] == name] == ["verify"]


def test_verify_accepts_no_body_and_any_case(api):
    name = fresh("vera")
    api.signup(name)
    r = api.admin("POST", f"/v1/admin/users/{name.upper()}/verify")
    assert r.status_code == 200 and r.json_body["verified"] is True and r.json_body["handle"] == name


def test_verify_unknown_handle_is_404(api):
    error_of(api.admin("POST", "/v1/admin/users/nobody_here/verify", {"reason": "x"}), 404, "not_found")


ADMIN_ROUTES = [
    ("POST", "/v1/admin/users/{me}/verify", {"reason": "self-service?"}),
    ("POST", "/v1/admin/users/{me}/freeze", {"reason": "x"}),
    ("POST", "/v1/admin/users/{me}/unfreeze", {"reason": "x"}),
    ("PUT", "/v1/admin/users/{me}/credit-limit", {"credit_limit": 100_000}),
    ("POST", "/v1/admin/test-clock", {"advance_days": 1}),
    ("GET", "/v1/admin/audit", None),
    ("GET", "/v1/admin/ledger/check", None),
    ("POST", "/v1/admin/jobs/reconcile", {}),
]


@pytest.mark.parametrize("method,path,body", ADMIN_ROUTES)
def test_non_admins_are_refused_admin_routes(api, method, path, body):
    from chalicelib import clock
    name = fresh("walt")
    api.signup(name)
    before = me(api, api.tokens[name]).json_body
    business_now = clock.now()
    error_of(api.call(method, path.format(me=name), body, as_=name), 403, "forbidden")
    assert me(api, api.tokens[name]).json_body == before
    error_of(api.call("GET", "/v1/wallet", as_=name), 403, "verification_required")
    assert clock.now() - business_now < timedelta(minutes=1)


@pytest.mark.parametrize("method,path,body", ADMIN_ROUTES)
def test_admin_routes_need_a_token(api, method, path, body):
    error_of(api.call(method, path.format(me="admin"), body), 401, "unauthenticated")


def test_audit_trail_lists_actions_with_actor_and_reason(api):
    name = fresh("xena")
    api.verified(name)
    assert api.admin("POST", f"/v1/admin/users/{name}/freeze", {"reason": "chargeback pattern"}).status_code == 200
    assert api.admin("POST", f"/v1/admin/users/{name}/unfreeze").status_code == 200
    r = api.admin("GET", "/v1/admin/audit")
    assert r.status_code == 200, r.body
    records = [a for a in r.json_body["data"] if a["target"] == name]
    assert [a["action"] for a in records] == ["unfreeze", "freeze", "verify"]  # newest first
    unfreeze, freeze, verify = records
    assert verify["reason"] == "test KYC" and freeze["reason"] == "chargeback pattern" and unfreeze["reason"] == ""
    for a in records:
        assert a["actor"] == "admin" and a["actor_id"].startswith("usr_")
        parse_time(a["at"])
        assert a["id"].startswith("aud")
    assert verify["details"].get("account_id", "").startswith("acct_")


def test_audit_trail_is_stamped_with_the_real_clock(api):
    name = fresh("yael")
    api.signup(name)
    assert api.admin("POST", "/v1/admin/test-clock", {"advance_days": 400}).status_code == 200
    assert api.admin("POST", f"/v1/admin/users/{name}/verify", {"reason": "late"}).status_code == 200
    record = next(a for a in api.admin("GET", "/v1/admin/audit").json_body["data"] if a["target"] == name)
    assert abs((parse_time(record["at"]) - datetime.now(timezone.utc)).total_seconds()) < 60


def test_audit_trail_pages(api):
    names = [fresh("yara"), fresh("yuri"), fresh("yves")]
    for handle in names:
        api.verified(handle)
    first = api.admin("GET", "/v1/admin/audit?limit=2")
    assert first.status_code == 200 and len(first.json_body["data"]) == 2
    cursor = first.json_body["next_cursor"]
    assert cursor
    second = api.admin("GET", f"/v1/admin/audit?limit=2&cursor={cursor}")
    assert second.status_code == 200
    page = first.json_body["data"] + second.json_body["data"]
    assert [a["target"] for a in page][:3] == names[::-1]
    assert len({a["id"] for a in page}) == 4
    error_of(api.admin("GET", "/v1/admin/audit?cursor=forged.cursor"), 400, "invalid_request", "cursor")
    error_of(api.admin("GET", "/v1/admin/audit?limit=0"), 400, "invalid_request", "limit")
    error_of(api.admin("GET", "/v1/admin/audit?limit=101"), 400, "invalid_request", "limit")


# --- the test clock -----------------------------------------------------------

def _clock_now():
    from chalicelib import clock
    return clock.now()


def test_test_clock_moves_forward_only(api):
    r = api.admin("POST", "/v1/admin/test-clock", {"advance_days": 0})
    assert r.status_code == 200, r.body
    now = parse_time(r.json_body["now"])
    assert abs((now - datetime.now(timezone.utc)).total_seconds()) < 60
    r = api.admin("POST", "/v1/admin/test-clock", {"advance_days": 10})
    assert r.status_code == 200, r.body
    moved = parse_time(r.json_body["now"])
    assert timedelta(days=9, hours=23) < moved - now < timedelta(days=10, minutes=1)
    r = api.admin("POST", "/v1/admin/test-clock", {"now": "2099-01-02T03:04:05Z"})
    assert r.status_code == 200 and r.json_body["now"] == "2099-01-02T03:04:05.000Z"
    error_of(api.admin("POST", "/v1/admin/test-clock", {"now": "2098-12-31T00:00:00Z"}), 400, "invalid_request",
             "now")
    error_of(api.admin("POST", "/v1/admin/test-clock", {"advance_days": -1}), 400, "invalid_request",
             "advance_days")
    assert datetime(2099, 1, 2, 3, 4, 5, tzinfo=timezone.utc) <= _clock_now()
    assert _clock_now() < datetime(2099, 1, 2, 3, 10, tzinfo=timezone.utc)
    r = api.admin("POST", "/v1/admin/test-clock", {"advance_days": 0})
    assert r.status_code == 200 and parse_time(r.json_body["now"]) < datetime(2099, 1, 2, 3, 10, tzinfo=timezone.utc)


@pytest.mark.parametrize("body,param", [
    ({}, None),
    ({"now": "2099-01-01T00:00:00Z", "advance_days": 1}, None),
    ({"now": "yesterday"}, "now"),
    ({"now": ""}, "now"),
    ({"now": 5}, "now"),
    ({"now": None, "advance_days": None}, None),
    ({"advance_days": "1"}, "advance_days"),
    ({"advance_days": 1.5}, "advance_days"),
    ({"advance_days": True}, "advance_days"),
    ({"advance_days": 10**9}, "advance_days"),
    ({"now": "1999-01-01T00:00:00Z"}, "now"),
    ({"now": "9999-12-31T23:59:59Z"}, "now"),
    ({"now": "9999-12-31T23:00:00-05:00"}, "now"),
    ({"now": "0001-01-01T00:00:00+05:00"}, "now"),
    ({"now": "2099-01-01T00:00:00Z", "reason": "x"}, "reason"),
])
def test_test_clock_refusals_change_nothing(api, body, param):
    before = _clock_now()
    error_of(api.admin("POST", "/v1/admin/test-clock", body), 400, "invalid_request", param)
    assert abs((_clock_now() - before).total_seconds()) < 60
    assert api.admin("POST", "/v1/admin/test-clock", {"advance_days": 0}).status_code == 200


def test_test_clock_cannot_be_pushed_past_its_end(api):
    """However far it is moved, the clock keeps answering (no 500 later)."""
    statuses = []
    for _ in range(120):
        r = api.admin("POST", "/v1/admin/test-clock", {"advance_days": 36600})
        statuses.append(r.status_code)
        if r.status_code != 200:
            error_of(r, 400, "invalid_request", "advance_days")
            break
    assert statuses[-1] == 400 and set(statuses[:-1]) == {200}
    last = _clock_now()
    error_of(api.admin("POST", "/v1/admin/test-clock", {"now": "9999-01-01T00:00:00Z"}), 400, "invalid_request",
             "now")
    assert _clock_now() - last < timedelta(minutes=1)
    r = api.admin("POST", "/v1/admin/test-clock", {"advance_days": 0})
    assert r.status_code == 200, r.body
    assert me(api, api.tokens["admin"]).status_code == 200


@pytest.fixture
def prod_stage(monkeypatch):
    """Every module that reads settings() sees the prod stage."""
    from chalicelib import config
    real = config.settings
    prod = dataclasses.replace(real(), stage="prod")
    assert prod.is_prod

    def fake():
        return prod
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("chalicelib") and getattr(module, "settings", None) is real:
            monkeypatch.setattr(module, "settings", fake)
    yield prod


def test_test_clock_is_404_in_prod(api, prod_stage):
    before = _clock_now()
    for body in ({"advance_days": 30}, {"now": "2099-01-01T00:00:00Z"}):
        error_of(api.admin("POST", "/v1/admin/test-clock", body), 404, "not_found")
    assert abs((_clock_now() - before).total_seconds()) < 60


def test_admin_logs_in_with_the_configured_password(api):
    r = api.login("admin", ADMIN_PASSWORD)
    assert r.status_code == 200 and r.json_body["user"]["role"] == "admin"


# --- what the services answer -------------------------------------------------

def test_people_services_answer_frozen_records_whose_json_is_what_the_routes_answer(api):
    """A session, a profile, an operator's verify and the audit trail: each
    service's record cannot be changed after it is built, and its JSON is the
    route's answer, key for key."""
    from pydantic import ValidationError

    from chalicelib.finance import customers
    from chalicelib.identity import audit, users
    from chalicelib.social import people
    from tests.unit.conftest import _operator
    name = fresh("rec")
    session = people.signup(name, PASSWORD, "Rec Ord")
    with pytest.raises(ValidationError):
        session.token = "another token"
    with pytest.raises(ValidationError):
        session.user.handle = "someone_else"
    assert me(api, session.token).json_body == session.user.as_json()
    public = users.public_user(users.require_by_handle(name))
    assert "frozen" not in public.as_json() and "two_factor" not in public.as_json()  # the owner's business only
    assert api.call("GET", f"/v1/users/{name}", token=session.token).json_body == public.as_json()
    verified = customers.verify(_operator(), name, "records")
    with pytest.raises(ValidationError):
        verified.frozen = True
    assert verified.verified is True and me(api, session.token).json_body == verified.as_json()
    (newest,), _ = audit.list_records(1, None)
    assert (newest.action, newest.target, newest.reason) == ("verify", name, "records")
    assert api.admin("GET", "/v1/admin/audit?limit=1").json_body["data"] == [newest.as_json()]
    frozen = customers.freeze(_operator(), name, None)  # no reason given: the record says ""
    assert (frozen.frozen, frozen.verified) == (True, True)
    (newest,), _ = audit.list_records(1, None)
    assert (newest.action, newest.reason, newest.details) == ("freeze", "", {})
    assert api.admin("GET", "/v1/admin/audit?limit=1").json_body["data"] == [newest.as_json()]
