"""HTTP plumbing shared by every route: body and query parsing (pydantic),
authentication, pagination cursors, the idempotency-key header, and the one
place where a refusal becomes a status code and the error object.

A route is declared with `routes(blueprint, authenticate, inputs)`:

    inputs = lazy.module("chalicelib.api.inputs.identity")
    route = routes(bp, authenticate, inputs)

    @route("/v1/me", methods=["PATCH"], body="PatchMe")
    def patch_me(req):
        return people.update_profile(req.principal.user_id, req.data.display_name, req.data.bio)

`body` and `query` name a pydantic model of `inputs`, the route module's
request models, loaded on the first request that needs one: pydantic and
some fifty model classes are no part of a cold start (`chalicelib/lazy.py`).
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass

from chalice import Response

from chalicelib import errors, lazy
from chalicelib.identity import client as client_module
from chalicelib.identity import keys, network_auth
from chalicelib.identity.client import Client

log = logging.getLogger("flock")
# Loaded by the first model a request validates (the models import it); only
# its ValidationError is named here.
pydantic = lazy.module("pydantic")

BODY_BYTES_MAX = 64 * 1024
CURSOR_CHARS_MAX = 2048
IDEMPOTENCY_KEY_CHARS_MAX = 255


class Reply:
    """A route's answer when it is not a plain 200 JSON body."""

    def __init__(self, body=None, status: int = 200, headers: dict | None = None):
        self.body, self.status, self.headers = body, status, headers or {}


def present(value):
    """The presenter: a service's record (chalicelib/records/), or a domain
    value such as `Money`, becomes its JSON object here and nowhere else.
    `json.dumps` calls it for each value it cannot write itself, nested ones
    too, so a route may answer records, lists of them or a page around them."""
    as_json = getattr(value, "as_json", None)
    if as_json is None:
        raise TypeError(f"{type(value).__name__} is not an answer")
    return as_json()


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    merged = {"Content-Type": "application/json", **(headers or {})}
    if body is None:
        return Response(body="", status_code=status, headers=merged)
    return Response(body=json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=present),
                    status_code=status, headers=merged)


def error_response(error: errors.ApiError) -> Response:
    return json_response(error.body(), error.status, error.headers)


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def _check_strings(value, path: tuple = ()):
    """Lone surrogates cannot be stored or encoded as UTF-8: refuse them here,
    naming the field (as pydantic names the others)."""
    if len(path) > 32:
        raise errors.InvalidRequest("The body nests too deeply.")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise errors.InvalidRequest("Strings must be valid Unicode.",
                                        param=".".join(str(p) for p in path) or None) from None
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_strings(k, path)  # first: a bad key must not reach `param`
            _check_strings(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_strings(v, path + (i,))


def parse_json(raw: bytes | None, bytes_max: int = BODY_BYTES_MAX):
    if raw is None or raw.strip() == b"":
        return None
    if len(raw) > bytes_max:
        raise errors.InvalidRequest(f"The body is larger than {bytes_max} bytes.")
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise errors.InvalidRequest("The body is not valid JSON.") from None
    _check_strings(value)
    return value


def validation_error(exc: pydantic.ValidationError) -> errors.InvalidRequest:
    first = exc.errors(include_url=False)[0]
    param = ".".join(str(p) for p in first.get("loc", ())) or None
    message = first.get("msg", "invalid value")
    return errors.InvalidRequest(f"{param}: {message}" if param else message, param=param)


def validate(model: type[pydantic.BaseModel], data):
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise validation_error(exc) from None


def encode_cursor(key: dict | None) -> str | None:
    if not key:
        return None
    payload = base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":"), sort_keys=True).encode()).decode()
    mac = hmac.new(keys.derived_key("cursor"), payload.encode(), hashlib.sha256).digest()[:16]
    return f"{payload}.{base64.urlsafe_b64encode(mac).decode()}"


def decode_cursor(cursor: str | None) -> dict | None:
    """The key a cursor stands for; a forged or garbled cursor is a 400."""
    if cursor is None or cursor == "":
        return None
    bad = errors.InvalidRequest("The cursor is not valid.", param="cursor")
    if len(cursor) > CURSOR_CHARS_MAX or cursor.count(".") != 1:
        raise bad
    payload, mac = cursor.split(".")
    expected = base64.urlsafe_b64encode(
        hmac.new(keys.derived_key("cursor"), payload.encode(), hashlib.sha256).digest()[:16]).decode()
    if not hmac.compare_digest(mac.encode(), expected.encode()):
        raise bad
    try:
        key = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except ValueError:
        raise bad from None
    if not isinstance(key, dict):
        raise bad
    return key


class Request:
    """What a route sees of the HTTP request, parsed and checked in API
    order: shape (400) before authentication (401) before anything else.

    Attributes:
      principal: the authenticated caller, None on public routes.
      data: the body model, None if the route takes no body.
      params: the query model, None if the route takes no query.
      idempotency_key: the `Idempotency-Key` header on money-moving routes.
    """

    def __init__(self, chalice_request, principal=None, data=None, params=None, idempotency_key=None):
        self._request = chalice_request
        self.principal = principal
        self.data = data
        self.params = params
        self.idempotency_key = idempotency_key

    @property
    def raw_body(self) -> bytes:
        return self._request.raw_body or b""

    @property
    def headers(self):
        """The request headers, looked up case-insensitively."""
        return self._request.headers or {}

    @property
    def source_address(self) -> str:
        return source_address(self._request)

    @property
    def client(self) -> Client:
        return client_of(self._request)


def source_address(chalice_request) -> str:
    """The client address as the gateway saw it (API Gateway's sourceIp; the
    dev server puts the socket's peer there). Never X-Forwarded-For or any
    other header the client chooses."""
    identity = (chalice_request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")[:64]


def client_of(chalice_request) -> Client:
    headers = chalice_request.headers or {}
    return client_module.from_headers(source_address(chalice_request), headers.get("user-agent"),
                                      headers.get("flock-otp"))


def parse_body(chalice_request, model: type[pydantic.BaseModel], required: bool, bytes_max: int = BODY_BYTES_MAX):
    data = parse_json(chalice_request.raw_body, bytes_max)
    if data is None:
        if required:
            raise errors.InvalidRequest("A JSON object body is required.")
        data = {}
    if not isinstance(data, dict):
        raise errors.InvalidRequest("The body must be a JSON object.")
    return validate(model, data)


def parse_idempotency_key(chalice_request) -> str:
    key = chalice_request.headers.get("idempotency-key")
    if key is None or key == "":
        raise errors.IdempotencyKeyRequired(param="Idempotency-Key")
    if len(key) > IDEMPOTENCY_KEY_CHARS_MAX:
        raise errors.InvalidRequest("Idempotency-Key is 1..255 characters.", param="Idempotency-Key")
    return key


def _bearer_token(chalice_request) -> str:
    header = chalice_request.headers.get("authorization")
    if not header:
        raise errors.Unauthenticated()
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 4096:
        raise errors.Unauthenticated()
    return token.strip()


def _request_id(app) -> str:
    context = getattr(app, "lambda_context", None)
    return getattr(context, "aws_request_id", None) or "unknown"


def _model(inputs, model):
    """A route's body or query model: named in `inputs` (loading it, the
    first time), or given as a class."""
    return getattr(inputs, model) if isinstance(model, str) else model


@dataclass(frozen=True)
class RouteSpec:
    """One declared route and method, as `route` saw it: the source of the
    OpenAPI document (chalicelib/api/openapi.py) and the route-table tests.
    `body` and `query` resolve the models by name (loading them)."""
    path: str
    method: str
    view_name: str
    view: object
    body_model: type[pydantic.BaseModel] | str | None
    body_required: bool
    query_model: type[pydantic.BaseModel] | str | None
    auth: bool
    admin: bool
    idempotent: bool
    status: int
    network: str | None = None
    inputs: object = None

    @property
    def body(self):
        return None if self.body_model is None else _model(self.inputs, self.body_model)

    @property
    def query(self):
        return None if self.query_model is None else _model(self.inputs, self.query_model)


REGISTRY: list[RouteSpec] = []


def routes(blueprint, authenticate, inputs=None):
    """A route decorator for `blueprint` whose views take a `Request`.

    `authenticate(token) -> principal` is identity's. `auth=False` routes get
    no principal; `admin=True` routes refuse non-admins with 403. `body` and
    `query` are pydantic models, by name in `inputs` (a module loaded with
    `lazy.module`, so the first request pays for pydantic, not the cold
    start) or as classes; `idempotent=True` requires the key header.
    `body_bytes_max` raises the body limit for the route that takes images.
    `network="card"` routes are called by that network, not by a person: the
    `Flock-Signature` header is checked before anything else (a refused call
    learns nothing and stores nothing), and an `errors.Replayed` raised by
    the service is answered with the stored status and body.
    """
    def route(path: str, methods=("GET",), auth: bool = True, admin: bool = False, status: int = 200,
              body: type[pydantic.BaseModel] | str | None = None, body_required: bool = True,
              query: type[pydantic.BaseModel] | str | None = None, idempotent: bool = False, network: str | None = None,
              body_bytes_max: int = BODY_BYTES_MAX):
        if inputs is None and (isinstance(body, str) or isinstance(query, str)):
            raise TypeError(f"{path}: a model named by a string needs the route module's `inputs`")

        def decorate(view):
            @functools.wraps(view)
            def handler(**path_params):
                chalice_request = blueprint.current_request
                try:
                    if network:
                        network_auth.verify(network, chalice_request.headers.get(network_auth.HEADER),
                                            chalice_request.raw_body or b"")
                    key = parse_idempotency_key(chalice_request) if idempotent else None
                    data = parse_body(chalice_request, _model(inputs, body), body_required, body_bytes_max) \
                        if body else None
                    params = validate(_model(inputs, query), dict(chalice_request.query_params or {})) \
                        if query else None
                    principal = authenticate(_bearer_token(chalice_request), client_of(chalice_request)) \
                        if (auth or admin) and not network else None
                    if admin and principal.role != "admin":
                        raise errors.Forbidden("This route is for operators.")
                    result = view(Request(chalice_request, principal, data, params, key), **path_params)
                except errors.ApiError as refusal:
                    return error_response(refusal)
                except errors.Replayed as first:
                    return json_response(first.answer, first.status)
                except Exception:
                    log.exception("unhandled error, request id %s", _request_id(blueprint))
                    return error_response(errors.InternalError())
                if isinstance(result, Reply):
                    return json_response(result.body, result.status, result.headers)
                if isinstance(result, Response):
                    return result
                return json_response(result, status)
            blueprint.route(path, methods=list(methods))(handler)
            for method in methods:
                REGISTRY.append(RouteSpec(path, method.upper(), view.__name__, view, body, body_required, query,
                                          (auth or admin) and not network, admin, idempotent, status, network,
                                          inputs))
            return view
        return decorate
    return route


_CHALICE_ERRORS = {
    405: errors.NotFound("No such method on this path."),
    415: errors.InvalidRequest("Content-Type must be application/json."),
}


def reshape_errors(event, get_response):
    """Chalice middleware: answers Chalice made itself (405, 415, 500) carry
    Flock's error object too, and never a stack trace."""
    try:
        response = get_response(event)
    except Exception:
        log.exception("unhandled error in middleware chain")
        return error_response(errors.InternalError())
    if response.status_code < 400:
        return response
    body = response.body
    if isinstance(body, (str, bytes)):
        try:
            body = json.loads(body)
        except ValueError:
            body = None
    if isinstance(body, dict) and "error" in body:
        return response
    refusal = _CHALICE_ERRORS.get(response.status_code)
    if refusal is None:
        refusal = errors.InternalError() if response.status_code >= 500 else errors.InvalidRequest()
    return error_response(refusal)
