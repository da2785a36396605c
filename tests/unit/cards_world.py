"""What the card tests share: a verified person with money and a card, and
the card network spoken as it speaks."""
import itertools
import threading
import uuid


AUTH = "/v1/network/card-authorizations"
CLEAR = "/v1/network/card-clearings"
REVERSE = "/v1/network/card-reversals"
REFUND = "/v1/network/card-refunds"
SHOP = {"name": "Corner Shop", "mcc": "5411", "city": "Portland", "country": "US"}
DINER = {"name": "Blue Diner", "mcc": "5812", "city": "Portland", "country": "US"}
HOTEL = {"name": "Harbor Hotel", "mcc": "7011", "city": "Lisbon", "country": "PT"}
CAR_RENTAL = {"name": "Rent-a-Car", "mcc": "7512", "city": "Lisbon", "country": "PT"}
_events = itertools.count(1)


def event_id() -> str:
    return f"evt_{next(_events)}_{uuid.uuid4().hex[:8]}"


class Network:
    """The card network: signed calls through the in-process app."""

    def __init__(self, api, card):
        self.api, self.card = api, card

    def authorize(self, amount, merchant=SHOP, event=None, **over):
        body = {"id": event or event_id(), "card_number": self.card["number"], "exp_month": self.card["exp_month"],
                "exp_year": self.card["exp_year"], "cvc": self.card["cvc"], "amount": amount, "currency": "USD",
                "merchant": merchant, **over}
        return self.api.network("card", AUTH, body)

    def approve(self, amount, merchant=SHOP, **over) -> str:
        r = self.authorize(amount, merchant, **over)
        assert r.status_code == 200 and r.json_body["approved"], r.body
        return r.json_body["authorization_id"]

    def increment(self, auth_id, amount, event=None):
        return self.api.network("card", f"{AUTH}/{auth_id}/increments", {"id": event or event_id(), "amount": amount})

    def clear(self, amount, auth_id=None, merchant=None, event=None, number=None):
        body = {"id": event or event_id(), "amount": amount, "currency": "USD"}
        if auth_id:
            body["authorization_id"] = auth_id
        else:
            body["card_number"] = number or self.card["number"]
        if merchant:
            body["merchant"] = merchant
        return self.api.network("card", CLEAR, body)

    def reverse(self, auth_id, amount=None, event=None):
        body = {"id": event or event_id(), "authorization_id": auth_id}
        if amount is not None:
            body["amount"] = amount
        return self.api.network("card", REVERSE, body)

    def refund(self, amount, merchant=SHOP, auth_id=None, event=None):
        body = {"id": event or event_id(), "card_number": self.card["number"], "amount": amount, "currency": "USD",
                "merchant": merchant}
        if auth_id:
            body["authorization_id"] = auth_id
        return self.api.network("card", REFUND, body)


def person_with_card(api, handle="alice", deposit=10_000):
    api.verified(handle)
    if deposit:
        api.deposit(handle, deposit)
    r = api.money("POST", "/v1/cards", {"label": "main"}, handle, str(uuid.uuid4()))
    assert r.status_code == 201, r.body
    return Network(api, r.json_body)


def assert_books_clean():
    """reconcile: balances sum to zero, each is its entries, held = pending holds."""
    from chalicelib.finance import reconcile
    result = reconcile.reconcile()
    assert result["balanced"] and not result.get("mismatches"), result



def run_threads(target, n: int) -> None:
    threads = [threading.Thread(target=target) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
