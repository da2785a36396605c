"""Interest accrual benchmark (issue 6), beside its floor measured in the same run.

    .venv/bin/python bench/accrual.py                          (1,000 and 10,000 accounts)
    .venv/bin/python bench/accrual.py --sizes 1000 --runs 3    (a quick look)

In-process moto (`mock_aws`). Customer accounts are seeded with
BatchWriteItem, already accrued through yesterday and with no activity since
(no recorded openings). Then, day after day (the test clock moves one day per
round, so each run has one day per account to accrue), on the same table:

- flock: the accrue-interest job as `jobs.run` runs it in-process — the rate
  history read once, then `jobs.accrue_segment` for each of the 8 scan
  segments (every account, every round);
- floor: the same segment's Scan (of the same sparse index of account
  items, same filter) with plain boto3,
  then one conditional UpdateItem per account of the same shape (a
  watermark condition, SET micros = micros + :d, SET through) on attributes
  of its own, so the two never touch each other's watermark.

Flock and floor alternate segment by segment (which goes first alternates
too), so a busy machine's drift hits both alike; at 5,000 accounts and more
the floor runs on 3 of the 8 segments (a per-account figure needs no more,
and moto spends ~7 ms of CPU on each UpdateItem). Times are per account, CPU
time of this process (moto runs in it; the figure judged, as the machine is
shared) and wall time (shown).

DynamoDB requests are counted with a botocore `before-call` hook on the
client Flock uses (chalicelib.db.base.register_hook). Rules: exactly one
UpdateItem per account, no reads beyond the scan pages and the one rate
query per run; CPU time per account at most 1.5x the floor at each size; and
it should not grow from 1,000 to 10,000 (a linear total). Exit status 1 if a
rule is broken.
"""
import argparse
import os
import sys
import time
from datetime import timedelta

from figures import ROOT, Clock, Counter, batch_put, counting, floor_client, median, segmented_round, use_in_process_moto

sys.path[:0] = [ROOT, os.path.join(ROOT, "scripts")]
use_in_process_moto()

TARGET = 1.5
GROWTH_TARGET = 1.5  # CPU time per account at the largest size / at the smallest
READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
SEGMENTS = 8
SAMPLED_FROM = 5_000
FLOOR_SAMPLE = (0, 3, 6)


def say(text=""):
    print(text, flush=True)


def seed(raw, table, start, count, opened_at, accrued_through):
    """`count` customer accounts as the ledger and a past accrual leave them."""
    items = []
    for i in range(start, start + count):
        account_id = f"acct_bench{i:07d}"
        balance = 1_000 + (i * 7919) % 5_000_000
        items.append({
            "pk": {"S": f"ACCT#{account_id}"}, "sk": {"S": "ACCT"}, "id": {"S": account_id},
            "kind": {"S": "customer"}, "owner_id": {"S": f"usr_bench{i:07d}"}, "owner_handle": {"S": f"b{i}"},
            "currency": {"S": "USD"}, "balance": {"N": str(balance)}, "held": {"N": "0"},
            "credit_limit": {"N": "0"}, "spendable": {"N": str(balance)}, "status": {"S": "active"},
            "account_number": {"S": f"9{i:010d}"}, "opened_at": {"S": opened_at},
            "accrued_interest_micros": {"N": str((i * 104729) % 900_000)}, "accrued_through": {"S": accrued_through},
            "posted_interest_micros": {"N": "0"}, "month_interest": {"M": {}},
            "opens": {"M": {"m" + accrued_through[:7].replace("-", ""): {"N": str(balance)}}},
            "movements": {"N": str(i % 50)}, "gsi3_pk": {"S": f"ACCT#{account_id}"}, "gsi3_sk": {"S": "customer"},
            "floor_micros": {"N": "0"}, "floor_through": {"S": accrued_through},
        })
    batch_put(raw, table, items)


def floor_segment(raw, table, segment, day_iso):
    """A bare scan of one segment, then one conditional UpdateItem per account."""
    updated = 0
    kwargs = {"TableName": table, "IndexName": "gsi3", "Segment": segment, "TotalSegments": SEGMENTS,
              "FilterExpression": "#kind = :customer", "ExpressionAttributeNames": {"#kind": "gsi3_sk"},
              "ExpressionAttributeValues": {":customer": {"S": "customer"}}}
    while True:
        page = raw.scan(**kwargs)
        for item in page["Items"]:
            raw.update_item(
                TableName=table, Key={"pk": item["pk"], "sk": item["sk"]},
                UpdateExpression="SET #m = #m + :d, #t = :t",
                ConditionExpression="#t < :t",
                ExpressionAttributeNames={"#m": "floor_micros", "#t": "floor_through"},
                ExpressionAttributeValues={":d": {"N": "123"}, ":t": {"S": day_iso}})
            updated += 1
        if "LastEvaluatedKey" not in page:
            return updated
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def measure(size, runs, raw, table, counter):
    """Rounds of one business day each; flock and floor alternate by segment."""
    from chalicelib import clock, jobs
    from chalicelib.finance import interest

    floor_segments = FLOOR_SAMPLE if size >= SAMPLED_FROM else tuple(range(SEGMENTS))
    rounds = []
    for round_number in range(runs):
        clock.advance_days(1)
        yesterday = clock.now().date() - timedelta(days=1)
        flock, floor = Clock(), Clock()
        counter.calls.clear()
        with counting(counter), flock:
            history = interest.rate_history()  # as jobs.run reads it: once per run
        floor_accounts = segmented_round(
            "accrual", size, round_number, SEGMENTS, floor_segments, counter, flock, floor,
            lambda segment: jobs.accrue_segment(yesterday, segment, SEGMENTS, history=history),
            lambda segment: floor_segment(raw, table, segment, yesterday.isoformat()))
        rounds.append({"flock": flock, "floor": floor, "floor_accounts": floor_accounts, "calls": dict(counter.calls)})
    return rounds


def check_books():
    """Every seeded account accrued through yesterday."""
    from chalicelib import clock
    from chalicelib.db.balances import AccountItem
    yesterday = (clock.now().date() - timedelta(days=1)).isoformat()
    return sum(1 for a in AccountItem.scan((AccountItem.sk == "ACCT") & (AccountItem.kind == "customer"))
               if a.accrued_through != yesterday)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000", help="account counts, ascending (default 1000,10000)")
    parser.add_argument("--runs", type=int, default=0, help="rounds per size (default 2 below 5,000 accounts, else 1)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    started = time.perf_counter()

    from moto import mock_aws
    with mock_aws():
        import localstack
        from chalicelib import clock
        from chalicelib.config import settings
        localstack.provision("bench-operator-password")
        s = settings()
        table = s.table_name("balances")
        raw = floor_client(s.region)
        counter = Counter()
        opened_at = clock.iso(clock.now() - timedelta(days=40))
        accrued_through = (clock.now().date() - timedelta(days=1)).isoformat()
        say(f"Interest accrual: the accrue-interest job (in-process, {SEGMENTS} segments) vs a bare Scan + one "
            f"conditional UpdateItem per account (plain boto3); in-process moto, same table, alternating by segment")
        say(f"   {'accounts':>9}{'items':>8}{'round':>6}  {'flock CPU':>10}{'floor CPU':>10}{'ratio':>7}  "
            f"{'flock wall':>10}{'floor wall':>11}{'ratio':>7}   (ms per account)  requests per account (flock)")
        seeded, results, failures = 0, [], []
        for size in sizes:
            seed(raw, table, seeded, size - seeded, opened_at, accrued_through)
            seeded = size
            items = raw.describe_table(TableName=table)["Table"]["ItemCount"]
            rounds = measure(size, args.runs or (2 if size < SAMPLED_FROM else 1), raw, table, counter)
            accrued_through = (clock.now().date() - timedelta(days=1)).isoformat()  # where the next size's start
            behind = check_books()
            rows = []
            for i, r in enumerate(rounds):
                f_cpu, f_wall = r["flock"].cpu / size, r["flock"].wall / size
                fl_cpu, fl_wall = r["floor"].cpu / r["floor_accounts"], r["floor"].wall / r["floor_accounts"]
                rows.append((f_cpu, fl_cpu, f_wall, fl_wall))
                per = {op: round(n / size, 4) for op, n in sorted(r["calls"].items())}
                say(f"   {size:9}{items:8}{i + 1:6}  {f_cpu * 1e3:10.3f}{fl_cpu * 1e3:10.3f}{f_cpu / fl_cpu:6.2f}x  "
                    f"{f_wall * 1e3:10.3f}{fl_wall * 1e3:11.3f}{f_wall / fl_wall:6.2f}x   {per}")
            f_cpu, fl_cpu, f_wall, fl_wall = (median(col) for col in zip(*rows))
            calls = [r["calls"] for r in rounds]
            updates = [c.get("UpdateItem", 0) for c in calls]
            scans = [c.get("Scan", 0) for c in calls]
            other_reads = [sum(n for op, n in c.items() if op in READS and op != "Scan") for c in calls]
            other_writes = [sum(n for op, n in c.items() if op not in READS and op != "UpdateItem") for c in calls]
            problems = []
            if any(u != size for u in updates):
                problems.append(f"UpdateItem per run {updates} != {size}")
            if any(r > 1 for r in other_reads):
                problems.append(f"reads beyond the scan per run {other_reads} (1 allowed: the rate history)")
            if any(other_writes):
                problems.append(f"other writes per run {other_writes}")
            if behind:
                problems.append(f"{behind} accounts not accrued through yesterday")
            ratio = f_cpu / fl_cpu
            if ratio > TARGET:
                problems.append(f"CPU time per account {ratio:.2f}x the floor > {TARGET}x")
            sample = rounds[0]["floor_accounts"]
            results.append((size, items, f_cpu, fl_cpu, f_wall, fl_wall, scans[0], other_reads[0], sample))
            say(f"   {size:9}{items:8}{'med':>6}  {f_cpu * 1e3:10.3f}{fl_cpu * 1e3:10.3f}{ratio:6.2f}x  "
                f"{f_wall * 1e3:10.3f}{fl_wall * 1e3:11.3f}{f_wall / fl_wall:6.2f}x   floor over {sample} accounts; "
                f"target <= {TARGET}x (CPU): {'ok' if not problems else 'FAIL'}")
            failures += [f"{size} accounts: {p}" for p in problems]
        if len(results) > 1:
            first, last = results[0], results[-1]
            growth, floor_growth = last[2] / first[2], last[3] / first[3]
            say(f"   growth {first[0]} -> {last[0]} accounts: a flock run {first[2] * first[0]:.1f} s -> "
                f"{last[2] * last[0]:.1f} s CPU (x{last[2] * last[0] / (first[2] * first[0]):.1f} for "
                f"x{last[0] / first[0]:.0f} the accounts); per account x{growth:.2f} (floor x{floor_growth:.2f}), "
                f"1.00 = linear; target <= {GROWTH_TARGET}x: {'ok' if growth <= GROWTH_TARGET else 'FAIL'}")
            if growth > GROWTH_TARGET:
                failures.append(f"CPU time per account grew x{growth:.2f} from {first[0]} to {last[0]} accounts")
        say("Summary")
        for size, items, f_cpu, fl_cpu, f_wall, fl_wall, scans, reads, sample in results:
            say(f"   accrual, {size} accounts ({items} items): {f_cpu * 1e3:.2f} ms CPU/account vs floor "
                f"{fl_cpu * 1e3:.2f} = {f_cpu / fl_cpu:.2f}x ({'ok' if f_cpu / fl_cpu <= TARGET else 'OVER'}); wall "
                f"{f_wall * 1e3:.2f} vs {fl_wall * 1e3:.2f} ms = {f_wall / fl_wall:.2f}x; requests: 1 UpdateItem/account, "
                f"{scans} Scan pages + {reads} rate query per run")
        say(f"   rules: {'all hold' if not failures else 'BROKEN: ' + ' | '.join(failures)}")
        say(f"   total bench time {time.perf_counter() - started:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    os._exit(status)  # tearing down moto's state at exit takes seconds; nothing is left to write
