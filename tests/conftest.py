"""Test setup shared by every suite: a dev-stage environment with cheap (but
still argon2id) password hashing, set before chalicelib is imported."""
import os
import sys
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "scripts"))

TEST_ENV = {
    "FLOCK_STAGE": "dev",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "FLOCK_ARGON2_MEMORY_KIB": "8192",
    "FLOCK_ARGON2_TIME_COST": "1",
    "FLOCK_SYSTEM_ACCOUNT_SHARDS": "4",
    # Segmented jobs (interest, reconcile behind every ledger check, loan
    # servicing) scan in 2 segments, not production's 8: still more than one,
    # so the fan-out and the combining of parts are tested, and each moto
    # scan walks the whole table whatever its segment (about a fifth of
    # test_interest_jobs.py's CPU).
    "FLOCK_JOB_SEGMENTS": "2",
}
os.environ.update(TEST_ENV)
for name in ("FLOCK_DYNAMODB_ENDPOINT", "FLOCK_AWS_ENDPOINT"):
    os.environ.pop(name, None)

ADMIN_PASSWORD = "operator-password-1"
PASSWORD = "correct horse battery"

# Business time in every test starts here, whatever day the suite runs on
# (Tuesday 10 March 2026, mid-afternoon UTC). Tests about calendar edges pin
# their own dates with `clock.pin`; security time (tokens, throttling) stays real.
TEST_NOW = datetime(2026, 3, 10, 15, 0, tzinfo=timezone.utc)

# Modules that take longest, first: under pytest-xdist (`make test`, one
# module per worker at a time, in collection order) a long module started
# last would leave the other workers idle while it runs. Measured on the
# 2-core machine: schemathesis runs for its time budget (~2-3 min), the
# ledger property test for its example budget, the e2e modules start servers.
# The unit modules after the e2e ones are the longest of a measured run
# (`--durations`): a concurrency test of 200 tips, a year of interest jobs
# over a table of start dates, the other property tests.
LONGEST_FIRST = (
    "tests/e2e/test_schemathesis.py",
    "tests/unit/test_ledger_properties.py",
    "tests/e2e/",
    "tests/browser/test_money_screens.py",
    "tests/browser/test_social_screens.py",
    "tests/unit/test_credit_shards.py",
    "tests/unit/test_interest_jobs.py",
    "tests/unit/test_interest.py",
    "tests/unit/test_cards_properties.py",
    "tests/unit/test_fx_properties.py",
    "tests/unit/test_interest_flow.py",
)


def pytest_collection_modifyitems(session, config, items):
    def rank(item):
        path = os.path.relpath(str(item.path), ROOT).replace(os.sep, "/")
        return next((i for i, prefix in enumerate(LONGEST_FIRST) if path.startswith(prefix)), len(LONGEST_FIRST))
    items.sort(key=rank)  # stable: a module's tests keep their order
