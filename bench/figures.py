"""What every section shares: where things are, the target ratio, the fake
AWS credentials (nothing here may reach real AWS), and how a figure is
printed and judged."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
TARGET = 1.5  # a figure judged against its floor may be at most this many times the floor
FAKE_AWS = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def say(text=""):
    print(text, flush=True)


def ms(seconds):
    return seconds * 1000.0


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))]


def verdict(ratio, target=TARGET):
    return "ok" if ratio <= target else "OVER"
