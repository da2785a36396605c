"""Sessions as a client sees them (API.md, Security of the person): login
starts a session, access tokens live 15 minutes and carry the session id,
refresh tokens are single-use and rotate, a used one presented again ends the
whole session, and people see and end their sessions. Security time is the
real clock.

One moto stack serves the module; every test works on handles of its own.
"""
from datetime import timedelta

import jwt
import pytest

from tests.conftest import PASSWORD
from tests.unit.conftest import fresh, real_clock_stack

NEW_PASSWORD = "another long passphrase"
LAPTOP = {"User-Agent": "Laptop/1.0"}
PHONE = {"User-Agent": "Phone/2.0"}



stack, aws = real_clock_stack()


def error_of(r, status, code):
    assert r.status_code == status, r.body
    assert r.json_body["error"]["code"] == code, r.body


def from_address(api, ip):
    """Later calls come from `ip`, as the gateway reports it."""
    api.client.http._local_gateway.source_ip = ip


def sign_in(api, handle, headers=None, ip="198.51.100.1"):
    from_address(api, ip)
    r = api.call("POST", "/v1/auth/login", {"handle": handle, "password": PASSWORD}, headers=headers)
    assert r.status_code == 200, r.body
    return r.json_body


def refresh(api, refresh_token, headers=None):
    return api.call("POST", "/v1/auth/refresh", {"refresh_token": refresh_token}, headers=headers)


def me(api, token):
    return api.call("GET", "/v1/me", token=token)


def sessions_of(api, token):
    r = api.call("GET", "/v1/me/sessions", token=token)
    assert r.status_code == 200, r.body
    return r.json_body["data"]


def events_of(api, token):
    r = api.call("GET", "/v1/me/security-events?limit=100", token=token)
    assert r.status_code == 200, r.body
    return r.json_body["data"]


def claims(token):
    return jwt.decode(token, options={"verify_signature": False})


def test_login_starts_a_session_with_a_short_token_and_a_refresh_token(api):
    name = fresh("ann")
    api.signup(name)
    body = sign_in(api, name, LAPTOP)
    assert set(body) == {"user", "token", "refresh_token"}
    c = claims(body["token"])
    assert c["exp"] - c["iat"] == 15 * 60
    assert c["sid"].startswith("sess_")
    assert c["sid"] not in body["refresh_token"] or len(body["refresh_token"]) > 60  # opaque, long
    listed = sessions_of(api, body["token"])
    mine = [s for s in listed if s["id"] == c["sid"]]
    assert len(mine) == 1 and mine[0]["current"] is True
    assert set(mine[0]) == {"id", "created_at", "last_used_at", "user_agent", "ip", "current"}
    assert mine[0]["user_agent"] == "Laptop/1.0" and mine[0]["ip"] == "198.51.100.1"
    assert len(listed) == 2 and sum(s["current"] for s in listed) == 1  # the signup's session too


def test_the_refresh_token_is_stored_only_as_a_hash(api):
    import boto3
    name = fresh("hash")
    api.signup(name)
    body = sign_in(api, name)
    client = boto3.client("dynamodb", region_name="us-east-1")
    dump = repr(client.scan(TableName="flock-dev-users")["Items"])
    secret = body["refresh_token"].split(".")[3]
    assert secret not in dump and body["refresh_token"] not in dump


def test_refresh_rotates_and_each_refresh_token_works_once(api):
    name = fresh("rota")
    api.signup(name)
    first = sign_in(api, name)
    r = refresh(api, first["refresh_token"])
    assert r.status_code == 200, r.body
    second = r.json_body
    assert set(second) == {"token", "refresh_token"} and second["refresh_token"] != first["refresh_token"]
    assert claims(second["token"])["sid"] == claims(first["token"])["sid"]  # the same session goes on
    assert me(api, second["token"]).status_code == 200
    r = refresh(api, second["refresh_token"])
    assert r.status_code == 200
    third = r.json_body
    assert me(api, third["token"]).status_code == 200


def test_reuse_from_a_second_client_ends_the_whole_session(api):
    """A thief copies the refresh token and uses it first, from elsewhere;
    when the owner's app refreshes with the same (now used) token, the whole
    session ends: the thief's fresh tokens die with it."""
    name = fresh("vict")
    api.signup(name)
    owner = sign_in(api, name, LAPTOP, ip="198.51.100.1")
    other = sign_in(api, name, PHONE, ip="198.51.100.2")  # another device of the owner, untouched
    from_address(api, "203.0.113.66")
    r = refresh(api, owner["refresh_token"], headers={"User-Agent": "curl/8"})
    assert r.status_code == 200
    thief = r.json_body
    assert me(api, thief["token"]).status_code == 200
    from_address(api, "198.51.100.1")
    error_of(refresh(api, owner["refresh_token"], headers=LAPTOP), 401, "unauthenticated")
    error_of(me(api, thief["token"]), 401, "unauthenticated")
    error_of(me(api, owner["token"]), 401, "unauthenticated")
    error_of(refresh(api, thief["refresh_token"]), 401, "unauthenticated")
    assert me(api, other["token"]).status_code == 200
    sid = claims(owner["token"])["sid"]
    assert sid not in {s["id"] for s in sessions_of(api, other["token"])}
    reuse = [e for e in events_of(api, other["token"]) if e["type"] == "refresh_reuse"]
    assert len(reuse) == 1 and reuse[0]["detail"]["session_id"] == sid
    assert reuse[0]["ip"] == "198.51.100.1" and reuse[0]["user_agent"] == "Laptop/1.0"


def test_the_thief_coming_second_ends_the_session_too(api):
    name = fresh("late")
    api.signup(name)
    owner = sign_in(api, name)
    rotated = refresh(api, owner["refresh_token"]).json_body
    from_address(api, "203.0.113.9")
    error_of(refresh(api, owner["refresh_token"]), 401, "unauthenticated")
    error_of(me(api, rotated["token"]), 401, "unauthenticated")
    error_of(refresh(api, rotated["refresh_token"]), 401, "unauthenticated")


def test_a_forged_refresh_token_is_refused_and_ends_nothing(api):
    name = fresh("forg")
    api.signup(name)
    owner = sign_in(api, name)
    user_id, sid, generation, secret, tag = owner["refresh_token"].split(".")
    for forged in (f"{user_id}.{sid}.0.{secret}.{'0' * 32}", f"{user_id}.{sid}.0.{secret}x.{tag}",
                   "garbage", "a.b.c.d.e", "x" * 500):
        error_of(refresh(api, forged), 401, "unauthenticated")
    assert me(api, owner["token"]).status_code == 200
    assert refresh(api, owner["refresh_token"]).status_code == 200


@pytest.mark.parametrize("body", [{}, {"refresh_token": 5}, {"refresh_token": ""}, {"refresh_token": "x", "y": 1}])
def test_refresh_shape_is_checked(api, body):
    error_of(api.call("POST", "/v1/auth/refresh", body), 400, "invalid_request")


def test_two_refreshes_of_one_token_at_once_end_the_session(api, monkeypatch):
    """Both read the session at generation 0; the first to write wins and
    gets a pair; the second's conditional update fails, so the token was used
    twice: reuse. Flock cannot tell a double send from a thief racing the
    owner, so the session ends — the winner's pair stops working too."""
    from chalicelib.db.users import SessionItem
    from chalicelib.identity import sessions
    from chalicelib.identity.client import Client

    name = fresh("race")
    api.signup(name)
    owner = sign_in(api, name)
    token = owner["refresh_token"]
    real_find = SessionItem.find
    won = {}

    def find_then_lose_the_race(user_id, session_id):
        stale = real_find(user_id, session_id)
        if not won:  # the other request refreshes in between this one's read and write
            monkeypatch.setattr(SessionItem, "find", real_find)
            won["pair"] = sessions.refresh(token, Client(ip="198.51.100.7"))
        return stale

    monkeypatch.setattr(SessionItem, "find", staticmethod(find_then_lose_the_race))
    from chalicelib import errors
    with pytest.raises(errors.Unauthenticated):
        sessions.refresh(token, Client(ip="198.51.100.8"))
    winner = won["pair"]
    error_of(me(api, winner.token), 401, "unauthenticated")
    error_of(refresh(api, winner.refresh_token), 401, "unauthenticated")
    error_of(me(api, owner["token"]), 401, "unauthenticated")
    fresh_login = sign_in(api, name)
    assert any(e["type"] == "refresh_reuse" for e in events_of(api, fresh_login["token"]))


def test_a_session_deleted_while_in_use_stops_at_once(api):
    name = fresh("dele")
    api.verified(name)
    laptop = sign_in(api, name, LAPTOP)
    phone = sign_in(api, name, PHONE, ip="198.51.100.2")
    assert api.call("GET", "/v1/wallet", token=phone["token"]).status_code == 200
    phone_sid = claims(phone["token"])["sid"]
    r = api.call("DELETE", f"/v1/me/sessions/{phone_sid}", token=laptop["token"])
    assert r.status_code == 204 and not r.body
    error_of(api.call("GET", "/v1/wallet", token=phone["token"]), 401, "unauthenticated")
    error_of(api.call("POST", "/v1/wallet/deposits", {"amount": 100, "currency": "USD"}, token=phone["token"],
                      headers={"Idempotency-Key": "k1"}), 401, "unauthenticated")
    error_of(refresh(api, phone["refresh_token"]), 401, "unauthenticated")
    assert me(api, laptop["token"]).status_code == 200
    assert phone_sid not in {s["id"] for s in sessions_of(api, laptop["token"])}
    # ended already, unknown, malformed: 404
    for sid in (phone_sid, "sess_nothing", "x" * 100):
        error_of(api.call("DELETE", f"/v1/me/sessions/{sid}", token=laptop["token"]), 404, "not_found")
    ended = [e for e in events_of(api, laptop["token"]) if e["type"] == "session_ended"]
    assert ended and ended[0]["detail"] == {"session_id": phone_sid, "reason": "ended_by_owner"}


def test_nobody_ends_another_persons_session(api):
    alice, mallory = fresh("alic"), fresh("mall")
    api.signup(alice)
    api.signup(mallory)
    victim = sign_in(api, alice)
    sid = claims(victim["token"])["sid"]
    error_of(api.call("DELETE", f"/v1/me/sessions/{sid}", as_=mallory), 404, "not_found")
    assert me(api, victim["token"]).status_code == 200
    assert sid not in {s["id"] for s in sessions_of(api, api.tokens[mallory])}


def test_a_person_may_end_their_current_session(api):
    name = fresh("self")
    api.signup(name)
    body = sign_in(api, name)
    sid = claims(body["token"])["sid"]
    assert api.call("DELETE", f"/v1/me/sessions/{sid}", token=body["token"]).status_code == 204
    error_of(me(api, body["token"]), 401, "unauthenticated")


def test_logout_ends_the_current_session_and_its_refresh_token(api):
    name = fresh("bye")
    api.signup(name)
    here, there = sign_in(api, name), sign_in(api, name)
    assert api.call("POST", "/v1/auth/logout", token=here["token"]).status_code == 204
    error_of(me(api, here["token"]), 401, "unauthenticated")
    error_of(refresh(api, here["refresh_token"]), 401, "unauthenticated")
    assert me(api, there["token"]).status_code == 200
    assert refresh(api, there["refresh_token"]).status_code == 200


def test_password_change_ends_every_other_session(api):
    name = fresh("pwch")
    api.signup(name)
    here, there = sign_in(api, name, LAPTOP), sign_in(api, name, PHONE)
    r = api.call("POST", "/v1/me/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                 token=here["token"])
    assert r.status_code == 200, r.body
    assert me(api, here["token"]).status_code == 200
    assert me(api, r.json_body["token"]).status_code == 200
    r = refresh(api, here["refresh_token"])
    assert r.status_code == 200  # the caller's session goes on, refresh included
    error_of(me(api, there["token"]), 401, "unauthenticated")
    error_of(refresh(api, there["refresh_token"]), 401, "unauthenticated")
    assert [s["current"] for s in sessions_of(api, here["token"])] == [True]
    assert "password_changed" in {e["type"] for e in events_of(api, here["token"])}


def test_freezing_ends_every_session(api):
    name = fresh("frz")
    api.verified(name)
    here = sign_in(api, name)
    assert api.admin("POST", f"/v1/admin/users/{name}/freeze", {"reason": "fraud"}).status_code == 200
    error_of(me(api, here["token"]), 401, "unauthenticated")
    error_of(me(api, api.tokens[name]), 401, "unauthenticated")
    error_of(refresh(api, here["refresh_token"]), 401, "unauthenticated")
    assert api.admin("POST", f"/v1/admin/users/{name}/unfreeze", {"reason": "ok"}).status_code == 200
    error_of(refresh(api, here["refresh_token"]), 401, "unauthenticated")  # unfreezing revives nothing
    again = sign_in(api, name)
    assert [s["id"] for s in sessions_of(api, again["token"])] == [claims(again["token"])["sid"]]


def test_a_refresh_token_expires_after_30_days_of_real_time(api, monkeypatch):
    from chalicelib import clock
    name = fresh("old")
    api.signup(name)
    body = sign_in(api, name)
    clock.advance_days(400)  # business time: changes nothing for security
    later = refresh(api, body["refresh_token"])
    assert later.status_code == 200
    real = clock.real_now
    monkeypatch.setattr(clock, "real_now", lambda: real() + timedelta(days=30, seconds=1))
    error_of(refresh(api, later.json_body["refresh_token"]), 401, "unauthenticated")


def test_business_time_does_not_end_sessions(api):
    from chalicelib import clock
    name = fresh("biz")
    api.signup(name)
    body = sign_in(api, name)
    clock.advance_days(3650)
    assert me(api, body["token"]).status_code == 200
    assert refresh(api, body["refresh_token"]).status_code == 200


def test_security_events_record_sign_ins_and_failures_with_the_client(api):
    name = fresh("evts")
    api.signup(name)
    from_address(api, "192.0.2.44")
    r = api.call("POST", "/v1/auth/login", {"handle": name, "password": "not the password"}, headers=PHONE)
    assert r.status_code == 401
    body = sign_in(api, name, LAPTOP, ip="192.0.2.45")
    got = events_of(api, body["token"])
    assert all(set(e) == {"id", "type", "created_at", "ip", "user_agent", "detail"} for e in got)
    assert [e["type"] for e in got][:2] == ["sign_in", "sign_in_failed"]  # newest first
    assert (got[0]["ip"], got[0]["user_agent"]) == ("192.0.2.45", "Laptop/1.0")
    assert (got[1]["ip"], got[1]["user_agent"]) == ("192.0.2.44", "Phone/2.0")
    assert got[0]["detail"]["session_id"] == claims(body["token"])["sid"]
    assert got[0]["created_at"].endswith("Z")


def test_security_events_page_and_are_the_callers_only(api):
    name, other = fresh("page"), fresh("nosy")
    api.signup(name)
    api.signup(other)
    for _ in range(3):
        sign_in(api, name)
    token = sign_in(api, name)["token"]
    r = api.call("GET", "/v1/me/security-events?limit=2", token=token)
    assert r.status_code == 200 and len(r.json_body["data"]) == 2 and r.json_body["next_cursor"]
    cursor = r.json_body["next_cursor"]
    nxt = api.call("GET", f"/v1/me/security-events?limit=2&cursor={cursor}", token=token).json_body
    assert {e["id"] for e in nxt["data"]}.isdisjoint({e["id"] for e in r.json_body["data"]})
    # another person's cursor reads nothing of theirs
    error_of(api.call("GET", f"/v1/me/security-events?cursor={cursor}", as_=other), 400, "invalid_request")
    assert all(e["type"] == "sign_in" for e in events_of(api, api.tokens[other]))


def test_a_header_the_client_sets_is_not_its_address(api):
    name = fresh("xff")
    api.signup(name)
    from_address(api, "192.0.2.200")
    for i in range(5):
        r = api.call("POST", "/v1/auth/login", {"handle": name, "password": "wrong password!"},
                     headers={"X-Forwarded-For": f"10.9.9.{i}", "X-Real-IP": f"10.8.8.{i}"})
        assert r.status_code == 401
    error_of(api.call("POST", "/v1/auth/login", {"handle": name, "password": PASSWORD},
                      headers={"X-Forwarded-For": "10.1.1.1"}), 429, "rate_limited")
    body = sign_in(api, name, ip="192.0.2.201")  # another address is not locked out
    assert sessions_of(api, body["token"])[0]["ip"] == "192.0.2.201"


def test_a_person_has_at_most_sessions_max_live_sessions(api, monkeypatch):
    """Past the cap, a new sign-in ends the least recently used session; a
    long history of ended sessions hides no live one from the list."""
    import dataclasses

    from chalicelib.config import settings
    from chalicelib.identity import sessions
    capped = dataclasses.replace(settings(), sessions_max=3)
    monkeypatch.setattr(sessions, "settings", lambda: capped)
    name = fresh("many")
    api.signup(name)
    signed = [sign_in(api, name) for _ in range(2)]  # with the signup's: 3
    refresh(api, signed[0]["refresh_token"])  # the signup's session is now the least recently used
    newest = sign_in(api, name)
    error_of(me(api, api.tokens[name]), 401, "unauthenticated")
    live = sessions_of(api, newest["token"])
    assert len(live) == 3 and {s["id"] for s in live} == {claims(b["token"])["sid"] for b in signed + [newest]}
    for _ in range(5):  # ended sessions pile up as records; the list shows the live ones
        assert api.call("POST", "/v1/auth/logout", token=sign_in(api, name)["token"]).status_code == 204
    assert {s["id"] for s in sessions_of(api, newest["token"])} == \
        {claims(signed[0]["token"])["sid"], claims(newest["token"])["sid"]}


def test_session_services_answer_frozen_records_whose_json_is_what_the_routes_answer(api):
    """Sessions, security events, a refresh and a TOTP enrolment: records
    that cannot be changed, whose JSON is the route's answer."""
    from pydantic import ValidationError

    from chalicelib.identity import events, sessions, users
    from chalicelib.identity.client import Client
    from tests.unit.twofactor import code, totp_time
    name = fresh("rec")
    api.signup(name)
    signed_in = sign_in(api, name, headers=LAPTOP)
    token, who = signed_in["token"], claims(signed_in["token"])
    listed = sessions.list_sessions(who["sub"], who["sid"])
    with pytest.raises(ValidationError):
        listed[0].current = False
    assert sessions_of(api, token) == [s.as_json() for s in listed]
    logged, _ = events.list_events(who["sub"], 100, None)
    with pytest.raises(ValidationError):
        logged[0].type = "nothing_happened"
    assert events_of(api, token) == [e.as_json() for e in logged]
    tokens = users.refresh(signed_in["refresh_token"], Client(ip="198.51.100.1"))
    with pytest.raises(ValidationError):
        tokens.token = "another token"
    assert me(api, tokens.token).status_code == 200
    assert set(refresh(api, tokens.refresh_token).json_body) == set(tokens.as_json()) == {"token", "refresh_token"}
    with totp_time() as at:
        route = api.call("POST", "/v1/me/2fa/totp", token=tokens.token)
        assert route.status_code == 200, route.body
        enrolment = users.enrol_totp(users.authenticate(tokens.token))  # the pending one replaced, as a second POST does
        with pytest.raises(ValidationError):
            enrolment.secret = route.json_body["secret"]
        assert set(enrolment.as_json()) == set(route.json_body) == {"secret", "otpauth_uri"}
        r = api.call("POST", "/v1/me/2fa/totp/confirm", {"code": code(enrolment.secret, at.now)}, token=tokens.token)
        assert r.status_code == 200 and len(r.json_body["recovery_codes"]) == 10, r.body
