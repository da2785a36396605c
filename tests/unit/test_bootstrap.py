"""The custom resource a new stack runs once its tables exist
(chalicelib/bootstrap.py): it creates the system accounts and always answers
CloudFormation, which otherwise waits an hour for a resource that failed."""
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chalicelib.config import settings
from chalicelib.db.balances import AccountItem
from chalicelib.finance.accounts import SYSTEM_ACCOUNTS, system_accounts as every_system_account


@pytest.fixture
def cloudformation():
    """Where CloudFormation's pre-signed ResponseURL points: a server on
    127.0.0.1 that keeps each PUT."""
    answers = []

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            answers.append({"path": self.path, "content_type": self.headers.get("Content-Type"),
                            "body": json.loads(body)})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", answers
    server.shutdown()
    server.server_close()


def event(url, request_type, physical_id=None):
    e = {"RequestType": request_type, "ResponseURL": f"{url}/signed?X-Amz-Signature=abc",
         "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/flock/1", "RequestId": str(uuid.uuid4()),
         "LogicalResourceId": "SystemAccounts", "ResourceType": "Custom::FlockSystemAccounts",
         "ResourceProperties": {"SystemAccounts": list(SYSTEM_ACCOUNTS)}}
    if physical_id:
        e["PhysicalResourceId"] = physical_id
    return e


def system_accounts():
    return sorted(a.id for a in AccountItem.scan(AccountItem.sk == "ACCT") if a.kind == "system")


def test_a_new_stack_gets_its_system_accounts_and_money_moves(api, cloudformation):
    url, answers = cloudformation
    provisioned = system_accounts()
    for account_id in provisioned:  # a stack as the deploy leaves it: tables, no accounts
        AccountItem.ref(account_id).delete()
    api.verified("alice")
    r = api.money("POST", "/v1/wallet/deposits", {"amount": 1_000, "currency": "USD"}, "alice", "k1")
    assert (r.status_code, r.json_body["error"]["code"]) == (422, "not_eligible")  # no account to deposit from
    created = event(url, "Create")
    result = api.client.lambda_.invoke("bootstrap", created).payload
    answer, = answers
    assert answer["content_type"] == "" and answer["path"].startswith("/signed?")
    assert answer["body"] == result
    assert (result["Status"], result["RequestId"], result["LogicalResourceId"], result["StackId"]) == \
        ("SUCCESS", created["RequestId"], "SystemAccounts", created["StackId"])
    assert result["Data"] == {"SystemAccountShardsCreated": len(every_system_account()) * settings().system_account_shards}
    assert system_accounts() == provisioned
    assert api.money("POST", "/v1/wallet/deposits", {"amount": 1_000, "currency": "USD"}, "alice",
                     "k2").status_code == 201
    # An update (a new property) or a retried create makes only what is missing.
    updated = api.client.lambda_.invoke("bootstrap", event(url, "Update", result["PhysicalResourceId"])).payload
    assert (updated["Status"], updated["Data"], updated["PhysicalResourceId"]) == \
        ("SUCCESS", {"SystemAccountShardsCreated": 0}, result["PhysicalResourceId"])
    # Deleting the stack keeps the (retained) tables' accounts.
    deleted = api.client.lambda_.invoke("bootstrap", event(url, "Delete", result["PhysicalResourceId"])).payload
    assert (deleted["Status"], deleted["Data"]) == ("SUCCESS", {})
    assert system_accounts() == provisioned
    assert len(answers) == 3


def test_a_failure_is_answered_too_without_its_details(api, cloudformation, monkeypatch):
    from chalicelib.finance import accounts
    url, answers = cloudformation

    def broken():
        raise RuntimeError("secret-ish detail: arn:aws:dynamodb:...")

    monkeypatch.setattr(accounts, "ensure_system_accounts", broken)
    result = api.client.lambda_.invoke("bootstrap", event(url, "Create")).payload
    answer, = answers
    assert answer["body"]["Status"] == result["Status"] == "FAILED"
    assert "arn:" not in answer["body"]["Reason"] and "log" in answer["body"]["Reason"]
