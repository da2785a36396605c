"""Random sequences of money operations against the service layer (ledger +
transfers), checked against a model.

After every step, from one direct read of every account (the people and
every shard of every system account):
- the sum of every balance, system shards included, is exactly zero;
- each account holds exactly what the model says, with
  `spendable == balance - held + credit_limit`, and no debit a customer
  started took it below `-credit_limit`; each system account's total too.
At the end of every example, the full reconcile job (every segment, every
entry): the books balance, every account's balance equals the sum of its
entries, and there are exactly the accounts the example made.
Throughout, every replay of an idempotency key changed nothing (same body:
the same transfer again; another body: `idempotency_key_reused`), and an
amount of zero or less is refused by the ledger itself (`invalid_request`),
not only by the routes in front of it.

Budget and reproduction (environment):
  FLOCK_PROPERTY_EXAMPLES  examples (default 20); e.g. 1000 for a long run
  FLOCK_PROPERTY_STEPS     steps per example (default 25)
  FLOCK_PROPERTY_SECONDS   stop starting examples after this long (default
                           120; the examples are the bound on a quiet machine)
  FLOCK_PROPERTY_SEED      the seed; the run prints the one it used
  FLOCK_PROPERTY_SHRINK=1  minimise a failure (replays many runs: minutes)
Failures are kept in hypothesis' example database (.hypothesis/examples,
ignored by git) and replayed first by the next run.
"""
import copy
import itertools
import os
import random
from datetime import datetime, time, timedelta, timezone
from time import monotonic

import pytest
from hypothesis import HealthCheck, Phase, event, seed, settings
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from chalicelib import clock, errors
from chalicelib.config import settings as settings_of_flock
from chalicelib.db.balances import ENTRY_PREFIX, AccountItem, EntryItem, TransferItem
from chalicelib.finance import ledger, reconcile, transfers
from chalicelib.finance.accounts import SYSTEM_ACCOUNTS, system_accounts, system_shard_id
from chalicelib.finance.money import Money
from chalicelib.finance import customers as admin_actions
from chalicelib.identity import users
from chalicelib.identity.users import Principal
from tests.conftest import PASSWORD, ROOT
from tests.unit.conftest import moto_tables

PEOPLE = 4
START_BALANCE = 200_000
DEPOSIT_MAX, DEPOSITS_DAY_MAX, SENT_DAY_MAX = 2_500_000, 5_000_000, 1_000_000
EXAMPLES = int(os.environ.get("FLOCK_PROPERTY_EXAMPLES") or 20)
STEPS = int(os.environ.get("FLOCK_PROPERTY_STEPS") or 25)
BUDGET_S = int(os.environ.get("FLOCK_PROPERTY_SECONDS") or 120)
CHUNK = 4  # examples per hypothesis run; the budget is checked between runs
SEED = int(os.environ.get("FLOCK_PROPERTY_SEED") or random.SystemRandom().randrange(2**32))
SHRINK = os.environ.get("FLOCK_PROPERTY_SHRINK") == "1"
BALANCE_FIELDS = ["id", "balance", "held", "credit_limit", "spendable"]
_runs = itertools.count()

small = st.integers(1, 60_000)
edge = st.sampled_from([1, 99_999, 100_000, 500_000, SENT_DAY_MAX, SENT_DAY_MAX + 1, DEPOSIT_MAX,
                        DEPOSIT_MAX + 1, 10**12])
not_positive = st.one_of(st.just(0), st.just(-1), st.integers(-10**12, -1))  # the ledger must refuse these
amounts = st.one_of(small, small, small, small, edge, not_positive)


class Model:
    """What each account should hold, and the day's running totals."""

    def __init__(self):
        self.balance = [0] * PEOPLE
        self.held = [0] * PEOPLE
        self.limit = [0] * PEOPLE
        self.deposited = [0] * PEOPLE
        self.sent = [0] * PEOPLE

    def spendable(self, i):
        return self.balance[i] - self.held[i] + self.limit[i]


class FreshBooks:
    """Each example starts from the same books: the freshly provisioned stack
    (system accounts, the operator) with PEOPLE verified people who deposited
    START_BALANCE each, made once and kept as a copy of the tables, restored
    before every example. It keeps every example's books small, so checking
    them stays cheap, and spends the examples on operations, not on signups."""
    snapshot = None
    people: list = []
    first_deposits: list = []  # (key, body) of each person's first deposit

    @classmethod
    def take(cls):
        operator = _operator()
        cls.people, cls.first_deposits = [], []
        for i in range(PEOPLE):
            handle = f"pm_{i}"
            users.create_user(handle, PASSWORD)
            admin_actions.verify(operator, handle, "property test")
            who = _principal(users.find_by_handle(handle))
            body, replayed = transfers.deposit(who, Money(START_BALANCE), f"first{i}")
            assert replayed is False
            cls.people.append(who)
            cls.first_deposits.append((f"first{i}", body))
        cls.snapshot = copy.deepcopy(moto_tables())

    @classmethod
    def restore(cls):
        tables = moto_tables()
        tables.clear()
        tables.update(copy.deepcopy(cls.snapshot))


def _operator() -> Principal:
    op = users.find_by_handle("admin")
    return Principal(op.id, op.handle, op.role, True, False, None)


def _principal(user) -> Principal:
    return Principal(user.id, user.handle, "user", True, False, user.account_id)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        FreshBooks.restore()
        self.run = next(_runs)
        self.people = list(FreshBooks.people)
        self.accounts = [p.account_id for p in self.people]
        shards = settings_of_flock().system_account_shards
        self.shards = {name: [system_shard_id(name, k) for k in range(shards)] for name in SYSTEM_ACCOUNTS}
        self.all_accounts = self.accounts + [shard for ids in self.shards.values() for shard in ids]
        self.model = Model()
        self.system = {"external": 0, "card_settlement": 0}
        self.holds = {}  # hold id -> [person, amount, status]
        self.successes = []  # (replay, different-body replay, first answer)
        self.keys = itertools.count()
        for i, (key, body) in enumerate(FreshBooks.first_deposits):  # everyone starts with some money
            who = self.people[i]
            self.model.balance[i] += START_BALANCE
            self.model.deposited[i] += START_BALANCE
            self.system["external"] -= START_BALANCE
            self.successes.append((lambda who=who, key=key: transfers.deposit(who, Money(START_BALANCE), key),
                                   lambda who=who, key=key: transfers.deposit(who, Money(START_BALANCE + 1), key),
                                   body))

    # helpers ---------------------------------------------------------------------

    def key(self):
        return f"k{next(self.keys)}"

    def expect(self, refusal, call, what):
        """Run `call`; it must raise `refusal` (a class) or succeed if None."""
        event(f"{what}: {refusal.__name__ if refusal else 'ok'}")
        if refusal is None:
            return call()
        with pytest.raises(refusal):
            call()
        return None

    def record(self, result, replay, other):
        body, replayed = result
        assert replayed is False
        item = TransferItem.find(body.id)
        assert int(item.amount) == body.amount > 0
        self.successes.append((replay, other, body))

    def debit_stays_within_the_line(self, i):
        assert self.model.balance[i] - self.model.held[i] >= -self.model.limit[i]

    # rules -----------------------------------------------------------------------

    @rule(i=st.integers(0, PEOPLE - 1), amount=amounts)
    def deposit(self, i, amount):
        m, who, k = self.model, self.people[i], self.key()
        if amount <= 0:
            refusal = errors.InvalidRequest
        elif amount > DEPOSIT_MAX or m.deposited[i] + amount > DEPOSITS_DAY_MAX:
            refusal = errors.LimitExceeded
        else:
            refusal = None
        result = self.expect(refusal, lambda: transfers.deposit(who, Money(amount), k), "deposit")
        if refusal is None:
            m.balance[i] += amount
            m.deposited[i] += amount
            self.system["external"] -= amount
            self.record(result, lambda: transfers.deposit(who, Money(amount), k),
                        lambda: transfers.deposit(who, Money(amount + 1), k))

    @rule(i=st.integers(0, PEOPLE - 1), amount=amounts)
    def withdraw(self, i, amount):
        m, who, k = self.model, self.people[i], self.key()
        if amount <= 0:
            refusal = errors.InvalidRequest
        elif m.spendable(i) < amount:
            refusal = errors.InsufficientFunds
        else:
            refusal = None
        result = self.expect(refusal, lambda: transfers.withdraw(who, Money(amount), k), "withdraw")
        if refusal is None:
            m.balance[i] -= amount
            self.system["external"] += amount
            self.debit_stays_within_the_line(i)
            self.record(result, lambda: transfers.withdraw(who, Money(amount), k),
                        lambda: transfers.deposit(who, Money(amount), k))

    @rule(i=st.integers(0, PEOPLE - 1), j=st.integers(0, PEOPLE - 1), amount=amounts,
          note=st.sampled_from(["", "rent", "🍕 pizza", "سلام"]))
    def send(self, i, j, amount, note):
        m, who, k = self.model, self.people[i], self.key()
        to = self.people[j].handle
        if i == j:
            refusal = errors.SelfTransfer
        elif amount <= 0:
            refusal = errors.InvalidRequest
        elif m.sent[i] + amount > SENT_DAY_MAX:
            refusal = errors.LimitExceeded
        elif m.spendable(i) < amount:
            refusal = errors.InsufficientFunds
        else:
            refusal = None
        result = self.expect(refusal, lambda: transfers.send(who, to, Money(amount), note, k), "send")
        if refusal is None:
            m.balance[i] -= amount
            m.balance[j] += amount
            m.sent[i] += amount
            self.debit_stays_within_the_line(i)
            self.record(result, lambda: transfers.send(who, to.upper(), Money(amount), note, k),
                        lambda: transfers.send(who, to, Money(amount), note + ".", k))

    @rule(i=st.integers(0, PEOPLE - 1), amount=amounts)
    def place_hold(self, i, amount):
        m = self.model
        hold_id = f"hold_{self.run}_{i}_{self.key()}"
        party = transfers.caller_party(self.people[i])
        if amount <= 0:
            refusal = errors.InvalidRequest
        elif m.spendable(i) < amount:
            refusal = errors.InsufficientFunds
        else:
            refusal = None
        expires = clock.now() + timedelta(days=7)
        held = self.expect(refusal, lambda: ledger.hold(hold_id, party, Money(amount), expires, "card"), "hold")
        if refusal is None:
            assert held.status == "pending"
            m.held[i] += amount
            self.holds[hold_id] = [i, amount, "pending"]
            self.debit_stays_within_the_line(i)

            def replay():
                again = ledger.hold(hold_id, party, Money(amount), expires, "card")
                assert again.id == hold_id and int(again.amount) == amount
                return None
            self.successes.append((replay, None, None))

    def _pending(self):
        # In the order placed: the same draws pick the same hold when hypothesis replays a run.
        return [h for h, (_, _, status) in self.holds.items() if status == "pending"]

    @precondition(lambda self: self._pending())
    @rule(data=st.data(), full=st.booleans(), to=st.integers(-1, PEOPLE - 1))
    def post_hold(self, data, full, to):
        m = self.model
        hold_id = data.draw(st.sampled_from(self._pending()))
        i, held, _ = self.holds[hold_id]
        amount = held if full else data.draw(st.integers(1, held))
        if to == i:
            to = -1
        if to < 0:
            shard = system_shard_id("card_settlement", data.draw(st.integers(0, 3)))
            credit = ledger.Party(shard, display="merchant", customer=False)
        else:
            credit = transfers.caller_party(self.people[to])
        transfer_id, request = f"tr_post_{hold_id}", f"clearing:{hold_id}:{amount}"
        posted = ledger.post_hold(hold_id, amount, credit, transfer_id, "card", request)
        assert posted.replayed is False and int(posted.transfer.amount) == amount
        m.balance[i] -= amount
        m.held[i] -= held
        if to < 0:
            self.system["card_settlement"] += amount
        else:
            m.balance[to] += amount
        self.holds[hold_id][2] = "posted"

        def replay():
            again = ledger.post_hold(hold_id, amount, credit, transfer_id, "card", request)
            assert again.replayed is True and again.transfer.id == transfer_id
        self.successes.append((replay, lambda: ledger.post_hold(hold_id, amount, credit, transfer_id, "card",
                                                                request + ":other"), None))

    @precondition(lambda self: self._pending())
    @rule(data=st.data(), amount=not_positive)
    def post_nothing(self, data, amount):
        hold_id = data.draw(st.sampled_from(self._pending()))
        credit = ledger.Party(system_shard_id("card_settlement", 0), display="merchant", customer=False)
        event("post: not positive")
        with pytest.raises(errors.InvalidRequest):
            ledger.post_hold(hold_id, amount, credit, f"tr_nothing_{hold_id}", "card", "nothing")

    @precondition(lambda self: self._pending())
    @rule(data=st.data())
    def post_more_than_held(self, data):
        hold_id = data.draw(st.sampled_from(self._pending()))
        _, held, _ = self.holds[hold_id]
        credit = ledger.Party(system_shard_id("card_settlement", 0), display="merchant", customer=False)
        with pytest.raises(errors.InvalidRequest):
            ledger.post_hold(hold_id, held + data.draw(st.integers(1, 1_000)), credit, f"tr_over_{hold_id}",
                             "card", "over")

    @precondition(lambda self: self.holds)
    @rule(data=st.data())
    def void_hold(self, data):
        hold_id = data.draw(st.sampled_from(list(self.holds)))
        i, held, status = self.holds[hold_id]
        if status != "pending":
            with pytest.raises(errors.InvalidState):
                ledger.void_hold(hold_id)
            return
        assert ledger.void_hold(hold_id).status == "voided"
        self.model.held[i] -= held
        self.holds[hold_id][2] = "voided"

    @precondition(lambda self: any(s != "pending" for _, _, s in self.holds.values()))
    @rule(data=st.data())
    def post_a_finished_hold(self, data):
        hold_id = data.draw(st.sampled_from([h for h, (_, _, s) in self.holds.items() if s != "pending"]))
        i, held, _ = self.holds[hold_id]
        credit = ledger.Party(system_shard_id("card_settlement", 1), display="merchant", customer=False)
        with pytest.raises(errors.InvalidState):
            ledger.post_hold(hold_id, held, credit, f"tr_late_{hold_id}", "card", "late")

    @precondition(lambda self: self.successes)
    @rule(data=st.data(), same_body=st.booleans())
    def replay(self, data, same_body):
        again, other, first = data.draw(st.sampled_from(self.successes))
        event(f"replay: {'same body' if same_body or other is None else 'another body'}")
        if same_body or other is None:
            result = again()
            if first is not None:
                body, replayed = result
                assert replayed is True and body == first
        else:
            with pytest.raises(errors.IdempotencyKeyReused):
                other()

    @rule(i=st.integers(0, PEOPLE - 1), limit=st.sampled_from([0, 1, 5_000, 50_000, 200_000]))
    def set_credit_limit(self, i, limit):
        account = ledger.set_credit_limit(self.accounts[i], limit)
        assert int(account.credit_limit) == limit
        self.model.limit[i] = limit

    # invariants ---------------------------------------------------------------------

    @invariant()
    def books_balance_and_match_the_model(self):
        """One consistent BatchGetItem of every account there is, of the
        fields checked only (an account item also carries maps of daily
        figures that moto takes long to serialise): cheap enough for every
        step. The reconcile job's scans and entry sums run at the end of the
        example."""
        m = self.model
        keys = self.all_accounts
        found = {a.id: a for a in AccountItem.batch_get([(f"ACCT#{a}", "ACCT") for a in keys], consistent_read=True,
                                                        attributes_to_get=BALANCE_FIELDS)}
        assert len(found) == len(keys)
        assert sum(int(a.balance) for a in found.values()) == 0
        for a in found.values():
            assert int(a.spendable) == int(a.balance) - int(a.held) + int(a.credit_limit), a.id
        for name, shards in self.shards.items():
            assert sum(int(found[s].balance) for s in shards) == self.system.get(name, 0), name
        for i, account_id in enumerate(self.accounts):
            a = found[account_id]
            assert (int(a.balance), int(a.held), int(a.credit_limit)) == (m.balance[i], m.held[i], m.limit[i]), i
            assert int(a.spendable) == m.spendable(i)

    def teardown(self):
        """The reconcile job over the whole table: every account (and no
        other), every entry, every segment."""
        report = reconcile.reconcile(check_entries=True)
        assert report["balanced"] and report["total"] == 0 and report["mismatch_count"] == 0, report
        # the people and every shard of every system account, in every currency (those of other
        # currencies stay at zero here)
        assert report["accounts"] == len(self.accounts) + settings_of_flock().system_account_shards * len(system_accounts())
        for name, total in report["system_accounts"].items():
            assert total == self.system.get(name, 0), name
        # Each account's balance equals the sum of its entries, read directly as well.
        for account_id in self.accounts + self.shards["external"] + self.shards["card_settlement"]:
            account = AccountItem.find(account_id)
            entries = sum(int(e.amount) for e in EntryItem.query(
                f"ACCT#{account_id}", EntryItem.sk.startswith(ENTRY_PREFIX), consistent_read=True))
            assert entries == int(account.balance), account_id


def test_random_money_operations_keep_the_books(aws):
    # One business day for the whole run, so the daily limits the model keeps hold.
    tomorrow = datetime.combine(clock.now().date() + timedelta(days=1), time(1), tzinfo=timezone.utc)
    clock.set_now(tomorrow)
    FreshBooks.take()
    print(f"ledger properties: up to {EXAMPLES} examples of {STEPS} steps within {BUDGET_S} s, seed {SEED} "
          f"(FLOCK_PROPERTY_SEED={SEED} reproduces this run)")
    phases = [Phase.explicit, Phase.reuse, Phase.generate]
    if SHRINK:  # shrinking a failure replays hundreds of runs against moto (minutes)
        phases.append(Phase.shrink)
    database = DirectoryBasedExampleDatabase(os.path.join(ROOT, ".hypothesis", "examples"))
    # In chunks of examples, each seeded from SEED, until the examples or the
    # time budget are spent (at least one chunk): on a loaded machine the run
    # gets shallower rather than longer than the suite's timeout.
    started, ran = monotonic(), 0
    for chunk in range(-(-EXAMPLES // CHUNK)):
        if chunk and monotonic() - started > BUDGET_S:
            break
        examples = min(CHUNK, EXAMPLES - ran)
        run_state_machine_as_test(seed(SEED + chunk)(LedgerMachine), settings=settings(
            max_examples=examples, stateful_step_count=STEPS, deadline=None, print_blob=True, phases=phases,
            database=database, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
        ran += examples
    print(f"ledger properties: {ran} examples in {monotonic() - started:.0f} s")
