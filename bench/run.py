"""Flock benchmarks, each figure beside its floor measured in the same run.

    make bench                      (= .venv/bin/python bench/run.py)
    .venv/bin/python bench/run.py --n 200 --cold-runs 9 --sections 1,2

1a. Cold start in the dev venv: `import app` in a fresh process (time, peak
   RSS) against a minimal Chalice app that imports boto3 and pynamodb
   (bench/minimal_app.py).
1b. Cold start from the deployment package, which is what Lambda runs:
   build/deployment.zip (built by `make package` if missing) unzipped into a
   temp dir, entry dates kept, and imported by `python -I -S` with only that
   dir and the stdlib on sys.path. If the zip's app.py/chalicelib differ from
   the working tree, the tree's are laid over the zip's vendored packages (and
   said so). The floor is the same minimal app from the same package dir; the
   package has no boto3, so the dev venv's boto3 and s3transfer are copied
   into a second dir placed *after* the package dir (jmespath, botocore,
   pynamodb and the chalice runtime are the package's own). Two bytecode
   modes: as on Lambda (read-only /var/task, and the zip's .pyc, if any, do
   not match their 1980-dated sources: every start compiles; `-B` on a tree
   that never had bytecode written), and with bytecode cached.
   Peak RSS is the child's own VmHWM (wait4's ru_maxrss starts from the
   parent's peak on Linux).
2. DynamoDB requests per call: counted by a botocore `before-call` hook on the
   one shared client (chalicelib.db.base.register_hook), checked against what
   the moto server itself received; each read is listed with the Flock code
   that sent it. Creator money (a tip, an unlock of a priced post, a payment
   in a DM) beside its floor, the P2P transfer: 1 TransactWriteItems + at most
   2 reads, the token read being one.
3. Time per P2P transfer through the service layer (`transfers.send`) against
   a LockedMotoServer on 127.0.0.1, against the same TransactWriteItems
   (captured from the ledger, replayed with fresh ids) sent with plain boto3,
   interleaved, at a table size held constant, at two sizes.
4. Social (bench/social.py, in its own process): timeline pages for 10 and
   2,000 followees, the celebrity merge, a page with locked posts, a post to
   1,000 followers and a search page, each beside its floor.
5. Interest accrual (bench/accrual.py, in its own process): the
   accrue-interest job over 1,000 and 10,000 accounts, requests per account
   and time per account beside a bare Scan + one UpdateItem per account.

The machine is small and noisy: the figures that matter are the ratios.
Exit status 1 if a request-count rule is broken (those are exact, not noisy)
or one of section 5's rules (its time ratios among them), and for nothing else
(2 if a part of the bench itself failed to run).
"""
import argparse
import collections
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile

from dynamo_calls import Calls, explain

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
TARGET = 1.5
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

Subject = collections.namedtuple("Subject", "dirs module flags pyflags env")


def _child_env(stage="dev"):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
           "FLOCK_STAGE": stage, "LANG": "C.UTF-8", **FAKE_AWS}
    return env


def subject(dirs, module, *flags, pyflags=(), env=None):
    return Subject(tuple(dirs) if isinstance(dirs, (list, tuple)) else (dirs,), module, flags, tuple(pyflags),
                   env or _child_env())


def probe(s, *extra_flags, importtime=False):
    """One fresh interpreter importing `s.module`: import seconds (measured in
    the child), process wall seconds and peak RSS (wait4 on the child)."""
    cmd = [sys.executable, *s.pyflags] + (["-X", "importtime"] if importtime else []) + \
          [os.path.join(BENCH, "import_probe.py"), os.pathsep.join(s.dirs), s.module, *s.flags, *extra_flags]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=s.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate() if importtime else (proc.stdout.read(), proc.stderr.read())
    if importtime:
        return err.decode()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"import probe of {s.module} failed:\n{err.decode()}")
    report = json.loads(out.decode().strip().splitlines()[-1])
    # The child's own peak RSS: wait4's ru_maxrss would start from this process's peak (Linux keeps it over exec).
    report.update(wall_s=wall, cpu_s=usage.ru_utime + usage.ru_stime, rss_kib=report["hwm_kib"])
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


def measure(subjects, runs):
    """`runs` fresh processes per subject, interleaved (order reversed every
    other round), after one unmeasured run each (page cache, and .pyc where
    the interpreter may write them)."""
    for s in subjects.values():
        probe(s)
    results = {name: [] for name in subjects}
    for i in range(runs):
        names = list(subjects)
        if i % 2:
            names.reverse()
        for name in names:
            results[name].append(probe(subjects[name]))
    return results


def compare(results, indent="   "):
    """The flock-vs-floor table; returns the figures (ratios and both sides)."""
    def med(name, key):
        return statistics.median(r[key] for r in results[name])

    bare_rss = med("bare python", "rss_kib")
    rows, figures = [], {}
    for label, key, scale, unit in (("import time", "import_s", 1000, "ms"), ("process wall", "wall_s", 1000, "ms"),
                                    ("process CPU (user+sys)", "cpu_s", 1000, "ms"),
                                    ("peak RSS", "rss_kib", 1 / 1024, "MiB")):
        f, fl = med("flock", key) * scale, med("floor", key) * scale
        figures[key] = f / fl
        rows.append((f"{label} ({unit})", f, fl, f / fl, key in ("import_s", "rss_kib")))
    f, fl = (med("flock", "rss_kib") - bare_rss) / 1024, (med("floor", "rss_kib") - bare_rss) / 1024
    rows.append(("RSS above bare python (MiB)", f, fl, f / fl if fl > 0 else float("inf"), False))
    say(f"{indent}{'':34}{'flock':>10}{'floor':>10}{'ratio':>9}  target <= {TARGET}x")
    for label, f, fl, ratio, judged in rows:
        say(f"{indent}{label:34}{f:10.1f}{fl:10.1f}{ratio:8.2f}x  {verdict(ratio) if judged else ''}")
    fastest = min(r["import_s"] for r in results["flock"]) / min(r["import_s"] for r in results["floor"])
    figures["import_min_ratio"] = fastest
    figures["import_ms"] = (med("flock", "import_s") * 1000, med("floor", "import_s") * 1000)
    figures["rss_mib"] = (med("flock", "rss_kib") / 1024, med("floor", "rss_kib") / 1024)
    figures["network"] = sorted({n for r in results["flock"] for n in r["network"]})
    figures["modules"] = (results["flock"][0]["modules"], results["floor"][0]["modules"])
    return figures


def cold_start(runs):
    say(f"1a. Cold start in the dev venv: `import app` vs bench/minimal_app.py (chalice+boto3+pynamodb), "
        f"{runs} fresh processes each")
    subjects = {"flock": subject(ROOT, "app"), "floor": subject(BENCH, "minimal_app"),
                # The floor plus the third-party packages `import app` loads (of requirements.txt): the rest is Flock's.
                "floor + deps": subject(BENCH, "deps_app"),
                "bare python": subject(BENCH, "json")}
    results = measure(subjects, runs)
    figures = compare(results)

    def med(name, key):
        return statistics.median(r[key] for r in results[name])

    deps_t, deps_m = med("floor + deps", "import_s") * 1000, med("floor + deps", "rss_kib") / 1024
    say(f"   {'floor + deps (bench/deps_app.py)':34}{deps_t:10.1f}{med('floor', 'import_s') * 1000:10.1f}"
        f"{deps_t / (med('floor', 'import_s') * 1000):8.2f}x  import ms (RSS {deps_m:.1f} MiB, "
        f"{deps_m / (med('floor', 'rss_kib') / 1024):.2f}x); Flock's own code adds "
        f"{med('flock', 'import_s') * 1000 - deps_t:.0f} ms, {med('flock', 'rss_kib') / 1024 - deps_m:.1f} MiB")
    figures["deps_import_ratio"] = deps_t / (med("floor", "import_s") * 1000)
    flock_net = figures["network"]
    third_party = sorted(t for t in results["flock"][0]["origins"] if t not in ("__main__", "app", "chalicelib")
                         and "site-packages" in results["flock"][0]["origins"][t])
    say(f"   import time, fastest run of each: {figures['import_min_ratio']:.2f}x (less noise-prone than the median "
        f"on a busy machine)")
    say(f"   modules loaded: flock {figures['modules'][0]}, floor {figures['modules'][1]}; "
        f"cryptography loaded by flock: {results['flock'][0]['cryptography_loaded']}; "
        f"network calls at import: {len(flock_net)}{' ' + str(flock_net) if flock_net else ''}")
    say(f"   third-party packages `import app` loads: {', '.join(third_party)}")
    # After the import: the first use of every model creates its DynamoDB client.
    first_use = {name: [probe(subjects[name], "--clients") for _ in range(max(1, runs // 3))]
                 for name in ("flock", "floor")}

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
        packages, importer, flock_modules = import_costs(probe(subjects["flock"], importtime=True),
                                                         probe(subjects["floor"], importtime=True))
        say("   over target: what `import app` loads beyond the floor (python -X importtime, self time; "
            "importtime inflates it):")
        for package, us in packages:
            say(f"     {us / 1000:7.1f} ms  {package:22} first imported by {importer.get(package) or '?'}")
        say("   heaviest Flock modules (self time): " +
            ", ".join(f"{m} {us / 1000:.1f} ms" for us, m in flock_modules))
    say()
    return figures


# 1b. Cold start from the deployment package --------------------------------------

ZIP = os.path.join(ROOT, "build", "deployment.zip")
FLOCK_SOURCES = ("app.py", "chalicelib")
FLOOR_EXTRAS = ("boto3", "s3transfer", "jmespath")  # what boto3 needs beyond botocore


def _flock_files(root):
    """relative path -> bytes of app.py and chalicelib/**/*.py under `root`."""
    found = {}
    for top in FLOCK_SOURCES:
        path = os.path.join(root, top)
        if os.path.isfile(path):
            found[top] = open(path, "rb").read()
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for name in filenames:
                if name.endswith(".py"):
                    full = os.path.join(dirpath, name)
                    found[os.path.relpath(full, root)] = open(full, "rb").read()
    return found


def _extract(zip_path, target):
    """Unzip keeping each entry's date (as Lambda's /var/task has them): a
    .pyc is valid only if it records its source's mtime and size."""
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():
            path = z.extract(info, target)
            if not info.is_dir():
                stamp = time.mktime(info.date_time + (0, 0, -1))
                os.utime(path, (stamp, stamp))
            if info.external_attr >> 16 & 0o111:
                os.chmod(path, os.stat(path).st_mode | 0o111)


def _valid_pycs(root):
    """(shipped .pyc, of which valid for their source as extracted)."""
    import importlib.util
    shipped = valid = 0
    for dirpath, _, filenames in os.walk(root):
        if os.path.basename(dirpath) != "__pycache__":
            continue
        for name in filenames:
            if not name.endswith(".pyc"):
                continue
            shipped += 1
            source = os.path.join(os.path.dirname(dirpath), name.split(".", 1)[0] + ".py")
            data = open(os.path.join(dirpath, name), "rb").read(16)
            if os.path.exists(source) and data[:4] == importlib.util.MAGIC_NUMBER and data[4:8] == b"\0\0\0\0":
                st = os.stat(source)
                valid += (int.from_bytes(data[8:12], "little") == int(st.st_mtime) & 0xFFFFFFFF
                          and int.from_bytes(data[12:16], "little") == st.st_size & 0xFFFFFFFF)
    return shipped, valid


def _pins():
    pins = {}
    for line in open(os.path.join(ROOT, "requirements.txt")):
        m = re.match(r"^\s*([A-Za-z0-9_.-]+)\s*==\s*([^\s;#]+)", line)
        if m:
            pins[re.sub(r"[-_.]+", "_", m.group(1)).lower()] = m.group(2)
    return pins


def _shipped_versions(root):
    found = {}
    for name in os.listdir(root):
        m = re.match(r"^(.+)-([^-]+)\.dist-info$", name)
        if m:
            found[re.sub(r"[-_.]+", "_", m.group(1)).lower()] = m.group(2)
    return found


def prepare_package(workdir):
    """The unzipped package twice (one never gets bytecode written, one does)
    and the floor's extras; None (with a message) if there is no package."""
    if not os.path.exists(ZIP):
        time.sleep(20)  # `make package` deletes the zip before it writes it: someone may be building it now
    if not os.path.exists(ZIP):
        say("   build/deployment.zip is missing: building it with `make package` ...")
        try:
            done = subprocess.run(["make", "--no-print-directory", "package"], cwd=ROOT, capture_output=True,
                                  text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            done = None
            say(f"   `make package` did not run: {exc}")
        if done is not None and done.returncode != 0:
            say(f"   `make package` failed (exit {done.returncode}): {(done.stderr or done.stdout).strip()[-400:]}")
        if not os.path.exists(ZIP):
            say("   skipped: no build/deployment.zip (run `make package`, then `make bench` again)")
            return None
    snapshot = os.path.join(workdir, "deployment.zip")
    for attempt in range(4):  # a copy that opens whole, even if the zip is being rebuilt meanwhile
        try:
            built = time.strftime("%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(ZIP)))
            shutil.copy2(ZIP, snapshot)
            with zipfile.ZipFile(snapshot) as z:
                if z.testzip() is None:
                    break
        except (OSError, zipfile.BadZipFile):
            pass
        time.sleep(15)
    else:
        say("   skipped: build/deployment.zip could not be read whole (being rebuilt?)")
        return None
    notes = []
    lam = os.path.join(workdir, "lambda")
    _extract(snapshot, lam)
    shipped, valid = _valid_pycs(lam)
    notes.append(f"the zip ships {shipped} .pyc, {valid} of them valid for their sources as dated in the zip "
                 f"(Lambda's /var/task is read-only: nothing else gets compiled once and kept)")
    ours, theirs = _flock_files(ROOT), _flock_files(lam)
    differ = sorted(p for p in ours if p in theirs and ours[p] != theirs[p])
    missing, extra = sorted(set(ours) - set(theirs)), sorted(set(theirs) - set(ours))
    if differ or missing or extra:
        # Measure the code as it is: the working tree's Flock sources over the zip's vendored packages,
        # dated 1980 like every entry chalice writes.
        for top in FLOCK_SOURCES:
            path = os.path.join(lam, top)
            shutil.rmtree(path) if os.path.isdir(path) else os.path.exists(path) and os.remove(path)
        stamp = time.mktime((1980, 1, 1, 0, 0, 0, 0, 0, -1))
        for rel, data in ours.items():
            path = os.path.join(lam, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
            os.utime(path, (stamp, stamp))
        named = ", ".join([f"+{p}" for p in missing][:4] + [f"-{p}" for p in extra][:2])
        notes.append(f"build/deployment.zip (built {built}) is STALE: {len(differ)} Flock files differ, "
                     f"{len(missing)} are missing from it{' (' + named + ')' if named else ''}, {len(extra)} are gone "
                     f"from the tree; measured with the working tree's app.py and chalicelib/ over the zip's "
                     f"vendored packages (`make package` rebuilds it)")
    else:
        notes.append(f"build/deployment.zip (built {built}) holds the working tree's app.py and chalicelib/")
    pins, versions = _pins(), _shipped_versions(lam)
    wrong = [f"{n} {versions.get(n, 'absent')} (requirements.txt: {v})" for n, v in pins.items() if versions.get(n) != v]
    present = sorted(n for n in ("boto3", "cryptography", "moto") if os.path.exists(os.path.join(lam, n)))
    notes.append(f"vendored versions match requirements.txt: {'yes' if not wrong else 'NO: ' + '; '.join(wrong)}; "
                 f"boto3/cryptography/moto in the package: {', '.join(present) or 'none'}")
    # The floor's extras: the dev venv's boto3 (and what it needs that the package lacks), in a directory
    # after the package on sys.path, so the floor's botocore, pynamodb and chalice runtime are the package's own.
    # (Found, not imported: this process stays small.)
    import importlib.metadata
    import importlib.util
    lam_extras = os.path.join(workdir, "lambda-extras")
    os.makedirs(lam_extras)
    copied = []
    for name in FLOOR_EXTRAS:
        if os.path.exists(os.path.join(lam, name)):
            continue
        spec = importlib.util.find_spec(name)
        shutil.copytree(os.path.dirname(spec.origin), os.path.join(lam_extras, name),
                        ignore=shutil.ignore_patterns("__pycache__"))
        copied.append(name)
    shutil.copy2(os.path.join(BENCH, "minimal_app.py"), lam_extras)
    notes.append(f"floor: bench/minimal_app.py plus the dev venv's {' + '.join(copied)} (boto3 "
                 f"{importlib.metadata.version('boto3')}; {', '.join(sorted(set(FLOOR_EXTRAS) - set(copied)))} "
                 f"already in the package), copied without bytecode into a directory placed after the package "
                 f"on sys.path; botocore {versions.get('botocore')}, pynamodb and the chalice runtime are the package's")
    # A second copy of both for the bytecode-cached runs (dates kept), so the first stays free of .pyc.
    cached, cached_extras = os.path.join(workdir, "cached"), os.path.join(workdir, "cached-extras")
    shutil.copytree(lam, cached)
    shutil.copytree(lam_extras, cached_extras)
    return (lam, lam_extras), (cached, cached_extras), notes


def _origin_problems(result, allowed, label):
    """Modules that came from anywhere but the `allowed` directories."""
    wrong = {top: where for top, where in result["origins"].items() if top != "__main__" and where not in allowed}
    return [f"{label}: {top} from {where}" for top, where in sorted(wrong.items())]


def package_cold_start(runs):
    say(f"1b. Cold start from build/deployment.zip (unzipped; python -I -S: only the package and the stdlib on "
        f"sys.path), {runs} fresh processes each")
    workdir = tempfile.mkdtemp(prefix="flock-bench-pkg-")
    try:
        prepared = prepare_package(workdir)
        if prepared is None:
            say()
            return None
        lam, cached, notes = prepared
        for note in notes:
            say(f"   {note}")
        env = _child_env("prod")
        modes = [("as on Lambda: read-only, no usable .pyc, so every start compiles (python -B, fresh tree)",
                  "lambda", *lam, ("-I", "-S", "-B")),
                 ("bytecode cached (what shipping valid .pyc would give; written by the warm-up run)",
                  "cached", *cached, ("-I", "-S"))]
        figures = {}
        for title, key, pkg, extras, pyflags in modes:
            say(f"   {title}:")
            subjects = {"flock": subject([pkg], "app", pyflags=pyflags, env=env),
                        "floor": subject([pkg, extras], "minimal_app", pyflags=pyflags, env=env),
                        "bare python": subject([pkg], "json", pyflags=pyflags, env=env)}
            results = measure(subjects, runs)
            fig = compare(results, indent="     ")
            problems = _origin_problems(results["flock"][0], {pkg}, "flock") + \
                _origin_problems(results["floor"][0], {pkg, extras}, "floor")
            stdlib_only = all(p in (pkg, extras) or "site-packages" not in p for p in results["flock"][0]["sys_path"])
            fig["problems"] = problems + ([] if stdlib_only else ["a site-packages is on sys.path"])
            say(f"     import time, fastest run of each: {fig['import_min_ratio']:.2f}x; modules loaded: flock "
                f"{fig['modules'][0]}, floor {fig['modules'][1]}; network calls at import: {len(fig['network'])}; "
                "every non-stdlib module from the package (floor: or its extras): "
                f"{'yes' if not fig['problems'] else 'NO: ' + '; '.join(fig['problems'])}")
            figures[key] = fig
        say()
        return figures
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# 2 and 3. The local stack --------------------------------------------------------

class Seen(Calls):
    """DynamoDB requests as a botocore `before-call` hook saw them (client
    side, with what each touched and which Flock code sent it) and as the
    moto server received them (server side, by operation)."""

    def __init__(self):
        super().__init__()
        self.server = collections.Counter()

    @property
    def client(self):
        return self.counts()

    def reset(self):
        super().reset()
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


def _check(seen, exact, reads_max=None, total_max=None):
    """The problems of the request just counted against its rule."""
    problems = []
    if seen.client != seen.server:
        problems.append(f"hook saw {dict(seen.client)} but server got {dict(seen.server)}")
    for op, n in exact.items():
        if seen.client[op] != n:
            problems.append(f"{op} {seen.client[op]} != {n}")
    reads = len(seen.reads())
    if reads_max is not None and reads > reads_max:
        problems.append(f"reads {reads} > {reads_max}")
    if total_max is not None and seen.total() > total_max:
        problems.append(f"requests {seen.total()} > {total_max}")
    return problems


def request_counts(seen):
    """Section 2: one call of each route, counted on both sides of the wire.
    The money routes of Creator money (a tip, an unlock of a priced post, a
    payment in a DM) stand beside the P2P transfer, their floor: each is one
    TransactWriteItems and at most two reads, the token read being one."""
    from chalice.test import Client

    from app import app
    from chalicelib.db import base

    say("2. DynamoDB requests per call (client hook on the shared botocore client; server = what moto received)")
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
        # Creator money: bob's posts (one free, two priced) and a conversation; each route once before counting.
        post = api.call("POST", "/v1/posts", {"text": "bench post for tips"}, as_="bob", expect=201).json_body["id"]
        priced = [api.call("POST", "/v1/posts", {"text": f"bench paid video {i}", "price": {"amount": 500,
                                                                                           "currency": "USD"}},
                           as_="bob", expect=201).json_body["id"] for i in range(2)]
        conv = api.call("POST", "/v1/conversations", {"with": "bob"}, as_="alice").json_body["id"]
        api.money(f"/v1/posts/{post}/tips", {"amount": 100, "currency": "USD"}, "alice")
        api.money(f"/v1/posts/{priced[0]}/unlock", None, "alice")
        api.money(f"/v1/conversations/{conv}/payments", {"amount": 100, "currency": "USD", "note": "warm"}, "alice")
        base.register_hook("before-call.dynamodb", seen)
        money_rule = ({"TransactWriteItems": 1}, 2, 3)  # exactly one TWI, reads <= 2, nothing else
        try:
            cases = [
                ("signup (hook self-test)", lambda: api.signup("carol"), ({"TransactWriteItems": 1}, None, None),
                 "TWI = 1 seen by the hook"),
                ("POST /v1/transfers (floor)", lambda: api.money("/v1/transfers", {"to": "bob", "amount": 1,
                                                                                   "currency": "USD", "note": "bench"},
                                                                 "alice"), money_rule, "TWI = 1, reads <= 2"),
                ("POST /v1/posts/{id}/tips", lambda: api.money(f"/v1/posts/{post}/tips",
                                                               {"amount": 100, "currency": "USD"}, "alice"),
                 money_rule, "as P2P: TWI = 1, reads <= 2"),
                ("POST /v1/posts/{id}/unlock", lambda: api.money(f"/v1/posts/{priced[1]}/unlock", None, "alice"),
                 money_rule, "as P2P: TWI = 1, reads <= 2"),
                ("POST /v1/conversations/{id}/payments",
                 lambda: api.money(f"/v1/conversations/{conv}/payments",
                                   {"amount": 100, "currency": "USD", "note": "bench"}, "alice"),
                 money_rule, "as P2P: TWI = 1, reads <= 2"),
                # The first wallet read of a process also reads the interest rates (cached for a minute).
                ("GET /v1/wallet (first of the process)", lambda: api.call("GET", "/v1/wallet", as_="alice",
                                                                            expect=200), ({}, None, None),
                 "no rule (the rates are read once a minute)"),
                ("GET /v1/wallet", lambda: api.call("GET", "/v1/wallet", as_="alice", expect=200), ({}, None, 2),
                 "total <= 2 (auth read + 1)"),
                ("GET /v1/wallet/transactions", lambda: api.call("GET", "/v1/wallet/transactions?limit=20",
                                                                 as_="alice", expect=200), ({}, None, 2),
                 "total <= 2 (auth read + 1)"),
            ]
            say(f"   {'call':38}{'TWI':>4}{'reads':>6}{'total':>6}{'server':>7}  detail; rule")
            floor = None
            for label, run, (exact, reads_max, total_max), rule in cases:
                seen.reset()
                run()
                twi, reads, total = seen.client["TransactWriteItems"], len(seen.reads()), seen.total()
                problems = _check(seen, exact, reads_max, total_max)
                if label.endswith("(floor)"):
                    floor = (twi, reads, total)
                beside = (f"; P2P floor {floor[0]} TWI + {floor[1]} reads: {reads - floor[1]:+d} reads"
                          if floor and "as P2P" in rule else "")
                say(f"   {label:38}{twi:4}{reads:6}{total:6}{sum(seen.server.values()):7}  "
                    f"{dict(sorted(seen.client.items()))}; {rule}: "
                    f"{'ok' if not problems else 'FAIL ' + '; '.join(problems)}{beside}")
                if problems or "as P2P" in rule or label.endswith("(floor)") or rule.startswith("no rule"):
                    say(f"   {'':38}reads, innermost Flock frame first:")
                    for line in explain(seen.reads(), " " * 43):
                        say(line)
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

    counter = Calls(detail=False)  # cheap: it stays registered around the timed requests

    def phase(iterations, names):
        times = {name: [] for name in names}
        prepared_written = []
        counter.reset()
        base.register_hook("before-call.dynamodb", counter)
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
            base.unregister_hook("before-call.dynamodb", counter)
        per_send = {op: c / iterations for op, c in counter.counts().items()}
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
        plan.append((f"+{seed_items} seeded", seed_items, max(30, n // 3), ["flock send", "floor: TWI"]))
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
    say("   LockedMotoServer on 127.0.0.1, interleaved in rotating order, table size held constant "
        "(each round's new items deleted outside the timed region)")
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


def social(json_path):
    """Section 4: bench/social.py in its own process (in-process moto there),
    its lines shown as they come; returns its JSON summary, or None if it
    did not finish."""
    say("4. Social (bench/social.py, in its own process)")
    proc = subprocess.Popen([sys.executable, os.path.join(BENCH, "social.py"), "--json", json_path], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    tail = collections.deque(maxlen=30)
    for line in proc.stdout:
        tail.append(line.rstrip())
        say("   " + line.rstrip())
    proc.wait()
    try:
        with open(json_path) as f:
            summary = json.load(f)
    except (OSError, ValueError):
        summary = None
    if proc.returncode not in (0, 1) or summary is None:
        say(f"   bench/social.py FAILED (exit {proc.returncode})")
        return None
    say()
    return summary


def accrual():
    """Section 5: bench/accrual.py in its own process, its lines shown as
    they come; returns (summary lines, its rule failures), or None if it did
    not finish."""
    say("5. Interest accrual (bench/accrual.py, in its own process)")
    proc = subprocess.Popen([sys.executable, os.path.join(BENCH, "accrual.py")], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in proc.stdout:
        lines.append(line.rstrip())
        say("   " + line.rstrip())
    proc.wait()
    if proc.returncode not in (0, 1) or "Summary" not in lines:
        say(f"   bench/accrual.py FAILED (exit {proc.returncode})")
        return None
    growth = [line.strip() for line in lines if line.strip().startswith("growth")]
    summary = [line.strip() for line in lines[lines.index("Summary") + 1:]
               if not line.strip().startswith("total bench time")] + growth
    broken = [line for line in summary if line.startswith("rules: BROKEN")]
    say()
    return summary, broken


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100, help="transfers per variant per table size (default 100)")
    parser.add_argument("--cold-runs", type=int, default=7, help="fresh processes per cold-start subject (default 7)")
    parser.add_argument("--package-runs", type=int, default=5,
                        help="fresh processes per subject and bytecode mode from the package (default 5)")
    parser.add_argument("--seed-items", type=int, default=250,
                        help="filler items for the second table size, 0 to skip (default 250)")
    parser.add_argument("--sections", default="1,2,3,4,5", help="which sections to run (default 1,2,3,4,5)")
    args = parser.parse_args()
    sections = {int(x) for x in args.sections.split(",") if x.strip()}
    started = time.perf_counter()
    say(f"Flock bench: python {platform.python_version()}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M:%S')}; "
        f"every figure beside its floor from this run, ratio = figure / floor")
    say()
    took = {}
    mark = time.perf_counter()

    def lap(name):
        nonlocal mark
        took[name], mark = time.perf_counter() - mark, time.perf_counter()

    cold = cold_start(args.cold_runs) if 1 in sections else None
    lap("1a")
    package = package_cold_start(args.package_runs) if 1 in sections else None
    lap("1b")
    failures, ratios, money_ok, social_summary = [], {}, True, None
    if sections & {2, 3}:
        server, seen = start_stack()
        try:
            tokens, failures = request_counts(seen)
            lap("2")
            if 3 in sections:
                ratios, money_ok = transfer_time(seen, tokens, args.n, args.seed_items)
                lap("3")
        finally:
            server.stop()
    social_broken = False
    if 4 in sections:
        fd, json_path = tempfile.mkstemp(prefix="flock-bench-social-", suffix=".json")
        os.close(fd)
        try:
            social_summary = social(json_path)
        finally:
            os.remove(json_path)
        lap("4")
        social_broken = social_summary is None
        if social_summary:
            failures += [f"social: {p}" for p in social_summary["failures"]]
    accrual_result = None
    if 5 in sections:
        accrual_result = accrual()
        lap("5")
    warnings = []
    say("Summary")
    if cold:
        say(f"   cold start, dev venv: import {cold['import_ms'][0]:.0f} ms vs {cold['import_ms'][1]:.0f} ms = "
            f"{cold['import_s']:.2f}x ({verdict(cold['import_s'])}; fastest runs {cold['import_min_ratio']:.2f}x), "
            f"peak RSS {cold['rss_mib'][0]:.1f} vs {cold['rss_mib'][1]:.1f} MiB = {cold['rss_kib']:.2f}x "
            f"({verdict(cold['rss_kib'])}); CPU {cold['cpu_s']:.2f}x; network calls at import: {len(cold['network'])}")
        warnings += [f"network call at import: {n}" for n in cold["network"]]
    if package:
        for key, label in (("lambda", "package, as on Lambda (compiled each start)"),
                           ("cached", "package, bytecode cached")):
            p = package[key]
            say(f"   cold start, {label}: import {p['import_ms'][0]:.0f} ms vs {p['import_ms'][1]:.0f} ms = "
                f"{p['import_s']:.2f}x ({verdict(p['import_s'])}; fastest runs {p['import_min_ratio']:.2f}x), "
                f"peak RSS {p['rss_mib'][0]:.1f} vs {p['rss_mib'][1]:.1f} MiB = {p['rss_kib']:.2f}x "
                f"({verdict(p['rss_kib'])}); CPU {p['cpu_s']:.2f}x")
            warnings += p["problems"] + [f"network call at import ({key}): {n}" for n in p["network"]]
    elif 1 in sections:
        say("   cold start from the package: skipped (no build/deployment.zip)")
    if sections & {2, 3, 4}:
        say(f"   request counts: {'all rules hold' if not failures else 'BROKEN: ' + ' | '.join(failures)}")
    for label, (ratio, med, floor_med, p90, floor_p90) in ratios.items():
        say(f"   transfer, {label}: {med:.2f} ms vs floor {floor_med:.2f} ms = {ratio:.2f}x median "
            f"(p90 {p90:.2f} vs {floor_p90:.2f} ms) ({verdict(ratio)})")
    for line in (social_summary or {}).get("summary", []):
        say(f"   social, {line}")
    if accrual_result:
        for line in accrual_result[0]:
            say(f"   {line}")
        failures += [f"accrual: {line}" for line in accrual_result[1]]
    elif 5 in sections:
        warnings.append("bench/accrual.py did not finish (its output is above)")
    if not money_ok:
        warnings.append("money check: alice's balance did not fall by what the transfers moved")
    if social_broken:
        warnings.append("bench/social.py did not finish (its output is above)")
    for warning in warnings:
        say(f"   PROBLEM (not a request count, exit status unaffected): {warning}")
    say(f"   total bench time {time.perf_counter() - started:.0f} s (" +
        ", ".join(f"{name}: {seconds:.0f} s" for name, seconds in took.items() if seconds >= 0.5) + ")")
    # Exit status 1 means a request-count rule is broken, and nothing else does (2: a part of the bench failed).
    return 1 if failures else (2 if social_broken or (5 in sections and not accrual_result) else 0)


if __name__ == "__main__":
    try:
        status = main()
    except Exception:
        import traceback
        traceback.print_exc()
        status = 2
    sys.stdout.flush()
    sys.stderr.flush()
    # Tearing down moto's in-memory state at interpreter exit takes seconds here; nothing is left to write.
    os._exit(status)
