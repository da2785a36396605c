"""The TOTP second factor as a client sees it (API.md, Security of the
person): enrol, confirm (10 recovery codes, once), sign in with a code or a
recovery code, each accepted once, disable with password and code; the secret
sealed at rest; wrong codes throttled like passwords. TOTP time is fixed
(tests/unit/twofactor.py: T0), tokens and throttling keep the real clock.
"""
import urllib.parse
from datetime import timedelta

import boto3
import pytest

from tests.conftest import PASSWORD
from tests.unit.conftest import fresh, real_clock_stack
from tests.unit.twofactor import code, enable_2fa, totp_time




stack, aws = real_clock_stack()


@pytest.fixture
def at():
    with totp_time() as moment:
        yield moment


def error_of(r, status, code_):
    assert r.status_code == status, r.body
    assert r.json_body["error"]["code"] == code_, r.body
    return r.json_body["error"]


def from_address(api, ip):
    api.client.http._local_gateway.source_ip = ip


def login(api, handle, password=PASSWORD):
    return api.call("POST", "/v1/auth/login", {"handle": handle, "password": password})


def mfa(api, mfa_token, code_):
    return api.call("POST", "/v1/auth/mfa", {"mfa_token": mfa_token, "code": code_})


def challenge(api, handle):
    r = login(api, handle)
    assert r.status_code == 200, r.body
    assert set(r.json_body) == {"mfa_required", "mfa_token"} and r.json_body["mfa_required"] is True
    return r.json_body["mfa_token"]


def event_types(api, token):
    r = api.call("GET", "/v1/me/security-events?limit=100", token=token)
    assert r.status_code == 200
    return [e["type"] for e in r.json_body["data"]]


def users_table_dump() -> str:
    return repr(boto3.client("dynamodb", region_name="us-east-1").scan(TableName="flock-dev-users")["Items"])


def test_enrolment_gives_a_secret_and_uri_and_changes_nothing_yet(api, at):
    name = fresh("enr")
    api.signup(name)
    r = api.call("POST", "/v1/me/2fa/totp", as_=name)
    assert r.status_code == 200, r.body
    assert set(r.json_body) == {"secret", "otpauth_uri"}
    uri = urllib.parse.urlparse(r.json_body["otpauth_uri"])
    query = urllib.parse.parse_qs(uri.query)
    assert uri.scheme == "otpauth" and uri.netloc == "totp" and name in uri.path
    assert query["secret"] == [r.json_body["secret"]] and query["issuer"] == ["Flock"]
    assert len(r.json_body["secret"]) == 32  # 160 bits, base32
    body = login(api, name).json_body
    assert "token" in body and "mfa_required" not in body  # not active until confirmed


def test_the_secret_is_sealed_at_rest_and_bound_to_its_owner(api, at):
    from chalicelib.crypto import envelope
    from chalicelib.db.users import TotpItem
    name = fresh("seal")
    user = api.signup(name)["user"]
    secret = api.call("POST", "/v1/me/2fa/totp", as_=name).json_body["secret"]
    assert secret not in users_table_dump()
    sealed = TotpItem.find(user["id"]).secret
    assert sealed.startswith("v1.")
    assert envelope.open_sealed(sealed, {"purpose": "totp-secret", "user_id": user["id"]}).decode() == secret
    with pytest.raises(envelope.SealError):
        envelope.open_sealed(sealed, {"purpose": "totp-secret", "user_id": "usr_someone_else"})
    tampered = sealed[:-6] + ("AAAAAA" if not sealed.endswith("AAAAAA") else "BBBBBB")
    with pytest.raises(envelope.SealError):
        envelope.open_sealed(tampered, {"purpose": "totp-secret", "user_id": user["id"]})


def test_confirm_needs_the_right_code_and_answers_ten_recovery_codes_once(api, at):
    name = fresh("conf")
    api.signup(name)
    secret = api.call("POST", "/v1/me/2fa/totp", as_=name).json_body["secret"]
    error_of(api.call("POST", "/v1/me/2fa/totp/confirm", {"code": "000000" if code(secret, at.now) != "000000"
                                                           else "111111"}, as_=name), 400, "invalid_request")
    error_of(api.call("POST", "/v1/me/2fa/totp/confirm", {"code": "12345"}, as_=name), 400, "invalid_request")
    r = api.call("POST", "/v1/me/2fa/totp/confirm", {"code": code(secret, at.now)}, as_=name)
    assert r.status_code == 200, r.body
    codes = r.json_body["recovery_codes"]
    assert len(codes) == 10 == len(set(codes))
    dump = users_table_dump()
    assert not any(c in dump or c.replace("-", "") in dump for c in codes)  # only their hashes
    at.advance(30)
    error_of(api.call("POST", "/v1/me/2fa/totp/confirm", {"code": code(secret, at.now)}, as_=name),
             409, "invalid_state")
    error_of(api.call("POST", "/v1/me/2fa/totp", as_=name), 409, "already_exists")
    assert "2fa_enabled" in event_types(api, api.tokens[name])


def test_login_with_2fa_needs_the_second_step(api, at):
    name = fresh("two")
    api.signup(name)
    secret = enable_2fa(api, name, at)["secret"]
    at.advance(30)
    mfa_token = challenge(api, name)
    r = mfa(api, mfa_token, code(secret, at.now))
    assert r.status_code == 200, r.body
    assert set(r.json_body) == {"user", "token", "refresh_token"}
    assert api.call("GET", "/v1/me", token=r.json_body["token"]).status_code == 200
    error_of(mfa(api, mfa_token, code(secret, at.now + timedelta(seconds=30))), 401, "invalid_credentials")


def test_a_wrong_password_gets_no_mfa_token(api, at):
    name = fresh("nomf")
    api.signup(name)
    enable_2fa(api, name, at)
    error_of(login(api, name, "not the password"), 401, "invalid_credentials")


def test_a_totp_code_replayed_within_its_window_is_refused(api, at):
    """Each step's code works once: a code seen over a shoulder (or in a
    phishing proxy) is spent by the first sign-in."""
    name = fresh("repl")
    api.signup(name)
    secret = enable_2fa(api, name, at)["secret"]
    at.advance(30)
    used = code(secret, at.now)
    assert mfa(api, challenge(api, name), used).status_code == 200
    at.advance(10)  # the same step, well inside the ±1 window
    error_of(mfa(api, challenge(api, name), used), 401, "invalid_credentials")
    at.advance(30)
    assert mfa(api, challenge(api, name), code(secret, at.now)).status_code == 200
    # and an older step's code, still inside ±1, is refused once a later one was used
    error_of(mfa(api, challenge(api, name), code(secret, at.now - timedelta(seconds=30))), 401,
             "invalid_credentials")


def test_the_confirming_code_is_spent_too(api, at):
    name = fresh("cfsp")
    api.signup(name)
    secret = enable_2fa(api, name, at)["secret"]
    error_of(mfa(api, challenge(api, name), code(secret, at.now)), 401, "invalid_credentials")


def test_codes_of_the_step_before_and_after_are_accepted_not_further(api, at):
    name = fresh("skew")
    api.signup(name)
    secret = enable_2fa(api, name, at)["secret"]
    at.advance(300)
    error_of(mfa(api, challenge(api, name), code(secret, at.now - timedelta(seconds=60))), 401,
             "invalid_credentials")
    error_of(mfa(api, challenge(api, name), code(secret, at.now + timedelta(seconds=60))), 401,
             "invalid_credentials")
    from_address(api, "192.0.2.99")  # four attempts from the first address; the throttle is not the point here
    assert mfa(api, challenge(api, name), code(secret, at.now - timedelta(seconds=30))).status_code == 200
    assert mfa(api, challenge(api, name), code(secret, at.now + timedelta(seconds=30))).status_code == 200


def test_a_recovery_code_works_once(api, at):
    name = fresh("reco")
    api.signup(name)
    codes = enable_2fa(api, name, at)["recovery_codes"]
    r = mfa(api, challenge(api, name), codes[3])
    assert r.status_code == 200, r.body
    error_of(mfa(api, challenge(api, name), codes[3]), 401, "invalid_credentials")
    assert mfa(api, challenge(api, name), codes[4].upper().replace("-", "")).status_code == 200  # typed loosely
    types = event_types(api, r.json_body["token"])
    assert types.count("recovery_code_used") == 2 and "sign_in_failed" in types


def test_an_mfa_token_lives_five_minutes_of_real_time(api, at, monkeypatch):
    from chalicelib import clock
    name = fresh("mfat")
    api.signup(name)
    secret = enable_2fa(api, name, at)["secret"]
    mfa_token = challenge(api, name)
    real = clock.real_now
    monkeypatch.setattr(clock, "real_now", lambda: real() + timedelta(seconds=301))
    at.advance(30)
    error_of(mfa(api, mfa_token, code(secret, at.now)), 401, "invalid_credentials")
    for forged in ("nonsense", "x" * 128):
        error_of(mfa(api, forged, code(secret, at.now)), 401, "invalid_credentials")


def test_wrong_codes_count_toward_the_login_throttle(api, at):
    name = fresh("thr")
    api.signup(name)
    secret = enable_2fa(api, name, at)["secret"]
    at.advance(30)
    right = code(secret, at.now)
    wrong = "000000" if right != "000000" else "111111"
    from_address(api, "192.0.2.10")
    for _ in range(2):  # each password step counts once, each code once
        error_of(mfa(api, challenge(api, name), wrong), 401, "invalid_credentials")
    r = login(api, name)  # the fifth attempt from this address
    assert r.status_code == 200
    error_of(mfa(api, r.json_body["mfa_token"], right), 429, "rate_limited")
    error_of(login(api, name), 429, "rate_limited")
    from_address(api, "192.0.2.11")  # the owner elsewhere is not locked out
    assert mfa(api, challenge(api, name), right).status_code == 200


def test_disabling_needs_the_password_and_a_code(api, at):
    name = fresh("dis")
    api.signup(name)
    secret = enable_2fa(api, name, at)["secret"]
    at.advance(30)
    now_code = code(secret, at.now)
    error_of(api.call("DELETE", "/v1/me/2fa", {"password": "wrong password", "code": now_code}, as_=name),
             401, "invalid_credentials")
    error_of(api.call("DELETE", "/v1/me/2fa", {"password": PASSWORD, "code": "000000" if now_code != "000000"
                                               else "111111"}, as_=name), 401, "invalid_credentials")
    error_of(api.call("DELETE", "/v1/me/2fa", {"password": PASSWORD}, as_=name), 400, "invalid_request")
    r = api.call("DELETE", "/v1/me/2fa", {"password": PASSWORD, "code": now_code}, as_=name)
    assert r.status_code == 204, r.body
    body = login(api, name).json_body
    assert "token" in body  # one step again
    assert "2fa_disabled" in event_types(api, body["token"])
    error_of(api.call("DELETE", "/v1/me/2fa", {"password": PASSWORD, "code": now_code}, as_=name), 409,
             "invalid_state")


def test_per_handle_ceiling_slows_stuffing_but_not_the_2fa_owner(api, at, monkeypatch):
    """Failures from many addresses: past the handle's ceiling a person
    without 2FA is refused from any address; a person with 2FA still gets
    through with password and code (the password alone opens nothing)."""
    plain, guarded = fresh("plai"), fresh("guar")
    api.signup(plain)
    api.signup(guarded)
    secret = enable_2fa(api, guarded, at)["secret"]
    at.advance(30)
    for i in range(20):
        from_address(api, f"203.0.113.{i}")
        error_of(login(api, plain, "stuffed password"), 401, "invalid_credentials")
        error_of(login(api, guarded, "stuffed password"), 401, "invalid_credentials")
    from_address(api, "198.51.100.50")
    error_of(login(api, plain), 429, "rate_limited")
    assert mfa(api, challenge(api, guarded), code(secret, at.now)).status_code == 200
