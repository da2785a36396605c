"""Routes of Creator money (API.md): tips, unlocks, subscriptions, DM payments, earnings."""
from chalice import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from chalicelib import errors, http
from chalicelib.api.schemas import MoneyBody, Note, Page
from chalicelib.finance import creator
from chalicelib.identity.users import authenticate

bp = Blueprint(__name__)
route = http.routes(bp, authenticate)


class PaymentBody(MoneyBody):
    note: Note = ""


class EarningsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    month: str = Field(max_length=7)


def _moved(result: tuple[dict, bool], status: int = 201) -> http.Reply:
    body, replayed = result
    return http.Reply(body, status, {"Idempotent-Replayed": "true"} if replayed else {})


@route("/v1/posts/{post_id}/tips", methods=["POST"], body=MoneyBody, idempotent=True)
def tip(req, post_id):
    return _moved(creator.tip(req.principal, post_id, req.data.money(), req.idempotency_key))


@route("/v1/posts/{post_id}/unlock", methods=["POST"], idempotent=True)
def unlock(req, post_id):
    transfer, charged, replayed = creator.unlock(req.principal, post_id, req.idempotency_key)
    if charged or replayed:
        return _moved((transfer, replayed))
    return {"post_id": post_id, "unlocked": True, "charged": False, "transfer": transfer}


@route("/v1/me/subscription-price", methods=["PUT"])
def subscription_price(req):
    raw = req.raw_body.strip()
    data = http.parse_json(raw)
    if raw == b"null":
        price = None
    elif isinstance(data, dict):
        price = http.validate(MoneyBody, data).money()
    else:
        raise errors.InvalidRequest("The body is a money object or null.")
    return creator.set_subscription_price(req.principal, price)


@route("/v1/users/{handle}/subscription", methods=["POST"], idempotent=True)
def subscribe(req, handle):
    return _moved(creator.subscribe(req.principal, handle, req.idempotency_key))


@route("/v1/users/{handle}/subscription", methods=["DELETE"])
def cancel(req, handle):
    return creator.cancel(req.principal, handle)


@route("/v1/me/subscriptions", query=Page)
def my_subscriptions(req):
    items, key = creator.my_subscriptions(req.principal, req.params.limit, http.decode_cursor(req.params.cursor))
    return {"data": items, "next_cursor": http.encode_cursor(key)}


@route("/v1/conversations/{conv_id}/payments", methods=["POST"], body=PaymentBody, idempotent=True)
def pay_in_conversation(req, conv_id):
    d = req.data
    return _moved(creator.pay_in_conversation(req.principal, conv_id, d.money(), d.note, req.idempotency_key))


@route("/v1/me/earnings", query=EarningsQuery)
def earnings(req):
    return creator.earnings(req.principal, req.params.month)
