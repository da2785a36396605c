"""Issuing a card, its states and limits, and revealing it (API.md, Cards)."""
import uuid

import pytest

from chalicelib.finance.cards import luhn_valid
from tests.conftest import PASSWORD


def _create(api, who, label="groceries", key=None):
    return api.money("POST", "/v1/cards", {"label": label}, who, key or str(uuid.uuid4()))


@pytest.fixture
def alice(api):
    api.verified("alice")
    return api


def test_a_new_card_is_a_luhn_valid_visa_on_flocks_bin_valid_four_years(alice):
    r = _create(alice, "alice")
    assert r.status_code == 201, r.body
    card = r.json_body
    assert card["id"].startswith("card_") and card["brand"] == "visa" and card["status"] == "active"
    assert len(card["number"]) == 16 and luhn_valid(card["number"]) and card["number"].startswith("453275")
    assert len(card["cvc"]) == 3 and card["cvc"].isdigit()
    assert card["last4"] == card["number"][-4:]
    assert (card["exp_month"], card["exp_year"]) == (3, 2030)  # issued March 2026 (the test clock)
    assert card["label"] == "groceries"
    assert card["limits"] == {"per_transaction": None, "daily": None, "monthly": None, "blocked_mccs": [],
                              "allowed_countries": []}


def test_luhn():
    assert luhn_valid("4539578763621486") and not luhn_valid("4539578763621487")
    assert luhn_valid("79927398713") and not luhn_valid("abc")


def test_a_replay_answers_the_card_without_number_and_another_label_is_409(alice):
    key = str(uuid.uuid4())
    first = _create(alice, "alice", key=key).json_body
    again = _create(alice, "alice", key=key)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert "number" not in again.json_body and "cvc" not in again.json_body
    assert again.json_body["id"] == first["id"]
    other = _create(alice, "alice", label="travel", key=key)
    assert other.status_code == 409 and other.json_body["error"]["code"] == "idempotency_key_reused"
    assert len(alice.call("GET", "/v1/cards", as_="alice").json_body["data"]) == 1


def test_without_a_key_or_unverified(alice):
    r = alice.call("POST", "/v1/cards", {"label": "x"}, as_="alice")
    assert r.status_code == 400 and r.json_body["error"]["code"] == "idempotency_key_required"
    from chalicelib.social import people
    alice.tokens["bob"] = people.signup("bob", PASSWORD).token
    r = _create(alice, "bob")
    assert r.status_code == 403 and r.json_body["error"]["code"] == "verification_required"


@pytest.mark.parametrize("label", [5, "x" * 41, "a\u0000b"])
def test_a_bad_label_is_400(alice, label):
    r = _create(alice, "alice", label=label)
    assert r.status_code == 400 and r.json_body["error"]["param"] == "label"


def test_at_most_five_open_cards_and_closing_one_frees_a_place(alice):
    made = [_create(alice, "alice").json_body for _ in range(5)]
    sixth = _create(alice, "alice")
    assert sixth.status_code == 422 and sixth.json_body["error"]["code"] == "limit_exceeded"
    closed = alice.call("DELETE", f"/v1/cards/{made[0]['id']}", as_="alice")
    assert closed.status_code == 200 and closed.json_body["status"] == "closed"
    assert _create(alice, "alice").status_code == 201
    assert len(alice.call("GET", "/v1/cards", as_="alice").json_body["data"]) == 6


def test_freeze_unfreeze_close_is_final(alice):
    card = _create(alice, "alice").json_body
    path = f"/v1/cards/{card['id']}"
    assert alice.call("POST", path + "/freeze", as_="alice").json_body["status"] == "frozen"
    assert alice.call("GET", path, as_="alice").json_body["status"] == "frozen"
    assert alice.call("POST", path + "/unfreeze", as_="alice").json_body["status"] == "active"
    assert alice.call("DELETE", path, as_="alice").json_body["status"] == "closed"
    for action in ("/unfreeze", "/freeze"):
        r = alice.call("POST", path + action, as_="alice")
        assert r.status_code == 409 and r.json_body["error"]["code"] == "invalid_state"
    assert alice.call("DELETE", path, as_="alice").json_body["status"] == "closed"


def test_limits_are_set_in_part_and_checked(alice):
    card = _create(alice, "alice").json_body
    path = f"/v1/cards/{card['id']}/limits"
    r = alice.call("PUT", path, {"daily": 5000, "blocked_mccs": ["7995", "7995"], "allowed_countries": ["US"]},
                   as_="alice")
    assert r.status_code == 200, r.body
    assert r.json_body["limits"] == {"per_transaction": None, "daily": 5000, "monthly": None,
                                     "blocked_mccs": ["7995"], "allowed_countries": ["US"]}
    r = alice.call("PUT", path, {"per_transaction": 100, "daily": None}, as_="alice")
    assert r.json_body["limits"]["per_transaction"] == 100 and r.json_body["limits"]["daily"] is None
    assert r.json_body["limits"]["allowed_countries"] == ["US"]
    for bad in ({"daily": 0}, {"daily": -1}, {"daily": 10**13}, {"daily": 1.5}, {"daily": "5"},
                {"blocked_mccs": ["79"]}, {"allowed_countries": ["usa"]}, {"extra": 1}):
        r = alice.call("PUT", path, bad, as_="alice")
        assert r.status_code == 400, (bad, r.body)


def test_reveal_needs_the_password_and_five_a_day(alice):
    card = _create(alice, "alice").json_body
    path = f"/v1/cards/{card['id']}/reveal"
    wrong = alice.call("POST", path, {"password": "not the password"}, as_="alice")
    assert wrong.status_code == 401 and wrong.json_body["error"]["code"] == "invalid_credentials"
    assert card["number"] not in wrong.body.decode()
    for _ in range(5):
        r = alice.call("POST", path, {"password": PASSWORD}, as_="alice")
        assert r.status_code == 200, r.body
        assert r.json_body == {"number": card["number"], "cvc": card["cvc"], "exp_month": card["exp_month"],
                               "exp_year": card["exp_year"]}
    sixth = alice.call("POST", path, {"password": PASSWORD}, as_="alice")
    assert sixth.status_code == 429 and sixth.json_body["error"]["code"] == "rate_limited"
    assert int(sixth.headers["Retry-After"]) >= 1
    events = alice.call("GET", "/v1/me/security-events", as_="alice").json_body["data"]
    assert sum(e["type"] == "card_reveal" for e in events) == 5
    trail = alice.admin("GET", "/v1/admin/audit").json_body["data"]
    assert sum(r["action"] == "card_reveal" and r["target"] == card["id"] for r in trail) == 5


def test_the_number_is_shown_by_create_and_reveal_only(alice):
    card = _create(alice, "alice").json_body
    listed = alice.call("GET", "/v1/cards", as_="alice").body.decode()
    one = alice.call("GET", f"/v1/cards/{card['id']}", as_="alice").body.decode()
    frozen = alice.call("POST", f"/v1/cards/{card['id']}/freeze", as_="alice").body.decode()
    for text in (listed, one, frozen):
        assert card["number"] not in text and card["last4"] in text


def test_another_persons_card_is_not_found(alice):
    card = _create(alice, "alice").json_body
    alice.verified("mallory")
    for method, suffix in (("GET", ""), ("POST", "/freeze"), ("DELETE", "")):
        r = alice.call(method, f"/v1/cards/{card['id']}{suffix}", as_="mallory")
        assert r.status_code == 404
    r = alice.call("POST", f"/v1/cards/{card['id']}/reveal", {"password": PASSWORD}, as_="mallory")
    assert r.status_code == 404
    assert alice.call("GET", "/v1/cards", as_="mallory").json_body["data"] == []


def test_password_guesses_at_reveal_are_throttled_like_logins(alice):
    card = _create(alice, "alice").json_body
    path = f"/v1/cards/{card['id']}/reveal"
    codes = [alice.call("POST", path, {"password": f"guess number {i}"}, as_="alice").status_code for i in range(6)]
    assert codes == [401] * 5 + [429]
    assert alice.call("POST", path, {"password": PASSWORD}, as_="alice").status_code == 429


def test_the_card_services_return_frozen_records_whose_json_is_the_routes_answer(alice):
    from pydantic import ValidationError

    from chalicelib.finance import cards
    from chalicelib.identity.users import authenticate
    from chalicelib.records.cards import Card, CardSecrets
    created = _create(alice, "alice").json_body
    principal = authenticate(alice.tokens["alice"])
    card = cards.get_card(principal, created["id"])
    assert type(card) is Card
    with pytest.raises(ValidationError):
        card.status = "closed"
    with pytest.raises(ValidationError):
        card.limits.daily = 1
    assert card.as_json() == alice.call("GET", f"/v1/cards/{created['id']}", as_="alice").json_body
    frozen = cards.freeze(principal, created["id"])
    assert frozen.status == "frozen"
    listed, _ = cards.list_cards(principal, 10, None)
    assert [c.as_json() for c in listed] == alice.call("GET", "/v1/cards", as_="alice").json_body["data"]
    assert listed[0].as_json() == frozen.as_json()
    shown = cards.reveal(principal, created["id"], PASSWORD)
    assert type(shown) is CardSecrets and shown.as_json() == {
        "number": created["number"], "cvc": created["cvc"], "exp_month": created["exp_month"],
        "exp_year": created["exp_year"]}
    with pytest.raises(ValidationError):
        shown.number = "4532750000000000"
    new, replayed = cards.create(principal, "travel", str(uuid.uuid4()))
    assert not replayed and luhn_valid(new.as_json()["number"]) and new.as_json()["label"] == "travel"
    # A record logged, or shown in a traceback, never prints the secrets.
    for record, number in ((shown, created["number"]), (new, new.number)):
        assert "number=" not in repr(record) and "cvc=" not in repr(record) and number not in repr(record)
