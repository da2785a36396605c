"""Hot-item simulator (issue 17): which single DynamoDB item each path
would need to write fastest at Flock's target peak rates.

    .venv/bin/python bench/hotspots.py [--people 80] [--json SUMMARY.json]

`make bench` runs it (bench/run.py, section 7). In-process moto (`mock_aws`).

A synthetic workload goes through the service layer (the functions the
routes call, with real principals): people sign up and are verified, post,
follow each other and like posts (Zipf: a few people and posts get most of
it), deposit, and then four measured paths run, one after another:

- follow: Zipf follows, one celebrity (rank 1) receiving most of them;
- like:   Zipf likes, one viral post (rank 1) receiving most of them;
- tip:    Zipf tips, one creator (rank 1) receiving most of them;
- p2p:    transfers between random pairs of the crowd (many people).

Follows, likes and tips are warmed up first (not measured) with low
thresholds (`FLOCK_CELEBRITY_FOLLOWERS_MIN`, `FLOCK_HOT_POST_LIKES`,
`FLOCK_CREDIT_SHARDS_HOT_PER_MIN`): at the target rates the top ranks cross
them within milliseconds (a creator tipped 5,000/s passes 100 credits/s in
its first second), and a small sample must start where the real load would
be (a sample tip to a star stands for hundreds a second at the target
rate, so one tip in the warm-up minute is past the threshold's 100/s).
Nobody turns credit shards on by hand: business time then moves to the
next minute, where a payer's once-a-minute read of the creator's count (and
of the post's shard writes) finds them hot, as it would at the target rate,
and the switch turns shards on (finance/credit_shards.py). Their number at
the target rate is what the switch sizes for it (`credit_shards.sized`), so
the credit-shard family is reported at that width; the sample itself was
credited on the fewer shards its own rate asked for.

A botocore `before-call` hook on Flock's one DynamoDB client counts the
write units each request costs per item (pk/sk): 1 per PutItem, UpdateItem,
DeleteItem and batch put/delete, 2 per item of a TransactWriteItems
(ConditionChecks included), items assumed under 1 KB.

Scaling. A path's operations are scaled so that its focus gets the target
rate (TARGETS: the celebrity 10,000 follows/s, the viral post 100,000
likes/s, the creator 5,000 tips/s, 65,000 transfers/s in all), so an item
written `u` units by `n` of the path's `ops` operations needs
`u / focus_ops * target` units/s. Two corrections keep a small simulation
honest:
- the crowd (everyone but the celebrity, the creator and the viral post's
  author) stands for CROWD_REAL people: an item that belongs to a member of
  the crowd (its key names their user, account or post) is scaled down by
  `crowd / CROWD_REAL`;
- an item written by one operation only (an entry, a like, a transfer) is
  new per operation: it is not scaled (a shard written once is: it is
  picked again);
- shards picked at random are reported at their family's mean (units over
  the family / its width): at 10^4..10^5 operations a second the busiest of
  N shards is within a few per cent of the mean, whatever a small sample
  shows.
Goal (issue 17): no item above 1,000 WCU/s. Exit status 0 (the report is
the product; a HOT line is a finding, not a failure of the bench), 2 if the
simulation itself failed.
"""
import argparse
import collections
import dataclasses
import json
import os
import random
import re
import sys
import uuid
from datetime import datetime, timedelta, timezone

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)

TARGETS = {"follow": 10_000, "like": 100_000, "tip": 5_000, "p2p": 65_000}
FOCUS = {"follow": "the celebrity", "like": "the viral post", "tip": "the creator", "p2p": "all transfers"}
ITEM_WCU_MAX = 1_000
CROWD_REAL = 10_000_000
PASSWORD = "correct horse battery"

# Which design choice carries each path (the closing note prints it beside the measured figure).
DESIGN = {
    "follow": "follow edge per pair; a celebrity's follower_count on FCNT# shards (sum on read); "
              "the celebrity flag is never unset, so a follow of a celebrity checks nothing on the user item",
    "like": "like item per person; like/tip/reply counters on CNT# shards, a hot post widened to many; "
            "'post still exists' is a condition on the shard (deleted posts leave tombstoned shards)",
    "tip": "tip counter on the post's CNT# shards, widened by tips as by likes; the money credits one of the "
           "creator's CS# credit shards, turned on by the creator's own receive rate (no operator call) and "
           "sized to it (ledger rule 8), swept into the account item by a job",
    "p2p": "two customer accounts, their entries and the sender's day counter; the session check is a "
           "ConditionCheck on the sender's own user item; no shared item",
}
# What the figures leave out, said beside them.
NOT_MEASURED = (
    "reads: a like reads the post item and sums its counter shards, a profile sums a celebrity's follower "
    "shards; a viral post's reads need a cache in front (DAX, a CDN) like any read-hot item",
    "partitions: a post's likes, shards and unlocks share its partition key; DynamoDB splits a hot partition "
    "by sort key, which the per-item figures assume",
    "card authorizations: no card module on this branch",
)
# What each kind of item is, by key shape (first match).
KINDS = [
    (re.compile(r"^posts POST#\S+ / POST$"), "post item"),
    (re.compile(r"^posts POST#\S+ / CNT#"), "post counter shard"),
    (re.compile(r"^posts POST#\S+ / LIKE#"), "like"),
    (re.compile(r"^posts TL#"), "timeline entry"),
    (re.compile(r"^users USER#\S+ / PROFILE$"), "user item"),
    (re.compile(r"^users USER#\S+ / FCNT#"), "follower-count shard"),
    (re.compile(r"^users USER#\S+ / FOLLOWS#"), "follow edge"),
    (re.compile(r"^balances ACCT#acct_sys_"), "system account shard"),
    (re.compile(r"^balances ACCT#\S+ / ACCT$"), "money account"),
    (re.compile(r"^balances ACCT#\S+ / CS#"), "credit shard"),
    (re.compile(r"^balances ACCT#\S+ / E#"), "ledger entry"),
    (re.compile(r"^balances ACCT#\S+ / LIM#"), "day's limit counter"),
    (re.compile(r"^balances TR#"), "transfer"),
]
_SHARD = re.compile(r"^(.* / (?:CNT|FCNT|CS)#)\d+$|^(.*acct_sys_[a-z_]+?_)\d+( / .*)$")
_POST_FAMILY = re.compile(r"^posts POST#(\S+) / CNT#\*$")
_IDS = re.compile(r"\b(?:usr|acct|post)_[0-9a-z]+\b")


def item_name(table: str, key: dict) -> str:
    def value(name):
        return next(iter(key[name].values())) if name in key else "?"
    return f"{table} {value('pk')} / {value('sk')}"


def write_units(op: str, body: dict, table_of) -> list[tuple[str, int]]:
    """(item, units) for one request."""
    if op in ("PutItem", "UpdateItem", "DeleteItem"):
        key = body.get("Key") or {k: body["Item"][k] for k in ("pk", "sk") if k in body.get("Item", {})}
        return [(item_name(table_of(body["TableName"]), key), 1)]
    if op == "BatchWriteItem":
        out = []
        for table, requests in body["RequestItems"].items():
            for r in requests:
                key = r["DeleteRequest"]["Key"] if "DeleteRequest" in r else r["PutRequest"]["Item"]
                out.append((item_name(table_of(table), key), 1))
        return out
    if op == "TransactWriteItems":
        out = []
        for entry in body["TransactItems"]:
            (kind, spec), = entry.items()
            key = spec.get("Key") or {k: spec["Item"][k] for k in ("pk", "sk")}
            out.append((item_name(table_of(spec["TableName"]), key), 2))
        return out
    return []


class WriteUnits:
    """A botocore `before-call` handler: write units per path, per item, per operation."""

    def __init__(self, table_of):
        self.table_of = table_of
        self.path = "setup"
        self.op = 0
        self.units = collections.defaultdict(collections.Counter)   # path -> item -> units
        self.writers = collections.defaultdict(set)                # (path, item) -> operation numbers

    def begin(self, path: str) -> None:
        self.path = path

    def next_op(self) -> None:
        self.op += 1

    def __call__(self, model=None, params=None, **kwargs):
        try:
            body = json.loads(params["body"]) if params and params.get("body") else {}
        except (TypeError, ValueError):
            return
        for item, units in write_units(model.name, body, self.table_of):
            self.units[self.path][item] += units
            self.writers[(self.path, item)].add(self.op)
        # Returning None matters: a before-call handler's value would replace the request.


@dataclasses.dataclass
class Workload:
    people: int = 60
    posts_per_person: int = 1
    follows: int = 120
    likes: int = 150
    tips: int = 40
    transfers: int = 60
    zipf_s: float = 1.2
    seed: int = 17


@dataclasses.dataclass
class Row:
    item: str
    kind: str
    paths: list
    wcu_per_s: float
    note: str


@dataclasses.dataclass
class Report:
    ops: dict          # path -> operations run
    focus_ops: dict    # path -> operations on the path's focus
    rows: list         # Row, hottest first
    per_path: dict     # path -> hottest Row of that path
    refused: dict      # path -> operations refused (a like of one's own post is fine; 5xx is not)
    names: dict        # id -> a readable name (usr(@p0001)) for the printout

    def hot(self) -> list:
        return [r for r in self.rows if r.wcu_per_s > ITEM_WCU_MAX]


def zipf_pick(rng: random.Random, n: int, s: float) -> int:
    """Rank 0..n-1, rank k with weight 1/(k+1)^s."""
    weights = [1 / (k + 1) ** s for k in range(n)]
    return rng.choices(range(n), weights=weights)[0]


def kind_of(item: str) -> str:
    for pattern, kind in KINDS:
        if pattern.search(item):
            return kind
    return "other"


def family_of(item: str) -> str | None:
    m = _SHARD.match(item)
    if not m:
        return None
    return (m.group(1) + "*") if m.group(1) else (m.group(2) + "*" + m.group(3))


def simulate(workload: Workload, say=print) -> Report:
    """Runs the workload on the stack that is live now (moto, provisioned)
    and computes the report. Everything goes through the service layer."""
    from chalicelib import clock
    from chalicelib.config import settings
    from chalicelib.db import base
    from chalicelib.db.posts import counter_width
    from chalicelib.finance import creator, credit_shards, customers, transfers
    from chalicelib.finance.money import Money
    from chalicelib.identity import users
    from chalicelib.social import graph, people, posts, timeline

    rng = random.Random(workload.seed)
    prefix = settings().table_name("x")[:-1]
    meter = WriteUnits(lambda name: name.removeprefix(prefix))
    operator = users.find_by_handle("admin")
    operator = users.Principal(user_id=operator.id, handle=operator.handle, role=operator.role,
                               verified=True, frozen=False, account_id=operator.account_id)
    handles = [f"p{i:04d}" for i in range(workload.people)]
    tokens = {}
    for handle in handles:
        tokens[handle] = people.signup(handle, PASSWORD).token
        customers.verify(operator, handle, "simulation")
    principals = {handle: users.authenticate(token) for handle, token in tokens.items()}
    celebrity, creator_handle, viral_author = handles[0], handles[1], handles[2]
    stars = {celebrity, creator_handle, viral_author}
    post_ids = {h: [posts.create(principals[h], f"hello from {h} #{k}").id
                    for k in range(workload.posts_per_person)] for h in handles}
    viral = post_ids[viral_author][0]
    crowd_ids, names = set(), {}
    for h in handles:
        p = principals[h]
        names.update({p.user_id: f"usr(@{h})", p.account_id: f"acct(@{h})"})
        names.update({post_id: f"post(@{h})" for post_id in post_ids[h]})
    for h in handles:
        if h not in stars:
            crowd_ids |= {principals[h].user_id, principals[h].account_id, *post_ids[h]}
    timeline.promote_celebrity(principals[celebrity].user_id)  # has tens of millions of followers in the story
    for h in handles:
        transfers.deposit(principals[h], Money(1_000_000, "USD"), str(uuid.uuid4()))
    say(f"   {workload.people} people signed up, verified, funded; {sum(map(len, post_ids.values()))} posts")

    refused = collections.Counter()
    ops, focus_ops = collections.Counter(), collections.Counter()
    base.register_hook("before-call.dynamodb", meter)
    try:
        done = set()
        # The stars stand out as receivers; as actors (following, liking,
        # tipping, paying) everyone is one of the crowd.
        crowd = [h for h in handles if h not in stars]

        def run(path, count, pick, act):
            meter.begin(path)
            for _ in range(count):
                for _ in range(20):  # a pair once: a repeated like or follow is a no-op, not load
                    actor, target = pick()
                    if (actor, target) not in done:
                        break
                done.add((actor, target))
                meter.next_op()
                ops[path] += 1
                try:
                    focused = act(actor, target)
                except Exception as exc:  # an ApiError is an answer (already following, ...); count it
                    if getattr(exc, "status", 500) >= 500:
                        raise
                    refused[path] += 1
                    continue
                focus_ops[path] += bool(focused)

        followees = [celebrity] + [h for h in handles if h != celebrity]
        likeable = [viral] + [p for h in handles for p in post_ids[h] if p != viral]
        # Warm-up, not measured: at the target rates the top ranks are past
        # the thresholds (celebrity promotion, hot-post widening) within
        # milliseconds; a small sample must start there too.
        creators = [creator_handle] + [h for h in handles if h != creator_handle]

        def tip(a, c):
            return a != c and creator.tip(principals[a], post_ids[c][0], Money(100, "USD"), str(uuid.uuid4()))
        for path, count, pick, act in (
                ("follow", workload.follows // 2,
                 lambda: (rng.choice(crowd), followees[zipf_pick(rng, len(followees), workload.zipf_s)]),
                 lambda a, t: a != t and graph.follow(principals[a], t) and False),
                ("like", workload.likes // 3,
                 lambda: (rng.choice(crowd), likeable[zipf_pick(rng, len(likeable), workload.zipf_s)]),
                 lambda a, p: posts.like(principals[a], p) and False)):
            run("warm-up " + path, count, pick, act)
        # Tips warm up on a generator of their own and repeat pairs freely,
        # so the measured sample is drawn as it would be without them.
        warm = random.Random(workload.seed + 1)
        meter.begin("warm-up tip")
        for _ in range(workload.tips):
            tip(warm.choice(crowd), creators[zipf_pick(warm, len(creators), workload.zipf_s)])
        # The next minute: the first payer of each hot receiver and post reads them afresh and
        # finds them hot (the switch's own writes stay out of the measured paths).
        minute = clock.now().replace(second=0, microsecond=0)
        clock.set_now(minute + timedelta(minutes=1, seconds=1))
        meter.begin("warm-up switch")
        for star in (creator_handle, viral_author, celebrity):
            tip(crowd[0], star)
        switched = {h: credit_shards.count_of(principals[h].account_id) for h in (creator_handle, viral_author)}
        say("   credit shards turned on by the switch, no operator call: "
            + ", ".join(f"@{h} {n or 'none'}" for h, n in switched.items()))
        ops.clear()
        focus_ops.clear()
        refused.clear()
        run("follow", workload.follows,
            lambda: (rng.choice(crowd), followees[zipf_pick(rng, len(followees), workload.zipf_s)]),
            lambda a, t: a != t and graph.follow(principals[a], t) and t == celebrity)
        run("like", workload.likes,
            lambda: (rng.choice(crowd), likeable[zipf_pick(rng, len(likeable), workload.zipf_s)]),
            lambda a, p: posts.like(principals[a], p) and p == viral)
        run("tip", workload.tips,
            lambda: (rng.choice(crowd),
                     creators[zipf_pick(rng, len(creators), workload.zipf_s)]),
            lambda a, c: tip(a, c) and c == creator_handle)
        run("p2p", workload.transfers,
            lambda: tuple(rng.sample(crowd, 2)),
            lambda a, b: transfers.send(principals[a], b, Money(100, "USD"), "", str(uuid.uuid4())) and True)
    finally:
        base.unregister_hook("before-call.dynamodb", meter)

    crowd_share = (workload.people - len(stars)) / CROWD_REAL

    def width(family: str) -> int:
        """How many shards the family's writes are picked among, by design."""
        post = _POST_FAMILY.match(family)
        if post:
            return counter_width(posts.require(post.group(1)))
        if "/ FCNT#" in family:
            return settings().follower_count_shards
        if "/ CS#" in family:  # as many as the switch gives a creator tipped at the target rate
            return credit_shards.sized(TARGETS["tip"] * 60)
        return settings().system_account_shards
    rates = collections.defaultdict(float)
    paths_of = collections.defaultdict(set)
    for path in TARGETS:
        if not focus_ops[path]:
            continue
        scale = TARGETS[path] / focus_ops[path]
        families = collections.Counter()
        for item, units in meter.units[path].items():
            family = family_of(item)
            if not family and len(meter.writers[(path, item)]) <= 1:
                continue  # new per operation: written once, at no rate (a shard is not: it is picked again)
            owner_crowd = any(i in crowd_ids for i in _IDS.findall(item))
            rate = units * scale * (crowd_share if owner_crowd else 1.0)
            if family:
                families[family] += rate
                paths_of[family].add(path)
            else:
                rates[item] += rate
                paths_of[item].add(path)
        for family, total in families.items():
            rates[family] += total / width(family)
    rows = sorted((Row(item, kind_of(item), sorted(paths_of[item]), rate,
                       "mean of randomly picked shards" if "*" in item else "")
                   for item, rate in rates.items()), key=lambda r: -r.wcu_per_s)
    per_path = {}
    for row in rows:
        for path in row.paths:
            per_path.setdefault(path, row)
    return Report(dict(ops), dict(focus_ops), rows, per_path, dict(refused), names)


def short(item: str, names: dict) -> str:
    return _IDS.sub(lambda m: names.get(m.group(0), m.group(0)[:9] + "…"), item)


def print_report(report: Report, say=print, top: int = 12) -> list[str]:
    """The table of the hottest items and the closing note; returns the summary lines."""
    names = report.names
    say("   operations: " + ", ".join(f"{p} {report.ops.get(p, 0)} ({report.focus_ops.get(p, 0)} on "
                                       f"{FOCUS[p]})" for p in TARGETS))
    say(f"   at the target rates ({', '.join(f'{p} {TARGETS[p]:,}/s' for p in TARGETS)}), "
        f"the hottest items (goal: at most {ITEM_WCU_MAX:,} WCU/s each):")
    say(f"   {'WCU/s':>10}  {'':4} {'kind':22} {'paths':12} item")
    for row in report.rows[:top]:
        flag = "HOT" if row.wcu_per_s > ITEM_WCU_MAX else "ok"
        say(f"   {row.wcu_per_s:>10,.0f}  {flag:4} {row.kind:22} {','.join(row.paths):12} "
            f"{short(row.item, names)}{'  (' + row.note + ')' if row.note else ''}")
    summary = []
    say("   closing note, per path: its hottest item at the target rate, and the design choice that carries it")
    for path in TARGETS:
        row = report.per_path.get(path)
        if row is None:
            line = f"{path}: no repeated item written"
        else:
            verdict = "HOT" if row.wcu_per_s > ITEM_WCU_MAX else "ok"
            line = (f"{path} at {TARGETS[path]:,}/s: hottest {row.kind} {row.wcu_per_s:,.0f} WCU/s ({verdict}); "
                    f"{DESIGN[path]}")
        say(f"   - {line}")
        summary.append(f"hot items, {line}")
    for line in NOT_MEASURED:
        say(f"   not measured: {line}")
    hot = report.hot()
    verdict = ("no item above 1,000 WCU/s" if not hot else
               f"{len(hot)} item(s) above 1,000 WCU/s: " + "; ".join(f"{r.kind} {r.wcu_per_s:,.0f}" for r in hot[:5]))
    say(f"   verdict: {verdict}")
    summary.append(f"hot items: {verdict}")
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=60)
    parser.add_argument("--json", help="write the summary lines here (bench/run.py reads them)")
    args = parser.parse_args()
    sys.path[:0] = [ROOT, os.path.join(ROOT, "scripts")]
    os.environ.update({"FLOCK_STAGE": "dev", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
                       "FLOCK_ARGON2_MEMORY_KIB": "8192", "FLOCK_ARGON2_TIME_COST": "1",
                       "FLOCK_SYSTEM_ACCOUNT_SHARDS": "8", "FLOCK_HOT_POST_LIKES": "4",
                       "FLOCK_CELEBRITY_FOLLOWERS_MIN": "3", "FLOCK_CREDIT_SHARDS_HOT_PER_MIN": "1"})
    for name in ("FLOCK_DYNAMODB_ENDPOINT", "FLOCK_AWS_ENDPOINT", "FLOCK_FANOUT_QUEUE_URL", "FLOCK_JOBS_QUEUE_URL"):
        os.environ.pop(name, None)
    from moto import mock_aws
    import localstack
    from chalicelib import clock
    with mock_aws():
        clock.pin(datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc))
        localstack.provision("operator password 17")
        workload = Workload(people=args.people)
        say = lambda text="": print(text, flush=True)  # noqa: E731
        report = simulate(workload, say)
        summary = print_report(report, say)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": summary, "hot": len(report.hot())}, f)
    return 0


if __name__ == "__main__":
    try:
        status = main()
    except Exception:
        import traceback
        traceback.print_exc()
        status = 2
    sys.stdout.flush()
    os._exit(status)
