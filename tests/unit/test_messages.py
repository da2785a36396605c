"""Direct messages as their members (and strangers) see them: one
conversation per pair, messages with cursors, conversations by latest
activity, unread counts, and privacy (everyone else gets 404)."""
import urllib.parse

import pytest


def ok(r, status=200):
    assert r.status_code == status, (r.status_code, r.body)
    return r.json_body


def refused(r, status, code):
    assert r.status_code == status, (r.status_code, r.body)
    assert r.json_body["error"]["code"] == code, r.json_body


def open_with(api, who, whom, status=201):
    return ok(api.call("POST", "/v1/conversations", {"with": whom}, as_=who), status)


def send(api, who, conv_id, text):
    return ok(api.call("POST", f"/v1/conversations/{conv_id}/messages", {"text": text}, as_=who), 201)


def read(api, who, conv_id, limit=20, cursor=None):
    url = f"/v1/conversations/{conv_id}/messages?limit={limit}"
    if cursor:
        url += f"&cursor={urllib.parse.quote(cursor)}"
    return ok(api.call("GET", url, as_=who))


def inbox(api, who, limit=20):
    return ok(api.call("GET", f"/v1/conversations?limit={limit}", as_=who))["data"]


@pytest.fixture
def people(api):
    for h in ("alice", "bob", "carol", "eve"):
        api.signup(h)
    return api


def test_one_conversation_per_pair_201_then_200(people):
    first = open_with(people, "alice", "bob", 201)
    assert first["id"].startswith("conv_") and first["with"] == "bob"
    again = open_with(people, "alice", "bob", 200)
    assert again["id"] == first["id"]
    theirs = open_with(people, "bob", "ALICE", 200)               # from the other side, any case
    assert theirs["id"] == first["id"] and theirs["with"] == "alice"
    other = open_with(people, "alice", "carol", 201)
    assert other["id"] != first["id"]
    assert sorted(c["id"] for c in inbox(people, "alice")) == sorted([first["id"], other["id"]])
    assert [c["id"] for c in inbox(people, "bob")] == [first["id"]]


def test_conversation_refusals(people):
    refused(people.call("POST", "/v1/conversations", {"with": "alice"}, as_="alice"), 400, "invalid_request")
    refused(people.call("POST", "/v1/conversations", {"with": "nobody"}, as_="alice"), 404, "not_found")
    for body in ({}, {"with": 5}, {"with": ""}, {"with": "x" * 3000}, {"with": "bob", "extra": 1}, {"who": "bob"}):
        refused(people.call("POST", "/v1/conversations", body, as_="alice"), 400, "invalid_request")
    refused(people.call("POST", "/v1/conversations", {"with": "bob"}), 401, "unauthenticated")
    assert inbox(people, "alice") == []


def test_messages_newest_first_with_cursors(people):
    conv = open_with(people, "alice", "bob")["id"]
    sent = [send(people, "alice" if i % 2 == 0 else "bob", conv, f"message {i}") for i in range(7)]
    assert sent[0]["conversation_id"] == conv and sent[0]["sender"] == "alice" and sent[0]["id"].startswith("msg_")
    seen, cursor = [], None
    for _ in range(10):
        page = read(people, "bob", conv, limit=3, cursor=cursor)
        assert len(page["data"]) <= 3
        seen.extend(page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [m["id"] for m in seen] == [m["id"] for m in reversed(sent)]
    assert [m["text"] for m in seen] == [f"message {i}" for i in reversed(range(7))]


def test_message_cursors_are_checked(people):
    conv = open_with(people, "alice", "bob")["id"]
    other = open_with(people, "alice", "carol")["id"]
    for i in range(3):
        send(people, "alice", conv, f"m{i}")
        send(people, "alice", other, f"m{i}")
    cursor = read(people, "alice", conv, limit=1)["next_cursor"]
    assert cursor
    for bad in ("garbage", cursor + "x"):
        refused(people.call("GET", f"/v1/conversations/{conv}/messages?cursor={urllib.parse.quote(bad)}",
                            as_="alice"), 400, "invalid_request")
    # One conversation's cursor does not page another.
    refused(people.call("GET", f"/v1/conversations/{other}/messages?cursor={urllib.parse.quote(cursor)}",
                        as_="alice"), 400, "invalid_request")


def test_the_message_services_answer_frozen_records_the_routes_answer(people):
    from chalicelib.social import messages
    from tests.unit.test_social import assert_frozen, principal_of
    alice, bob = principal_of("alice"), principal_of("bob")
    conv, created = messages.open_conversation(alice, "bob")
    assert created is True and conv.with_ == "bob" and conv.members == ["alice", "bob"]
    assert conv.as_json()["with"] == "bob" and "with_" not in conv.as_json()
    assert_frozen(conv, "unread_count", 5)
    sent = messages.send(alice, conv.id, "on the record")
    assert sent.sender == "alice" and sent.payment is None and sent.as_json()["payment"] is None
    assert_frozen(sent, "text", "off the record")
    inboxes, _ = messages.conversations(bob, 20, None)
    assert [c.as_json() for c in inboxes] == inbox(people, "bob")
    assert inboxes[0].unread_count == 1 and inboxes[0].last_message_preview == "on the record"
    listed, _ = messages.messages(bob, conv.id, 20, None)
    assert [m.as_json() for m in listed] == read(people, "bob", conv.id)["data"] == [sent.as_json()]
    again, created = messages.open_conversation(bob, "alice")
    assert created is False and again.id == conv.id
    assert again.as_json() == open_with(people, "bob", "alice", 200)


def test_a_payment_message_reads_back_its_stored_transfer_as_a_record(api):
    from chalicelib.social import messages
    from tests.unit.test_social import assert_frozen, principal_of
    for handle in ("alice", "bob"):
        api.verified(handle)
    api.deposit("bob", 1_000)
    conv = open_with(api, "bob", "alice")["id"]
    paid = ok(api.money("POST", f"/v1/conversations/{conv}/payments",
                        {"amount": 300, "currency": "USD", "note": "coffee"}, "bob", "dm-1"), 201)
    listed, _ = messages.messages(principal_of("alice"), conv, 20, None)
    payment = listed[0].payment
    assert type(payment).__name__ == "Transfer" and payment.from_ == "bob" and payment.amount == 300
    # Stored without its time, the payment reads back with the message's (the
    # ledger's own time for it, in the POST's answer, may be a moment later).
    assert payment.created_at == listed[0].created_at
    shown = listed[0].as_json()
    del shown["payment"]["created_at"], paid["payment"]["created_at"]
    assert shown == paid
    assert_frozen(payment, "amount", 1)


def test_only_the_two_members_read_or_write(people):
    conv = open_with(people, "alice", "bob")["id"]
    send(people, "alice", conv, "secret for bob")
    for path_method in (("GET", f"/v1/conversations/{conv}/messages"),):
        refused(people.call(*path_method, as_="eve"), 404, "not_found")
    refused(people.call("POST", f"/v1/conversations/{conv}/messages", {"text": "let me in"}, as_="eve"),
            404, "not_found")
    refused(people.call("POST", f"/v1/conversations/{conv}/messages", {"text": "let me in"}, as_="carol"),
            404, "not_found")
    # The stranger learns nothing: the same answer as a conversation that does not exist.
    r_real = people.call("GET", f"/v1/conversations/{conv}/messages", as_="eve")
    r_none = people.call("GET", "/v1/conversations/conv_00000000000000000000000000/messages", as_="eve")
    assert r_real.status_code == r_none.status_code == 404 and r_real.json_body == r_none.json_body
    assert inbox(people, "eve") == []
    texts = [m["text"] for m in read(people, "bob", conv)["data"]]
    assert texts == ["secret for bob"]                               # eve's attempts wrote nothing
    # Opening her own conversation with alice gives eve another one, not alice and bob's.
    assert open_with(people, "eve", "alice")["id"] != conv


def test_unknown_or_absurd_conversation_ids_are_404(people):
    for conv in ("conv_doesnotexist", "nope", "conv_" + "x" * 3000, "post_abc"):
        refused(people.call("GET", f"/v1/conversations/{conv}/messages", as_="alice"), 404, "not_found")
        refused(people.call("POST", f"/v1/conversations/{conv}/messages", {"text": "hi"}, as_="alice"),
                404, "not_found")


def test_bad_message_bodies_are_400(people):
    conv = open_with(people, "alice", "bob")["id"]
    for body in ({"text": ""}, {"text": 3}, {"text": None}, {}, {"text": "x" * 2001}, {"text": "a", "to": "b"},
                 {"text": "nul\u0000"}):
        refused(people.call("POST", f"/v1/conversations/{conv}/messages", body, as_="alice"), 400, "invalid_request")
    assert read(people, "bob", conv)["data"] == []
    assert send(people, "alice", conv, "é" * 2000)["text"] == "é" * 2000


def test_conversations_are_listed_by_latest_activity(people):
    with_bob = open_with(people, "alice", "bob")["id"]
    with_carol = open_with(people, "alice", "carol")["id"]
    with_eve = open_with(people, "eve", "alice")["id"]
    send(people, "alice", with_bob, "1")
    send(people, "carol", with_carol, "2")
    send(people, "eve", with_eve, "3")
    assert [c["id"] for c in inbox(people, "alice")] == [with_eve, with_carol, with_bob]
    send(people, "bob", with_bob, "4")
    assert [c["id"] for c in inbox(people, "alice")] == [with_bob, with_eve, with_carol]
    listed = inbox(people, "alice")[0]
    assert listed["with"] == "bob" and listed["last_message_preview"] == "4"
    # Pages of one, following the cursor, give the same order without repeats.
    seen, cursor = [], None
    for _ in range(10):
        url = "/v1/conversations?limit=1" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        page = ok(people.call("GET", url, as_="alice"))
        seen.extend(c["id"] for c in page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [with_bob, with_eve, with_carol]


def test_unread_counts(people):
    conv = open_with(people, "alice", "bob")["id"]
    for i in range(3):
        send(people, "alice", conv, f"hi {i}")
    assert inbox(people, "bob")[0]["unread_count"] == 3
    assert inbox(people, "alice")[0]["unread_count"] == 0          # one's own messages are read
    assert open_with(people, "bob", "alice", 200)["unread_count"] == 3
    read(people, "bob", conv)
    assert inbox(people, "bob")[0]["unread_count"] == 0
    send(people, "alice", conv, "again")
    assert inbox(people, "bob")[0]["unread_count"] == 1
    send(people, "bob", conv, "answer")                                # answering reads the conversation
    assert inbox(people, "bob")[0]["unread_count"] == 0
    assert inbox(people, "alice")[0]["unread_count"] == 1


def test_dms_need_a_token(people):
    conv = open_with(people, "alice", "bob")["id"]
    refused(people.call("GET", "/v1/conversations"), 401, "unauthenticated")
    refused(people.call("GET", f"/v1/conversations/{conv}/messages"), 401, "unauthenticated")
    refused(people.call("POST", f"/v1/conversations/{conv}/messages", {"text": "x"}), 401, "unauthenticated")


from tests.unit.test_social import faults, lost_answers  # noqa: E402,F401 - the fixtures


def test_dms_whose_answers_were_lost_happen_once(people, lost_answers):  # noqa: F811 - the imported fixture
    state = lost_answers(1)
    conv = open_with(people, "alice", "bob", 201)["id"]               # created by this request: still 201
    assert state.lost == 1
    lost_answers(1)
    sent = send(people, "alice", conv, "exactly once")
    assert state.lost == 2
    assert [m["id"] for m in read(people, "bob", conv)["data"]] == [sent["id"]]
    assert open_with(people, "bob", "alice", 200)["id"] == conv


def test_conflicting_dm_writes_are_retried_and_land_once(people, faults):  # noqa: F811 - the imported fixture
    conv = open_with(people, "alice", "bob")["id"]
    faults.script = ["conflict", "conflict"]
    sent = send(people, "alice", conv, "contended hello")
    assert faults.conflicts == 2 and faults.pauses == [0, 1]
    assert inbox(people, "bob")[0]["unread_count"] == 1
    assert [m["id"] for m in read(people, "bob", conv)["data"]] == [sent["id"]]
    faults.always = "conflict"
    refused(people.call("POST", f"/v1/conversations/{conv}/messages", {"text": "never"}, as_="alice"),
            503, "unavailable")
    faults.always = None
    assert [m["text"] for m in read(people, "bob", conv)["data"]] == ["contended hello"]
