"""Interest rates with a history: the APY earned on positive balances and
the APR charged on negative ones, each change in force from its day on.
Pockets of other currencies earn their currency's APY (`pocket_apy_bps`,
0 for a currency not named); the overdraft APR is the home currency's alone
(the credit line stays on the USD pocket). A change that does not name the
pocket APYs keeps those in force before it.

Accounts show today's rates (`displayed_rates`, cached a minute per process
so a wallet read stays one request); interest jobs read the whole history.
"""
import time
from dataclasses import dataclass, field, replace
from datetime import date

from chalicelib import clock, errors, lazy
from chalicelib.config import HOME_CURRENCY, settings
from chalicelib.db.balances import RATES_PARTITION, RateItem, rate_key
from chalicelib.db.transact import TaggedTransaction, commit
from chalicelib.identity import audit

records = lazy.module("chalicelib.records.money")


@dataclass(frozen=True)
class Rates:
    """Attributes:
      effective_date: YYYY-MM-DD, the first day they apply.
      apy_bps: earned by the home-currency account.
      overdraft_apr_bps: charged on its negative balances.
      pocket_apy_bps: currency -> APY earned by pockets of that currency
        (a currency not named earns 0)."""
    effective_date: str
    apy_bps: int
    overdraft_apr_bps: int
    pocket_apy_bps: dict = field(default_factory=dict)

    def of(self, currency: str) -> "Rates":
        """The rates an account of `currency` earns and pays: a pocket earns
        its currency's APY and is charged nothing (it has no credit line)."""
        if currency == HOME_CURRENCY:
            return self
        return replace(self, apy_bps=int(self.pocket_apy_bps.get(currency, 0)), overdraft_apr_bps=0)


def rate_history() -> list[Rates]:
    """Every rate change, oldest first; the configured default before them all."""
    s = settings()
    history = [Rates("0001-01-01", s.apy_bps, s.overdraft_apr_bps, _pocket_apys(s.pocket_apy_bps))]
    for item in RateItem.query(RATES_PARTITION, consistent_read=True):
        pockets = history[-1].pocket_apy_bps if item.pocket_apy_bps is None \
            else _pocket_apys(item.pocket_apy_bps.as_dict())
        history.append(Rates(item.sk, int(item.apy_bps), int(item.overdraft_apr_bps), pockets))
    return history


def _pocket_apys(apys: dict) -> dict:
    """Only currencies Flock holds, other than the home one, with an APY above 0."""
    return {code: int(bps) for code, bps in apys.items()
            if code in settings().currencies and code != HOME_CURRENCY and int(bps) > 0}


def earns_ever(history: list[Rates], currency: str) -> bool:
    """Whether accounts of `currency` earn on any day of the history: a
    pocket of a currency that never did is left out of the interest jobs."""
    return any(rates.of(currency).apy_bps > 0 or rates.of(currency).overdraft_apr_bps > 0 for rates in history)


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


def set_rates(actor, apy_bps: int, overdraft_apr_bps: int, effective_date: date, reason: str | None,
              pocket_apy_bps: dict | None = None) -> "records.Rates":
    """A change applies from `effective_date`, which may not be a day already
    past: accrued days keep the rate they were accrued at. `pocket_apy_bps`
    (currency -> bps) replaces every pocket APY from that day (a currency
    left out earns 0); None keeps those in force."""
    if effective_date < clock.now().date():
        raise errors.InvalidRequest("effective_date is today or later.", param="effective_date")
    if pocket_apy_bps is not None:
        for code in pocket_apy_bps:
            if code not in settings().currencies:
                raise errors.UnsupportedCurrency(f"{str(code)[:16]} is not a supported currency.",
                                                 param="pocket_apy_bps")
            if code == HOME_CURRENCY:
                raise errors.InvalidRequest(f"The {HOME_CURRENCY} APY is apy_bps.", param="pocket_apy_bps")
        pocket_apy_bps = {code: bps for code, bps in pocket_apy_bps.items() if bps > 0}
    item = RateItem(*rate_key(effective_date.isoformat()), effective_date=effective_date.isoformat(),
                    apy_bps=apy_bps, overdraft_apr_bps=overdraft_apr_bps, pocket_apy_bps=pocket_apy_bps,
                    set_by=actor.user_id, created_at=clock.iso(clock.real_now()))
    tx = TaggedTransaction()
    tx.save("rate", item)
    tx.save("audit", audit.record(actor, "rates", effective_date.isoformat(), reason, apy_bps=apy_bps,
                                  overdraft_apr_bps=overdraft_apr_bps, pocket_apy_bps=pocket_apy_bps))
    commit(tx)
    _cache.clear()
    history = rate_history()
    return records.Rates(effective_date=item.effective_date, apy_bps=apy_bps, overdraft_apr_bps=overdraft_apr_bps,
                         pocket_apy_bps=rate_on(history, effective_date).pocket_apy_bps,
                         history=[records.RateChange(effective_date=r.effective_date, apy_bps=r.apy_bps,
                                                     overdraft_apr_bps=r.overdraft_apr_bps,
                                                     pocket_apy_bps=r.pocket_apy_bps) for r in history[1:]])
