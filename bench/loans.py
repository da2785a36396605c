"""Loan servicing benchmark (issue 15), beside its floor measured in the same run.

    .venv/bin/python bench/loans.py                          (1,000 and 10,000 loans)
    .venv/bin/python bench/loans.py --sizes 1000 --runs 1    (a quick look)
    make bench LOAN_SIZES=1000                               (the knob: section 6 short)

In-process moto (`mock_aws`). Open loans are seeded with BatchWriteItem into
the loans table (each in the sparse index of open loans, serviced through
yesterday, the next due date weeks away: nothing due). Then, day after day
(the test clock moves one day per round), on the same table:

- flock: the loan-servicing job's segments (`jobs.loan_servicing_segment`,
  8 segments), each bringing every loan up to today: one Query page per
  index shard, and one conditional UpdateItem per loan (its watermark and
  version);
- floor: the same Query of the same index shards with plain boto3, then one
  conditional UpdateItem per loan of the same shape (a watermark condition,
  SET through) on an attribute of its own.

Flock and floor alternate segment by segment; from 5,000 loans the floor
runs on 3 of the 8 segments and each size gets one round, which keeps the
10,000-loan figure to about a minute. Times are CPU time of this
process per loan (moto runs in it; the machine is shared) and wall time.
Rules: exactly one UpdateItem per loan and no other request beyond the
index pages; CPU per loan at most 1.5x the floor; per-loan cost not growing
from 1,000 to 10,000 loans by more than 1.5x. Exit status 1 if a rule is broken.
"""
import argparse
import os
import sys
import time
from datetime import timedelta

from figures import ROOT, Clock, Counter, batch_put, floor_client, median, segmented_round, use_in_process_moto

sys.path[:0] = [ROOT, os.path.join(ROOT, "scripts")]
use_in_process_moto()

TARGET = 1.5
GROWTH_TARGET = 1.5  # CPU time per loan at the largest size / at the smallest
SEGMENTS = 8
# From this many loans the floor runs on 3 of the 8 segments: a per-loan
# figure needs no more, and moto spends ~3 ms of CPU on each UpdateItem.
SAMPLED_FROM = 5_000
FLOOR_SAMPLE = (0, 3, 6)


def say(text=""):
    print(text, flush=True)


def seed(raw, table, start, count, disbursed_on, serviced_through, created_at):
    from chalicelib.db.loans import loan_key, open_loan_index_keys
    items = []
    for i in range(start, start + count):
        loan_id, user_id = f"loan_bench{i:07d}", f"usr_bench{i:07d}"
        pk, sk = loan_key(user_id, loan_id)
        gpk, gsk = open_loan_index_keys(loan_id)
        items.append({
            "pk": {"S": pk}, "sk": {"S": sk}, "id": {"S": loan_id}, "user_id": {"S": user_id},
            "handle": {"S": f"b{i}"}, "wallet_account_id": {"S": f"acct_bench{i:07d}"},
            "ledger_account_id": {"S": "acct_" + loan_id}, "application_id": {"S": f"lap_bench{i:07d}"},
            "principal": {"N": "250000"}, "apr_bps": {"N": "824"}, "term_months": {"N": "12"},
            "installment": {"N": "21775"}, "disbursed_on": {"S": disbursed_on}, "status": {"S": "active"},
            "principal_outstanding": {"N": "250000"}, "interest_due": {"N": "0"}, "fees_due": {"N": "0"},
            "installments": {"S": "[]"}, "serviced_through": {"S": serviced_through},
            "charged_off_principal": {"N": "0"}, "version": {"N": "0"}, "created_at": {"S": created_at},
            "gsi1_pk": {"S": gpk}, "gsi1_sk": {"S": gsk}, "floor_through": {"S": serviced_through},
        })
    batch_put(raw, table, items)


def floor_segment(raw, table, segment, day_iso):
    from chalicelib.db.loans import OPEN_LOAN_SHARDS, open_loan_shard
    updated = 0
    for shard in range(segment, OPEN_LOAN_SHARDS, SEGMENTS):
        kwargs = {"TableName": table, "IndexName": "gsi1", "KeyConditionExpression": "#p = :p",
                  "ExpressionAttributeNames": {"#p": "gsi1_pk"},
                  "ExpressionAttributeValues": {":p": {"S": open_loan_shard(shard)}}}
        while True:
            page = raw.query(**kwargs)
            for item in page["Items"]:
                raw.update_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]},
                                UpdateExpression="SET #t = :t", ConditionExpression="#t < :t",
                                ExpressionAttributeNames={"#t": "floor_through"},
                                ExpressionAttributeValues={":t": {"S": day_iso}})
                updated += 1
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return updated


def measure(size, runs, raw, table, counter):
    """Rounds of one business day each; flock and floor alternate by segment."""
    from chalicelib import clock, jobs
    floor_segments = FLOOR_SAMPLE if size >= SAMPLED_FROM else tuple(range(SEGMENTS))
    rounds = []
    for round_number in range(runs):
        clock.advance_days(1)
        today = clock.now().date()
        flock, floor = Clock(), Clock()
        counter.calls.clear()
        floor_loans = segmented_round(
            "servicing", size, round_number, SEGMENTS, floor_segments, counter, flock, floor,
            lambda segment: jobs.loan_servicing_segment(today, segment, SEGMENTS),
            lambda segment: floor_segment(raw, table, segment, today.isoformat()))
        rounds.append({"flock": flock, "floor": floor, "floor_loans": floor_loans, "calls": dict(counter.calls)})
    return rounds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000", help="loan counts, ascending (default 1000,10000)")
    parser.add_argument("--runs", type=int, default=0,
                        help=f"rounds (days) per size (default 2 below {SAMPLED_FROM:,} loans, else 1)")
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
        table = s.table_name("loans")
        raw = floor_client(s.region)
        counter = Counter()
        say(f"Loan servicing, nothing due: the loan-servicing job (in-process, {SEGMENTS} segments) vs a bare Query "
            f"of the open-loans index + one conditional UpdateItem per loan (plain boto3); in-process moto")
        say(f"   {'loans':>9}{'round':>6}  {'flock CPU':>10}{'floor CPU':>10}{'ratio':>7}  "
            f"{'flock wall':>10}{'floor wall':>11}{'ratio':>7}   (ms per loan)  requests per loan (flock)")
        seeded, results, failures = 0, [], []
        for size in sizes:
            today = clock.now().date()
            seed(raw, table, seeded, size - seeded, (today - timedelta(days=5)).isoformat(), today.isoformat(),
                 clock.iso(clock.now()))
            # Loans seeded earlier were serviced through today by the last size's rounds: bring the new ones level.
            seeded = size
            rounds = measure(size, args.runs or (2 if size < SAMPLED_FROM else 1), raw, table, counter)
            rows = []
            for i, r in enumerate(rounds):
                f_cpu, f_wall = r["flock"].cpu / size, r["flock"].wall / size
                fl_cpu, fl_wall = r["floor"].cpu / r["floor_loans"], r["floor"].wall / r["floor_loans"]
                rows.append((f_cpu, fl_cpu, f_wall, fl_wall))
                per = {op: round(n / size, 4) for op, n in sorted(r["calls"].items())}
                say(f"   {size:9}{i + 1:6}  {f_cpu * 1e3:10.3f}{fl_cpu * 1e3:10.3f}{f_cpu / fl_cpu:6.2f}x  "
                    f"{f_wall * 1e3:10.3f}{fl_wall * 1e3:11.3f}{f_wall / fl_wall:6.2f}x   {per}")
            f_cpu, fl_cpu, f_wall, fl_wall = (median(col) for col in zip(*rows))
            problems = []
            for r in rounds:
                c = r["calls"]
                if c.get("UpdateItem", 0) != size:
                    problems.append(f"UpdateItem per run {c.get('UpdateItem', 0)} != {size}")
                other = {op: n for op, n in c.items() if op not in ("UpdateItem", "Query")}
                if other:
                    problems.append(f"other requests {other}")
            ratio = f_cpu / fl_cpu
            if ratio > TARGET:
                problems.append(f"CPU time per loan {ratio:.2f}x the floor > {TARGET}x")
            results.append((size, f_cpu, fl_cpu, f_wall, fl_wall))
            say(f"   {size:9}{'med':>6}  {f_cpu * 1e3:10.3f}{fl_cpu * 1e3:10.3f}{ratio:6.2f}x  "
                f"{f_wall * 1e3:10.3f}{fl_wall * 1e3:11.3f}{f_wall / fl_wall:6.2f}x   floor over "
                f"{rounds[0]['floor_loans']} loans; target <= {TARGET}x (CPU): {'ok' if not problems else 'FAIL'}")
            failures += [f"{size} loans: {p}" for p in problems]
        if len(results) > 1:
            first, last = results[0], results[-1]
            growth = last[1] / first[1]
            say(f"   growth {first[0]} -> {last[0]} loans: per loan x{growth:.2f} (floor x{last[2] / first[2]:.2f}), "
                f"1.00 = linear; target <= {GROWTH_TARGET}x: {'ok' if growth <= GROWTH_TARGET else 'FAIL'}")
            if growth > GROWTH_TARGET:
                failures.append(f"CPU time per loan grew x{growth:.2f} from {first[0]} to {last[0]} loans")
        say("Summary")
        for size, f_cpu, fl_cpu, f_wall, fl_wall in results:
            say(f"   loan-servicing, {size} loans, nothing due: {f_cpu * 1e3:.2f} ms CPU/loan vs floor "
                f"{fl_cpu * 1e3:.2f} = {f_cpu / fl_cpu:.2f}x ({'ok' if f_cpu / fl_cpu <= TARGET else 'OVER'}); wall "
                f"{f_wall * 1e3:.2f} vs {fl_wall * 1e3:.2f} ms = {f_wall / fl_wall:.2f}x; 1 UpdateItem/loan")
        say(f"   rules: {'all hold' if not failures else 'BROKEN: ' + ' | '.join(failures)}")
        say(f"   total bench time {time.perf_counter() - started:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    os._exit(status)
