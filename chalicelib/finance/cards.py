"""Debit cards on the Flock balance (API.md, Cards): issuing, the card's
states and limits, and revealing its number.

Rules:
- A number is 16 digits on Flock's BIN (`settings().card_bin`), Luhn-valid,
  valid through the end of the month 48 months after the month of issue.
- The number and CVC exist in clear only in memory while answering `create`
  and `reveal`: they are stored sealed (AES-256-GCM under a KMS data key,
  crypto/envelope.py), with a keyed HMAC fingerprint of the number (its own
  derived key) that finds the card from what a network sends, and a keyed
  HMAC of the CVC that an authorization checks without KMS.
- States: active <-> frozen, and closed, which is final. At most
  `cards_open_max` open (not closed) cards a person: a counter conditioned in
  the create transaction, so two creates racing cannot pass it.
- A reveal needs the password again, a step-up code with 2FA on, and at most
  `card_reveals_per_day` a card a (real) day; each is in the person's
  security events and the admin audit trail.
"""
import hashlib
import hmac
import json
import secrets
from datetime import datetime

from chalicelib import clock, errors, ids, lazy
from chalicelib.config import settings
from chalicelib.crypto import envelope
from chalicelib.db import base
from chalicelib.db.cards import (CardCounter, CardItem, CardLimits, CardPointer, OpenCards, card_key,
                                 card_pointer_key, card_reveal_key, cards_of_partition, created_sort_key,
                                 open_cards_key)
from chalicelib.db.transact import TaggedTransaction, commit
from chalicelib.db.users import UserItem
from chalicelib.finance.transfers import request_hash, require_money_caller, require_verified
from chalicelib.identity import audit, events, keys, passwords, stepup, throttle

NUMBER_DIGITS = 16
CVC_DIGITS = 3
VALID_MONTHS = 48
ISSUE_ATTEMPTS_MAX = 4  # a fresh number when one collides with an issued card's fingerprint
REVEAL_TTL_S = 2 * 86400
CARDS_LISTED_MAX = 100

records = lazy.module("chalicelib.records.cards")


def luhn_check_digit(partial: str) -> str:
    """The digit that makes `partial` + it pass the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:  # doubled: these sit at odd positions from the right once the check digit is added
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return number.isdigit() and len(number) > 1 and luhn_check_digit(number[:-1]) == number[-1]


def new_number() -> str:
    bin_ = settings().card_bin
    body = bin_ + "".join(str(secrets.randbelow(10)) for _ in range(NUMBER_DIGITS - 1 - len(bin_)))
    return body + luhn_check_digit(body)


def fingerprint(number: str) -> str:
    """The keyed HMAC a card is found by (its own key: no other use shares it)."""
    return hmac.new(keys.derived_key("card-fingerprint"), number.encode(), hashlib.sha256).hexdigest()


def cvc_mac(card_id: str, cvc: str) -> str:
    return hmac.new(keys.derived_key("card-cvc"), f"{card_id}:{cvc}".encode(), hashlib.sha256).hexdigest()


def cvc_matches(card: CardItem, cvc: str) -> bool:
    return hmac.compare_digest(card.cvc_mac, cvc_mac(card.id, cvc))


def expiry_of(issued: datetime) -> tuple[int, int]:
    """(month, year): the issue month + 48 months."""
    months = issued.year * 12 + issued.month - 1 + VALID_MONTHS
    return months % 12 + 1, months // 12


def is_expired(card: CardItem, now: datetime) -> bool:
    """Valid through the end of its expiry month."""
    return (now.year, now.month) > (int(card.exp_year), int(card.exp_month))


def _seal_context(card_id: str) -> dict:
    return {"purpose": "card", "card_id": card_id}


def public_limits(limits: CardLimits | None) -> "records.CardLimits":
    get = (lambda name: getattr(limits, name, None)) if limits is not None else (lambda name: None)
    as_int = (lambda v: None if v is None else int(v))
    return records.CardLimits(per_transaction=as_int(get("per_transaction")), daily=as_int(get("daily")),
                              monthly=as_int(get("monthly")), blocked_mccs=list(get("blocked_mccs") or []),
                              allowed_countries=list(get("allowed_countries") or []))


def public_card(card: CardItem, **shown: str) -> "records.Card":
    """The card as answered; `shown` (its number and cvc) only in the answer
    to its creation, which is the one other record that carries them."""
    record = records.NewCard if shown else records.Card
    return record(id=card.id, brand=card.brand, last4=card.last4, exp_month=int(card.exp_month),
                  exp_year=int(card.exp_year), label=card.label, status=card.status,
                  limits=public_limits(card.limits), created_at=card.created_at, **shown)


def _find_card(fp: str) -> CardItem | None:
    try:
        return CardItem.get(*card_key(fp), consistent_read=True)
    except CardItem.DoesNotExist:
        return None


def own_card(principal, card_id: str) -> CardItem:
    """The caller's card; anyone else's (or none) is 404."""
    require_verified(principal)
    pointer = None
    if isinstance(card_id, str) and card_id.startswith("card_") and len(card_id) <= 64:
        try:
            pointer = CardPointer.get(*card_pointer_key(card_id), consistent_read=True)
        except CardPointer.DoesNotExist:
            pointer = None
    card = _find_card(pointer.fingerprint) if pointer is not None and pointer.owner_id == principal.user_id else None
    if card is None:
        raise errors.NotFound("No such card.")
    return card


# Issuing ------------------------------------------------------------------------

def _issue_transaction(principal, card_id: str, label: str | None, request: str) -> tuple[TaggedTransaction, CardItem, str, str]:
    now = clock.now()
    at = clock.iso(now)
    number, cvc = new_number(), "".join(str(secrets.randbelow(10)) for _ in range(CVC_DIGITS))
    fp = fingerprint(number)
    exp_month, exp_year = expiry_of(now)
    card = CardItem(*card_key(fp), id=card_id, fingerprint=fp, owner_id=principal.user_id,
                    owner_handle=principal.handle, account_id=principal.account_id, last4=number[-4:],
                    exp_month=exp_month, exp_year=exp_year, label=label, status="active", limits=CardLimits(),
                    sealed=envelope.seal(json.dumps({"number": number, "cvc": cvc}).encode(), _seal_context(card_id)),
                    cvc_mac=cvc_mac(card_id, cvc), created_at=at, request_hash=request,
                    gsi1_pk=cards_of_partition(principal.user_id), gsi1_sk=created_sort_key(at, card_id))
    tx = TaggedTransaction()
    tx.save("pointer", CardPointer(*card_pointer_key(card_id), card_id=card_id, fingerprint=fp,
                                   owner_id=principal.user_id),
            condition=CardPointer.pk.does_not_exist(), return_values="ALL_OLD")
    tx.save("card", card, condition=CardItem.pk.does_not_exist())
    tx.update("open", OpenCards(*open_cards_key(principal.user_id)), [OpenCards.count.set((OpenCards.count | 0) + 1)],
              condition=OpenCards.count.does_not_exist() | (OpenCards.count < settings().cards_open_max))
    if principal.session_id:  # an ended session issues nothing
        tx.check("session", UserItem.ref(principal.user_id), condition=UserItem.sessions.contains(principal.session_id))
    return tx, card, number, cvc


def create(principal, label: str | None, idempotency_key: str) -> tuple["records.Card", bool]:
    """(card with `number` and `cvc`, replayed). A replay answers the card
    without them; the same key with another label is 409."""
    require_money_caller(principal)
    card_id = ids.derived_id("card", principal.user_id, idempotency_key)
    request = request_hash("card", label=label)
    for _ in range(ISSUE_ATTEMPTS_MAX):
        tx, card, number, cvc = _issue_transaction(principal, card_id, label, request)
        refused = commit(tx)
        if not refused:
            return public_card(card, number=number, cvc=cvc), False
        if "pointer" in refused:
            raw = refused["pointer"].raw_item
            stored = _find_card(CardPointer.from_raw_data(raw).fingerprint) if raw else None
            if stored is None:
                raise errors.InvalidState("The card is being issued; try again.")
            if stored.request_hash != request:
                raise errors.IdempotencyKeyReused()
            return public_card(stored), True
        if "session" in refused:
            raise errors.Unauthenticated("The session has ended.")
        if "open" in refused:
            raise errors.LimitExceeded(f"At most {settings().cards_open_max} open cards.")
        # else: the number's fingerprint is taken (one in a billion): a fresh number
    raise errors.Unavailable()


def get_card(principal, card_id: str) -> "records.Card":
    return public_card(own_card(principal, card_id))


def list_cards(principal, limit: int, cursor_key: dict | None) -> tuple[list["records.Card"], dict | None]:
    require_verified(principal)
    partition = cards_of_partition(principal.user_id)
    if cursor_key is not None and cursor_key.get("gsi1_pk") != partition:
        raise errors.InvalidRequest("The cursor is not valid.", param="cursor")
    page = CardItem.by_owner.query(partition, scan_index_forward=False, limit=min(limit, CARDS_LISTED_MAX),
                                   last_evaluated_key=base.key_from_plain(cursor_key))
    items = [public_card(card) for card in page]
    return items, base.key_to_plain(page.last_evaluated_key)


# States and limits -------------------------------------------------------------

def _change(card: CardItem, actions: list, condition, extra=None) -> CardItem:
    tx = TaggedTransaction()
    tx.update("card", CardItem.ref(card.fingerprint), actions, condition=condition, return_values="ALL_OLD")
    if extra is not None:
        extra(tx)
    refused = commit(tx)
    if refused:
        raise errors.InvalidState("The card is closed." if "card" in refused else "The card changed; try again.")
    return _find_card(card.fingerprint)


def freeze(principal, card_id: str) -> "records.Card":
    card = own_card(principal, card_id)
    if card.status == "frozen":
        return public_card(card)
    return public_card(_change(card, [CardItem.status.set("frozen")], CardItem.status != "closed"))


def unfreeze(principal, card_id: str) -> "records.Card":
    card = own_card(principal, card_id)
    if card.status == "active":
        return public_card(card)
    return public_card(_change(card, [CardItem.status.set("active")], CardItem.status != "closed"))


def close(principal, card_id: str) -> "records.Card":
    """Final; its open-card place is freed in the same transaction."""
    card = own_card(principal, card_id)
    if card.status == "closed":
        return public_card(card)

    def free_place(tx: TaggedTransaction) -> None:
        tx.update("open", OpenCards(*open_cards_key(principal.user_id)), [OpenCards.count.add(-1)],
                  condition=OpenCards.count > 0)
    return public_card(_change(card, [CardItem.status.set("closed")], CardItem.status != "closed", free_place))


LIMIT_FIELDS = ("per_transaction", "daily", "monthly", "blocked_mccs", "allowed_countries")


def set_limits(principal, card_id: str, changes: dict) -> "records.Card":
    """`changes`: the fields given (None clears one)."""
    card = own_card(principal, card_id)
    if card.status == "closed":
        raise errors.InvalidState("The card is closed.")
    actions = []
    for name in LIMIT_FIELDS:
        if name not in changes:
            continue
        value = changes[name]
        attribute = getattr(CardItem.limits, name)
        if isinstance(value, list):
            value = sorted(set(value))
        actions.append(attribute.remove() if value is None else attribute.set(value))
    if not actions:
        return public_card(card)
    return public_card(_change(card, actions, CardItem.status != "closed"))


# Reveal ------------------------------------------------------------------------

def _seconds_to_midnight(now: datetime) -> int:
    return 86400 - (now.hour * 3600 + now.minute * 60 + now.second)


def reveal(principal, card_id: str, password: str) -> "records.CardSecrets":
    """Step-up (with 2FA, as a password change), then the password (throttled
    like logins), then one of the day's reveals,
    counted in one transaction with the security event and the audit record."""
    card = own_card(principal, card_id)
    stepup.require(principal, "card_reveal", card_id=card.id)
    user = UserItem.find(principal.user_id)
    if user is None:
        raise errors.NotFound("No such card.")
    # Guesses count as failed logins from the address, as a password change's do:
    # a stolen token is no unthrottled way to learn the password.
    throttle.count_attempt(user.handle, principal.client.ip)
    if not passwords.verify_password(user.password_hash, password):
        events.log(principal.user_id, "sign_in_failed", principal.client, reason="wrong_password_card_reveal")
        raise errors.InvalidCredentials("The password is wrong.")
    throttle.clear(user.handle, principal.client.ip)
    if card.status == "closed":
        raise errors.InvalidState("The card is closed.")
    now = clock.real_now()  # a rate limit is security time
    tx = TaggedTransaction()
    counter = CardCounter(*card_reveal_key(card.fingerprint, now.date().isoformat()))
    tx.update("reveals", counter, [CardCounter.total.set((CardCounter.total | 0) + 1),
                                   CardCounter.expires_at.set(int(now.timestamp()) + REVEAL_TTL_S)],
              condition=CardCounter.total.does_not_exist() | (CardCounter.total < settings().card_reveals_per_day))
    tx.save("event", events.record(principal.user_id, "card_reveal", principal.client, card_id=card.id,
                                   last4=card.last4))
    tx.save("audit", audit.record(principal, "card_reveal", card.id, None, last4=card.last4))
    if commit(tx):
        raise errors.RateLimited(_seconds_to_midnight(now), "This card was revealed too often today.")
    secrets_ = json.loads(envelope.open_sealed(card.sealed, _seal_context(card.id)))
    return records.CardSecrets(number=secrets_["number"], cvc=secrets_["cvc"], exp_month=int(card.exp_month),
                               exp_year=int(card.exp_year))


def expired_now(card: CardItem) -> bool:
    return is_expired(card, clock.now())

