"""Credit shards for hot receiving accounts (issue 17, ledger rule 8): a
creator tipped from many sides at once is credited on shards, spends it all
in one transfer, and the books, the wallet and the statement agree.

Concurrency: moto is not thread-safe, so, as the local stack does, one
request reaches it at a time; threads still interleave between requests."""
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from chalicelib import clock, errors
from chalicelib.db.balances import AccountItem, CreditShardItem
from chalicelib.finance import credit_shards, customers, interest, ledger
from chalicelib.finance.accounts import customer_account_id
from chalicelib.finance.money import Money
from chalicelib.finance.transfers import system_party
from chalicelib.identity import users
from tests.conftest import TEST_NOW
from tests.unit.conftest import _operator

SHARDS = 8



def ok(r, status=200):
    assert r.status_code == status, (r.status_code, r.body)
    return r.json_body


def books(api):
    check = ok(api.admin("GET", "/v1/admin/ledger/check"))
    assert check["balanced"] is True and check["total"] == 0 and check["mismatch_count"] == 0, check
    return check


def account_of(handle):
    return customer_account_id(users.find_by_handle(handle).id)


def item_balance(handle):
    return int(AccountItem.find(account_of(handle)).balance)


def shard_balances(handle):
    account = AccountItem.find(account_of(handle))
    return [int(s.balance) for s in credit_shards.shards_of(account)]


def tip(api, who, post_id, amount):
    return api.money("POST", f"/v1/posts/{post_id}/tips", {"amount": amount, "currency": "USD"}, who,
                     str(uuid.uuid4()))


def transfer(api, who, to, amount):
    return api.money("POST", "/v1/transfers", {"to": to, "amount": amount, "currency": "USD"}, who,
                     str(uuid.uuid4()))


@pytest.fixture
def star(api):
    """`star`, a creator with credit shards and a post; ten fans with $100 each."""
    api.verified("star")
    credit_shards.enable(account_of("star"), SHARDS)
    post = ok(api.call("POST", "/v1/posts", {"text": "tip me"}, as_="star"), 201)
    fans = [f"fan{i}" for i in range(10)]
    for fan in fans:
        api.verified(fan)
        api.deposit(fan, 10_000)
    return post["id"], fans


def test_200_concurrent_tips_land_on_shards_and_the_creator_spends_them_in_one_transfer(
        api, star, one_request_at_a_time):
    post_id, fans = star
    senders = [fans[i % len(fans)] for i in range(200)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda fan: tip(api, fan, post_id, 100), senders))
    assert [r.status_code for r in answers] == [201] * 200
    # Every credit went to a shard: the account item was never written by a tip.
    assert item_balance("star") == 0 and sum(shard_balances("star")) == 20_000
    assert sum(1 for b in shard_balances("star") if b) > 1
    wallet = api.wallet("star")
    assert wallet["balance"] == 20_000 and wallet["spendable"] == 20_000 and wallet["available"] == 20_000
    books(api)
    # Everything, in one transfer: refused on the item alone, it sweeps and goes through once.
    sent = ok(transfer(api, "star", "fan0", 20_000), 201)
    assert sent["amount"] == 20_000
    assert api.wallet("star")["balance"] == 0 and shard_balances("star") == [0] * SHARDS
    assert api.wallet("fan0")["balance"] == 10_000 - 20 * 100 + 20_000
    refused = transfer(api, "star", "fan0", 1)
    assert refused.status_code == 422 and refused.json_body["error"]["code"] == "insufficient_funds"
    books(api)
    month = ok(api.call("GET", f"/v1/wallet/statements/{TEST_NOW:%Y-%m}", as_="star"))
    assert (month["opening_balance"], month["total_in"], month["total_out"], month["closing_balance"]) == \
        (0, 20_000, 20_000, 0)
    assert len(month["entries"]) == 201


def test_a_debit_never_spends_more_than_item_and_shards_hold(api, star):
    post_id, fans = star
    for fan in fans[:3]:
        ok(tip(api, fan, post_id, 500), 201)
    refused = transfer(api, "star", "fan0", 1_501)
    assert refused.status_code == 422 and refused.json_body["error"]["code"] == "insufficient_funds"
    assert sum(shard_balances("star")) + item_balance("star") == 1_500
    ok(transfer(api, "star", "fan0", 1_000), 201)
    assert api.wallet("star")["balance"] == 500
    books(api)


def test_a_frozen_creator_is_credited_on_no_shard(api, star):
    post_id, fans = star
    customers.freeze(_operator(), "star", "test")
    assert {s.status for s in map(CreditShardItem.from_raw_data,
                                  ledger.credit_shard_items(account_of("star"), SHARDS))} == {"frozen"}
    r = tip(api, fans[0], post_id, 100)
    assert r.status_code == 422 and r.json_body["error"]["code"] == "not_eligible", r.body
    customers.unfreeze(_operator(), "star", "test")
    ok(tip(api, fans[0], post_id, 100), 201)
    assert item_balance("star") + sum(shard_balances("star")) == 100  # freezing ended star's sessions
    books(api)


def test_the_sweep_job_moves_shards_to_the_item_and_is_idempotent(api, star):
    post_id, fans = star
    for i in range(12):
        ok(tip(api, fans[i % 10], post_id, 100 + i), 201)
    total = sum(100 + i for i in range(12))
    first = ok(api.admin("POST", "/v1/admin/jobs/sweep-credit-shards"))
    assert first["processed"] == 1 and first["changed"] == 1, first
    assert item_balance("star") == total and shard_balances("star") == [0] * SHARDS
    again = ok(api.admin("POST", "/v1/admin/jobs/sweep-credit-shards"))
    assert again["changed"] == 0, again
    assert item_balance("star") == total and api.wallet("star")["balance"] == total
    books(api)


def test_enable_is_idempotent_and_never_shrinks(api):
    api.verified("solo")
    account_id = account_of("solo")
    assert int(credit_shards.enable(account_id, 4).credit_shards) == 4
    assert int(credit_shards.enable(account_id, 2).credit_shards) == 4
    assert int(credit_shards.enable(account_id, 6).credit_shards) == 6
    with pytest.raises(errors.InvalidRequest):
        credit_shards.enable(account_id, 0)
    with pytest.raises(errors.NotFound):
        credit_shards.enable("acct_nobody")


def _credit(party, amount, key):
    return ledger.transfer(ledger.Movement(transfer_id=f"tr_{key}", kind="deposit", debit=system_party("external"),
                                           credit=party, money=Money(amount, "USD"), request_hash=key))


def test_a_month_of_interest_with_shards_equals_the_same_without(api):
    """Same credits on the same days, one account sharded (swept now and
    then), one not: the same accrual, the same closes, the same statement."""
    api.verified("plain")
    api.verified("shardy")
    plain = ledger.Party(account_of("plain"), "plain", user_id=users.find_by_handle("plain").id)
    shardy = ledger.Party(account_of("shardy"), "shardy", user_id=users.find_by_handle("shardy").id,
                          credit_shards=SHARDS)
    credit_shards.enable(shardy.account_id, SHARDS)
    start = TEST_NOW.replace(day=1)
    for day in range(28):
        clock.pin(start + timedelta(days=day, hours=1))
        for i in range(day % 3 + 1):
            amount = 10_000 + 137 * day + i
            _credit(plain, amount, f"p{day}_{i}")
            _credit(shardy, amount, f"s{day}_{i}")
        if day % 7 == 3:
            ledger.sweep_credit_shards(shardy.account_id)
    clock.pin(start + timedelta(days=28, hours=2))
    history = interest.rate_history()
    through = (start + timedelta(days=27)).date()
    accrued = {}
    for handle in ("plain", "shardy"):
        item = AccountItem.find(account_of(handle))
        assert interest.accrue_account(item, through, history)
        accrued[handle] = int(AccountItem.find(account_of(handle)).accrued_interest_micros)
    assert accrued["plain"] == accrued["shardy"] != 0
    statements = {h: ok(api.call("GET", f"/v1/wallet/statements/{start:%Y-%m}", as_=h)) for h in ("plain", "shardy")}
    for field in ("opening_balance", "closing_balance", "total_in", "total_out"):
        assert statements["plain"][field] == statements["shardy"][field]
    # Swept after accrual, the shards' used daily openings go.
    ledger.sweep_credit_shards(shardy.account_id)
    for raw in ledger.credit_shard_items(shardy.account_id, SHARDS):
        assert not [k for k in CreditShardItem.from_raw_data(raw).opens.as_dict() if k.startswith("d")
                    and k <= "d" + through.strftime("%Y%m%d")]
    books(api)
    clock.pin(TEST_NOW)
