"""Credit shards turn on by themselves (issue 17, item 2): a creator tipped
faster than the threshold gets shards sized to the rate with no operator
call, every tip lands, and the money is spent in one transfer; a cooled
account is swept, turned off and its shards retired with its statement and
closes unchanged; a cold account never gets any. Tips and unlocks widen a
hot post's counter shards as likes do.

Thresholds are lowered (`hot` fixture) so that a test's few hundred tips
are "hot"; business time moves minute by minute (`next_minute`), since a
payer reads the payee's count once a minute and that read is where a hot
account is found. Concurrency as in test_credit_shards.py: one request
reaches moto at a time, threads interleave between requests."""
import dataclasses
import itertools
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest

from chalicelib import clock
from chalicelib.config import settings
from chalicelib.db.balances import AccountItem
from chalicelib.db.posts import PostItem, post_key
from chalicelib.finance import credit_shards, interest, ledger
from chalicelib.finance.money import Money
from chalicelib.finance.transfers import system_party
from chalicelib.identity import users
from tests.conftest import TEST_NOW
from tests.unit.test_credit_shards import (account_of, books, item_balance, ok,  # noqa: F401
                                           shard_balances, tip, transfer)

HOT_PER_MIN = 50
TARGET_PER_MIN = 20
MAX_SHARDS = 8


@pytest.fixture(autouse=True)
def still_clock(monkeypatch):
    """Business time moves a millisecond a reading, not with the wall clock:
    a minute's tips must fall in that minute however slowly a loaded
    machine runs them, and still each later than the one before."""
    start, ticks = clock.real_now(), itertools.count()
    monkeypatch.setattr(clock, "real_now", lambda: start + timedelta(milliseconds=next(ticks)))


@pytest.fixture
def hot(monkeypatch):
    """A creator is hot at 50 credits a minute, a shard takes 20 a minute."""
    lowered = dataclasses.replace(settings(), credit_shards_hot_per_min=HOT_PER_MIN,
                                  credit_shard_target_per_min=TARGET_PER_MIN, credit_shards=MAX_SHARDS,
                                  credit_shards_off_grace_s=600)
    monkeypatch.setattr("chalicelib.finance.credit_shards.settings", lambda: lowered)
    return lowered


def next_minute(seconds: int = 1) -> datetime:
    """Business time to `seconds` into the next minute."""
    now = clock.now()
    return clock.set_now(now.replace(second=0, microsecond=0) + timedelta(minutes=1, seconds=seconds))


def account(handle) -> AccountItem:
    return AccountItem.find(account_of(handle))


def creator_with_fans(api, fans: int = 10, each: int = 10_000):
    api.verified("star")
    post = ok(api.call("POST", "/v1/posts", {"text": "tip me"}, as_="star"), 201)
    names = [f"fan{i}" for i in range(fans)]
    for fan in names:
        api.verified(fan)
        api.deposit(fan, each)
    return post["id"], names


def burst(api, post_id, fans, count, amount=100):
    senders = [fans[i % len(fans)] for i in range(count)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(lambda fan: tip(api, fan, post_id, amount), senders))


def job(api):
    return ok(api.admin("POST", "/v1/admin/jobs/sweep-credit-shards"))


def statement(api, handle, month):
    body = ok(api.call("GET", f"/v1/wallet/statements/{month}", as_=handle))
    return body["opening_balance"], body["total_in"], body["total_out"], body["closing_balance"]


def closes(item: AccountItem, first, last) -> list[int]:
    """What accrual reads as each day's close: the item's, plus its shards'."""
    sharded = credit_shards.closes(item, first, last)
    return [close + sharded[day] for day, close in interest.end_of_day_balances(item, first, last)]


# Sizing and counting ----------------------------------------------------------------------

def test_shards_are_sized_to_the_rate_within_the_bounds_at_the_default_settings():
    s = settings()
    assert (s.credit_shards_hot_per_min, s.credit_shard_target_per_min, s.credit_shards) == (6_000, 15_000, 16)
    assert credit_shards.sized(0) == 0
    assert credit_shards.sized(5_999) == 0            # 99.98 credits/s: one item is enough
    assert credit_shards.sized(6_000) == 2            # 100/s: hot, and never fewer than 2
    assert credit_shards.sized(45_001) == 4           # 750/s over 250/s a shard, rounded up
    assert credit_shards.sized(5_000 * 60) == 16      # the 5,000 tips/s: 20 wanted, the setting caps
    assert credit_shards.sized(10**9) == 16


def test_receipts_count_this_minute_and_the_last_and_never_a_stale_slot():
    now = datetime(2026, 3, 10, 15, 7, 30, tzinfo=TEST_NOW.tzinfo)
    minute, stamp = ledger.minute_of(now), ledger.RECEIPT_STAMP

    def item(counts: dict) -> AccountItem:
        """An item whose slots hold {minute: count}."""
        return AccountItem(**{f"rx{m % ledger.RECEIPT_SLOTS}": m * stamp + n for m, n in counts.items()})
    assert ledger.receipts([AccountItem()], now) == 0
    assert ledger.receipts([item({minute: 7, minute - 1: 40})], now) == 40
    assert ledger.receipts([item({minute: 70, minute - 1: 40})], now) == 70
    # A slot still holding an older minute (not cleared: nothing came the minute after it) is not counted.
    assert ledger.receipts([item({minute - 3: 900})], now) == 0
    assert ledger.receipts([item({minute - 2: 900})], now) == 0
    # Shards (raw, as the sweep reads them) add to their account's count of the same minute.
    shard = {f"rx{minute % ledger.RECEIPT_SLOTS}": {"N": str(minute * stamp + 50)}}
    assert ledger.receipts([item({minute: 7, minute - 1: 40}), shard, shard], now) == 107


# Turning on ---------------------------------------------------------------------------------

def test_a_burst_of_concurrent_tips_turns_shards_on_with_no_operator_call_and_everything_is_spent_at_once(
        api, hot, one_request_at_a_time):
    post_id, fans = creator_with_fans(api)
    clock.set_now(TEST_NOW.replace(second=1) + timedelta(hours=1))
    first = burst(api, post_id, fans, 100)
    assert [r.status_code for r in first] == [201] * 100
    assert account("star").credit_shards is None  # within its first minute: payers cached "no shards"
    assert item_balance("star") == 10_000
    next_minute()
    second = burst(api, post_id, fans, 100)
    assert [r.status_code for r in second] == [201] * 100
    star = account("star")
    # The first payer of the new minute read 100 credits in the last one: 100 / 20 a shard = 5.
    assert int(star.credit_shards) == 5 and star.credit_shards_off_at is None
    shards = shard_balances("star")
    assert len(shards) == 5 and sum(shards) > 0 and sum(1 for b in shards if b) > 1
    assert item_balance("star") + sum(shards) == 20_000  # every tip landed, once
    wallet = api.wallet("star")
    assert wallet["balance"] == wallet["spendable"] == wallet["available"] == 20_000
    books(api)
    sent = ok(transfer(api, "star", "fan0", 20_000), 201)  # refused on the item alone, swept, sent
    assert sent["amount"] == 20_000
    assert api.wallet("star")["balance"] == 0 and item_balance("star") == 0 and shard_balances("star") == [0] * 5
    assert api.wallet("fan0")["balance"] == 10_000 - 20 * 100 + 20_000
    refused = transfer(api, "star", "fan0", 1)
    assert refused.status_code == 422 and refused.json_body["error"]["code"] == "insufficient_funds"
    check = books(api)
    assert check["mismatch_count"] == 0  # balance = entries, item and shards together
    month = clock.now().strftime("%Y-%m")
    assert statement(api, "star", month) == (0, 20_000, 20_000, 0)


def test_a_cold_account_never_gets_shards(api, hot):
    post_id, fans = creator_with_fans(api, fans=4)
    clock.set_now(TEST_NOW.replace(second=1) + timedelta(hours=1))
    for _ in range(4):  # 40 a minute, under 50, minute after minute
        for i in range(40):
            ok(tip(api, fans[i % 4], post_id, 10), 201)
        next_minute()
    ok(tip(api, fans[0], post_id, 10), 201)
    star = account("star")
    assert star.credit_shards is None and star.credit_shards_off_at is None
    assert ledger.credit_shard_items(star.id, MAX_SHARDS) == []
    assert int(star.balance) == 161 * 10
    assert job(api)["processed"] == 0  # not listed for the sweep either
    books(api)


def test_a_refused_tip_counts_nothing_and_leaves_no_shard(api, hot):
    post_id, fans = creator_with_fans(api, fans=1, each=100)
    clock.set_now(TEST_NOW.replace(second=1) + timedelta(hours=1))
    for amount in (0, -5, 10**15, "100", 1.5):
        r = api.money("POST", f"/v1/posts/{post_id}/tips", {"amount": amount, "currency": "USD"}, fans[0],
                      str(uuid.uuid4()))
        assert r.status_code in (400, 422), (amount, r.status_code, r.body)
    for _ in range(60):  # more than the fan has: refused for funds, every one
        r = tip(api, fans[0], post_id, 101)
        assert r.status_code == 422 and r.json_body["error"]["code"] == "insufficient_funds"
    next_minute()
    ok(tip(api, fans[0], post_id, 100), 201)
    assert account("star").credit_shards is None and item_balance("star") == 100
    books(api)


# Cooling down --------------------------------------------------------------------------------

def test_a_cooled_account_is_swept_turned_off_and_retired_with_its_history_unchanged(api, hot):
    post_id, fans = creator_with_fans(api, fans=5)
    start = clock.set_now(TEST_NOW.replace(second=1) + timedelta(hours=1))
    for i in range(60):
        ok(tip(api, fans[i % 5], post_id, 100), 201)
    next_minute()
    for i in range(10):  # the first payer of the minute turns shards on: 60 / 20 = 3
        ok(tip(api, fans[i % 5], post_id, 100), 201)
    star = account("star")
    assert int(star.credit_shards) == 3 and sum(shard_balances("star")) == 1_000
    assert job(api)["kept"] == 1  # still hot (60 in the last minute): swept, kept on
    assert item_balance("star") == 7_000 and shard_balances("star") == [0, 0, 0]
    for i in range(10):
        ok(tip(api, fans[i % 5], post_id, 100), 201)
    assert sum(shard_balances("star")) == 1_000

    # Past midnight, quiet: the job sweeps (the shards record the day's
    # opening, the money they held at midnight) and turns them off.
    clock.set_now(start.replace(hour=0, minute=30) + timedelta(days=1))
    ran = job(api)
    assert (ran["processed"], ran["changed"], ran["off"]) == (1, 1, 1), ran
    star = account("star")
    assert star.credit_shards_off_at is not None and int(star.credit_shards) == 3
    assert item_balance("star") == 8_000 and shard_balances("star") == [0, 0, 0]
    ok(tip(api, fans[0], post_id, 100), 201)  # a new minute's payer: off, so the item is credited
    assert item_balance("star") == 8_100 and shard_balances("star") == [0, 0, 0]
    day, month = start.date(), start.strftime("%Y-%m")
    before = (closes(account("star"), day, day + timedelta(days=1)), statement(api, "star", month),
              api.wallet("star")["balance"])
    assert before[0] == [8_000, 8_100] and before[1] == (0, 8_100, 0, 8_100)
    assert job(api)["kept"] == 1  # off, but not for long enough: a payer may still hold the count

    clock.set_now(clock.now() + timedelta(seconds=hot.credit_shards_off_grace_s))
    ran = job(api)
    assert ran["retired"] == 1, ran
    star = account("star")
    assert star.credit_shards is None and star.credit_shards_off_at is None and star.gsi1_pk is None
    assert ledger.credit_shard_items(star.id, 3) == []
    assert (closes(star, day, day + timedelta(days=1)), statement(api, "star", month),
            api.wallet("star")["balance"]) == before
    books(api)

    # A payer that read the count before the retirement credits a shard that
    # is gone: the ledger finds it so and credits the item instead.
    stale = ledger.Party(star.id, "star", user_id=users.find_by_handle("star").id, credit_shards=3)
    ledger.transfer(ledger.Movement(transfer_id="tr_stale_count", kind="deposit", debit=system_party("external"),
                                    credit=stale, money=Money(500, "USD"), request_hash="stale"))
    assert item_balance("star") == 8_600 and ledger.credit_shard_items(star.id, 3) == []
    assert job(api)["processed"] == 0
    books(api)


def test_a_cooled_account_heated_again_is_turned_back_on(api, hot):
    post_id, fans = creator_with_fans(api, fans=5)
    clock.set_now(TEST_NOW.replace(second=1) + timedelta(hours=1))
    for i in range(60):
        ok(tip(api, fans[i % 5], post_id, 10), 201)
    next_minute()
    ok(tip(api, fans[0], post_id, 10), 201)
    assert int(account("star").credit_shards) == 3
    clock.set_now(clock.now() + timedelta(minutes=5))
    assert job(api)["off"] == 1
    next_minute()
    for i in range(100):  # hot again, on the item now
        ok(tip(api, fans[i % 5], post_id, 10), 201)
    next_minute()
    ok(tip(api, fans[0], post_id, 10), 201)  # 100 / 20 = 5: on again, and wider
    star = account("star")
    assert int(star.credit_shards) == 5 and star.credit_shards_off_at is None
    assert sum(shard_balances("star")) == 10
    assert item_balance("star") + sum(shard_balances("star")) == 162 * 10
    books(api)


# Hot posts -----------------------------------------------------------------------------------

def test_tips_and_unlocks_widen_a_hot_post_as_likes_do(api, monkeypatch):
    widened = dataclasses.replace(settings(), hot_post_likes=3, hot_post_counter_shards=40)
    monkeypatch.setattr("chalicelib.social.posts.settings", lambda: widened)
    api.verified("author")
    fans = [f"fan{i}" for i in range(3)]
    for fan in fans:
        api.verified(fan)
        api.deposit(fan, 10_000)
    post = ok(api.call("POST", "/v1/posts", {"text": "paid " * 20, "price": {"amount": 300, "currency": "USD"}},
                       as_="author"), 201)
    clock.set_now(TEST_NOW.replace(second=1) + timedelta(hours=1))
    ok(tip(api, fans[0], post["id"], 100), 201)
    ok(tip(api, fans[1], post["id"], 100), 201)
    next_minute()
    ok(tip(api, fans[2], post["id"], 100), 201)  # 2 payments seen: not hot yet
    assert PostItem.get(*post_key(post["id"])).counter_shards is None
    ok(api.money("POST", f"/v1/posts/{post['id']}/unlock", None, fans[0], str(uuid.uuid4())), 201)
    next_minute()
    ok(tip(api, fans[1], post["id"], 100), 201)  # 3 tips and an unlock seen: widened
    assert int(PostItem.get(*post_key(post["id"]), consistent_read=True).counter_shards) == 40
    for fan in fans:
        ok(tip(api, fan, post["id"], 100), 201)
    shown = ok(api.call("GET", f"/v1/posts/{post['id']}", as_="author"))
    assert shown["tip_total"] == 7 * 100
    assert account("author").credit_shards is None  # the author's account stays cold: a handful of tips
    books(api)
