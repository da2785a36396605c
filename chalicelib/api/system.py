"""Health, operations and admin tools: test clock, jobs, ledger check, audit."""
from datetime import date, datetime, timezone


from chalice import Blueprint

from chalicelib import clock, errors, http, jobs, lazy
from chalicelib.config import settings
from chalicelib.finance import rates
from chalicelib.identity import audit
from chalicelib.identity.users import authenticate

bp = Blueprint(__name__)
# The request models, and pydantic with them, load on the first request that needs one.
inputs = lazy.module("chalicelib.api.inputs.system")
records = lazy.module("chalicelib.records.operations")
route = http.routes(bp, authenticate, inputs)


def _parse_instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise errors.InvalidRequest("now is an ISO 8601 time.", param="now") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def _parse_date(text: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise errors.InvalidRequest("as_of is YYYY-MM-DD.", param="as_of") from None


@route("/v1/health", auth=False)
def health(req):
    """Whether the API is up."""
    return records.Health(status="ok")


@route("/v1/admin/test-clock", methods=["POST"], admin=True, body="TestClockBody")
def test_clock(req):
    """Set or advance business time (dev stage only; forward only)."""
    if settings().is_prod:
        raise errors.NotFound()
    if (req.data.now is None) == (req.data.advance_days is None):
        raise errors.InvalidRequest("Give either now or advance_days.")
    param = "now" if req.data.now is not None else "advance_days"
    try:
        moment = (clock.set_now(_parse_instant(req.data.now)) if req.data.now is not None
                  else clock.advance_days(req.data.advance_days))
    except ValueError as exc:
        raise errors.InvalidRequest(str(exc), param=param) from None
    return records.Clock(now=moment)


@route("/v1/admin/jobs/{name}", methods=["POST"], admin=True, body="JobBody", body_required=False)
def run_job(req, name):
    """Run a scheduled job now, for an as-of day (default yesterday).

    Locally the job runs to its end (200, its summary); on AWS a segmented job fans out and answers 202 with a run id.
    """
    status, body = jobs.start(name, _parse_date(req.data.as_of) if req.data.as_of else None)
    return http.Reply(body, status)


@route("/v1/admin/jobs/{name}/runs/{run_id}", admin=True)
def job_run(req, name, run_id):
    """The progress of a fanned-out job run."""
    return jobs.get_run(name, run_id)


@route("/v1/admin/rates", methods=["PUT"], admin=True, body="RatesBody")
def set_rates(req):
    """Set the interest rates from a day on."""
    d = req.data
    try:
        effective = _parse_date(d.effective_date)
    except errors.InvalidRequest:
        raise errors.InvalidRequest("effective_date is YYYY-MM-DD.", param="effective_date") from None
    return rates.set_rates(req.principal, d.apy_bps, d.overdraft_apr_bps, effective, d.reason, d.pocket_apy_bps)


@route("/v1/admin/ledger/check", admin=True)
def ledger_check(req):
    """Check the books: every balance sums to zero and matches its entries."""
    return jobs.ledger_check()


@route("/v1/admin/audit", admin=True, query="Page")
def audit_trail(req):
    """Operators' actions, newest first."""
    items, key = audit.list_records(req.params.limit, http.decode_cursor(req.params.cursor))
    return {"data": items, "next_cursor": http.encode_cursor(key)}
