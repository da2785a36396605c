"""Routes of the debit card (API.md, Cards): the person's side, and the card
network's signed calls (Networks)."""
from typing import Annotated

from chalice import Blueprint
from pydantic import Field, StrictStr

from chalicelib import http
from chalicelib.api.schemas import AmountCents, Body, Page, Password, text_schema
from chalicelib.finance import cards
from chalicelib.identity.users import authenticate

bp = Blueprint(__name__)
route = http.routes(bp, authenticate)

Label = Annotated[StrictStr, Field(max_length=40, pattern=r"^[^\u0000-\u001f\u007f-\u009f]*$"), text_schema(0, 40)]
Mcc = Annotated[StrictStr, Field(pattern=r"^[0-9]{4}$")]
Country = Annotated[StrictStr, Field(pattern=r"^[A-Z]{2}$")]


class CreateCardBody(Body):
    label: Label | None = None


class RevealBody(Body):
    password: Annotated[StrictStr, Field(min_length=1, max_length=128)]


class LimitsBody(Body):
    per_transaction: AmountCents | None = None
    daily: AmountCents | None = None
    monthly: AmountCents | None = None
    blocked_mccs: Annotated[list[Mcc], Field(max_length=100)] | None = None
    allowed_countries: Annotated[list[Country], Field(max_length=250)] | None = None


def _page(result) -> dict:
    items, key = result
    return {"data": items, "next_cursor": http.encode_cursor(key)}


@route("/v1/cards", methods=["POST"], body=CreateCardBody, body_required=False, idempotent=True, status=201)
def create_card(req):
    body, replayed = cards.create(req.principal, req.data.label, req.idempotency_key)
    return http.Reply(body, 201, {"Idempotent-Replayed": "true"} if replayed else {})


@route("/v1/cards", query=Page)
def list_cards(req):
    return _page(cards.list_cards(req.principal, req.params.limit, http.decode_cursor(req.params.cursor)))


@route("/v1/cards/{card_id}")
def get_card(req, card_id):
    return cards.get_card(req.principal, card_id)


@route("/v1/cards/{card_id}/reveal", methods=["POST"], body=RevealBody)
def reveal_card(req, card_id):
    shown = cards.reveal(req.principal, card_id, req.data.password)
    return {"number": shown.number, "cvc": shown.cvc, "exp_month": shown.exp_month, "exp_year": shown.exp_year}


@route("/v1/cards/{card_id}/freeze", methods=["POST"])
def freeze_card(req, card_id):
    return cards.freeze(req.principal, card_id)


@route("/v1/cards/{card_id}/unfreeze", methods=["POST"])
def unfreeze_card(req, card_id):
    return cards.unfreeze(req.principal, card_id)


@route("/v1/cards/{card_id}", methods=["DELETE"])
def close_card(req, card_id):
    return cards.close(req.principal, card_id)


@route("/v1/cards/{card_id}/limits", methods=["PUT"], body=LimitsBody)
def set_card_limits(req, card_id):
    changes = {name: getattr(req.data, name) for name in req.data.model_fields_set}
    return cards.set_limits(req.principal, card_id, changes)
