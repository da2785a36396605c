"""Operator commands, the same functions the schedules and the admin API run.

    python -m chalicelib.cli job reconcile [--as-of 2026-12-31]
    python -m chalicelib.cli bootstrap            # system accounts (idempotent)
    python -m chalicelib.cli create-admin HANDLE  # password read from stdin
    python -m chalicelib.cli network card /v1/network/card-authorizations '{"id": "evt_1", ...}'

The stage, tables and endpoints come from the environment, as for the app;
with none set, a running `make run` is found (chalicelib/devstack.py) and
used. Progress bars go to a terminal only.
"""
import sys

if __name__ == "__main__":
    # First, before chalicelib's table models read the settings as they are
    # defined: a running `make run`, and a bad setting as one line.
    from chalicelib import devstack
    devstack.prepare_cli()

import argparse  # noqa: E402
import getpass  # noqa: E402
import json  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402
from datetime import date  # noqa: E402

from chalicelib import devstack, errors, jobs  # noqa: E402
from chalicelib.config import NETWORKS  # noqa: E402
from chalicelib.identity import keys, network_auth  # noqa: E402
from chalicelib.config import SettingError  # noqa: E402
from chalicelib.finance import accounts  # noqa: E402
from chalicelib.jobs import registry  # noqa: E402
from chalicelib.social import people  # noqa: E402


def _job(args) -> int:
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
    print(json.dumps({"system_account_shards_created": accounts.ensure_system_accounts()}))
    return 0


def _create_admin(args) -> int:
    password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else getpass.getpass("Password: ")
    if not 10 <= len(password) <= 128:
        print("The password is 10..128 characters.", file=sys.stderr)
        return 2
    try:
        user = people.create_user(args.handle, password, "Flock operator", role="admin")
    except errors.ApiError as refusal:
        print(refusal.message, file=sys.stderr)
        return 2
    print(json.dumps({"id": user.id, "handle": user.handle, "role": user.role}))
    return 0


def _network(args) -> int:
    """Plays the network: signs the body exactly as the card or check network
    does and posts it; prints the status and the answer."""
    raw = args.body.encode()
    try:
        json.loads(raw)
    except ValueError:
        print("The body must be JSON.", file=sys.stderr)
        return 2
    secret = keys.network_secret(args.network)  # where the stack keeps it: Secrets Manager (moto locally)
    url = args.url or (devstack.running() or {}).get("url")
    if not url:
        print("No running `make run` found: give --url.", file=sys.stderr)
        return 2
    request = urllib.request.Request(url.rstrip("/") + args.path, data=raw, method="POST", headers={
        "Content-Type": "application/json", "Flock-Signature": network_auth.sign(secret, raw)})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, body = answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        status, body = refused.code, refused.read()
    print(status)
    print(body.decode("utf-8", "replace"))
    return 0 if status < 400 else 1


def main(argv=None) -> int:
    try:
        return _main(argv)
    except SettingError as bad:
        print(f"Bad setting: {bad}", file=sys.stderr)
        return 2


def _main(argv) -> int:
    names = ", ".join(jobs.NAMES)
    parser = argparse.ArgumentParser(prog="python -m chalicelib.cli",
                                     epilog=f"Jobs: {names}. With no AWS endpoint or stage in the environment, "
                                            "a running `make run` is used.")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = "\n".join(f"  {j.name:16} {j.description}" for j in registry.JOBS.values())
    job = commands.add_parser("job", help=f"run one job for an as-of date: {names}",
                              epilog=f"jobs:\n{listing}", formatter_class=argparse.RawDescriptionHelpFormatter)
    job.add_argument("name", help=f"one of: {names}")
    job.add_argument("--as-of", default=None, help="YYYY-MM-DD; default yesterday by the business clock")
    job.set_defaults(run=_job)
    commands.add_parser("bootstrap", help="create the system accounts").set_defaults(run=_bootstrap)
    admin = commands.add_parser("create-admin", help="create an operator; the password comes from stdin")
    admin.add_argument("handle")
    admin.set_defaults(run=_create_admin)
    network = commands.add_parser("network", help="play the card or check network: a signed POST")
    network.add_argument("network", choices=NETWORKS)
    network.add_argument("path", help="e.g. /v1/network/card-authorizations")
    network.add_argument("body", help="the JSON body, with the event id")
    network.add_argument("--url", default=None, help="the API; default: the running `make run`")
    network.set_defaults(run=_network)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
