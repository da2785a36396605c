"""Import one module in this fresh process and report how long it took.

    python bench/import_probe.py DIR[:DIR...] MODULE[,MODULE...] [--no-cryptography] [--clients]

The DIRs go first on sys.path, in the order given (the repo root for `app`,
bench/ for the floor; for the deployment package the unzipped package, run
with `python -I -S` so that nothing but it and the stdlib is on the path).
Any socket connect or DNS lookup during the import is refused and reported:
a cold start must not call the network. `--no-cryptography` hides the
`cryptography` package, as in the Lambda bundle (requirements.txt does not
vendor it; only the dev tools pull it into the venv).
`--clients` then creates the DynamoDB client of every PynamoDB model (no
request is sent) and reports how many there are, the time and the peak RSS.
Prints one JSON line, with this process's peak RSS (`hwm_kib`, VmHWM of
/proc/self/status). Not ru_maxrss: on Linux a child's ru_maxrss starts from
its parent's peak (exec keeps it), so a big parent inflates every figure.
The line says where each top-level package came from (`origins`: package ->
the sys.path entry that holds it; the standard library left out; a module
deferred by chalicelib/lazy.py is not in sys.modules until it is imported),
so the parent can check that nothing leaked in from a site-packages.
"""
import importlib
import importlib.abc
import importlib.util
import json
import os
import socket
import sys
import time

network = []


def _refuse(what):
    def refuse(*args, **kwargs):
        network.append(f"{what}{args[1:] if what == 'connect' else args[:2]}")
        raise OSError(f"import_probe: no network at import ({what})")
    return refuse


socket.socket.connect = _refuse("connect")
socket.socket.connect_ex = _refuse("connect")
socket.getaddrinfo = _refuse("getaddrinfo")


class _Hide(importlib.abc.MetaPathFinder):
    def __init__(self, top):
        self.top = top

    def find_spec(self, name, path=None, target=None):
        if name == self.top or name.startswith(self.top + "."):
            raise ModuleNotFoundError(f"No module named {name!r} (hidden by import_probe)", name=name)
        return None


def main():
    directory, module = sys.argv[1], sys.argv[2]
    if "--no-cryptography" in sys.argv[3:]:
        sys.meta_path.insert(0, _Hide("cryptography"))
    sys.path[:0] = directory.split(os.pathsep)
    before = len(sys.modules)
    preloaded = set(sys.modules)
    t0 = time.perf_counter()
    for name in module.split(","):
        importlib.import_module(name)
    seconds = time.perf_counter() - t0
    report = {"import_s": seconds, "modules": len(sys.modules) - before, "network": network,
              "cryptography_loaded": "cryptography" in sys.modules, "sys_path": list(sys.path),
              "origins": origins(preloaded)}
    if "--clients" in sys.argv[3:]:
        report.update(clients())
    report["hwm_kib"] = peak_rss_kib()
    print(json.dumps(report))


def peak_rss_kib():
    """This process's own peak RSS (its address space since exec)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def origins(preloaded=()):
    """Top-level package -> the sys.path entry it was loaded from, for the
    packages the import loaded (not `preloaded`, nor the standard library)."""
    stdlib = {os.path.dirname(os.__file__)}
    found = {}
    for name, module in list(sys.modules.items()):
        top = name.split(".", 1)[0]
        where = getattr(module, "__file__", None)
        if top in found or not where or name != top or top.startswith("__") or name in preloaded:
            continue
        where = os.path.abspath(where)
        entry = max((p for p in sys.path if p and where.startswith(os.path.abspath(p) + os.sep)), key=len,
                    default="?")
        found[top] = "stdlib" if entry in stdlib or os.path.dirname(entry) in stdlib else entry
    return {top: entry for top, entry in found.items() if entry != "stdlib"}


def clients():
    """After the import: create the DynamoDB client of every PynamoDB model
    (what a warm process has once each model was used once), and count them."""
    from pynamodb.models import Model

    def models(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from models(sub)

    t0 = time.perf_counter()
    made = {}
    for model in models(Model):
        meta = getattr(model, "Meta", None)
        if meta is not None and not getattr(meta, "abstract", False) and getattr(meta, "table_name", None):
            client = model._get_connection().connection.client
            made[id(client)] = client
    base = sys.modules.get("chalicelib.db.base")
    if base is not None:  # the transactions' own connection
        client = base.botocore_client()
        made[id(client)] = client
    return {"clients": len(made), "clients_s": time.perf_counter() - t0,
            "clients_rss_kib": peak_rss_kib()}


if __name__ == "__main__":
    main()
