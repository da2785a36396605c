"""Card authorization benchmark (issue 13), beside its floor measured in the same run.

    .venv/bin/python bench/cards.py              (100 authorizations per variant)
    .venv/bin/python bench/cards.py --n 50       (a quick look)

In-process moto (`mock_aws`). One verified person with money and a card.

- flock: `card_network.authorize` (the service layer under the signed route):
  the event's record and the card in one BatchGetItem, then the decision, the
  hold, the counters, the card transaction and the event's answer in one
  TransactWriteItems;
- floor: the same two requests (captured from one authorization, replayed
  with fresh event, authorization, hold and card transaction ids) with plain boto3.

Interleaved in rotating order. Times are wall and CPU time of this process
(moto runs in it). Rules: exactly 1 BatchGetItem and 1 TransactWriteItems
per authorization; median time at most 1.5x the floor. Exit status 1 if a
rule is broken.
"""
import argparse
import collections
import json
import os
import random
import re
import statistics
import sys
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "scripts")]
os.environ.update({"FLOCK_STAGE": "dev", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                   "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
                   "AWS_EC2_METADATA_DISABLED": "true", "FLOCK_ARGON2_MEMORY_KIB": "8192",
                   "FLOCK_ARGON2_TIME_COST": "1", "FLOCK_SYSTEM_ACCOUNT_SHARDS": "2"})
for _name in ("FLOCK_DYNAMODB_ENDPOINT", "FLOCK_AWS_ENDPOINT", "FLOCK_JOBS_QUEUE_URL"):
    os.environ.pop(_name, None)

TARGET = 1.5
EXPECTED = {"BatchGetItem": 1, "TransactWriteItems": 1}
_IDS = re.compile(r"\b(?:auth|hold|ctx)_[0-9a-z]{26}\b")
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
PASSWORD = "correct horse battery"


def say(text=""):
    print(text, flush=True)


class Counter:
    def __init__(self):
        self.calls = collections.Counter()

    def __call__(self, model=None, **kwargs):
        self.calls[model.name] += 1


def _fresh(template: str, event_id: str) -> dict:
    """The captured requests with new ids, so each replay writes new items."""
    text = template.replace(event_id, "f" + uuid.uuid4().hex[:20])
    for old in sorted(set(_IDS.findall(template))):
        prefix = old.split("_", 1)[0]
        text = text.replace(old, prefix + "_" + "".join(random.choice(_ALPHABET) for _ in range(26)))
    return json.loads(text)


def _person():
    """A verified person with $1,000 and a card: (principal, card answer)."""
    from chalicelib.finance import cards, customers, transfers
    from chalicelib.finance.money import Money
    from chalicelib.identity import users
    from chalicelib.social import people
    session = people.signup("benchcard", PASSWORD)
    op = users.find_by_handle("admin")
    operator = users.Principal(user_id=op.id, handle=op.handle, role=op.role, verified=True, frozen=False,
                               account_id=op.account_id)
    customers.verify(operator, "benchcard", "bench")
    principal = users.authenticate(session.token)
    transfers.deposit(principal, Money(100_000, "USD"), str(uuid.uuid4()))
    card, _ = cards.create(principal, "bench", str(uuid.uuid4()))
    return principal, card


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100, help="authorizations per variant (default 100)")
    args = parser.parse_args()
    started = time.perf_counter()
    from moto import mock_aws
    with mock_aws():
        import boto3
        from botocore.config import Config

        import localstack
        from chalicelib.config import settings
        from chalicelib.db import base
        from chalicelib.finance import card_network
        from chalicelib.finance.money import Money
        localstack.provision("bench-operator-password")
        s = settings()
        raw = boto3.client("dynamodb", region_name=s.region,
                           config=Config(parameter_validation=False, retries={"mode": "standard", "total_max_attempts": 4}))
        _, card = _person()
        merchant = card_network.Merchant("Bench Shop", "5411", "Portland", "US")
        money = Money(1, "USD")

        def authorize():
            body = {"id": "e" + uuid.uuid4().hex[:20], "card_number": card.number, "exp_month": card.exp_month,
                    "exp_year": card.exp_year, "cvc": card.cvc, "amount": 1, "currency": "USD",
                    "merchant": {"name": merchant.name, "mcc": merchant.mcc, "city": merchant.city,
                                 "country": merchant.country}}
            status, decision = card_network.authorize(body, card.number, card.exp_month, card.exp_year,
                                                      card.cvc, money, merchant)
            if not decision.approved:
                raise RuntimeError(f"declined: {decision}")
            return body["id"]

        captured = {}

        def grab(params=None, model=None, **kwargs):
            captured.setdefault(model.name, []).append(json.loads(json.dumps(params)))

        base.register_hook("provide-client-params.dynamodb", grab)
        try:
            event_id = authorize()
        finally:
            base.unregister_hook("provide-client-params.dynamodb", grab)
        if {op: len(v) for op, v in captured.items()} != EXPECTED:
            raise RuntimeError(f"unexpected requests for one authorization: { {k: len(v) for k, v in captured.items()} }")
        template = json.dumps({"get": captured["BatchGetItem"][0], "tx": captured["TransactWriteItems"][0]})
        items_in_tx = len(captured["TransactWriteItems"][0]["TransactItems"])

        def floor():
            params = _fresh(template, event_id)
            t0 = time.perf_counter()
            c0 = time.process_time()
            raw.batch_get_item(**params["get"])
            raw.transact_write_items(**params["tx"])
            return time.perf_counter() - t0, time.process_time() - c0

        counter = Counter()

        def flock():
            base.register_hook("before-call.dynamodb", counter)
            try:
                t0 = time.perf_counter()
                c0 = time.process_time()
                authorize()
                return time.perf_counter() - t0, time.process_time() - c0
            finally:
                base.unregister_hook("before-call.dynamodb", counter)

        for _ in range(10):  # warm-up
            flock()
            floor()
        counter.calls.clear()
        times = {"flock": [], "floor": []}
        for i in range(args.n):
            order = (("flock", flock), ("floor", floor)) if i % 2 == 0 else (("floor", floor), ("flock", flock))
            for name, run in order:
                times[name].append(run())
        per_auth = {op: n / args.n for op, n in sorted(counter.calls.items())}
        wall = {name: statistics.median(t[0] for t in values) for name, values in times.items()}
        cpu = {name: statistics.median(t[1] for t in values) for name, values in times.items()}
        ratio = wall["flock"] / wall["floor"]
        failures = []
        if per_auth != {op: float(n) for op, n in EXPECTED.items()}:
            failures.append(f"requests per authorization {per_auth} != {EXPECTED}")
        if ratio > TARGET:
            failures.append(f"authorization time {ratio:.2f}x the floor > {TARGET}x")
        say(f"Card authorization: card_network.authorize vs the same BatchGetItem + TransactWriteItems ({items_in_tx} "
            f"items, captured, fresh ids) through plain boto3; in-process moto, interleaved, N={args.n}")
        say(f"   {'variant':10}{'median ms':>10}{'p90 ms':>9}{'CPU ms':>9}")
        for name, values in times.items():
            ordered = sorted(t[0] for t in values)
            say(f"   {name:10}{wall[name] * 1e3:10.2f}{ordered[int(len(ordered) * 0.9)] * 1e3:9.2f}"
                f"{cpu[name] * 1e3:9.2f}")
        say(f"   requests per authorization (flock): {per_auth}")
        say("Summary")
        say(f"   card authorization: {wall['flock'] * 1e3:.2f} ms vs floor {wall['floor'] * 1e3:.2f} ms = {ratio:.2f}x "
            f"median (CPU {cpu['flock'] / cpu['floor']:.2f}x) (target <= {TARGET}x: {'ok' if ratio <= TARGET else 'OVER'}); "
            f"{per_auth.get('BatchGetItem', 0):g} BatchGetItem + {per_auth.get('TransactWriteItems', 0):g} "
            f"TransactWriteItems per authorization")
        say(f"   rules: {'all hold' if not failures else 'BROKEN: ' + ' | '.join(failures)}")
        say(f"   total bench time {time.perf_counter() - started:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    os._exit(status)
