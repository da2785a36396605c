"""Section 3, checks: time per paid presentment (`checks.present`, the
service the signed route calls) against its floor, the same BatchGetItem
and TransactWriteItems (captured from one presentment, replayed with fresh
ids on another written check) sent with plain boto3, interleaved.
"""
import json
import re
import statistics
import time
import uuid

from figures import TARGET, ms, pct, say, verdict

_IDS = re.compile(r"\b(?:tr|ent)_[0-9a-z]{26}\b")
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _fresh(template: str, swaps: dict) -> dict:
    text = template
    for old, new in swaps.items():
        text = text.replace(old, new)
    for old in sorted(set(_IDS.findall(template))):
        prefix = old.split("_", 1)[0]
        text = text.replace(old, prefix + "_" + uuid.uuid4().hex[:26].translate(str.maketrans("ilou", "jkmn")))
    return json.loads(text)


def presentment_time(tokens, n):
    """(ratio, median ms, floor median ms, p90 ms, floor p90 ms) of a paid presentment."""
    # Imported here, as in sections 2 and 3: the app's settings come from the environment start_stack() sets.
    import boto3
    from botocore.config import Config

    from chalicelib.config import settings
    from chalicelib.db import base
    from chalicelib.finance import checks
    from chalicelib.finance.money import Money
    from chalicelib.identity.users import authenticate

    s = settings()
    raw = boto3.client("dynamodb", region_name=s.region, endpoint_url=s.dynamodb_endpoint,
                       config=Config(parameter_validation=False, retries={"mode": "standard", "total_max_attempts": 4}))
    principal = authenticate(tokens["alice"])
    rounds = max(10, min(n, 100))
    written = [checks.write(principal, "bench payee", Money(1, "USD"), "", str(uuid.uuid4()))[0]
               for _ in range(2 * rounds + 1)]

    def present(check, event_id):
        body = {"id": event_id, "routing": s.routing_number, "account": check.micr.account,
                "serial": check.micr.serial, "amount": 1, "currency": "USD"}
        presented = checks.Presentment(body["routing"], body["account"], body["serial"], Money(1, "USD"))
        status, answer = checks.present(body, presented)
        if answer.decision != "paid":
            raise RuntimeError(f"bench presentment not paid: {answer}")

    captured = {}

    def grab(params=None, model=None, **kwargs):
        captured.setdefault(model.name, []).append(json.loads(json.dumps(params)))

    first, first_event = written[0], "bench-evt-" + uuid.uuid4().hex
    base.register_hook("provide-client-params.dynamodb", grab)
    try:
        present(first, first_event)
    finally:
        base.unregister_hook("provide-client-params.dynamodb", grab)
    if sorted(captured) != ["BatchGetItem", "TransactWriteItems"]:
        raise RuntimeError(f"unexpected requests for one presentment: { {k: len(v) for k, v in captured.items()} }")
    read_template = json.dumps(captured["BatchGetItem"][0])
    write_template = json.dumps(captured["TransactWriteItems"][0])

    times = {"flock present": [], "floor: BatchGet+TWI": []}
    app_checks, floor_checks = written[1::2], written[2::2]
    for i in range(rounds):
        order = list(times) if i % 2 == 0 else list(reversed(list(times)))
        for name in order:
            event_id = "bench-evt-" + uuid.uuid4().hex
            if name == "flock present":
                t0 = time.perf_counter()
                present(app_checks[i], event_id)
            else:
                swaps = {first.id: floor_checks[i].id, first_event: event_id}
                read, write = _fresh(read_template, swaps), _fresh(write_template, swaps)
                t0 = time.perf_counter()
                raw.batch_get_item(**read)
                raw.transact_write_items(**write)
            times[name].append(time.perf_counter() - t0)
    floor_med, floor_p90 = statistics.median(times["floor: BatchGet+TWI"]), pct(times["floor: BatchGet+TWI"], 90)
    med, p90 = statistics.median(times["flock present"]), pct(times["flock present"], 90)
    items = len(captured["TransactWriteItems"][0]["TransactItems"])
    say(f"3c. Time per paid check presentment: checks.present vs its BatchGetItem + TransactWriteItems ({items} items, "
        f"captured, fresh ids, another check) through plain boto3; N={rounds}, interleaved")
    say(f"   flock present {ms(med):.2f} ms (p90 {ms(p90):.2f}) vs floor {ms(floor_med):.2f} ms (p90 {ms(floor_p90):.2f}) "
        f"= {med / floor_med:.2f}x median  target <= {TARGET}x: {verdict(med / floor_med)}")
    say()
    return med / floor_med, ms(med), ms(floor_med), ms(p90), ms(floor_p90)
