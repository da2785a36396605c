"""Hostile review of the records refactor (services return frozen pydantic
records, http.present makes the JSON): callers that still treat a service's
answer as a dict, replays that answer other JSON, values a record refuses."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))


def test_the_hot_item_simulator_reads_a_created_post_as_the_record_it_is():
    """bench/hotspots.py took `posts.create(...)["id"]`: a Post record is not
    subscriptable, so `make bench`'s hot-item section died with a TypeError."""
    import hotspots
    report = hotspots.simulate(hotspots.Workload(people=7, follows=6, likes=6, tips=3, transfers=3),
                               say=lambda _: None)
    assert report.ops == {"follow": 6, "like": 6, "tip": 3, "p2p": 3}


def _stale_unlike(post_id: str) -> None:
    """What a post's counter shards can show a reader: a like's +1 on one
    shard not seen yet (`hydrate` reads eventually consistent, and a batch
    get is no snapshot) while its unlike's -1 on another shard is."""
    from chalicelib.db.posts import CounterShard, counter_key
    CounterShard(*counter_key(post_id, 1)).update(actions=[CounterShard.likes.add(-1), CounterShard.replies.add(-1)])


def test_a_post_whose_shards_read_below_zero_is_answered_not_a_500(api):
    """Post's like_count and reply_count are `Count` (>= 0): the sum the
    stale read gives was answered as it was before records; now it made the
    record refuse and the post, the author's page and every timeline holding
    it answered 500."""
    api.verified("alice")
    post = api.call("POST", "/v1/posts", {"text": "toggle me"}, as_="alice").json_body
    _stale_unlike(post["id"])
    for path in (f"/v1/posts/{post['id']}", "/v1/users/alice/posts", "/v1/timeline"):
        r = api.call("GET", path, as_="alice")
        assert r.status_code == 200, (path, r.body)
    shown = api.call("GET", f"/v1/posts/{post['id']}", as_="alice").json_body
    assert (shown["like_count"], shown["reply_count"]) == (0, 0)


def test_a_dm_payment_stored_before_forced_was_listed_still_lists(api):
    """Messages store their payment's JSON. Those written before the DM
    payment said `forced` (cca7d0b) lack it; `public_message` now reads the
    stored payment back as a Transfer record, whose `forced` is required, so
    listing a conversation holding one answered 500."""
    import json
    import uuid

    from chalicelib.db.posts import MessageItem
    api.verified("alice")
    api.verified("bob")
    api.deposit("alice", 5_000)
    conv = api.call("POST", "/v1/conversations", {"with": "bob"}, as_="alice").json_body
    paid = api.money("POST", f"/v1/conversations/{conv['id']}/payments", {"amount": 250, "currency": "USD"},
                     "alice", str(uuid.uuid4()))
    assert paid.status_code == 201, paid.body
    item = next(m for m in MessageItem.scan() if m.payment)
    old = json.loads(item.payment)
    del old["forced"]
    item.update(actions=[MessageItem.payment.set(json.dumps(old, sort_keys=True))])
    r = api.call("GET", f"/v1/conversations/{conv['id']}/messages", as_="bob")
    assert r.status_code == 200, r.body
    assert r.json_body["data"][0]["payment"]["forced"] is False


def test_a_reply_counted_on_the_post_item_and_deleted_since_leaves_the_right_count(api):
    """Replies counted on the post item (before the shards) and deleted since
    are taken off a shard: the shards' sum is below zero by right, and only
    the total may be held at zero."""
    from chalicelib.db.posts import CounterShard, PostItem, counter_key
    api.verified("alice")
    post = api.call("POST", "/v1/posts", {"text": "old"}, as_="alice").json_body
    PostItem.ref(post["id"]).update(actions=[PostItem.reply_count.set(3)])
    CounterShard(*counter_key(post["id"], 2)).update(actions=[CounterShard.replies.add(-1)])
    assert api.call("GET", f"/v1/posts/{post['id']}", as_="alice").json_body["reply_count"] == 2


def test_a_month_in_other_digits_is_refused_not_a_500(api):
    """`wallet.MONTH` matched `\\d`, which takes any Unicode digit (int() reads
    them too): "٢٠٢٦-03" passed as a month, to be echoed in the statement and
    the earnings; the Statement and Earnings records' Month pattern is ASCII,
    so the record refused it and both answered 500 (API Gateway decodes the
    statement's path; the test client does not, so its service is called)."""
    from urllib.parse import quote

    import pytest

    from chalicelib import errors
    from chalicelib.finance import wallet
    from tests.unit.moneykit import principal
    api.verified("alice")
    month = "\u0662\u0660\u0662\u0666-03"
    r = api.call("GET", f"/v1/me/earnings?month={quote(month)}", as_="alice")
    assert (r.status_code, r.json_body["error"]["param"]) == (400, "month"), r.body
    with pytest.raises(errors.InvalidRequest):
        wallet.statement(principal("alice"), month)


def test_a_celebrity_whose_follower_shards_read_below_the_item_is_answered_not_a_500(api):
    """A celebrity's follower count is the user item plus its shards, read
    apart: an unfollow on a shard can be seen before the follow it undoes
    on the item. The User record's Count refuses a sum below zero."""
    from chalicelib.db.users import FollowerShard, UserItem, follower_shard_key
    from chalicelib.social import timeline
    api.verified("celeb")
    user_id = api.call("GET", "/v1/me", as_="celeb").json_body["id"]
    timeline.promote_celebrity(user_id)
    FollowerShard(*follower_shard_key(user_id, 0), followers=-1).save()
    assert int(UserItem.find(user_id).follower_count) == 0
    for path in ("/v1/users/celeb", "/v1/me"):
        r = api.call("GET", path, as_="celeb")
        assert r.status_code == 200 and r.json_body["follower_count"] == 0, (path, r.body)


def test_a_record_never_shows_its_secrets_in_a_repr_or_a_validation_error():
    """A record built wrong is a 500 whose error is logged: neither the
    error nor a record's repr may carry a token, a TOTP secret, recovery
    codes or a card number."""
    import pydantic

    from chalicelib.records import cards, identity
    secrets = ["tok-SECRET-1", "ref-SECRET-2", "JBSWY3DPEHPKSECRET", "otpauth://totp/SECRET", "4242424242424242"]
    shown = [repr(identity.Tokens(token=secrets[0], refresh_token=secrets[1])),
             repr(identity.TotpEnrolment(secret=secrets[2], otpauth_uri=secrets[3])),
             repr(identity.RecoveryCodes(recovery_codes=[f"code-SECRET-{i}" for i in range(10)]))]
    for wrong in (lambda: identity.Tokens(token=secrets[0], refresh_token=""),
                  lambda: identity.TotpEnrolment(secret=secrets[2], otpauth_uri=None),
                  lambda: cards.CardSecrets(number=secrets[4], cvc=None)):
        try:
            wrong()
        except pydantic.ValidationError as refused:
            shown.append(str(refused))
        else:
            raise AssertionError("the record took a wrong value")
    assert not [text for text in shown for secret in [*secrets, "code-SECRET"] if secret in text], shown
