"""The dev server `make run` starts and the end-to-end tests use.

    python scripts/devserver.py [--port 8000] [--dynamodb-endpoint URL]

Without an endpoint it starts its own moto server (in this process, on
127.0.0.1). It provisions the stack and serves the API through Chalice's
local server, reshaping the local gateway's own refusals (403 "Missing
Authentication Token", which also echoes the Authorization header) into
Flock's 404 error object, as the template's GatewayResponses do on AWS.
Ctrl-C or SIGTERM stops everything it started.

FLOCK_CLOCK_START (ISO 8601 with a time zone, e.g. 2026-03-10T15:00:00Z;
dev stage only) starts business time at that instant instead of the real
time (clock.pin), before anything is provisioned: a demo or an e2e test
that depends on the date states it. The test clock then moves forward from
there as usual.
"""
import argparse
import contextlib
import json
import os
import signal
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import localstack  # noqa: E402
from chalice.config import Config  # noqa: E402
from chalice.local import (ChaliceRequestHandler, CustomLocalChalice, ForbiddenError, LocalChalice,  # noqa: E402
                           LocalDevServer, LocalGateway, ThreadedHTTPServer)


BODY_BYTES_MAX = 10 * 1024 * 1024  # what API Gateway takes


def _error_response(error) -> dict:
    return {"statusCode": error.status, "headers": {"Content-Type": "application/json"}, "multiValueHeaders": {},
            "body": json.dumps(error.body())}


def _not_found_response() -> dict:
    from chalicelib.errors import NotFound
    return _error_response(NotFound("No such path or method."))


class _NoRoute(Exception):
    """No route matches: raised instead of Chalice's ValueError, whose handler
    builds a 403 that echoes the Authorization header (and raises on a
    non-ASCII one, dropping the connection)."""


def _framing_error(headers) -> str | None:
    """Why the body cannot be read safely, or None."""
    if "chunked" in (headers.get("transfer-encoding") or "").lower():
        return "Send the body with a Content-Length."
    length = headers.get("content-length", "0").strip()
    if not length.isdigit():
        return "Content-Length is not a number."
    if int(length) > BODY_BYTES_MAX:
        return "The body is too large."
    return None


class FlockGateway(LocalGateway):
    """Chalice's local gateway, answering as the template's GatewayResponses
    do on AWS: an unknown path or method gets Flock's 404 error object and
    nothing of the request is echoed. The in-process test client can use it
    too (`client.http._local_gateway = FlockGateway(app, config)`).

    `source_ip` is the socket's peer, put where API Gateway puts the client
    address (`requestContext.identity.sourceIp`): Chalice's local gateway
    writes 127.0.0.1 for everyone, which would make the login throttle one
    bucket for the world. Headers such as X-Forwarded-For are never read."""

    def __init__(self, app_object, config, source_ip: str = "127.0.0.1"):
        super().__init__(app_object, config)
        self.source_ip = source_ip

    def _generate_lambda_event(self, method, path, headers, body):
        try:
            event = super()._generate_lambda_event(method, path, headers, body)
        except ValueError:
            raise _NoRoute() from None
        event["requestContext"].setdefault("identity", {})["sourceIp"] = self.source_ip
        return event

    def handle_request(self, method, path, headers, body):
        try:
            response = super().handle_request(method, path, headers, body)
        except (_NoRoute, ForbiddenError):
            return _not_found_response()
        if method == "OPTIONS" and response.get("body") is None and \
                response.get("headers") == {"Access-Control-Allow-Methods": "OPTIONS"}:
            return _not_found_response()  # no CORS and no OPTIONS route: an unknown method
        return response


class FlockRequestHandler(ChaliceRequestHandler):
    # Nagle's algorithm with delayed ACKs cost every request ~40 ms (measured).
    disable_nagle_algorithm = True

    def __init__(self, request, client_address, server, app_object, config):
        self.local_gateway = FlockGateway(app_object, config, source_ip=client_address[0])
        ChaliceRequestHandler.__bases__[0].__init__(self, request, client_address, server)

    def _generic_handle(self):
        problem = _framing_error(self.headers)
        if problem:  # the stream cannot be trusted past these headers
            from chalicelib.errors import InvalidRequest
            self.close_connection = True
            response = _error_response(InvalidRequest(problem))
            self._send_http_response(response["statusCode"], {**response["headers"], "Connection": "close"},
                                     response["body"])
            return
        super()._generic_handle()

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def __getattr__(self, name):
        # Any other method (TRACE, QUERY, ...): the gateway's 404 error
        # object, not http.server's 501 HTML page.
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)

    def _send_http_response_with_body(self, code, headers, body):
        if self.command != "HEAD":
            return super()._send_http_response_with_body(code, headers, body)
        # HEAD: the headers GET would send, and no body (one would be read
        # as the start of the next response on a kept-alive connection)
        if not isinstance(body, bytes):
            body = body.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
        self._send_headers(headers)

    def log_message(self, format, *args):  # noqa: A002 - no headers or bodies in logs
        if os.environ.get("FLOCK_ACCESS_LOG") == "1":
            super().log_message(format, *args)


class FlockHTTPServer(ThreadedHTTPServer):
    # socketserver's default backlog of 5 resets connections when a few
    # dozen clients connect at once (as the concurrency tests do).
    request_queue_size = 128


def thread_local_requests(app) -> None:
    """Give each thread its own `current_request`, as
    chalice.local.create_local_server does. Chalice keeps the request on the
    app, one per Lambda process; a threaded server, or a test's threads
    calling the app at once, would otherwise read each other's request (a
    like landing as another person's). Idempotent."""
    if not isinstance(app, LocalChalice):
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice


def make_server(app, host: str, port: int):
    thread_local_requests(app)
    config = Config.create(chalice_stage="dev", app_name="flock", lambda_timeout=30, lambda_memory_size=512)
    return LocalDevServer(app, config, host, port, handler_cls=FlockRequestHandler, server_cls=FlockHTTPServer)


def banner(url: str, password: str, from_env: bool, business_time: str = "", aws: str = "",
           network_secrets: dict | None = None, fx_rates: dict | None = None) -> str:
    """What `make run` prints: where things are, money moving in three steps,
    and in another currency (a EUR deposit, a quote, a conversion)."""
    shown = "(FLOCK_ADMIN_PASSWORD)" if from_env else password
    login = ('"{\\"handle\\": \\"admin\\", \\"password\\": \\"$FLOCK_ADMIN_PASSWORD\\"}"' if from_env
             else f"'{{\"handle\": \"admin\", \"password\": \"{password}\"}}'")
    return f"""
Flock is running.
  Web client    {url}/
  API docs      {url}/docs   (OpenAPI document: {url}/v1/openapi.json)
  Admin login   handle "admin", password {shown}
  Business time {business_time or "now"}   (move it with POST /v1/admin/test-clock)
  Local AWS     moto at {aws or "an in-process server"}
{_rates_line(fx_rates)}{_network_lines(network_secrets or {})}  Local data lives in memory: Ctrl-C stops the server and forgets everything.

Money in three steps (paste into a shell; needs curl and python3):
  URL={url}; J='Content-Type: application/json'
  tok() {{ python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'; }}
  ALICE=$(curl -s $URL/v1/auth/signup -H "$J" -d '{{"handle": "alice", "password": "correct horse battery"}}' | tok)
  curl -s $URL/v1/auth/signup -H "$J" -d '{{"handle": "bob", "password": "correct horse battery"}}' >/dev/null
  ADMIN=$(curl -s $URL/v1/auth/login -H "$J" -d {login} | tok)
  # 1. the admin verifies alice and bob, which opens their money accounts
  for h in alice bob; do curl -s -X POST $URL/v1/admin/users/$h/verify -H "Authorization: Bearer $ADMIN"; echo; done
  # 2. alice deposits $100.00 from her linked bank (amounts are integer cents)
  curl -s $URL/v1/wallet/deposits -H "$J" -H "Authorization: Bearer $ALICE" -H "Idempotency-Key: deposit-1" \\
       -d '{{"amount": 10000, "currency": "USD"}}'; echo
  # 3. alice sends bob $25.00; the same Idempotency-Key again replays the answer and moves nothing
  curl -s $URL/v1/transfers -H "$J" -H "Authorization: Bearer $ALICE" -H "Idempotency-Key: lunch-1" \\
       -d '{{"to": "bob", "amount": 2500, "currency": "USD", "note": "lunch"}}'; echo

  # Money in another currency, at the bundled sample's rates (amounts in the currency's minor units):
  # 4. alice deposits EUR 50.00 into her EUR pocket, opened on first use
  curl -s $URL/v1/wallet/deposits -H "$J" -H "Authorization: Bearer $ALICE" -H "Idempotency-Key: eur-1" \\
       -d '{{"amount": 5000, "currency": "EUR"}}'; echo
  # 5. a quote for EUR 20.00 in USD (lives 30 s), then the conversion at it
  Q=$(curl -s $URL/v1/fx/quotes -H "$J" -H "Authorization: Bearer $ALICE" \\
       -d '{{"sell_currency": "EUR", "buy_currency": "USD", "sell_amount": 2000}}' \\
       | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  curl -s $URL/v1/fx/conversions -H "$J" -H "Authorization: Bearer $ALICE" -H "Idempotency-Key: fx-1" \\
       -d "{{\\"quote_id\\": \\"$Q\\"}}"; echo

Ctrl-C stops the server and the local AWS.
"""


def _rates_line(fx_rates: dict | None) -> str:
    """Where the exchange rates came from: the bundled sample on a fresh stack."""
    if not fx_rates:
        return ""
    return (f"  FX rates      ECB reference rates of {fx_rates['as_of']} from the bundled sample "
            f"(scripts/data/eurofxref-sample.xml)\n")


def _network_lines(network_secrets: dict) -> str:
    """The networks' signing secrets, unless they came from the environment
    (then the operator has them already and they stay out of the terminal)."""
    lines = []
    for network, secret in sorted(network_secrets.items()):
        from_env = os.environ.get(f"FLOCK_{network.upper()}_NETWORK_SECRET")
        shown = f"(FLOCK_{network.upper()}_NETWORK_SECRET)" if from_env else secret
        lines.append(f"  {network.capitalize()} network  secret {shown}\n")
    if lines:
        lines.append("                (play a network: python -m chalicelib.cli network card|check PATH 'JSON')\n")
    return "".join(lines)


def seed_in_background(url: str, admin_password: str) -> None:
    """`make demo`: seeds through the API once the server answers."""
    import threading

    import demo

    def run():
        try:
            people = demo.seed(url, admin_password)
            print(f"Demo data ready: log in at {url}/ as {', '.join(people)} "
                  f"(password \"{demo.PASSWORD}\").", flush=True)
        except Exception as failure:  # noqa: BLE001 - the server keeps running without demo data
            print(f"Demo data failed: {failure}", file=sys.stderr, flush=True)

    threading.Thread(target=run, daemon=True).start()


def web_origins(url: str) -> list[str]:
    """Where the page uploads videos from: FLOCK_WEB_ORIGIN, else this
    server, by either name a person may type for it (the port is only known
    once bound, so the bucket's CORS rule is set after)."""
    from chalicelib.config import settings
    if settings().web_origin:
        return [settings().web_origin]
    return [url, url.replace("//127.0.0.1:", "//localhost:")]


def clock_start(text: str | None):
    """FLOCK_CLOCK_START as an aware datetime, or None when unset; refused
    outside the dev stage and without a time zone (business time is UTC)."""
    from datetime import datetime
    if not text:
        return None
    if os.environ.get("FLOCK_STAGE", "dev") != "dev":
        raise SystemExit("FLOCK_CLOCK_START is for the dev stage only")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"FLOCK_CLOCK_START is not an ISO 8601 instant: {text!r}") from None
    if moment.tzinfo is None:
        raise SystemExit(f"FLOCK_CLOCK_START needs a time zone (e.g. Z): {text!r}")
    return moment


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--dynamodb-endpoint", default=os.environ.get("FLOCK_DYNAMODB_ENDPOINT"))
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--exit-with-parent", action="store_true")
    parser.add_argument("--demo", action="store_true", help="seed demo people, posts, money and messages")
    args = parser.parse_args()
    if args.exit_with_parent:
        from motoserver import exit_with_parent
        exit_with_parent()

    moto_server = stack_file = None
    if not args.dynamodb_endpoint:
        moto_server = localstack.LockedMotoServer().start()
        args.dynamodb_endpoint = moto_server.url
    localstack.point_at(args.dynamodb_endpoint)
    os.environ.setdefault("FLOCK_STAGE", "dev")
    start = clock_start(os.environ.get("FLOCK_CLOCK_START"))
    if start is not None:
        from chalicelib import clock
        clock.pin(start)

    from app import app
    server = make_server(app, "127.0.0.1", args.port)
    url = f"http://127.0.0.1:{server.server.server_address[1]}"
    state = localstack.provision(os.environ.get("FLOCK_ADMIN_PASSWORD"), network_secrets={
        network: os.environ.get(f"FLOCK_{network.upper()}_NETWORK_SECRET") for network in ("card", "check")},
        web_origins=web_origins(url))
    seeded = localstack.seed_fx_rates()

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    if not args.quiet:
        from chalicelib import clock
        print(banner(url, state["admin_password"], bool(os.environ.get("FLOCK_ADMIN_PASSWORD")),
                     clock.iso(clock.now()), args.dynamodb_endpoint, state["network_secrets"], seeded), flush=True)
    if moto_server and not args.quiet:
        from chalicelib import devstack  # the operator CLI finds this stack by it
        stack_file = devstack.write(url, args.dynamodb_endpoint)
    if args.demo:
        seed_in_background(url, state["admin_password"])
    print(f"READY {url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server.server_close()
        if stack_file:
            with contextlib.suppress(OSError):
                os.remove(stack_file)
        if moto_server:
            moto_server.stop()


if __name__ == "__main__":
    main()
