"""Operator commands, the same functions the schedules and the admin API run.

    python -m chalicelib.cli job reconcile [--as-of 2026-12-31]
    python -m chalicelib.cli bootstrap            # system accounts (idempotent)
    python -m chalicelib.cli create-admin HANDLE  # password read from stdin

The stage, tables and endpoints come from the environment, as for the app;
with none set, a running `make run` is found by the file it writes
(build/local-stack.json) and used. Progress bars go to a terminal only.
"""
import argparse
import getpass
import json
import os
import sys
from datetime import date

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCAL_STACK_FILE = os.path.join(ROOT, "build", "local-stack.json")


def _job(args) -> int:
    from chalicelib import errors, jobs
    try:
        summary = jobs.run(args.name, date.fromisoformat(args.as_of) if args.as_of else None,
                           progress=_progress_bar if sys.stderr.isatty() else None)
    except errors.ApiError as refusal:
        print(refusal.message, file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2, sort_keys=True))
    return 0


def _progress_bar(done: int, total: int, summary: dict, width: int = 30) -> None:
    filled = width * done // total
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} segments, "
          f"{summary['processed']} accounts, {summary['changed']} changed", end="\n" if done == total else "",
          file=sys.stderr, flush=True)


def _bootstrap(args) -> int:
    from chalicelib.finance.accounts import ensure_system_accounts
    print(json.dumps({"system_account_shards_created": ensure_system_accounts()}))
    return 0


def _create_admin(args) -> int:
    from chalicelib import errors
    from chalicelib.identity.users import create_user
    password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else getpass.getpass("Password: ")
    if not 10 <= len(password) <= 128:
        print("The password is 10..128 characters.", file=sys.stderr)
        return 2
    try:
        user = create_user(args.handle, password, "Flock operator", role="admin")
    except errors.ApiError as refusal:
        print(refusal.message, file=sys.stderr)
        return 2
    print(json.dumps({"id": user.id, "handle": user.handle, "role": user.role}))
    return 0


def _running_local_stack() -> dict | None:
    """The stack `make run` wrote it started, if that process still runs."""
    try:
        with open(LOCAL_STACK_FILE, encoding="utf-8") as f:
            stack = json.load(f)
        os.kill(int(stack["pid"]), 0)
        return stack
    except (OSError, ValueError, KeyError, TypeError):
        return None


def use_local_stack_if_running(environ=os.environ) -> dict | None:
    """With no endpoint and no stage other than dev in the environment, point
    at the local AWS of a running `make run` (the operator's own machine)."""
    if environ.get("FLOCK_DYNAMODB_ENDPOINT") or environ.get("FLOCK_STAGE", "dev") != "dev":
        return None
    stack = _running_local_stack()
    if stack is None:
        return None
    for name, value in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}.items():
        environ.setdefault(name, value)
    environ["FLOCK_STAGE"] = "dev"
    environ["FLOCK_DYNAMODB_ENDPOINT"] = environ["FLOCK_AWS_ENDPOINT"] = stack["aws_endpoint"]
    print(f"Using the local stack of make run (pid {stack['pid']}, {stack['url']}).", file=sys.stderr)
    return stack


def main(argv=None) -> int:
    from chalicelib.config import SettingError
    try:
        return _main(argv)
    except SettingError as bad:
        print(f"Bad setting: {bad}", file=sys.stderr)
        return 2


def _main(argv) -> int:
    from chalicelib.jobs import NAMES as JOB_NAMES
    parser = argparse.ArgumentParser(prog="python -m chalicelib.cli",
                                     epilog="Jobs: " + ", ".join(JOB_NAMES) + ". With no AWS endpoint or stage "
                                            "in the environment, a running `make run` is used.")
    commands = parser.add_subparsers(dest="command", required=True)
    job = commands.add_parser("job", help="run one job for an as-of date: " + ", ".join(JOB_NAMES))
    job.add_argument("name", help="one of: " + ", ".join(JOB_NAMES))
    job.add_argument("--as-of", default=None, help="YYYY-MM-DD; default yesterday by the business clock")
    job.set_defaults(run=_job)
    commands.add_parser("bootstrap", help="create the system accounts").set_defaults(run=_bootstrap)
    admin = commands.add_parser("create-admin", help="create an operator; the password comes from stdin")
    admin.add_argument("handle")
    admin.set_defaults(run=_create_admin)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    use_local_stack_if_running()
    sys.exit(main())
