"""A card purchase over real HTTP: the dev server `make run` uses against a
locked moto server, the card network played as it plays (signed calls, the
secret from the stack's Secrets Manager)."""
import json
import uuid

import boto3

from chalicelib.config import settings
from chalicelib.identity import network_auth
from tests.e2e.conftest import Http

SHOP = {"name": "Corner Shop", "mcc": "5411", "city": "Portland", "country": "US"}


def _network_secret(moto_url: str) -> str:
    client = boto3.client("secretsmanager", region_name=settings().region, endpoint_url=moto_url)
    return client.get_secret_value(SecretId=settings().network_secret_ids["card"])["SecretString"]


def _signed(http: Http, secret: str, path: str, body: dict):
    raw = json.dumps(body).encode()
    return http.call("POST", path, content=raw, headers={"Flock-Signature": network_auth.sign(secret, raw)})


def test_a_purchase_from_authorization_to_cashback_and_refund(http, servers):
    secret = _network_secret(servers["moto"])
    alice = http.verified()
    assert http.money("/v1/wallet/deposits", {"amount": 10_000, "currency": "USD"}, alice).status_code == 201
    card = http.money("/v1/cards", {"label": "e2e"}, alice).json()
    assert len(card["number"]) == 16
    evt = uuid.uuid4().hex
    auth_body = {"id": f"a-{evt}", "card_number": card["number"], "exp_month": card["exp_month"],
                 "exp_year": card["exp_year"], "cvc": card["cvc"], "amount": 2_500, "currency": "USD",
                 "merchant": SHOP}
    decision = _signed(http, secret, "/v1/network/card-authorizations", auth_body)
    assert decision.status_code == 200 and decision.json()["approved"], decision.text
    assert _signed(http, secret, "/v1/network/card-authorizations", auth_body).json() == decision.json()
    wallet = http.call("GET", "/v1/wallet", as_=alice).json()
    assert (wallet["held"], wallet["available"]) == (2_500, 7_500)
    bad = http.call("POST", "/v1/network/card-authorizations", content=json.dumps(auth_body).encode(),
                    headers={"Flock-Signature": network_auth.sign("wrong", json.dumps(auth_body).encode())})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "invalid_signature"
    cleared = _signed(http, secret, "/v1/network/card-clearings",
                      {"id": f"c-{evt}", "authorization_id": decision.json()["authorization_id"], "amount": 2_300,
                       "currency": "USD"})
    assert cleared.status_code == 200 and cleared.json()["cashback"] == 23, cleared.text
    refund = _signed(http, secret, "/v1/network/card-refunds",
                     {"id": f"r-{evt}", "card_number": card["number"], "amount": 1_000, "currency": "USD",
                      "merchant": SHOP})
    assert refund.status_code == 200 and refund.json()["cashback"] == -10, refund.text
    wallet = http.call("GET", "/v1/wallet", as_=alice).json()
    assert (wallet["balance"], wallet["held"]) == (10_000 - 2_300 + 23 + 1_000 - 10, 0)
    entries = http.call("GET", "/v1/wallet/transactions", as_=alice).json()["data"]
    assert any(e["counterparty"] == "Corner Shop" for e in entries)
    listed = http.call("GET", f"/v1/cards/{card['id']}/transactions", as_=alice)
    assert card["number"] not in listed.text
    assert {t["status"] for t in listed.json()["data"]} == {"posted", "refunded"}
    assert http.admin("GET", "/v1/admin/ledger/check").json()["balanced"]
