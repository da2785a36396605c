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
