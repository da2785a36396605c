"""Hostile review of the debit card (API.md, Cards and Networks): money the
network could create or lose, decisions out of API.md's order, and holes
in who may call what."""
import pytest

from tests.unit.cards_world import (AUTH, DINER, SHOP, assert_books_clean, event_id,  # noqa: F401
                                    one_request_at_a_time, person_with_card, run_threads)


@pytest.fixture
def net(api):
    return person_with_card(api, deposit=10_000)


def _ok(r):
    assert r.status_code == 200, r.body
    return r.json_body


def _code(r):
    return r.status_code, r.json_body["error"]["code"]


# Refunds cannot return more than was posted -------------------------------------------

def test_a_linked_refund_larger_than_what_was_posted_is_refused(net):
    auth = net.approve(1_000)
    _ok(net.clear(1_000, auth))
    before = net.api.wallet("alice")["balance"]
    r = net.refund(1_000_000, auth_id=auth)
    assert _code(r) == (409, "invalid_state")
    assert net.api.wallet("alice")["balance"] == before
    assert_books_clean()


def test_linked_refunds_add_up_to_at_most_what_was_posted(net):
    auth = net.approve(1_000)
    _ok(net.clear(800, auth))
    _ok(net.refund(500, auth_id=auth))
    _ok(net.refund(300, auth_id=auth))
    before = net.api.wallet("alice")["balance"]
    assert _code(net.refund(1, auth_id=auth)) == (409, "invalid_state")
    assert net.api.wallet("alice")["balance"] == before
    assert_books_clean()


@pytest.mark.parametrize("how", ["declined", "pending", "reversed"])
def test_a_refund_linked_to_an_authorization_that_posted_nothing_is_refused(net, how):
    if how == "declined":
        auth = _ok(net.authorize(1_000_000))["authorization_id"]
    else:
        auth = net.approve(1_000)
        if how == "reversed":
            _ok(net.reverse(auth))
    before = net.api.wallet("alice")["balance"]
    assert _code(net.refund(1_000, auth_id=auth)) == (409, "invalid_state")
    assert net.api.wallet("alice")["balance"] == before
    assert_books_clean()


def test_a_refused_refund_answers_the_same_when_replayed_and_moves_nothing(net):
    auth = net.approve(1_000)
    _ok(net.clear(1_000, auth))
    event = event_id()
    assert _code(net.refund(5_000, auth_id=auth, event=event)) == (409, "invalid_state")
    assert _code(net.refund(5_000, auth_id=auth, event=event)) == (409, "invalid_state")
    ok = _ok(net.refund(1_000, auth_id=auth))
    assert ok["amount_refunded"] == 1_000 and ok["cashback"] == -10
    assert_books_clean()
