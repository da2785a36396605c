"""Regressions of the defects an outside attack found on main (issue 12,
item 7), each as the attacker met it: over HTTP where a client can reach
it, at the service where only a race or a job can."""
import io
import json

import pytest

from chalicelib import cli
from chalicelib.finance.accounts import SYSTEM_ACCOUNTS
from tests.conftest import PASSWORD


def error_of(r, status, code):
    assert r.status_code == status, (r.status_code, r.body)
    assert r.json_body["error"]["code"] == code, r.json_body
    return r.json_body["error"]


# Impersonating the bank --------------------------------------------------------------------

@pytest.mark.parametrize("handle", [*(n for n in SYSTEM_ACCOUNTS if len(n) <= 15), "EXTERNAL", "Fees", "Card_Settlement", "admin", "ADMIN_1",
                                    "flock", "FlockBank", "flock_support", "support", "Security", "bank"])
def test_nobody_signs_up_as_a_system_account_or_the_staff(api, handle):
    r = api.call("POST", "/v1/auth/signup", {"handle": handle, "password": PASSWORD})
    assert error_of(r, 409, "handle_taken")["param"] == "handle"


def test_every_system_account_name_is_reserved_whatever_its_case():
    from chalicelib.identity.reserved import is_reserved
    assert all(is_reserved(n) and is_reserved(n.upper()) for n in SYSTEM_ACCOUNTS)


def test_a_payment_from_a_person_never_reads_like_one_from_the_bank(api):
    """The attack: @external paid someone, whose transactions then showed a
    'bank deposit'. The handle is refused, and ordinary names still work."""
    error_of(api.call("POST", "/v1/auth/signup", {"handle": "external", "password": PASSWORD}), 409, "handle_taken")
    api.verified("riverbank_fan")
    api.verified("badminton")
    api.deposit("riverbank_fan", 5_000)
    r = api.money("POST", "/v1/transfers", {"to": "badminton", "amount": 100, "currency": "USD"}, "riverbank_fan", "k1")
    assert r.status_code == 201, r.body
    seen = api.call("GET", "/v1/wallet/transactions", as_="badminton").json_body["data"]
    assert [e["counterparty"] for e in seen] == ["riverbank_fan"]


def test_operators_may_still_be_created_with_a_reserved_name(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-operator-password\n"))
    assert cli.main(["create-admin", "security"]) == 0
    assert json.loads(capsys.readouterr().out)["role"] == "admin"


# What a post's video_url and an admin's reason may hold ---------------------------------------

@pytest.mark.parametrize("url", ["https://cdn.example/v\u0000.mp4", "https://cdn.example/\u202egpj.mp4",
                                 "https://cdn.example/a\u200bb.mp4", "https://\u200bcdn.example/v.mp4",
                                 "https://cdn.example/v.mp4\ufeff", "https://cdn.example/a\u3164b.mp4",
                                 "http://cdn.example/v.mp4", "https://", "https:///v.mp4",
                                 "https://bank.example@evil.example/v.mp4", "javascript:alert(1)"])
def test_a_video_url_is_a_plain_https_url(api, url):
    api.signup("poster")
    r = api.call("POST", "/v1/posts", {"text": "watch this", "video_url": url}, as_="poster")
    assert error_of(r, 400, "invalid_request")["param"] == "video_url"
    assert api.call("GET", "/v1/users/poster/posts", as_="poster").json_body["data"] == []


def test_a_good_video_url_is_kept_as_given(api):
    api.signup("poster")
    url = "https://cdn.example/videos/%E2%80%AE/clip.mp4?t=1&q=caf%C3%A9"
    r = api.call("POST", "/v1/posts", {"text": "watch this", "video_url": url}, as_="poster")
    assert r.status_code == 201 and r.json_body["video_url"] == url


@pytest.mark.parametrize("path,method,body", [
    ("/v1/admin/rates", "PUT", {"apy_bps": 400, "overdraft_apr_bps": 1500, "effective_date": "2026-04-01"}),
    ("/v1/admin/users/target/verify", "POST", {}),
    ("/v1/admin/users/target/freeze", "POST", {}),
    ("/v1/admin/users/target/unfreeze", "POST", {}),
    ("/v1/admin/users/target/credit-limit", "PUT", {"credit_limit": 0}),
])
def test_no_admin_reason_holds_a_nul(api, path, method, body):
    api.signup("target")
    r = api.admin(method, path, {**body, "reason": "ticket 7\u0000; drop the audit"})
    assert error_of(r, 400, "invalid_request")["param"] == "reason"
    assert api.admin("GET", "/v1/admin/audit").json_body["data"] == []


# Every money route refuses the unverified ---------------------------------------------------

def test_subscriptions_are_money_routes_for_the_unverified_too(api):
    api.verified("creator")
    api.signup("lurker")
    assert api.call("PUT", "/v1/me/subscription-price", {"amount": 500, "currency": "USD"},
                    as_="creator").status_code == 200
    error_of(api.call("GET", "/v1/me/subscriptions", as_="lurker"), 403, "verification_required")
    error_of(api.call("DELETE", "/v1/users/creator/subscription", as_="lurker"), 403, "verification_required")
    error_of(api.call("DELETE", "/v1/users/nobody_here/subscription", as_="lurker"), 403, "verification_required")


# The ledger ranks every refusal it can raise ----------------------------------------------------

def test_a_fan_who_loses_a_subscribe_race_with_little_money_left_hears_already_exists(api, monkeypatch):
    """Two subscribes at once: the first charges 5.00 and leaves 3.00; the
    second read no subscription yet, and its transaction fails twice, on
    the subscription (409) and on the funds (422). 409 comes first."""
    from chalicelib.finance import creator
    api.verified("star")
    api.verified("fan")
    api.call("PUT", "/v1/me/subscription-price", {"amount": 500, "currency": "USD"}, as_="star")
    api.deposit("fan", 800)
    assert api.money("POST", "/v1/users/star/subscription", None, "fan", "first").status_code == 201
    monkeypatch.setattr(creator, "_find_subscription", lambda creator_id, fan_id: None)  # read before the first landed
    error_of(api.money("POST", "/v1/users/star/subscription", None, "fan", "second"), 409, "already_exists")
    assert api.wallet("fan")["balance"] == 300


def test_every_refusal_the_ledger_raises_is_ranked_409_before_422():
    from chalicelib import errors
    from chalicelib.finance import ledger
    found = [errors.InsufficientFunds(), errors.Conflict(), errors.LimitExceeded(), errors.CardDeclined()]
    assert isinstance(min(found, key=ledger._rank), errors.Conflict)
    found = [errors.InsufficientFunds(), errors.CardDeclined(), errors.NotFound()]
    assert isinstance(min(found, key=ledger._rank), errors.NotFound)
    for refusal in (errors.Conflict, errors.IdempotencyKeyReused, errors.CardDeclined, errors.VerificationRequired):
        assert ledger._rank(refusal()) < len(ledger.REFUSAL_ORDER), refusal


# Subscribers-only posts: no unlock sells or claims what the reader will not see ------------------

def _post(api, author, **fields):
    r = api.call("POST", "/v1/posts", {"text": "the whole story, only for the people who pay for it", **fields},
                 as_=author)
    assert r.status_code == 201, r.body
    return r.json_body["id"]


def _seen(api, post_id, viewer):
    """(locked, text) of the post as `viewer` sees it on the post, the author's page and the timeline."""
    one = api.call("GET", f"/v1/posts/{post_id}", as_=viewer).json_body
    page = [p for p in api.call("GET", "/v1/users/star/posts", as_=viewer).json_body["data"] if p["id"] == post_id]
    assert page == [one]
    return one["locked"], one["text"]


@pytest.fixture
def creator_and_fan(api):
    api.verified("star")
    api.verified("fan")
    api.call("PUT", "/v1/me/subscription-price", {"amount": 500, "currency": "USD"}, as_="star")
    api.deposit("fan", 100_000)
    return api


def test_a_non_subscriber_cannot_buy_a_priced_subscribers_only_post(creator_and_fan):
    api = creator_and_fan
    post_id = _post(api, "star", price={"amount": 250, "currency": "USD"}, audience="subscribers")
    error_of(api.money("POST", f"/v1/posts/{post_id}/unlock", None, "fan", "u1"), 403, "forbidden")
    assert api.wallet("fan")["balance"] == 100_000  # nothing moved
    assert api.wallet("star")["balance"] == 0
    assert _seen(api, post_id, "fan")[0] is True
    # Once subscribed, the fan may buy it, and then sees it everywhere.
    assert api.money("POST", "/v1/users/star/subscription", None, "fan", "s1").status_code == 201
    r = api.money("POST", f"/v1/posts/{post_id}/unlock", None, "fan", "u2")
    assert r.status_code == 201 and r.json_body["amount"] == 250
    assert api.wallet("fan")["balance"] == 100_000 - 500 - 250
    assert _seen(api, post_id, "fan") == (False, "the whole story, only for the people who pay for it")


def test_an_unlock_of_a_free_subscribers_only_post_never_says_unlocked_when_it_is_not(creator_and_fan):
    api = creator_and_fan
    post_id = _post(api, "star", audience="subscribers")
    error_of(api.money("POST", f"/v1/posts/{post_id}/unlock", None, "fan", "u1"), 403, "forbidden")
    assert _seen(api, post_id, "fan")[0] is True
    api.money("POST", "/v1/users/star/subscription", None, "fan", "s1")
    r = api.money("POST", f"/v1/posts/{post_id}/unlock", None, "fan", "u2")
    assert r.status_code == 200 and r.json_body["unlocked"] is True and r.json_body["charged"] is False
    assert _seen(api, post_id, "fan")[0] is False
    assert api.wallet("fan")["balance"] == 100_000 - 500


# A retry learns what its first try did, whatever became of the resource -------------------------

def test_an_unlock_retried_after_the_post_was_deleted_answers_the_first_charge(creator_and_fan):
    api = creator_and_fan
    post_id = _post(api, "star", price={"amount": 250, "currency": "USD"})
    first = api.money("POST", f"/v1/posts/{post_id}/unlock", None, "fan", "unlock-1")
    assert first.status_code == 201
    assert api.call("DELETE", f"/v1/posts/{post_id}", as_="star").status_code == 204
    again = api.money("POST", f"/v1/posts/{post_id}/unlock", None, "fan", "unlock-1")
    assert (again.status_code, again.json_body) == (201, first.json_body)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert api.wallet("fan")["balance"] == 100_000 - 250  # charged once
    error_of(api.money("POST", f"/v1/posts/{post_id}/unlock", None, "fan", "unlock-2"), 404, "not_found")


def test_a_tip_retried_after_the_post_was_deleted_answers_the_first_tip(creator_and_fan):
    api = creator_and_fan
    post_id = _post(api, "star")
    body = {"amount": 300, "currency": "USD"}
    first = api.money("POST", f"/v1/posts/{post_id}/tips", body, "fan", "tip-1")
    assert first.status_code == 201
    api.call("DELETE", f"/v1/posts/{post_id}", as_="star")
    again = api.money("POST", f"/v1/posts/{post_id}/tips", body, "fan", "tip-1")
    assert (again.status_code, again.json_body, again.headers["Idempotent-Replayed"]) == (201, first.json_body, "true")
    error_of(api.money("POST", f"/v1/posts/{post_id}/tips", {**body, "amount": 301}, "fan", "tip-1"),
             409, "idempotency_key_reused")
    assert api.wallet("fan")["balance"] == 100_000 - 300


def test_a_subscribe_retried_after_the_price_was_removed_answers_the_first_charge(creator_and_fan):
    api = creator_and_fan
    first = api.money("POST", "/v1/users/star/subscription", None, "fan", "sub-1")
    assert first.status_code == 201
    api.call("PUT", "/v1/me/subscription-price", None, as_="star", raw="null")
    again = api.money("POST", "/v1/users/star/subscription", None, "fan", "sub-1")
    assert (again.status_code, again.json_body["id"], again.headers["Idempotent-Replayed"]) == \
        (201, first.json_body["id"], "true")
    assert api.wallet("fan")["balance"] == 100_000 - 500
    error_of(api.money("POST", "/v1/users/star/subscription", None, "fan", "sub-2"), 422, "not_eligible")


# A job's summary counts what that run changed ----------------------------------------------------

def test_a_posting_run_that_lost_every_race_reports_nothing_changed(api, monkeypatch):
    """Six runs at once each reported every account changed. Here the second
    run works from copies of the accounts read before the first posted (as a
    concurrent run does): it posts nothing, and says so."""
    from datetime import datetime, timezone

    from chalicelib import clock, jobs
    from chalicelib.config import settings
    for handle in ("ann", "ben"):
        api.verified(handle)
        api.deposit(handle, 1_000_000)
    clock.pin(datetime(2026, 4, 2, 9, 0, tzinfo=timezone.utc))
    assert api.admin("POST", "/v1/admin/jobs/accrue-interest").json_body["changed"] == 2
    segments = settings().job_segments
    read_before = {segment: list(jobs._accounts(segment, segments)) for segment in range(segments)}
    first = api.admin("POST", "/v1/admin/jobs/post-interest").json_body
    assert (first["processed"], first["changed"]) == (2, 2)
    monkeypatch.setattr(jobs, "_accounts", lambda segment, total: read_before[segment])
    late = jobs.run("post-interest")
    assert (late.processed, late.changed) == (2, 0)
    for handle in ("ann", "ben"):
        seen = api.call("GET", "/v1/wallet/transactions", as_=handle).json_body["data"]
        assert [e["kind"] for e in seen].count("interest") == 1


def test_a_subscriptions_run_that_finds_the_ending_done_reports_nothing_changed(api, monkeypatch):
    """A cancelled subscription ends at its period's end; a second run
    working from the copy read before the first ended it changes nothing."""
    from datetime import datetime, timezone

    from chalicelib import clock, jobs
    from chalicelib.db.users import SubscriptionItem
    from chalicelib.finance import creator
    api.verified("star")
    api.verified("fan")
    api.call("PUT", "/v1/me/subscription-price", {"amount": 500, "currency": "USD"}, as_="star")
    api.deposit("fan", 10_000)
    api.money("POST", "/v1/users/star/subscription", None, "fan", "s1")
    assert api.call("DELETE", "/v1/users/star/subscription", as_="fan").status_code == 200
    clock.pin(datetime(2026, 4, 12, 9, 0, tzinfo=timezone.utc))
    stale = [s for s in SubscriptionItem.scan() if s.fan_handle == "fan"]
    first = jobs.run("subscriptions")
    assert (first.processed, first.changed) == (1, 1)
    monkeypatch.setattr(creator, "_find_subscription", lambda creator_id, fan_id: stale[0])
    assert creator.renew(stale[0], clock.now().date(), clock.iso(clock.now())) == "unchanged"


# Two admin calls were a local outage: a long catch-up runs in bounded memory and time -----------

def test_the_local_aws_keeps_no_copy_of_a_table_a_transaction_made():
    """moto copies every table a TransactWriteItems touches (to roll back
    with) and kept each copy for good: the dev server grew to gigabytes over
    one long posting run. The local AWS Flock runs (scripts/localstack.py)
    lets them go after each request."""
    import gc

    import boto3
    import localstack
    from moto.dynamodb.models.table import Table

    def tables_alive():
        gc.collect()
        return sum(isinstance(o, Table) for o in gc.get_objects())

    server = localstack.LockedMotoServer().start()
    try:
        client = boto3.client("dynamodb", endpoint_url=server.url, region_name="us-east-1")
        client.create_table(TableName="scratch", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                            BillingMode="PAY_PER_REQUEST")
        client.batch_write_item(RequestItems={"scratch": [
            {"PutRequest": {"Item": {"pk": {"S": f"item-{i}"}, "n": {"N": "0"}}}} for i in range(25)]})
        before = tables_alive()
        for n in range(20):
            client.transact_write_items(TransactItems=[{"Update": {
                "TableName": "scratch", "Key": {"pk": {"S": "item-0"}}, "UpdateExpression": "SET n = :n",
                "ExpressionAttributeValues": {":n": {"N": str(n)}}}}])
        assert tables_alive() == before  # each transaction kept a whole copy of the table
    finally:
        server.stop()


def _interest_entries(api, handle):
    seen = api.call("GET", "/v1/wallet/transactions?limit=100", as_=handle).json_body["data"]
    return [e for e in seen if e["kind"] == "interest"]


def test_a_year_of_postings_is_split_over_runs_of_bounded_size(api, monkeypatch):
    from datetime import datetime, timezone

    from chalicelib import clock
    from chalicelib.finance import interest, ledger
    monkeypatch.setattr(interest, "POSTING_MONTHS_PER_RUN_MAX", 5)
    for handle in ("ann", "ben"):
        api.verified(handle)
        api.deposit(handle, 2_000_000)
    clock.pin(datetime(2027, 3, 2, 9, 0, tzinfo=timezone.utc))  # March 2026 .. February 2027 ended: 12 months
    assert api.admin("POST", "/v1/admin/jobs/accrue-interest").json_body["changed"] == 2
    movements = []
    real_transfer = ledger.transfer
    monkeypatch.setattr(ledger, "transfer", lambda m, hold=None: movements.append(m) or real_transfer(m, hold))
    runs = []
    for _ in range(4):
        movements.clear()
        summary = api.admin("POST", "/v1/admin/jobs/post-interest").json_body
        runs.append((summary["changed"], summary["behind"], len(movements)))
    assert runs == [(2, 2, 10), (2, 2, 10), (2, 0, 4), (0, 0, 0)]
    for handle in ("ann", "ben"):
        assert len(_interest_entries(api, handle)) == 12
    assert api.admin("GET", "/v1/admin/ledger/check").json_body["balanced"] is True


def test_a_decade_moved_by_the_test_clock_costs_one_ordinary_run(api, monkeypatch):
    """+3650 days, then accrue-interest and post-interest: each run does a
    bounded share (a decade of accrual, two years of postings per account),
    says how many accounts are still behind, and answers in seconds."""
    import time

    from chalicelib.finance import interest, ledger
    api.verified("saver")
    api.deposit("saver", 1_000_000)
    assert api.admin("POST", "/v1/admin/test-clock", {"advance_days": 3650}).status_code == 200
    movements = []
    real_transfer = ledger.transfer
    monkeypatch.setattr(ledger, "transfer", lambda m, hold=None: movements.append(m) or real_transfer(m, hold))
    started = time.monotonic()
    assert api.admin("POST", "/v1/admin/jobs/accrue-interest").json_body["changed"] == 1
    summary = api.admin("POST", "/v1/admin/jobs/post-interest").json_body
    elapsed_s = time.monotonic() - started
    assert (summary["changed"], summary["behind"]) == (1, 1)
    assert len(movements) == len(_interest_entries(api, "saver")) == interest.POSTING_MONTHS_PER_RUN_MAX
    assert elapsed_s < 60  # ~5 s on an idle machine; the work itself is bounded above


# A month's interest is valued on its last day ------------------------------------------------------

def _statement(api, handle, month):
    r = api.call("GET", f"/v1/wallet/statements/{month}", as_=handle)
    assert r.status_code == 200, r.body
    return r.json_body


def test_decembers_interest_posted_on_january_2_is_on_decembers_statement(api):
    """Posted on 2 January (a deposit already made on the 1st), December's
    interest is valued 31 December: December's statement earns it, every
    month closes with what the next opens with, and January's statement
    closes at the balance."""
    from datetime import datetime, timezone

    from chalicelib import clock
    api.verified("saver")
    api.deposit("saver", 1_000_000)  # 10 March 2026
    clock.pin(datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    api.admin("POST", "/v1/admin/jobs/post-interest")  # March to November, on 1 December
    clock.pin(datetime(2027, 1, 1, 10, 0, tzinfo=timezone.utc))
    api.deposit("saver", 5_000)
    clock.pin(datetime(2027, 1, 2, 9, 0, tzinfo=timezone.utc))
    assert api.admin("POST", "/v1/admin/jobs/post-interest").json_body["changed"] == 1
    interest = {e["created_at"][:7]: e for e in _interest_entries(api, "saver")}
    assert interest["2026-12"]["created_at"] == "2026-12-31T23:59:59.999Z"
    assert sorted(interest) == [f"2026-{m:02d}" for m in range(3, 13)]
    months = [f"2026-{m:02d}" for m in range(3, 13)] + ["2027-01"]
    statements = {month: _statement(api, "saver", month) for month in months}
    december = statements["2026-12"]
    assert december["interest_earned"] == interest["2026-12"]["amount"] > 0
    assert [e["kind"] for e in december["entries"]] == ["interest"]
    for month, following in zip(months, months[1:]):
        assert statements[month]["closing_balance"] == statements[following]["opening_balance"], month
        assert statements[month]["interest_earned"] == interest[month]["amount"], month
    assert statements["2027-01"]["interest_earned"] == 0
    assert statements["2027-01"]["closing_balance"] == api.wallet("saver")["balance"]
    assert statements["2026-03"]["opening_balance"] == 0
    assert api.admin("GET", "/v1/admin/ledger/check").json_body["balanced"] is True


def test_a_year_posted_at_once_is_valued_month_by_month(api):
    """A catch-up posts a year on one day: each month's statement still
    shows its own interest, and the chain of balances holds."""
    from datetime import datetime, timezone

    from chalicelib import clock
    api.verified("saver")
    api.deposit("saver", 1_000_000)
    clock.pin(datetime(2027, 3, 2, 9, 0, tzinfo=timezone.utc))
    api.admin("POST", "/v1/admin/jobs/post-interest")
    months = [f"2026-{m:02d}" for m in range(3, 13)] + ["2027-01", "2027-02", "2027-03"]
    statements = [_statement(api, "saver", month) for month in months]
    assert all(s["interest_earned"] > 0 for s in statements[:-1]) and statements[-1]["interest_earned"] == 0
    for this, following in zip(statements, statements[1:]):
        assert this["closing_balance"] == following["opening_balance"], this["month"]
    assert statements[-1]["closing_balance"] == api.wallet("saver")["balance"]
