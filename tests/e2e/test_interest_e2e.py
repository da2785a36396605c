"""The credit line over real HTTP, with people spending at once: the dev
server against the locked moto server (tests/e2e/conftest.py). No debit
takes a balance below -credit_limit however many race for it, and a limit
lowered while they race leaves a consistent account that refuses to spend.

The session's test clock is shared by every e2e test, so nothing here
moves it; nor does anything here run the interest jobs: once other e2e files
have moved the clock a year, a synchronous run catches up a year of every
session account, more than a client waits."""
from collections import Counter

from tests.e2e.test_money_e2e import _check, _client, _race


def _wallet(http, handle):
    r = http.call("GET", "/v1/wallet", as_=handle)
    assert r.status_code == 200, r.text
    return r.json()


def _set_limit(http, handle, cents):
    r = http.admin("PUT", f"/v1/admin/users/{handle}/credit-limit", {"credit_limit": cents})
    assert r.status_code == 200, r.text
    return r.json()


def test_twelve_people_racing_into_a_credit_line_stop_at_its_edge(http):
    spender, friend = http.verified(), http.verified()
    assert http.money("/v1/wallet/deposits", {"amount": 5_000, "currency": "USD"}, spender).status_code == 201
    assert _set_limit(http, spender, 10_000)["spendable"] == 15_000
    clients = [_client(http) for _ in range(12)]

    def spend(i):  # transfers and withdrawals, $20 each: 7 fit in $150 of spendable
        if i % 2:
            return clients[i].money("/v1/transfers", {"to": friend, "amount": 2_000, "currency": "USD"}, spender)
        return clients[i].money("/v1/wallet/withdrawals", {"amount": 2_000, "currency": "USD"}, spender)

    answers = _race(12, spend)
    for c in clients:
        c.http.close()
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {201: 7, 422: 5}, [(a.status_code, a.text) for a in answers]
    assert all(a.json()["error"]["code"] == "insufficient_funds" for a in answers if a.status_code == 422)
    w = _wallet(http, spender)
    assert (w["balance"], w["credit_limit"], w["spendable"]) == (5_000 - 14_000, 10_000, 1_000)
    assert _wallet(http, friend)["balance"] == 2_000 * sum(1 for i, a in enumerate(answers)
                                                           if i % 2 and a.status_code == 201)
    check = _check(http)
    assert check["balanced"] is True and check["total"] == 0, check


def test_a_limit_lowered_while_people_spend_blocks_what_is_past_it(http):
    spender, friend = http.verified(), http.verified()
    _set_limit(http, spender, 20_000)
    clients = [_client(http) for _ in range(10)]
    admin = _client(http)

    def act(i):
        if i == 0:
            return admin.admin("PUT", f"/v1/admin/users/{spender}/credit-limit", {"credit_limit": 3_000})
        return clients[i].money("/v1/transfers", {"to": friend, "amount": 2_500, "currency": "USD"}, spender)

    answers = _race(10, act)
    for c in clients + [admin]:
        c.http.close()
    assert answers[0].status_code == 200, answers[0].text
    sent = [a for a in answers[1:] if a.status_code == 201]
    assert all(a.status_code == 422 and a.json()["error"]["code"] == "insufficient_funds"
               for a in answers[1:] if a.status_code != 201), [(a.status_code, a.text) for a in answers]
    # Before the lowering at most 8 fit in $200; after it, at most 1 in $30.
    assert 1 <= len(sent) <= 8, len(sent)
    w = _wallet(http, spender)
    assert w["balance"] == -2_500 * len(sent) >= -20_000
    assert (w["credit_limit"], w["spendable"]) == (3_000, w["balance"] + 3_000)
    if w["spendable"] < 2_500:
        r = http.money("/v1/transfers", {"to": friend, "amount": 2_500, "currency": "USD"}, spender)
        assert r.status_code == 422 and r.json()["error"]["code"] == "insufficient_funds", r.text
    # Repaid past the line, spending works again.
    repay = 2_500 - w["spendable"]
    if repay > 0:
        assert http.money("/v1/wallet/deposits", {"amount": repay, "currency": "USD"}, spender).status_code == 201
    r = http.money("/v1/transfers", {"to": friend, "amount": 2_500, "currency": "USD"}, spender)
    assert r.status_code == 201, r.text
    assert _wallet(http, spender)["spendable"] >= 0
    check = _check(http)
    assert check["balanced"] is True and check["total"] == 0, check
