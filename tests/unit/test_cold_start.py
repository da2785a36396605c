"""What keeps `import app` (a Lambda cold start) cheap, checked in a fresh
interpreter: the heavy third-party packages only some routes need stay
unloaded until first use, no pydantic model of Flock's builds its
validators at import, and the cyclic collector app.py turns off for the
import is on again after it. `make bench` section 1 has the figures (callgrind:
PyJWT with `cryptography` ~180M instructions, AES-GCM ~25M, the first built
model ~17M, against a ~750M Chalice + PynamoDB floor)."""
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]

PROBE = """
import gc, json, sys
import app
from pydantic import BaseModel

def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)

print(json.dumps({
    "collecting": gc.isenabled(),
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
    assert found == {"collecting": True, "loaded": [], "built": []}
