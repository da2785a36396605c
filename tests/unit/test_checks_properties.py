"""Random sequences of check writes, stops, presentments, deposits, releases
and returns, through the routes, against a model of each wallet's balance.

After every step: each wallet's balance is what the model says (a paid
check took its amount once, a deposit credited once, a return took it
back once); a presentment paid exactly when the spendable money before it
covered the check (and it was payable); the books balance and every
account's `held` equals its pending holds (the reconcile job).

FLOCK_CHECKS_PROPERTY_EXAMPLES (default 4) and FLOCK_CHECKS_PROPERTY_STEPS
(default 12) set the budget; FLOCK_PROPERTY_SEED the seed.
"""
import copy
import os
import random
import uuid
from datetime import timedelta

from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from chalicelib import clock
from chalicelib.finance import reconcile
from tests.conftest import TEST_NOW
from tests.unit.checks_world import deposit, deposit_body, people, present, presentment, return_deposit, write
from tests.unit.conftest import moto_tables

EXAMPLES = int(os.environ.get("FLOCK_CHECKS_PROPERTY_EXAMPLES") or 4)
STEPS = int(os.environ.get("FLOCK_CHECKS_PROPERTY_STEPS") or 12)
SEED = int(os.environ.get("FLOCK_PROPERTY_SEED") or random.SystemRandom().randrange(2**32))
PEOPLE = ("alice", "bob")
START = 100_000


class World:
    """The app and the tables every example starts from."""
    api = None
    tables = None


class ChecksMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        live = moto_tables()
        live.clear()
        live.update(copy.deepcopy(World.tables))
        clock.pin(TEST_NOW)
        self.api = World.api
        self.balance = {who: START for who in PEOPLE}
        self.checks = []  # [writer, check body, status]
        self.deposits = []  # [depositor, id, amount, returned]
        self.serials = iter(range(10_000, 99_999))

    @rule(who=st.sampled_from(PEOPLE), amount=st.integers(1, 150_000))
    def write_check(self, who, amount):
        r = write(self.api, who, amount)
        assert r.status_code == 201, r.body
        self.checks.append([who, r.json_body, "issued"])

    @precondition(lambda self: self.checks)
    @rule(pick=st.integers(0, 1000))
    def stop_check(self, pick):
        check = self.checks[pick % len(self.checks)]
        r = self.api.call("POST", f"/v1/checks/{check[1]['id']}/stop", as_=check[0])
        if check[2] == "issued":
            assert r.status_code == 200, r.body
            check[2] = "stopped"
        else:
            assert r.status_code == 409, r.body

    @precondition(lambda self: self.checks)
    @rule(pick=st.integers(0, 1000), replay=st.booleans())
    def present_check(self, pick, replay):
        check = self.checks[pick % len(self.checks)]
        who, body, status = check
        spendable = self.api.wallet(who)["spendable"]
        call = presentment(body)
        r = present(self.api, call)
        assert r.status_code == 200, r.body
        decision = (r.json_body["decision"], r.json_body["return_reason"])
        if status == "stopped":
            assert decision == ("returned", "stop_payment")
        elif status == "paid":
            assert decision == ("returned", "duplicate_presentment")
        elif spendable >= body["amount"]:
            assert decision == ("paid", None)
            self.balance[who] -= body["amount"]
            check[2] = "paid"
        else:
            assert decision == ("returned", "not_sufficient_funds")
            check[2] = "returned"
        if replay:
            again = present(self.api, call)
            assert (again.status_code, again.json_body) == (200, r.json_body)

    @rule(who=st.sampled_from(PEOPLE), amount=st.integers(1, 600_000), endorsed=st.booleans())
    def deposit_check(self, who, amount, endorsed):
        r = deposit(self.api, who, deposit_body(amount, serial=str(next(self.serials)), endorsed=endorsed))
        if r.status_code == 201:
            assert endorsed and amount <= 500_000
            self.balance[who] += amount
            self.deposits.append([who, r.json_body["id"], amount, False])
        else:
            assert r.status_code == 422, r.body
            assert r.json_body["error"]["code"] == ("limit_exceeded" if endorsed else "not_eligible")

    @rule(days=st.integers(0, 3))
    def release_holds(self, days):
        clock.pin(clock.now() + timedelta(days=days))
        for _ in range(2):  # twice: the second run changes nothing
            r = self.api.admin("POST", "/v1/admin/jobs/release-deposit-holds",
                               {"as_of": clock.now().date().isoformat()})
            assert r.status_code == 200, r.body
        assert r.json_body["changed"] == 0

    @precondition(lambda self: self.deposits)
    @rule(pick=st.integers(0, 1000))
    def return_check(self, pick):
        dep = self.deposits[pick % len(self.deposits)]
        r = return_deposit(self.api, dep[1], "refer_to_maker", event_id=str(uuid.uuid4()))
        if dep[3]:
            assert r.status_code == 409, r.body
        else:
            assert r.status_code == 200 and r.json_body["status"] == "returned", r.body
            self.balance[dep[0]] -= dep[2]
            dep[3] = True

    @invariant()
    def wallets_hold_what_the_model_says(self):
        for who in PEOPLE:
            w = self.api.wallet(who)
            assert w["balance"] == self.balance[who], (who, w)
            assert w["spendable"] == w["balance"] - w["held"] + w["credit_limit"]

    def teardown(self):
        report = reconcile.reconcile()
        assert report["balanced"] and report["total"] == 0 and report["mismatch_count"] == 0, report


def test_random_check_operations_keep_the_books(api):
    people(api, *PEOPLE)
    for who in PEOPLE:
        api.deposit(who, START)
    api.admin("GET", "/v1/admin/ledger/check")  # the operator's token, once
    World.api, World.tables = api, copy.deepcopy(moto_tables())
    print(f"checks properties: {EXAMPLES} examples of {STEPS} steps, seed {SEED}")
    run_state_machine_as_test(seed(SEED)(ChecksMachine), settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None,
        phases=[Phase.generate], suppress_health_check=list(HealthCheck)))
