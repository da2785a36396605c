"""Interest rates with a history: the APY earned on positive balances and
the APR charged on negative ones, each change in force from its day on.

Accounts show today's rates (`displayed_rates`, cached a minute per process
so a wallet read stays one request); interest jobs read the whole history.
"""
import time
from dataclasses import dataclass
from datetime import date

from chalicelib import clock, errors
from chalicelib.config import settings
from chalicelib.db.balances import RATES_PARTITION, RateItem, rate_key
from chalicelib.db.transact import TaggedTransaction, commit
from chalicelib.identity import audit


@dataclass(frozen=True)
class Rates:
    effective_date: str  # YYYY-MM-DD
    apy_bps: int
    overdraft_apr_bps: int


def rate_history() -> list[Rates]:
    """Every rate change, oldest first; the configured default before them all."""
    s = settings()
    history = [Rates("0001-01-01", s.apy_bps, s.overdraft_apr_bps)]
    for item in RateItem.query(RATES_PARTITION, consistent_read=True):
        history.append(Rates(item.sk, int(item.apy_bps), int(item.overdraft_apr_bps)))
    return history


def rate_on(history: list[Rates], day: date) -> Rates:
    text = day.isoformat()
    current = history[0]
    for rates in history:
        if rates.effective_date <= text:
            current = rates
    return current


RATES_CACHE_S = 60
_cache: dict = {}


def displayed_rates() -> Rates:
    """The rates in force today, for display; read at most once a minute per
    process, so a wallet read stays one request. Jobs read the history fresh."""
    now_s = time.monotonic()
    if _cache.get("until", 0) < now_s:
        _cache.update(history=rate_history(), until=now_s + RATES_CACHE_S)
    return rate_on(_cache["history"], clock.now().date())


def set_rates(actor, apy_bps: int, overdraft_apr_bps: int, effective_date: date, reason: str | None) -> dict:
    """A change applies from `effective_date`, which may not be a day already
    past: accrued days keep the rate they were accrued at."""
    if effective_date < clock.now().date():
        raise errors.InvalidRequest("effective_date is today or later.", param="effective_date")
    item = RateItem(*rate_key(effective_date.isoformat()), effective_date=effective_date.isoformat(),
                    apy_bps=apy_bps, overdraft_apr_bps=overdraft_apr_bps, set_by=actor.user_id,
                    created_at=clock.iso(clock.real_now()))
    tx = TaggedTransaction()
    tx.save("rate", item)
    tx.save("audit", audit.record(actor, "rates", effective_date.isoformat(), reason, apy_bps=apy_bps,
                                  overdraft_apr_bps=overdraft_apr_bps))
    commit(tx)
    _cache.clear()
    return {"effective_date": item.effective_date, "apy_bps": apy_bps, "overdraft_apr_bps": overdraft_apr_bps,
            "history": [r.__dict__ for r in rate_history()[1:]]}
