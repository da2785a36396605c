"""The OpenAPI document and /docs: complete (every route of the app), true
to the validators, and its response schemas true to real answers."""
import inspect
import re
import subprocess
import sys
import uuid

import jsonschema
import pytest
from pydantic import BaseModel

import app as app_module
from chalicelib import http
from chalicelib.api import openapi, responses
from chalicelib.finance.money import SUPPORTED_CURRENCIES
from tests.conftest import ROOT
from tests.unit.videos_helpers import MP4, send


def _doc():
    return openapi.document(app_module.app)


def _takes_body(spec) -> bool:
    return spec.body is not None or "raw_body" in inspect.getsource(spec.view)


def test_every_route_is_documented_with_its_body():
    doc = _doc()
    registered = {(s.path, s.method): s for s in http.REGISTRY}
    count = 0
    for path, methods in app_module.app.routes.items():
        for method in methods:
            count += 1
            op = doc["paths"].get(path, {}).get(method.lower())
            assert op is not None, f"{method} {path} is missing from the document"
            spec = registered[(path, method)]
            if _takes_body(spec):
                assert op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema"), \
                    f"{method} {path} takes a body but documents no request schema"
            for name in re.findall(r"{([^}]+)}", path):
                assert any(p["in"] == "path" and p["name"] == name for p in op.get("parameters", ())), (path, name)
            if spec.idempotent:
                assert any(p["name"] == "Idempotency-Key" and p["required"] for p in op["parameters"]), path
            assert op["security"] == ([{"bearer": []}] if spec.auth else
                                      [{f"{spec.network}Network": []}] if spec.network else [])
            assert spec.view_name in responses.SUCCESS, f"no response schema for {spec.view_name}"
            assert {str(s) for s in responses.SUCCESS[spec.view_name]} <= set(op["responses"])
            for status in ("400", "404") + (("401", "403") if spec.auth else ()):
                assert op["responses"][status]["content"]["application/json"]["schema"] == \
                    {"$ref": "#/components/schemas/Error"}
    assert count == sum(len(v) for v in doc["paths"].values()) >= 50


def test_the_document_is_valid_openapi_3_1():
    from openapi_spec_validator import validate
    doc = _doc()
    assert doc["openapi"] == "3.1.0"
    validate(doc)
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}


def test_bounds_are_the_validators():
    schemas = _doc()["components"]["schemas"]
    money = schemas["MoneyBody"]
    assert money["properties"]["amount"] == {"type": "integer", "minimum": 1, "maximum": 10**12, "title": "Amount"}
    assert money["properties"]["currency"]["enum"] == ["USD"]
    assert money["additionalProperties"] is False
    signup = schemas["Signup"]["properties"]
    assert signup["handle"]["pattern"] == r"^[A-Za-z0-9_]{1,15}$"
    assert (signup["password"]["minLength"], signup["password"]["maxLength"]) == (10, 128)
    text = schemas["PostBody"]["properties"]["text"]
    assert (text["minLength"], text["maxLength"]) == (1, 280)
    assert schemas["PostBody"]["properties"]["audience"]["enum"] == ["public", "subscribers"]
    assert "from" in schemas["RequestBody"]["properties"]  # the alias, not from_
    assert "with" in schemas["ConversationBody"]["properties"]
    limit = next(p for p in _doc()["paths"]["/v1/timeline"]["get"]["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 100)


def test_import_app_does_not_build_the_document():
    code = ("import app; from chalicelib.api import openapi, docs; "
            "assert openapi._cached.cache_info().currsize == 0; assert docs._page.cache_info().currsize == 0; "
            "import sys; built = [m for m in sys.modules if m.startswith('chalicelib.records.')]; "
            "assert built == [], f'a cold start builds the answer records: {built}'")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_openapi_json_and_docs_need_no_token(api):
    r = api.call("GET", "/v1/openapi.json")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    assert set(r.json_body["paths"]) == set(app_module.app.routes)
    page = api.call("GET", "/docs")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "script-src 'self';" in page.headers["Content-Security-Policy"]
    text = page.body.decode() if isinstance(page.body, bytes) else page.body
    # offline: Swagger UI and its stylesheet come from this origin, nothing from elsewhere
    assert re.findall(r"(?:src|href)='([^']*)'", text) and \
        all(url.startswith("/") for url in re.findall(r"(?:src|href)='([^']*)'", text))
    for url in re.findall(r"(?:src)='(/static/[^']*)'", text):
        assert api.call("GET", url).status_code == 200, url


# Response schemas against real answers -------------------------------------

class Checked:
    """Calls through `api` and checks each answer against the document."""

    def __init__(self, api):
        self.api, self.doc, self.seen = api, _doc(), set()
        self.templates = [(re.compile("^" + re.sub(r"{[^}]+}", "[^/]+", p) + "$"), p) for p in self.doc["paths"]]

    def __call__(self, method, path, body=None, as_=None, status=None, headers=None):
        r = self.api.call(method, path, body, as_=as_, headers=headers)
        template = next(t for rx, t in self.templates if rx.match(path.split("?")[0]))
        answers = self.doc["paths"][template][method.lower()]["responses"]
        assert str(r.status_code) in answers, (method, path, r.status_code, r.body)
        if status is not None:
            assert r.status_code == status, (method, path, r.body)
        content = answers[str(r.status_code)].get("content")
        if content and "application/json" in content and r.body:
            schema = {**content["application/json"]["schema"], "components": self.doc["components"]}
            jsonschema.validate(r.json_body, schema, cls=jsonschema.Draft202012Validator)
            model = responses.SCHEMAS.get(schema.get("$ref", "").rsplit("/", 1)[-1])
            if isinstance(model, type) and issubclass(model, BaseModel):  # typed: times, enums, currency
                model.model_validate(r.json_body)
        self.seen.add((method, template))
        return r


def test_response_schemas_match_real_answers(api):
    call = Checked(api)
    key = lambda: {"Idempotency-Key": str(uuid.uuid4())}  # noqa: E731
    call("GET", "/v1/health", status=200)
    api.verified("alice")
    api.verified("bob")
    call("POST", "/v1/auth/signup", {"handle": "carol", "password": "correct horse battery"}, status=201)
    call("POST", "/v1/auth/login", {"handle": "alice", "password": "correct horse battery"}, status=200)
    api.login("alice")
    call("GET", "/v1/me", as_="alice", status=200)
    call("PATCH", "/v1/me", {"bio": "hi"}, as_="alice", status=200)
    call("GET", "/v1/users/bob", as_="alice", status=200)
    call("POST", "/v1/users/bob/follow", as_="alice", status=200)
    call("DELETE", "/v1/users/carol/follow", as_="alice", status=200)
    call("GET", "/v1/users/bob/followers", as_="alice", status=200)
    call("GET", "/v1/users/alice/following", as_="alice", status=200)
    call("POST", "/v1/wallet/deposits", {"amount": 50_000, "currency": "USD"}, as_="alice", headers=key(), status=201)
    call("POST", "/v1/wallet/deposits", {"amount": 50_000, "currency": "USD"}, as_="bob", headers=key(), status=201)
    call("POST", "/v1/wallet/withdrawals", {"amount": 100, "currency": "USD"}, as_="alice", headers=key(), status=201)
    t = call("POST", "/v1/transfers", {"to": "bob", "amount": 100, "currency": "USD"}, as_="alice", headers=key(),
             status=201).json_body
    call("GET", f"/v1/transfers/{t['id']}", as_="bob", status=200)
    call("GET", "/v1/wallet", as_="alice", status=200)
    call("GET", "/v1/wallet/transactions?limit=2", as_="alice", status=200)
    from chalicelib import clock
    call("GET", f"/v1/wallet/statements/{clock.now():%Y-%m}", as_="alice", status=200)
    call("GET", f"/v1/wallet/statements/{clock.now():%Y-%m}/csv", as_="alice", status=200)
    rq = call("POST", "/v1/payment-requests", {"from": "bob", "amount": 100, "currency": "USD"}, as_="alice",
              status=201).json_body
    call("GET", "/v1/payment-requests?role=incoming", as_="bob", status=200)
    call("POST", f"/v1/payment-requests/{rq['id']}/pay", as_="bob", headers=key(), status=200)
    rq2 = call("POST", "/v1/payment-requests", {"from": "bob", "amount": 100, "currency": "USD"}, as_="alice").json_body
    call("POST", f"/v1/payment-requests/{rq2['id']}/decline", as_="bob", status=200)
    post = call("POST", "/v1/posts", {"text": "hello world", "price": {"amount": 500, "currency": "USD"}},
                as_="bob", status=201).json_body
    call("GET", f"/v1/posts/{post['id']}", as_="alice", status=200)
    call("GET", "/v1/users/bob/posts", as_="alice", status=200)
    call("POST", f"/v1/posts/{post['id']}/likes", as_="alice", status=200)
    call("DELETE", f"/v1/posts/{post['id']}/likes", as_="alice", status=200)
    call("POST", f"/v1/posts/{post['id']}/tips", {"amount": 100, "currency": "USD"}, as_="alice", headers=key(),
         status=201)
    call("POST", f"/v1/posts/{post['id']}/unlock", as_="alice", headers=key(), status=201)
    call("POST", f"/v1/posts/{post['id']}/unlock", as_="alice", headers=key(), status=200)
    call("GET", "/v1/timeline", as_="alice", status=200)
    call("GET", "/v1/search?q=hello", as_="alice", status=200)
    call("GET", "/v1/search?q=bo&type=users", as_="alice", status=200)
    call("PUT", "/v1/me/subscription-price", {"amount": 300, "currency": "USD"}, as_="bob", status=200)
    call("POST", "/v1/users/bob/subscription", as_="alice", headers=key(), status=201)
    call("DELETE", "/v1/me/subscription-price", as_="bob", status=200)
    call("GET", "/v1/me/subscriptions", as_="alice", status=200)
    call("DELETE", "/v1/users/bob/subscription", as_="alice", status=200)
    offered = call("POST", "/v1/videos", {"content_type": "video/mp4", "size_bytes": len(MP4)}, as_="bob",
                   status=201).json_body
    send(offered, MP4)
    call("POST", f"/v1/videos/{offered['id']}/complete", as_="bob", status=200)
    call("GET", f"/v1/videos/{offered['id']}", as_="bob", status=200)
    film = call("POST", "/v1/posts", {"text": "a film", "video_id": offered["id"]}, as_="bob", status=201).json_body
    call("GET", f"/v1/posts/{film['id']}/video", as_="alice", status=200)
    call("GET", f"/v1/me/earnings?month={clock.now():%Y-%m}", as_="bob", status=200)
    conv = call("POST", "/v1/conversations", {"with": "bob"}, as_="alice", status=201).json_body
    call("POST", "/v1/conversations", {"with": "bob"}, as_="alice", status=200)
    call("GET", "/v1/conversations", as_="alice", status=200)
    call("POST", f"/v1/conversations/{conv['id']}/messages", {"text": "hi"}, as_="alice", status=201)
    call("POST", f"/v1/conversations/{conv['id']}/payments", {"amount": 100, "currency": "USD"}, as_="alice",
         headers=key(), status=201)
    call("GET", f"/v1/conversations/{conv['id']}/messages", as_="bob", status=200)
    call("POST", "/v1/wallet/credit-line", {"requested_limit": 0}, as_="alice")
    # Lending: a person old enough to borrow.
    from datetime import timedelta
    now = clock.now()
    clock.pin(now - timedelta(days=60))
    api.verified("dora")
    api.deposit("dora", 500_000)
    clock.pin(now)
    declined = call("POST", "/v1/loans/applications", {"amount": 10_000, "term_months": 3}, as_="alice",
                    headers=key(), status=201).json_body
    assert declined["status"] == "declined"
    application = call("POST", "/v1/loans/applications", {"amount": 100_000, "term_months": 12}, as_="dora",
                       headers=key(), status=201).json_body
    call("GET", f"/v1/loans/applications/{application['id']}", as_="dora", status=200)
    loan = call("POST", f"/v1/loans/applications/{application['id']}/accept", as_="dora", headers=key(),
                status=201).json_body
    call("GET", "/v1/loans", as_="dora", status=200)
    call("GET", f"/v1/loans/{loan['id']}", as_="dora", status=200)
    call("POST", f"/v1/loans/{loan['id']}/payments", {"amount": 5_000, "currency": "USD"}, as_="dora",
         headers=key(), status=201)
    call("GET", f"/v1/loans/{loan['id']}/payoff", as_="dora", status=200)
    # Cards, and the card network's signed calls.
    import json as json_
    from chalicelib.identity import keys as keys_, network_auth
    card = call("POST", "/v1/cards", {"label": "daily"}, as_="dora", headers=key(), status=201).json_body
    call("GET", "/v1/cards", as_="dora", status=200)
    call("GET", f"/v1/cards/{card['id']}", as_="dora", status=200)
    call("POST", f"/v1/cards/{card['id']}/reveal", {"password": "correct horse battery"}, as_="dora", status=200)
    call("POST", f"/v1/cards/{card['id']}/freeze", as_="dora", status=200)
    call("POST", f"/v1/cards/{card['id']}/unfreeze", as_="dora", status=200)
    call("PUT", f"/v1/cards/{card['id']}/limits", {"daily": 100_000, "blocked_mccs": ["7995"]}, as_="dora", status=200)

    def network(path, body, status=200):
        signed = {"Flock-Signature": network_auth.sign(keys_.network_secret("card"), json_.dumps(body).encode())}
        return call("POST", path, body, headers=signed, status=status).json_body
    shop = {"name": "Shop", "mcc": "5411", "city": "Portland", "country": "US"}
    card_body = {"card_number": card["number"], "exp_month": card["exp_month"], "exp_year": card["exp_year"],
                 "cvc": card["cvc"], "currency": "USD", "merchant": shop}
    auth = network("/v1/network/card-authorizations", {"id": "e1", "amount": 1_000, **card_body})
    declined = network("/v1/network/card-authorizations", {"id": "e2", "amount": 10**9, **card_body})
    assert declined["decline_reason"] == "insufficient_funds"
    network(f"/v1/network/card-authorizations/{auth['authorization_id']}/increments", {"id": "e3", "amount": 100})
    network("/v1/network/card-reversals", {"id": "e4", "authorization_id": auth["authorization_id"], "amount": 100})
    network("/v1/network/card-clearings", {"id": "e5", "authorization_id": auth["authorization_id"], "amount": 900,
                                           "currency": "USD"})
    network("/v1/network/card-refunds", {"id": "e6", "card_number": card["number"], "amount": 500,
                                         "currency": "USD", "merchant": shop})
    call("GET", f"/v1/cards/{card['id']}/transactions", as_="dora", status=200)
    call("DELETE", f"/v1/cards/{card['id']}", as_="dora", status=200)

    # Paper checks: written, stopped, presented by the network, deposited and returned.
    from tests.unit.checks_world import check_signature, deposit_body, presentment
    check = call("POST", "/v1/checks", {"payee": "Bob", "amount": 500, "currency": "USD"}, as_="dora",
                 headers=key(), status=201).json_body
    call("GET", "/v1/checks", as_="dora", status=200)
    call("GET", f"/v1/checks/{check['id']}", as_="dora", status=200)
    body = presentment(check)
    call("POST", "/v1/network/check-presentments", body, headers=check_signature(body), status=200)
    stopped = call("POST", "/v1/checks", {"payee": "Bob", "amount": 500, "currency": "USD"}, as_="dora",
                   headers=key(), status=201).json_body
    call("POST", f"/v1/checks/{stopped['id']}/stop", as_="dora", status=200)
    body = presentment(stopped)
    call("POST", "/v1/network/check-presentments", body, headers=check_signature(body), status=200)
    dep = call("POST", "/v1/check-deposits", deposit_body(20_000), as_="dora", headers=key(), status=201).json_body
    call("GET", "/v1/check-deposits", as_="dora", status=200)
    call("GET", f"/v1/check-deposits/{dep['id']}", as_="dora", status=200)
    body = {"id": "ret-1", "deposit_id": dep["id"], "reason": "refer_to_maker"}
    call("POST", "/v1/network/check-returns", body, headers=check_signature(body), status=200)
    api.login("admin", __import__("tests.conftest", fromlist=["ADMIN_PASSWORD"]).ADMIN_PASSWORD)
    call("PUT", "/v1/admin/loan-products", {"min_amount": 10_000, "max_amount": 2_500_000, "terms": [3, 12, 36],
                                            "apr_bps_by_grade": {"A": 500, "B": 800, "C": 1200, "D": 1800,
                                                                 "E": 2400}}, as_="admin", status=200)
    call("POST", "/v1/admin/users/carol/verify", {}, as_="admin", status=200)
    call("POST", "/v1/admin/users/carol/freeze", {"reason": "x"}, as_="admin", status=200)
    call("POST", "/v1/admin/users/carol/unfreeze", {}, as_="admin", status=200)
    call("PUT", "/v1/admin/users/carol/credit-limit", {"credit_limit": 1000}, as_="admin", status=200)
    call("PUT", "/v1/admin/rates", {"apy_bps": 400, "overdraft_apr_bps": 2000,
                                    "effective_date": f"{clock.now():%Y-%m-%d}"}, as_="admin")
    call("POST", "/v1/admin/test-clock", {"advance_days": 0}, as_="admin", status=200)
    call("POST", "/v1/admin/jobs/reconcile", {}, as_="admin", status=200)
    call("GET", "/v1/admin/jobs/accrue-interest/runs/run_0", as_="admin", status=404)
    call("GET", "/v1/admin/ledger/check", as_="admin", status=200)
    call("GET", "/v1/admin/audit", as_="admin", status=200)
    # Money in other currencies.
    call("PUT", "/v1/admin/fx-rates", {"base": "USD", "rates": {"EUR": "0.80"}}, as_="admin", status=200)
    call("GET", "/v1/wallet/pockets", as_="alice", status=200)
    q = call("POST", "/v1/fx/quotes", {"sell_currency": "USD", "buy_currency": "EUR", "sell_amount": 1_000},
             as_="alice", status=201).json_body
    call("POST", "/v1/fx/conversions", {"quote_id": q["id"]}, as_="alice", headers=key(), status=201)
    call("GET", "/v1/wallet?currency=EUR", as_="alice", status=200)
    call("POST", "/v1/transfers", {"to": "bob", "amount": 100, "currency": "USD", "deliver_currency": "EUR"},
         as_="alice", headers=key(), status=201)
    call("POST", "/v1/me/password", {"current_password": "correct horse battery",
                                     "new_password": "another horse battery"}, as_="alice")
    call("DELETE", f"/v1/posts/{post['id']}", as_="bob", status=204)
    signed_in = call("POST", "/v1/auth/login", {"handle": "bob", "password": "correct horse battery"},
                     status=200).json_body
    call("POST", "/v1/auth/refresh", {"refresh_token": signed_in["refresh_token"]}, status=200)
    others = [s for s in call("GET", "/v1/me/sessions", as_="bob", status=200).json_body["data"] if not s["current"]]
    call("GET", "/v1/me/security-events", as_="bob", status=200)
    call("DELETE", f"/v1/me/sessions/{others[0]['id']}", as_="bob", status=204)
    import pyotp
    secret = call("POST", "/v1/me/2fa/totp", as_="bob", status=200).json_body["secret"]
    codes = call("POST", "/v1/me/2fa/totp/confirm", {"code": pyotp.TOTP(secret).now()}, as_="bob",
                 status=200).json_body["recovery_codes"]
    mfa_token = call("POST", "/v1/auth/login", {"handle": "bob", "password": "correct horse battery"},
                     status=200).json_body["mfa_token"]
    call("POST", "/v1/auth/mfa", {"mfa_token": mfa_token, "code": codes[0]}, status=200)
    call("DELETE", "/v1/me/2fa", {"password": "correct horse battery", "code": codes[1]}, as_="bob", status=204)
    call("POST", "/v1/auth/logout", as_="bob", status=204)
    call("GET", "/v1/openapi.json", status=200)
    call("GET", "/", status=200)
    call("GET", "/static/app.js", status=200)
    documented = {(m.upper(), p) for p, ops in call.doc["paths"].items() for m in ops} - {("GET", "/docs")}
    assert documented - call.seen == set(), "a route whose answers no test checks"


# Regressions found by schemathesis ------------------------------------------

@pytest.mark.parametrize("month", ["0000-01", "9999-12"])
def test_a_month_out_of_datetimes_range_is_a_400_not_a_500(api, month):
    api.verified("alice")
    r = api.call("GET", f"/v1/wallet/statements/{month}", as_="alice")
    assert r.status_code == 400 and r.json_body["error"]["param"] == "month", r.body
    r = api.call("GET", f"/v1/me/earnings?month={month}", as_="alice")
    assert r.status_code == 400, r.body


def test_a_wrong_password_is_a_documented_401():
    op = _doc()["paths"]["/v1/auth/login"]["post"]
    assert "401" in op["responses"]


# Generated response schemas ---------------------------------------------------

def _properties(schemas):
    for name, schema in schemas.items():
        for prop, value in schema.get("properties", {}).items():
            yield name, prop, value


def _kinds(value) -> list[dict]:
    """The shapes a property allows, without its description."""
    return [{k: v for k, v in kind.items() if k != "description"} for kind in value.get("anyOf", [value])]


def test_every_time_is_a_date_time_and_every_day_a_date():
    schemas = openapi.response_schemas(responses.SCHEMAS)  # the answers, not the request bodies
    times = [(n, p, v) for n, p, v in _properties(schemas) if p.endswith("_at") or p in ("at", "now")
             or p.startswith("current_period_")]
    assert len(times) >= 15
    for name, prop, value in times:
        assert {"type": "string", "format": "date-time"} in _kinds(value), (name, prop, value)
    for name, prop in [("Rates", "effective_date"), ("LoanRow", "due_date"), ("JobSummary", "as_of"),
                       ("LoanPayoff", "good_through"), ("Loan", "next_due_date")]:
        assert {"type": "string", "format": "date"} in _kinds(schemas[name]["properties"][prop]), (name, prop)


def test_closed_sets_are_enums_and_currency_is_one_schema():
    schemas = _doc()["components"]["schemas"]
    ref = lambda name: {"$ref": f"#/components/schemas/{name}"}  # noqa: E731
    assert sorted(schemas["Currency"]["enum"]) == sorted(SUPPORTED_CURRENCIES)
    currencies = [(n, v) for n, p, v in _properties(schemas) if p == "currency"]
    assert len(currencies) >= 10
    for name, value in currencies:  # answers and request bodies alike
        assert ref("Currency") in [{"$ref": k.get("$ref")} for k in _kinds(value) if "$ref" in k], name
    for name, prop, enum in [("Transfer", "kind", "TransferKind"), ("Entry", "kind", "TransferKind"),
                             ("Transfer", "status", "TransferStatus"), ("Account", "status", "AccountStatus"),
                             ("User", "role", "Role"), ("Subscription", "status", "SubscriptionStatus"),
                             ("PaymentRequest", "status", "PaymentRequestStatus"), ("Post", "audience", "Audience"),
                             ("Loan", "status", "LoanStatus"), ("JobRun", "status", "JobRunStatus"),
                             ("JobSummary", "job", "JobName"), ("ErrorDetail", "type", "ErrorType"),
                             ("ErrorDetail", "code", "ErrorCode")]:
        assert schemas[name]["properties"][prop]["$ref"] == ref(enum)["$ref"], (name, prop)
        assert schemas[enum]["type"] == "string" and schemas[enum]["enum"], enum
    assert set(responses.ERROR_CODES) | {"internal_error", "unavailable"} <= set(schemas["ErrorCode"]["enum"])
    assert set(schemas["JobName"]["enum"]) == set(__import__("chalicelib.jobs", fromlist=["NAMES"]).NAMES)


def test_properties_are_described_from_the_models_attributes():
    schemas = _doc()["components"]["schemas"]
    assert schemas["Account"]["properties"]["spendable"]["description"] == "available + credit_limit."
    assert schemas["Transfer"]["properties"]["from"]["description"] == "the payer's handle, if a person."
    assert "Attributes:" not in schemas["Account"]["description"]
    answers = {name: schemas[name] for name in responses.SCHEMAS}
    assert all("title" not in v for _, _, v in _properties(answers))
    modelled = {name: schemas[name] for name, value in responses.SCHEMAS.items()
                if isinstance(value, type) and issubclass(value, BaseModel)}
    undescribed = [(name, prop) for name, prop, value in _properties(modelled) if not value.get("description")]
    assert undescribed == [], "name them in the model's Attributes: section"


def test_answer_models_are_frozen():
    for name, value in responses.SCHEMAS.items():
        if isinstance(value, type) and issubclass(value, BaseModel):
            assert value.model_config.get("frozen") is True, name


def test_replay_and_retry_headers_are_declared():
    doc = _doc()
    assert set(doc["components"]["headers"]) == {"Idempotent-Replayed", "Retry-After"}
    for spec in http.REGISTRY:
        op = doc["paths"][spec.path][spec.method.lower()]
        for status, answer in op["responses"].items():
            headers = answer.get("headers", {})
            if spec.idempotent and status.startswith("2"):
                assert headers.get("Idempotent-Replayed") == {"$ref": "#/components/headers/Idempotent-Replayed"}
            if status in ("429", "503"):
                assert headers.get("Retry-After") == {"$ref": "#/components/headers/Retry-After"}, (spec.path, status)


def test_a_dict_schema_still_works_beside_the_models():
    entries = {"Transfer": responses.SCHEMAS["Transfer"],
               "Cheque": responses.obj({"id": responses.ID, "amount": responses.INT, "at": responses.TIME})}
    schemas = openapi.response_schemas(entries)
    assert schemas["Cheque"]["properties"]["at"] == {"type": "string", "format": "date-time"}
    assert schemas["Transfer"]["properties"]["kind"] == {"$ref": "#/components/schemas/TransferKind",
                                                         "description": "what moved the money."}
    assert "TransferKind" in schemas and "Currency" in schemas


def test_every_route_has_a_summary_and_a_description_of_its_own():
    doc = _doc()
    summaries = set()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            words = op["operationId"].replace("_", " ")
            assert op["summary"] and op["summary"].lower().rstrip(".") != words \
                and op["summary"] != f"{method.upper()} {path}", f"{method} {path}: give its view a docstring"
            assert op["description"] and op["description"] != op["summary"], (method, path)
            summaries.add(op["summary"])
    assert len(summaries) == sum(len(ops) for ops in doc["paths"].values())  # no two alike
