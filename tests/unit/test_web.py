"""The web client as files: `/` and `/static/{file}` answer without a token,
with a CSP that allows only the page's own origin (and the videos bucket's,
for uploads and playback), and every file the page asks for exists (the
browser tests in tests/browser drive it for real)."""
import dataclasses
import os
import re

import pytest

from chalicelib.api import web

OWN_FILES = [n for n in os.listdir(web.STATIC_DIR)
             if n.endswith((".js", ".css")) and not n.startswith("swagger-ui")]


def _text(r) -> str:
    return r.body.decode() if isinstance(r.body, bytes) else r.body


def _csp(r) -> dict:
    return dict(part.strip().split(" ", 1) for part in r.headers["Content-Security-Policy"].split(";"))


def test_the_page_needs_no_token_and_allows_only_its_own_origin(api):
    r = api.call("GET", "/")
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/html; charset=utf-8"
    csp = _csp(r)
    assert csp["default-src"] == "'none'"
    for directive in ("script-src", "style-src"):
        assert csp[directive] == "'self'", directive
    # the one other origin: the videos bucket (no endpoint here: AWS's, as botocore signs for us-east-1)
    assert csp["media-src"] == "https://flock-dev-videos.s3.amazonaws.com"
    assert csp["connect-src"] == "'self' https://flock-dev-videos.s3.amazonaws.com"
    page = _text(r)
    assert "<script>" not in page and "<style" not in page and " style=" not in page and " on" not in page.lower()
    for url in re.findall(r'(?:src|href)="([^"#]+)"', page):
        assert url.startswith("/") and not url.startswith("//"), url
        assert api.call("GET", url).status_code == 200, url


@pytest.mark.parametrize("name", OWN_FILES)
def test_every_module_the_client_imports_is_served(api, name):
    r = api.call("GET", f"/static/{name}")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/javascript" if name.endswith(".js") else "text/css")
    assert r.headers["Content-Security-Policy"] == web.csp()
    text = _text(r)
    assert not re.search(r"https?://", text), "the client fetches nothing from another origin"
    for imported in re.findall(r'from "\./([^"]+)"', text):
        assert api.call("GET", f"/static/{imported}").status_code == 200, (name, imported)
    assert ".innerHTML" not in text and "insertAdjacentHTML" not in text and "outerHTML" not in text


@pytest.mark.parametrize("name", ["nope.js", "..%2Fweb.py", "index.html", "app.py"])
def test_anything_else_is_flocks_404(api, name):
    r = api.call("GET", f"/static/{name}")
    assert r.status_code == 404 and r.json_body["error"]["code"] == "not_found"


@pytest.mark.parametrize("endpoint, origin", [
    ("http://127.0.0.1:45123", "http://127.0.0.1:45123"),
    ("http://localhost:4566/some/path?x=1", "http://localhost:4566"),
])
def test_locally_the_page_may_reach_exactly_the_local_s3_endpoints_origin(api, monkeypatch, endpoint, origin):
    local = dataclasses.replace(web.settings(), aws_endpoint=endpoint)
    monkeypatch.setattr(web, "settings", lambda: local)
    for path in ("/", "/static/app.js", "/docs"):
        csp = _csp(api.call("GET", path))
        assert csp["media-src"] == origin, path
        assert csp["connect-src"] == f"'self' {origin}", path
        assert csp["default-src"] == "'none'" and csp["script-src"] == "'self'", path
