"""The dev server `make run` starts and the end-to-end tests use.

    python scripts/devserver.py [--port 8000] [--dynamodb-endpoint URL]

Without an endpoint it starts its own moto server (in this process, on
127.0.0.1). It provisions the stack and serves the API through Chalice's
local server, reshaping the local gateway's own refusals (403 "Missing
Authentication Token", which also echoes the Authorization header) into
Flock's 404 error object, as the template's GatewayResponses do on AWS.
Ctrl-C or SIGTERM stops everything it started.
"""
import argparse
import json
import os
import signal
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import localstack  # noqa: E402


def _not_found_response() -> dict:
    from chalicelib.errors import NotFound
    return {"statusCode": 404, "headers": {"Content-Type": "application/json"}, "multiValueHeaders": {},
            "body": json.dumps(NotFound("No such path or method.").body())}


def make_server(app, host: str, port: int):
    from chalice.config import Config
    from chalice.local import (ChaliceRequestHandler, CustomLocalChalice, ForbiddenError, LocalChalice,
                               LocalDevServer, LocalGateway)

    class FlockGateway(LocalGateway):
        def handle_request(self, method, path, headers, body):
            try:
                return super().handle_request(method, path, headers, body)
            except ForbiddenError:
                return _not_found_response()

    class FlockRequestHandler(ChaliceRequestHandler):
        def __init__(self, request, client_address, server, app_object, config):
            self.local_gateway = FlockGateway(app_object, config)
            ChaliceRequestHandler.__bases__[0].__init__(self, request, client_address, server)

        def log_message(self, format, *args):  # noqa: A002 - no headers or bodies in logs
            if os.environ.get("FLOCK_ACCESS_LOG") == "1":
                super().log_message(format, *args)

    # As chalice.local.create_local_server does: a thread-local current_request.
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    config = Config.create(chalice_stage="dev", app_name="flock", lambda_timeout=30, lambda_memory_size=512)
    return LocalDevServer(app, config, host, port, handler_cls=FlockRequestHandler)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--dynamodb-endpoint", default=os.environ.get("FLOCK_DYNAMODB_ENDPOINT"))
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--exit-with-parent", action="store_true")
    args = parser.parse_args()
    if args.exit_with_parent:
        from motoserver import exit_with_parent
        exit_with_parent()

    moto_server = None
    if not args.dynamodb_endpoint:
        moto_server = localstack.LockedMotoServer().start()
        args.dynamodb_endpoint = moto_server.url
    localstack.point_at(args.dynamodb_endpoint)
    os.environ.setdefault("FLOCK_STAGE", "dev")

    state = localstack.provision(os.environ.get("FLOCK_ADMIN_PASSWORD"))
    from app import app
    server = make_server(app, "127.0.0.1", args.port)

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    url = f"http://127.0.0.1:{server.server.server_address[1]}"
    if not args.quiet:
        password = state["admin_password"]
        shown = password if not os.environ.get("FLOCK_ADMIN_PASSWORD") else "(FLOCK_ADMIN_PASSWORD)"
        print(f"""
Flock is running at {url}   (moto DynamoDB at {args.dynamodb_endpoint})
Admin login: handle "admin", password {shown}

Try it:
  curl -s -X POST {url}/v1/auth/signup -H 'Content-Type: application/json' \\
       -d '{{"handle": "alice", "password": "correct horse battery"}}'
  curl -s {url}/v1/me -H "Authorization: Bearer <token from the answer>"

Ctrl-C stops the server and the local AWS.
""", flush=True)
    print(f"READY {url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server.server_close()
        if moto_server:
            moto_server.stop()


if __name__ == "__main__":
    main()
