"""Debit cards and their transactions, in the balances table (card records
ride in money transactions: an authorization's record lands with its hold).

Item kinds (pk / sk):
  CARDFP#<fingerprint>  CARD               a card, keyed by the keyed HMAC of its number, so the
                                           number a network sends finds it in one read; the number
                                           and CVC only sealed (envelope encryption)
  CARDFP#<fingerprint>  LIM#D#<YYYY-MM-DD> the card's spending that day (TTL)
  CARDFP#<fingerprint>  LIM#M#<YYYY-MM>    the card's spending that month (TTL)
  CARDFP#<fingerprint>  REVEAL#<YYYY-MM-DD> reveals of the card that day (TTL)
  CARD#<card_id>        CARDID             the immutable pointer from a card's public id to its fingerprint
                                           and owner (written once, with the card)
  CARDS#<user_id>       OPEN               how many open cards a person has (the 5-card limit)
  CTX#<ctx_id>          CTX                a card transaction (an authorization, a forced clearing, a refund,
                                           a decline)
  gsi1 of a card: CARDS_OF#<user_id> / <created_at>#<card_id>: a person's cards, oldest first
  gsi1 of a card transaction: CTXS#<card_id> / <created_at>#<ctx_id>: a card's transactions
"""
from pynamodb.attributes import BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.db.base import Gsi1, Item, meta


def card_key(fingerprint: str) -> tuple[str, str]:
    return f"CARDFP#{fingerprint}", "CARD"


def card_pointer_key(card_id: str) -> tuple[str, str]:
    return f"CARD#{card_id}", "CARDID"


def card_day_key(fingerprint: str, day: str) -> tuple[str, str]:
    return f"CARDFP#{fingerprint}", f"LIM#D#{day}"


def card_month_key(fingerprint: str, month: str) -> tuple[str, str]:
    return f"CARDFP#{fingerprint}", f"LIM#M#{month}"


def card_reveal_key(fingerprint: str, day: str) -> tuple[str, str]:
    return f"CARDFP#{fingerprint}", f"REVEAL#{day}"


def open_cards_key(user_id: str) -> tuple[str, str]:
    return f"CARDS#{user_id}", "OPEN"


def cards_of_partition(user_id: str) -> str:
    return f"CARDS_OF#{user_id}"


def card_transaction_key(ctx_id: str) -> tuple[str, str]:
    return f"CTX#{ctx_id}", "CTX"


def card_transactions_partition(card_id: str) -> str:
    return f"CTXS#{card_id}"


def created_sort_key(created_at: str, item_id: str) -> str:
    return f"{created_at}#{item_id}"


class CardLimits(MapAttribute):
    """Minor units; None: no limit of that kind."""
    per_transaction = NumberAttribute(null=True)
    daily = NumberAttribute(null=True)
    monthly = NumberAttribute(null=True)
    blocked_mccs = ListAttribute(of=UnicodeAttribute, null=True)
    allowed_countries = ListAttribute(of=UnicodeAttribute, null=True)


class CardItem(Item):
    """`sealed`: the number and CVC, sealed together (crypto/envelope.py);
    `cvc_mac`: a keyed HMAC of the CVC, so an authorization checks it with
    no KMS call. `request_hash`: the create request, for replays."""
    Meta = meta("balances")
    id = UnicodeAttribute()
    fingerprint = UnicodeAttribute()
    owner_id = UnicodeAttribute()
    owner_handle = UnicodeAttribute()
    account_id = UnicodeAttribute()
    brand = UnicodeAttribute(default="visa")
    last4 = UnicodeAttribute()
    exp_month = NumberAttribute()
    exp_year = NumberAttribute()
    label = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="active")  # active | frozen | closed
    limits = CardLimits(default=dict)
    sealed = UnicodeAttribute()
    cvc_mac = UnicodeAttribute()
    created_at = UnicodeAttribute()
    request_hash = UnicodeAttribute()
    gsi1_pk = UnicodeAttribute(null=True)
    gsi1_sk = UnicodeAttribute(null=True)
    by_owner = Gsi1()

    @classmethod
    def ref(cls, fingerprint: str) -> "CardItem":
        return cls(*card_key(fingerprint))


class CardPointer(Item):
    Meta = meta("balances")
    card_id = UnicodeAttribute()
    fingerprint = UnicodeAttribute()
    owner_id = UnicodeAttribute()


class OpenCards(Item):
    Meta = meta("balances")
    count = NumberAttribute(default=0)


class CardCounter(Item):
    """A card's spending in a day or month, or its reveals in a day."""
    Meta = meta("balances")
    total = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)


class MerchantMap(MapAttribute):
    name = UnicodeAttribute()
    mcc = UnicodeAttribute()
    city = UnicodeAttribute()
    country = UnicodeAttribute()


class CardTransactionItem(Item):
    """status: pending | posted | partially_captured | reversed | expired |
    declined | refunded. `hold_id`: the authorization's hold."""
    Meta = meta("balances")
    id = UnicodeAttribute()
    card_id = UnicodeAttribute()
    owner_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    fingerprint = UnicodeAttribute()
    authorization_id = UnicodeAttribute(null=True)
    hold_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    forced = BooleanAttribute(default=False)
    amount_held = NumberAttribute(default=0)
    amount_posted = NumberAttribute(default=0)
    amount_refunded = NumberAttribute(default=0)
    currency = UnicodeAttribute()
    merchant = MerchantMap(null=True)
    decline_reason = UnicodeAttribute(null=True)
    cashback = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    gsi1_pk = UnicodeAttribute(null=True)
    gsi1_sk = UnicodeAttribute(null=True)
    by_card = Gsi1()

    @classmethod
    def ref(cls, ctx_id: str) -> "CardTransactionItem":
        return cls(*card_transaction_key(ctx_id))

    @classmethod
    def find(cls, ctx_id: str) -> "CardTransactionItem | None":
        try:
            return cls.get(*card_transaction_key(ctx_id), consistent_read=True)
        except cls.DoesNotExist:
            return None
