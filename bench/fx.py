"""Section 7: a cross-currency transfer (API.md, Money in other currencies).

On the stack sections 2 and 3 share (alice and bob made by section 2):
DynamoDB requests per cross-currency transfer, counted by the client hook
(rule: one TransactWriteItems and at most two reads, as a USD transfer),
and the time of `fx.send` against the same TransactWriteItems — captured
from the ledger, replayed with fresh ids through plain boto3 — interleaved
in rotating order. The rates come from the process's cache, as in a warm
Lambda; bob's EUR pocket is opened by the warm-up, as in the steady state.
"""
import json
import statistics
import time
import uuid

from figures import TARGET, ms, pct, say, verdict
from transfer_time import _ID, _fresh

RATES = {"EUR": "0.80", "JPY": "150", "GBP": "0.75"}


def fx_transfer(tokens, n):
    """Returns (ratio of medians, failures)."""
    # Imported here: the app's settings come from the environment start_stack() sets.
    import boto3
    from botocore.config import Config

    from chalicelib.config import settings
    from chalicelib.db import base
    from chalicelib.db.balances import AccountItem
    from chalicelib.finance import fx, fx_rates
    from chalicelib.finance.money import Money
    from chalicelib.identity import users
    from chalicelib.identity.users import Principal, authenticate

    s = settings()
    raw = boto3.client("dynamodb", region_name=s.region, endpoint_url=s.dynamodb_endpoint,
                       config=Config(parameter_validation=False, retries={"mode": "standard", "total_max_attempts": 4}))
    op = users.find_by_handle("admin")
    fx_rates.set_rates(Principal(op.id, op.handle, op.role, True, False, None), "USD", RATES, "bench")
    alice = authenticate(tokens["alice"])
    amount = Money(200, "USD")  # $2.00: 1 cent of fee, 1.58 EUR delivered

    def send():
        fx.send(alice, "bob", amount, "EUR", "bench", str(uuid.uuid4()))

    send()  # warm: the rates cache, bob's EUR pocket
    counts, captured = {}, {}

    def count(model=None, **kwargs):
        counts[model.name] = counts.get(model.name, 0) + 1

    def grab(params=None, model=None, **kwargs):
        captured.setdefault(model.name, []).append(json.loads(json.dumps(params)))

    base.register_hook("before-call.dynamodb", count)
    base.register_hook("provide-client-params.dynamodb", grab)
    try:
        send()
    finally:
        base.unregister_hook("before-call.dynamodb", count)
        base.unregister_hook("provide-client-params.dynamodb", grab)
    reads = sum(v for k, v in counts.items() if k in ("GetItem", "BatchGetItem", "Query", "Scan"))
    failures = []
    if counts.get("TransactWriteItems") != 1 or reads > 2 or sum(counts.values()) - reads != 1:
        failures.append(f"cross-currency transfer: {counts} (rule: TWI = 1, reads <= 2, no other write)")
    template = json.dumps(captured["TransactWriteItems"][0])
    template_ids = sorted(set(_ID.findall(template)))
    items = len(captured["TransactWriteItems"][0]["TransactItems"])

    def floor():
        raw.transact_write_items(**_fresh(template, template_ids))

    times = {"fx.send": [], "floor: TWI": []}
    runs = {"fx.send": send, "floor: TWI": floor}
    balance_before = int(AccountItem.find(alice.account_id).balance)
    for i in range(n):
        names = list(times)[i % 2:] + list(times)[:i % 2]
        for name in names:
            t0 = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - t0)
    moved = balance_before - int(AccountItem.find(alice.account_id).balance)
    if moved != 2 * n * amount.amount_cents:
        failures.append(f"cross-currency transfer: alice's balance fell by {moved}, expected {2 * n * 200}")
    app_med, floor_med = statistics.median(times["fx.send"]), statistics.median(times["floor: TWI"])
    ratio = app_med / floor_med
    say(f"7. Cross-currency transfer (USD -> EUR, {items}-item transaction): requests {dict(sorted(counts.items()))} "
        f"(rule: TWI = 1, reads <= 2: {'ok' if not failures else 'BROKEN'})")
    say(f"   N={n} interleaved: fx.send median {ms(app_med):.2f} ms (p90 {ms(pct(times['fx.send'], 90)):.2f}), "
        f"floor (same TWI, boto3) {ms(floor_med):.2f} ms (p90 {ms(pct(times['floor: TWI'], 90)):.2f}): "
        f"{ratio:.2f}x, target <= {TARGET}x: {verdict(ratio)}")
    say()
    return ratio, failures
