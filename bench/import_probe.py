"""Import one module in this fresh process and report how long it took.

    python bench/import_probe.py DIR MODULE[,MODULE...] [--no-cryptography] [--clients]

DIR goes first on sys.path (the repo root for `app`, bench/ for the floor).
Any socket connect or DNS lookup during the import is refused and reported:
a cold start must not call the network. `--no-cryptography` hides the
`cryptography` package, as in the Lambda bundle (requirements.txt does not
vendor it; only the dev tools pull it into the venv).
`--clients` then creates the DynamoDB client of every PynamoDB model (no
request is sent) and reports how many there are, the time and the peak RSS.
Prints one JSON line; the parent reads this process's ru_maxrss with wait4.
"""
import importlib
import importlib.abc
import json
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
    sys.path.insert(0, directory)
    before = len(sys.modules)
    t0 = time.perf_counter()
    for name in module.split(","):
        importlib.import_module(name)
    seconds = time.perf_counter() - t0
    report = {"import_s": seconds, "modules": len(sys.modules) - before, "network": network,
              "cryptography_loaded": "cryptography" in sys.modules}
    if "--clients" in sys.argv[3:]:
        report.update(clients())
    print(json.dumps(report))


def clients():
    """After the import: create the DynamoDB client of every PynamoDB model
    (what a warm process has once each model was used once), and count them."""
    import resource

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
            "clients_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


if __name__ == "__main__":
    main()
