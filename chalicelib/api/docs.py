"""The API described: `GET /v1/openapi.json` (OpenAPI 3.1, built from the
route table on first request) and `GET /docs`, a page rendered here from
that document, with no scripts, styles or fonts from anywhere else."""
import functools
import html
import json

from chalice import Blueprint, Response

from chalicelib import http
from chalicelib.api import openapi
from chalicelib.identity.users import authenticate

bp = Blueprint(__name__)
route = http.routes(bp, authenticate)


@route("/v1/openapi.json", auth=False)
def openapi_document(req):
    """The OpenAPI 3.1 document of this API."""
    return openapi.document(bp.current_app)


@route("/docs", auth=False)
def docs_page(req):
    """This page: the API, readable offline."""
    return Response(body=_page(bp.current_app), status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8",
                             "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _schema_text(schema) -> str:
    return _e(json.dumps(schema, indent=2, ensure_ascii=False))


@functools.lru_cache(maxsize=1)
def _page(app) -> str:
    doc = openapi.document(app)
    out = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
           f"<title>{_e(doc['info']['title'])}</title>",
           "<style>body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
           "code,pre{font:13px ui-monospace,monospace}pre{background:#f4f4f4;padding:.6rem;overflow:auto}"
           ".m{display:inline-block;min-width:4.5rem;font-weight:bold}section{border-top:1px solid #ddd;"
           "padding:.5rem 0}details{margin:.3rem 0}</style></head><body>",
           f"<h1>{_e(doc['info']['title'])} v{_e(doc['info']['version'])}</h1>",
           f"<p>{_e(doc['info'].get('description', ''))}</p>",
           "<p>The machine-readable document: <a href='/v1/openapi.json'>/v1/openapi.json</a>. "
           "Authenticate with <code>Authorization: Bearer &lt;token&gt;</code>.</p><h2>Routes</h2><ul>"]
    operations = [(path, method, op) for path, ops in doc["paths"].items() for method, op in ops.items()]
    for path, method, op in operations:
        out.append(f"<li><a href='#{_e(op['operationId'])}'><span class='m'>{_e(method.upper())}</span>"
                   f"<code>{_e(path)}</code></a></li>")
    out.append("</ul>")
    for path, method, op in operations:
        out.append(f"<section id='{_e(op['operationId'])}'><h3><span class='m'>{_e(method.upper())}</span>"
                   f"<code>{_e(path)}</code></h3><p>{_e(op.get('summary', ''))}</p>")
        if op.get("description"):
            out.append(f"<p>{_e(op['description'])}</p>")
        out.append(f"<p>Auth: {'bearer token' if op.get('security') else 'none'}</p>")
        if op.get("parameters"):
            out.append("<table><tr><th>name</th><th>in</th><th>required</th><th>schema</th></tr>")
            for p in op["parameters"]:
                out.append(f"<tr><td><code>{_e(p['name'])}</code></td><td>{_e(p['in'])}</td>"
                           f"<td>{'yes' if p.get('required') else 'no'}</td>"
                           f"<td><code>{_e(json.dumps(p['schema'], ensure_ascii=False))}</code></td></tr>")
            out.append("</table>")
        if op.get("requestBody"):
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            out.append(f"<details><summary>Request body</summary><pre>{_schema_text(schema)}</pre></details>")
        out.append("<p>Answers: " + ", ".join(
            f"<code>{_e(status)}</code> {_e(answer['description'])}" for status, answer in op["responses"].items())
            + "</p></section>")
    out.append("<h2>Schemas</h2>")
    for name, schema in doc["components"]["schemas"].items():
        out.append(f"<details id='schema-{_e(name)}'><summary><code>{_e(name)}</code></summary>"
                   f"<pre>{_schema_text(schema)}</pre></details>")
    out.append("</body></html>")
    return "".join(out)
