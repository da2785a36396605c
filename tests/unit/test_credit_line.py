"""The credit line (POST /v1/wallet/credit-line) by its rules
(chalicelib/finance/credit.py): at least 30 days open, not frozen, not
negative, $500 in during this calendar month and the two before it
(interest excluded); granted up to the smallest of what was asked, half the
average monthly inflow of those three months and $5,000, rounded down to
whole dollars. A lowered limit below the debt blocks spending until it is
repaid."""
import uuid
from datetime import date

from chalicelib.db.balances import AccountItem
from chalicelib.finance import credit
from tests.unit.moneykit import assert_frozen, principal
from tests.unit.test_interest import advance, balanced, clock_to, job, start_of_next_month, today, withdraw


def too_little(cents):
    return (f"money in this month and the 2 before is {cents} cents; "
            f"credit needs {credit.CREDIT_INFLOW_MIN_CENTS}")


def first_of_month_after(day: date, months: int) -> str:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1).isoformat() + "T00:30:00Z"


def ask(api, handle, cents):
    return api.call("POST", "/v1/wallet/credit-line", {"requested_limit": cents}, as_=handle)


def refused(r, status, code):
    assert r.status_code == status and r.json_body["error"]["code"] == code, r.body
    return r.json_body["error"]


def pay(api, sender, to, amount):
    return api.money("POST", "/v1/transfers", {"to": to, "amount": amount, "currency": "USD"}, sender,
                     str(uuid.uuid4()))


def test_a_new_account_is_not_eligible_and_is_told_why(api):
    api.verified("newbie")
    error = refused(ask(api, "newbie", 100_000), 422, "not_eligible")
    assert set(error) == {"type", "code", "message", "param", "reasons"}
    assert len(error["reasons"]) == 2 and all(isinstance(r, str) and r for r in error["reasons"])
    assert "30" in error["reasons"][0] and "cents" in error["reasons"][1], error["reasons"]
    api.deposit("newbie", 1_000_000)  # money in, but still too new
    advance(api, credit.CREDIT_ACCOUNT_AGE_DAYS_MIN - 1)
    error = refused(ask(api, "newbie", 100_000), 422, "not_eligible")
    assert error["reasons"] == [f"the account is {credit.CREDIT_ACCOUNT_AGE_DAYS_MIN - 1} days old; credit needs "
                                f"{credit.CREDIT_ACCOUNT_AGE_DAYS_MIN}"]
    assert api.wallet("newbie")["credit_limit"] == 0
    advance(api, 1)  # 30 days: eligible
    r = ask(api, "newbie", 100_000)
    assert r.status_code == 200 and r.json_body["credit_limit"] == 100_000, r.body
    # Shape and who may ask.
    for body in ({"requested_limit": -1}, {"requested_limit": 1.5}, {"requested_limit": "100"}, {}):
        r = api.call("POST", "/v1/wallet/credit-line", body, as_="newbie")
        assert r.status_code == 400 and r.json_body["error"]["param"] == "requested_limit", (body, r.body)
    api.signup("stranger")
    refused(ask(api, "stranger", 100), 403, "verification_required")


def test_enough_history_is_granted_half_the_monthly_inflow_rounded_down_to_dollars(api):
    api.verified("steady")
    api.deposit("steady", 200_000)
    advance(api, 20)
    api.deposit("steady", 100_789)  # 300,789 in 3 months: half a month's average is 50,131.5 -> $501
    advance(api, 15)
    r = ask(api, "steady", 1_000_000)
    assert r.status_code == 200, r.body
    w = r.json_body
    assert (w["credit_limit"], w["spendable"]) == (50_100, 300_789 + 50_100)
    assert api.wallet("steady") == w
    # No more than the rules allow: refused, with the reason.
    error = refused(ask(api, "steady", 60_000), 422, "not_eligible")
    assert error["reasons"] == ["the inflow supports no higher limit than the current one"]
    # Lowering is always allowed, to the cent; a raise is granted in whole dollars.
    assert ask(api, "steady", 10_001).json_body["credit_limit"] == 10_001
    assert ask(api, "steady", 24_999).json_body["credit_limit"] == 24_900
    assert ask(api, "steady", 24_900).json_body["credit_limit"] == 24_900  # the same again: unchanged
    assert ask(api, "steady", 10**12).json_body["credit_limit"] == 50_100


def test_the_cap_and_the_three_month_window(api):
    start_of_next_month(api)
    api.verified("rich")
    api.deposit("rich", 2_000_000)
    api.deposit("rich", 1_700_000)  # 3,700,000 in: half a month's average 616,666 -> the cap, $5,000
    deposited = today()
    advance(api, 31)
    r = ask(api, "rich", 10**12)
    assert r.status_code == 200 and r.json_body["credit_limit"] == credit.CREDIT_LIMIT_MAX_CENTS, r.body
    assert ask(api, "rich", 0).json_body["credit_limit"] == 0
    clock_to(api, first_of_month_after(deposited, 2))  # the deposits' month is the second before this one
    assert ask(api, "rich", 100_000).status_code == 200
    assert ask(api, "rich", 0).status_code == 200
    clock_to(api, first_of_month_after(deposited, 3))  # ... and now out of the window
    error = refused(ask(api, "rich", 100_000), 422, "not_eligible")
    assert error["reasons"] == [too_little(0)]
    # Accrual drops the months no decision counts any more from the account.
    job(api, "accrue-interest")
    assert AccountItem.find(api.wallet("rich")["id"]).inflow.as_dict() == {}


def test_interest_is_not_inflow(api):
    api.verified("saver")
    api.deposit("saver", credit.CREDIT_INFLOW_MIN_CENTS - 100)  # a dollar short
    now = advance(api, 32)
    job(api, "post-interest")
    earned = api.wallet("saver")["balance"] - (credit.CREDIT_INFLOW_MIN_CENTS - 100)
    assert earned >= 100, earned  # it would have been enough
    error = refused(ask(api, "saver", 10_000), 422, "not_eligible")
    assert error["reasons"] == [too_little(credit.CREDIT_INFLOW_MIN_CENTS - 100)], (error, now)


def test_a_negative_balance_is_not_eligible_for_more(api):
    api.verified("owing")
    api.deposit("owing", 600_000)
    advance(api, 31)
    assert ask(api, "owing", 50_000).json_body["credit_limit"] == 50_000
    withdraw(api, "owing", 600_000 + 100)
    error = refused(ask(api, "owing", 100_000), 422, "not_eligible")
    assert error["reasons"] == ["the balance is negative"]
    assert api.wallet("owing")["credit_limit"] == 50_000


def test_a_limit_lowered_below_the_debt_blocks_spending_until_repaid(api):
    api.verified("owing")
    api.verified("friend")
    r = api.admin("PUT", "/v1/admin/users/owing/credit-limit", {"credit_limit": 20_000, "reason": "test"})
    assert r.status_code == 200 and r.json_body["credit_limit"] == 20_000, r.body
    assert pay(api, "owing", "friend", 15_000).status_code == 201  # into the line: -150.00
    # Spending past the line is refused, to the cent.
    refused(pay(api, "owing", "friend", 5_001), 422, "insufficient_funds")
    assert pay(api, "owing", "friend", 5_000).status_code == 201  # exactly at -limit
    refused(pay(api, "owing", "friend", 1), 422, "insufficient_funds")
    api.deposit("owing", 5_000)  # -150.00 again
    # The person lowers the line below what they owe: allowed, and it blocks spending.
    r = ask(api, "owing", 10_000)
    assert r.status_code == 200, r.body
    w = r.json_body
    assert (w["balance"], w["credit_limit"], w["spendable"]) == (-15_000, 10_000, -5_000)
    refused(pay(api, "owing", "friend", 1), 422, "insufficient_funds")
    r = api.money("POST", "/v1/wallet/withdrawals", {"amount": 1, "currency": "USD"}, "owing", str(uuid.uuid4()))
    refused(r, 422, "insufficient_funds")
    api.deposit("owing", 5_000)  # back to -$100, exactly the line: still nothing to spend
    refused(pay(api, "owing", "friend", 1), 422, "insufficient_funds")
    api.deposit("owing", 1)
    assert pay(api, "owing", "friend", 1).status_code == 201
    refused(pay(api, "owing", "friend", 1), 422, "insufficient_funds")
    w = api.wallet("owing")
    assert (w["balance"], w["spendable"]) == (-10_000, 0)
    # The operator lowers it to zero: the debt stays, spending stays blocked.
    r = api.admin("PUT", "/v1/admin/users/owing/credit-limit", {"credit_limit": 0})
    assert r.status_code == 200 and r.json_body["spendable"] == -10_000, r.body
    refused(pay(api, "owing", "friend", 1), 422, "insufficient_funds")
    balanced(api)


def test_a_frozen_account_is_not_eligible(api):
    api.verified("cold")
    api.deposit("cold", 600_000)
    advance(api, 31)
    r = api.admin("POST", "/v1/admin/users/cold/freeze", {"reason": "test"})
    assert r.status_code == 200, r.body
    assert api.login("cold").status_code == 200  # freezing revoked the old token
    error = refused(ask(api, "cold", 10_000), 422, "not_eligible")
    assert error["reasons"] == ["the account is frozen"]


def test_a_busy_account_is_decided_like_any_other(api, monkeypatch):
    """More entries in the months counted than one statement may hold is no reason for
    a 400: the rules read the inflow, not a statement."""
    from chalicelib.finance import wallet
    monkeypatch.setattr(wallet, "STATEMENT_ENTRIES_MAX", 3)
    api.verified("busy")
    for _ in range(5):
        api.deposit("busy", 20_000)
    advance(api, 31)
    r = ask(api, "busy", 100_000)
    assert r.status_code == 200 and r.json_body["credit_limit"] == 100_000 // 6 // 100 * 100, r.body


def test_the_credit_line_service_answers_a_frozen_record_that_is_the_account_the_routes_send(api):
    api.verified("alice")
    account = credit.request_credit_line(principal("alice"), 0)  # asking for no more than the limit: granted
    assert (account.credit_limit, account.balance, account.status) == (0, 0, "active")
    assert_frozen(account, "credit_limit", 500_000)
    assert account.as_json() == api.wallet("alice")
    r = ask(api, "alice", 0)
    assert r.status_code == 200 and r.json_body == account.as_json(), r.body
