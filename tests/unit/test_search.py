"""Search as its users see it: posts by whole words in any order, folded for
case, diacritics and the Arabic/Persian variants; users by handle and
display-name prefix; newest first with cursors; hostile queries."""
import urllib.parse

import pytest


def ok(r, status=200):
    assert r.status_code == status, (r.status_code, r.body)
    return r.json_body


def refused(r, status, code):
    assert r.status_code == status, (r.status_code, r.body)
    assert r.json_body["error"]["code"] == code, r.json_body


def post(api, who, text, **extra):
    return ok(api.call("POST", "/v1/posts", {"text": text, **extra}, as_=who), 201)["id"]


def url(q, type_="posts", limit=None, cursor=None):
    u = f"/v1/search?q={urllib.parse.quote(q)}&type={type_}"
    if limit is not None:
        u += f"&limit={limit}"
    if cursor:
        u += f"&cursor={urllib.parse.quote(cursor)}"
    return u


def search(api, q, type_="posts", as_="reader", limit=20):
    """Every result, page by page (a page may be short; next_cursor continues)."""
    found, cursor = [], None
    for _ in range(100):
        body = ok(api.call("GET", url(q, type_, limit, cursor), as_=as_))
        assert len(body["data"]) <= limit
        found.extend(body["data"])
        cursor = body["next_cursor"]
        if cursor is None:
            return [x["id"] if type_ == "posts" else x["handle"] for x in found]
    raise AssertionError("the cursor never ends")


@pytest.fixture
def people(api):
    for h in ("reader", "writer"):
        api.signup(h)
    return api


# --- posts: what matches ------------------------------------------------------------------------------------------

def test_every_query_word_must_appear_in_any_order(people):
    both = post(people, "writer", "The quick brown fox jumps")
    one = post(people, "writer", "A quick lunch")
    assert search(people, "quick") == [one, both]
    assert search(people, "fox quick") == [both]
    assert search(people, "quick fox") == [both]
    assert search(people, "quick cat") == []


def test_words_are_whole_words_not_substrings(people):
    cat = post(people, "writer", "my cat sleeps")
    post(people, "writer", "category theory and concatenation")
    assert search(people, "cat") == [cat]
    assert search(people, "categ") == []


def test_case_and_diacritics_do_not_matter(people):
    p = post(people, "writer", "Un CAFÉ à Paris, naïve Straße")
    for q in ("cafe", "café", "CAFE", "paris cafe", "naive", "NAÏVE", "strasse", "à"):
        assert search(people, q) == [p], q


VARIANTS = [
    ("كتاب جديد", "کتاب"),                  # Arabic kaf, Persian query
    ("کتاب جدید", "كتاب"),                  # and the other way
    ("علي رضا", "علی"),                     # yeh
    ("المدرسة", "المدرسه"),                 # teh marbuta
    ("أحمد إيمان آمنة", "احمد ایمان امنه"),   # hamza and madda on alef
    ("کـــتاب", "کتاب"),                    # tatweel
    ("كِتَابٌ", "کتاب"),                     # tashkeel
    ("می\u200cخواهم بروم", "میخواهم"),     # ZWNJ
    ("میخواهم بروم", "می\u200cخواهم"),
    ("سال ۱۴۰۲", "1402"),                   # Persian digits
    ("عام ٢٠٢٤", "۲۰۲۴"),                   # Arabic-Indic digits, Persian query
    ("ﻛﺘﺎﺏ", "کتاب"),                       # presentation forms
]


def test_arabic_and_persian_variants_are_one(people):
    made = [(post(people, "writer", written), query) for written, query in VARIANTS]
    for p, query in made:
        assert p in search(people, query), (query, p)
    # Each query finds exactly the posts whose words fold like its own.
    assert search(people, "كتاب") == search(people, "کتاب")
    assert len(search(people, "کتاب")) == 5


def test_emoji_and_punctuation_are_not_words(people):
    p = post(people, "writer", "Sunset 🌅🔥 in Tehran!!! #travel, (amazing)")
    assert search(people, "tehran sunset") == [p]
    assert search(people, "#travel") == [p]
    assert search(people, "amazing!") == [p]
    for q in ("🔥", "🌅🔥", "!!!", "#", "   ", ""):
        assert ok(people.call("GET", url(q), as_="reader")) == {"data": [], "next_cursor": None}, q


def test_a_long_post_is_found_by_any_of_its_words(people):
    text = " ".join(f"w{i}" for i in range(1, 71))
    p = post(people, "writer", text)
    assert search(people, "w70") == [p]
    assert search(people, "w1 w70 w35") == [p]


def test_search_results_are_posts_as_the_viewer_sees_them(people):
    long = "premium words about tulips and everything else worth paying for"
    p = post(people, "writer", long, price={"amount": 300, "currency": "USD"})
    seen = ok(people.call("GET", url("tulips"), as_="reader"))["data"]
    assert [x["id"] for x in seen] == [p]
    assert seen[0]["locked"] is True and seen[0]["text"] == long[:40]
    mine = ok(people.call("GET", url("tulips"), as_="writer"))["data"][0]
    assert mine["locked"] is False and mine["text"] == long


def test_the_search_service_answers_frozen_post_records_the_route_pages(people):
    from chalicelib.social import search as search_service
    from tests.unit.test_social import assert_frozen, principal_of
    paid = post(people, "writer", "tulips behind a paywall for sure", price={"amount": 300, "currency": "USD"})
    free = post(people, "writer", "tulips for everyone")
    found, key = search_service.search_posts(principal_of("reader").user_id, "tulips", 20, None)
    assert [p.id for p in found] == [free, paid] and key is None
    assert found[1].locked is True and found[1].price.currency == "USD"
    assert_frozen(found[1], "locked", False)
    assert [p.as_json() for p in found] == ok(people.call("GET", url("tulips"), as_="reader"))["data"]


def test_the_hidden_part_of_a_locked_post_cannot_be_probed_through_search(people):
    paid = "Public teaser about orchids, then the secret: the treasure lies under the old mill"
    subs = "Another teaser for subscribers; hidden: password swordfish"
    p = post(people, "writer", paid, price={"amount": 300, "currency": "USD"})
    s = post(people, "writer", subs, audience="subscribers")
    assert search(people, "orchids") == [p] and search(people, "teaser") == [s, p]
    assert search(people, "then orchids") == [p]
    for hidden in ("treasure", "mill", "secret", "secret treasure", "swordfish", "password"):
        assert search(people, hidden) == [], hidden
    assert paid[:40].endswith(" the se") and search(people, "se") == []   # a word the preview cuts in two


def test_deleted_posts_vanish_from_search(people):
    keep = post(people, "writer", "ephemeral keep")
    gone = post(people, "writer", "ephemeral gone")
    assert search(people, "ephemeral") == [gone, keep]
    assert people.call("DELETE", f"/v1/posts/{gone}", as_="writer").status_code == 204
    assert search(people, "ephemeral") == [keep]
    assert search(people, "gone") == []


# --- posts: order and pages ---------------------------------------------------------------------------------------

def test_many_matches_page_newest_first_without_gaps(people):
    made = [post(people, "writer", f"flock update {i}") for i in range(25)]
    assert search(people, "flock", limit=10) == list(reversed(made))
    assert search(people, "update flock", limit=10) == list(reversed(made))
    first = ok(people.call("GET", url("flock", limit=10), as_="reader"))
    assert len(first["data"]) == 10 and first["next_cursor"]


def test_sparse_matches_are_all_found_across_short_pages(people):
    made = []
    for i in range(30):
        made.append((i % 3 == 0, post(people, "writer", f"news item {i} " + ("کتاب" if i % 3 == 0 else "other"))))
    matches = [p for hit, p in made if hit]
    assert search(people, "كتاب news", limit=3) == list(reversed(matches))
    assert search(people, "news كتاب", limit=20) == list(reversed(matches))


# --- users --------------------------------------------------------------------------------------------------------

@pytest.fixture
def users(api):
    api.signup("reader")
    for handle, name in (("alice", "Alice Liddell"), ("alicia", "Alicia Keys"), ("bob", "Bob Alison"),
                         ("ali_reza", "علي رضایی"), ("zed", "Zed")):
        api.signup(handle, display_name=name)
    return api


def test_users_by_handle_or_display_name_prefix(users):
    assert sorted(search(users, "ali", "users")) == ["ali_reza", "alice", "alicia", "bob"]
    assert sorted(search(users, "ALIC", "users")) == ["alice", "alicia"]
    assert search(users, "lidd", "users") == ["alice"]
    assert search(users, "@zed", "users") == ["zed"]
    assert search(users, "nobody", "users") == []


def test_user_search_folds_persian_and_arabic(users):
    assert search(users, "علی", "users") == ["ali_reza"]
    assert search(users, "رضا", "users") == ["ali_reza"]             # prefix of رضایی
    assert search(users, "رضائی", "users") == ["ali_reza"]           # hamza on yeh folds too
    assert search(users, "رضو", "users") == []


def test_every_query_word_narrows_a_user_search(users):
    assert search(users, "alice lid", "users") == ["alice"]
    assert search(users, "ali reza", "users") == ["ali_reza"]
    assert search(users, "ali_r", "users") == ["ali_reza"]
    assert search(users, "ali keys", "users") == ["alicia"]
    assert search(users, "alice keys", "users") == []


def test_a_user_appears_once_however_many_words_match(api):
    api.signup("reader")
    api.signup("rez", display_name="Reza Rezaei Rezvan")
    api.signup("rezb", display_name="Rezb")
    for limit in (1, 2, 20):
        found = search(api, "rez", "users", limit=limit)
        assert sorted(found) == ["rez", "rezb"], (limit, found)


def test_a_new_display_name_replaces_the_old_one_in_search(users):
    ok(users.call("PATCH", "/v1/me", {"display_name": "Zebulon Quux"}, as_="zed"))
    assert search(users, "zebulon", "users") == ["zed"]
    assert search(users, "zed", "users") == ["zed"]                  # the handle still matches
    ok(users.call("PATCH", "/v1/me", {"display_name": "Alpha"}, as_="bob"))
    assert "bob" not in search(users, "alison", "users")


def test_user_results_are_public_profiles(users):
    found = ok(users.call("GET", url("alice", "users"), as_="reader"))["data"]
    assert [u["handle"] for u in found] == ["alice"]
    assert {"id", "handle", "display_name", "follower_count"} <= set(found[0])
    assert "password_hash" not in found[0]


# --- hostile queries ----------------------------------------------------------------------------------------------

def test_a_5kb_query_is_a_clean_refusal_never_a_5xx(people):
    for q in ("a" * 5000, "a " * 2500, "س" * 2500, "🔥" * 1250, "x" * 5001, "a" * 20000):
        for t in ("posts", "users"):
            r = people.call("GET", url(q, t), as_="reader")
            assert r.status_code in (200, 400), (len(q), t, r.status_code)
            if r.status_code == 200:
                assert r.json_body["data"] == []
            else:
                assert r.json_body["error"]["code"] == "invalid_request"


def test_bad_search_parameters_are_400(people):
    post(people, "writer", "something to find")
    refused(people.call("GET", "/v1/search", as_="reader"), 400, "invalid_request")
    refused(people.call("GET", "/v1/search?q=x&type=hashtags", as_="reader"), 400, "invalid_request")
    refused(people.call("GET", "/v1/search?q=x&limit=0", as_="reader"), 400, "invalid_request")
    refused(people.call("GET", "/v1/search?q=x&limit=101", as_="reader"), 400, "invalid_request")
    refused(people.call("GET", "/v1/search?q=find", ), 401, "unauthenticated")
    for cursor in ("garbage", "a.b", "x" * 3000):
        refused(people.call("GET", url("find", cursor=cursor), as_="reader"), 400, "invalid_request")


def test_a_cursor_belongs_to_its_query(people):
    for i in range(3):
        post(people, "writer", f"alpha beta {i}")
    cursor = ok(people.call("GET", url("alpha", limit=1), as_="reader"))["next_cursor"]
    assert cursor
    refused(people.call("GET", url("beta", limit=1, cursor=cursor), as_="reader"), 400, "invalid_request")
    refused(people.call("GET", url("alpha", "users", cursor=cursor), as_="reader"), 400, "invalid_request")
    refused(people.call("GET", f"/v1/timeline?cursor={urllib.parse.quote(cursor)}", as_="reader"),
            400, "invalid_request")
