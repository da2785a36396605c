"""Issues 12, 15 and 18's "works over HTTP against `make run`": the dev server
started as `make run` starts it (scripts/devserver.py with its in-process
moto, the admin password it generates and prints), once for the module, and
a person's security, money in another currency and a loan's life driven
over real HTTP.

TOTP codes are security time: the server checks them against the real
clock, so the codes here are made from it too. Each 30 s step's code is
accepted once per person and a step around now (±1) at most, so `Totp`
hands out the next unused step and waits only when none is left; each flow
has its own people, so the module needs no wait in the usual case.
"""
import os
import re
import time
import uuid
from datetime import timedelta

import httpx
import pyotp
import pytest

from tests.conftest import PASSWORD, TEST_NOW
from tests.e2e.conftest import _drain, _iso, _start, _stop

# The loan needs an account 30+ days old: its person is made here, and the
# test clock then moves on (only this module's server sees it).
PRODUCT = {"min_amount": 10_000, "max_amount": 2_500_000, "terms": [3, 6, 12, 24, 36],
           "apr_bps_by_grade": {"A": 500, "B": 824, "C": 1299, "D": 1799, "E": 2499}}
STEP_S = 30
# A code made this close to the end of its step may reach the server in the
# next one; the step before now is then not worth the risk.
STEP_MARGIN_S = 3


@pytest.fixture(scope="module")
def make_run():
    """`make run`'s command and environment (no FLOCK_ADMIN_PASSWORD: the
    server makes one and prints it), on a port the system picks. Business
    time starts at TEST_NOW, as FLOCK_CLOCK_START lets `make run` do."""
    env = {**os.environ, "PORT": "0", "FLOCK_CLOCK_START": _iso(TEST_NOW)}
    env.pop("FLOCK_ADMIN_PASSWORD", None)
    proc, url = _start(["scripts/devserver.py"], env)
    _drain(proc)
    try:
        banner = "".join(proc.printed)
        found = re.search(r'Admin login\s+handle "admin", password (\S+)', banner)
        assert found, banner
        assert f"Web client    {url}/" in banner
        assert "FX rates      ECB reference rates of 2026-03-09 from the bundled sample" in banner
        yield {"url": url, "admin_password": found.group(1)}
    finally:
        _stop(proc)
    assert proc.returncode is not None


class Client:
    """One device of one person: its own connection and user agent, and the
    tokens it was given."""

    def __init__(self, url: str, agent: str):
        self.http = httpx.Client(base_url=url, timeout=30, headers={"User-Agent": agent})
        self.token = self.refresh_token = None

    def call(self, method, path, body=None, token=None, headers=None):
        hdrs = dict(headers or {})
        if token or self.token:
            hdrs["Authorization"] = f"Bearer {token or self.token}"
        return self.http.request(method, path, json=body, headers=hdrs)

    def money(self, path, body, key=None, otp=None):
        headers = {"Idempotency-Key": key or str(uuid.uuid4())}
        if otp:
            headers["Flock-OTP"] = otp
        return self.call("POST", path, body, headers=headers)

    def keep(self, r):
        assert r.status_code in (200, 201), r.text
        self.token, self.refresh_token = r.json()["token"], r.json()["refresh_token"]
        return r.json()

    def signup(self, handle):
        return self.keep(self.http.post("/v1/auth/signup", json={"handle": handle, "password": PASSWORD}))

    def login(self, handle, password=PASSWORD):
        return self.http.post("/v1/auth/login", json={"handle": handle, "password": password})

    def close(self):
        self.http.close()


class Totp:
    """Codes of one secret, each from a step the server has not seen yet."""

    def __init__(self, secret: str):
        self.totp = pyotp.TOTP(secret)
        self.last_step = None

    def code(self) -> str:
        while True:
            now = time.time()
            step = int(now) // STEP_S
            earliest = step if now % STEP_S > STEP_S - STEP_MARGIN_S else step - 1
            chosen = earliest if self.last_step is None else max(self.last_step + 1, earliest)
            if chosen <= step + 1:
                self.last_step = chosen
                return self.totp.at(chosen * STEP_S)
            time.sleep(STEP_S - now % STEP_S + 0.1)

    def wrong(self) -> str:
        """A code of an hour ago: outside every window."""
        return self.totp.at(time.time() - 3600)


def refused(r, status, code):
    assert r.status_code == status, (r.status_code, r.text[:400])
    assert r.json()["error"]["code"] == code, r.text[:400]


def fresh() -> str:
    return "m" + uuid.uuid4().hex[:12]


@pytest.fixture(scope="module")
def admin(make_run):
    """The seeded admin, signed in with the password `make run` printed."""
    client = Client(make_run["url"], "e2e-operator")
    r = client.login("admin", make_run["admin_password"])
    assert r.status_code == 200, r.text
    client.token = r.json()["token"]
    yield client
    client.close()


@pytest.fixture
def device(make_run):
    made = []

    def new(agent="e2e-phone"):
        made.append(Client(make_run["url"], agent))
        return made[-1]

    yield new
    for client in made:
        client.close()


def verified(admin, device, agent="e2e-phone", deposit=0):
    client, handle = device(agent), fresh()
    client.signup(handle)
    r = admin.call("POST", f"/v1/admin/users/{handle}/verify", {"reason": "e2e KYC"})
    assert r.status_code == 200, r.text
    if deposit:
        r = client.money("/v1/wallet/deposits", {"amount": deposit, "currency": "USD"})
        assert r.status_code == 201, r.text
    return client, handle


def event_types(client) -> list:
    r = client.call("GET", "/v1/me/security-events?limit=100")
    assert r.status_code == 200, r.text
    return [e["type"] for e in r.json()["data"]]


def test_sessions_list_and_end_and_refresh_rotation_with_reuse_from_a_second_client(device):
    phone, handle = device("e2e-phone"), fresh()
    phone.signup(handle)
    laptop = device("e2e-laptop")
    laptop.keep(laptop.login(handle))

    r = laptop.call("GET", "/v1/me/sessions")
    assert r.status_code == 200, r.text
    sessions = r.json()["data"]
    assert sorted(s["user_agent"] for s in sessions) == ["e2e-laptop", "e2e-phone"]
    current = [s for s in sessions if s["current"]]
    assert len(current) == 1 and current[0]["user_agent"] == "e2e-laptop"
    assert all(s["id"].startswith("sess_") and s["ip"] == "127.0.0.1" for s in sessions)

    # Rotation: the laptop's refresh token buys a new pair, once.
    stolen = laptop.refresh_token
    r = laptop.http.post("/v1/auth/refresh", json={"refresh_token": stolen})
    assert r.status_code == 200, r.text
    assert r.json()["refresh_token"] != stolen
    laptop.token, laptop.refresh_token = r.json()["token"], r.json()["refresh_token"]
    assert laptop.call("GET", "/v1/me").status_code == 200

    # Reuse from a second client (a thief holding the old token): refused, and
    # the laptop's whole session ends, its fresh access and refresh tokens too.
    thief = device("e2e-thief")
    refused(thief.http.post("/v1/auth/refresh", json={"refresh_token": stolen}), 401, "unauthenticated")
    refused(laptop.call("GET", "/v1/me"), 401, "unauthenticated")
    refused(laptop.http.post("/v1/auth/refresh", json={"refresh_token": laptop.refresh_token}), 401,
            "unauthenticated")
    # The phone's session is another family: it goes on.
    r = phone.call("GET", "/v1/me/sessions")
    assert r.status_code == 200 and [s["user_agent"] for s in r.json()["data"]] == ["e2e-phone"]

    # A session ended by its owner while in use stops working at once.
    tablet = device("e2e-tablet")
    tablet.keep(tablet.login(handle))
    assert tablet.call("GET", "/v1/me").status_code == 200
    tablet_session = next(s["id"] for s in phone.call("GET", "/v1/me/sessions").json()["data"]
                          if s["user_agent"] == "e2e-tablet")
    assert phone.call("DELETE", f"/v1/me/sessions/{tablet_session}").status_code == 204
    refused(tablet.call("GET", "/v1/me"), 401, "unauthenticated")
    refused(tablet.http.post("/v1/auth/refresh", json={"refresh_token": tablet.refresh_token}), 401,
            "unauthenticated")
    # Another person's session id, or one already ended, is not found.
    refused(phone.call("DELETE", f"/v1/me/sessions/{tablet_session}"), 404, "not_found")
    stranger = device("e2e-stranger")
    stranger.signup(fresh())
    phone_session = phone.call("GET", "/v1/me/sessions").json()["data"][0]["id"]
    refused(stranger.call("DELETE", f"/v1/me/sessions/{phone_session}"), 404, "not_found")
    assert phone.call("GET", "/v1/me").status_code == 200

    types = event_types(phone)
    assert {"sign_in", "refresh_reuse", "session_ended"} <= set(types), types
    reuse = next(e for e in phone.call("GET", "/v1/me/security-events").json()["data"]
                 if e["type"] == "refresh_reuse")
    assert reuse["ip"] == "127.0.0.1" and reuse["user_agent"] == "e2e-thief"


def test_totp_enrol_confirm_mfa_login_and_a_recovery_code_used_twice(device):
    phone, handle = device(), fresh()
    phone.signup(handle)
    r = phone.call("POST", "/v1/me/2fa/totp")
    assert r.status_code == 200, r.text
    assert r.json()["otpauth_uri"].startswith("otpauth://totp/")
    codes = Totp(r.json()["secret"])
    refused(phone.call("POST", "/v1/me/2fa/totp/confirm", {"code": codes.wrong()}), 400, "invalid_request")
    r = phone.call("POST", "/v1/me/2fa/totp/confirm", {"code": codes.code()})
    assert r.status_code == 200, r.text
    recovery = r.json()["recovery_codes"]
    assert len(recovery) == len(set(recovery)) == 10

    # The password alone no longer signs in: it answers an mfa_token.
    laptop = device("e2e-laptop")
    r = laptop.login(handle)
    assert r.status_code == 200 and r.json()["mfa_required"] is True and "token" not in r.json(), r.text
    code = codes.code()
    laptop.keep(laptop.http.post("/v1/auth/mfa", json={"mfa_token": r.json()["mfa_token"], "code": code}))
    assert laptop.call("GET", "/v1/me").json()["handle"] == handle
    # The same code again (within its window) does not sign in a second time.
    again = laptop.login(handle).json()["mfa_token"]
    refused(laptop.http.post("/v1/auth/mfa", json={"mfa_token": again, "code": code}), 401, "invalid_credentials")

    # A recovery code works once.
    r = laptop.http.post("/v1/auth/mfa", json={"mfa_token": laptop.login(handle).json()["mfa_token"],
                                               "code": recovery[0]})
    assert r.status_code == 200 and r.json()["token"], r.text
    r = laptop.http.post("/v1/auth/mfa", json={"mfa_token": laptop.login(handle).json()["mfa_token"],
                                               "code": recovery[0]})
    refused(r, 401, "invalid_credentials")

    # Turning it off takes the password and a code; then the password suffices.
    refused(phone.call("DELETE", "/v1/me/2fa", {"password": "not the password", "code": recovery[1]}), 401,
            "invalid_credentials")
    r = phone.call("DELETE", "/v1/me/2fa", {"password": PASSWORD, "code": recovery[1]})
    assert r.status_code == 204, r.text
    assert "token" in laptop.login(handle).json()

    types = event_types(phone)
    assert {"2fa_enrolled", "2fa_enabled", "recovery_code_used", "sign_in_failed", "2fa_disabled"} <= set(types), \
        types


def test_step_up_on_a_large_transfer_and_a_new_payee_none_for_a_small_one_to_a_known_payee(admin, device):
    payer, _ = verified(admin, device, deposit=500_000)
    _, known = verified(admin, device)
    _, stranger = verified(admin, device)
    r = payer.money("/v1/transfers", {"to": known, "amount": 1_000, "currency": "USD"})
    assert r.status_code == 201, r.text  # paid before 2FA: counts as paid
    codes = Totp(payer.call("POST", "/v1/me/2fa/totp").json()["secret"])
    assert payer.call("POST", "/v1/me/2fa/totp/confirm", {"code": codes.code()}).status_code == 200

    def balance():
        return payer.call("GET", "/v1/wallet").json()["balance"]

    small = {"to": known, "amount": 2_500, "currency": "USD"}
    assert payer.money("/v1/transfers", small).status_code == 201  # no code needed
    assert balance() == 500_000 - 3_500

    large, key = {"to": known, "amount": 150_000, "currency": "USD"}, str(uuid.uuid4())
    refused(payer.money("/v1/transfers", large, key), 403, "step_up_required")
    refused(payer.money("/v1/transfers", large, key, otp=codes.wrong()), 403, "step_up_required")
    assert balance() == 500_000 - 3_500  # nothing moved, nothing stored under the key
    r = payer.money("/v1/transfers", large, key, otp=codes.code())
    assert r.status_code == 201, r.text
    assert balance() == 500_000 - 153_500

    new_payee, key = {"to": stranger, "amount": 500, "currency": "USD"}, str(uuid.uuid4())
    refused(payer.money("/v1/transfers", new_payee, key), 403, "step_up_required")
    code = codes.code()
    assert payer.money("/v1/transfers", new_payee, key, otp=code).status_code == 201
    # The code authorised that request only: another one with it is refused.
    refused(payer.money("/v1/transfers", {**large, "amount": 100_001}, otp=code), 403, "step_up_required")
    assert balance() == 500_000 - 154_000

    refusals = [e for e in payer.call("GET", "/v1/me/security-events?limit=100").json()["data"]
                if e["type"] == "step_up_refused"]
    assert len(refusals) == 4 and {e["user_agent"] for e in refusals} == {"e2e-phone"}


def test_a_fresh_stack_takes_a_eur_deposit_quotes_it_and_converts_it(admin, device):
    """`make run` seeds the bundled sample's ECB rates (of 2026-03-09: 1 EUR = 1.0850 USD)."""
    client, _ = verified(admin, device)
    r = admin.call("GET", "/v1/admin/audit?limit=100")
    assert r.status_code == 200, r.text
    (seeded,) = [a for a in r.json()["data"] if a["action"] == "fx_rates"]
    assert seeded["actor"] == "fx-rates" and seeded["details"]["as_of"] == "2026-03-09", seeded
    assert seeded["reason"] == "loaded from the bundled sample scripts/data/eurofxref-sample.xml"
    key = str(uuid.uuid4())
    r = client.money("/v1/wallet/deposits", {"amount": 5_000, "currency": "EUR"}, key)
    assert r.status_code == 201 and (r.json()["amount"], r.json()["currency"]) == (5_000, "EUR"), r.text
    again = client.money("/v1/wallet/deposits", {"amount": 5_000, "currency": "EUR"}, key)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    r = client.call("POST", "/v1/fx/quotes", {"sell_currency": "EUR", "buy_currency": "USD", "sell_amount": 2_000})
    assert r.status_code == 201, r.text
    quote = r.json()
    # (2,000 - fee) x the rate with the spread, rounded down: less than the mid-market 2,170 cents.
    assert quote["fee"] == 6 and 2_100 < quote["buy_amount"] < 2_170, quote
    key = str(uuid.uuid4())
    r = client.money("/v1/fx/conversions", {"quote_id": quote["id"]}, key)
    assert r.status_code == 201 and r.json()["kind"] == "conversion", r.text
    refused(client.money("/v1/fx/conversions", {"quote_id": quote["id"]}), 409, "invalid_state")  # once
    pockets = {p["currency"]: p["balance"] for p in client.call("GET", "/v1/wallet/pockets").json()["data"]}
    assert pockets == {"USD": quote["buy_amount"], "EUR": 3_000}, pockets
    check = admin.call("GET", "/v1/admin/ledger/check").json()
    assert check["balanced"] is True and check["totals"]["EUR"] == 0 and check["totals"]["USD"] == 0, check


def test_a_loan_from_application_to_payoff_with_the_books_balanced(admin, device):
    """Last in the module: it moves the test clock 60 days on."""
    assert admin.call("PUT", "/v1/admin/loan-products", PRODUCT).status_code == 200
    borrower, _ = verified(admin, device, deposit=1_000_000)
    r = admin.call("POST", "/v1/admin/test-clock", {"advance_days": 60})
    assert r.status_code == 200, r.text
    today = r.json()["now"][:10]
    assert today == (TEST_NOW + timedelta(days=60)).date().isoformat()

    r = borrower.money("/v1/loans/applications", {"amount": 250_000, "term_months": 12})
    assert r.status_code == 201, r.text
    application = r.json()
    assert application["status"] == "approved" and application["reasons"] == [], application
    offer = application["offer"]
    assert offer["amount"] == 250_000 and len(offer["schedule"]) == 12
    assert offer["total_of_payments"] == 250_000 + offer["total_interest"]

    key = str(uuid.uuid4())
    r = borrower.money(f"/v1/loans/applications/{application['id']}/accept", None, key)
    assert r.status_code == 201, r.text
    loan = r.json()
    assert loan["status"] == "active" and loan["principal_outstanding"] == 250_000
    again = borrower.money(f"/v1/loans/applications/{application['id']}/accept", None, key)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    refused(borrower.money(f"/v1/loans/applications/{application['id']}/accept", None), 409, "invalid_state")
    assert borrower.call("GET", "/v1/wallet").json()["balance"] == 1_250_000

    r = borrower.money(f"/v1/loans/{loan['id']}/payments", {"amount": 10_000, "currency": "USD"})
    assert r.status_code == 201, r.text
    assert r.json()["allocation"] == {"fees": 0, "interest": 0, "principal": 10_000}

    assert admin.call("POST", "/v1/admin/test-clock", {"advance_days": 10}).status_code == 200
    r = borrower.call("GET", f"/v1/loans/{loan['id']}/payoff")
    assert r.status_code == 200, r.text
    quote = r.json()
    assert quote["principal"] == 240_000 and quote["fees"] == 0 and quote["interest"] > 0
    assert quote["payoff_amount"] == quote["principal"] + quote["interest"]
    refused(borrower.money(f"/v1/loans/{loan['id']}/payments",
                           {"amount": quote["payoff_amount"] + 1, "currency": "USD"}), 400, "invalid_request")
    r = borrower.money(f"/v1/loans/{loan['id']}/payments", {"amount": quote["payoff_amount"], "currency": "USD"})
    assert r.status_code == 201, r.text
    assert r.json()["allocation"] == {"fees": 0, "interest": quote["interest"], "principal": 240_000}

    final = borrower.call("GET", f"/v1/loans/{loan['id']}").json()
    assert final["status"] == "paid_off" and final["principal_outstanding"] == 0
    wallet = borrower.call("GET", "/v1/wallet").json()
    assert wallet["balance"] == 1_250_000 - 10_000 - quote["payoff_amount"]
    kinds = [e["kind"] for e in borrower.call("GET", "/v1/wallet/transactions?limit=100").json()["data"]]
    assert kinds.count("loan_payment") == 2 and kinds.count("loan_disbursement") == 1, kinds

    r = admin.call("GET", "/v1/admin/ledger/check")
    assert r.status_code == 200, r.text
    check = r.json()
    assert check["balanced"] is True and check["total"] == 0, check
    assert check["ledger_accounts"].get("receivable", 0) == 0, check
