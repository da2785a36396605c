"""Mid-market exchange rates: set by an operator or loaded from a file in
the ECB's daily reference-rate format, kept with their history, read once a
minute per process (so a cross-currency transfer reads no rate item).

Rates are `Decimal`, parsed from decimal strings; a float never appears.

The `fx-rates` job is the scheduled feed: it reads the day's ECB file from
its source (an S3 object in the deployed stack, a file path locally),
refuses a malformed or stale one without touching the rates in force, and
audits what it set in the same transaction as the rates.
`rates[code]` is how many units of `code` one unit of `base` buys; the base
itself is 1. Any pair's mid rate follows: sell -> buy = rates[buy] / rates[sell].
"""
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_UP, Decimal, InvalidOperation, localcontext
from xml.etree import ElementTree

from botocore.exceptions import ClientError

from chalicelib import aws, clock, errors, ids, lazy
from chalicelib.config import HOME_CURRENCY, settings
from chalicelib.db.fx import FxRatesItem, fx_rates_key
from chalicelib.db.transact import TaggedTransaction, commit
from chalicelib.finance.money import SUPPORTED_CURRENCIES, Money, exponent
from chalicelib.identity import audit

records = lazy.module("chalicelib.records.fx")

RATE_TEXT_MAX = 32  # characters of one decimal string
RATE_MAX = Decimal(10) ** 9
ECB_FILE_BYTES_MAX = 1_000_000
ECB_NAMESPACE = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}"
# Enough digits for 10^12 minor units times any rate, exactly.
PRECISION_DIGITS = 40


@dataclass(frozen=True)
class FxRates:
    """Attributes:
      base: the currency every rate is of (1 base = rates[code] code).
      rates: code -> Decimal > 0, the base included (1).
      as_of: the day the source says the rates are of.
      source: admin | ecb."""
    base: str
    rates: dict
    as_of: str
    source: str

    def mid(self, sell: str, buy: str) -> Decimal:
        """Buy units per sell unit (major units), exact to PRECISION_DIGITS."""
        if sell not in self.rates or buy not in self.rates:
            missing = sell if sell not in self.rates else buy
            raise errors.InvalidState(f"There is no exchange rate for {missing} yet.")
        with localcontext() as ctx:
            ctx.prec = PRECISION_DIGITS
            return self.rates[buy] / self.rates[sell]


def parse_rate(text: object, param: str) -> Decimal:
    """A decimal string > 0 (never a JSON number: a float would round)."""
    if not isinstance(text, str) or not 0 < len(text) <= RATE_TEXT_MAX:
        raise errors.InvalidRequest("A rate is a decimal string such as \"0.80\".", param=param)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise errors.InvalidRequest("A rate is a decimal string such as \"0.80\".", param=param) from None
    if not value.is_finite() or not 0 < value <= RATE_MAX:
        raise errors.InvalidRequest("A rate is positive and finite.", param=param)
    return value


def _checked(base: str, rates: dict) -> dict:
    if base not in SUPPORTED_CURRENCIES:
        raise errors.UnsupportedCurrency(param="base")
    parsed = {base: Decimal(1)}
    for code, text in rates.items():
        if code not in SUPPORTED_CURRENCIES:
            raise errors.UnsupportedCurrency(f"{str(code)[:16]} is not a supported currency.", param="rates")
        value = parse_rate(text, "rates")
        if code == base and value != 1:
            raise errors.InvalidRequest("The base's own rate is 1.", param="rates")
        parsed[code] = value
    return parsed


def _save(base: str, parsed: dict, as_of: str, source: str, extras: tuple = ()) -> "records.FxRates":
    at = clock.iso(clock.real_now())
    rates_id = ids.new_id("fxr")
    item = FxRatesItem(*fx_rates_key(at, rates_id), id=rates_id, base=base, source=source, as_of=as_of,
                       rates={code: str(value) for code, value in parsed.items()}, created_at=at)
    tx = TaggedTransaction()
    tx.save("rates", item)
    for i, extra in enumerate(extras):
        tx.save(("extra", i), extra)
    commit(tx)
    _cache.clear()
    return public_rates(_from_item(item))


def set_rates(actor, base: str, rates: dict, reason: str | None) -> "records.FxRates":
    """An operator's rates (PUT /v1/admin/fx-rates), audited in the same transaction."""
    parsed = _checked(base, rates)
    as_of = clock.now().date().isoformat()
    record = audit.record(actor, "fx_rates", base, reason, rates={k: str(v) for k, v in parsed.items()})
    return _save(base, parsed, as_of, "admin", (record,))


def parse_ecb(text: str | bytes) -> tuple[str, dict]:
    """(as_of, rates) of a file in the ECB daily reference-rate format
    (eurofxref-daily.xml: EUR is the base; rates of currencies Flock does
    not hold are left out). Refused (InvalidRequest) if it is not one."""
    if len(text) > ECB_FILE_BYTES_MAX:
        raise errors.InvalidRequest("The rates file is too large.")
    if (b"<!DOCTYPE" if isinstance(text, bytes) else "<!DOCTYPE") in text:
        raise errors.InvalidRequest("The rates file may not declare a document type.")  # no entity expansion
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        raise errors.InvalidRequest("The rates file is not XML.") from None
    day = next((cube for cube in root.iter(ECB_NAMESPACE + "Cube") if cube.get("time")), None)
    if day is None:
        raise errors.InvalidRequest("The rates file has no day of rates.")
    try:
        date.fromisoformat(day.get("time"))
    except ValueError:
        raise errors.InvalidRequest("The rates file's day is not YYYY-MM-DD.") from None
    if len(day.get("time")) != 10:
        raise errors.InvalidRequest("The rates file's day is not YYYY-MM-DD.")
    rates = {}
    for cube in day.iter(ECB_NAMESPACE + "Cube"):
        code = cube.get("currency")
        if code in SUPPORTED_CURRENCIES:
            rates[code] = parse_rate(cube.get("rate"), "rate")
    if HOME_CURRENCY != "EUR" and HOME_CURRENCY not in rates:  # every limit is counted in the home currency
        raise errors.InvalidRequest(f"The rates file has no {HOME_CURRENCY} rate.")
    return day.get("time"), {**rates, "EUR": Decimal(1)}


class StaleRates(errors.InvalidState):
    """The file's day of rates is too old, in the future, or older than the rates in force."""


@dataclass(frozen=True)
class FeedActor:
    """Who the audit says set the rates when the feed did (no person)."""
    user_id: str = "job:fx-rates"
    handle: str = "fx-rates"


def _check_fresh(as_of: str, max_age_days: int | None, current: FxRatesItem | None) -> None:
    day, today = date.fromisoformat(as_of), clock.now().date()
    if day > today:
        raise StaleRates(f"The rates file is of {as_of}, a day still to come.")
    if max_age_days is not None and day < today - timedelta(days=max_age_days):
        raise StaleRates(f"The rates file is of {as_of}, more than {max_age_days} days ago: stale.")
    if current is not None and current.as_of and as_of < current.as_of:
        raise StaleRates(f"The rates file is of {as_of}, older than the rates in force ({current.as_of}).")


def load_ecb(text: str | bytes, source: str = "ecb file", max_age_days: int | None = None) -> dict:
    """Rates from an ECB file, unless rates of that day from the ECB are in
    force already. Refused, changing nothing: a file that is not one
    (InvalidRequest), or, with `max_age_days`, a stale one (StaleRates). The
    rates and their audit record (`source`: where they came from) are one transaction.
    A report for the job (the rates as answered, and `changed`), not an answer."""
    as_of, rates = parse_ecb(text)
    if "EUR" not in SUPPORTED_CURRENCIES:
        raise errors.InvalidState("EUR, the ECB's base, is not a configured currency.")
    current = FxRatesItem.latest()
    if current is not None and current.source == "ecb" and current.as_of == as_of:
        if max_age_days is not None:
            _check_fresh(as_of, max_age_days, None)  # a feed stuck on one day is found out
        return {**public_rates(_from_item(current)).as_json(), "changed": 0}
    _check_fresh(as_of, max_age_days, current if max_age_days is not None else None)
    record = audit.record(FeedActor(), "fx_rates", "EUR", f"loaded from {source}"[:200], as_of=as_of,
                          rates={code: decimal_text(value) for code, value in sorted(rates.items())})
    return {**_save("EUR", rates, as_of, "ecb", (record,)).as_json(), "changed": 1}


def _from_item(item: FxRatesItem) -> FxRates:
    rates = {code: Decimal(text) for code, text in item.rates.as_dict().items() if code in SUPPORTED_CURRENCIES}
    return FxRates(item.base, rates, item.as_of, item.source)


def decimal_text(value: Decimal) -> str:
    """Plain digits, never an exponent ("150", not "1.5E+2")."""
    return format(value, "f")


def public_rates(rates: FxRates) -> "records.FxRates":
    shown = {code: decimal_text(value) for code, value in sorted(rates.rates.items())}
    return records.FxRates(base=rates.base, rates=shown, as_of=rates.as_of, source=rates.source)


_cache: dict = {}


def current() -> FxRates:
    """The rates in force, read at most once per `fx_rates_cache_s` per process."""
    now_s = time.monotonic()
    if _cache.get("until", 0) < now_s:
        item = FxRatesItem.latest()
        rates = _from_item(item) if item is not None else FxRates(HOME_CURRENCY, {HOME_CURRENCY: Decimal(1)}, "", "")
        _cache.update(rates=rates, until=now_s + settings().fx_rates_cache_s)
    return _cache["rates"]


def home_equivalent(money: Money) -> int:
    """What `money` is worth in the home currency's minor units at today's
    mid rate, rounded UP (ROUND_UP: a limit counted in USD is never undercounted)."""
    if money.currency == HOME_CURRENCY:
        return money.amount_cents
    mid = current().mid(money.currency, HOME_CURRENCY)
    with localcontext() as ctx:
        ctx.prec = PRECISION_DIGITS
        scale = Decimal(10) ** (exponent(HOME_CURRENCY) - exponent(money.currency))
        return int((Decimal(money.amount_cents) * mid * scale).to_integral_value(ROUND_UP))


def rates_file() -> str | None:
    """Where the fx-rates job finds the day's ECB file: `s3://bucket/key`
    on AWS (FLOCK_FX_RATES_BUCKET, FLOCK_FX_RATES_KEY), else a path
    (FLOCK_FX_RATES_FILE); None: no feed configured."""
    s = settings()
    if s.fx_rates_bucket:
        return f"s3://{s.fx_rates_bucket}/{s.fx_rates_key}"
    return s.fx_rates_file


def _read(source: str) -> bytes:
    """At most one byte past the size limit (parse_ecb refuses the file then)."""
    if source.startswith("s3://"):
        bucket, _, key = source.removeprefix("s3://").partition("/")
        try:
            body = aws.client("s3").get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{ECB_FILE_BYTES_MAX}")["Body"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "NoSuchBucket", "InvalidRange", "404"):
                raise errors.InvalidState(f"There is no rates file at {source}.") from None
            raise
        return body.read(ECB_FILE_BYTES_MAX + 1)
    try:
        with open(source, "rb") as f:
            return f.read(ECB_FILE_BYTES_MAX + 1)
    except FileNotFoundError:
        raise errors.InvalidState(f"There is no rates file at {source}.") from None


def run_job() -> dict:
    """The `fx-rates` job: load the day's ECB file from its source;
    idempotent per day of rates. A missing, malformed or stale file is
    refused (the run fails, for the alarm) and the rates stay as they are."""
    source = rates_file()
    if not source:
        return {"processed": 0, "changed": 0, "source": None}
    report = load_ecb(_read(source), source, max_age_days=settings().fx_rates_max_age_days)
    return {"processed": 1, "changed": report["changed"], "rates_as_of": report["as_of"], "source": source}
