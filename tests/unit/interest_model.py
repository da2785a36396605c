"""An independent model of API.md's interest rules, for exact expectations.

It shares no code with chalicelib.finance.interest: the daily rate is
exp(ln(1 + APY) / 365) - 1 at 60 digits (the app uses a power at 50), and
the books are simulated day by day as a clean daily run would leave them:
each day's close earns (close + accrued unposted) x daily rate when it is
positive, or is charged close x APR / 365 (simple) when negative, rounded
half-even to the micro-cent. Interest earned and interest charged are kept
apart: after a month's last day the whole cents (toward zero) of each move
into the balance as a posting of their own, and each one's fraction carries.
"""
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, localcontext

MICROS = 1_000_000


def daily_rate(apy_bps: int) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 60
        return ((Decimal(1) + Decimal(apy_bps) / Decimal(10_000)).ln() / Decimal(365)).exp() - Decimal(1)


def half_even(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def day_interest(close_cents: int, accrued_micros: int, apy_bps: int, apr_bps: int) -> int:
    with localcontext() as ctx:
        ctx.prec = 60
        if close_cents > 0:
            base = Decimal(close_cents) * MICROS + accrued_micros
            return half_even(base * daily_rate(apy_bps)) if base > 0 else 0
        if close_cents < 0:
            return half_even(Decimal(close_cents) * MICROS * apr_bps / Decimal(10_000 * 365))
        return 0


def cents_toward_zero(micros: int) -> int:
    return int((Decimal(micros) / MICROS).to_integral_value(rounding=ROUND_DOWN))


def next_day(day: date) -> date:
    return day + timedelta(days=1)


@dataclass
class Book:
    """One account as a clean daily run leaves it."""
    balance: int = 0
    earned: int = 0  # micro-cents earned, not posted (>= 0)
    charged: int = 0  # micro-cents charged, not posted (<= 0)
    postings: list = field(default_factory=list)  # (YYYY-MM, signed cents): earned > 0, charged < 0

    @property
    def accrued(self) -> int:
        return self.earned + self.charged

    @property
    def posted_cents(self) -> int:
        return sum(c for _, c in self.postings)


def simulate(first: date, last: date, movements: dict, rates=None, post_by: date | None = None,
             default=(450, 1800)) -> Book:
    """Accrue every day of [first, last]. `movements`: day -> net cents moved
    that day (deposits +, spending -). `rates`: [(effective day, apy, apr)].
    Months whose last day is <= `post_by` are posted (after that day)."""
    book = Book()
    history = sorted(rates or [])
    day = first
    while day <= last:
        book.balance += movements.get(day, 0)
        apy, apr = default
        for effective, a, o in history:
            if effective <= day:
                apy, apr = a, o
        interest = day_interest(book.balance, book.accrued, apy, apr)
        if interest > 0:
            book.earned += interest
        else:
            book.charged += interest
        if next_day(day).day == 1 and post_by is not None and day <= post_by:
            for kind in ("earned", "charged"):
                cents = cents_toward_zero(getattr(book, kind))
                book.balance += cents
                setattr(book, kind, getattr(book, kind) - cents * MICROS)
                if cents:
                    book.postings.append((day.strftime("%Y-%m"), cents))
        day = next_day(day)
    # Movements after `last` (up to now) are in the balance too.
    book.balance += sum(v for d, v in movements.items() if d > last)
    return book
