"""A client generated from the OpenAPI document by `openapi-python-client`
(offline, in a temporary directory) gets typed datetimes and enums and can
call the routes the document once made unusable: clearing a subscription
price (no `null` body needed) and the statement's CSV. Its HTTP goes to the
in-process app through an httpx transport."""
import datetime
import enum
import importlib
import json
import os
import subprocess
import sys

import httpx
import pytest

import app as app_module
from chalicelib import clock
from chalicelib.api import openapi

PACKAGE = "flock_client"
GENERATOR = os.path.join(os.path.dirname(sys.executable), "openapi-python-client")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("generated")
    document = root / "openapi.json"
    document.write_text(json.dumps(openapi.document(app_module.app)))
    config = root / "config.json"
    config.write_text(json.dumps({"post_hooks": []}))  # no formatter run: nothing to fetch or find on PATH
    out = subprocess.run([GENERATOR, "generate", "--path", str(document), "--output-path", str(root / PACKAGE),
                          "--meta", "none", "--config", str(config), "--fail-on-warning"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _module(name):
    return importlib.import_module(f"{PACKAGE}.{name}")


def _client(generated, api, handle):
    """An AuthenticatedClient whose requests the in-process app answers."""
    def answer(request: httpx.Request) -> httpx.Response:
        r = api.client.http.request(request.method, request.url.raw_path.decode(), headers=dict(request.headers),
                                    body=request.content or b"")
        body = r.body if isinstance(r.body, bytes) else (r.body or "").encode()
        return httpx.Response(r.status_code, headers=r.headers, content=body)
    client = generated.AuthenticatedClient(base_url="http://flock.test", token=api.tokens[handle])
    return client.set_httpx_client(httpx.Client(base_url="http://flock.test", transport=httpx.MockTransport(answer),
                                                headers={"Authorization": f"Bearer {api.tokens[handle]}"}))


def test_models_get_typed_datetimes_and_enums(generated):
    models = _module("models")
    for name in ("Currency", "TransferKind", "TransferStatus", "AccountStatus", "Role", "SubscriptionStatus",
                 "ErrorCode", "ErrorType", "JobName", "LoanStatus"):
        assert issubclass(getattr(models, name), enum.Enum), name
    assert models.Currency("USD") is models.Currency.USD
    currencies = [name for name in dir(models) if name.endswith("Currency")]
    assert currencies == ["Currency"], currencies  # one enum, in answers and bodies alike
    assert models.TransferKind("p2p").value == "p2p"
    transfer = models.Transfer.from_dict({"id": "tr_1", "kind": "tip", "from": "alice", "to": "bob", "amount": 5,
                                          "currency": "USD", "note": "", "status": "posted", "forced": False,
                                          "created_at": "2026-03-10T12:00:00.000Z"})
    assert transfer.created_at == datetime.datetime(2026, 3, 10, 12, tzinfo=datetime.timezone.utc)
    assert isinstance(transfer.kind, models.TransferKind) and isinstance(transfer.currency, models.Currency)
    with pytest.raises(ValueError):
        models.Transfer.from_dict({**transfer.to_dict(), "kind": "not-a-kind"})


def test_a_generated_client_reads_the_wallet_and_a_transfer_typed(generated, api):
    api.verified("alice")
    api.verified("bob")
    api.deposit("alice", 5_000)
    client = _client(generated, api, "alice")
    models = _module("models")
    wallet = _module("api.wallet.get_wallet").sync(client=client)
    assert isinstance(wallet, models.Account) and wallet.balance == 5_000
    assert wallet.status is models.AccountStatus.ACTIVE and wallet.currency is models.Currency.USD
    assert isinstance(wallet.opened_at, datetime.datetime) and wallet.opened_at.tzinfo is not None
    body = models.TransferBody(to="bob", amount=1_200, currency=models.Currency.USD, note="lunch")
    sent = _module("api.wallet.send").sync_detailed(client=client, body=body, idempotency_key="k-1")
    assert sent.status_code == 201 and sent.parsed.kind is models.TransferKind.P2P
    again = _module("api.wallet.send").sync_detailed(client=client, body=body, idempotency_key="k-1")
    assert again.headers["Idempotent-Replayed"] == "true" and again.parsed.id == sent.parsed.id


def test_a_generated_client_clears_a_subscription_price(generated, api):
    api.verified("alice")
    client = _client(generated, api, "alice")
    models = _module("models")
    price = models.MoneyBody(amount=500, currency=models.Currency.USD)
    set_ = _module("api.creator.subscription_price").sync(client=client, body=price)
    assert set_.subscription_price.amount == 500 and set_.subscription_price.currency is models.Currency.USD
    cleared = _module("api.creator.clear_subscription_price").sync_detailed(client=client)
    assert cleared.status_code == 200 and cleared.parsed.subscription_price is None


def test_a_generated_client_gets_the_statement_as_json_and_as_csv(generated, api):
    api.verified("alice")
    api.deposit("alice", 2_500)
    client = _client(generated, api, "alice")
    models = _module("models")
    month = f"{clock.now():%Y-%m}"
    statement = _module("api.wallet.get_statement").sync(month, client=client)
    assert isinstance(statement, models.Statement) and statement.closing_balance == 2_500
    assert statement.entries[0].kind is models.TransferKind.DEPOSIT
    assert isinstance(statement.entries[0].created_at, datetime.datetime)
    csv_text = _module("api.wallet.get_statement_csv").sync(month, client=client)
    assert isinstance(csv_text, str) and csv_text.startswith("created_at,kind,") and ",deposit," in csv_text
    refused = _module("api.wallet.get_statement_csv").sync_detailed("2026-13", client=client)
    assert refused.status_code == 400 and refused.parsed.error.code is models.ErrorCode.INVALID_REQUEST
