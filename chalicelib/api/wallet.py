"""Routes of the Money account (API.md): wallet, entries, statements,
deposits, withdrawals, transfers, payment requests."""
from chalice import Blueprint, Response

from chalicelib import http, lazy
from chalicelib.config import HOME_CURRENCY
from chalicelib.finance import credit, fx, requests, transfers, wallet
from chalicelib.finance.money import SUPPORTED_CURRENCIES
from chalicelib.identity.users import authenticate

bp = Blueprint(__name__)
# The request models, and pydantic with them, load on the first request that needs one.
inputs = lazy.module("chalicelib.api.inputs.wallet")
route = http.routes(bp, authenticate, inputs)


def wants_csv(accept: str | None) -> bool:
    """Whether an Accept header prefers text/csv to JSON (its q-values
    weighed; JSON wins a tie, and an absent or `*/*` header is JSON)."""
    weights = {}
    for part in (accept or "").split(","):
        kind, *params = [p.strip() for p in part.split(";")]
        q = next((p[2:] for p in params if p.startswith("q=")), "1")
        try:
            weights[kind.lower()] = max(weights.get(kind.lower(), 0.0), float(q))  # float-ok: a q-value, not money
        except ValueError:
            continue
    csv_q = weights.get("text/csv", 0.0)
    json_q = max(weights.get("application/json", 0.0), weights.get("*/*", 0.0), weights.get("application/*", 0.0))
    return csv_q > 0 and csv_q > json_q


def _moved(result: tuple, status: int = 201) -> http.Reply:
    """A money movement's (record, replayed) as its answer."""
    body, replayed = result
    return http.Reply(body, status, {"Idempotent-Replayed": "true"} if replayed else {})


@route("/v1/wallet", query="PocketQuery")
def get_wallet(req):
    """The caller's money account: balance, held, spendable, rates."""
    return wallet.wallet(req.principal, req.params.currency)


@route("/v1/wallet/transactions", query="PocketPage")
def list_transactions(req):
    """The caller's account entries, newest first."""
    items, key = wallet.transactions(req.principal, req.params.limit, http.decode_cursor(req.params.cursor),
                                     req.params.currency)
    return {"data": items, "next_cursor": http.encode_cursor(key)}


@route("/v1/wallet/statements/{month}", query="StatementQuery")
def get_statement(req, month):
    """A month's statement, as JSON or CSV.

    `Accept: text/csv` (or the older `?format=csv`) answers the CSV file, as
    `GET /v1/wallet/statements/{month}/csv` does.
    """
    data = wallet.statement(req.principal, month, req.params.currency)
    if req.params.format == "csv" or wants_csv(req.headers.get("accept")):
        return _csv(month, data)
    return data


@route("/v1/wallet/statements/{month}/csv", query="PocketQuery")
def get_statement_csv(req, month):
    """A month's statement as a CSV file.

    The same file `Accept: text/csv` chooses on the statement, at a path of its
    own for clients that pick an answer's type by the operation.
    """
    return _csv(month, wallet.statement(req.principal, month, req.params.currency))


def _csv(month: str, statement) -> Response:
    return Response(body=wallet.statement_csv(statement), status_code=200,
                    headers={"Content-Type": "text/csv; charset=utf-8",
                             "Content-Disposition": f'attachment; filename="statement-{month}.csv"'})


@route("/v1/wallet/deposits", methods=["POST"], body="PocketMoneyBody", idempotent=True)
def deposit(req):
    """Deposit from the linked bank (instant), into the pocket of its currency."""
    money = req.data.money(SUPPORTED_CURRENCIES)
    if money.currency != HOME_CURRENCY:
        return _moved(fx.deposit(req.principal, money, req.idempotency_key))
    return _moved(transfers.deposit(req.principal, money, req.idempotency_key))


@route("/v1/wallet/withdrawals", methods=["POST"], body="WithdrawalBody", idempotent=True)
def withdraw(req):
    """Withdraw to the linked bank, or with `iban` to a bank abroad."""
    money = req.data.money(SUPPORTED_CURRENCIES)
    if money.currency != HOME_CURRENCY or req.data.iban is not None:
        return _moved(fx.withdraw(req.principal, money, req.idempotency_key, req.data.iban))
    return _moved(transfers.withdraw(req.principal, money, req.idempotency_key))


@route("/v1/transfers", methods=["POST"], body="TransferBody", idempotent=True)
def send(req):
    """Send money to a person; with `deliver_currency` they receive another currency."""
    d = req.data
    money = d.money(SUPPORTED_CURRENCIES)
    if money.currency != HOME_CURRENCY or d.deliver_currency not in (None, HOME_CURRENCY):
        deliver = d.deliver_currency or money.currency
        return _moved(fx.send(req.principal, d.to, money, deliver, d.note, req.idempotency_key))
    return _moved(transfers.send(req.principal, d.to, money, d.note, req.idempotency_key))


@route("/v1/transfers/{transfer_id}")
def get_transfer(req, transfer_id):
    """A transfer the caller is a party to."""
    return transfers.get_transfer(req.principal, transfer_id)


@route("/v1/payment-requests", methods=["POST"], status=201, body="RequestBody")
def create_request(req):
    """Ask a person for money, in any supported currency: what the caller receives."""
    return requests.create(req.principal, req.data.from_, req.data.money(SUPPORTED_CURRENCIES), req.data.note)


@route("/v1/payment-requests", query="RequestsQuery")
def list_requests(req):
    """Payment requests to (`role=incoming`) or from the caller."""
    items, key = requests.list_requests(req.principal, req.params.role, req.params.limit, http.decode_cursor(req.params.cursor))
    return {"data": items, "next_cursor": http.encode_cursor(key)}


@route("/v1/payment-requests/{request_id}/pay", methods=["POST"], body="PaysFrom", body_required=False,
       idempotent=True)
def pay_request(req, request_id):
    """Pay a payment request made to the caller.

    The asker receives the requested currency; the caller pays from their pocket of it if they
    hold one, else (or with the optional body `{pay_currency}`) converted in the same transaction.
    """
    return _moved(requests.pay(req.principal, request_id, req.idempotency_key, req.data.pay_from()), status=200)


@route("/v1/payment-requests/{request_id}/decline", methods=["POST"])
def decline_request(req, request_id):
    """Decline a payment request made to the caller."""
    return requests.decline(req.principal, request_id)


@route("/v1/wallet/credit-line", methods=["POST"], body="CreditLineBody")
def credit_line(req):
    """Ask for a credit line; decided at once from the account's history."""
    return credit.request_credit_line(req.principal, req.data.requested_limit)
