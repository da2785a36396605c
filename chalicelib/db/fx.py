"""Money in other currencies, in the balances table: exchange rates and quotes.

Item kinds (pk / sk):
  FXRATES            <at>#<id>       one set of mid-market rates (operator or ECB file), newest last
  FXQ#<quote_id>     FXQ             a quote: open until used once or past `valid_until_s` (real time)

A pocket is an account item like any other (`ACCT#<account_id>` / `ACCT`,
`db/balances.py`), kind `pocket`, with its own currency.
"""
from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.db.base import Item, meta

FX_RATES_PARTITION = "FXRATES"
QUOTE_SORT_KEY = "FXQ"


def fx_rates_key(at: str, rates_id: str) -> tuple[str, str]:
    """Sorted by when they were set: the newest is the last of the partition."""
    return FX_RATES_PARTITION, f"{at}#{rates_id}"


def quote_key(quote_id: str) -> tuple[str, str]:
    return f"FXQ#{quote_id}", QUOTE_SORT_KEY


class FxRatesItem(Item):
    """Mid-market rates: `rates[code]` is how many units of `code` one unit
    of `base` buys, a decimal string (never a float). `source`: admin | ecb;
    `as_of`: the day the source says they are of."""
    Meta = meta("balances")
    id = UnicodeAttribute()
    base = UnicodeAttribute()
    rates = MapAttribute(default=dict)
    source = UnicodeAttribute()
    as_of = UnicodeAttribute()
    set_by = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()

    @classmethod
    def latest(cls) -> "FxRatesItem | None":
        for item in cls.query(FX_RATES_PARTITION, scan_index_forward=False, limit=1, consistent_read=True):
            return item
        return None


class QuoteItem(Item):
    """A quote for one person. `status` open -> used (by `transfer_id`), in
    the conversion's own transaction, conditioned on being open and on
    `valid_until_s` (epoch seconds, real time): so a quote converts once.
    `expires_at` (the table's TTL) removes it days later."""
    Meta = meta("balances")
    id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    sell_currency = UnicodeAttribute()
    buy_currency = UnicodeAttribute()
    rate = UnicodeAttribute()  # decimal string: buy units per sell unit, spread applied
    mid_rate = UnicodeAttribute()
    sell_amount = NumberAttribute()
    buy_amount = NumberAttribute()
    fee = NumberAttribute()
    status = UnicodeAttribute(default="open")  # open | used
    transfer_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    expires_at_iso = UnicodeAttribute()
    valid_until_s = NumberAttribute()
    expires_at = NumberAttribute()

    @classmethod
    def ref(cls, quote_id: str) -> "QuoteItem":
        return cls(*quote_key(quote_id))

    @classmethod
    def find(cls, quote_id: str) -> "QuoteItem | None":
        try:
            return cls.get(*quote_key(quote_id), consistent_read=True)
        except cls.DoesNotExist:
            return None
