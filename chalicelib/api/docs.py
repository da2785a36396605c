"""The API described: `GET /v1/openapi.json` (OpenAPI 3.1, built from the
route table on first request) and `GET /docs`, Swagger UI (vendored from
npm `swagger-ui-dist` into chalicelib/web/static/) reading that document,
with "try it" against this same stack; no scripts, styles or fonts from
anywhere else (the web client's CSP)."""
import functools
import html

from chalice import Blueprint

from chalicelib import http, lazy
from chalicelib.api import web
from chalicelib.identity.users import authenticate

# The document is built from pydantic's JSON schemas: loaded by the first request for it, not by a cold start.
openapi = lazy.module("chalicelib.api.openapi")
bp = Blueprint(__name__)
route = http.routes(bp, authenticate)


@route("/v1/openapi.json", auth=False)
def openapi_document(req):
    """The OpenAPI 3.1 document of this API."""
    return openapi.document(bp.current_app)


@route("/docs", auth=False)
def docs_page(req):
    """This page: the API rendered by Swagger UI (served from here), with "try it"."""
    return web.page_response(_page(bp.current_app))


@functools.lru_cache(maxsize=1)
def _page(app) -> str:
    """Swagger UI's shell; /static/docs.js points it at /v1/openapi.json."""
    title = html.escape(openapi.document(app)["info"]["title"], quote=True)
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{title} reference</title>"
            "<link rel='icon' href='/static/icon.svg' type='image/svg+xml'>"
            "<link rel='stylesheet' href='/static/swagger-ui.css'>"
            "<link rel='stylesheet' href='/static/docs.css'></head><body>"
            "<header class='docs-bar'><a href='/'>Flock</a> <span>API reference</span> "
            "<a href='/v1/openapi.json'>openapi.json</a></header>"
            "<p class='docs-note'>Try it out: sign up or log in below, paste the <code>token</code> into "
            "<strong>Authorize</strong> once; for <code>Idempotency-Key</code> type <code>auto</code> to get a "
            "fresh key at each Execute.</p>"
            "<main id='swagger-ui'><noscript>This page needs JavaScript; the document itself is "
            "<a href='/v1/openapi.json'>/v1/openapi.json</a>.</noscript></main>"
            "<script src='/static/swagger-ui-bundle.js'></script>"
            "<script src='/static/docs.js'></script></body></html>")
