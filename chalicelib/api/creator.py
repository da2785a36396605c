"""Routes of Creator money (API.md): tips, unlocks, subscriptions, DM payments, earnings."""
from chalice import Blueprint

from chalicelib import errors, http, lazy
from chalicelib.finance import creator
from chalicelib.finance.money import SUPPORTED_CURRENCIES
from chalicelib.identity.users import authenticate

bp = Blueprint(__name__)
# The request models, and pydantic with them, load on the first request that needs one.
inputs = lazy.module("chalicelib.api.inputs.creator")
route = http.routes(bp, authenticate, inputs)


def _moved(result: tuple, status: int = 201) -> http.Reply:
    body, replayed = result
    return http.Reply(body, status, {"Idempotent-Replayed": "true"} if replayed else {})


@route("/v1/posts/{post_id}/tips", methods=["POST"], body="TipBody", idempotent=True)
def tip(req, post_id):
    """Tip a post's author, in the currency they receive.

    The whole tip goes to the author; the post's `tip_total` (USD) grows by its worth.
    Paid from the caller's pocket of that currency if they hold one, else (or with
    `pay_currency`) converted in the same transaction: the transfer shows `delivered` and `rate`.
    """
    d = req.data
    return _moved(creator.tip(req.principal, post_id, d.money(SUPPORTED_CURRENCIES), req.idempotency_key,
                              d.pay_from()))


@route("/v1/posts/{post_id}/unlock", methods=["POST"], body="PaysFrom", body_required=False, idempotent=True)
def unlock(req, post_id):
    """Pay to read a paid post, at its price in its currency.

    201 with the transfer when charged; 200 with `charged: false` when already unlocked or the caller's own post.
    An optional body `{pay_currency}` names the pocket to pay from.
    """
    answer, charged, replayed = creator.unlock(req.principal, post_id, req.idempotency_key, req.data.pay_from())
    if charged or replayed:
        return _moved((answer, replayed))
    return answer


@route("/v1/me/subscription-price", methods=["PUT"])
def subscription_price(req):
    """Set (or, with a `null` body, clear) the caller's monthly subscription price.

    The caller must be verified. Clients that cannot send `null` use `DELETE /v1/me/subscription-price`.
    """
    raw = req.raw_body.strip()
    data = http.parse_json(raw)
    if raw == b"null":
        price = None
    elif isinstance(data, dict):
        price = http.validate(inputs.PocketMoneyBody, data).money(SUPPORTED_CURRENCIES)
    else:
        raise errors.InvalidRequest("The body is a money object or null.")
    return creator.set_subscription_price(req.principal, price)


@route("/v1/me/subscription-price", methods=["DELETE"])
def clear_subscription_price(req):
    """Clear the caller's subscription price: they take no new subscriptions.

    The same as `PUT` with a `null` body, for clients that cannot send `null`.
    The caller must be verified; existing subscriptions keep their price.
    """
    return creator.set_subscription_price(req.principal, None)


@route("/v1/users/{handle}/subscription", methods=["POST"], body="PaysFrom", body_required=False, idempotent=True)
def subscribe(req, handle):
    """Subscribe to a creator; the first month is charged now.

    Renewals are charged by the daily `subscriptions` job, from the pocket named by the optional
    `pay_currency` (kept for renewals), else by the same rule as a tip, at the rate of their day.
    """
    return _moved(creator.subscribe(req.principal, handle, req.idempotency_key, req.data.pay_from()))


@route("/v1/users/{handle}/subscription", methods=["DELETE"])
def cancel(req, handle):
    """Cancel a subscription at the end of its paid period.

    Nothing is refunded; the fan keeps access until `current_period_end`.
    """
    return creator.cancel(req.principal, handle)


@route("/v1/me/subscriptions", query="Page")
def my_subscriptions(req):
    """The caller's subscriptions, newest first."""
    items, key = creator.my_subscriptions(req.principal, req.params.limit, http.decode_cursor(req.params.cursor))
    return {"data": items, "next_cursor": http.encode_cursor(key)}


@route("/v1/conversations/{conv_id}/payments", methods=["POST"], body="PaymentBody", idempotent=True)
def pay_in_conversation(req, conv_id):
    """Send money inside a conversation, in the currency the other member receives.

    The message and its payment land atomically: both or neither. Paid from the caller's pocket
    of that currency if they hold one, else (or with `pay_currency`) converted in the same transaction.
    """
    d = req.data
    return _moved(creator.pay_in_conversation(req.principal, conv_id, d.money(SUPPORTED_CURRENCIES), d.note,
                                              req.idempotency_key, d.pay_from()))


@route("/v1/me/earnings", query="EarningsQuery")
def earnings(req):
    """A creator's earnings for a month.

    Gross, platform fees and net per kind (tips, unlocks, subscriptions).
    """
    return creator.earnings(req.principal, req.params.month, req.params.currency)
