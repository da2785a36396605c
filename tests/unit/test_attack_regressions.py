"""Regressions of the defects an outside attack found on main (issue 12,
item 7), each as the attacker met it: over HTTP where a client can reach
it, at the service where only a race or a job can."""
import io
import json

import pytest

from chalicelib import cli
from chalicelib.finance.accounts import SYSTEM_ACCOUNTS
from tests.conftest import PASSWORD


def error_of(r, status, code):
    assert r.status_code == status, (r.status_code, r.body)
    assert r.json_body["error"]["code"] == code, r.json_body
    return r.json_body["error"]


# Impersonating the bank --------------------------------------------------------------------

@pytest.mark.parametrize("handle", [*(n for n in SYSTEM_ACCOUNTS if len(n) <= 15), "EXTERNAL", "Fees", "Card_Settlement", "admin", "ADMIN_1",
                                    "flock", "FlockBank", "flock_support", "support", "Security", "bank"])
def test_nobody_signs_up_as_a_system_account_or_the_staff(api, handle):
    r = api.call("POST", "/v1/auth/signup", {"handle": handle, "password": PASSWORD})
    assert error_of(r, 409, "handle_taken")["param"] == "handle"


def test_every_system_account_name_is_reserved_whatever_its_case():
    from chalicelib.identity.reserved import is_reserved
    assert all(is_reserved(n) and is_reserved(n.upper()) for n in SYSTEM_ACCOUNTS)


def test_a_payment_from_a_person_never_reads_like_one_from_the_bank(api):
    """The attack: @external paid someone, whose transactions then showed a
    'bank deposit'. The handle is refused, and ordinary names still work."""
    error_of(api.call("POST", "/v1/auth/signup", {"handle": "external", "password": PASSWORD}), 409, "handle_taken")
    api.verified("riverbank_fan")
    api.verified("badminton")
    api.deposit("riverbank_fan", 5_000)
    r = api.money("POST", "/v1/transfers", {"to": "badminton", "amount": 100, "currency": "USD"}, "riverbank_fan", "k1")
    assert r.status_code == 201, r.body
    seen = api.call("GET", "/v1/wallet/transactions", as_="badminton").json_body["data"]
    assert [e["counterparty"] for e in seen] == ["riverbank_fan"]


def test_operators_may_still_be_created_with_a_reserved_name(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-operator-password\n"))
    assert cli.main(["create-admin", "security"]) == 0
    assert json.loads(capsys.readouterr().out)["role"] == "admin"
