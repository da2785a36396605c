"""Card authorizations (API.md, Cards): decisions in order, holds, replays."""
import json
import threading

import pytest

from tests.unit.cards_world import AUTH, SHOP, assert_books_clean, event_id, person_with_card


@pytest.fixture
def net(api):
    return person_with_card(api)


def test_an_approval_holds_the_amount_at_once(net):
    before = net.api.wallet("alice")
    r = net.authorize(2_500)
    assert r.status_code == 200, r.body
    d = r.json_body
    assert d["approved"] and d["amount_approved"] == 2_500 and d["decline_reason"] is None
    assert d["authorization_id"].startswith("auth_")
    after = net.api.wallet("alice")
    assert after["balance"] == before["balance"]
    assert after["held"] == 2_500 and after["available"] == before["available"] - 2_500
    assert after["spendable"] == before["spendable"] - 2_500
    txs = net.api.call("GET", f"/v1/cards/{net.card['id']}/transactions", as_="alice").json_body["data"]
    assert [(t["status"], t["amount_held"], t["merchant"]["name"]) for t in txs] == [("pending", 2_500, "Corner Shop")]
    assert_books_clean()
