def test_signup_login_me_verify_over_http(http):
    handle = http.signup()
    assert http.login(handle).status_code == 200
    me = http.call("GET", "/v1/me", as_=handle)
    assert me.status_code == 200 and me.json()["handle"] == handle and me.json()["verified"] is False
    r = http.admin("POST", f"/v1/admin/users/{handle}/verify", {"reason": "passport checked"})
    assert r.status_code == 200 and r.json()["verified"] is True
    wallet = http.call("GET", "/v1/wallet", as_=handle)
    assert wallet.status_code == 200 and wallet.json()["balance"] == 0


def test_unknown_path_is_a_404_error_object_that_echoes_nothing(http):
    r = http.http.get("/v1/nowhere", headers={"Authorization": "Bearer secret-token-value"})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    assert "secret-token-value" not in r.text
