"""Paper checks, in the balances table (they move money with its items, in
one transaction): checks written on Flock accounts, mobile check deposits,
and the claims that make a deposit unique.

Item kinds (pk / sk):
  CHK#<check_id>            CHK        a check written on a Flock account; its id derives from
                                       (account number, serial), so a presentment finds it by its MICR
  CHKSERIAL#<account_id>    CHKSERIAL  the account's next check number (an atomic counter, from 1001)
  CHKREQ#<request_id>       CHKREQ     a written check under (writer, idempotency key): its id and fingerprint
  DEP#<deposit_id>          DEP        a mobile check deposit: amount, MICR, image hashes, holds, status
  DEPMICR#<r>#<a>#<s>#<amt> DEPCLAIM   the one deposit of a check by MICR (routing, account, serial) and amount
  DEPIMG#<sha256>           DEPCLAIM   the one deposit an image (front or back) belongs to
  DEPWIN#<account_id>       DEPWIN     the account's check deposits per business day over the rolling window
                                       (limits and availability read it; written with a version condition)
  gsi1 of a check: CHECKS#<user_id> / <issued_at>#<check_id>; of a deposit: DEPS#<user_id> /
  <created_at>#<deposit_id>: a person's checks and deposits, newest first.

The claims are saved with `attribute_not_exists` in the deposit's own
transaction: of two deposits of one check racing, one commits.
"""
from pynamodb.attributes import (BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute,
                                 UnicodeSetAttribute)

from chalicelib.db.base import Gsi1, Item, meta

CHECK_SORT_KEY = "CHK"
DEPOSIT_SORT_KEY = "DEP"
CLAIM_SORT_KEY = "DEPCLAIM"


def check_key(check_id: str) -> tuple[str, str]:
    return f"CHK#{check_id}", CHECK_SORT_KEY


def serial_key(account_id: str) -> tuple[str, str]:
    return f"CHKSERIAL#{account_id}", "CHKSERIAL"


def check_request_key(request_id: str) -> tuple[str, str]:
    return f"CHKREQ#{request_id}", "CHKREQ"


def checks_partition(user_id: str) -> str:
    return f"CHECKS#{user_id}"


def deposit_key(deposit_id: str) -> tuple[str, str]:
    return f"DEP#{deposit_id}", DEPOSIT_SORT_KEY


def deposits_partition(user_id: str) -> str:
    return f"DEPS#{user_id}"


def listed_sort_key(at: str, item_id: str) -> str:
    """Both lists are newest first by time, then id."""
    return f"{at}#{item_id}"


def micr_claim_key(routing: str, account: str, serial: str, amount_cents: int) -> tuple[str, str]:
    return f"DEPMICR#{routing}#{account}#{serial}#{amount_cents}", CLAIM_SORT_KEY


def image_claim_key(sha256_hex: str) -> tuple[str, str]:
    return f"DEPIMG#{sha256_hex}", CLAIM_SORT_KEY


def window_key(account_id: str) -> tuple[str, str]:
    return f"DEPWIN#{account_id}", "DEPWIN"


class MicrMap(MapAttribute):
    routing = UnicodeAttribute()
    account = UnicodeAttribute()
    serial = UnicodeAttribute()


class CheckItem(Item):
    """A check. `status`: issued | paid | stopped | returned | void.
    `account_number` is the MICR's account field; `paid_by` the transfer that paid it."""
    Meta = meta("balances")
    id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    account_number = UnicodeAttribute()
    user_id = UnicodeAttribute()
    handle = UnicodeAttribute()
    number = NumberAttribute()
    payee = UnicodeAttribute()
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    memo = UnicodeAttribute(default="")
    status = UnicodeAttribute()
    issued_at = UnicodeAttribute()
    paid_at = UnicodeAttribute(null=True)
    paid_by = UnicodeAttribute(null=True)
    return_reason = UnicodeAttribute(null=True)
    gsi1_pk = UnicodeAttribute(null=True)
    gsi1_sk = UnicodeAttribute(null=True)
    by_owner = Gsi1()

    @classmethod
    def find(cls, check_id: str) -> "CheckItem | None":
        try:
            return cls.get(*check_key(check_id), consistent_read=True)
        except cls.DoesNotExist:
            return None


class SerialCounter(Item):
    """`last`: the last check number handed out on the account."""
    Meta = meta("balances")
    last = NumberAttribute(null=True)


class CheckRequest(Item):
    Meta = meta("balances")
    check_id = UnicodeAttribute()
    request_hash = UnicodeAttribute()

    @classmethod
    def find(cls, request_id: str) -> "CheckRequest | None":
        try:
            return cls.get(*check_request_key(request_id), consistent_read=True)
        except cls.DoesNotExist:
            return None


class HoldMap(MapAttribute):
    hold_id = UnicodeAttribute()
    amount = NumberAttribute()
    available_on = UnicodeAttribute()  # YYYY-MM-DD


class DepositItem(Item):
    """A mobile check deposit. `status`: pending | available | returned |
    rejected; `released`: the ids of its holds released so far (the release
    job adds each in the release's own transaction)."""
    Meta = meta("balances")
    id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    handle = UnicodeAttribute()
    account_id = UnicodeAttribute()
    transfer_id = UnicodeAttribute()
    request_hash = UnicodeAttribute()
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    micr = MicrMap()
    front_sha256 = UnicodeAttribute()
    back_sha256 = UnicodeAttribute()
    endorsed = BooleanAttribute()
    holds = ListAttribute(of=HoldMap, default=list)
    released = UnicodeSetAttribute(null=True)
    status = UnicodeAttribute()
    created_at = UnicodeAttribute()
    returned_at = UnicodeAttribute(null=True)
    return_reason = UnicodeAttribute(null=True)
    return_transfer_id = UnicodeAttribute(null=True)
    gsi1_pk = UnicodeAttribute(null=True)
    gsi1_sk = UnicodeAttribute(null=True)
    by_owner = Gsi1()

    @classmethod
    def find(cls, deposit_id: str) -> "DepositItem | None":
        try:
            return cls.get(*deposit_key(deposit_id), consistent_read=True)
        except cls.DoesNotExist:
            return None


class DepositClaim(Item):
    """Whose deposit a MICR+amount or an image is."""
    Meta = meta("balances")
    deposit_id = UnicodeAttribute()


class DepositWindow(Item):
    """`days`: JSON of business day (YYYY-MM-DD) -> [cents, count] of check
    deposits within the window; `version` bumped by every deposit, which is
    conditioned on the version it read."""
    Meta = meta("balances")
    days = UnicodeAttribute(default="{}")
    version = NumberAttribute(default=0)

    @classmethod
    def find(cls, account_id: str) -> "DepositWindow | None":
        try:
            return cls.get(*window_key(account_id), consistent_read=True)
        except cls.DoesNotExist:
            return None
