"""The one module-level way Flock defers an import for cold start (the few
imports inside functions, for the same reason, are listed in
`tests/unit/test_layering.py`).

`lazy.module("chalicelib.api.inputs.wallet")` returns the module object at
once, but runs its body on the first attribute access
(`importlib.util.LazyLoader`). It is for what a cold start need not pay and a
request does: the request models of every route module, and pydantic with
them, load on the first request that validates a body or a query, not at
`import app` (~340M instructions of a 1,260M `import app` against a ~700M
Chalice + PynamoDB floor: callgrind, bytecode cached, `make bench` section 1).

Called at module level only, with the full dotted name as a literal:
`tests/unit/test_layering.py` reads those calls as imports (the graph, the
cycle check and the layer rules see them), and `tests/unit/test_cold_start.py`
sends a first request through every lazy path in a fresh process.
"""
import importlib.util
import sys
import types


def module(name: str) -> types.ModuleType:
    """`name`, imported for real on its first attribute access (at once if
    something already imported it)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    lazy = importlib.util.module_from_spec(spec)
    sys.modules[name] = lazy
    spec.loader.exec_module(lazy)
    return lazy
