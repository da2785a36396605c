"""Routes a client generated from the OpenAPI document needs: clearing a
subscription price without sending `null`, and the statement's CSV chosen by
`Accept` (the older `?format=csv` still works)."""
import csv
import io
import uuid

import pytest

from chalicelib import clock
from chalicelib.api.wallet import wants_csv

USD = "USD"


def _price(api, handle, amount):
    return api.call("PUT", "/v1/me/subscription-price", {"amount": amount, "currency": USD}, as_=handle)


def _subscribe(api, fan, creator):
    return api.call("POST", f"/v1/users/{creator}/subscription", as_=fan,
                    headers={"Idempotency-Key": str(uuid.uuid4())})


def test_delete_clears_the_price_and_no_one_can_subscribe_after(api):
    api.verified("alice")
    api.verified("bob")
    api.deposit("bob", 10_000)
    assert _price(api, "alice", 500).status_code == 200
    r = api.call("DELETE", "/v1/me/subscription-price", as_="alice")
    assert (r.status_code, r.json_body) == (200, {"subscription_price": None})
    refused = _subscribe(api, "bob", "alice")
    assert (refused.status_code, refused.json_body["error"]["code"]) == (422, "not_eligible")
    again = api.call("DELETE", "/v1/me/subscription-price", as_="alice")  # already clear: the same answer
    assert (again.status_code, again.json_body) == (200, {"subscription_price": None})


def test_delete_keeps_the_subscriptions_already_paid(api):
    api.verified("alice")
    api.verified("bob")
    api.deposit("bob", 10_000)
    _price(api, "alice", 500)
    sub = _subscribe(api, "bob", "alice")
    assert sub.status_code == 201
    assert api.call("DELETE", "/v1/me/subscription-price", as_="alice").status_code == 200
    mine = api.call("GET", "/v1/me/subscriptions", as_="bob").json_body["data"]
    assert [(s["id"], s["status"], s["price"]["amount"]) for s in mine] == [(sub.json_body["id"], "active", 500)]


def test_delete_has_the_puts_rules(api):
    r = api.call("DELETE", "/v1/me/subscription-price")
    assert (r.status_code, r.json_body["error"]["code"]) == (401, "unauthenticated")
    api.signup("carol")  # signed up, not verified
    r = api.call("DELETE", "/v1/me/subscription-price", as_="carol")
    assert (r.status_code, r.json_body["error"]["code"]) == (403, "verification_required")
    put = api.call("PUT", "/v1/me/subscription-price", None, as_="carol", raw="null")
    assert (put.status_code, put.json_body["error"]["code"]) == (403, "verification_required")


def test_a_body_on_delete_changes_nothing(api):
    api.verified("alice")
    _price(api, "alice", 700)
    r = api.call("DELETE", "/v1/me/subscription-price", {"amount": 900, "currency": USD}, as_="alice")
    assert (r.status_code, r.json_body) == (200, {"subscription_price": None})


# The statement's CSV ---------------------------------------------------------

def _month():
    return f"{clock.now():%Y-%m}"


def _rows(r):
    """The entry rows (the opening and closing balance rows left out)."""
    return [row for row in csv.DictReader(io.StringIO(r.body.decode()))
            if row["kind"] not in ("opening_balance", "closing_balance")]


@pytest.mark.parametrize("accept", ["text/csv", "text/csv; charset=utf-8", "application/json;q=0.5, text/csv",
                                    "TEXT/CSV", "*/*;q=0.1, text/csv"])
def test_accept_text_csv_answers_the_csv(api, accept):
    api.verified("alice")
    api.deposit("alice", 2_500)
    r = api.call("GET", f"/v1/wallet/statements/{_month()}", as_="alice", headers={"Accept": accept})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv"), r.body
    assert [(row["kind"], row["amount"]) for row in _rows(r)] == [("deposit", "2500")]
    assert f"statement-{_month()}.csv" in r.headers["Content-Disposition"]


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "text/csv;q=0.5, application/json",
                                    "text/csv;q=0.5, */*", "text/csv;q=0", "text/html", "text/csv;q=abc", ";;,,"])
def test_json_unless_csv_is_preferred(api, accept):
    api.verified("alice")
    api.deposit("alice", 2_500)
    r = api.call("GET", f"/v1/wallet/statements/{_month()}", as_="alice",
                 headers={"Accept": accept} if accept is not None else None)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json", (accept, r.body)
    assert [e["amount"] for e in r.json_body["entries"]] == [2_500]


def test_format_csv_still_works_for_old_clients_and_wins_over_accept(api):
    api.verified("alice")
    api.deposit("alice", 2_500)
    r = api.call("GET", f"/v1/wallet/statements/{_month()}?format=csv", as_="alice",
                 headers={"Accept": "application/json"})
    assert r.headers["Content-Type"].startswith("text/csv") and len(_rows(r)) == 1


def test_csv_of_another_month_or_a_bad_month_is_refused_like_json(api):
    api.verified("alice")
    r = api.call("GET", "/v1/wallet/statements/2026-13", as_="alice", headers={"Accept": "text/csv"})
    assert (r.status_code, r.json_body["error"]["param"]) == (400, "month")
    r = api.call("GET", f"/v1/wallet/statements/{_month()}", headers={"Accept": "text/csv"})
    assert r.status_code == 401


def test_the_document_declares_csv_as_its_own_media_type():
    import app as app_module
    from chalicelib.api import openapi
    ok = openapi.document(app_module.app)["paths"]["/v1/wallet/statements/{month}"]["get"]["responses"]["200"]
    assert set(ok["content"]) == {"application/json", "text/csv"}
    assert ok["content"]["text/csv"]["schema"] == {"type": "string"}


@pytest.mark.parametrize("accept,csv_wanted", [("text/csv", True), ("text/csv;q=1.0, application/json;q=0.9", True),
                                               ("application/json, text/csv", False), ("", False), (None, False),
                                               ("text/csv;q=nan", False), ("text/csv;q=-1", False),
                                               ("x" * 10_000, False)])
def test_wants_csv(accept, csv_wanted):
    assert wants_csv(accept) is csv_wanted


def test_the_csv_path_answers_the_same_file(api):
    api.verified("alice")
    api.deposit("alice", 2_500)
    by_accept = api.call("GET", f"/v1/wallet/statements/{_month()}", as_="alice", headers={"Accept": "text/csv"})
    by_path = api.call("GET", f"/v1/wallet/statements/{_month()}/csv", as_="alice")
    assert by_path.status_code == 200 and by_path.headers["Content-Type"].startswith("text/csv")
    assert by_path.body == by_accept.body and len(_rows(by_path)) == 1


def test_the_csv_path_refuses_like_the_statement(api):
    api.verified("alice")
    for month in ("2026-13", "0000-01", "x" * 300):
        r = api.call("GET", f"/v1/wallet/statements/{month}/csv", as_="alice")
        assert r.status_code == 400 and r.json_body["error"]["code"] == "invalid_request", (month, r.body)
    assert api.call("GET", f"/v1/wallet/statements/{_month()}/csv").status_code == 401
    api.signup("carol")  # no account yet
    r = api.call("GET", f"/v1/wallet/statements/{_month()}/csv", as_="carol")
    assert r.status_code in (403, 404) and "error" in r.json_body
