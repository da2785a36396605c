"""Routes of paper checks (API.md, Checks): writing and stopping checks,
mobile deposits, and the clearing network's presentments and returns."""
from chalice import Blueprint

from chalicelib import http, lazy
from chalicelib.finance import check_deposits, check_images, checks
from chalicelib.identity.users import authenticate

bp = Blueprint(__name__)
# The request models, and pydantic with them, load on the first request that needs one.
inputs = lazy.module("chalicelib.api.inputs.checks")
route = http.routes(bp, authenticate, inputs)

# Two images at their largest, base64, and the rest of the body.
DEPOSIT_BODY_BYTES_MAX = 2 * check_images.encoded_chars_max() + 8192


def _replayed(replayed: bool) -> dict:
    return {"Idempotent-Replayed": "true"} if replayed else {}


def _page(result) -> dict:
    items, key = result
    return {"data": items, "next_cursor": http.encode_cursor(key)}


@route("/v1/checks", methods=["POST"], body="CheckBody", idempotent=True, status=201)
def write_check(req):
    """Write a paper check on your account: numbered from 1001, with its MICR line. Moves no money."""
    check, replayed = checks.write(req.principal, req.data.payee, req.data.money(), req.data.memo,
                                   req.idempotency_key)
    return http.Reply(check, 201, _replayed(replayed))


@route("/v1/checks", query="Page")
def list_checks(req):
    """The checks you wrote, newest first."""
    return _page(checks.list_checks(req.principal, req.params.limit, http.decode_cursor(req.params.cursor)))


@route("/v1/checks/{check_id}")
def get_check(req, check_id):
    """One of your checks."""
    return checks.get_check(req.principal, check_id)


@route("/v1/checks/{check_id}/stop", methods=["POST"])
def stop_check(req, check_id):
    """Stop an issued check: its presentment will be returned (stop_payment)."""
    return checks.stop(req.principal, check_id)


@route("/v1/check-deposits", methods=["POST"], body="CheckDepositBody", idempotent=True, status=201,
       body_bytes_max=DEPOSIT_BODY_BYTES_MAX)
def deposit_check(req):
    """Deposit a check by its photographs.

    Credited at once; the part not yet available is held and released on
    business days as API.md's schedule says."""
    d = req.data
    deposit, replayed = check_deposits.deposit(req.principal, d.money(),
                                               check_deposits.Micr(d.micr.routing, d.micr.account, d.micr.serial),
                                               d.front_image, d.back_image, d.endorsed, req.idempotency_key)
    return http.Reply(deposit, 201, _replayed(replayed))


@route("/v1/check-deposits", query="Page")
def list_check_deposits(req):
    """Your check deposits, newest first."""
    return _page(check_deposits.list_deposits(req.principal, req.params.limit, http.decode_cursor(req.params.cursor)))


@route("/v1/check-deposits/{deposit_id}")
def get_check_deposit(req, deposit_id):
    """One of your check deposits, with when each held part becomes available."""
    return check_deposits.get_deposit(req.principal, deposit_id)


@route("/v1/network/check-presentments", methods=["POST"], body="PresentmentBody", network="check")
def present_check(req):
    """The clearing network presents a Flock check: paid in one transaction, or returned with the positive-pay reason."""
    d = req.data
    status, answer = checks.present(d.model_dump(), checks.Presentment(d.routing, d.account, d.serial, d.money(),
                                                                        d.payee))
    return http.Reply(answer, status)


@route("/v1/network/check-returns", methods=["POST"], body="CheckReturnBody", network="check")
def return_check_deposit(req):
    """The clearing network returns a deposited check: the credit is reversed (held funds first) and the return fee charged."""
    status, answer = check_deposits.return_deposit(req.data.model_dump())
    return http.Reply(answer, status)
