"""The one module-level way Flock defers an import for cold start (the few
imports inside functions, for the same reason, are listed in
`tests/unit/test_layering.py`).

`lazy.module("chalicelib.api.inputs.wallet")` returns a stand-in at once;
the first attribute read through it imports the module for real
(`importlib.import_module`). Not `importlib.util.LazyLoader`: on Python 3.11
it marks the module loaded before its body has run, so a second thread
reading it meanwhile (the dev server, the concurrency tests) finds names
missing; the import system's own per-module lock makes every thread wait
for the whole body instead. It is for what a cold start need not pay and a
request does: the request models of every route module, and pydantic with
them, load on the first request that validates a body or a query, not at
`import app` (~340M instructions of a 1,260M `import app` against a ~700M
Chalice + PynamoDB floor: callgrind, bytecode cached, `make bench` section 1).

Called at module level only, with the full dotted name as a literal:
`tests/unit/test_layering.py` reads those calls as imports (the graph, the
cycle check and the layer rules see them), and `tests/unit/test_cold_start.py`
sends a first request through every lazy path in a fresh process.
"""
import importlib
import importlib.util
import sys
import types


class _Deferred(types.ModuleType):
    """Stands for module `__name__` until it is imported; every attribute it
    does not have itself is read from the real module, imported on the
    first such read."""

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self.__name__), attr)


def module(name: str) -> types.ModuleType:
    """`name`, imported for real on its first attribute access (the module
    itself if something already imported it)."""
    if name in sys.modules:
        return sys.modules[name]
    if importlib.util.find_spec(name) is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    return _Deferred(name)
