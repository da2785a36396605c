def test_health_needs_no_token(api):
    r = api.call("GET", "/v1/health")
    assert r.status_code == 200 and r.json_body == {"status": "ok"}


def test_alice_signs_up_deposits_and_pays_bob(api):
    api.verified("alice")
    api.verified("bob")
    api.deposit("alice", 10_000)
    r = api.money("POST", "/v1/transfers", {"to": "bob", "amount": 2_500, "currency": "USD"}, "alice", "k1")
    assert r.status_code == 201, r.body
    assert api.wallet("alice")["balance"] == 7_500
    assert api.wallet("bob")["balance"] == 2_500
