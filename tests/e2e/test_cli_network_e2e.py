"""`python -m chalicelib.cli network ...` plays the card and check networks
against a running stack, signing as they do (issues 13 and 14): a purchase
from authorization to cashback, and a check written then presented, each in
a few commands, as the README shows them."""
import json
import os
import subprocess
import sys

from tests.conftest import ROOT


def cli(servers, *args) -> tuple[int, dict]:
    """The CLI as an operator runs it beside a stack: the stack's local AWS
    from the environment, the API from --url; its answer's status and body."""
    env = {**os.environ, "FLOCK_DYNAMODB_ENDPOINT": servers["moto"], "FLOCK_AWS_ENDPOINT": servers["moto"],
           "FLOCK_STAGE": "dev", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1"}
    done = subprocess.run([sys.executable, "-m", "chalicelib.cli", "network", *args, "--url", servers["api"]],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 2, done.stdout + done.stderr
    return int(lines[0]), json.loads(lines[1])


def test_a_purchase_played_from_the_cli_holds_then_posts_with_cashback(servers, http):
    buyer = http.verified()
    assert http.money("/v1/wallet/deposits", {"amount": 10_000, "currency": "USD"}, as_=buyer).status_code == 201
    card = http.money("/v1/cards", {"label": "cli"}, as_=buyer).json()
    number, exp = card["number"], f"{card['exp_month']:02d}/{card['exp_year']}"

    status, decision = cli(servers, "authorize", "--number", number, "--exp", exp, "--cvc", card["cvc"],
                           "--amount", "2500")
    assert status == 200 and decision["approved"], decision
    assert http.call("GET", "/v1/wallet", as_=buyer).json()["held"] == 2500

    clear = ("clear", "--auth", decision["authorization_id"], "--amount", "2500", "--id", f"evt_{buyer}")
    status, posted = cli(servers, *clear)
    assert status == 200 and posted["status"] == "posted" and posted["cashback"] == 25, posted
    wallet = http.call("GET", "/v1/wallet", as_=buyer).json()
    assert (wallet["balance"], wallet["held"]) == (10_000 - 2500 + 25, 0)

    # The network's retry of the same event is answered the same, and moves nothing twice.
    assert cli(servers, *clear) == (200, posted)
    assert http.call("GET", "/v1/wallet", as_=buyer).json()["balance"] == 10_000 - 2500 + 25


def test_a_check_written_then_presented_from_the_cli_is_paid_once(servers, http):
    writer = http.verified()
    assert http.money("/v1/wallet/deposits", {"amount": 10_000, "currency": "USD"}, as_=writer).status_code == 201
    check = http.money("/v1/checks", {"payee": "Bob", "amount": 2500, "currency": "USD"}, as_=writer).json()
    micr = check["micr"]

    args = ("present-check", "--account", micr["account"], "--serial", micr["serial"], "--amount", "2500")
    status, decision = cli(servers, *args)
    assert status == 200 and decision == {"decision": "paid", "return_reason": None, "check_id": check["id"]}
    status, second = cli(servers, *args)  # another event: the same check presented twice
    assert second["decision"] == "returned" and second["return_reason"] == "duplicate_presentment"
    assert http.call("GET", "/v1/wallet", as_=writer).json()["balance"] == 7_500


def test_a_call_signed_with_the_wrong_secret_is_refused(servers, http, monkeypatch):
    """The raw form, with a secret that is not the network's: 401, as the
    network would hear it."""
    body = json.dumps({"id": "evt_wrong", "routing": "123456780", "account": "1", "serial": "1001",
                       "amount": 1, "currency": "USD"})
    status, answer = cli(servers, "card", "/v1/network/check-presentments", body)
    assert status == 401 and answer["error"]["code"] == "invalid_signature"
