"""Section 3: time per P2P transfer.

Through the service layer (`transfers.send`) against a LockedMotoServer on
127.0.0.1, against the same TransactWriteItems (captured from the ledger,
replayed with fresh ids) sent with plain boto3, interleaved, at a table size
held constant, at two sizes.
"""
import json
import random
import re
import statistics
import time
import uuid

from dynamo_calls import Calls
from figures import TARGET, ms, pct, say, verdict

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
    # Imported here, as in section 2: the app's settings come from the environment start_stack() sets.
    import boto3
    from botocore.config import Config

    from chalicelib.config import settings
    from chalicelib.db import base, warm
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

    # A warm Lambda reads the payee's credit-shard count once a business
    # minute: start cold, so the captured send has that read for the floor.
    warm.clear_all()
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
