"""Routes of the debit card (API.md, Cards): the person's side, and the card
network's signed calls (Networks)."""
from chalice import Blueprint

from chalicelib import http, lazy
from chalicelib.finance import card_network, cards
from chalicelib.identity.users import authenticate

bp = Blueprint(__name__)
# The request models, and pydantic with them, load on the first request that needs one.
inputs = lazy.module("chalicelib.api.inputs.cards")
route = http.routes(bp, authenticate, inputs)


def _event(req) -> dict:
    """The call as the network sent it: what its event id is answered for."""
    return req.data.model_dump(mode="json")


def _answer(result: tuple) -> http.Reply:
    status, body = result
    return http.Reply(body, status)


def _page(result) -> dict:
    items, key = result
    return {"data": items, "next_cursor": http.encode_cursor(key)}


@route("/v1/cards", methods=["POST"], body="CreateCardBody", body_required=False, idempotent=True, status=201)
def create_card(req):
    """Issue a debit card on your balance.

    The number and CVC are in this answer only (a replay of the same
    Idempotency-Key answers the card without them). At most 5 open cards."""
    body, replayed = cards.create(req.principal, req.data.label, req.idempotency_key)
    return http.Reply(body, 201, {"Idempotent-Replayed": "true"} if replayed else {})


@route("/v1/cards", query="Page")
def list_cards(req):
    """Your cards, newest first."""
    return _page(cards.list_cards(req.principal, req.params.limit, http.decode_cursor(req.params.cursor)))


@route("/v1/cards/{card_id}")
def get_card(req, card_id):
    """One of your cards (never its number or CVC)."""
    return cards.get_card(req.principal, card_id)


@route("/v1/cards/{card_id}/reveal", methods=["POST"], body="RevealBody")
def reveal_card(req, card_id):
    """Show a card's number and CVC again.

    Needs your password (and a Flock-OTP code with 2FA on); 5 reveals a card a
    day; each is in your security events and the audit trail."""
    return cards.reveal(req.principal, card_id, req.data.password)


@route("/v1/cards/{card_id}/freeze", methods=["POST"])
def freeze_card(req, card_id):
    """Freeze a card: every authorization is declined until you unfreeze it."""
    return cards.freeze(req.principal, card_id)


@route("/v1/cards/{card_id}/unfreeze", methods=["POST"])
def unfreeze_card(req, card_id):
    """Unfreeze a frozen card (a closed card stays closed: 409)."""
    return cards.unfreeze(req.principal, card_id)


@route("/v1/cards/{card_id}", methods=["DELETE"])
def close_card(req, card_id):
    """Close a card for good: closed is final."""
    return cards.close(req.principal, card_id)


@route("/v1/cards/{card_id}/limits", methods=["PUT"], body="LimitsBody")
def set_card_limits(req, card_id):
    """Set a card's limits: per transaction, per day, per month, blocked merchant categories, allowed countries."""
    changes = {name: getattr(req.data, name) for name in req.data.model_fields_set}
    return cards.set_limits(req.principal, card_id, changes)


@route("/v1/cards/{card_id}/transactions", query="Page")
def card_transactions(req, card_id):
    """A card's transactions: authorizations, declines, clearings, reversals, refunds."""
    return _page(card_network.transactions(req.principal, card_id, req.params.limit,
                                           http.decode_cursor(req.params.cursor)))


# The card network's calls: signed, no bearer token (API.md, Networks).

@route("/v1/network/card-authorizations", methods=["POST"], body="AuthorizationBody", network="card")
def card_authorization(req):
    """The card network asks to authorize a purchase.

    Approved: the amount is held on the account at once. Declined: the reason,
    checked in API.md's order. Each event id is answered once."""
    d = req.data
    return _answer(card_network.authorize(_event(req), d.card_number, d.exp_month, d.exp_year, d.cvc, d.money(),
                                          d.merchant.merchant()))


@route("/v1/network/card-authorizations/{auth_id}/increments", methods=["POST"], body="IncrementBody",
       network="card")
def card_increment(req, auth_id):
    """The card network asks to raise an authorization's hold (approved or declined; a decline leaves the hold)."""
    return _answer(card_network.increment({**_event(req), "authorization_id": auth_id}, auth_id, req.data.amount))


@route("/v1/network/card-clearings", methods=["POST"], body="ClearingBody", network="card")
def card_clearing(req):
    """The card network posts a purchase: captures the hold (within the merchant's tolerance), or forces a post without one."""
    d = req.data
    return _answer(card_network.clear(_event(req), d.authorization_id, d.card_number, d.money(),
                                      d.merchant.merchant() if d.merchant else None))


@route("/v1/network/card-reversals", methods=["POST"], body="ReversalBody", network="card")
def card_reversal(req):
    """The card network releases all or part of an authorization's hold."""
    return _answer(card_network.reverse(_event(req), req.data.authorization_id, req.data.amount))


@route("/v1/network/card-refunds", methods=["POST"], body="RefundBody", network="card")
def card_refund(req):
    """The card network refunds a purchase to the account, taking back its cashback."""
    d = req.data
    return _answer(card_network.refund(_event(req), d.card_number, d.money(), d.merchant.merchant(),
                                       d.authorization_id))
