"""Pockets: one per person per currency, opened on first use, in minor units."""
from chalicelib.finance import pockets, reconcile
from tests.unit import fxkit
from tests.unit.fxkit import convert, deposit, key, pocket, quote
from tests.unit.moneykit import assert_frozen, principal

rates = fxkit.rates  # the fixture, for this module


def test_a_pocket_does_not_exist_before_first_use(api, rates):
    api.verified("alice")
    r = pocket(api, "alice", "EUR")
    assert r.status_code == 404 and r.json_body["error"]["code"] == "not_found"
    pockets = api.call("GET", "/v1/wallet/pockets", as_="alice").json_body["data"]
    assert [p["currency"] for p in pockets] == ["USD"]


def test_an_unsupported_currency_is_a_400(api, rates):
    api.verified("alice")
    for path in ("/v1/wallet?currency=BTC", "/v1/wallet/transactions?currency=BTC",
                 "/v1/wallet/statements/2026-03?currency=BTC"):
        r = api.call("GET", path, as_="alice")
        assert r.status_code == 400 and r.json_body["error"]["code"] == "unsupported_currency", (path, r.body)


def test_a_jpy_deposit_opens_a_jpy_pocket_in_whole_yen(api, rates):
    api.verified("alice")
    t = deposit(api, "alice", 12_345, "JPY")
    assert (t["amount"], t["currency"]) == (12_345, "JPY")
    jpy = pocket(api, "alice", "JPY").json_body
    assert (jpy["currency"], jpy["balance"], jpy["spendable"], jpy["credit_limit"]) == ("JPY", 12_345, 12_345, 0)
    assert jpy["apy_bps"] == 0 and jpy["account_number"] == api.wallet("alice")["account_number"]
    assert api.wallet("alice")["balance"] == 0  # the USD account is untouched
    currencies = [p["currency"] for p in api.call("GET", "/v1/wallet/pockets", as_="alice").json_body["data"]]
    assert currencies == ["USD", "JPY"]


def test_eur_pocket_transactions_and_statement(api, rates):
    api.verified("alice")
    deposit(api, "alice", 10_000, "EUR")
    r = api.call("POST", "/v1/wallet/withdrawals", {"amount": 2_550, "currency": "EUR"}, as_="alice", headers=key())
    assert r.status_code == 201, r.body
    entries = api.call("GET", "/v1/wallet/transactions?currency=EUR", as_="alice").json_body["data"]
    assert [(e["amount"], e["currency"]) for e in entries] == [(-2_550, "EUR"), (10_000, "EUR")]
    usd = api.call("GET", "/v1/wallet/transactions", as_="alice").json_body["data"]
    assert usd == []
    s = api.call("GET", "/v1/wallet/statements/2026-03?currency=EUR", as_="alice").json_body
    assert (s["currency"], s["opening_balance"], s["total_in"], s["total_out"], s["closing_balance"]) == \
        ("EUR", 0, 10_000, 2_550, 7_450)
    csv = api.call("GET", "/v1/wallet/statements/2026-03?currency=EUR&format=csv", as_="alice").body
    assert csv.decode().strip().endswith("EUR,7450") if isinstance(csv, bytes) else csv.strip().endswith("EUR,7450")


def test_withdrawing_from_a_pocket_never_opened_is_insufficient_funds(api, rates):
    api.verified("alice")
    r = api.call("POST", "/v1/wallet/withdrawals", {"amount": 100, "currency": "GBP"}, as_="alice", headers=key())
    assert r.status_code == 422 and r.json_body["error"]["code"] == "insufficient_funds"
    assert pocket(api, "alice", "GBP").status_code == 404


def test_a_pocket_cannot_overdraw_and_the_credit_line_stays_on_usd(api, rates):
    api.verified("alice")
    deposit(api, "alice", 1_000, "EUR")
    r = api.call("POST", "/v1/wallet/withdrawals", {"amount": 1_001, "currency": "EUR"}, as_="alice", headers=key())
    assert r.status_code == 422 and r.json_body["error"]["code"] == "insufficient_funds"
    assert pocket(api, "alice", "EUR").json_body["balance"] == 1_000


def test_deposit_limits_count_the_usd_worth(api, rates):
    api.verified("alice")
    # $25,000 is the most one deposit may be: 25,000 USD is 20,000 EUR at 0.80.
    r = api.call("POST", "/v1/wallet/deposits", {"amount": 2_000_001, "currency": "EUR"}, as_="alice", headers=key())
    assert r.status_code == 422 and r.json_body["error"]["code"] == "limit_exceeded"
    deposit(api, "alice", 2_000_000, "EUR")


def test_a_currency_without_a_rate_cannot_be_deposited(api, rates):
    api.verified("alice")
    r = api.call("POST", "/v1/wallet/deposits", {"amount": 100, "currency": "MXN"}, as_="alice", headers=key())
    assert r.status_code == 409 and r.json_body["error"]["code"] == "invalid_state"


def test_the_ledger_check_balances_per_currency(api, rates):
    api.verified("alice")
    deposit(api, "alice", 10_000, "EUR")
    deposit(api, "alice", 5_000, "JPY")
    api.deposit("alice", 3_000)
    q = quote(api, "alice", sell_currency="EUR", buy_currency="JPY", sell_amount=5_000).json_body
    assert convert(api, "alice", q["id"]).status_code == 201
    report = reconcile.reconcile()
    assert report["balanced"], report
    assert set(report["totals"]) >= {"USD", "EUR", "JPY", "GBP"} and not any(report["totals"].values())
    fees = 15  # 0.30% of 5,000, rounded up
    assert report["fx_position"]["EUR"] == 5_000 - fees
    assert report["fx_position"]["JPY"] == -q["buy_amount"]
    check = api.admin("GET", "/v1/admin/ledger/check").json_body
    assert check["balanced"] and check["totals"]["EUR"] == 0


def test_a_fanned_out_reconcile_run_balances_per_currency(api, rates, monkeypatch):
    """On AWS the segments run as SQS messages: the run adds each currency's sum."""
    import dataclasses
    import json

    from chalicelib import aws, jobs
    from chalicelib.api import queue_name
    from chalicelib.config import settings
    from tests.unit.conftest import take_all
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName=queue_name("jobs"))["QueueUrl"]
    monkeypatch.setattr(jobs, "settings", lambda: dataclasses.replace(settings(), jobs_queue_url=url))
    api.verified("alice")
    deposit(api, "alice", 10_000, "EUR")
    deposit(api, "alice", 700, "JPY")
    r = api.admin("POST", "/v1/admin/jobs/reconcile", {})
    assert r.status_code == 202, r.body
    run_path = f"/v1/admin/jobs/reconcile/runs/{r.json_body['run_id']}"
    bodies = take_all(sqs, url)
    total = settings().job_segments
    parts = {s: reconcile.reconcile_segment(s, total)["totals"] for s in range(total)}
    # A segment whose EUR does not sum to zero alone (where the shards fell decides which, if any), kept for last.
    uneven = [b for b in bodies if parts[json.loads(b)["segment"]].get("EUR")]
    last = uneven[:1]
    for body in [b for b in bodies if b not in last] + last:
        if last and body == last[0]:
            run = api.admin("GET", run_path).json_body
            assert run["totals"]["EUR"] == -parts[json.loads(body)["segment"]]["EUR"] and not run["balanced"], run
        event = api.client.events.generate_sqs_event(message_bodies=[body], queue_name=queue_name("jobs"))
        answer = api.client.lambda_.invoke("jobs_worker", event).payload
        assert "errorMessage" not in str(answer), answer
    run = api.admin("GET", run_path).json_body
    assert run["balanced"] is True and run["totals"]["EUR"] == 0 and run["totals"]["JPY"] == 0, run


def test_list_pockets_answers_frozen_records_that_are_what_the_route_sends(api, rates):
    api.verified("alice")
    deposit(api, "alice", 500, "EUR")
    held = pockets.list_pockets(principal("alice").user_id)
    assert [(p.currency, p.balance) for p in held] == [("USD", 0), ("EUR", 500)]
    assert_frozen(held[1], "balance", 0)
    assert api.call("GET", "/v1/wallet/pockets", as_="alice").json_body == {"data": [p.as_json() for p in held]}
