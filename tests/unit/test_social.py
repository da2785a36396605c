"""The social network as its users see it (in-process app over moto):
profiles, follows, posts, replies, likes, paid posts, and bad input."""
import urllib.parse

import pytest

USER_FIELDS = {"id", "handle", "display_name", "bio", "verified", "role", "created_at", "follower_count",
               "following_count"}
POST_FIELDS = {"id", "author", "text", "created_at", "reply_to", "like_count", "reply_count", "tip_total", "price",
               "video_url", "audience", "locked"}


def ok(r, status=200):
    assert r.status_code == status, (r.status_code, r.body)
    return r.json_body


def refused(r, status, code):
    assert r.status_code == status, (r.status_code, r.body)
    assert r.json_body["error"]["code"] == code, r.json_body
    return r.json_body["error"]


def post(api, who, text, **extra):
    return ok(api.call("POST", "/v1/posts", {"text": text, **extra}, as_=who), 201)


def user(api, handle, as_):
    return ok(api.call("GET", f"/v1/users/{handle}", as_=as_))


def walk(api, path, as_, limit):
    """Every item of a list, page by page, following next_cursor."""
    items, cursor, pages = [], None, 0
    while True:
        sep = "&" if "?" in path else "?"
        url = f"{path}{sep}limit={limit}" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        body = ok(api.call("GET", url, as_=as_))
        assert len(body["data"]) <= limit
        items.extend(body["data"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items
        assert pages < 100, "the cursor never ends"


@pytest.fixture
def people(api):
    for handle in ("alice", "bob", "carol"):
        api.signup(handle)
    return api


# --- profiles -----------------------------------------------------------------------------------------------------

def test_a_profile_shows_the_public_fields_and_nothing_secret(people):
    u = user(people, "alice", as_="bob")
    assert USER_FIELDS <= set(u)
    assert u["handle"] == "alice" and u["follower_count"] == 0 and u["following_count"] == 0
    assert not {"password_hash", "token_version", "celebrity_follows"} & set(u)
    assert u["created_at"].endswith("Z")


def test_a_handle_is_found_whatever_its_case(people):
    assert user(people, "ALICE", as_="bob")["handle"] == "alice"


def test_an_unknown_handle_is_404(people):
    refused(people.call("GET", "/v1/users/nobody", as_="alice"), 404, "not_found")


@pytest.fixture
def dynamodb_key_limits():
    """Real DynamoDB refuses a key attribute over 2048 bytes on reads too (a
    ValidationException, which the app would answer with a 500); moto checks
    only writes. This hook makes reads as strict."""
    from botocore.exceptions import ClientError

    from chalicelib.db import base

    def strings(value):
        if isinstance(value, dict):
            if set(value) == {"S"} and isinstance(value["S"], str):
                yield value["S"]
            else:
                for v in value.values():
                    yield from strings(v)
        elif isinstance(value, list):
            for v in value:
                yield from strings(v)

    def check(params, model, **_):
        keys = [params.get("Key"), params.get("ExpressionAttributeValues")]
        keys += [r.get("Keys") for r in (params.get("RequestItems") or {}).values() if isinstance(r, dict)]
        if any(len(s.encode()) > 2048 for s in strings(keys)):
            raise ClientError({"Error": {"Code": "ValidationException", "Message": "key too large"}}, model.name)

    base.register_hook("before-parameter-build.dynamodb", check)
    yield
    base.unregister_hook("before-parameter-build.dynamodb", check)


ABSURD_HANDLES = ("x" * 3000, "%D8%B3%D9%84%D8%A7%D9%85", "a.b", "al%20ice")


def test_an_absurd_handle_is_404_not_a_crash(people, dynamodb_key_limits):
    for path in ("/v1/users/{h}", "/v1/users/{h}/posts", "/v1/users/{h}/followers", "/v1/users/{h}/following"):
        for h in ABSURD_HANDLES:
            refused(people.call("GET", path.format(h=h), as_="alice"), 404, "not_found")
    for h in ABSURD_HANDLES:
        refused(people.call("POST", f"/v1/users/{h}/follow", as_="alice"), 404, "not_found")
        refused(people.call("DELETE", f"/v1/users/{h}/follow", as_="alice"), 404, "not_found")


def test_profiles_need_a_token(people):
    refused(people.call("GET", "/v1/users/alice"), 401, "unauthenticated")


def test_patch_me_changes_the_profile_everyone_sees(people):
    me = ok(people.call("PATCH", "/v1/me", {"display_name": "Alice Liddell", "bio": "down the rabbit hole"},
                        as_="alice"))
    assert me["display_name"] == "Alice Liddell" and me["bio"] == "down the rabbit hole"
    seen = user(people, "alice", as_="bob")
    assert seen["display_name"] == "Alice Liddell" and seen["bio"] == "down the rabbit hole"
    ok(people.call("PATCH", "/v1/me", {"bio": "back"}, as_="alice"))
    seen = user(people, "alice", as_="bob")
    assert seen["display_name"] == "Alice Liddell" and seen["bio"] == "back"


def test_patch_me_refuses_bad_fields(people):
    for body in ({"bio": "x" * 161}, {"display_name": ""}, {"display_name": 5}, {"handle": "mallory"}, {"bio": 7}):
        refused(people.call("PATCH", "/v1/me", body, as_="alice"), 400, "invalid_request")
    u = user(people, "alice", as_="alice")
    assert u["handle"] == "alice" and u["display_name"] == "alice" and u["bio"] == ""


# --- follows ------------------------------------------------------------------------------------------------------

def test_follow_is_idempotent_and_counts_are_exact(people):
    assert ok(people.call("POST", "/v1/users/bob/follow", as_="alice")) == {"following": True}
    assert ok(people.call("POST", "/v1/users/bob/follow", as_="alice")) == {"following": True}
    assert user(people, "bob", as_="alice")["follower_count"] == 1
    assert user(people, "alice", as_="bob")["following_count"] == 1
    ok(people.call("POST", "/v1/users/bob/follow", as_="carol"))
    assert user(people, "bob", as_="alice")["follower_count"] == 2

    assert ok(people.call("DELETE", "/v1/users/bob/follow", as_="alice")) == {"following": False}
    assert ok(people.call("DELETE", "/v1/users/bob/follow", as_="alice")) == {"following": False}
    assert user(people, "bob", as_="alice")["follower_count"] == 1
    assert user(people, "alice", as_="bob")["following_count"] == 0


def test_unfollowing_someone_never_followed_changes_nothing(people):
    assert ok(people.call("DELETE", "/v1/users/bob/follow", as_="alice")) == {"following": False}
    assert user(people, "bob", as_="alice")["follower_count"] == 0
    assert user(people, "alice", as_="alice")["following_count"] == 0


def test_nobody_follows_themselves(people):
    refused(people.call("POST", "/v1/users/alice/follow", as_="alice"), 400, "invalid_request")
    refused(people.call("POST", "/v1/users/ALICE/follow", as_="alice"), 400, "invalid_request")
    assert user(people, "alice", as_="alice")["follower_count"] == 0


def test_following_an_unknown_handle_is_404(people):
    refused(people.call("POST", "/v1/users/nobody/follow", as_="alice"), 404, "not_found")
    refused(people.call("DELETE", "/v1/users/nobody/follow", as_="alice"), 404, "not_found")
    assert user(people, "alice", as_="alice")["following_count"] == 0


def test_follower_and_following_lists_page_newest_first(api):
    api.signup("star")
    fans = [f"fan{i}" for i in range(7)]
    for fan in fans:
        api.signup(fan)
        ok(api.call("POST", "/v1/users/star/follow", as_=fan))
    listed = walk(api, "/v1/users/star/followers", "star", limit=3)
    assert [u["handle"] for u in listed] == list(reversed(fans))
    assert all(USER_FIELDS <= set(u) for u in listed)

    for target in fans[:4]:
        ok(api.call("POST", f"/v1/users/{target}/follow", as_="star"))
    assert [u["handle"] for u in walk(api, "/v1/users/star/following", "fan0", limit=3)] == \
        list(reversed(fans[:4]))

    ok(api.call("DELETE", "/v1/users/star/follow", as_="fan3"))
    assert "fan3" not in [u["handle"] for u in walk(api, "/v1/users/star/followers", "star", limit=100)]


def test_list_cursors_are_checked(people):
    for who in ("bob", "carol"):
        ok(people.call("POST", "/v1/users/alice/follow", as_=who))
        ok(people.call("POST", f"/v1/users/{who}/follow", as_="alice"))
    first = ok(people.call("GET", "/v1/users/alice/followers?limit=1", as_="alice"))
    assert first["next_cursor"]
    for bad in ("garbage", "a.b", first["next_cursor"][:-2] + "xx", "x" * 3000):
        refused(people.call("GET", f"/v1/users/alice/followers?cursor={urllib.parse.quote(bad)}", as_="alice"),
                400, "invalid_request")
    # A real cursor of one list does not page another.
    cursor = urllib.parse.quote(first["next_cursor"])
    refused(people.call("GET", f"/v1/users/bob/followers?cursor={cursor}", as_="alice"), 400, "invalid_request")
    refused(people.call("GET", f"/v1/users/alice/following?cursor={cursor}", as_="alice"), 400, "invalid_request")
    refused(people.call("GET", f"/v1/users/alice/posts?cursor={cursor}", as_="alice"), 400, "invalid_request")
    refused(people.call("GET", f"/v1/timeline?cursor={cursor}", as_="alice"), 400, "invalid_request")


def test_list_limits_are_1_to_100(people):
    for path in ("/v1/users/alice/followers", "/v1/users/alice/posts", "/v1/timeline"):
        for query in ("limit=0", "limit=101", "limit=ten", "limit=-1"):
            refused(people.call("GET", f"{path}?{query}", as_="alice"), 400, "invalid_request")
        ok(people.call("GET", f"{path}?limit=100", as_="alice"))


# --- posts --------------------------------------------------------------------------------------------------------

def test_a_post_is_created_and_read_with_every_field(people):
    p = post(people, "alice", "hello flock")
    assert set(p) >= POST_FIELDS
    assert p["id"].startswith("post_") and p["author"] == "alice" and p["text"] == "hello flock"
    assert p["reply_to"] is None and p["like_count"] == 0 and p["reply_count"] == 0 and p["tip_total"] == 0
    assert p["price"] is None and p["video_url"] is None and p["audience"] == "public" and p["locked"] is False
    assert p["created_at"].endswith("Z")
    assert ok(people.call("GET", f"/v1/posts/{p['id']}", as_="bob")) == p


def test_280_emoji_is_a_post_and_281_is_not(people):
    assert post(people, "alice", "🐦" * 280)["text"] == "🐦" * 280
    refused(people.call("POST", "/v1/posts", {"text": "🐦" * 281}, as_="alice"), 400, "invalid_request")
    assert post(people, "alice", "x" * 280)["text"] == "x" * 280
    refused(people.call("POST", "/v1/posts", {"text": "x" * 281}, as_="alice"), 400, "invalid_request")


def test_length_is_counted_after_nfc_and_the_text_is_stored_as_given(people):
    decomposed = "e\u0301" * 280                       # 560 code points, 280 after NFC
    assert post(people, "alice", decomposed)["text"] == decomposed
    refused(people.call("POST", "/v1/posts", {"text": "e\u0301" * 281}, as_="alice"), 400, "invalid_request")


def test_bad_post_bodies_are_400(people):
    for body in ({"text": ""}, {"text": 42}, {"text": None}, {"text": ["hi"]}, {"text": {"a": 1}}, {},
                 {"text": "hi", "extra": 1}, {"text": "bell\u0007"}, {"text": True}, ["hi"], "hi"):
        refused(people.call("POST", "/v1/posts", body, as_="alice"), 400, "invalid_request")
    refused(people.call("POST", "/v1/posts", raw="{not json", as_="alice"), 400, "invalid_request")
    assert ok(people.call("GET", "/v1/users/alice/posts", as_="alice"))["data"] == []


def test_posting_needs_a_token(people):
    refused(people.call("POST", "/v1/posts", {"text": "hi"}), 401, "unauthenticated")


def test_unknown_post_ids_are_404(people):
    for post_id in ("post_01m8rb7w9x96vjwm932f2qk0pj", "nope", "post_" + "x" * 500, "conv_abc", "post_%2F.."):
        refused(people.call("GET", f"/v1/posts/{post_id}", as_="alice"), 404, "not_found")
        refused(people.call("DELETE", f"/v1/posts/{post_id}", as_="alice"), 404, "not_found")
        refused(people.call("POST", f"/v1/posts/{post_id}/likes", as_="alice"), 404, "not_found")
        refused(people.call("DELETE", f"/v1/posts/{post_id}/likes", as_="alice"), 404, "not_found")
        # A reply_to too long to be an id is a shape error (400); any other unknown id is 404.
        r = people.call("POST", "/v1/posts", {"text": "re", "reply_to": post_id}, as_="alice")
        refused(r, 400 if len(post_id) > 64 else 404, "invalid_request" if len(post_id) > 64 else "not_found")
    assert ok(people.call("GET", "/v1/users/alice/posts", as_="alice"))["data"] == []


def test_only_the_author_deletes_a_post(people):
    p = post(people, "alice", "mine")
    refused(people.call("DELETE", f"/v1/posts/{p['id']}", as_="bob"), 403, "forbidden")
    assert ok(people.call("GET", f"/v1/posts/{p['id']}", as_="bob"))["text"] == "mine"
    assert [x["id"] for x in ok(people.call("GET", "/v1/users/alice/posts", as_="bob"))["data"]] == [p["id"]]
    r = people.call("DELETE", f"/v1/posts/{p['id']}", as_="alice")
    assert r.status_code == 204, r.body
    refused(people.call("GET", f"/v1/posts/{p['id']}", as_="alice"), 404, "not_found")
    refused(people.call("DELETE", f"/v1/posts/{p['id']}", as_="alice"), 404, "not_found")


def test_a_deleted_post_vanishes_from_every_list(people):
    ok(people.call("POST", "/v1/users/alice/follow", as_="bob"))
    keep = post(people, "alice", "keep this zebra")
    gone = post(people, "alice", "delete this zebra")
    ok(people.call("POST", f"/v1/posts/{gone['id']}/likes", as_="bob"))
    assert people.call("DELETE", f"/v1/posts/{gone['id']}", as_="alice").status_code == 204
    refused(people.call("GET", f"/v1/posts/{gone['id']}", as_="bob"), 404, "not_found")
    for path, who in (("/v1/users/alice/posts", "bob"), ("/v1/timeline", "bob"), ("/v1/timeline", "alice"),
                      ("/v1/search?q=zebra", "bob"), ("/v1/search?q=delete", "bob")):
        ids = [x["id"] for x in ok(people.call("GET", path, as_=who))["data"]]
        assert gone["id"] not in ids, path
    assert [x["id"] for x in ok(people.call("GET", "/v1/search?q=zebra", as_="bob"))["data"]] == [keep["id"]]
    refused(people.call("POST", f"/v1/posts/{gone['id']}/likes", as_="carol"), 404, "not_found")


def test_replies_count_on_the_parent_and_uncount_when_deleted(people):
    parent = post(people, "alice", "question?")
    r1 = post(people, "bob", "answer one", reply_to=parent["id"])
    r2 = post(people, "carol", "answer two", reply_to=parent["id"])
    assert r1["reply_to"] == parent["id"] and r2["reply_to"] == parent["id"]
    assert ok(people.call("GET", f"/v1/posts/{parent['id']}", as_="bob"))["reply_count"] == 2
    assert people.call("DELETE", f"/v1/posts/{r1['id']}", as_="bob").status_code == 204
    assert ok(people.call("GET", f"/v1/posts/{parent['id']}", as_="bob"))["reply_count"] == 1
    # The parent goes; the reply stays; a new reply to it is 404.
    assert people.call("DELETE", f"/v1/posts/{parent['id']}", as_="alice").status_code == 204
    assert ok(people.call("GET", f"/v1/posts/{r2['id']}", as_="bob"))["reply_to"] == parent["id"]
    refused(people.call("POST", "/v1/posts", {"text": "late", "reply_to": parent["id"]}, as_="bob"), 404, "not_found")
    # ... and the reply itself can still be deleted.
    assert people.call("DELETE", f"/v1/posts/{r2['id']}", as_="carol").status_code == 204
    refused(people.call("GET", f"/v1/posts/{r2['id']}", as_="carol"), 404, "not_found")


def test_a_users_posts_page_newest_first(people):
    made = [post(people, "alice", f"post number {i}")["id"] for i in range(7)]
    post(people, "bob", "not alice's")
    listed = walk(people, "/v1/users/alice/posts", "bob", limit=3)
    assert [p["id"] for p in listed] == list(reversed(made))
    assert all(p["author"] == "alice" for p in listed)
    assert ok(people.call("GET", "/v1/users/carol/posts", as_="bob")) == {"data": [], "next_cursor": None}


# --- likes --------------------------------------------------------------------------------------------------------

def test_likes_are_idempotent_and_the_count_is_exact(people):
    p = post(people, "alice", "like me")
    assert ok(people.call("POST", f"/v1/posts/{p['id']}/likes", as_="bob")) == {"liked": True, "like_count": 1}
    assert ok(people.call("POST", f"/v1/posts/{p['id']}/likes", as_="bob")) == {"liked": True, "like_count": 1}
    assert ok(people.call("POST", f"/v1/posts/{p['id']}/likes", as_="carol")) == {"liked": True, "like_count": 2}
    assert ok(people.call("POST", f"/v1/posts/{p['id']}/likes", as_="alice")) == {"liked": True, "like_count": 3}
    assert ok(people.call("GET", f"/v1/posts/{p['id']}", as_="bob"))["like_count"] == 3
    assert ok(people.call("DELETE", f"/v1/posts/{p['id']}/likes", as_="bob")) == {"liked": False, "like_count": 2}
    assert ok(people.call("DELETE", f"/v1/posts/{p['id']}/likes", as_="bob")) == {"liked": False, "like_count": 2}
    assert ok(people.call("DELETE", f"/v1/posts/{p['id']}/likes", as_="bob")) == {"liked": False, "like_count": 2}
    assert ok(people.call("GET", "/v1/users/alice/posts", as_="bob"))["data"][0]["like_count"] == 2


def test_an_unliked_post_never_goes_below_zero(people):
    p = post(people, "alice", "nobody likes me")
    assert ok(people.call("DELETE", f"/v1/posts/{p['id']}/likes", as_="bob")) == {"liked": False, "like_count": 0}
    assert ok(people.call("GET", f"/v1/posts/{p['id']}", as_="bob"))["like_count"] == 0


def test_many_likes_sum_over_the_counter_shards(api):
    api.signup("author")
    p = post(api, "author", "viral")
    for i in range(12):
        api.signup(f"liker{i}")
        ok(api.call("POST", f"/v1/posts/{p['id']}/likes", as_=f"liker{i}"))
    for i in range(0, 12, 3):
        ok(api.call("DELETE", f"/v1/posts/{p['id']}/likes", as_=f"liker{i}"))
    assert ok(api.call("GET", f"/v1/posts/{p['id']}", as_="author"))["like_count"] == 8


# --- paid and subscriber posts ------------------------------------------------------------------------------------

LONG = "This is the premium part of the story: it is much longer than forty characters."


def test_a_paid_post_is_locked_for_everyone_but_its_author(people):
    p = post(people, "alice", LONG, price={"amount": 500, "currency": "USD"},
             video_url="https://video.example/abc.mp4")
    assert p["locked"] is False and p["text"] == LONG and p["video_url"] == "https://video.example/abc.mp4"
    assert p["price"] == {"amount": 500, "currency": "USD"}
    ok(people.call("POST", "/v1/users/alice/follow", as_="bob"))
    seen_by_bob = [ok(people.call("GET", f"/v1/posts/{p['id']}", as_="bob")),
                   ok(people.call("GET", "/v1/users/alice/posts", as_="bob"))["data"][0],
                   ok(people.call("GET", "/v1/timeline", as_="bob"))["data"][0]]
    for seen in seen_by_bob:
        assert seen["locked"] is True and seen["text"] == LONG[:40] and seen["video_url"] is None
        assert seen["price"] == {"amount": 500, "currency": "USD"}
    mine = ok(people.call("GET", f"/v1/posts/{p['id']}", as_="alice"))
    assert mine["locked"] is False and mine["text"] == LONG


def test_a_subscribers_post_is_locked_for_others(people):
    p = post(people, "alice", LONG, audience="subscribers", video_url="https://video.example/x")
    assert p["audience"] == "subscribers" and p["locked"] is False
    seen = ok(people.call("GET", f"/v1/posts/{p['id']}", as_="bob"))
    assert seen["audience"] == "subscribers" and seen["locked"] is True
    assert seen["text"] == LONG[:40] and seen["video_url"] is None and seen["price"] is None


def test_a_public_post_with_a_video_shows_it(people):
    p = post(people, "alice", "watch", video_url="https://video.example/free")
    assert ok(people.call("GET", f"/v1/posts/{p['id']}", as_="bob"))["video_url"] == "https://video.example/free"


def test_bad_paid_fields_are_refused(people):
    for extra, code in (({"price": {"amount": 500, "currency": "BTC"}}, "unsupported_currency"),
                        ({"price": {"amount": 0, "currency": "USD"}}, "invalid_request"),
                        ({"price": {"amount": "500", "currency": "USD"}}, "invalid_request"),
                        ({"price": {"amount": 5.5, "currency": "USD"}}, "invalid_request"),
                        ({"price": {"amount": 10**12 + 1, "currency": "USD"}}, "invalid_request"),
                        ({"price": 500}, "invalid_request"),
                        ({"video_url": "http://insecure.example/v"}, "invalid_request"),
                        ({"video_url": "javascript:alert(1)"}, "invalid_request"),
                        ({"audience": "friends"}, "invalid_request"),
                        ({"reply_to": 7}, "invalid_request")):
        refused(people.call("POST", "/v1/posts", {"text": "premium", **extra}, as_="alice"), 400, code)
    assert ok(people.call("GET", "/v1/users/alice/posts", as_="alice"))["data"] == []


# --- services answer frozen records ------------------------------------------------------------------------------

def principal_of(handle):
    """The caller as `authenticate` makes it, for calling a service directly."""
    from chalicelib.identity import users
    person = users.find_by_handle(handle)
    return users.Principal(user_id=person.id, handle=person.handle, role="user", verified=bool(person.verified),
                           frozen=False, account_id=person.account_id,
                           celebrity_follows=frozenset(person.celebrity_follows or ()))


def assert_frozen(record, field, value):
    """Assigning any field of a record is refused, and the record keeps its value."""
    from pydantic import ValidationError
    before = getattr(record, field)
    with pytest.raises(ValidationError, match="frozen"):
        setattr(record, field, value)
    assert getattr(record, field) == before


def test_posts_are_frozen_records_whose_json_is_what_the_routes_answer(people):
    from chalicelib.social import posts, views
    alice, bob = principal_of("alice"), principal_of("bob")
    made = posts.create(alice, "said once, said as recorded")
    assert type(made).__name__ == "Post" and made.author == "alice" and made.like_count == 0
    assert_frozen(made, "text", "edited afterwards")
    assert_frozen(made, "like_count", 99)
    assert made.created_at.tzinfo is not None                     # a time, not the text it was stored as
    assert made.as_json() == ok(people.call("GET", f"/v1/posts/{made.id}", as_="alice"))
    paid = post(people, "alice", LONG, price={"amount": 500, "currency": "USD"})
    # Locked for bob: the nested price and the cut text come out as the route gives them.
    seen = posts.get(bob.user_id, paid["id"])
    assert seen.locked is True and seen.price.amount == 500
    assert seen.as_json() == ok(people.call("GET", f"/v1/posts/{paid['id']}", as_="bob"))
    assert posts.get(alice.user_id, paid["id"]).as_json() == paid
    page = views.hydrate([paid["id"], "post_gone", made.id], bob.user_id)
    assert [p.as_json() for p in page] == ok(people.call("GET", "/v1/users/alice/posts", as_="bob"))["data"]
    listed, _ = posts.by_author(bob.user_id, alice.user_id, 20, None)
    assert listed == page


def test_likes_and_follows_are_frozen_records_whose_json_is_what_the_routes_answer(people):
    from chalicelib.social import graph, posts
    bob = principal_of("bob")
    p = post(people, "alice", "like me")
    liked = posts.like(bob, p["id"])
    assert liked.as_json() == {"liked": True, "like_count": 1}
    assert_frozen(liked, "like_count", 0)
    # The route's like is idempotent: its answer is the service's record, as JSON.
    assert ok(people.call("POST", f"/v1/posts/{p['id']}/likes", as_="bob")) == liked.as_json()
    unliked = posts.unlike(bob, p["id"])
    assert unliked.as_json() == ok(people.call("DELETE", f"/v1/posts/{p['id']}/likes", as_="bob"))
    following = graph.follow(bob, "alice")
    assert following.as_json() == {"following": True}
    assert_frozen(following, "following", False)
    assert ok(people.call("POST", "/v1/users/alice/follow", as_="bob")) == following.as_json()
    stopped = graph.unfollow(bob, "alice")
    assert stopped.as_json() == ok(people.call("DELETE", "/v1/users/alice/follow", as_="bob")) == {"following": False}
    assert user(people, "alice", as_="carol")["follower_count"] == 0


def test_a_second_delete_racing_the_first_is_not_a_crash_and_counts_once(people, monkeypatch):
    from chalicelib.social import posts
    parent = post(people, "alice", "parent")
    p = post(people, "bob", "reply", reply_to=parent["id"])
    post(people, "carol", "another reply", reply_to=parent["id"])
    stale = posts.require(p["id"])                       # the racing request read the post before it went
    assert people.call("DELETE", f"/v1/posts/{p['id']}", as_="bob").status_code == 204
    monkeypatch.setattr(posts, "require", lambda post_id: stale)
    assert people.call("DELETE", f"/v1/posts/{p['id']}", as_="bob").status_code == 204   # it is gone, as asked
    monkeypatch.undo()
    assert ok(people.call("GET", f"/v1/posts/{parent['id']}", as_="bob"))["reply_count"] == 1
    refused(people.call("DELETE", f"/v1/posts/{p['id']}", as_="bob"), 404, "not_found")  # once it is known gone


# --- faults: lost answers and transaction conflicts --------------------------------------------------------------

class Faults:
    """Scripted faults on TransactWriteItems, injected in front of moto in the
    client's `before-send`, where the network would make them:
      lost      the write commits, then the answer is lost (a read timeout):
                botocore sends the same transaction again
      conflict  TransactionCanceledException with a TransactionConflict reason; nothing written
    `script` is consumed one fault per request sent; `always` applies to all."""

    def __init__(self):
        self.script: list[str] = []
        self.always: str | None = None
        self.lost = 0
        self.conflicts = 0
        self.pauses = []

    def send(self, request, event_name, **kwargs):
        import json
        import uuid

        from botocore.awsrequest import AWSResponse
        from botocore.exceptions import ReadTimeoutError
        from moto.core.botocore_stubber import MockRawResponse
        from moto.core.models import botocore_stubber
        if not event_name.endswith(".TransactWriteItems"):
            return botocore_stubber(event_name=event_name, request=request, **kwargs)
        fault = self.always or (self.script.pop(0) if self.script else "ok")
        if fault == "conflict":
            self.conflicts += 1
            items = len(json.loads(request.body)["TransactItems"])
            reasons = [{"Code": "None"} for _ in range(items)]
            reasons[min(1, items - 1)] = {"Code": "TransactionConflict", "Message": "Transaction is ongoing"}
            body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                               "message": "Transaction cancelled", "CancellationReasons": reasons})
            return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.0",
                                                  "x-amzn-RequestId": uuid.uuid4().hex}, MockRawResponse(body))
        response = botocore_stubber(event_name=event_name, request=request, **kwargs)
        if fault == "lost" and response is not None and response.status_code == 200:
            self.lost += 1
            raise ReadTimeoutError(endpoint_url=request.url)
        return response


@pytest.fixture
def faults(monkeypatch):
    import types

    import botocore.endpoint
    from moto.core.models import botocore_stubber

    from chalicelib.db import base
    # botocore's backoff before resending, and Flock's before retrying a
    # conflict, are recorded, not slept: the retries themselves all happen.
    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=lambda s: None))
    injector = Faults()
    monkeypatch.setattr(base, "backoff", lambda attempt: injector.pauses.append(attempt))
    events = base.botocore_client().meta.events
    events.unregister("before-send", botocore_stubber)
    events.register("before-send", injector.send)
    try:
        yield injector
    finally:
        events.unregister("before-send", injector.send)
        events.register("before-send", botocore_stubber)


@pytest.fixture
def lost_answers(faults):
    """`lose(n)`: the next n transactions commit and lose their answers."""
    def lose(n=1):
        faults.script = ["lost"] * n
        return faults
    return lose


def test_a_post_whose_answer_was_lost_is_created_once_and_fully(people, lost_answers):
    ok(people.call("POST", "/v1/users/alice/follow", as_="bob"))
    parent = post(people, "bob", "parent")
    state = lost_answers(1)
    p = post(people, "alice", "lost answer platypus", reply_to=parent["id"])
    assert state.lost == 1
    assert [x["id"] for x in ok(people.call("GET", "/v1/users/alice/posts", as_="bob"))["data"]] == [p["id"]]
    assert ok(people.call("GET", f"/v1/posts/{parent['id']}", as_="bob"))["reply_count"] == 1
    assert [x["id"] for x in ok(people.call("GET", "/v1/search?q=platypus", as_="bob"))["data"]] == [p["id"]]
    assert p["id"] in [x["id"] for x in ok(people.call("GET", "/v1/timeline", as_="bob"))["data"]]


def test_a_delete_whose_answer_was_lost_is_204_and_cleans_up(people, lost_answers):
    ok(people.call("POST", "/v1/users/alice/follow", as_="bob"))
    parent = post(people, "bob", "parent")
    p = post(people, "alice", "soon gone wombat", reply_to=parent["id"])
    state = lost_answers(1)
    r = people.call("DELETE", f"/v1/posts/{p['id']}", as_="alice")
    assert state.lost == 1
    assert r.status_code == 204, r.body
    assert ok(people.call("GET", f"/v1/posts/{parent['id']}", as_="bob"))["reply_count"] == 0
    assert ok(people.call("GET", "/v1/search?q=wombat", as_="bob"))["data"] == []
    from chalicelib.db.posts import Posting, TimelineItem, posting_partition, timeline_partition
    from chalicelib.identity.users import find_by_handle
    assert Posting.count(posting_partition("wombat")) == 0
    assert [e.sk for e in TimelineItem.query(timeline_partition(find_by_handle("bob").id))] == [parent["id"]]


def test_a_follow_whose_answer_was_lost_still_backfills(people, lost_answers):
    old = post(people, "alice", "written before the follow")
    state = lost_answers(1)
    assert ok(people.call("POST", "/v1/users/alice/follow", as_="bob")) == {"following": True}
    assert state.lost == 1
    assert user(people, "alice", as_="bob")["follower_count"] == 1
    assert user(people, "bob", as_="bob")["following_count"] == 1
    assert old["id"] in [x["id"] for x in ok(people.call("GET", "/v1/timeline", as_="bob"))["data"]]


def test_an_unfollow_whose_answer_was_lost_still_clears_the_timeline(people, lost_answers):
    ok(people.call("POST", "/v1/users/alice/follow", as_="bob"))
    p = post(people, "alice", "you will unfollow me")
    assert p["id"] in [x["id"] for x in ok(people.call("GET", "/v1/timeline", as_="bob"))["data"]]
    state = lost_answers(1)
    assert ok(people.call("DELETE", "/v1/users/alice/follow", as_="bob")) == {"following": False}
    assert state.lost == 1
    assert user(people, "alice", as_="bob")["follower_count"] == 0
    assert ok(people.call("GET", "/v1/timeline", as_="bob"))["data"] == []


def test_likes_whose_answers_were_lost_count_once(people, lost_answers):
    p = post(people, "alice", "like me once")
    lost_answers(1)
    assert ok(people.call("POST", f"/v1/posts/{p['id']}/likes", as_="bob")) == {"liked": True, "like_count": 1}
    lost_answers(1)
    assert ok(people.call("DELETE", f"/v1/posts/{p['id']}/likes", as_="bob")) == {"liked": False, "like_count": 0}


def test_conflicting_writes_are_retried_with_backoff_and_count_once(people, faults):
    faults.script = ["conflict", "conflict"]
    assert ok(people.call("POST", "/v1/users/alice/follow", as_="bob")) == {"following": True}
    assert user(people, "alice", as_="bob")["follower_count"] == 1 and faults.pauses == [0, 1]
    faults.script = ["conflict", "conflict"]
    p = post(people, "alice", "contended")
    assert [x["id"] for x in ok(people.call("GET", "/v1/users/alice/posts", as_="bob"))["data"]] == [p["id"]]
    faults.script = ["conflict", "conflict"]
    assert ok(people.call("POST", f"/v1/posts/{p['id']}/likes", as_="bob")) == {"liked": True, "like_count": 1}
    faults.script = ["conflict"]
    assert ok(people.call("DELETE", f"/v1/posts/{p['id']}/likes", as_="bob")) == {"liked": False, "like_count": 0}
    faults.script = ["conflict"]
    assert people.call("DELETE", f"/v1/posts/{p['id']}", as_="alice").status_code == 204
    faults.script = ["conflict", "conflict"]
    assert ok(people.call("DELETE", "/v1/users/alice/follow", as_="bob")) == {"following": False}
    assert user(people, "alice", as_="bob")["follower_count"] == 0
    assert faults.conflicts == 10 and len(faults.pauses) == 10


def test_endless_conflicts_are_a_clean_503_and_change_nothing(people, faults):
    p = post(people, "alice", "hot")
    faults.always = "conflict"
    for method, path in (("POST", "/v1/users/alice/follow"), ("POST", f"/v1/posts/{p['id']}/likes"),
                         ("DELETE", f"/v1/posts/{p['id']}")):
        refused(people.call(method, path, as_="alice" if method == "DELETE" else "bob"), 503, "unavailable")
    refused(people.call("POST", "/v1/posts", {"text": "never"}, as_="alice"), 503, "unavailable")
    faults.always = None
    assert user(people, "alice", as_="bob")["follower_count"] == 0
    assert ok(people.call("GET", f"/v1/posts/{p['id']}", as_="bob"))["like_count"] == 0
    assert [x["id"] for x in ok(people.call("GET", "/v1/users/alice/posts", as_="bob"))["data"]] == [p["id"]]
    assert ok(people.call("GET", "/v1/search?q=never", as_="bob"))["data"] == []
