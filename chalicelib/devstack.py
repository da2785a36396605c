"""Where a running `make run` keeps its local AWS, so that the operator CLI
works against it with no environment: scripts/devserver.py writes
build/local-stack.json while it runs, `python -m chalicelib.cli` reads it.

The standard library and config only: the CLI calls this before any other
chalicelib module is imported (the table models read the settings as they
are defined).
"""
import json
import os
import sys

from chalicelib.config import SettingError, settings  # reads nothing until called

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCAL_STACK_FILE = os.path.join(ROOT, "build", "local-stack.json")
LOCAL_CREDENTIALS = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                     "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


def write(url: str, aws_endpoint: str, path: str = LOCAL_STACK_FILE) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"pid": os.getpid(), "url": url, "aws_endpoint": aws_endpoint}, f)
    return path


def running(path: str = LOCAL_STACK_FILE) -> dict | None:
    """The stack the file describes, if its process still runs."""
    try:
        with open(path, encoding="utf-8") as f:
            stack = json.load(f)
        os.kill(int(stack["pid"]), 0)
        return stack
    except (OSError, ValueError, KeyError, TypeError):
        return None


def use_if_running(environ=os.environ, path: str = LOCAL_STACK_FILE) -> dict | None:
    """With no endpoint and no stage but dev in `environ`, point it at the
    local AWS of a running `make run` (an operator's own machine)."""
    if environ.get("FLOCK_DYNAMODB_ENDPOINT") or environ.get("FLOCK_STAGE", "dev") != "dev":
        return None
    stack = running(path)
    if stack is None:
        return None
    for name, value in LOCAL_CREDENTIALS.items():
        environ.setdefault(name, value)
    environ["FLOCK_STAGE"] = "dev"
    environ["FLOCK_DYNAMODB_ENDPOINT"] = environ["FLOCK_AWS_ENDPOINT"] = stack["aws_endpoint"]
    print(f"Using the local stack of make run (pid {stack['pid']}, {stack['url']}).", file=sys.stderr)
    return stack


def prepare_cli() -> None:
    """Before the CLI imports the rest of chalicelib: the local stack if one
    runs, and a bad setting as one line naming it (exit 2), not a traceback."""
    use_if_running()
    try:
        settings()
    except SettingError as bad:
        print(f"Bad setting: {bad}", file=sys.stderr)
        raise SystemExit(2) from None
