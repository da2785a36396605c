"""Random card lives (hypothesis, stateful): authorizations, increments,
clearings, reversals, refunds, expiry and replayed events in any order keep
the books: balances sum to zero, `held` is the account's pending holds, and
nothing is approved beyond what was spendable."""
import itertools
from datetime import timedelta

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from chalicelib import clock
from tests.unit.cards_world import CAR_RENTAL, DINER, HOTEL, SHOP, assert_books_clean, person_with_card

_people = itertools.count(1)
MERCHANTS = st.sampled_from([SHOP, DINER, HOTEL, CAR_RENTAL])


def machine(api):
    class CardLife(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.handle = f"prop{next(_people)}"
            self.net = person_with_card(api, self.handle, deposit=5_000)
            self.auths = []
            self.calls = []  # (path-kind, send) of earlier events, to replay

        def wallet(self):
            return api.wallet(self.handle)

        def _remember(self, send, response):
            assert response.status_code < 500, response.body
            self.calls.append((send, response.status_code, response.json_body))
            return response

        @rule(amount=st.integers(1, 4_000), merchant=MERCHANTS)
        def authorize(self, amount, merchant):
            spendable = self.wallet()["spendable"]
            event = f"a{len(self.calls)}-{self.handle}"
            r = self._remember(lambda: self.net.authorize(amount, merchant, event=event),
                               self.net.authorize(amount, merchant, event=event))
            if r.json_body["approved"]:
                assert amount <= spendable
                self.auths.append(r.json_body["authorization_id"])
            else:
                assert amount > spendable or r.json_body["decline_reason"] != "insufficient_funds"

        @rule(data=st.data(), amount=st.integers(1, 2_000))
        def increment(self, data, amount):
            if not self.auths:
                return
            auth = data.draw(st.sampled_from(self.auths))
            spendable = self.wallet()["spendable"]
            r = self.net.increment(auth, amount)
            assert r.status_code in (200, 409), r.body
            if r.status_code == 200 and r.json_body["approved"]:
                assert amount <= spendable

        @rule(data=st.data(), percent=st.integers(1, 130))
        def clear(self, data, percent):
            if not self.auths:
                return
            auth = data.draw(st.sampled_from(self.auths))
            amount = max(1, 1_000 * percent // 100)
            event = f"c{len(self.calls)}-{self.handle}"
            self._remember(lambda: self.net.clear(amount, auth, event=event), self.net.clear(amount, auth, event=event))

        @rule(data=st.data(), part=st.booleans())
        def reverse(self, data, part):
            if not self.auths:
                return
            auth = data.draw(st.sampled_from(self.auths))
            r = self.net.reverse(auth, 1 if part else None)
            assert r.status_code in (200, 400, 409), r.body

        @rule(amount=st.integers(1, 3_000))
        def refund(self, amount):
            event = f"r{len(self.calls)}-{self.handle}"
            self._remember(lambda: self.net.refund(amount, event=event), self.net.refund(amount, event=event))

        @rule(amount=st.integers(1, 3_000))
        def forced_clearing(self, amount):
            event = f"f{len(self.calls)}-{self.handle}"
            self._remember(lambda: self.net.clear(amount, event=event), self.net.clear(amount, event=event))

        @rule()
        def expire(self):
            clock.pin(clock.now() + timedelta(days=8))
            r = api.admin("POST", "/v1/admin/jobs/expire-holds", {"as_of": clock.now().date().isoformat()})
            assert r.status_code == 200, r.body

        @rule(data=st.data())
        def replay(self, data):
            if not self.calls:
                return
            send, status, body = data.draw(st.sampled_from(self.calls))
            before = self.wallet()
            again = send()
            assert (again.status_code, again.json_body) == (status, body)
            assert self.wallet() == before

        @invariant()
        def held_is_the_pending_holds(self):
            from chalicelib.finance import ledger
            w = self.wallet()
            holds = ledger.pending_holds(w["id"], consistent=True)
            assert w["held"] == sum(h.holding for h in holds)
            assert w["spendable"] == w["balance"] - w["held"] + w["credit_limit"]

        def teardown(self):
            assert_books_clean()

    return CardLife


def test_random_card_lives_keep_the_books(api):
    run_state_machine_as_test(machine(api), settings=settings(
        max_examples=8, stateful_step_count=12, deadline=None, derandomize=True,
        suppress_health_check=list(HealthCheck)))
