"""The OpenAPI 3.1 document of the app, built from what the routes declared
(`http.REGISTRY`, checked against `app.routes`) and their pydantic models.

Built on the first call and cached: `import app` pays nothing for it.
"""
import copy
import functools
import inspect
import re

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib import http
from chalicelib.api import examples
from chalicelib.api.schemas import MoneyBody
from chalicelib.config import NETWORKS
from chalicelib.finance.money import SUPPORTED_CURRENCIES

PATH_PARAM = re.compile(r"{([^}]+)}")

HANDLE = {"type": "string", "pattern": r"^[A-Za-z0-9_]{1,15}$"}


def _id(prefix: str) -> dict:
    return {"type": "string", "minLength": 1, "maxLength": 64, "pattern": rf"^{prefix}_[0-9a-z]+$"}


def _path_params() -> dict:
    return {
        "handle": HANDLE,
        "post_id": _id("post"),
        "transfer_id": _id("tr"),
        "request_id": _id("req"),
        "conv_id": _id("conv"),
        "run_id": _id("run"),
        "month": {"type": "string", "pattern": r"^[0-9]{4}-(0[1-9]|1[0-2])$"},
        "name": {"$ref": "#/components/schemas/JobName"},
    }


# Views that read the body themselves (no model on the route).
RAW_BODIES = {
    "subscription_price": {"anyOf": [{"$ref": "#/components/schemas/MoneyBody"}, {"type": "null"}]},
}

# Views answering pages and files rather than JSON.
NOT_JSON = {"docs_page": ("text/html",), "web_client": ("text/html",), "get_statement_csv": ("text/csv",),
            "web_asset": ("text/javascript", "text/css", "image/svg+xml", "text/plain")}

RETRY_STATUSES = (429, 503)

STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Invalid request",
               401: "Not authenticated", 403: "Forbidden", 404: "Not found", 409: "Conflict",
               422: "Refused by a business rule", 429: "Too many attempts", 503: "Busy; retry"}


REF = "#/components/schemas/{model}"


def _answers():
    """api/responses.py and the response models it lists, loaded by the first
    build rather than by `import app`: some seventy pydantic classes would add
    tens of milliseconds to every cold start, for a document few Lambdas serve."""
    import chalicelib.api.responses as responses
    return responses


def _is_model(value) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _attributes(description: str) -> tuple[str, dict]:
    """A Google-style docstring split into its text and its `Attributes:`
    section (name -> description; a line indented further continues one)."""
    text, marker, section = description.partition("Attributes:")
    lines = [line for line in section.splitlines() if line.strip()]
    if not marker or not lines:
        return description, {}
    indent = min(len(line) - len(line.lstrip()) for line in lines)
    attributes, last = {}, None
    for line in lines:
        if len(line) - len(line.lstrip()) == indent and ":" in line:
            last, _, rest = line.strip().partition(":")
            attributes[last] = rest.strip()
        elif last:
            attributes[last] += " " + line.strip()
    return text.strip(), attributes


def _describe(schema: dict) -> dict:
    """Property descriptions from the model's `Attributes:`; no titles (the
    names say it)."""
    schema.pop("title", None)
    text, attributes = _attributes(inspect.cleandoc(schema.get("description", "")))
    if text:
        schema["description"] = text
    else:
        schema.pop("description", None)
    for name, prop in schema.get("properties", {}).items():
        prop.pop("title", None)
        if name in attributes:
            prop["description"] = attributes[name]
    return schema


def response_schemas(entries: dict) -> dict:
    """components/schemas from `responses.SCHEMAS`: models are generated
    (with everything they refer to: enums, nested models), dicts copied."""
    named = {name: value for name, value in entries.items() if _is_model(value)}
    for name, model in named.items():
        if model.__name__ != name:
            raise RuntimeError(f"SCHEMAS[{name!r}] is {model.__name__}: a model is listed under its own name")
    _, top = models_json_schema([(m, "serialization") for m in named.values()], by_alias=True, ref_template=REF)
    out = {name: _describe(schema) for name, schema in top.get("$defs", {}).items()}
    for name, value in entries.items():
        if not _is_model(value):
            out[name] = copy.deepcopy(value)
    return out


class _Schemas:
    """components/schemas, filled as models are met; $defs are hoisted."""

    def __init__(self):
        self.components = response_schemas(_answers().SCHEMAS)

    def model(self, model) -> dict:
        schema = model.model_json_schema(by_alias=True, mode="validation",
                                         ref_template="#/components/schemas/{model}")
        for name, definition in schema.pop("$defs", {}).items():
            self.components.setdefault(name, _shared_currency(definition))
        self.components.setdefault(model.__name__, _shared_currency(schema))
        return {"$ref": f"#/components/schemas/{model.__name__}"}


CURRENCY_ENUM = sorted(SUPPORTED_CURRENCIES)


def _shared_currency(schema: dict) -> dict:
    """A body's (or query's) currency points at the one `Currency` schema the answers use,
    so a generated client has one currency enum; its own enum stays beside
    the $ref (both apply in OpenAPI 3.1), so the body reads alone."""
    for name, prop in schema.get("properties", {}).items():
        enum = prop.get("enum")
        if prop.get("type") == "string" and enum and set(enum) <= set(CURRENCY_ENUM):
            # Home-currency-only bodies keep their narrower enum beside the shared schema.
            schema["properties"][name] = {"$ref": "#/components/schemas/Currency", "enum": enum}
    return schema


def _error_statuses(spec: http.RouteSpec) -> list[int]:
    statuses = {400, 404}
    if spec.auth:
        statuses |= {401, 403}
    if spec.network:
        statuses.add(401)
    statuses |= _answers().EXTRA_ERRORS.get(spec.view_name, set())
    return sorted(statuses)


def _query_parameters(model) -> list[dict]:
    schema = model.model_json_schema(mode="validation")
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema.get("properties", {}).items():
        prop = {k: v for k, v in prop.items() if k != "title" and not (k == "default" and v is None)}
        if "anyOf" in prop:  # `str | None`: a query string is never null
            kinds = [s for s in prop.pop("anyOf") if s.get("type") != "null"]
            prop.update(kinds[0] if len(kinds) == 1 else {"anyOf": kinds})
        prop = _shared_currency({"properties": {name: prop}})["properties"][name]
        out.append({"name": name, "in": "query", "required": name in required, "schema": prop})
    return out


def _summary_and_description(spec: http.RouteSpec) -> tuple[str, str]:
    """The view's docstring: its first line is the summary, the rest the
    description, followed by what the route declared (who may call, the
    idempotency key)."""
    # A view without a docstring still gets a document (test_openapi names it).
    summary, _, rest = inspect.cleandoc(spec.view.__doc__ or f"{spec.method} {spec.path}").partition("\n")
    notes = [rest.strip()] if rest.strip() else []
    if spec.admin:
        notes.append("Operators only (role admin); others get 403 forbidden.")
    elif spec.auth:
        notes.append("Needs a bearer token.")
    else:
        notes.append("Public: no token needed.")
    if spec.idempotent:
        notes.append("Moves money: send an `Idempotency-Key`. The same key and body again answer the first "
                     "answer with `Idempotent-Replayed: true`; the same key with another body is 409 "
                     "`idempotency_key_reused`.")
    return summary.strip(), "\n\n".join(notes)


def _operation(spec: http.RouteSpec, schemas: _Schemas, path_params: dict) -> dict:
    summary, description = _summary_and_description(spec)
    op = {"operationId": spec.view_name, "summary": summary, "description": description,
          "tags": [spec.view.__module__.rsplit(".", 1)[-1]]}
    params = [{"name": name, "in": "path", "required": True, "schema": path_params.get(name, {"type": "string"})}
              for name in PATH_PARAM.findall(spec.path)]
    if spec.query is not None:
        params += _query_parameters(spec.query)
    if spec.idempotent:
        params.append({"name": "Idempotency-Key", "in": "header", "required": True,
                       "description": "Same caller + key + body replays the first answer.",
                       "schema": {"type": "string", "minLength": 1, "maxLength": http.IDEMPOTENCY_KEY_CHARS_MAX,
                                  "pattern": "^[!-~]+$"}})
    if params:
        op["parameters"] = params
    if spec.body is not None:
        op["requestBody"] = {"required": spec.body_required,
                             "content": {"application/json": {"schema": schemas.model(spec.body)}}}
        if spec.body.__name__ in examples.REQUESTS:
            op["requestBody"]["content"]["application/json"]["example"] = examples.REQUESTS[spec.body.__name__]
    elif spec.view_name in RAW_BODIES:
        op["requestBody"] = {"required": True,
                             "content": {"application/json": {"schema": RAW_BODIES[spec.view_name],
                                                              "example": examples.REQUESTS[spec.view_name]}}}
    op["security"] = [{"bearer": []}] if spec.auth else [{f"{spec.network}Network": []}] if spec.network else []
    answers = {}
    success = _answers().SUCCESS.get(spec.view_name, {spec.status: None})
    for status, name in success.items():
        answer = {"description": STATUS_TEXT.get(status, "OK")}
        if name is not None:
            answer["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}
            if name in examples.RESPONSES:
                answer["content"]["application/json"]["example"] = examples.RESPONSES[name]
        if spec.idempotent:
            answer["headers"] = {"Idempotent-Replayed": {"$ref": "#/components/headers/Idempotent-Replayed"}}
        answers[str(status)] = answer
    if spec.view_name in NOT_JSON:
        answers["200"]["content"] = {kind: {"schema": {"type": "string"}} for kind in NOT_JSON[spec.view_name]}
    if spec.view_name == "get_statement":  # chosen by `Accept: text/csv` (or the older ?format=csv)
        answers["200"]["content"]["text/csv"] = {"schema": {"type": "string"},
                                                 "example": "created_at,kind,transfer_id,counterparty,note,"
                                                            "amount,currency,balance\r\n"}
    for status in _error_statuses(spec):
        answers[str(status)] = {"description": STATUS_TEXT[status],
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        if status in RETRY_STATUSES:
            answers[str(status)]["headers"] = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
    op["responses"] = answers
    return op


def build(app) -> dict:
    """The document for `app`; every route of `app.routes` must have been
    declared with `http.routes` (a route Chalice knows but the registry does
    not is an error, not a silent gap)."""
    schemas = _Schemas()
    schemas.model(MoneyBody)
    specs = {(s.path, s.method): s for s in http.REGISTRY}
    path_params = _path_params()
    paths = {}
    for path, methods in app.routes.items():
        for method in methods:
            spec = specs.get((path, method))
            if spec is None:
                raise RuntimeError(f"{method} {path} was not declared with http.routes")
            paths.setdefault(path, {})[method.lower()] = _operation(spec, schemas, path_params)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Flock API", "version": "1",
                 "description": "A social network that is also a bank. Money is integer minor units (USD)."},
        "paths": paths,
        "components": {
            "schemas": schemas.components,
            "headers": copy.deepcopy(_answers().HEADERS),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}, **{
                f"{network}Network": {"type": "apiKey", "in": "header", "name": "Flock-Signature",
                                      "description": f"The {network} network's call: t=<unix seconds>,v1=<hex "
                                                     "HMAC-SHA256 of '<t>.<raw body>'> under its secret."}
                for network in NETWORKS}},
        },
    }


@functools.lru_cache(maxsize=1)
def _cached(app) -> dict:
    return build(app)


def document(app) -> dict:
    return _cached(app)
