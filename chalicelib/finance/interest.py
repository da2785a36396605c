"""Interest: rates with a history, daily accrual, monthly posting.

Positive end-of-day balances earn `apy_bps`, compounding daily: the day's
interest is (EOD balance + accrued unposted) x ((1 + APY)^(1/365) - 1).
Negative end-of-day balances are charged `overdraft_apr_bps / 365` a day,
simple. Interest is kept exactly in signed integer micro-cents
(`accrued_interest_micros`), with Decimal maths rounded half-even to the
micro-cent. Interest earned and overdraft interest charged are not netted:
each month posts the whole cents (toward zero) of each as a transfer of its
own, and each carries its own fraction over.

End-of-day balances cost no read: the ledger records each day's opening
balance at its first movement (`opens.d<YYYYMMDD>`), which is the previous
day's close. For a day D the close is the opening recorded for the first
later day that had a movement, or the balance as scanned if none had one.
The accrual job removes the openings it has used.

Money credited but not yet available (a deposit's credit hold, counted in
`held_credit`) earns nothing until it is released: interest accrues on the
close of `balance - held_credit`. The ledger records `held_credit`'s
openings the same way (`opens.h<YYYYMMDD>`, at its first change of a day),
so its closes cost no read either; an overdraft is charged on that
difference too (the money is not the person's to use yet).

Pockets of other currencies earn their currency's APY the same way
(`Rates.of`), in that currency's minor units: "cents" and "micro-cents"
below are minor units and millionths of one (a yen and a micro-yen for
JPY, whose fraction carries like any other), paid from `interest_expense`
of the currency. A pocket has no credit line and is charged no overdraft
interest.

Each account carries watermarks advanced with conditions — `accrued_through`
(a day) and `posted_through` (a month) — so every job run is idempotent,
crash-safe and catches up missed days: one conditional update per account.
"""
import calendar
import decimal
import functools
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from pynamodb.attributes import MapAttribute
from pynamodb.constants import NONE
from pynamodb.exceptions import UpdateError

from chalicelib import clock, ids
from chalicelib.db.balances import AccountItem
from chalicelib.finance import credit, credit_shards, ledger
from chalicelib.finance.money import Money
from chalicelib.finance.pockets import system_party_in
# `_cache` too: the test stacks clear it here (tests/unit/conftest.py).
from chalicelib.finance.rates import Rates, _cache, displayed_rates, earns_ever, rate_history, rate_on  # noqa: F401
from chalicelib.finance.transfers import system_party

MICROS_PER_CENT = 1_000_000  # of the account's minor unit, whatever its currency
EARNING_KINDS = ("customer", "pocket")
BPS = Decimal(10_000)
DAYS_PER_YEAR = 365
# A run accrues at most this many days per account; a longer outage (or a
# test clock moved centuries ahead) is caught up over several runs, and
# posting waits until accrual has caught up.
CATCH_UP_DAYS_MAX = 3660
# A run posts at most this many months per account (a transaction each,
# or two): a test clock moved ten years ahead is posted over several runs,
# each as long as any other, and the job's summary counts the accounts still
# `behind`.
POSTING_MONTHS_PER_RUN_MAX = 24
_MATH = decimal.Context(prec=50, rounding=ROUND_HALF_EVEN)
VALUE_TIME = time(23, 59, 59, 999_000, tzinfo=timezone.utc)  # a month's interest is valued at its last instant


# Accrual ---------------------------------------------------------------------

@functools.lru_cache(maxsize=256)
def daily_rate(apy_bps: int) -> Decimal:
    """(1 + APY)^(1/365) - 1, to 50 significant digits (the exponent too)."""
    return _MATH.power(1 + Decimal(apy_bps) / BPS, _MATH.divide(1, DAYS_PER_YEAR)) - 1


def day_interest_micros(eod_cents: int, accrued_micros: int, rates: Rates) -> int:
    """One day's interest in micro-cents, rounded half-even."""
    if eod_cents > 0:
        base = Decimal(eod_cents * MICROS_PER_CENT + accrued_micros)
        if base <= 0:
            return 0
        return int(_MATH.multiply(base, daily_rate(rates.apy_bps)).to_integral_value(ROUND_HALF_EVEN))
    if eod_cents < 0:
        charge = _MATH.divide(Decimal(eod_cents * MICROS_PER_CENT * rates.overdraft_apr_bps), BPS * DAYS_PER_YEAR)
        return int(charge.to_integral_value(ROUND_HALF_EVEN))
    return 0


def earns(account: AccountItem, history: list[Rates]) -> bool:
    """A person's account earns; a pocket only if its currency's APY was
    ever above 0 (a pocket of a currency that never earned is skipped: no
    update a day for nothing; should its APY be set later, accrual starts
    from its watermark, at 0 for the days before)."""
    if account.kind == "customer":
        return True
    return account.kind == "pocket" and earns_ever(history, account.currency)


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


def end_of_day_held_credit(account: AccountItem, first: date, last: date) -> list[tuple[date, int]]:
    """The close of `held_credit` on each day in [first, last], as `end_of_day_balances`."""
    openings = sorted((_day(k), int(v)) for k, v in account.opens.as_dict().items() if k.startswith("h"))
    current = int(account.held_credit or 0)
    if not openings and not current:
        return [(first + timedelta(days=i), 0) for i in range((last - first).days + 1)]
    closes = []
    index = 0
    day = first
    while day <= last:
        while index < len(openings) and openings[index][0] <= day:
            index += 1
        closes.append((day, openings[index][1] if index < len(openings) else current))
        day += timedelta(days=1)
    return closes


def _daily_keys(account: AccountItem) -> list[str]:
    """The recorded daily openings: of the balance (d) and of held credit (h)."""
    return [k for k in account.opens.as_dict() if k[:1] in ("d", "h")]


def _cents_toward_zero(micros: int) -> int:
    return int((Decimal(micros) / MICROS_PER_CENT).to_integral_value(ROUND_DOWN))


def last_whole_day() -> date:
    """Yesterday by business time: the last day whose close is known."""
    return clock.now().date() - timedelta(days=1)


# One update covers at most a year, and at most this many recorded openings
# to remove (one per day that had a movement): its expression stays far
# below DynamoDB's 4 KB. A longer catch-up takes one update per window.
ACCRUAL_WINDOW_DAYS = 366
ACCRUAL_WINDOW_OPENINGS_MAX = 100
ACCRUAL_ATTEMPTS_MAX = 3
INFLOW_REMOVED_MAX = 24  # the rest go in later runs


def accrue_account(account: AccountItem, through: date, history: list[Rates]) -> bool:
    """Accrue every day after the watermark up to `through` (never past the
    last whole day, nor more than CATCH_UP_DAYS_MAX days in one call), in
    one conditional update per window of days; returns whether it changed
    anything. At each month end it passes, it records all interest accrued
    so far (`month_interest`), which is what posting that month reads. The
    local item is kept up to what was written: no read is needed after it.
    A lost race (another run, or a posting in between) re-reads the item and
    tries again.

    A copy from the scan (an index, which may lag) must have seen every
    movement; a copy read consistently has seen every movement up to the
    last whole day, and a movement today changes no close before today (it
    records yesterday's close as today's opening), so a busy account's
    movements do not make its accrual lose race after race."""
    if not earns(account, history):
        return False
    through = min(through, last_whole_day(), _start(account) + timedelta(days=CATCH_UP_DAYS_MAX - 1))
    changed = False
    consistent = False
    for attempt in range(ACCRUAL_ATTEMPTS_MAX):
        try:
            while _accrue_window(account, through, history, consistent):
                changed = True
            return changed
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException" or attempt == ACCRUAL_ATTEMPTS_MAX - 1:
                raise
            account.refresh(consistent_read=True)
            consistent = True
    return changed


def _unmoved(account: AccountItem):
    """The item has had no movement since this copy of it was read (items
    written before movements were counted have none)."""
    if not account.movements:
        return AccountItem.movements.does_not_exist() | (AccountItem.movements == 0)
    return AccountItem.movements == account.movements


def _start(account: AccountItem) -> date:
    """The first day not accrued yet."""
    if account.accrued_through:
        return date.fromisoformat(account.accrued_through) + timedelta(days=1)
    return date.fromisoformat(account.opened_at[:10])


def _accrue_window(account: AccountItem, through: date, history: list[Rates], consistent: bool) -> bool:
    start = _start(account)
    if start > through:
        return False
    last = min(through, start + timedelta(days=ACCRUAL_WINDOW_DAYS - 1))
    openings = sorted(_day(k) for k in _daily_keys(account) if _day(k) >= start)
    if len(openings) > ACCRUAL_WINDOW_OPENINGS_MAX:
        last = min(last, openings[ACCRUAL_WINDOW_OPENINGS_MAX - 1])
    accrued = int(account.accrued_interest_micros)
    posted = int(account.posted_interest_micros)
    accrued_charged = int(account.accrued_charged_micros or 0)
    posted_charged = int(account.posted_charged_micros or 0)
    month_charged = _month_charged(account)
    # Value dating: a month's interest belongs in the balance from the day
    # after the month ends, however late post-interest runs. The whole cents
    # of ended months not yet posted (their totals are in `month_interest`)
    # count in the close of each later day, as they would have had posting
    # run that day; the compounding base (close + unposted) is the same
    # either way. Postings already made are in the closes: posting first
    # brings accrual up to the day before it (post_account).
    booked = _Booked(posted, posted_charged)
    unposted_cents = 0
    for label, total in sorted(account.month_interest.as_dict().items()):
        unposted_cents += sum(booked.post(int(total), month_charged.get(label, 0)))
    delta = delta_charged = 0
    actions = []
    month_totals, charged_totals = {}, {}
    below_zero: dict[str, int] = {}
    held = dict(end_of_day_held_credit(account, start, last))
    sharded = credit_shards.closes(account, start, last)  # a hot receiver's credit shards: part of its close
    for day, item_close in end_of_day_balances(account, start, last):
        balance_close = item_close + sharded[day]
        close = balance_close - held[day]  # money not yet available earns nothing
        if balance_close < 0:
            below_zero[ledger.month_key(day)] = below_zero.get(ledger.month_key(day), 0) + 1
        interest = day_interest_micros(close + unposted_cents, accrued + delta - unposted_cents * MICROS_PER_CENT,
                                       rate_on(history, day).of(account.currency))
        delta += interest
        delta_charged += min(interest, 0)
        if (day + timedelta(days=1)).day == 1:
            label = ledger.month_key(day)
            month_totals[label] = posted + accrued + delta
            actions.append(AccountItem.month_interest[label].set(month_totals[label]))
            if posted_charged + accrued_charged + delta_charged:
                charged_totals[label] = posted_charged + accrued_charged + delta_charged
            unposted_cents += sum(booked.post(month_totals[label], charged_totals.get(label, 0)))
    actions += [AccountItem.accrued_interest_micros.set(AccountItem.accrued_interest_micros + delta),
                AccountItem.accrued_through.set(last.isoformat())]
    if delta_charged:
        actions.append(AccountItem.accrued_charged_micros.add(delta_charged))
    if charged_totals:  # the whole map: the conditions below make this copy of it current
        actions.append(AccountItem.month_charged.set({**month_charged, **charged_totals}))
    counted_below = _below_zero(account)
    if below_zero:  # the whole map too: months no decision counts any more are dropped
        kept = {k: v for k, v in counted_below.items() if k >= min(credit.inflow_months(clock.now().date()))}
        for label, days in below_zero.items():
            kept[label] = kept.get(label, 0) + days
        actions.append(AccountItem.below_zero.set(kept))
    used = [k for k in _daily_keys(account) if _day(k) <= last]
    actions += [AccountItem.opens[k].remove() for k in used]
    counted = min(credit.inflow_months(clock.now().date()))
    past = sorted(k for k in credit.inflow_by_month(account) if k < counted)[:INFLOW_REMOVED_MAX]
    actions += [AccountItem.inflow[k].remove() for k in past]  # months no credit decision counts any more
    watermark = (AccountItem.accrued_through == account.accrued_through) if account.accrued_through \
        else AccountItem.accrued_through.does_not_exist()
    # Posting moves interest from accrued to posted, and marks months posted;
    # a posting in between would make the month totals stale, so it must not
    # have happened. A copy scanned from the index must have missed no movement.
    posting = (AccountItem.posted_through == account.posted_through) if account.posted_through \
        else AccountItem.posted_through.does_not_exist()
    condition = watermark & (AccountItem.posted_interest_micros == posted) & posting
    if not consistent:
        condition = condition & _unmoved(account)
    # No item comes back (Model.update would ask for ALL_NEW, the whole item
    # with its maps, on every account every day): the local copy is brought
    # up to what this update wrote instead.
    hash_key, range_key = account._get_hash_range_key_serialized_values()
    AccountItem._get_connection().update_item(hash_key, range_key=range_key, actions=actions, condition=condition,
                                              return_values=NONE)
    account.accrued_interest_micros = accrued + delta
    account.accrued_charged_micros = accrued_charged + delta_charged
    account.accrued_through = last.isoformat()
    account.opens = MapAttribute(**{k: v for k, v in account.opens.as_dict().items() if k not in used})
    if past:
        account.inflow = MapAttribute(**{k: v for k, v in account.inflow.as_dict().items() if k not in past})
    account.month_interest = MapAttribute(**{**account.month_interest.as_dict(), **month_totals})
    if charged_totals:
        account.month_charged = MapAttribute(**{**month_charged, **charged_totals})
    if below_zero:
        account.below_zero = MapAttribute(**kept)
    return True


def _below_zero(account: AccountItem) -> dict[str, int]:
    return {k: int(v) for k, v in account.below_zero.as_dict().items()} if account.below_zero else {}


def _month_charged(account: AccountItem) -> dict[str, int]:
    return {k: int(v) for k, v in account.month_charged.as_dict().items()} if account.month_charged else {}


class _Booked:
    """Interest posted so far, earned and charged apart, as month after month
    is posted: each posting is the whole cents (toward zero) of what its
    kind accrued beyond what was posted of it, so each keeps its fraction."""

    def __init__(self, posted: int, posted_charged: int):
        self.earned, self.charged = posted - posted_charged, posted_charged

    def post(self, total: int, charged_total: int) -> tuple[int, int]:
        """(earned cents, charged cents) of a month with these cumulative totals.
        Earned is never negative when the charges were all recorded; should
        it be (an account whose charges were netted), it is charged."""
        earned = _cents_toward_zero(total - charged_total - self.earned)
        charged = _cents_toward_zero(charged_total - self.charged)
        if earned < 0:
            earned, charged = 0, charged + earned
        self.earned += earned * MICROS_PER_CENT
        self.charged += charged * MICROS_PER_CENT
        return earned, charged


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
    """Post every month that ended by `as_of` (and by the last whole day) and
    is not posted yet. Accrual is brought up to the last whole day first —
    beyond the month's end: the posting lands today, and a day before it
    accrued afterwards would see neither the cents in its close nor in the
    unposted interest. At most POSTING_MONTHS_PER_RUN_MAX months, oldest
    first. Returns the months this call posted (not those another run
    posted meanwhile)."""
    if not earns(account, history):
        return 0
    months = _months_to_post(account, min(as_of, last_whole_day()))
    if not months:
        return 0
    accrue_account(account, last_whole_day(), history)
    if _start(account) <= last_whole_day():
        return 0  # a catch-up longer than one run: posted once accrual is up to date
    return sum(_post_month(account, f"{year:04d}-{month:02d}", ledger.month_key(month_end(year, month)))
               for year, month in months[:POSTING_MONTHS_PER_RUN_MAX])


def posting_behind(account: AccountItem, as_of: date, history: list[Rates]) -> bool:
    """Months ended by `as_of` are still to post (for a later run)."""
    return earns(account, history) and bool(_months_to_post(account, min(as_of, last_whole_day())))


POSTING_STEPS_MAX = 6  # earned, charged, and re-reads after another run's posting or a movement


def _post_month(account: AccountItem, month_text: str, label: str) -> bool:
    """A month's interest earned and interest charged, each as a transfer of
    its own (its id derives from account, month and kind, so it is made once)
    that moves its cents from accrued to posted in the same update. The last
    one also marks the month posted; a run that stopped between the two
    finds the first posted, and nothing left of its kind to post. Returns
    whether this call wrote any of it."""
    wrote = False
    for _ in range(POSTING_STEPS_MAX):
        if account.posted_through and account.posted_through >= month_text:
            return wrote
        total = account.month_interest.as_dict().get(label)
        if total is None:
            raise RuntimeError(f"{account.id}: no interest total for {label}")
        earned, charged = _Booked(int(account.posted_interest_micros), int(account.posted_charged_micros or 0)) \
            .post(int(total), _month_charged(account).get(label, 0))
        record = [AccountItem.posted_through.set(month_text), AccountItem.month_interest[label].remove()]
        if label in _month_charged(account):
            record.append(AccountItem.month_charged[label].remove())
        parts = [(kind, cents) for kind, cents in (("interest", earned), ("overdraft_interest", charged)) if cents]
        if not parts:
            watermark = (AccountItem.posted_through < month_text) | AccountItem.posted_through.does_not_exist()
            try:
                account.update(actions=record, condition=watermark)  # the item comes back (ALL_NEW)
                wrote = True
            except UpdateError as exc:
                if exc.cause_response_code != "ConditionalCheckFailedException":
                    raise
                account.refresh(consistent_read=True)
            continue
        kind, cents = parts[0]
        last = len(parts) == 1
        value_at = datetime.combine(month_end(int(month_text[:4]), int(month_text[5:])), VALUE_TIME)
        opens = ledger.value_dated_opens(account, cents, value_at, clock.now())  # cents are signed
        try:
            posted = _post_interest(account, month_text, kind, cents, record if last else [], value_at)
        except ledger.StaleCopy:
            account.refresh(consistent_read=True)  # a movement since this copy was read
            continue
        if posted.replayed:
            account.refresh(consistent_read=True)  # posted by another run: read what it left
            continue
        wrote = True
        account.opens = MapAttribute(**{**account.opens.as_dict(), **opens})
        # What the movement's transaction did to the item, without a read.
        micros = cents * MICROS_PER_CENT
        account.accrued_interest_micros = int(account.accrued_interest_micros) - micros
        account.posted_interest_micros = int(account.posted_interest_micros) + micros
        if kind == "overdraft_interest":
            account.accrued_charged_micros = int(account.accrued_charged_micros or 0) - micros
            account.posted_charged_micros = int(account.posted_charged_micros or 0) + micros
        account.balance = int(account.balance) + cents
        account.movements = int(account.movements or 0) + 1
        if last:
            account.posted_through = month_text
            account.month_interest = MapAttribute(**{k: v for k, v in account.month_interest.as_dict().items()
                                                     if k != label})
            if account.month_charged:
                account.month_charged = MapAttribute(**{k: v for k, v in _month_charged(account).items()
                                                        if k != label})
    raise RuntimeError(f"{account.id}: the interest of {month_text} did not post in {POSTING_STEPS_MAX} steps")


def _post_interest(account: AccountItem, month_text: str, kind: str, cents: int, record: list,
                   value_at: datetime) -> "ledger.Posted":
    """One transfer: interest earned from `interest_expense`, or overdraft
    interest charged to `interest_income`, valued on the month's last day
    (its statement counts it, however late the run): `account` is the exact
    copy the month openings are moved from."""
    micros = cents * MICROS_PER_CENT
    actions = [AccountItem.accrued_interest_micros.add(-micros), AccountItem.posted_interest_micros.add(micros)]
    if kind == "overdraft_interest":
        actions += [AccountItem.accrued_charged_micros.add(-micros), AccountItem.posted_charged_micros.add(micros)]
    owner = ledger.Party(account.id, display=account.owner_handle or account.id, user_id=account.owner_id,
                         customer=False,  # interest moves on frozen accounts too, and may pass the credit line
                         actions=tuple(actions + record), copy=account)
    transfer_id = ids.derived_id("tr", kind, account.id, month_text)
    # A pocket is never charged (Rates.of): only the home currency has an interest_income.
    system = system_party_in("interest_expense", account.currency) if kind == "interest" \
        else system_party("interest_income")
    debit, credit = (system, owner) if kind == "interest" else (owner, system)
    note = f"interest for {month_text}" if kind == "interest" else f"overdraft interest for {month_text}"
    return ledger.transfer(ledger.Movement(transfer_id=transfer_id, kind=kind, debit=debit, credit=credit,
                                           money=Money(abs(cents), account.currency),
                                           request_hash=f"{kind}:{month_text}", note=note, value_at=value_at))
