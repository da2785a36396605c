"""Flock benchmarks, each figure beside its floor measured in the same run.

    make bench                      (= .venv/bin/python bench/run.py)
    .venv/bin/python bench/run.py --n 200 --cold-runs 9 --sections 1,2

This file is the driver: it runs the sections asked for, one module each
(their docstrings say what they measure and against which floor), and
prints the summary and sets the exit status from what they return.

1a. Cold start in the dev venv (bench/cold_start.py): `import app` in a
    fresh process against a minimal Chalice app.
1b. Cold start from the deployment package, as Lambda runs it
    (bench/package_start.py), in both bytecode modes.
2.  DynamoDB requests per call (bench/request_counts.py): the P2P transfer
    and the creator-money routes beside it, counted on both sides of the wire.
3.  Time per P2P transfer (bench/transfer_time.py) against the same
    TransactWriteItems sent with plain boto3, at two table sizes.
    Sections 2 and 3 share one local stack (bench/stack.py); 3 needs 2's
    users, so asking for 3 runs 2 as well.
4.  Social (bench/social.py, in its own process): timeline, celebrity
    merge, locked posts, a post to 1,000 followers, search.
5.  Interest accrual (bench/accrual.py, in its own process): the
    accrue-interest job over 1,000 and 10,000 accounts.
6.  Loan servicing (bench/loans.py, in its own process): the loan-servicing
    job over 1,000 and 10,000 open loans with nothing due (`--loan-sizes`,
    `make bench LOAN_SIZES=1000` for a short run).
7.  Card authorization (bench/cards.py, in its own process): one
    authorization through the service layer vs the same BatchGetItem and
    TransactWriteItems sent with boto3, and the requests it makes.
8.  Hot items (bench/hotspots.py, in its own process): a synthetic Zipf
    workload through the service layer, write units per item, scaled to the
    target peak rates; the hottest items and the design choice per path.
9.  Cross-currency transfer (bench/fx.py, on the stack of sections 2 and 3):
    DynamoDB requests per transfer with `deliver_currency`, and its time
    against the same TransactWriteItems sent with plain boto3.

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
import subprocess
import sys
import tempfile
import time

from checks_time import presentment_time
from cold_start import cold_start
from figures import BENCH, ROOT, say, verdict
from fx import fx_transfer
from package_start import package_cold_start
from request_counts import request_counts
from stack import start_stack
from transfer_time import transfer_time


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


def hotspots(json_path):
    """Section 8: bench/hotspots.py in its own process; returns its summary lines, or None."""
    say("8. Hot items (bench/hotspots.py, in its own process)")
    proc = subprocess.run([sys.executable, os.path.join(BENCH, "hotspots.py"), "--json", json_path], cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout.splitlines():
        say("   " + line.rstrip())
    try:
        with open(json_path) as f:
            summary = json.load(f)["summary"]
    except (OSError, ValueError, KeyError):
        summary = None
    if proc.returncode != 0 or summary is None:
        say(f"   bench/hotspots.py FAILED (exit {proc.returncode})")
        return None
    say()
    return summary


def accrual(number="5", title="Interest accrual", module="accrual.py", args=()):
    """Section 5 (or 6, the same way): bench/accrual.py in its own process,
    its lines shown as they come; returns (summary lines, its rule
    failures), or None if it did not finish."""
    say(f"{number}. {title} (bench/{module}, in its own process)")
    proc = subprocess.Popen([sys.executable, os.path.join(BENCH, module), *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in proc.stdout:
        lines.append(line.rstrip())
        say("   " + line.rstrip())
    proc.wait()
    if proc.returncode not in (0, 1) or "Summary" not in lines:
        say(f"   bench/{module} FAILED (exit {proc.returncode})")
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
    parser.add_argument("--sections", default="1,2,3,4,5,6,7,8,9", help="which sections to run (default 1,2,3,4,5,6,7,8,9)")
    parser.add_argument("--loan-sizes", default="1000,10000",
                        help="section 6's open-loan counts, ascending (default 1000,10000; one size skips the "
                             "linearity check and most of the section's time)")
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
    failures, ratios, money_ok, social_summary, presentment, fx_ratio = [], {}, True, None, None, None
    if sections & {2, 3, 9}:
        server, seen = start_stack()
        try:
            tokens, failures = request_counts(seen)
            lap("2")
            if 3 in sections:
                ratios, money_ok = transfer_time(seen, tokens, args.n, args.seed_items)
                presentment = presentment_time(tokens, args.n)
                lap("3")
            if 9 in sections:
                fx_ratio, fx_failures = fx_transfer(tokens, args.n)
                failures += fx_failures
                lap("9")
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
    accrual_result = loans_result = cards_result = None
    if 5 in sections:
        accrual_result = accrual()
        lap("5")
    if 6 in sections:
        loans_result = accrual("6", "Loan servicing", "loans.py", ["--sizes", args.loan_sizes])
        lap("6")
    if 7 in sections:
        cards_result = accrual("7", "Card authorization", "cards.py")
    hot_lines = None
    if 8 in sections:
        fd, hot_json = tempfile.mkstemp(prefix="flock-bench-hot-", suffix=".json")
        os.close(fd)
        try:
            hot_lines = hotspots(hot_json)
        finally:
            os.remove(hot_json)
        lap("7")
    warnings = []
    say("Summary")
    if cold:
        say(f"   cold start, dev venv: import {cold['import_ms'][0]:.0f} ms vs {cold['import_ms'][1]:.0f} ms = "
            f"{cold['import_s']:.2f}x ({verdict(cold['import_s'])}; fastest runs {cold['import_min_ratio']:.2f}x), "
            f"peak RSS {cold['rss_mib'][0]:.1f} vs {cold['rss_mib'][1]:.1f} MiB = {cold['rss_kib']:.2f}x "
            f"({verdict(cold['rss_kib'])}); CPU {cold['cpu_s']:.2f}x; network calls at import: {len(cold['network'])}")
        if "instr_ratio" in cold:
            say(f"   cold start, dev venv, instructions: {cold['instructions'][0] / 1e6:,.0f}M vs "
                f"{cold['instructions'][1] / 1e6:,.0f}M = {cold['instr_ratio']:.2f}x ({verdict(cold['instr_ratio'])})")
        warnings += [f"network call at import: {n}" for n in cold["network"]]
    if package:
        for key, label in (("lambda", "package, as on Lambda (compiled each start)"),
                           ("cached", "package, bytecode cached")):
            p = package[key]
            say(f"   cold start, {label}: import {p['import_ms'][0]:.0f} ms vs {p['import_ms'][1]:.0f} ms = "
                f"{p['import_s']:.2f}x ({verdict(p['import_s'])}; fastest runs {p['import_min_ratio']:.2f}x), "
                f"peak RSS {p['rss_mib'][0]:.1f} vs {p['rss_mib'][1]:.1f} MiB = {p['rss_kib']:.2f}x "
                f"({verdict(p['rss_kib'])}); CPU {p['cpu_s']:.2f}x" +
                (f"; instructions {p['instructions'][0] / 1e6:,.0f}M vs {p['instructions'][1] / 1e6:,.0f}M = "
                 f"{p['instr_ratio']:.2f}x ({verdict(p['instr_ratio'])})" if "instr_ratio" in p else ""))
            warnings += p["problems"] + [f"network call at import ({key}): {n}" for n in p["network"]]
    elif 1 in sections:
        say("   cold start from the package: skipped (no build/deployment.zip)")
    if sections & {2, 3, 4}:
        say(f"   request counts: {'all rules hold' if not failures else 'BROKEN: ' + ' | '.join(failures)}")
    for label, (ratio, med, floor_med, p90, floor_p90) in ratios.items():
        say(f"   transfer, {label}: {med:.2f} ms vs floor {floor_med:.2f} ms = {ratio:.2f}x median "
            f"(p90 {p90:.2f} vs {floor_p90:.2f} ms) ({verdict(ratio)})")
    if presentment:
        ratio, med, floor_med, p90, floor_p90 = presentment
        say(f"   paid check presentment: {med:.2f} ms vs floor {floor_med:.2f} ms = {ratio:.2f}x median "
            f"(p90 {p90:.2f} vs {floor_p90:.2f} ms) ({verdict(ratio)})")
    if fx_ratio is not None:
        say(f"   cross-currency transfer: {fx_ratio:.2f}x its transaction floor ({verdict(fx_ratio)})")
    for line in (social_summary or {}).get("summary", []):
        say(f"   social, {line}")
    if accrual_result:
        for line in accrual_result[0]:
            say(f"   {line}")
        failures += [f"accrual: {line}" for line in accrual_result[1]]
    elif 5 in sections:
        warnings.append("bench/accrual.py did not finish (its output is above)")
    if loans_result:
        for line in loans_result[0]:
            say(f"   {line}")
        failures += [f"loans: {line}" for line in loans_result[1]]
    elif 6 in sections:
        warnings.append("bench/loans.py did not finish (its output is above)")
    if cards_result:
        for line in cards_result[0]:
            say(f"   {line}")
        failures += [f"cards: {line}" for line in cards_result[1]]
    elif 7 in sections:
        warnings.append("bench/cards.py did not finish (its output is above)")
    for line in hot_lines or []:
        say(f"   {line}")
    if 8 in sections and hot_lines is None:
        warnings.append("bench/hotspots.py did not finish (its output is above)")
    if not money_ok:
        warnings.append("money check: alice's balance did not fall by what the transfers moved")
    if social_broken:
        warnings.append("bench/social.py did not finish (its output is above)")
    for warning in warnings:
        say(f"   PROBLEM (not a request count, exit status unaffected): {warning}")
    say(f"   total bench time {time.perf_counter() - started:.0f} s (" +
        ", ".join(f"{name}: {seconds:.0f} s" for name, seconds in took.items() if seconds >= 0.5) + ")")
    # Exit status 1 means a request-count rule is broken, and nothing else does (2: a part of the bench failed).
    return 1 if failures else (2 if social_broken or (5 in sections and not accrual_result)
                                         or (6 in sections and not loans_result)
                                         or (7 in sections and not cards_result)
                                         or (8 in sections and hot_lines is None) else 0)


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
