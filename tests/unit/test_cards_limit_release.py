"""What an authorization stops holding stops counting against the card's
day and month limits: a reversal, a clearing for less and an expiry give the
allowance back while the day or month is current; a past day is left alone.
The test clock starts at tests.conftest.TEST_NOW (2026-03-10 15:00 UTC)."""
from datetime import timedelta

import pytest

from chalicelib import clock
from tests.conftest import TEST_NOW
from tests.unit.cards_world import HOTEL, assert_books_clean, person_with_card


@pytest.fixture
def net(api):
    net = person_with_card(api, deposit=10_000)
    r = api.call("PUT", f"/v1/cards/{net.card['id']}/limits", {"daily": 1_000, "monthly": 3_000}, as_="alice")
    assert r.status_code == 200, r.body
    return net


def _approved(r) -> bool:
    assert r.status_code == 200, r.body
    return r.json_body["approved"]


def test_a_full_reversal_gives_the_day_back(net):
    auth = net.approve(1_000)
    assert not _approved(net.authorize(1))
    assert net.reverse(auth).status_code == 200
    assert _approved(net.authorize(1_000))
    assert not _approved(net.authorize(1))
    assert_books_clean()


def test_a_partial_reversal_gives_back_what_it_released(net):
    auth = net.approve(800)
    assert net.reverse(auth, 300).status_code == 200
    assert not _approved(net.authorize(501))
    assert _approved(net.authorize(500))
    assert_books_clean()


def test_a_clearing_for_less_gives_back_the_rest(net):
    auth = net.approve(1_000)
    r = net.clear(600, auth)
    assert r.status_code == 200 and r.json_body["amount_posted"] == 600, r.body
    assert not _approved(net.authorize(401))
    assert _approved(net.authorize(400))
    assert_books_clean()


def test_an_increment_counts_and_its_reversal_gives_it_back(net):
    auth = net.approve(400)
    assert net.increment(auth, 600).json_body["approved"]
    assert not _approved(net.authorize(1))
    assert net.reverse(auth).status_code == 200
    assert _approved(net.authorize(1_000))


def test_a_reversal_the_next_day_leaves_the_past_day_and_frees_the_month(net):
    for _ in range(3):  # three days of 1,000: the month's 3,000 is spent
        auths = [net.approve(1_000)]
        clock.pin(clock.now() + timedelta(days=1))
    assert not _approved(net.authorize(1))  # the month, with today's day still free
    assert net.reverse(auths[-1]).status_code == 200
    assert _approved(net.authorize(1_000))
    assert_books_clean()


def test_an_expired_hold_gives_the_month_back(net):
    net.approve(1_000, HOTEL)  # lodging holds 31 days: past the month, expiry frees nothing current
    for day in range(1, 3):
        clock.pin(TEST_NOW + timedelta(days=day))
        net.approve(1_000)
    clock.pin(TEST_NOW + timedelta(days=9, hours=1))  # the two 7-day holds expired, still March
    assert not _approved(net.authorize(1))
    r = net.api.admin("POST", "/v1/admin/jobs/expire-holds", {"as_of": clock.now().date().isoformat()})
    assert r.status_code == 200 and r.json_body["changed"] == 2, r.body
    assert net.api.wallet("alice")["held"] == 1_000
    assert _approved(net.authorize(1_000))
    assert not _approved(net.authorize(1))  # the day's 1,000 is spent again
    assert_books_clean()
