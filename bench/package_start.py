"""Section 1b: cold start from the deployment package, which is what Lambda runs.

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
"""
import os
import re
import shutil
import subprocess
import tempfile
import time
import zipfile

from cold_start import child_env, compare, count_instructions, measure, subject
from figures import BENCH, ROOT, say

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
        env = child_env("prod")
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
            if key == "cached":  # as on Lambda every start compiles: minutes under callgrind, so not counted
                counts = count_instructions(subjects, ("flock", "floor"), indent="     ")
                if counts:
                    fig["instructions"] = (counts["flock"], counts["floor"])
                    fig["instr_ratio"] = counts["flock"] / counts["floor"]
            figures[key] = fig
        say()
        return figures
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
