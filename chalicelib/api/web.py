"""Flock's web client: `GET /` is a single page, `GET /static/{file}` its
files (plain JavaScript modules, CSS, the vendored Swagger UI of /docs).

The files live in chalicelib/web/static/ so that `chalice package` ships
them in the Lambda: the same routes answer locally and on AWS. Only the
files found there at start are served (a name is a key of that table, never
a path), as text, with a Content-Security-Policy that lets a page use its
own origin's files and nothing else (no inline script or style, no CDN) but
the videos bucket's origin, for uploads and playback.
"""
import functools
import os

from chalice import Blueprint, Response

from chalicelib import errors, http
from chalicelib.config import settings
from chalicelib.identity.users import authenticate

bp = Blueprint(__name__)
route = http.routes(bp, authenticate)

STATIC_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "web", "static")
INDEX_HTML = os.path.join(os.path.dirname(STATIC_DIR), "index.html")
ASSET_BYTES_MAX = 4 * 1024 * 1024  # under Lambda's 6 MB answer
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".svg": "image/svg+xml", ".txt": "text/plain; charset=utf-8"}

# The page's own files only, but for videos: the client uploads straight
# to the videos bucket (the presigned POST) and plays from it (a presigned
# GET), so that one origin, and no other, is in connect-src and media-src.
# Swagger UI's stylesheet draws its icons as data: SVGs.
CSP_TEMPLATE = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                "media-src {videos}; connect-src 'self' {videos}; font-src 'self'; manifest-src 'self'; "
                "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
STATIC_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}


def csp() -> str:
    return CSP_TEMPLATE.format(videos=settings().videos_origin)


def page_headers() -> dict:
    return {"Content-Security-Policy": csp(), **STATIC_HEADERS}


def page_response(body: str) -> Response:
    return Response(body=body, status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache",
                             **page_headers()})


@functools.lru_cache(maxsize=1)
def _assets() -> dict:
    """name -> (content type, text) of every servable file, read once."""
    table = {}
    for name in sorted(os.listdir(STATIC_DIR)):
        kind = CONTENT_TYPES.get(os.path.splitext(name)[1])
        path = os.path.join(STATIC_DIR, name)
        if kind is None or not os.path.isfile(path) or os.path.getsize(path) > ASSET_BYTES_MAX:
            continue
        with open(path, encoding="utf-8") as f:
            table[name] = (kind, f.read())
    return table


@functools.lru_cache(maxsize=1)
def _index() -> str:
    with open(INDEX_HTML, encoding="utf-8") as f:
        return f.read()


@route("/", auth=False)
def web_client(req):
    """Flock's web client (a single page; its files are under /static/)."""
    return page_response(_index())


@route("/static/{file}", auth=False)
def web_asset(req, file):
    """A file of the web client or of /docs (JavaScript, CSS)."""
    asset = _assets().get(file)
    if asset is None:
        raise errors.NotFound("No such file.")
    kind, text = asset
    return Response(body=text, status_code=200,
                    headers={"Content-Type": kind, "Cache-Control": "no-cache", **page_headers()})
