"""Calls from the card and check networks (API.md, Networks): signed, and
answered once per event id.

A network retries until it hears an answer, so an event id must never cause
a second effect: the first answer is stored under the event id *in the same
transaction* as the money it moves (`Event.extra`), or alone when it moves
nothing (`Event.save`). A repeat with the same body gets the stored answer,
status and body; a repeat with another body is refused.

    event = network_events.begin("card", body)     # raises Replayed / IdempotencyKeyReused
    event, found = network_events.begin_with("check", body, keys)   # the same, with the call's own reads
    ... ledger.hold(..., extras=(event.extra(200, decision),))   # a record (chalicelib/records/) or a dict
    ... or, having lost the race to an identical event: return event.first_answer()

Routes declared with `http.routes(..., network="card")` check the signature
(identity/network_auth.py) before anything else and answer a `Replayed`
raised here with the stored status and body.
"""
import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from pynamodb.exceptions import PutError

from chalicelib import clock, errors
from chalicelib.db import base
from chalicelib.db.network import NetworkEventItem, network_event_key
from chalicelib.finance.ledger import Extra
from chalicelib.identity import keys, network_auth

EVENT_ID_CHARS_MAX = 64
# Far past any network's retry window; then the record goes (TTL).
EVENT_TTL_S = 180 * 86400


# For the networks' side (the CLI, tests): how a call is signed.
sign = network_auth.sign
Replayed = errors.Replayed


@dataclass(frozen=True)
class Event:
    network: str
    id: str
    request_hash: str

    def _record(self, status: int, answer) -> NetworkEventItem:
        item = NetworkEventItem.ref(self.network, self.id)
        item.network, item.event_id, item.request_hash = self.network, self.id, self.request_hash
        item.status, item.answer = status, json.dumps(_json_of(answer), sort_keys=True, separators=(",", ":"))
        item.created_at = clock.iso(clock.real_now())
        item.expires_at = int(time.time()) + EVENT_TTL_S
        return item

    def extra(self, status: int, answer) -> Extra:
        """The answer as an item of the movement's own transaction; the
        movement is refused (InvalidState) if the event was answered meanwhile."""
        return Extra("save", self._record(status, answer), condition=NetworkEventItem.pk.does_not_exist(),
                     refusal=errors.InvalidState("This network event was answered already."))

    def save(self, status: int, answer):
        """Record an answer that moves no money; the first answer wins: a
        record's is read back as a record of its type (the same JSON)."""
        try:
            self._record(status, answer).save(condition=NetworkEventItem.pk.does_not_exist())
        except PutError as failed:
            if failed.cause_response_code != "ConditionalCheckFailedException":
                raise
            first_status, first = self.first_answer()
            return first_status, first if isinstance(answer, dict) else type(answer).model_validate(first)
        return status, answer

    def first_answer(self) -> tuple[int, dict]:
        """The stored answer, after losing the race to an identical event."""
        stored = NetworkEventItem.find(self.network, self.id)
        if stored is None:
            raise errors.Unavailable()  # refused for another reason: the caller's retry decides
        if stored.request_hash != self.request_hash:
            raise errors.IdempotencyKeyReused("This event id was sent before with another body.", param="id")
        return stored.answered()


def _json_of(answer) -> dict:
    """What is stored and replayed: a record's JSON object (chalicelib/records/),
    exactly what the presenter answers for it."""
    return answer if isinstance(answer, dict) else answer.as_json()


def request_hash(body: dict) -> str:
    """Keyed: a card call's body holds the number and CVC, and everything
    else in it is stored beside the hash (the answer, the card's BIN, last4
    and expiry), so an unkeyed hash gives the number back to 10^6 guesses."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    mac = hmac.new(keys.derived_key("network-event-request"), canonical, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def begin(network: str, body: dict) -> Event:
    """The event of a network call: replays of an answered one are raised
    (`Replayed`), a reused id with another body refused (409)."""
    event = _event(network, body)
    return _checked(event, NetworkEventItem.find(network, event.id))


def event_key(network: str, body: dict) -> tuple[str, str]:
    """The key of the event's record, for a caller that reads it in one batch
    with what else it needs (a card authorization: the event and the card in
    one BatchGetItem), then calls `begin_read`."""
    return network_event_key(network, _event(network, body).id)


def begin_read(network: str, body: dict, stored_raw: dict | None) -> Event:
    """`begin`, with the event's record already read (raw, None if absent)."""
    event = _event(network, body)
    return _checked(event, NetworkEventItem.from_raw_data(stored_raw) if stored_raw else None)


def begin_with(network: str, body: dict, keys: list) -> tuple[Event, dict]:
    """`begin`, reading the event's record together with the balances
    table's items at `keys` that the call needs, in one request: the
    event, and {key: raw item} of those found."""
    event = _event(network, body)
    own = network_event_key(network, event.id)
    found = {(raw["pk"]["S"], raw["sk"]["S"]): raw
             for raw in base.batch_get("balances", [own, *keys], consistent=True)}
    stored = found.pop(own, None)
    return _checked(event, NetworkEventItem.from_raw_data(stored) if stored else None), found


def _event(network: str, body: dict) -> Event:
    event_id = body.get("id")
    if not isinstance(event_id, str) or not 1 <= len(event_id) <= EVENT_ID_CHARS_MAX:
        raise errors.InvalidRequest("id is the network's event id, 1..64 characters.", param="id")
    return Event(network, event_id, request_hash(body))


def _checked(event: Event, stored: NetworkEventItem | None) -> Event:
    if stored is not None:
        if stored.request_hash != event.request_hash:
            raise errors.IdempotencyKeyReused("This event id was sent before with another body.", param="id")
        raise Replayed(*stored.answered())
    return event
