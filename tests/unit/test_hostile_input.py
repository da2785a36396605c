"""Hostile input, in process: every refusal is the right 4xx with Flock's
error object `{"error": {"type", "code", "message", "param"}}`, never a 500,
never an echo of the request, and nothing is written.

One moto stack serves the module (see test_identity.py); cases run one after
another, so "nothing changed" is checked by counting the items of the users
table (people, handle claims, login counters, audit records) around each one.
"""
import base64
import json
import time

import boto3
import jwt
import pytest
from moto import mock_aws

from tests.conftest import ADMIN_PASSWORD, PASSWORD

SECRET_HEADER = "Bearer zq-DISTINCTIVE-header-value-7731"


@pytest.fixture(scope="module")
def stack():
    with mock_aws():
        import localstack
        from chalicelib import clock
        from chalicelib.identity import keys, users
        from chalicelib.social import people

        keys.signing_key.cache_clear()
        clock.reset()
        localstack.provision(ADMIN_PASSWORD)
        victim = people.signup("victim", PASSWORD)
        revoked = people.signup("revoked", PASSWORD)
        users.logout(revoked.user.id)
        deleted = people.signup("deleted", PASSWORD)
        from chalicelib.db.users import UserItem
        UserItem.ref(deleted.user.id).delete()
        yield {"victim": victim, "revoked": revoked, "deleted": deleted}
        clock.reset()


@pytest.fixture(autouse=True)
def aws(stack):
    """Replaces the per-test stack of tests/unit/conftest.py with the module's."""
    from chalicelib import clock
    clock.reset()
    yield
    clock.reset()


def users_items() -> int:
    from chalicelib.config import settings
    s = settings()
    client = boto3.client("dynamodb", region_name=s.region)
    return client.scan(TableName=s.table_name("users"), Select="COUNT", ConsistentRead=True)["Count"]


def refused(r, status, code, param=None, *, echo=()):
    assert r.status_code == status, (r.status_code, r.body[:500])
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    body = json.loads(r.body)
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"type", "code", "message", "param"}, err
    assert err["code"] == code, err
    assert err["param"] == param, err
    assert isinstance(err["type"], str) and isinstance(err["message"], str) and err["message"]
    assert "Traceback" not in err["message"]
    for text in echo:
        assert text not in r.body.decode("utf-8", "replace"), f"echoed {text!r}"
        assert all(text not in str(v) for v in r.headers.values()), f"echoed {text!r} in headers"
    return err


def send(api, method, path, raw=None, body=None, headers=None, token=None):
    return api.call(method, path, body=body, raw=raw, headers=headers, token=token)


# --- bodies -------------------------------------------------------------------

def obj(**fields):
    return json.dumps(fields).encode()


OK = {"handle": "hx_ok", "password": PASSWORD}

SIGNUP_CASES = [
    # wrong types
    ("handle-int", obj(handle=5, password=PASSWORD), "handle"),
    ("handle-null", obj(handle=None, password=PASSWORD), "handle"),
    ("handle-list", obj(handle=["hx1"], password=PASSWORD), "handle"),
    ("handle-operator-object", obj(handle={"$ne": None}, password=PASSWORD), "handle"),
    ("password-true", obj(handle="hx2", password=True), "password"),
    ("password-int", obj(handle="hx3", password=1234567890123), "password"),
    ("display-name-list", obj(handle="hx4", password=PASSWORD, display_name=[]), "display_name"),
    ("display-name-object", obj(handle="hx5", password=PASSWORD, display_name={"a": 1}), "display_name"),
    # missing and extra fields
    ("missing-handle", obj(password=PASSWORD), "handle"),
    ("missing-password", obj(handle="hx6"), "password"),
    ("empty-object", b"{}", "handle"),
    ("extra-role", obj(handle="hx7", password=PASSWORD, role="admin"), "role"),
    ("extra-verified", obj(handle="hx8", password=PASSWORD, verified=True), "verified"),
    ("extra-id", obj(handle="hx9", password=PASSWORD, id="usr_mine"), "id"),
    ("extra-proto", obj(handle="hx10", password=PASSWORD, __proto__={"role": "admin"}), "__proto__"),
    # lengths
    ("handle-16-chars", obj(handle="a" * 16, password=PASSWORD), "handle"),
    ("handle-empty", obj(handle="", password=PASSWORD), "handle"),
    ("password-129-chars", obj(handle="hx11", password="p" * 129), "password"),
    ("password-9-chars", obj(handle="hx12", password="p" * 9), "password"),
    ("password-empty", obj(handle="hx13", password=""), "password"),
    ("display-name-51-chars", obj(handle="hx14", password=PASSWORD, display_name="d" * 51), "display_name"),
    ("display-name-empty", obj(handle="hx15", password=PASSWORD, display_name=""), "display_name"),
    # characters
    ("handle-nul", obj(handle="hx\u0000a", password=PASSWORD), "handle"),
    ("display-name-nul", obj(handle="hx16", password=PASSWORD, display_name="Eve\u0000"), "display_name"),
    ("display-name-escape", obj(handle="hx17", password=PASSWORD, display_name="\u001b[31mred"), "display_name"),
    ("handle-emoji", obj(handle="bob\U0001F600", password=PASSWORD), "handle"),
    ("handle-cyrillic-a", obj(handle="\u0430dmin", password=PASSWORD), "handle"),
    ("handle-fullwidth", obj(handle="\uff41\uff44\uff4d\uff49\uff4e", password=PASSWORD), "handle"),
    ("handle-zero-width", obj(handle="admin\u200b", password=PASSWORD), "handle"),
    ("handle-arabic-digits", obj(handle="hx\u0661\u0662", password=PASSWORD), "handle"),
    ("handle-trailing-newline", obj(handle="hx18\n", password=PASSWORD), "handle"),
    ("handle-space", obj(handle="hx 19", password=PASSWORD), "handle"),
    ("handle-dash", obj(handle="hx-20", password=PASSWORD), "handle"),
    ("handle-sql", obj(handle="admin' OR 1=1--", password=PASSWORD), "handle"),
    ("handle-hash", obj(handle="hx#LOGIN", password=PASSWORD), "handle"),
    ("lone-surrogate-handle", b'{"handle": "hx\\ud800", "password": "correct horse battery"}', "handle"),
    ("lone-surrogate-display-name",
     b'{"handle": "hx21", "password": "correct horse battery", "display_name": "\\udfff"}', "display_name"),
    ("lone-surrogate-in-a-key", b'{"\\ud800": 1, "handle": "hx22", "password": "correct horse battery"}', None),
    ("number-instead-of-string", b'{"handle": 1e400, "password": "correct horse battery"}', "handle"),
    # the body as a whole
    ("array-body", b"[]", None),
    ("array-of-object", b'[{"handle": "hx23", "password": "correct horse battery"}]', None),
    ("string-body", b'"hello"', None),
    ("null-body", b"null", None),
    ("number-body", b"5", None),
    ("true-body", b"true", None),
    ("no-body", b"", None),
    ("invalid-json", b'{"handle": "hx24",', None),
    ("single-quotes", b"{'handle': 'hx25'}", None),
    ("trailing-garbage", b'{"handle": "hx26", "password": "correct horse battery"} x', None),
    ("nan-literal", b'{"handle": "hx27", "password": NaN}', None),
    ("infinity-literal", b'{"handle": "hx28", "password": Infinity}', None),
    ("minus-infinity-literal", b'{"handle": "hx29", "password": -Infinity}', None),
    ("huge-integer", b'{"handle": 1' + b"0" * 5000 + b', "password": "correct horse battery"}', None),
    ("deeply-nested", b'{"handle": "hx30", "password": "correct horse battery", "x": ' + b"[" * 40 + b"]" * 40 + b"}",
     None),
    ("very-deeply-nested", b"[" * 60000 + b"]" * 60000, None),
    ("100-kB-body", obj(handle="hx31", password=PASSWORD, display_name="d" * 100_000), None),
    ("invalid-utf8", b'{"handle": "hx\xff\xfe", "password": "correct horse battery"}', None),
    ("utf8-encoded-surrogate", b'{"handle": "hx\xed\xa0\x80", "password": "correct horse battery"}', None),
    ("utf8-bom", b'\xef\xbb\xbf{"handle": "hx32", "password": "correct horse battery"}', None),
]


@pytest.mark.parametrize("raw,param", [c[1:] for c in SIGNUP_CASES], ids=[c[0] for c in SIGNUP_CASES])
def test_signup_refuses_hostile_bodies(api, raw, param):
    before = users_items()
    refused(send(api, "POST", "/v1/auth/signup", raw=raw), 400, "invalid_request", param)
    assert users_items() == before


@pytest.mark.parametrize("content_type,raw", [
    ("text/plain", obj(**OK)),
    ("application/x-www-form-urlencoded", b"handle=hx_form&password=correct+horse+battery"),
    ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data; name=handle\r\n\r\nhx\r\n--x--"),
    ("application/xml", b"<signup><handle>hx_xml</handle></signup>"),
])
def test_wrong_content_type_is_refused(api, content_type, raw):
    before = users_items()
    refused(send(api, "POST", "/v1/auth/signup", raw=raw, headers={"Content-Type": content_type}), 400,
            "invalid_request")
    assert users_items() == before


LOGIN_CASES = [
    ("password-operator-object", obj(handle="victim", password={"$gt": ""}), "password"),
    ("handle-list", obj(handle=["victim"], password=PASSWORD), "handle"),
    ("password-129-chars", obj(handle="victim", password="p" * 129), "password"),
    ("password-empty", obj(handle="victim", password=""), "password"),
    ("missing-password", obj(handle="victim"), "password"),
    ("handle-16-chars", obj(handle="v" * 16, password=PASSWORD), "handle"),
    ("handle-cyrillic", obj(handle="v\u0456ctim", password=PASSWORD), "handle"),
    ("extra-field", obj(handle="victim", password=PASSWORD, remember_me=True), "remember_me"),
    ("invalid-json", b'{"handle": "victim", "password": ', None),
    ("array-body", b'["victim", "correct horse battery"]', None),
]


@pytest.mark.parametrize("raw,param", [c[1:] for c in LOGIN_CASES], ids=[c[0] for c in LOGIN_CASES])
def test_login_refuses_hostile_bodies_without_counting_them(api, raw, param):
    before = users_items()
    err = refused(send(api, "POST", "/v1/auth/login", raw=raw), 400, "invalid_request", param)
    assert PASSWORD not in err["message"]
    assert users_items() == before  # no login counter was opened
    assert api.login("victim").status_code == 200


PATCH_CASES = [
    ("display-name-list", obj(display_name=[]), "display_name"),
    ("display-name-nul", obj(display_name="x\u0000"), "display_name"),
    ("bio-161-chars", obj(bio="b" * 161), "bio"),
    ("bio-int", obj(bio=7), "bio"),
    ("extra-handle", obj(handle="admin"), "handle"),
    ("extra-role", obj(role="admin"), "role"),
    ("lone-surrogate-bio", b'{"bio": "hi \\ud83d"}', "bio"),
    ("string-body", b'"bio"', None),
    ("null-body", b"null", None),
]


@pytest.mark.parametrize("raw,param", [c[1:] for c in PATCH_CASES], ids=[c[0] for c in PATCH_CASES])
def test_patch_me_refuses_hostile_bodies(api, stack, raw, param):
    token = stack["victim"].token
    before = send(api, "GET", "/v1/me", token=token).json_body
    refused(send(api, "PATCH", "/v1/me", raw=raw, token=token), 400, "invalid_request", param)
    assert send(api, "GET", "/v1/me", token=token).json_body == before


def test_shape_is_checked_before_the_token(api):
    refused(send(api, "PATCH", "/v1/me", raw=b"{nope"), 400, "invalid_request")
    refused(send(api, "PATCH", "/v1/me", raw=obj(bio="x"), headers={"Authorization": "Bearer junk"}), 401,
            "unauthenticated")


ADMIN_BODY_CASES = [
    ("verify", "POST", "/v1/admin/users/victim/verify", obj(reason="r" * 501), "reason"),
    ("verify", "POST", "/v1/admin/users/victim/verify", obj(reason=5), "reason"),
    ("verify", "POST", "/v1/admin/users/victim/verify", obj(reason="a\u0000b"), "reason"),
    ("freeze", "POST", "/v1/admin/users/victim/freeze", obj(reason="x", frozen=False), "frozen"),
    ("credit", "PUT", "/v1/admin/users/victim/credit-limit", obj(credit_limit=-1), "credit_limit"),
    ("credit", "PUT", "/v1/admin/users/victim/credit-limit", obj(credit_limit=12.5), "credit_limit"),
    ("credit", "PUT", "/v1/admin/users/victim/credit-limit", obj(credit_limit="100"), "credit_limit"),
    ("credit", "PUT", "/v1/admin/users/victim/credit-limit", obj(credit_limit=True), "credit_limit"),
    ("credit", "PUT", "/v1/admin/users/victim/credit-limit", obj(credit_limit=10**13), "credit_limit"),
    ("credit", "PUT", "/v1/admin/users/victim/credit-limit", obj(), "credit_limit"),
    ("clock", "POST", "/v1/admin/test-clock", obj(advance_days=-1), "advance_days"),
    ("clock", "POST", "/v1/admin/test-clock", obj(now="2001-01-01T00:00:00Z"), "now"),
    ("clock", "POST", "/v1/admin/test-clock", obj(now="99999-01-01"), "now"),
    ("job", "POST", "/v1/admin/jobs/reconcile", obj(as_of="yesterday"), "as_of"),
]


@pytest.mark.parametrize("method,path,raw,param", [c[1:] for c in ADMIN_BODY_CASES],
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(ADMIN_BODY_CASES)])
def test_admin_routes_refuse_hostile_bodies(api, stack, method, path, raw, param):
    from chalicelib import clock
    api.login("admin", ADMIN_PASSWORD)
    victim = send(api, "GET", "/v1/me", token=stack["victim"].token).json_body
    before, now = users_items(), clock.now()
    refused(send(api, method, path, raw=raw, token=api.tokens["admin"]), 400, "invalid_request", param)
    assert users_items() == before
    assert (clock.now() - now).total_seconds() < 60
    assert send(api, "GET", "/v1/me", token=stack["victim"].token).json_body == victim


# --- tokens -------------------------------------------------------------------

def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(stack, **changes):
    now = int(time.time())
    victim_sid = jwt.decode(stack["victim"].token, options={"verify_signature": False})["sid"]
    claims = {"sub": stack["victim"].user.id, "role": "user", "tv": 0, "sid": victim_sid, "iat": now,
              "exp": now + 600, "jti": "hostile"}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not ...}


def _signed(stack, algorithm="HS256", key=None, **changes):
    from chalicelib.identity import keys
    return jwt.encode(_claims(stack, **changes), key or keys.signing_key(), algorithm=algorithm)


def _tampered(stack):
    header, _, signature = stack["victim"].token.split(".")
    return f"{header}.{_b64(_claims(stack, role='admin', sub=stack['victim'].user.id))}.{signature}"


def _bad_signature(stack):
    token = stack["victim"].token
    return token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")


TOKEN_CASES = {
    "garbage": lambda s: "Bearer not-a-token",
    "basic-scheme": lambda s: "Basic dmljdGltOmNvcnJlY3QgaG9yc2UgYmF0dGVyeQ==",
    "basic-scheme-with-a-valid-token": lambda s: "Basic " + s["victim"].token,
    "empty-bearer": lambda s: "Bearer ",
    "bearer-alone": lambda s: "Bearer",
    "token-without-scheme": lambda s: s["victim"].token,
    "empty-header": lambda s: "",
    "tampered-payload": lambda s: "Bearer " + _tampered(s),
    "tampered-signature": lambda s: "Bearer " + _bad_signature(s),
    "wrong-key": lambda s: "Bearer " + _signed(s, key=b"k" * 48),
    "expired": lambda s: "Bearer " + _signed(s, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
    "not-yet-valid": lambda s: "Bearer " + _signed(s, nbf=int(time.time()) + 3600),
    "issued-in-the-future": lambda s: "Bearer " + _signed(s, iat=int(time.time()) + 3600,
                                                          exp=int(time.time()) + 7200),
    "alg-none": lambda s: "Bearer " + jwt.encode(_claims(s), None, algorithm="none"),
    "alg-none-hand-made": lambda s: "Bearer " + _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(_claims(s)) + ".",
    "alg-hs512-right-key": lambda s: "Bearer " + _signed(s, algorithm="HS512"),
    "no-exp": lambda s: "Bearer " + _signed(s, exp=...),
    "no-tv": lambda s: "Bearer " + _signed(s, tv=...),
    "tv-as-string": lambda s: "Bearer " + _signed(s, tv="0"),
    "tv-as-bool": lambda s: "Bearer " + _signed(s, tv=False),
    "tv-ahead": lambda s: "Bearer " + _signed(s, tv=1),
    "sub-as-int": lambda s: "Bearer " + _signed(s, sub=5),
    "revoked-by-logout": lambda s: "Bearer " + s["revoked"].token,
    "unknown-user-id": lambda s: "Bearer " + _signed(s, sub="usr_00000000000000000000000000"),
    "deleted-user": lambda s: "Bearer " + s["deleted"].token,
    "over-long": lambda s: "Bearer " + "a" * 5000,
    "non-ascii": lambda s: "Bearer caf\u00e9.\u00fc.\u00f1",
    "two-tokens": lambda s: f"Bearer {s['victim'].token} {s['victim'].token}",
}


@pytest.mark.parametrize("make", TOKEN_CASES.values(), ids=TOKEN_CASES.keys())
def test_bad_tokens_are_401(api, stack, make):
    header = make(stack)
    secret = header.split(" ", 1)[-1]
    for method, path in (("GET", "/v1/me"), ("GET", "/v1/admin/audit"), ("POST", "/v1/auth/logout")):
        r = send(api, method, path, headers={"Authorization": header})
        refused(r, 401, "unauthenticated", echo=[secret] if len(secret) > 8 else [])
    # the victim is still logged in: a refused token revokes nothing
    assert send(api, "GET", "/v1/me", token=stack["victim"].token).status_code == 200


def test_a_role_claim_grants_nothing(api, stack):
    """A validly signed token claiming role admin for a person: the role comes
    from the person, not the token."""
    token = _signed(stack, role="admin")
    assert send(api, "GET", "/v1/me", token=token).status_code == 200
    refused(send(api, "GET", "/v1/admin/audit", token=token), 403, "forbidden")


# --- paths, methods, queries ---------------------------------------------------

@pytest.fixture
def gateway_api(api):
    """The app behind the dev server's gateway (scripts/devserver.py), which
    answers unknown paths the way the template's GatewayResponses do on AWS.
    Chalice's own test gateway answers them itself, before the app, with a
    403 that echoes the Authorization header."""
    import devserver
    client = api.client.http
    client._local_gateway = devserver.FlockGateway(client._app, client._config)
    return api


UNKNOWN_PATHS = [
    ("GET", "/v1/nowhere"),
    ("POST", "/v1/nowhere"),
    ("POST", "/"),  # GET / is the web client
    ("GET", "/static"),
    ("GET", "/static/../app.py"),
    ("GET", "/v1"),
    ("GET", "/v2/me"),
    ("GET", "/v1/me/extra"),
    ("GET", "/V1/ME"),
    ("DELETE", "/v1/admin/users/victim"),
    ("GET", "/v1/admin/users/victim/verify/now"),
    ("OPTIONS", "/v1/nowhere"),
]


@pytest.mark.parametrize("method,path", UNKNOWN_PATHS)
@pytest.mark.parametrize("authorization", [SECRET_HEADER, None, "Bearer caf\u00e9-\u00fc-zq-DISTINCTIVE"])
def test_unknown_paths_are_404_and_echo_nothing(gateway_api, method, path, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    r = send(gateway_api, method, path, headers=headers)
    refused(r, 404, "not_found", echo=["DISTINCTIVE", "Authorization", "Credential"])


UNKNOWN_METHODS = [
    ("DELETE", "/v1/me"),
    ("PUT", "/v1/auth/signup"),
    ("GET", "/v1/auth/login"),
    ("GET", "/v1/auth/logout"),
    ("PATCH", "/v1/health"),
    ("POST", "/v1/wallet"),
    ("DELETE", "/v1/admin/audit"),
    ("GET", "/v1/admin/users/victim/verify"),
    ("PUT", "/v1/admin/test-clock"),
]


@pytest.mark.parametrize("method,path", UNKNOWN_METHODS)
def test_unknown_methods_are_404_and_echo_nothing(api, method, path):
    r = send(api, method, path, headers={"Authorization": SECRET_HEADER})
    refused(r, 404, "not_found", echo=["DISTINCTIVE"])


@pytest.mark.parametrize("method,path", UNKNOWN_METHODS[:3] + [("OPTIONS", "/v1/me")])
def test_unknown_methods_through_the_gateway(gateway_api, method, path):
    r = send(gateway_api, method, path, headers={"Authorization": SECRET_HEADER})
    refused(r, 404, "not_found", echo=["DISTINCTIVE"])


def test_the_gateway_serves_known_routes_as_before(gateway_api, stack):
    assert send(gateway_api, "GET", "/v1/health").status_code == 200
    r = send(gateway_api, "GET", "/v1/me", token=stack["victim"].token)
    assert r.status_code == 200 and r.json_body["handle"] == "victim"
    refused(send(gateway_api, "GET", "/v1/me", headers={"Authorization": SECRET_HEADER}), 401, "unauthenticated",
            echo=["DISTINCTIVE"])


@pytest.mark.parametrize("path", [
    "/v1/users/" + "a" * 3000,
    "/v1/users/%00",
    "/v1/users/..%2F..%2Fadmin",
    "/v1/users/%F0%9F%98%80",
    "/v1/users/admin%23HANDLE",
    "/v1/users/v\u0456ctim",
])
def test_odd_handles_in_paths_are_404(api, stack, path, dynamodb_keys):
    refused(send(api, "GET", path, token=stack["victim"].token), 404, "not_found")
    assert dynamodb_keys and _longest_key(dynamodb_keys) <= 2048


@pytest.fixture
def dynamodb_keys():
    """The key of every GetItem Flock sends (moto takes keys real DynamoDB
    refuses with a ValidationException: over 2048 bytes)."""
    from chalicelib.db import base
    seen = []

    def record(params, **_):
        seen.append(params.get("Key", {}))
    base.register_hook("provide-client-params.dynamodb.GetItem", record)
    yield seen
    base.unregister_hook("provide-client-params.dynamodb.GetItem", record)


def _longest_key(seen) -> int:
    return max((len(v.get("S", "").encode()) for key in seen for v in key.values()), default=0)


@pytest.mark.parametrize("action", ["verify", "freeze", "unfreeze"])
def test_odd_handles_in_admin_paths_are_404(api, action, dynamodb_keys):
    api.login("admin", ADMIN_PASSWORD)
    before = users_items()
    for handle in ("a" * 3000, "victim%00", "VICTIM\u0000"):
        r = send(api, "POST", f"/v1/admin/users/{handle}/{action}", raw=obj(reason="x"), token=api.tokens["admin"])
        err = refused(r, 404, "not_found")
        assert "a" * 100 not in err["message"]
    assert users_items() == before
    assert dynamodb_keys and _longest_key(dynamodb_keys) <= 2048


@pytest.mark.parametrize("query,param", [
    ("limit=abc", "limit"),
    ("limit=0", "limit"),
    ("limit=-5", "limit"),
    ("limit=101", "limit"),
    ("limit=1e2", "limit"),
    ("limit=" + "9" * 5000, "limit"),
    ("cursor=not-a-cursor", "cursor"),
    ("cursor=" + "a" * 3000, "cursor"),
    ("cursor=a.b", "cursor"),
])
def test_hostile_queries_are_400(api, query, param):
    api.login("admin", ADMIN_PASSWORD)
    refused(send(api, "GET", f"/v1/admin/audit?{query}", token=api.tokens["admin"]), 400, "invalid_request", param)


def test_a_forged_cursor_with_a_valid_shape_is_400(api):
    """A cursor's MAC is checked: a client cannot page from a key of its choosing."""
    api.login("admin", ADMIN_PASSWORD)
    payload = base64.urlsafe_b64encode(json.dumps({"pk": "USER#x", "sk": "PROFILE"}).encode()).decode()
    mac = base64.urlsafe_b64encode(b"\0" * 16).decode()
    r = send(api, "GET", f"/v1/admin/audit?cursor={payload}.{mac}", token=api.tokens["admin"])
    refused(r, 400, "invalid_request", "cursor")
