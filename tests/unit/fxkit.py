"""What the fx tests share: rates an operator set, and a person with money in a pocket."""
import uuid

import pytest

from chalicelib.finance import fx_rates
from tests.unit.conftest import _operator

# 1 USD buys this much: round numbers, so a test can say what a conversion gives.
RATES = {"EUR": "0.80", "JPY": "150", "GBP": "0.75", "CHF": "0.90"}


@pytest.fixture
def rates():
    fx_rates._cache.clear()
    fx_rates.set_rates(_operator(), "USD", RATES, "tests")
    yield RATES
    fx_rates._cache.clear()


def key() -> dict:
    return {"Idempotency-Key": str(uuid.uuid4())}


def deposit(api, handle, amount, currency):
    r = api.call("POST", "/v1/wallet/deposits", {"amount": amount, "currency": currency}, as_=handle, headers=key())
    assert r.status_code == 201, r.body
    return r.json_body


def pocket(api, handle, currency):
    return api.call("GET", f"/v1/wallet?currency={currency}", as_=handle)


def quote(api, handle, **body):
    return api.call("POST", "/v1/fx/quotes", body, as_=handle)


def convert(api, handle, quote_id, headers=None):
    return api.call("POST", "/v1/fx/conversions", {"quote_id": quote_id}, as_=handle, headers=headers or key())


def ok(r, status=200):
    assert r.status_code == status, (r.status_code, r.body)
    return r.json_body


def refused(r, status, code, param=None):
    assert r.status_code == status, (r.status_code, r.body)
    error = r.json_body["error"]
    assert set(error) == {"type", "code", "message", "param"} and error["code"] == code, r.body
    if param is not None:
        assert error["param"] == param, r.body
    return error


def books(api):
    """The ledger check over HTTP: balanced, every currency's total zero."""
    check = ok(api.admin("GET", "/v1/admin/ledger/check"))
    assert check["balanced"] is True and set(check["totals"].values()) == {0}, check
    return check


def position(check):
    """What Flock holds of each currency from conversions, the currencies it holds none of left out."""
    return {code: amount for code, amount in check["fx_position"].items() if amount}


def balance(api, who, currency):
    """A pocket's balance, None when the person holds no such pocket."""
    r = pocket(api, who, currency)
    return r.json_body["balance"] if r.status_code == 200 else None


def currencies(api, who):
    return [p["currency"] for p in ok(api.call("GET", "/v1/wallet/pockets", as_=who))["data"]]


def ledger_totals():
    from chalicelib.finance import reconcile
    report = reconcile.reconcile(check_entries=True)
    return report

