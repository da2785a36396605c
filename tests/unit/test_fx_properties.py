"""Random sequences of money in many currencies — transfers, conversions,
cross-currency transfers, deposits, payouts and replays — against the
service layer. After every step, from one scan of every account item: the
balances of each currency sum to exactly zero on their own, and no pocket
is below zero (a pocket has no credit line). At the end of every example
the full reconcile job balances, per currency. Every replay of an
idempotency key changed nothing and answered the first answer.

Budget and reproduction (environment), as tests/unit/test_ledger_properties.py:
  FLOCK_PROPERTY_EXAMPLES  examples (default here 4)
  FLOCK_PROPERTY_STEPS     steps per example (default here 12)
  FLOCK_PROPERTY_SECONDS   stop starting examples after this long (default 30)
  FLOCK_PROPERTY_SEED      the seed; the run prints the one it used
"""
import copy
import os
import random
from time import monotonic

from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from chalicelib import errors
from chalicelib.db import base
from chalicelib.db.balances import ACCOUNT_SORT_KEY, AccountItem
from chalicelib.finance import customers, fx, fx_rates, reconcile, transfers
from chalicelib.finance.money import Money
from chalicelib.identity import users
from chalicelib.identity.users import Principal
from tests.conftest import PASSWORD
from tests.unit.conftest import _operator, moto_tables
from tests.unit.fxkit import RATES

PEOPLE = 3
EXAMPLES = int(os.environ.get("FLOCK_PROPERTY_EXAMPLES") or 4)
STEPS = int(os.environ.get("FLOCK_PROPERTY_STEPS") or 12)
BUDGET_S = int(os.environ.get("FLOCK_PROPERTY_SECONDS") or 30)
CHUNK = 2
SEED = int(os.environ.get("FLOCK_PROPERTY_SEED") or random.SystemRandom().randrange(2**32))
CURRENCIES = ("USD", "EUR", "JPY", "GBP")
START = {"USD": 200_000, "EUR": 100_000, "JPY": 1_000_000}

people = st.integers(0, PEOPLE - 1)
currencies = st.sampled_from(CURRENCIES)
amounts = st.one_of(st.integers(1, 50_000), st.sampled_from([1, 2, 3, 99, 101, 10**6, 10**12]))


class Books:
    snapshot = None
    principals: list = []

    @classmethod
    def take(cls):
        fx_rates._cache.clear()
        fx_rates.set_rates(_operator(), "USD", RATES, "property test")
        cls.principals = []
        for i in range(PEOPLE):
            handle = f"fxp_{i}"
            users.create_user(handle, PASSWORD)
            customers.verify(_operator(), handle, "property test")
            user = users.find_by_handle(handle)
            who = Principal(user.id, user.handle, "user", True, False, user.account_id)
            for currency, amount in START.items():
                if currency == "USD":
                    transfers.deposit(who, Money(amount), f"start-{currency}")
                else:
                    fx.deposit(who, Money(amount, currency), f"start-{currency}")
            cls.principals.append(who)
        cls.snapshot = copy.deepcopy(moto_tables())

    @classmethod
    def restore(cls):
        tables = moto_tables()
        tables.clear()
        tables.update(copy.deepcopy(cls.snapshot))


def _accounts() -> list[dict]:
    pages = base.botocore_client().get_paginator("scan").paginate(
        TableName=AccountItem.Meta.table_name, ConsistentRead=True, FilterExpression="sk = :acct",
        ExpressionAttributeValues={":acct": {"S": ACCOUNT_SORT_KEY}})
    return [item for page in pages for item in page["Items"]]


class FxMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        Books.restore()
        self.done: list = []  # (call, answer) of every success, for replays
        self.n = 0

    def _key(self) -> str:
        self.n += 1
        return f"k{self.n}"

    def _try(self, call):
        try:
            body, replayed = call()
        except (errors.Unprocessable, errors.InvalidState, errors.InvalidRequest, errors.NotFound):
            return None
        assert replayed is False
        self.done.append((call, body))
        return body

    @rule(i=people, j=people, currency=currencies, deliver=currencies, amount=amounts)
    def transfer(self, i, j, currency, deliver, amount):
        payer, payee, key = Books.principals[i], Books.principals[j], self._key()
        if currency == deliver == "USD":
            call = lambda: transfers.send(payer, payee.handle, Money(amount), "", key)
        else:
            call = lambda: fx.send(payer, payee.handle, Money(amount, currency), deliver, "", key)
        try:
            self._try(call)
        except errors.SelfTransfer:
            assert i == j

    @rule(i=people, sell=currencies, buy=currencies, amount=amounts, by_buy=st.booleans())
    def convert(self, i, sell, buy, amount, by_buy):
        who, key = Books.principals[i], self._key()
        try:
            q = fx.create_quote(who, sell, buy, None if by_buy else amount, amount if by_buy else None)
        except errors.InvalidRequest:
            return
        self._try(lambda: fx.convert(who, q.id, key))

    @rule(i=people, currency=currencies, amount=amounts)
    def deposit_or_payout(self, i, currency, amount):
        who, key = Books.principals[i], self._key()
        if amount % 2:
            self._try(lambda: fx.deposit(who, Money(amount, currency), key))
        else:
            self._try(lambda: fx.withdraw(who, Money(amount, currency), key, "GB82WEST12345698765432"))

    @rule(data=st.data())
    def replay(self, data):
        if not self.done:
            return
        call, first = self.done[data.draw(st.integers(0, len(self.done) - 1))]
        body, replayed = call()
        assert replayed is True and body == first

    @invariant()
    def each_currency_sums_to_zero(self):
        totals: dict = {}
        for item in _accounts():
            currency = item.get("currency", {}).get("S", "USD")
            totals[currency] = totals.get(currency, 0) + int(item["balance"]["N"])
            if item["kind"]["S"] == "pocket":
                assert int(item["balance"]["N"]) >= 0 and int(item["spendable"]["N"]) >= 0
        assert not any(totals.values()), totals

    def teardown(self):
        report = reconcile.reconcile()
        assert report["balanced"], report


def test_random_money_in_many_currencies_keeps_every_currency_whole(aws):
    Books.take()
    print(f"fx properties: up to {EXAMPLES} examples of {STEPS} steps within {BUDGET_S} s, seed {SEED}")
    started, ran = monotonic(), 0
    for chunk in range(-(-EXAMPLES // CHUNK)):
        if chunk and monotonic() - started > BUDGET_S:
            break
        examples = min(CHUNK, EXAMPLES - ran)
        run_state_machine_as_test(seed(SEED + chunk)(FxMachine), settings=settings(
            max_examples=examples, stateful_step_count=STEPS, deadline=None, database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
        ran += examples
    print(f"fx properties: {ran} examples in {monotonic() - started:.0f} s")
