"""Creator money end to end in-process: unlock, tip, subscribe, renew, pay in a DM, earnings."""

def test_creator_flow(api):
    for h in ("alice", "bob", "carol"):
        api.verified(h)
    api.deposit("bob", 100_000)
    p = api.call("POST", "/v1/posts", {"text": "A secret recipe with forty plus characters in it for sure", "price": {"amount": 999, "currency": "USD"}}, as_="alice").json_body
    assert p["locked"] is False
    seen = api.call("GET", f"/v1/posts/{p['id']}", as_="bob").json_body
    assert seen["locked"] is True and len(seen["text"]) == 40
    r = api.money("POST", f"/v1/posts/{p['id']}/unlock", None, "bob", "u1")
    assert r.status_code == 201, r.body
    assert api.call("GET", f"/v1/posts/{p['id']}", as_="bob").json_body["locked"] is False
    r2 = api.money("POST", f"/v1/posts/{p['id']}/unlock", None, "bob", "u2")
    assert r2.status_code == 200, r2.body
    r3 = api.money("POST", f"/v1/posts/{p['id']}/unlock", None, "bob", "u1")
    assert r3.status_code == 201 and r3.headers.get("Idempotent-Replayed") == "true", (r3.status_code, r3.body)
    assert api.wallet("alice")["balance"] == 900
    t = api.money("POST", f"/v1/posts/{p['id']}/tips", {"amount": 500, "currency": "USD"}, "bob", "t1")
    assert t.status_code == 201, t.body
    assert api.call("GET", f"/v1/posts/{p['id']}", as_="carol").json_body["tip_total"] == 500
    r = api.call("PUT", "/v1/me/subscription-price", {"amount": 1000, "currency": "USD"}, as_="alice"); assert r.status_code == 200, r.body
    s = api.money("POST", "/v1/users/alice/subscription", None, "bob", "s1"); assert s.status_code == 201, s.body
    assert s.json_body["status"] == "active"
    sp = api.call("POST", "/v1/posts", {"text": "for subscribers only, a long text here", "audience": "subscribers"}, as_="alice").json_body
    assert api.call("GET", f"/v1/posts/{sp['id']}", as_="bob").json_body["locked"] is False
    assert api.call("GET", f"/v1/posts/{sp['id']}", as_="carol").json_body["locked"] is True
    assert api.wallet("alice")["balance"] == 900 + 500 + 900
    c = api.call("POST", "/v1/conversations", {"with": "alice"}, as_="bob").json_body
    m = api.money("POST", f"/v1/conversations/{c['id']}/payments", {"amount": 300, "currency": "USD", "note": "coffee"}, "bob", "m1")
    assert m.status_code == 201 and m.json_body["payment"]["amount"] == 300, m.body
    m2 = api.money("POST", f"/v1/conversations/{c['id']}/payments", {"amount": 300, "currency": "USD", "note": "coffee"}, "bob", "m1")
    assert m2.status_code == 201 and m2.json_body["id"] == m.json_body["id"], m2.body
    msgs = api.call("GET", f"/v1/conversations/{c['id']}/messages", as_="alice").json_body["data"]
    assert msgs[0]["payment"]["amount"] == 300
    month = api.call("GET", "/v1/wallet", as_="alice").json_body["opened_at"][:7]
    e = api.call("GET", f"/v1/me/earnings?month={month}", as_="alice")
    assert e.status_code == 200, e.body
    assert e.json_body["by_kind"]["unlock"] == {"gross": 999, "fees": 99, "net": 900, "count": 1}, e.body
    assert e.json_body["by_kind"]["subscription"]["net"] == 900
    assert e.json_body["by_kind"]["tip"]["net"] == 500
    assert api.admin("GET", "/v1/admin/ledger/check").json_body["balanced"] is True
    api.admin("POST", "/v1/admin/test-clock", {"advance_days": 32})
    j = api.admin("POST", "/v1/admin/jobs/subscriptions", {}); assert j.status_code == 200, j.body
    assert j.json_body["changed"] == 1, j.body
    j = api.admin("POST", "/v1/admin/jobs/subscriptions", {}); assert j.json_body["changed"] == 0, j.body
    assert api.wallet("alice")["balance"] == 900 + 500 + 900 + 300 + 900
    subs = api.call("GET", "/v1/me/subscriptions", as_="bob").json_body["data"]
    assert subs[0]["periods_paid"] == 2, subs
