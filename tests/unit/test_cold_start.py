"""What keeps `import app` (a Lambda cold start) cheap, checked in a fresh
interpreter: the heavy third-party packages only some routes need stay
unloaded until first use, pydantic and the request models are not loaded
at all (`chalicelib/lazy.py`) and no pydantic model of Flock's builds its
validators at import, the cyclic collector app.py turns off for the
import is on again after it, and the first request on every lazy path works.
`make bench` section 1 has the figures (callgrind: pydantic with the request
models ~340M instructions, PyJWT with `cryptography` ~180M, AES-GCM ~25M,
the first built model ~17M, against a ~700M Chalice + PynamoDB floor)."""
import json
import pathlib
import subprocess
import sys

import pytest
from chalice import Blueprint
from pydantic import BaseModel

import app  # noqa: F401  (declares every route, for the last test; the others import it afresh)
from chalicelib import http

ROOT = pathlib.Path(__file__).resolve().parents[2]

PROBE = """
import gc, json, sys
import app
def ran(name):  # whether a lazy module's body ran (running it sets __builtins__; a plain attribute access would run it)
    return name in sys.modules and "__builtins__" in object.__getattribute__(sys.modules[name], "__dict__")

deferred = sorted(m for m in list(sys.modules) if m.startswith(("pydantic.", "pydantic_core", "chalicelib.api.schemas"))
                  or m.startswith("chalicelib.api.inputs.") and ran(m) or m == "chalicelib.api.openapi" and ran(m))
from pydantic import BaseModel

def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)

print(json.dumps({
    "collecting": gc.isenabled(),
    "deferred_but_loaded": deferred,
    "loaded": sorted(m for m in ("jwt", "cryptography", "argon2") if m in sys.modules),
    "built": sorted(f"{m.__module__}.{m.__qualname__}" for m in subclasses(BaseModel)
                    if m.__module__.startswith("chalicelib") and m.__pydantic_complete__),
}))
"""


def _import_app() -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_app_loads_no_package_that_only_some_routes_need_and_builds_no_model():
    found = _import_app()
    assert found == {"collecting": True, "deferred_but_loaded": [], "loaded": [], "built": []}


# In a fresh process: for each module of request models, the first request
# that validates one of its bodies (an empty body: refused by validation,
# before authentication or any table is touched), then the OpenAPI document.
FIRST_REQUESTS = """
import json, sys
import app
from chalice.test import Client
from chalicelib import http

results = {}
with Client(app.app) as client:
    for spec in http.REGISTRY:
        module = getattr(spec.inputs, "__name__", None)
        if not isinstance(spec.body_model, str) or spec.network or module in results:
            continue
        path = spec.path.replace("{", "").replace("}", "")
        headers = {"Content-Type": "application/json", "Idempotency-Key": "first-request"}
        r = getattr(client.http, spec.method.lower())(path, headers=headers, body=b"[]")
        ran = "__builtins__" in object.__getattribute__(sys.modules[module], "__dict__")  # without running it
        results[module] = [r.status_code, json.loads(r.body)["error"]["code"], ran]
    r = client.http.get("/v1/openapi.json")
    results["openapi"] = [r.status_code, len(json.loads(r.body)["paths"]) > 0]
print(json.dumps(results))
"""


def test_the_first_request_on_each_lazy_path_loads_its_models_and_validates():
    done = subprocess.run([sys.executable, "-c", FIRST_REQUESTS], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.strip().splitlines()[-1])
    modules = sorted(p.stem for p in (ROOT / "chalicelib" / "api" / "inputs").glob("*.py") if p.stem != "__init__")
    assert sorted(m.rsplit(".", 1)[-1] for m in results if m != "openapi") == modules
    for module, answer in results.items():
        if module != "openapi":
            assert answer == [400, "invalid_request", True], module
    assert results["openapi"] == [200, True]


def test_every_named_model_resolves_and_a_name_needs_its_inputs():
    """A name that `inputs` lacks would only fail at the route's first
    request: every declared one resolves to a pydantic model here."""
    named = [(spec, name) for spec in http.REGISTRY for name in (spec.body_model, spec.query_model)
             if isinstance(name, str)]
    assert len(named) > 50
    for spec, name in named:
        model = getattr(spec.inputs, name)
        assert isinstance(model, type) and issubclass(model, BaseModel), (spec.path, name)
    route = http.routes(Blueprint("orphan"), authenticate=None)
    with pytest.raises(TypeError):
        route("/v1/orphan", methods=["POST"], body="Body")


def test_a_deferred_module_read_from_many_threads_while_it_loads_is_whole_for_each(tmp_path, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor
    from chalicelib import lazy
    (tmp_path / "flock_slow_module.py").write_text("import time\nFIRST = 1\ntime.sleep(0.3)\nLAST = 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "flock_slow_module", raising=False)
    deferred = lazy.module("flock_slow_module")
    assert "flock_slow_module" not in sys.modules  # nothing ran yet
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(lambda _: (deferred.FIRST, deferred.LAST), range(8))) == [(1, 2)] * 8
    monkeypatch.delitem(sys.modules, "flock_slow_module")
