"""Routes of Money in other currencies (API.md): pockets, quotes,
conversions, and the operators' exchange rates."""
from chalice import Blueprint

from chalicelib import http, lazy
from chalicelib.finance import fx, fx_rates, pockets
from chalicelib.finance.transfers import require_verified
from chalicelib.identity.users import authenticate

bp = Blueprint(__name__)
# The request models, and pydantic with them, load on the first request that needs one.
inputs = lazy.module("chalicelib.api.inputs.fx")
route = http.routes(bp, authenticate, inputs)


@route("/v1/wallet/pockets")
def list_pockets(req):
    """Your pockets: one money account per currency you hold, the home currency's first."""
    require_verified(req.principal)
    return {"data": pockets.list_pockets(req.principal.user_id)}


@route("/v1/fx/quotes", methods=["POST"], status=201, body="QuoteBody")
def create_quote(req):
    """Quote a conversion between two of your currencies.

    Give the amount to sell or to buy (exactly one); the quote shows the
    rate with its spread, the fee, and lives 30 seconds."""
    d = req.data
    return fx.create_quote(req.principal, d.sell_currency, d.buy_currency, d.sell_amount, d.buy_amount)


@route("/v1/fx/conversions", methods=["POST"], body="ConversionBody", idempotent=True)
def convert(req):
    """Convert between your own pockets at a live quote, once."""
    body, replayed = fx.convert(req.principal, req.data.quote_id, req.idempotency_key)
    return http.Reply(body, 201, {"Idempotent-Replayed": "true"} if replayed else {})


@route("/v1/admin/fx-rates", methods=["PUT"], admin=True, body="FxRatesBody")
def set_fx_rates(req):
    """Set the mid-market FX rates (operators; audited)."""
    return fx_rates.set_rates(req.principal, req.data.base, req.data.rates, req.data.reason)
