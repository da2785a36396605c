"""Search, with an inverted index the app keeps in DynamoDB.

Posts: one posting item per (word, post) (`IDX#<word>` / `<post_id>`, newest
first by id). A query is answered from the postings of its longest word —
longer words are rarer, a free stand-in for document frequency — and the
other words are checked for the candidates with one batch get; then the
posts are read in one more. A page may hold fewer than `limit` results;
`next_cursor` continues the scan.

Users: one item per handle and display-name word under the word's first
character, matched by prefix; every query word must be a prefix of one of
the person's words.
"""
from chalicelib import errors, lazy
from chalicelib.db import base
from chalicelib.db.posts import Posting, posting_partition
from chalicelib.db.users import UserItem, UserWord, user_key, user_word_key
from chalicelib.identity.users import public_users
from chalicelib.social.normalize import words
from chalicelib.social.views import hydrate

records = lazy.module("chalicelib.records.social")

QUERY_CHARS_MAX = 500
QUERY_WORDS_MAX = 8
CANDIDATES_PER_PAGE_MAX = 100


def _query_words(q: str) -> list[str]:
    if len(q) > QUERY_CHARS_MAX:
        raise errors.InvalidRequest(f"A query is at most {QUERY_CHARS_MAX} characters.", param="q")
    found = words(q)
    if len(found) > QUERY_WORDS_MAX:
        raise errors.InvalidRequest(f"A query has at most {QUERY_WORDS_MAX} words.", param="q")
    return found


def index_post(post_id: str, post_words: list[str]) -> None:
    base.batch_write("posts", puts=[Posting(posting_partition(w), post_id, post_id=post_id) for w in post_words])


def unindex_post(post_id: str, post_words: list[str]) -> None:
    base.batch_write("posts", deletes=[(posting_partition(w), post_id) for w in post_words])


def search_posts(viewer_id: str | None, q: str, limit: int,
                 cursor_key: dict | None) -> tuple[list["records.Post"], dict | None]:
    query = _query_words(q)
    if not query:
        return [], None
    lead = max(query, key=len)
    others = [w for w in query if w != lead]
    if cursor_key is not None and cursor_key.get("pk") != posting_partition(lead):
        raise errors.InvalidRequest("The cursor is not valid.", param="cursor")
    scan = min(CANDIDATES_PER_PAGE_MAX // max(1, len(others)), max(limit * 2, limit))
    page = Posting.query(posting_partition(lead), scan_index_forward=False, limit=scan,
                         last_evaluated_key=base.key_from_plain(cursor_key))
    candidates = [p.post_id for p in page]
    if others and candidates:
        present: dict[str, int] = {}
        for raw in base.batch_get("posts", [(posting_partition(w), p) for p in candidates for w in others]):
            present[raw["sk"]["S"]] = present.get(raw["sk"]["S"], 0) + 1
        candidates = [p for p in candidates if present.get(p, 0) == len(others)]
    if len(candidates) > limit:
        # More matches than fit: the next page starts after the last one shown,
        # not after the last posting read (that would skip the rest).
        candidates = candidates[:limit]
        return hydrate(candidates, viewer_id), {"pk": posting_partition(lead), "sk": candidates[-1]}
    return hydrate(candidates, viewer_id), base.key_to_plain(page.last_evaluated_key)


def _user_words(handle: str, display_name: str) -> list[str]:
    return list(dict.fromkeys(words(handle) + words(display_name)))


def index_user(user_id: str, handle: str, display_name: str, old_display_name: str | None = None) -> None:
    new = _user_words(handle, display_name)
    old = _user_words(handle, old_display_name) if old_display_name is not None else []
    base.batch_write("users", puts=[UserWord(*user_word_key(w, user_id), user_id=user_id) for w in new if w not in old],
                     deletes=[user_word_key(w, user_id) for w in old if w not in new])


def search_users(q: str, limit: int, cursor_key: dict | None) -> tuple[list, dict | None]:
    """Every query word is a prefix of a word of the handle or display name.
    The longest one is looked up; the people found are checked for the
    others. A person is shown at the first of their words (in index order)
    that matches, so one matching by several words appears once, on one
    page. A page may be short; `next_cursor` continues."""
    query = _query_words(q)
    if not query:
        return [], None
    lead = max(query, key=len)
    partition = user_word_key(lead, "")[0]
    if cursor_key is not None and cursor_key.get("pk") != partition:
        raise errors.InvalidRequest("The cursor is not valid.", param="cursor")
    page = UserWord.query(partition, UserWord.sk.startswith(lead), limit=limit,
                          last_evaluated_key=base.key_from_plain(cursor_key))
    entries = list(page)
    users = {raw["id"]["S"]: UserItem.from_raw_data(raw)
             for raw in base.batch_get("users", [user_key(u) for u in dict.fromkeys(e.user_id for e in entries)])}
    found = []
    for entry in entries:
        user = users.get(entry.user_id)
        if user is None:
            continue
        own = _user_words(user.handle, user.display_name)
        first = min((user_word_key(w, user.id)[1] for w in own if w.startswith(lead)), default=None)
        if entry.sk == first and all(any(w.startswith(part) for w in own) for part in query):
            found.append(user)
    return public_users(found), base.key_to_plain(page.last_evaluated_key)
