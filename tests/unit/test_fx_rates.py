"""Exchange rates: set by operators (audited, decimal strings) or loaded from an ECB file."""
import re
from decimal import Decimal
from pathlib import Path

import pytest

from chalicelib import errors
from chalicelib.finance import fx_rates
from tests.unit.conftest import _operator
from tests.unit.fxkit import quote
from tests.unit.moneykit import assert_frozen

ECB_FILE = Path(__file__).parent.parent / "data" / "eurofxref-daily.xml"


@pytest.fixture(autouse=True)
def fresh_cache():
    fx_rates._cache.clear()
    yield
    fx_rates._cache.clear()


def test_an_operator_sets_rates_and_it_is_audited(api):
    api.verified("alice")
    r = api.admin("PUT", "/v1/admin/fx-rates", {"base": "USD", "rates": {"EUR": "0.80", "JPY": "150"},
                                               "reason": "morning fix"})
    assert r.status_code == 200, r.body
    assert r.json_body["rates"] == {"EUR": "0.80", "JPY": "150", "USD": "1"}
    audit = api.admin("GET", "/v1/admin/audit").json_body["data"]
    assert audit[0]["action"] == "fx_rates" and audit[0]["reason"] == "morning fix"
    q = quote(api, "alice", sell_currency="EUR", buy_currency="JPY", sell_amount=10_000).json_body
    assert Decimal(q["rate"]) == (Decimal(150) / Decimal("0.80") * Decimal("0.995")).quantize(Decimal("1e-10"))


@pytest.mark.parametrize("body,code", [
    ({"base": "USD", "rates": {"EUR": 0.8}}, "invalid_request"),
    ({"base": "USD", "rates": {"EUR": "abc"}}, "invalid_request"),
    ({"base": "USD", "rates": {"EUR": "-1"}}, "invalid_request"),
    ({"base": "USD", "rates": {"EUR": "0"}}, "invalid_request"),
    ({"base": "USD", "rates": {"EUR": "NaN"}}, "invalid_request"),
    ({"base": "USD", "rates": {"EUR": "Infinity"}}, "invalid_request"),
    ({"base": "USD", "rates": {"EUR": "1e999"}}, "invalid_request"),
    ({"base": "USD", "rates": {"USD": "2"}}, "invalid_request"),
    ({"base": "USD", "rates": {}}, "invalid_request"),
    ({"base": "USD", "rates": {"BTC": "0.0001"}}, "unsupported_currency"),
    ({"base": "XXX", "rates": {"EUR": "0.8"}}, "unsupported_currency"),
])
def test_bad_rates_are_refused(api, body, code):
    r = api.admin("PUT", "/v1/admin/fx-rates", body)
    assert r.status_code == 400 and r.json_body["error"]["code"] == code, r.body


def test_only_operators_set_rates(api):
    api.verified("mallory")
    r = api.call("PUT", "/v1/admin/fx-rates", {"base": "USD", "rates": {"EUR": "0.8"}}, as_="mallory")
    assert r.status_code == 403


def test_the_ecb_file_loads_eur_based_rates():
    report = fx_rates.load_ecb(ECB_FILE.read_bytes())
    assert report["changed"] == 1 and report["base"] == "EUR" and report["as_of"] == "2026-03-09"
    assert report["rates"]["USD"] == "1.0850" and "BGN" not in report["rates"]
    assert fx_rates.current().mid("EUR", "USD") == Decimal("1.0850")
    assert fx_rates.load_ecb(ECB_FILE.read_bytes())["changed"] == 0  # the same day again changes nothing


def test_the_fx_rates_job_loads_the_configured_file(api, monkeypatch):
    monkeypatch.setattr(fx_rates, "rates_file", lambda: str(ECB_FILE))
    r = api.admin("POST", "/v1/admin/jobs/fx-rates", {})
    assert r.status_code == 200, r.body
    assert r.json_body["changed"] == 1
    assert fx_rates.current().source == "ecb"


@pytest.mark.parametrize("text", [b"not xml", b"<a/>", b'<!DOCTYPE x [<!ENTITY a "b">]><a>&a;</a>', b"x" * 1_000_001])
def test_a_bad_file_is_refused(text):
    with pytest.raises(errors.InvalidRequest):
        fx_rates.load_ecb(text)


def test_rates_and_quotes_are_plain_decimal_strings(api):
    api.verified("alice")
    r = api.admin("PUT", "/v1/admin/fx-rates", {"base": "USD", "rates": {"JPY": "1.5E+2", "EUR": "8e-1"}})
    assert r.status_code == 200 and r.json_body["rates"]["JPY"] == "150" and r.json_body["rates"]["EUR"] == "0.8"
    q = quote(api, "alice", sell_currency="JPY", buy_currency="EUR", sell_amount=100_000).json_body
    for text in (q["rate"], q["mid_rate"]):
        assert re.fullmatch(r"[0-9]+\.[0-9]+", text), text


def test_set_rates_answers_a_frozen_record_that_is_what_the_route_sends(api):
    shown = fx_rates.set_rates(_operator(), "USD", {"EUR": "0.80", "JPY": "150"}, "test")
    assert (shown.base, shown.rates, shown.source) == ("USD", {"EUR": "0.80", "JPY": "150", "USD": "1"}, "admin")
    assert_frozen(shown, "source", "ecb")
    r = api.admin("PUT", "/v1/admin/fx-rates",
                  {"base": "USD", "rates": {"EUR": "0.80", "JPY": "150"}, "reason": "test"})
    assert r.status_code == 200 and r.json_body == shown.as_json(), r.body
    # The feed's report is the job's, a plain dict: the rates as answered, and whether they changed.
    report = fx_rates.load_ecb(ECB_FILE.read_bytes())
    assert isinstance(report, dict) and report["source"] == "ecb" and report["changed"] == 1
