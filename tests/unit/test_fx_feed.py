"""The scheduled rate feed: the `fx-rates` job reads the day's ECB file from
an S3 object (the deployed stack) or a path (locally), on weekdays after the
ECB publishes; a malformed, missing or stale file is refused and the rates
in force stay; what it sets is audited. Business time is TEST_NOW
(2026-03-10, a Tuesday) unless a test pins another day."""
import dataclasses
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from chalicelib import aws
from chalicelib.config import settings
from chalicelib.finance import fx_rates
from chalicelib.jobs import FX_RATES_SCHEDULE, registry
from tests.unit import dates, fxkit
from tests.unit.fxkit import RATES

rates = fxkit.rates  # the fixture, for this module

SAMPLE = (Path(__file__).parent.parent / "data" / "eurofxref-daily.xml").read_text()  # of 2026-03-09
BUCKET = "flock-test-fx-rates"
KEY = "ecb/eurofxref-daily.xml"


def of_day(day: str, text: str = SAMPLE) -> bytes:
    return text.replace("time='2026-03-09'", f"time='{day}'").encode()


@pytest.fixture
def feed(monkeypatch):
    """The stack's feed bucket (moto) and settings that name it, as the template's environment does."""
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    on_aws = dataclasses.replace(settings(), fx_rates_bucket=BUCKET, fx_rates_key=KEY)
    monkeypatch.setattr(fx_rates, "settings", lambda: on_aws)
    fx_rates._cache.clear()

    def put(body: bytes):
        s3.put_object(Bucket=BUCKET, Key=KEY, Body=body)
    yield put
    fx_rates._cache.clear()


def run(api):
    return api.admin("POST", "/v1/admin/jobs/fx-rates", {})


def feed_audit(api):
    records = api.admin("GET", "/v1/admin/audit").json_body["data"]
    return [r for r in records if r["action"] == "fx_rates" and r["actor"] == "fx-rates"]


def test_the_job_is_scheduled_on_weekdays_after_the_ecb_publishes():
    job = registry.get("fx-rates")
    assert job.schedule == FX_RATES_SCHEDULE == "cron(30 16 ? * MON-FRI *)"
    assert job.as_of == "today"


def test_the_feed_loads_the_s3_object_and_audits_what_it_set(api, feed):
    feed(of_day("2026-03-10"))
    r = run(api)
    assert r.status_code == 200, r.body
    assert (r.json_body["changed"], r.json_body["rates_as_of"]) == (1, "2026-03-10")
    assert r.json_body["source"] == f"s3://{BUCKET}/{KEY}"
    rates_now = fx_rates.current()
    assert (rates_now.source, rates_now.as_of, rates_now.base) == ("ecb", "2026-03-10", "EUR")
    assert rates_now.mid("EUR", "USD") == Decimal("1.0850")
    (record,) = feed_audit(api)
    assert record["reason"] == f"loaded from s3://{BUCKET}/{KEY}"
    assert record["details"]["as_of"] == "2026-03-10" and record["details"]["rates"]["USD"] == "1.0850"
    # The same file again (a rerun, or a holiday with no new fixing) changes nothing and audits nothing.
    again = run(api)
    assert again.status_code == 200 and again.json_body["changed"] == 0
    assert len(feed_audit(api)) == 1


def test_the_scheduled_entry_point_runs_the_feed(api, feed):
    feed(of_day("2026-03-10"))
    event = api.client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                                resources=[])
    result = api.client.lambda_.invoke(registry.get("fx-rates").function_name, event)
    assert result.payload["job"] == "fx-rates" and result.payload["changed"] == 1, result.payload
    assert result.payload["as_of"] == "2026-03-10"


BAD_FILES = [
    b"not xml",
    b"<a/>",
    SAMPLE.replace("rate='1.0850'", "rate='abc'").encode(),
    SAMPLE.replace("rate='1.0850'", "rate='-1.0850'").encode(),
    SAMPLE.replace("rate='1.0850'", "rate='0'").encode(),
    SAMPLE.replace("<Cube currency='USD' rate='1.0850'/>", "").encode(),  # no USD: limits could not be counted
    of_day("2026-3-10"),
    of_day("yesterday"),
    b'<!DOCTYPE x [<!ENTITY a "b">]><a>&a;</a>',
    b"x" * 1_000_001,
]


@pytest.mark.parametrize("body", BAD_FILES, ids=range(len(BAD_FILES)))
def test_a_malformed_file_is_refused_and_the_rates_stay(api, rates, feed, body):
    before = fx_rates.current()
    feed(body)
    r = run(api)
    assert r.status_code == 400 and r.json_body["error"]["code"] == "invalid_request", r.body
    fx_rates._cache.clear()
    assert fx_rates.current() == before and before.source == "admin"
    assert feed_audit(api) == []


@pytest.mark.parametrize("day", ["2026-03-05", "2026-02-10", "2026-03-11", "2027-01-01"])
def test_a_stale_or_future_file_is_refused_and_the_rates_stay(api, rates, feed, day):
    before = fx_rates.current()
    feed(of_day(day))  # more than 4 days before Tuesday the 10th, or after it
    r = run(api)
    assert r.status_code == 409 and r.json_body["error"]["code"] == "invalid_state", r.body
    assert day in r.json_body["error"]["message"]
    fx_rates._cache.clear()
    assert fx_rates.current() == before
    assert feed_audit(api) == []


def test_easter_is_not_stale_but_a_feed_stuck_on_one_day_is_found_out(api, feed):
    feed(of_day("2026-04-02"))  # Maundy Thursday: no fixing until Tuesday the 7th
    dates.pin(date(2026, 4, 2))
    assert run(api).json_body["changed"] == 1
    dates.pin(date(2026, 4, 6))  # Easter Monday: the same file, 4 days old, changes nothing
    r = run(api)
    assert r.status_code == 200 and r.json_body["changed"] == 0, r.body
    dates.pin(date(2026, 4, 8))  # Wednesday: the feed never put Tuesday's file
    r = run(api)
    assert r.status_code == 409 and "stale" in r.json_body["error"]["message"], r.body


def test_a_file_older_than_the_rates_in_force_is_refused(api, feed):
    feed(of_day("2026-03-10"))
    assert run(api).json_body["changed"] == 1
    feed(of_day("2026-03-09"))  # an old file put back
    r = run(api)
    assert r.status_code == 409 and "older than the rates in force" in r.json_body["error"]["message"], r.body
    fx_rates._cache.clear()
    assert fx_rates.current().as_of == "2026-03-10"


def test_a_missing_object_is_refused_and_the_rates_stay(api, rates, feed):
    r = run(api)
    assert r.status_code == 409 and r.json_body["error"]["code"] == "invalid_state", r.body
    fx_rates._cache.clear()
    assert fx_rates.current().rates["EUR"] == Decimal(RATES["EUR"])


def test_a_path_feeds_locally_and_no_source_is_no_run(api, monkeypatch, tmp_path):
    nothing = run(api).json_body
    assert (nothing["processed"], nothing["changed"], nothing["source"]) == (0, 0, None), nothing
    path = tmp_path / "eurofxref-daily.xml"
    path.write_bytes(of_day("2026-03-09"))
    local = dataclasses.replace(settings(), fx_rates_file=str(path), fx_rates_bucket=None)
    monkeypatch.setattr(fx_rates, "settings", lambda: local)
    r = run(api)
    assert r.status_code == 200 and r.json_body["changed"] == 1 and r.json_body["source"] == str(path), r.body
    path.unlink()
    r = run(api)
    assert r.status_code == 409 and r.json_body["error"]["code"] == "invalid_state", r.body
