"""What the checks tests share: people with accounts old enough for the
normal availability schedule, images, and the calls a person and the
clearing network make."""
import base64
import json
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta


from chalicelib import clock
from chalicelib.db.balances import AccountItem
from chalicelib.finance.accounts import customer_account_id
from tests.conftest import TEST_NOW

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF"
# Another bank's routing number, valid ABA checksum (3*(0+0+0)+7*(2+0+2)+(1+0+1) = 30).
OTHER_BANK = "021000021"


def image(kind: bytes = PNG, size: int = 2000) -> str:
    """A fresh image (random bytes after the magic), base64."""
    return base64.b64encode(kind + os.urandom(size)).decode()


def people(api, *handles, days_old: int = 60):
    """Verified people whose accounts were opened `days_old` days before TEST_NOW."""
    clock.pin(TEST_NOW - timedelta(days=days_old))
    for handle in handles:
        api.verified(handle)
    clock.pin(TEST_NOW)


def account_of(api, handle) -> AccountItem:
    from chalicelib.identity.users import find_by_handle
    return AccountItem.find(customer_account_id(find_by_handle(handle).id))


def write(api, handle, amount, payee="Bob's Bakery", memo="bread", key=None):
    return api.money("POST", "/v1/checks", {"payee": payee, "amount": amount, "currency": "USD", "memo": memo},
                     handle, key or str(uuid.uuid4()))


def presentment(check: dict, event_id=None, **changes) -> dict:
    body = {"id": event_id or str(uuid.uuid4()), "routing": check["micr"]["routing"],
            "account": check["micr"]["account"], "serial": check["micr"]["serial"], "amount": check["amount"],
            "currency": check["currency"]}
    body.update(changes)
    return body


def check_signature(body: dict) -> dict:
    """The header the check network sends with `body` (as the test client encodes it)."""
    from chalicelib.identity import keys, network_auth
    return {"Flock-Signature": network_auth.sign(keys.network_secret("check"), json.dumps(body).encode())}


def present(api, body):
    return api.network("check", "/v1/network/check-presentments", body)


def deposit_body(amount, serial="4411", routing=OTHER_BANK, account="99887766", front=None, back=None,
                 endorsed=True) -> dict:
    return {"amount": amount, "currency": "USD", "micr": {"routing": routing, "account": account, "serial": serial},
            "front_image": front or image(PNG), "back_image": back or image(JPEG), "endorsed": endorsed}


def deposit(api, handle, body, key=None):
    return api.money("POST", "/v1/check-deposits", body, handle, key or str(uuid.uuid4()))


def return_deposit(api, deposit_id, reason="not_sufficient_funds", event_id=None):
    return api.network("check", "/v1/network/check-returns",
                       {"id": event_id or str(uuid.uuid4()), "deposit_id": deposit_id, "reason": reason})


def ledger_check(api) -> dict:
    r = api.admin("GET", "/v1/admin/ledger/check")
    assert r.status_code == 200, r.body
    return r.json_body



def race(*calls) -> list:
    """Run the calls at once, each in a thread; their results in order."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))
