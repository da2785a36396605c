"""Flock benchmarks, each figure beside its floor measured in the same run.

    make bench                      (= .venv/bin/python bench/run.py)
    .venv/bin/python bench/run.py --n 200 --cold-runs 7 --seed-items 2000

1. Cold start: `import app` in a fresh process (time, peak RSS) against a
   minimal Chalice app that imports boto3 and pynamodb (bench/minimal_app.py).
2. DynamoDB requests per call: counted by a botocore `before-call` hook on
   every client Flock uses (chalicelib.db.base.register_hook), checked against
   what the moto server itself received.
3. Time per P2P transfer through the service layer (`transfers.send`) against
   a LockedMotoServer on 127.0.0.1, against the same TransactWriteItems
   (captured from the ledger, replayed with fresh ids) sent with plain boto3,
   interleaved, at a table size held constant, at two sizes.

The machine is small and noisy: the figures that matter are the ratios.
Exit status 1 if a request-count rule is broken (those are exact, not noisy).
"""
import argparse
import collections
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
TARGET = 1.5
READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
PASSWORD = "correct horse battery"
ADMIN_PASSWORD = "bench-operator-password"
FAKE_AWS = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def say(text=""):
    print(text, flush=True)


def ms(seconds):
    return seconds * 1000.0


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))]


def verdict(ratio, target=TARGET):
    return "ok" if ratio <= target else "OVER"


# 1. Cold start -----------------------------------------------------------------

def _child_env():
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
           "FLOCK_STAGE": "dev", "LANG": "C.UTF-8", **FAKE_AWS}
    return env


def probe(directory, module, *flags, importtime=False):
    """One fresh interpreter importing `module`: import seconds (measured in
    the child), process wall seconds and peak RSS (wait4 on the child)."""
    cmd = [sys.executable] + (["-X", "importtime"] if importtime else []) + \
          [os.path.join(BENCH, "import_probe.py"), directory, module, *flags]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=_child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate() if importtime else (proc.stdout.read(), proc.stderr.read())
    if importtime:
        return err.decode()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"import probe of {module} failed:\n{err.decode()}")
    report = json.loads(out.decode().strip().splitlines()[-1])
    report.update(wall_s=wall, cpu_s=usage.ru_utime + usage.ru_stime, rss_kib=usage.ru_maxrss)
    return report


def _parse_importtime(text):
    """[(module, self_us, cumulative_us, depth)] in the order printed (children first)."""
    rows = []
    for line in text.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            rows.append((m.group(4), int(m.group(1)), int(m.group(2)), len(m.group(3))))
    return rows


def import_costs(app_text, floor_text, top=8):
    """What `import app` loads that the floor does not: self time per top-level
    package, and for each package the Flock module that first pulled it in."""
    app_rows, floor_mods = _parse_importtime(app_text), {r[0] for r in _parse_importtime(floor_text)}
    by_package = collections.Counter()
    first_importer = {}
    for i, (module, self_us, _, depth) in enumerate(app_rows):
        if module in floor_mods:
            continue
        package = module.split(".")[0]
        by_package[package] += self_us
        if package not in first_importer:
            # The parent is the next row printed with a smaller depth; walk up to Flock's own code.
            d, importer = depth, None
            for later, _, _, later_depth in app_rows[i + 1:]:
                if later_depth < d:
                    d = later_depth
                    if later.startswith("chalicelib") or later == "app":
                        importer = later
                        break
            first_importer[package] = importer
    flock_modules = sorted(((r[1], r[0]) for r in app_rows if r[0].startswith("chalicelib") or r[0] == "app"),
                           reverse=True)[:5]
    return by_package.most_common(top), first_importer, flock_modules


def cold_start(runs):
    say(f"1. Cold start: `import app` vs bench/minimal_app.py (chalice+boto3+pynamodb), {runs} fresh processes each")
    subjects = {"flock": (ROOT, "app", ()), "floor": (BENCH, "minimal_app", ()),
                "flock (no cryptography)": (ROOT, "app", ("--no-cryptography",)),
                # The floor plus the third-party packages Flock adds (requirements.txt): what is left is Flock's own.
                "floor + deps": (BENCH, "deps_app", ()),
                "bare python": (BENCH, "json", ())}
    for directory, module, flags in subjects.values():
        probe(directory, module, *flags)  # warm the .pyc caches and the page cache
    results = {name: [] for name in subjects}
    for i in range(runs):
        names = list(subjects)
        if i % 2:
            names.reverse()
        for name in names:
            directory, module, flags = subjects[name]
            results[name].append(probe(directory, module, *flags))

    def med(name, key):
        return statistics.median(r[key] for r in results[name])

    flock_net = sorted({n for r in results["flock"] for n in r["network"]})
    bare_rss = med("bare python", "rss_kib")
    rows = []
    figures = {}
    for label, key, scale, unit in (("import time", "import_s", 1000, "ms"), ("process wall", "wall_s", 1000, "ms"),
                                    ("process CPU (user+sys)", "cpu_s", 1000, "ms"),
                                    ("peak RSS", "rss_kib", 1 / 1024, "MiB")):
        f, fl = med("flock", key) * scale, med("floor", key) * scale
        figures[key] = f / fl
        rows.append((f"{label} ({unit})", f, fl, f / fl, key in ("import_s", "rss_kib")))
    f, fl = (med("flock", "rss_kib") - bare_rss) / 1024, (med("floor", "rss_kib") - bare_rss) / 1024
    rows.append(("RSS above bare python (MiB)", f, fl, f / fl, False))
    say(f"   {'':34}{'flock':>10}{'floor':>10}{'ratio':>9}  target <= {TARGET}x")
    for label, f, fl, ratio, judged in rows:
        say(f"   {label:34}{f:10.1f}{fl:10.1f}{ratio:8.2f}x  {verdict(ratio) if judged else ''}")
    nc = results["flock (no cryptography)"]
    f_nc_t = statistics.median(r["import_s"] for r in nc) * 1000
    f_nc_m = statistics.median(r["rss_kib"] for r in nc) / 1024
    say(f"   {'as bundled (cryptography hidden)':34}{f_nc_t:10.1f}{med('floor', 'import_s') * 1000:10.1f}"
        f"{f_nc_t / (med('floor', 'import_s') * 1000):8.2f}x  import ms (RSS {f_nc_m:.1f} MiB, "
        f"{f_nc_m / (med('floor', 'rss_kib') / 1024):.2f}x)")
    deps_t, deps_m = med("floor + deps", "import_s") * 1000, med("floor + deps", "rss_kib") / 1024
    say(f"   {'floor + deps (bench/deps_app.py)':34}{deps_t:10.1f}{med('floor', 'import_s') * 1000:10.1f}"
        f"{deps_t / (med('floor', 'import_s') * 1000):8.2f}x  import ms (RSS {deps_m:.1f} MiB, "
        f"{deps_m / (med('floor', 'rss_kib') / 1024):.2f}x); Flock's own code adds "
        f"{med('flock', 'import_s') * 1000 - deps_t:.0f} ms, {med('flock', 'rss_kib') / 1024 - deps_m:.1f} MiB")
    figures["deps_import_ratio"] = deps_t / (med("floor", "import_s") * 1000)
    fastest = min(r["import_s"] for r in results["flock"]) / min(r["import_s"] for r in results["floor"])
    figures["import_min_ratio"] = fastest
    say(f"   import time, fastest run of each: {fastest:.2f}x (less noise-prone than the median on a busy machine)")
    say(f"   modules loaded: flock {results['flock'][0]['modules']}, floor {results['floor'][0]['modules']}; "
        f"cryptography loaded by flock: {results['flock'][0]['cryptography_loaded']}; "
        f"network calls at import: {len(flock_net)}{' ' + str(flock_net) if flock_net else ''}")
    figures["network"] = flock_net
    figures["import_ms"] = (med("flock", "import_s") * 1000, med("floor", "import_s") * 1000)
    figures["rss_mib"] = (med("flock", "rss_kib") / 1024, med("floor", "rss_kib") / 1024)
    figures["nocrypto_import_ratio"] = f_nc_t / (med("floor", "import_s") * 1000)
    # After the import: the first use of every model creates its DynamoDB client.
    first_use = {name: [probe(directory, module, "--clients") for _ in range(max(1, runs // 3))]
                 for name, (directory, module) in (("flock", (ROOT, "app")), ("floor", (BENCH, "minimal_app")))}

    def fu(name, key):
        return statistics.median(r[key] for r in first_use[name])

    figures["clients"] = (first_use["flock"][0]["clients"], first_use["floor"][0]["clients"])
    figures["clients_ms"] = (fu("flock", "clients_s") * 1000, fu("floor", "clients_s") * 1000)
    figures["clients_rss_mib"] = (fu("flock", "clients_rss_kib") / 1024, fu("floor", "clients_rss_kib") / 1024)
    say(f"   then every model's DynamoDB client ({len(first_use['flock'])} runs): flock {figures['clients'][0]} clients "
        f"in {figures['clients_ms'][0]:.0f} ms, peak RSS {figures['clients_rss_mib'][0]:.1f} MiB; floor "
        f"{figures['clients'][1]} client in {figures['clients_ms'][1]:.0f} ms, {figures['clients_rss_mib'][1]:.1f} MiB "
        f"({figures['clients_ms'][0] / figures['clients_ms'][1]:.1f}x time, "
        f"{figures['clients_rss_mib'][0] / figures['clients_rss_mib'][1]:.2f}x RSS)")
    if figures["import_s"] > TARGET or figures["rss_kib"] > TARGET:
        packages, importer, flock_modules = import_costs(probe(ROOT, "app", importtime=True),
                                                         probe(BENCH, "minimal_app", importtime=True))
        say("   over target: what `import app` loads beyond the floor (python -X importtime, self time; "
            "importtime inflates it):")
        for package, us in packages:
            say(f"     {us / 1000:7.1f} ms  {package:22} first imported by {importer.get(package) or '?'}")
        say("   heaviest Flock modules (self time): " +
            ", ".join(f"{m} {us / 1000:.1f} ms" for us, m in flock_modules))
    say()
    return figures


# 2 and 3. The local stack --------------------------------------------------------

class Seen:
    """DynamoDB operations by name, as a botocore `before-call` hook (client
    side) and as the moto server received them (server side)."""

    def __init__(self):
        self.client = collections.Counter()
        self.server = collections.Counter()

    def __call__(self, model=None, **kwargs):
        self.client[model.name] += 1
        # Returning None matters: a value from a before-call handler replaces the request.

    def reset(self):
        self.client.clear()
        self.server.clear()


def start_stack():
    for name in ("FLOCK_DYNAMODB_ENDPOINT", "FLOCK_AWS_ENDPOINT"):
        os.environ.pop(name, None)
    os.environ.update(FAKE_AWS)
    os.environ.update({"FLOCK_STAGE": "dev",
                       # Cheaper (still argon2id) hashing: only signups and logins pay it, not what is timed.
                       "FLOCK_ARGON2_MEMORY_KIB": "8192", "FLOCK_ARGON2_TIME_COST": "1",
                       # Two shards per system account (tests use 4, prod 8): a p2p transfer touches none, and
                       # fewer items keep moto's per-transaction table copies (see transfer_time) affordable.
                       "FLOCK_SYSTEM_ACCOUNT_SHARDS": "2"})
    sys.path.insert(0, ROOT)
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import localstack
    seen = Seen()
    server = localstack.LockedMotoServer()
    inner = server._server.app

    def counting_app(environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("DynamoDB_"):
            seen.server[target.split(".", 1)[1]] += 1
        return inner(environ, start_response)

    server._server.app = counting_app
    server.start()
    localstack.point_at(server.url)
    localstack.provision(ADMIN_PASSWORD)
    return server, seen


class App:
    """The app through chalice.test.Client, as a client would call it."""

    def __init__(self, client):
        self.client = client
        self.tokens = {}

    def call(self, method, path, body=None, as_=None, headers=None, expect=None):
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        if as_:
            hdrs["Authorization"] = f"Bearer {self.tokens[as_]}"
        r = getattr(self.client.http, method.lower())(path, headers=hdrs,
                                                       body=json.dumps(body) if body is not None else None)
        if expect is not None and r.status_code != expect:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.body!r}")
        return r

    def signup(self, handle):
        r = self.call("POST", "/v1/auth/signup", {"handle": handle, "password": PASSWORD}, expect=201)
        self.tokens[handle] = r.json_body["token"]

    def login(self, handle, password):
        r = self.call("POST", "/v1/auth/login", {"handle": handle, "password": password}, expect=200)
        self.tokens[handle] = r.json_body["token"]

    def money(self, path, body, as_):
        return self.call("POST", path, body, as_=as_, headers={"Idempotency-Key": str(uuid.uuid4())}, expect=201)


def request_counts(seen):
    """Section 2: one call of each route, counted on both sides of the wire."""
    from chalice.test import Client

    from app import app
    from chalicelib.db import base

    say("2. DynamoDB requests per call (client hook on every Flock client; server = what moto received)")
    failures = []
    with Client(app) as client:
        api = App(client)
        for handle in ("alice", "bob"):
            api.signup(handle)
        api.login("admin", ADMIN_PASSWORD)
        for handle in ("alice", "bob"):
            api.call("POST", f"/v1/admin/users/{handle}/verify", {"reason": "bench KYC"}, as_="admin", expect=200)
        api.money("/v1/wallet/deposits", {"amount": 2_000_000, "currency": "USD"}, "alice")
        api.money("/v1/transfers", {"to": "bob", "amount": 1, "currency": "USD"}, "alice")  # warm every client
        base.register_hook("before-call.dynamodb", seen)
        try:
            cases = [
                ("signup (hook self-test)", lambda: api.signup("carol"), {"TransactWriteItems": 1}, None),
                ("POST /v1/transfers", lambda: api.money("/v1/transfers", {"to": "bob", "amount": 1, "currency": "USD",
                                                                            "note": "bench"}, "alice"),
                 {"TransactWriteItems": 1}, 2),
                ("GET /v1/wallet", lambda: api.call("GET", "/v1/wallet", as_="alice", expect=200), {}, 2),
                ("GET /v1/wallet/transactions", lambda: api.call("GET", "/v1/wallet/transactions?limit=20",
                                                                 as_="alice", expect=200), {}, 2),
            ]
            say(f"   {'call':30}{'TWI':>5}{'reads':>7}{'total':>7}{'server':>8}  detail; rule")
            for label, run, exact, reads_max in cases:
                seen.reset()
                run()
                twi = seen.client["TransactWriteItems"]
                reads = sum(n for op, n in seen.client.items() if op in READS)
                total = sum(seen.client.values())
                problems = []
                if seen.client != seen.server:
                    problems.append(f"hook saw {dict(seen.client)} but server got {dict(seen.server)}")
                for op, n in exact.items():
                    if seen.client[op] != n:
                        problems.append(f"{op} {seen.client[op]} != {n}")
                if reads_max is not None and label.startswith("POST") and reads > reads_max:
                    problems.append(f"reads {reads} > {reads_max}")
                if reads_max is not None and label.startswith("GET") and total > reads_max:
                    problems.append(f"requests {total} > {reads_max}")
                rule = {"signup (hook self-test)": "TWI = 1 seen by the hook",
                        "POST /v1/transfers": "TWI = 1, reads <= 2"}.get(label, "total <= 2 (auth read + 1)")
                say(f"   {label:30}{twi:5}{reads:7}{total:7}{sum(seen.server.values()):8}  "
                    f"{dict(sorted(seen.client.items()))}; {rule}: {'ok' if not problems else 'FAIL ' + '; '.join(problems)}")
                failures += [f"{label}: {p}" for p in problems]
        finally:
            base.unregister_hook("before-call.dynamodb", seen)
    say()
    return api.tokens, failures


_ID = re.compile(r"\b(?:tr|ent)_[0-9a-z]{26}\b")
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _fresh(template, ids):
    text = template
    for old in ids:
        prefix = old.split("_", 1)[0]
        text = text.replace(old, prefix + "_" + "".join(random.choice(_ALPHABET) for _ in range(26)))
    return json.loads(text)


def _written_keys(params):
    """The keys of the items a p2p transaction created (transfer, two entries)."""
    return [{"pk": item["Put"]["Item"]["pk"], "sk": item["Put"]["Item"]["sk"]}
            for item in params["TransactItems"] if "Put" in item]


def transfer_time(seen, tokens, n, seed_items):
    """Section 3: app vs floor, interleaved, at two table sizes held constant."""
    import boto3
    from botocore.config import Config

    from chalicelib.config import settings
    from chalicelib.db import base
    from chalicelib.db.balances import AccountItem
    from chalicelib.finance import transfers
    from chalicelib.finance.money import Money
    from chalicelib.identity.users import authenticate

    s = settings()
    table = s.table_name("balances")
    # The floor client is configured as PynamoDB configures its own (no parameter validation, standard retries).
    raw = boto3.client("dynamodb", region_name=s.region, endpoint_url=s.dynamodb_endpoint,
                       config=Config(parameter_validation=False, retries={"mode": "standard", "total_max_attempts": 4}))
    principal = authenticate(tokens["alice"])
    note = "bench"
    amount = Money(1, "USD")

    captured = {}

    def grab(params=None, model=None, **kwargs):
        captured.setdefault(model.name, []).append(json.loads(json.dumps(params)))

    base.register_hook("provide-client-params.dynamodb", grab)
    try:
        transfers.send(principal, "bob", amount, note, str(uuid.uuid4()))
    finally:
        base.unregister_hook("provide-client-params.dynamodb", grab)
    if sorted(captured) != ["GetItem", "TransactWriteItems"] or len(captured["TransactWriteItems"]) != 1:
        raise RuntimeError(f"unexpected requests for one send: { {k: len(v) for k, v in captured.items()} }")
    twi_template = json.dumps(captured["TransactWriteItems"][0])
    twi_ids = sorted(set(_ID.findall(twi_template)))
    read_params = captured["GetItem"][0]
    items_in_tx = len(captured["TransactWriteItems"][0]["TransactItems"])
    if len([i for i in twi_ids if i.startswith("tr_")]) != 1 or len(twi_ids) != 3:
        raise RuntimeError(f"expected one transfer id and two entry ids in the transaction, found {twi_ids}")

    def item_count():
        return raw.describe_table(TableName=table)["Table"]["ItemCount"]

    def delete(keys):
        for i in range(0, len(keys), 25):
            raw.batch_write_item(RequestItems={table: [{"DeleteRequest": {"Key": k}} for k in keys[i:i + 25]]})

    def seed(count):
        filler = "x" * 200
        for start in range(0, count, 25):
            raw.batch_write_item(RequestItems={table: [
                {"PutRequest": {"Item": {"pk": {"S": f"BENCH#{i}"}, "sk": {"S": "FILLER"}, "pad": {"S": filler},
                                         "n": {"N": str(i)}}}}
                for i in range(start, min(start + 25, count))]})

    app_tx = []

    def remember(params=None, **kwargs):
        app_tx.append(params)  # the app's own transaction, to delete what it wrote outside the timed region

    def app_prepare():
        return str(uuid.uuid4())

    def app_run(key):
        transfers.send(principal, "bob", amount, note, key)

    def floor_prepare():
        return _fresh(twi_template, twi_ids)

    def floor_run(params):
        raw.transact_write_items(**params)

    def floor_read_prepare():
        return floor_prepare()

    def floor_read_run(params):
        raw.get_item(**read_params)
        raw.transact_write_items(**params)

    variants = {"flock send": (app_prepare, app_run), "floor: TWI": (floor_prepare, floor_run),
                "floor: GetItem+TWI": (floor_read_prepare, floor_read_run)}

    def phase(iterations, names):
        times = {name: [] for name in names}
        prepared_written = []
        seen.reset()
        base.register_hook("before-call.dynamodb", seen)
        base.register_hook("provide-client-params.dynamodb.TransactWriteItems", remember)
        try:
            for i in range(iterations):
                shift = i % len(names)
                for name in names[shift:] + names[:shift]:
                    prepare, run = variants[name]
                    arg = prepare()
                    t0 = time.perf_counter()
                    run(arg)
                    times[name].append(time.perf_counter() - t0)
                    if name != "flock send":
                        prepared_written += _written_keys(arg)
                # Hold the table size constant: remove what this round's transfers created.
                written = prepared_written + [k for p in app_tx for k in _written_keys(p)]
                delete(written)
                prepared_written.clear()
                app_tx.clear()
        finally:
            base.unregister_hook("provide-client-params.dynamodb.TransactWriteItems", remember)
            base.unregister_hook("before-call.dynamodb", seen)
        per_send = {op: c / iterations for op, c in seen.client.items()}
        return times, per_send

    warmup = 10
    balance_before = int(AccountItem.find(principal.account_id).balance)
    sizes = []
    expected = 0  # every variant debits alice 1 cent per call
    # moto deep-copies the touched table once per item of a transaction, so a
    # seeded table costs (items x table size): the seeded size runs fewer rounds
    # and only the two variants the ratio needs.
    plan = [("warm-up", 0, warmup, list(variants)), ("small table", 0, n, list(variants))]
    if seed_items:
        plan.append((f"+{seed_items} seeded", seed_items, max(20, n // 4), ["flock send", "floor: TWI"]))
    for label, extra, rounds, names in plan:
        if extra:
            seed(extra)
        size = item_count()
        times, per_send = phase(rounds, names)
        expected += rounds * len(names)
        if label != "warm-up":
            sizes.append((label, size, item_count(), times, per_send))
    moved = balance_before - int(AccountItem.find(principal.account_id).balance)
    say(f"3. Time per P2P transfer: transfers.send vs the same TransactWriteItems ({items_in_tx} items, captured from the "
        f"ledger, fresh ids) through plain boto3;")
    say(f"   LockedMotoServer on 127.0.0.1, interleaved in rotating order, table size held constant "
        f"(each round's new items deleted outside the timed region)")
    say(f"   {'table (balances items)':30}{'variant':22}{'median ms':>10}{'p90 ms':>9}{'ratio med':>10}{'ratio p90':>10}")
    ratios = {}
    for label, size_before, size_after, times, per_send in sizes:
        floor_med, floor_p90 = statistics.median(times["floor: TWI"]), pct(times["floor: TWI"], 90)
        for name in times:
            med, p90 = statistics.median(times[name]), pct(times[name], 90)
            mark = f"  target <= {TARGET}x: {verdict(med / floor_med)}" if name == "flock send" else ""
            say(f"   {label + f' ({size_before}->{size_after}) N={len(times[name])}':30}{name:22}{ms(med):10.2f}{ms(p90):9.2f}"
                f"{med / floor_med:9.2f}x{p90 / floor_p90:9.2f}x{mark}")
        ratios[label] = (statistics.median(times["flock send"]) / floor_med, ms(statistics.median(times["flock send"])),
                         ms(floor_med), ms(pct(times["flock send"], 90)), ms(floor_p90))
        extra = ""
        if "floor: GetItem+TWI" in times:
            gap = statistics.median(times["flock send"]) - statistics.median(times["floor: GetItem+TWI"])
            extra = f"; flock send minus its two raw requests: {ms(gap):+.2f} ms"
        say(f"   {'':30}requests per flock send (client hook, floors excluded): "
            f"{ {op: round(v, 2) for op, v in sorted(per_send.items())} }{extra}")
    say(f"   money check: alice's balance fell by {moved} cents, expected {expected}: "
        f"{'ok' if moved == expected else 'MISMATCH'}")
    say()
    return ratios, moved == expected


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200, help="transfers per variant per table size (default 200)")
    parser.add_argument("--cold-runs", type=int, default=9, help="fresh processes per cold-start subject (default 9)")
    parser.add_argument("--seed-items", type=int, default=250,
                        help="filler items for the second table size, 0 to skip (default 250)")
    parser.add_argument("--sections", default="1,2,3", help="which sections to run (default 1,2,3)")
    args = parser.parse_args()
    sections = {int(x) for x in args.sections.split(",") if x.strip()}
    started = time.perf_counter()
    say(f"Flock bench: python {platform.python_version()}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M:%S')}; "
        f"every figure beside its floor from this run, ratio = figure / floor")
    say()
    cold = cold_start(args.cold_runs) if 1 in sections else None
    failures, ratios, money_ok = [], {}, True
    if sections & {2, 3}:
        server, seen = start_stack()
        try:
            tokens, failures = request_counts(seen)
            if 3 in sections:
                ratios, money_ok = transfer_time(seen, tokens, args.n, args.seed_items)
        finally:
            server.stop()
    say("Summary")
    if cold:
        say(f"   cold start: import {cold['import_ms'][0]:.0f} ms vs {cold['import_ms'][1]:.0f} ms = {cold['import_s']:.2f}x "
            f"({verdict(cold['import_s'])}; fastest runs {cold['import_min_ratio']:.2f}x; "
            f"{cold['nocrypto_import_ratio']:.2f}x as bundled without cryptography), "
            f"peak RSS {cold['rss_mib'][0]:.1f} vs {cold['rss_mib'][1]:.1f} MiB = {cold['rss_kib']:.2f}x "
            f"({verdict(cold['rss_kib'])}); CPU {cold['cpu_s']:.2f}x; "
            f"network calls at import: {len(cold['network'])}")
    if sections & {2, 3}:
        say(f"   request counts: {'all rules hold' if not failures else 'BROKEN: ' + ' | '.join(failures)}")
    for label, (ratio, med, floor_med, p90, floor_p90) in ratios.items():
        say(f"   transfer, {label}: {med:.2f} ms vs floor {floor_med:.2f} ms = {ratio:.2f}x median "
            f"(p90 {p90:.2f} vs {floor_p90:.2f} ms) ({verdict(ratio)})")
    say(f"   total bench time {time.perf_counter() - started:.0f} s")
    return 1 if failures or not money_ok or (cold and cold["network"]) else 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Tearing down moto's in-memory state at interpreter exit takes seconds here; nothing is left to write.
    os._exit(status)
