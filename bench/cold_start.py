"""Section 1a: cold start in the dev venv, and the fresh-process probes
section 1b shares.

`import app` in a fresh process (time, peak RSS) against a minimal Chalice
app that imports boto3 and pynamodb (bench/minimal_app.py), beside the floor
plus the third-party packages `import app` loads (bench/deps_app.py) and a
bare python. Each process is bench/import_probe.py. Peak RSS is the child's
own VmHWM (wait4's ru_maxrss starts from the parent's peak on Linux).

Wall time on a small shared machine moves with everyone else's load, so
beside it each subject's import is counted once in instructions (valgrind's
callgrind, when valgrind is installed), with the bytecode the warm-up runs
cached: that count repeats to a fraction of a percent under any load.
"""
import collections
import concurrent.futures
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

from figures import BENCH, FAKE_AWS, ROOT, TARGET, say, verdict

Subject = collections.namedtuple("Subject", "dirs module flags pyflags env")


def child_env(stage="dev"):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
           "FLOCK_STAGE": stage, "LANG": "C.UTF-8", **FAKE_AWS}
    return env


def subject(dirs, module, *flags, pyflags=(), env=None):
    return Subject(tuple(dirs) if isinstance(dirs, (list, tuple)) else (dirs,), module, flags, tuple(pyflags),
                   env or child_env())


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


def instructions(s):
    """Instructions one fresh `import s.module` executes (callgrind's
    "Collected"): the interpreter's start and the import, nothing else: no
    probe around it, and no interpreter shutdown (`os._exit`), which a cold
    start never pays. Run after `measure`, whose warm-up wrote the bytecode."""
    code = f"import sys; sys.path[:0] = {list(s.dirs)!r}; import {s.module}; import os; os._exit(0)"
    cmd = [shutil.which("valgrind"), "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
           *s.pyflags, "-c", code]
    done = subprocess.run(cmd, cwd=ROOT, env=s.env, capture_output=True, text=True, timeout=900)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or not found:
        raise RuntimeError(f"callgrind of {s.module} failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return int(found.group(1))


def count_instructions(subjects, names, indent="   "):
    """One callgrind run per subject in `names` (in parallel: a count does
    not care about load), printed as ratios to the floor; {name: count},
    or None without valgrind."""
    if not shutil.which("valgrind"):
        say(f"{indent}instructions: not counted (no valgrind on PATH; `apt-get install valgrind`): the wall-time "
            f"ratios above are all this run has, and they move with the machine's load")
        return None
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        counts = dict(zip(names, pool.map(lambda name: instructions(subjects[name]), names)))
    floor = counts["floor"]
    shown = [f"{name} {counts[name] / 1e6:,.0f}M" +
             (f" = {counts[name] / floor:.2f}x ({verdict(counts[name] / floor)})" if name != "floor" else "")
             for name in names]
    say(f"{indent}instructions, bytecode cached (callgrind, one run each; repeatable under load): " + "; ".join(shown))
    return counts


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
    counts = count_instructions(subjects, ("flock", "floor", "floor + deps"))
    if counts:
        figures["instructions"] = (counts["flock"], counts["floor"])
        figures["instr_ratio"] = counts["flock"] / counts["floor"]
        own = (counts["flock"] - counts["floor + deps"]) / 1e6
        say(f"   Flock's own modules (flock - floor + deps): {own:,.0f}M instructions")
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
