"""Interest: rates with a history, daily accrual, monthly posting.

Positive end-of-day balances earn `apy_bps`, compounding daily: the day's
interest is (EOD balance + accrued unposted) x ((1 + APY)^(1/365) - 1).
Negative end-of-day balances are charged `overdraft_apr_bps / 365` a day,
simple. Interest is kept exactly in signed integer micro-cents
(`accrued_interest_micros`), with Decimal maths rounded half-even to the
micro-cent; posting moves the whole cents and carries the fraction over.

End-of-day balances cost no read: the ledger records each day's opening
balance at its first movement (`opens.d<YYYYMMDD>`), which is the previous
day's close. For a day D the close is the opening recorded for the first
later day that had a movement, or the balance as scanned if none had one.
The accrual job removes the openings it has used.

Each account carries watermarks advanced with conditions — `accrued_through`
(a day) and `posted_through` (a month) — so every job run is idempotent,
crash-safe and catches up missed days: one conditional update per account.
"""
import calendar
import decimal
import functools
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from pynamodb.exceptions import UpdateError

from chalicelib import clock, errors, ids
from chalicelib.config import settings
from chalicelib.db.balances import RATES_PARTITION, AccountItem, RateItem
from chalicelib.finance import ledger
from chalicelib.finance.money import Money

MICROS_PER_CENT = 1_000_000
BPS = Decimal(10_000)
DAYS_PER_YEAR = 365
CATCH_UP_DAYS_MAX = 3660
_MATH = decimal.Context(prec=50, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Rates:
    effective_date: str  # YYYY-MM-DD
    apy_bps: int
    overdraft_apr_bps: int


# Rates ---------------------------------------------------------------------

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
    import time
    now_s = time.monotonic()
    if _cache.get("until", 0) < now_s:
        _cache.update(history=rate_history(), until=now_s + RATES_CACHE_S)
    return rate_on(_cache["history"], clock.now().date())


def set_rates(actor, apy_bps: int, overdraft_apr_bps: int, effective_date: date, reason: str | None) -> dict:
    """A change applies from `effective_date`, which may not be a day already
    past: accrued days keep the rate they were accrued at."""
    from chalicelib.db.base import TaggedTransaction
    from chalicelib.identity import audit
    if effective_date < clock.now().date():
        raise errors.InvalidRequest("effective_date is today or later.", param="effective_date")
    item = RateItem(RATES_PARTITION, effective_date.isoformat(), effective_date=effective_date.isoformat(),
                    apy_bps=apy_bps, overdraft_apr_bps=overdraft_apr_bps, set_by=actor.user_id,
                    created_at=clock.iso(clock.real_now()))
    tx = TaggedTransaction()
    tx.save("rate", item)
    tx.save("audit", audit.record(actor, "rates", effective_date.isoformat(), reason, apy_bps=apy_bps,
                                  overdraft_apr_bps=overdraft_apr_bps))
    tx.commit()
    _cache.clear()
    return {"effective_date": item.effective_date, "apy_bps": apy_bps, "overdraft_apr_bps": overdraft_apr_bps,
            "history": [r.__dict__ for r in rate_history()[1:]]}


# Accrual ---------------------------------------------------------------------

@functools.lru_cache(maxsize=256)
def daily_rate(apy_bps: int) -> Decimal:
    """(1 + APY)^(1/365) - 1, to 50 significant digits."""
    return _MATH.power(1 + Decimal(apy_bps) / BPS, Decimal(1) / DAYS_PER_YEAR) - 1


def day_interest_micros(eod_cents: int, accrued_micros: int, rates: Rates) -> int:
    """One day's interest in micro-cents, rounded half-even."""
    if eod_cents > 0:
        base = Decimal(eod_cents * MICROS_PER_CENT + accrued_micros)
        if base <= 0:
            return 0
        return int(_MATH.multiply(base, daily_rate(rates.apy_bps)).to_integral_value(ROUND_HALF_EVEN))
    if eod_cents < 0:
        charge = Decimal(eod_cents * MICROS_PER_CENT) * Decimal(rates.overdraft_apr_bps) / BPS / DAYS_PER_YEAR
        return int(charge.to_integral_value(ROUND_HALF_EVEN))
    return 0


def _day(text: str) -> date:
    return date(int(text[1:5]), int(text[5:7]), int(text[7:9]))


def end_of_day_balances(account: AccountItem, first: date, last: date) -> list[tuple[date, int]]:
    """The close of each day in [first, last], from the recorded openings."""
    openings = sorted((_day(k), int(v)) for k, v in account.opens.as_dict().items() if k.startswith("d"))
    closes = []
    index = 0
    day = first
    while day <= last:
        while index < len(openings) and openings[index][0] <= day:
            index += 1
        closes.append((day, openings[index][1] if index < len(openings) else int(account.balance)))
        day += timedelta(days=1)
    return closes


def _month_label(day: date) -> str:
    return "m" + day.strftime("%Y%m")


def accrue_account(account: AccountItem, through: date, history: list[Rates]) -> bool:
    """Accrue every day after the watermark up to `through`, in one
    conditional update; returns whether it changed anything. At each month
    end it passes, it records all interest accrued so far (`month_interest`),
    which is what posting that month reads."""
    if account.kind != "customer":
        return False
    opened = date.fromisoformat(account.opened_at[:10])
    start = date.fromisoformat(account.accrued_through) + timedelta(days=1) if account.accrued_through else opened
    if start > through:
        return False
    if (through - start).days > CATCH_UP_DAYS_MAX:
        raise RuntimeError(f"{account.id}: more than {CATCH_UP_DAYS_MAX} days to catch up")
    accrued = int(account.accrued_interest_micros)
    posted = int(account.posted_interest_micros)
    delta = 0
    actions = []
    for day, close in end_of_day_balances(account, start, through):
        delta += day_interest_micros(close, accrued + delta, rate_on(history, day))
        if (day + timedelta(days=1)).day == 1:
            label = _month_label(day)
            actions.append(AccountItem.month_interest[label].set(posted + accrued + delta))
    actions += [AccountItem.accrued_interest_micros.set(AccountItem.accrued_interest_micros + delta),
                AccountItem.accrued_through.set(through.isoformat())]
    actions += [AccountItem.opens[k].remove() for k in account.opens.as_dict() if k.startswith("d") and _day(k) <= through]
    watermark = (AccountItem.accrued_through == account.accrued_through) if account.accrued_through \
        else AccountItem.accrued_through.does_not_exist()
    # Posting moves interest from accrued to posted; a posting in between
    # would make the month totals stale, so it must not have happened.
    condition = watermark & (AccountItem.posted_interest_micros == posted)
    try:
        account.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False  # another run advanced it first; a rerun finishes the rest
        raise
    return True


# Posting -----------------------------------------------------------------------

def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _months_to_post(account: AccountItem, as_of: date) -> list[tuple[int, int]]:
    opened = date.fromisoformat(account.opened_at[:10])
    year, month = (int(account.posted_through[:4]), int(account.posted_through[5:7])) if account.posted_through \
        else (opened.year, opened.month - 1)
    months = []
    while True:
        year, month = (year + month // 12, month % 12 + 1)
        if month_end(year, month) > as_of:
            return months
        months.append((year, month))


def post_account(account: AccountItem, as_of: date, history: list[Rates]) -> int:
    """Post every month that ended by `as_of` and is not posted yet, bringing
    accrual up to its last day first. Returns the months posted."""
    if account.kind != "customer":
        return 0
    posted = 0
    for year, month in _months_to_post(account, as_of):
        last_day = month_end(year, month)
        label = _month_label(last_day)
        if label not in account.month_interest.as_dict():
            accrue_account(account, last_day, history)
            account.refresh(consistent_read=True)
        total = account.month_interest.as_dict().get(label)
        if total is None:
            raise RuntimeError(f"{account.id}: no interest total for {label}")
        unposted = int(total) - int(account.posted_interest_micros)
        cents = int((Decimal(unposted) / MICROS_PER_CENT).to_integral_value(ROUND_DOWN))  # toward zero: the fraction carries
        month_text = f"{year:04d}-{month:02d}"
        record = (AccountItem.posted_through.set(month_text), AccountItem.month_interest[label].remove())
        if cents == 0:
            watermark = (AccountItem.posted_through < month_text) | AccountItem.posted_through.does_not_exist()
            try:
                account.update(actions=list(record), condition=watermark)
            except UpdateError as exc:
                if exc.cause_response_code != "ConditionalCheckFailedException":
                    raise
        else:
            _post_month(account, month_text, cents, record)
        posted += 1
        account.refresh(consistent_read=True)
    return posted


def _post_month(account: AccountItem, month_text: str, cents: int, record: tuple) -> None:
    """One transfer per account and month (its id derives from both); in the
    same update of the account, the cents move from accrued to posted."""
    from chalicelib.finance.transfers import system_party
    micros = cents * MICROS_PER_CENT
    owner = ledger.Party(account.id, display=account.owner_handle or account.id, user_id=account.owner_id,
                         customer=False,  # interest moves on frozen accounts too, and may pass the credit line
                         actions=(AccountItem.accrued_interest_micros.add(-micros),
                                  AccountItem.posted_interest_micros.add(micros)) + record)
    transfer_id = ids.derived_id("tr", "interest", account.id, month_text)
    if cents > 0:
        movement = ledger.Movement(transfer_id=transfer_id, kind="interest", debit=system_party("interest_expense"),
                                   credit=owner, money=Money(cents), request_hash=f"interest:{month_text}",
                                   note=f"interest for {month_text}")
    else:
        movement = ledger.Movement(transfer_id=transfer_id, kind="overdraft_interest", debit=owner,
                                   credit=system_party("interest_income"), money=Money(-cents),
                                   request_hash=f"overdraft_interest:{month_text}",
                                   note=f"overdraft interest for {month_text}")
    ledger.transfer(movement)  # a replay (posted by an earlier run) changes nothing
