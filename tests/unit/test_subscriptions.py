"""Creator subscriptions (issue 5): a price, a first month charged at once,
renewals by the daily `subscriptions` job (admin endpoint, CLI and schedule
handler alike) exactly once per period, past_due and the end after three
failed days, cancelling at period end, and price changes from the next period.

Business time moves with the test clock (forward only); each test starts
where the module's build left it (TEST_NOW and a few seconds), and the tests
whose outcome depends on the day a subscription starts run over the table
of start dates in tests/unit/dates.py. After each test the books balance."""
import json
import uuid
from datetime import date, datetime, timedelta
from urllib.parse import quote

import pytest

from chalicelib import clock
from chalicelib.config import MINOR_UNITS_MAX
from tests.unit import dates
from tests.unit.conftest import module_stack

USD = "USD"
PRICE = 1_000
FEE = 100
SUBS_TEXT = "For subscribers: the first forty characters show, the rest is behind the wall."


def key():
    return str(uuid.uuid4())


def usd(amount):
    return {"amount": amount, "currency": USD}


def ok(r, status=200):
    assert r.status_code == status, (r.status_code, r.body)
    return r.json_body


def refused(r, status, code, param=None):
    assert r.status_code == status, (r.status_code, r.body)
    assert r.json_body["error"]["code"] == code, r.body
    if param is not None:
        assert r.json_body["error"]["param"] == param, r.body


def books(api):
    return ok(api.admin("GET", "/v1/admin/ledger/check"))


def balances(api, *handles):
    return {h: api.wallet(h)["balance"] for h in handles}


def set_price(api, who, amount):
    return api.call("PUT", "/v1/me/subscription-price", usd(amount) if amount is not None else None,
                    raw=None if amount is not None else "null", as_=who)


def subscribe(api, fan, creator="alice", k=None):
    return api.money("POST", f"/v1/users/{creator}/subscription", None, fan, k or key())


def cancel(api, fan, creator="alice"):
    return api.call("DELETE", f"/v1/users/{creator}/subscription", as_=fan)


def mine(api, fan):
    return ok(api.call("GET", "/v1/me/subscriptions?limit=100", as_=fan))["data"]


def the_sub(api, fan, creator="alice"):
    found = [s for s in mine(api, fan) if s["creator"] == creator]
    assert len(found) == 1, found
    return found[0]


def job(api, as_of=None):
    return ok(api.admin("POST", "/v1/admin/jobs/subscriptions", {"as_of": as_of} if as_of else {}))


def advance(api, days):
    return ok(api.admin("POST", "/v1/admin/test-clock", {"advance_days": days}))["now"]


def parse(iso):
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def advance_past(api, period_end_iso, extra_days=0):
    """Move business time to the day after the period's end (+ extra days),
    so yesterday, the job's default as-of date, is the day the period ends."""
    days = (parse(period_end_iso).date() - clock.now().date()).days + 1 + extra_days
    assert days >= 0
    advance(api, days)


def months_after(start_iso, months):
    """The end of the subscription's `months`th period: calendar months
    from its first day (the anchor), on the anchor's day or the month's last
    day when it is shorter (Jan 31 -> Feb 28 -> Mar 31), at the same time."""
    start = parse(start_iso)
    return clock.iso(datetime.combine(dates.months_after(start.date(), months), start.timetz()))


def sub_entries(api, who):
    data = ok(api.call("GET", "/v1/wallet/transactions?limit=100", as_=who))["data"]
    return [e for e in data if e["kind"] == "subscription"]


def locked_for(api, viewer, post_id):
    return ok(api.call("GET", f"/v1/posts/{post_id}", as_=viewer))["locked"]


def _people(api):
    """alice takes subscriptions at $10.00 a month; bob is a fan with $1,000.00;
    carol is verified with nothing; dave signed up, never verified."""
    for h in ("alice", "bob", "carol"):
        api.verified(h)
    api.signup("dave")
    api.deposit("bob", 100_000)
    ok(set_price(api, "alice", PRICE))


stack, aws = module_stack(_people)


@pytest.fixture
def club(api, stack):
    api.tokens.update(stack[1])
    yield api
    check = books(api)
    assert check["balanced"] is True and check["total"] == 0, check


# The price ------------------------------------------------------------------------------------------------------------

def test_a_creator_sets_changes_and_removes_the_price(club):
    api = club
    assert ok(set_price(api, "alice", 2_500)) == {"subscription_price": usd(2_500)}
    assert ok(set_price(api, "alice", 100_000_00)) == {"subscription_price": usd(100_000_00)}  # the most
    assert ok(set_price(api, "alice", 1)) == {"subscription_price": usd(1)}
    assert ok(set_price(api, "alice", None)) == {"subscription_price": None}
    refused(subscribe(api, "bob"), 422, "not_eligible")
    assert balances(api, "bob") == {"bob": 100_000}


def test_prices_out_of_range_or_malformed_are_400(club):
    api = club
    for amount in (0, -1, -1_000, 100_000_01, MINOR_UNITS_MAX, MINOR_UNITS_MAX + 1, 9.99, 10.0, "1000", True,
                   None, [1000]):
        r = api.call("PUT", "/v1/me/subscription-price", {"amount": amount, "currency": USD}, as_="alice")
        refused(r, 400, "invalid_request", "amount")
    refused(api.call("PUT", "/v1/me/subscription-price", {"amount": 500, "currency": "BTC"}, as_="alice"), 400,
            "unsupported_currency")
    refused(api.call("PUT", "/v1/me/subscription-price", {"amount": 500}, as_="alice"), 400, "invalid_request",
            "currency")
    refused(api.call("PUT", "/v1/me/subscription-price", {"amount": 500, "currency": USD, "x": 1}, as_="alice"), 400,
            "invalid_request")
    for raw in ("", "{", "[]", "500", '"null"', "true", "{}"):
        refused(api.call("PUT", "/v1/me/subscription-price", raw=raw, as_="alice"), 400, "invalid_request")
    refused(api.call("PUT", "/v1/me/subscription-price", usd(500), as_="dave"), 403, "verification_required")
    refused(api.call("PUT", "/v1/me/subscription-price", usd(500)), 401, "unauthenticated")
    # None of that changed the price.
    assert ok(subscribe(api, "bob"), 201)["price"] == usd(PRICE)


# Subscribing ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("start", dates.START_DATES, ids=str)
def test_subscribing_charges_the_first_month_at_once_minus_the_fee(club, start):
    api = club
    dates.pin(start)
    started = clock.iso(clock.now())
    r = subscribe(api, "bob", k="sub-1")
    sub = ok(r, 201)
    assert r.headers.get("Idempotent-Replayed") is None
    assert sub["id"].startswith("sub_")
    assert {k: sub[k] for k in ("creator", "subscriber", "status", "price", "periods_paid",
                                "cancel_at_period_end")} == {
        "creator": "alice", "subscriber": "bob", "status": "active", "price": usd(PRICE), "periods_paid": 1,
        "cancel_at_period_end": False}
    assert started <= sub["current_period_start"] <= clock.iso(clock.now())
    assert sub["current_period_start"][:10] == start.isoformat()
    assert sub["current_period_end"] == months_after(sub["current_period_start"], 1)
    assert balances(api, "alice", "bob") == {"alice": PRICE - FEE, "bob": 100_000 - PRICE}
    assert books(api)["system_accounts"]["fees"] == FEE  # a fresh stack had no fee income
    [fan_entry], [creator_entry] = sub_entries(api, "bob"), sub_entries(api, "alice")
    assert fan_entry["transfer_id"] == creator_entry["transfer_id"]
    assert (fan_entry["amount"], creator_entry["amount"]) == (-PRICE, PRICE - FEE)
    assert mine(api, "bob") == [sub]
    assert mine(api, "alice") == []  # alice subscribes to no one
    # A replay answers the same subscription; another key finds it active already.
    again = subscribe(api, "bob", k="sub-1")
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true", again.body
    assert again.json_body["id"] == sub["id"]
    refused(subscribe(api, "bob"), 409, "already_exists")
    assert balances(api, "alice", "bob") == {"alice": PRICE - FEE, "bob": 100_000 - PRICE}


def test_subscribing_refusals_store_nothing(club):
    api = club
    refused(subscribe(api, "alice"), 422, "self_transfer")
    refused(subscribe(api, "bob", creator="carol"), 422, "not_eligible")  # carol takes no subscriptions
    refused(subscribe(api, "bob", creator="nobody"), 404, "not_found")
    refused(subscribe(api, "bob", creator="x" * 300), 404, "not_found")
    refused(subscribe(api, "dave"), 403, "verification_required")
    refused(subscribe(api, "dave", creator="nobody"), 403, "verification_required")
    refused(subscribe(api, "carol", k="carol-sub"), 422, "insufficient_funds")
    refused(api.call("POST", "/v1/users/alice/subscription", as_="bob"), 400, "idempotency_key_required")
    refused(api.call("POST", "/v1/users/alice/subscription", headers={"Idempotency-Key": key()}), 401,
            "unauthenticated")
    assert mine(api, "carol") == [] and mine(api, "bob") == []
    assert balances(api, "alice", "bob", "carol") == {"alice": 0, "bob": 100_000, "carol": 0}
    # carol's refused key stored nothing: with the money, it subscribes her once.
    api.deposit("carol", PRICE)
    assert ok(subscribe(api, "carol", k="carol-sub"), 201)["status"] == "active"
    assert balances(api, "alice", "carol") == {"alice": PRICE - FEE, "carol": 0}


def test_two_subscribes_racing_charge_once(club, monkeypatch):
    """The racer read "not subscribed" before the first charge landed: the
    charge's condition on the subscription refuses it."""
    from chalicelib.finance import creator
    api = club
    ok(subscribe(api, "bob"), 201)
    monkeypatch.setattr(creator, "_find_subscription", lambda creator_id, fan_id: None)
    refused(subscribe(api, "bob"), 409, "already_exists")
    monkeypatch.undo()
    assert balances(api, "alice", "bob") == {"alice": PRICE - FEE, "bob": 100_000 - PRICE}
    assert the_sub(api, "bob")["periods_paid"] == 1


def test_my_subscriptions_page_with_a_cursor(club):
    api = club
    for h in ("erin", "fay"):
        api.verified(h)
        ok(set_price(api, h, 100))
    for h in ("alice", "erin", "fay"):
        ok(subscribe(api, "bob", creator=h), 201)
    seen, cursor = [], None
    for _ in range(5):
        path = "/v1/me/subscriptions?limit=2" + (f"&cursor={quote(cursor)}" if cursor else "")
        page = ok(api.call("GET", path, as_="bob"))
        assert len(page["data"]) <= 2
        seen += [s["creator"] for s in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == ["alice", "erin", "fay"]
    refused(api.call("GET", "/v1/me/subscriptions?cursor=garbage", as_="bob"), 400, "invalid_request")
    carol_page = ok(api.call("GET", "/v1/me/subscriptions?limit=1", as_="carol"))
    assert carol_page == {"data": [], "next_cursor": None}
    bobs_cursor = ok(api.call("GET", "/v1/me/subscriptions?limit=1", as_="bob"))["next_cursor"]
    refused(api.call("GET", f"/v1/me/subscriptions?cursor={quote(bobs_cursor)}", as_="carol"), 400, "invalid_request")
    refused(api.call("GET", "/v1/me/subscriptions?limit=0", as_="bob"), 400, "invalid_request")
    refused(api.call("GET", "/v1/me/subscriptions?limit=101", as_="bob"), 400, "invalid_request")


# Renewals -------------------------------------------------------------------------------------------------------------

def run_cli():
    import contextlib
    import io

    from chalicelib import cli
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["job", "subscriptions"]) == 0
    return json.loads(out.getvalue())


def run_schedule(api):
    event = api.client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                                resources=[])
    return api.client.lambda_.invoke("job_subscriptions", event).payload


@pytest.mark.parametrize("start", dates.START_DATES, ids=str)
def test_each_job_entry_point_renews_once_per_period(club, start):
    api = club
    dates.pin(start)
    sub = ok(subscribe(api, "bob"), 201)
    assert job(api)["changed"] == 0  # nothing is due yet
    ends = [sub["current_period_end"]]
    for runner in (run_cli, lambda: run_schedule(api), lambda: job(api)):
        advance_past(api, ends[-1])
        summary = runner()
        assert summary["job"] == "subscriptions" and summary["as_of"] == (clock.now().date() - timedelta(days=1)
                                                                          ).isoformat(), summary
        assert summary["changed"] == 1 and summary.get("renewed") == 1, summary
        for again in (run_cli, lambda: run_schedule(api), lambda: job(api)):  # the same day, any door: nothing
            assert again()["changed"] == 0
        now = the_sub(api, "bob")
        assert now["status"] == "active" and now["current_period_start"] == ends[-1]
        assert now["current_period_end"] == months_after(sub["current_period_start"], len(ends) + 1)
        ends.append(now["current_period_end"])
    assert the_sub(api, "bob")["periods_paid"] == 4
    assert balances(api, "alice", "bob") == {"alice": 4 * (PRICE - FEE), "bob": 100_000 - 4 * PRICE}
    assert len(sub_entries(api, "bob")) == 4 and len({e["transfer_id"] for e in sub_entries(api, "bob")}) == 4


def test_the_period_is_due_at_the_end_of_the_day_it_ends(club):
    api = club
    sub = ok(subscribe(api, "bob"), 201)
    end_day = parse(sub["current_period_end"]).date()
    advance_past(api, sub["current_period_end"], extra_days=3)
    assert job(api, (end_day - timedelta(days=1)).isoformat())["changed"] == 0  # not yet due on the day before
    assert the_sub(api, "bob")["periods_paid"] == 1
    summary = job(api, end_day.isoformat())
    assert summary["changed"] == 1 and summary["as_of"] == end_day.isoformat()
    assert job(api, end_day.isoformat())["changed"] == 0
    assert job(api)["changed"] == 0
    assert the_sub(api, "bob")["periods_paid"] == 2


def test_an_as_of_date_in_the_future_charges_nothing_not_yet_due(club):
    api = club
    ok(subscribe(api, "bob"), 201)
    assert job(api, (clock.now().date() + timedelta(days=90)).isoformat())["changed"] == 0
    assert the_sub(api, "bob")["periods_paid"] == 1


@pytest.mark.parametrize("start", dates.START_DATES, ids=str)
def test_missed_days_are_caught_up_one_charge_per_period(club, start):
    api = club
    dates.pin(start)
    sub = ok(subscribe(api, "bob"), 201)
    assert sub["current_period_end"] == months_after(sub["current_period_start"], 1)
    second_end = months_after(sub["current_period_start"], 2)
    third_end = months_after(sub["current_period_start"], 3)
    advance_past(api, second_end)  # the job did not run for two periods
    summary = job(api)
    assert summary["changed"] == 1 and summary["processed"] == 1, summary
    now = the_sub(api, "bob")
    assert now["periods_paid"] == 3 and now["current_period_start"] == second_end
    assert now["current_period_end"] == third_end
    for _ in range(3):
        assert job(api)["changed"] == 0
    assert balances(api, "alice", "bob") == {"alice": 3 * (PRICE - FEE), "bob": 100_000 - 3 * PRICE}
    assert len(sub_entries(api, "alice")) == 3


def test_two_runs_racing_on_one_subscription_charge_it_once(club):
    """Both runs read the subscription before either charged it."""
    from chalicelib.db.users import SubscriptionItem
    from chalicelib.finance import creator
    api = club
    sub = ok(subscribe(api, "bob"), 201)
    advance_past(api, sub["current_period_end"])
    item = next(iter(SubscriptionItem.scan(SubscriptionItem.id == sub["id"])))
    stale = [SubscriptionItem.get(item.pk, item.sk), SubscriptionItem.get(item.pk, item.sk)]
    as_of = clock.now().date() - timedelta(days=1)
    cutoff = clock.iso(clock.now())
    outcomes = [creator.renew(copy, as_of, cutoff) for copy in stale]
    assert outcomes.count("renewed") == 1, outcomes
    assert job(api)["changed"] == 0
    assert the_sub(api, "bob")["periods_paid"] == 2
    assert balances(api, "alice", "bob") == {"alice": 2 * (PRICE - FEE), "bob": 100_000 - 2 * PRICE}


def test_a_renewal_whose_answer_was_lost_charges_once(club, monkeypatch):
    import types

    import botocore.endpoint
    from botocore.exceptions import ReadTimeoutError
    from moto.core.models import botocore_stubber

    from chalicelib.db.base import botocore_client
    api = club
    sub = ok(subscribe(api, "bob"), 201)
    advance_past(api, sub["current_period_end"])
    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=lambda s: None))
    lost = []

    def send(request, event_name, **kwargs):
        response = botocore_stubber(event_name=event_name, request=request, **kwargs)
        if event_name.endswith(".TransactWriteItems") and not lost:
            lost.append(response.status_code)
            raise ReadTimeoutError(endpoint_url=request.url)
        return response
    events = botocore_client().meta.events
    events.unregister("before-send", botocore_stubber)
    events.register("before-send", send)
    try:
        assert job(api)["changed"] == 1
    finally:
        events.unregister("before-send", send)
        events.register("before-send", botocore_stubber)
    assert lost == [200]
    assert job(api)["changed"] == 0
    assert the_sub(api, "bob")["periods_paid"] == 2
    assert balances(api, "alice", "bob") == {"alice": 2 * (PRICE - FEE), "bob": 100_000 - 2 * PRICE}


def test_a_renewal_that_cannot_be_paid_is_past_due_then_ends_after_three_failed_days(club):
    api = club
    sub = ok(subscribe(api, "bob"), 201)
    wall = ok(api.call("POST", "/v1/posts", {"text": SUBS_TEXT, "audience": "subscribers"}, as_="alice"), 201)
    assert locked_for(api, "bob", wall["id"]) is False
    ok(api.money("POST", "/v1/wallet/withdrawals", usd(100_000 - PRICE), "bob", key()), 201)
    before = balances(api, "alice", "bob")
    advance_past(api, sub["current_period_end"])
    for day in (1, 2):
        summary = job(api)
        assert summary["changed"] == 1, summary
        for _ in range(2):  # the same day again: not another failed day
            assert job(api)["changed"] == 0
        now = the_sub(api, "bob")
        assert now["status"] == "past_due" and now["periods_paid"] == 1, (day, now)
        assert locked_for(api, "bob", wall["id"]) is True
        advance(api, 1)
    assert job(api)["changed"] == 1
    assert the_sub(api, "bob")["status"] == "ended"
    advance(api, 1)
    assert job(api)["changed"] == 0 and job(api)["processed"] == 0
    assert locked_for(api, "bob", wall["id"]) is True
    assert balances(api, "alice", "bob") == before
    # Ended, bob may subscribe again: a new first month, from now.
    api.deposit("bob", PRICE)
    again = ok(subscribe(api, "bob"), 201)
    assert again["status"] == "active" and again["id"] == sub["id"]
    assert again["current_period_start"] > sub["current_period_end"]
    assert locked_for(api, "bob", wall["id"]) is False
    assert balances(api, "alice") == {"alice": 2 * (PRICE - FEE)}


def test_a_past_due_subscription_is_renewed_when_the_money_comes(club):
    api = club
    sub = ok(subscribe(api, "bob"), 201)
    ok(api.money("POST", "/v1/wallet/withdrawals", usd(100_000 - PRICE), "bob", key()), 201)
    advance_past(api, sub["current_period_end"])
    job(api)
    assert the_sub(api, "bob")["status"] == "past_due"
    refused(subscribe(api, "bob"), 409, "already_exists")  # it is still a subscription: the job retries it
    api.deposit("bob", PRICE)
    advance(api, 1)
    assert job(api)["changed"] == 1
    now = the_sub(api, "bob")
    # The period paid is the one that was due: it starts where the last one ended.
    assert now["status"] == "active" and now["periods_paid"] == 2
    assert now["current_period_start"] == sub["current_period_end"]
    # The failed days are counted afresh in the next period: one failed day there is not the end.
    assert api.wallet("bob")["balance"] == 0
    advance_past(api, now["current_period_end"])
    job(api)
    assert the_sub(api, "bob")["status"] == "past_due"
    advance(api, 1)
    job(api)
    assert the_sub(api, "bob")["status"] == "past_due"


def test_a_frozen_fans_renewal_fails_like_an_unpaid_one(club):
    api = club
    sub = ok(subscribe(api, "bob"), 201)
    ok(api.admin("POST", "/v1/admin/users/bob/freeze", {"reason": "test"}))
    advance_past(api, sub["current_period_end"])
    assert job(api)["changed"] == 1
    api.login("bob")
    assert the_sub(api, "bob")["status"] == "past_due"
    assert balances(api, "alice") == {"alice": PRICE - FEE}


# Cancelling and prices ------------------------------------------------------------------------------------------------

def test_cancelling_keeps_access_until_the_period_ends_and_charges_no_more(club):
    api = club
    sub = ok(subscribe(api, "bob"), 201)
    wall = ok(api.call("POST", "/v1/posts", {"text": SUBS_TEXT, "audience": "subscribers"}, as_="alice"), 201)
    cancelled = ok(cancel(api, "bob"))
    assert cancelled["status"] == "cancelled" and cancelled["cancel_at_period_end"] is True
    assert cancelled["current_period_end"] == sub["current_period_end"]
    assert ok(cancel(api, "bob"))["status"] == "cancelled"  # again: the same
    assert locked_for(api, "bob", wall["id"]) is False
    timeline_view = [p for p in ok(api.call("GET", "/v1/users/alice/posts", as_="bob"))["data"]
                     if p["id"] == wall["id"]]
    assert timeline_view[0]["locked"] is False
    advance(api, (parse(sub["current_period_end"]).date() - clock.now().date()).days - 1)
    assert job(api)["changed"] == 0
    assert locked_for(api, "bob", wall["id"]) is False  # the day before the end: still paid for
    advance(api, 2)  # past the end; the job has not run yet: access ends with the period all the same
    assert locked_for(api, "bob", wall["id"]) is True
    assert job(api)["changed"] == 1
    assert the_sub(api, "bob")["status"] == "ended"
    assert job(api)["changed"] == 0
    refused(cancel(api, "bob"), 404, "not_found")
    assert balances(api, "alice", "bob") == {"alice": PRICE - FEE, "bob": 100_000 - PRICE}


def test_cancel_refusals(club):
    api = club
    refused(cancel(api, "bob"), 404, "not_found")  # never subscribed
    refused(cancel(api, "bob", creator="nobody"), 404, "not_found")
    refused(cancel(api, "bob", creator="carol"), 404, "not_found")
    refused(api.call("DELETE", "/v1/users/alice/subscription"), 401, "unauthenticated")


def test_resubscribing_within_a_cancelled_period_charges_nothing_until_it_ends(club):
    api = club
    sub = ok(subscribe(api, "bob"), 201)
    ok(cancel(api, "bob"))
    resumed = ok(subscribe(api, "bob"), 201)
    assert resumed["status"] == "active" and resumed["cancel_at_period_end"] is False
    assert resumed["current_period_end"] == sub["current_period_end"] and resumed["periods_paid"] == 1
    assert balances(api, "bob") == {"bob": 100_000 - PRICE}
    advance_past(api, sub["current_period_end"])
    assert job(api)["changed"] == 1
    assert the_sub(api, "bob")["periods_paid"] == 2
    assert balances(api, "bob") == {"bob": 100_000 - 2 * PRICE}


def test_a_cancel_racing_a_renewal_is_not_undone(club):
    """The job read the subscription (active), then bob cancelled, then the
    job charged: the cancel must win — no charge, and it ends."""
    from chalicelib.db.users import SubscriptionItem
    from chalicelib.finance import creator
    api = club
    sub = ok(subscribe(api, "bob"), 201)
    advance_past(api, sub["current_period_end"])
    item = next(iter(SubscriptionItem.scan(SubscriptionItem.id == sub["id"])))
    stale = SubscriptionItem.get(item.pk, item.sk)
    ok(cancel(api, "bob"))
    creator.renew(stale, clock.now().date() - timedelta(days=1), clock.iso(clock.now()))
    assert the_sub(api, "bob")["status"] in ("cancelled", "ended")
    job(api)
    assert the_sub(api, "bob")["status"] == "ended"
    assert balances(api, "alice", "bob") == {"alice": PRICE - FEE, "bob": 100_000 - PRICE}


def test_a_price_change_applies_from_the_next_period(club):
    api = club
    api.deposit("carol", 10_000)
    sub = ok(subscribe(api, "bob"), 201)
    ok(set_price(api, "alice", 2_500))
    assert balances(api, "bob") == {"bob": 100_000 - PRICE}  # this period stays paid at the old price
    assert the_sub(api, "bob")["price"] == usd(PRICE)
    assert ok(subscribe(api, "carol"), 201)["price"] == usd(2_500)  # new subscribers pay the new price
    advance_past(api, sub["current_period_end"])
    job(api)
    renewed = the_sub(api, "bob")
    assert renewed["price"] == usd(2_500) and renewed["periods_paid"] == 2
    assert [e["amount"] for e in sub_entries(api, "bob")] == [-2_500, -PRICE]
    # carol subscribed the same day, so her second month came due too.
    assert [e["amount"] for e in sub_entries(api, "carol")] == [-2_500, -2_500]
    assert balances(api, "alice") == {"alice": (PRICE - FEE) + 3 * (2_500 - 250)}


def test_a_creator_who_stops_taking_subscriptions_is_renewed_no_more(club):
    api = club
    sub = ok(subscribe(api, "bob"), 201)
    wall = ok(api.call("POST", "/v1/posts", {"text": SUBS_TEXT, "audience": "subscribers"}, as_="alice"), 201)
    ok(set_price(api, "alice", None))
    assert locked_for(api, "bob", wall["id"]) is False  # the paid month goes on
    advance_past(api, sub["current_period_end"])
    assert job(api)["changed"] == 1
    assert the_sub(api, "bob")["status"] == "ended"
    assert locked_for(api, "bob", wall["id"]) is True
    assert balances(api, "alice", "bob") == {"alice": PRICE - FEE, "bob": 100_000 - PRICE}


def test_periods_are_calendar_months_anchored_to_the_first_day(club):
    """A subscription that starts on the 31st renews on the last day of a
    shorter month, and on the 31st again after it."""
    api = club
    year = clock.now().year + 1
    ok(api.admin("POST", "/v1/admin/test-clock", {"now": f"{year}-01-31T12:00:00Z"}))
    sub = ok(subscribe(api, "bob"), 201)
    last_of_february = (date(year, 3, 1) - timedelta(days=1)).day
    assert sub["current_period_end"][:13] == f"{year}-02-{last_of_february}T12"
    advance_past(api, sub["current_period_end"])
    assert job(api)["changed"] == 1
    assert the_sub(api, "bob")["current_period_end"][:13] == f"{year}-03-31T12"
