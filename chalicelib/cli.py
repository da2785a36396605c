"""Operator commands, the same functions the schedules and the admin API run.

    python -m chalicelib.cli job reconcile [--as-of 2026-12-31]
    python -m chalicelib.cli bootstrap            # system accounts (idempotent)
    python -m chalicelib.cli create-admin HANDLE  # password read from stdin
    python -m chalicelib.cli network authorize --number 4532... --exp 03/2030 --amount 2500
    python -m chalicelib.cli network clear --auth auth_... --amount 2500
    python -m chalicelib.cli network present-check --account 40718823551 --serial 1001 --amount 2500
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
import uuid  # noqa: E402
from datetime import date  # noqa: E402

from chalicelib import devstack, errors, jobs  # noqa: E402
from chalicelib.config import NETWORKS, settings  # noqa: E402
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
    print(json.dumps(summary.as_json(), indent=2, sort_keys=True))
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


def _merchant(args) -> dict:
    return {"name": args.merchant, "mcc": args.mcc, "city": args.city, "country": args.country}


def _card(args) -> dict:
    month, _, year = args.exp.partition("/")
    card = {"card_number": args.number, "exp_month": int(month), "exp_year": int(year)}
    return {**card, "cvc": args.cvc} if args.cvc else card


def _some(**fields) -> dict:
    return {k: v for k, v in fields.items() if v is not None}


# verb -> (network, the path, the body from the arguments; the event id is added).
NETWORK_VERBS = {
    "authorize": ("card", lambda a: "/v1/network/card-authorizations",
                  lambda a: {**_card(a), "amount": a.amount, "currency": a.currency, "merchant": _merchant(a)}),
    "increment": ("card", lambda a: f"/v1/network/card-authorizations/{a.auth}/increments",
                  lambda a: {"amount": a.amount}),
    "clear": ("card", lambda a: "/v1/network/card-clearings",
              lambda a: _some(authorization_id=a.auth, card_number=a.number, amount=a.amount, currency=a.currency,
                              merchant=_merchant(a) if a.number else None)),
    "reverse": ("card", lambda a: "/v1/network/card-reversals",
                lambda a: _some(authorization_id=a.auth, amount=a.amount)),
    "refund": ("card", lambda a: "/v1/network/card-refunds",
               lambda a: _some(card_number=a.number, amount=a.amount, currency=a.currency, merchant=_merchant(a),
                               authorization_id=a.auth)),
    "present-check": ("check", lambda a: "/v1/network/check-presentments",
                      lambda a: _some(routing=a.routing, account=a.account, serial=a.serial, amount=a.amount,
                                      currency=a.currency, payee=a.payee)),
    "return-deposit": ("check", lambda a: "/v1/network/check-returns",
                       lambda a: {"deposit_id": a.deposit, "reason": a.reason}),
}


def _network(args) -> int:
    """Plays the network: signs the body exactly as the card or check network
    does and posts it; prints the status and the answer."""
    if args.verb in NETWORK_VERBS:
        network, path_of, body_of = NETWORK_VERBS[args.verb]
        path, raw = path_of(args), json.dumps({"id": args.id or f"evt_{uuid.uuid4().hex[:20]}",
                                               **body_of(args)}).encode()
    else:
        network, path, raw = args.verb, args.path, args.body.encode()
    try:
        json.loads(raw)
    except ValueError:
        print("The body must be JSON.", file=sys.stderr)
        return 2
    secret = keys.network_secret(network)  # where the stack keeps it: Secrets Manager (moto locally)
    url = args.url or (devstack.running() or {}).get("url")
    if not url:
        print("No running `make run` found: give --url.", file=sys.stderr)
        return 2
    request = urllib.request.Request(url.rstrip("/") + path, data=raw, method="POST", headers={
        "Content-Type": "application/json", "Flock-Signature": network_auth.sign(secret, raw)})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, body = answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        status, body = refused.code, refused.read()
    print(status)
    print(body.decode("utf-8", "replace"))
    return 0 if status < 400 else 1


def _network_parser(commands) -> None:
    """`network card|check PATH BODY` sends any call; the verbs build the
    usual ones from options (each with a fresh event id unless --id)."""
    network = commands.add_parser("network", help="play the card or check network: signed calls")
    verbs = network.add_subparsers(dest="verb", required=True)

    def verb(name, help_):
        sub = verbs.add_parser(name, help=help_)
        sub.add_argument("--id", default=None, help="the event id (default: a fresh one)")
        sub.add_argument("--url", default=None, help="the API; default: the running `make run`")
        sub.set_defaults(run=_network)
        return sub

    def card_options(sub, number_required):
        sub.add_argument("--number", required=number_required, help="the 16-digit card number")
        sub.add_argument("--exp", required=number_required, help="MM/YYYY")
        sub.add_argument("--cvc", default=None)

    def money_options(sub, required=True):
        sub.add_argument("--amount", type=int, required=required, help="minor units (cents)")
        sub.add_argument("--currency", default="USD")

    def merchant_options(sub):
        sub.add_argument("--merchant", default="Corner Shop")
        sub.add_argument("--mcc", default="5411")
        sub.add_argument("--city", default="Portland")
        sub.add_argument("--country", default="US")

    for raw in NETWORKS:
        sub = verb(raw, f"any {raw} network call: PATH and its JSON BODY (with the event id)")
        sub.add_argument("path", help="e.g. /v1/network/card-authorizations")
        sub.add_argument("body", help="the JSON body, with the event id")
    sub = verb("authorize", "a card authorization")
    card_options(sub, True)
    money_options(sub)
    merchant_options(sub)
    sub = verb("increment", "raise an authorization's hold")
    sub.add_argument("--auth", required=True, help="the authorization id")
    money_options(sub)
    sub = verb("clear", "post an authorization (or, with --number and no --auth, a forced post)")
    sub.add_argument("--auth", default=None)
    sub.add_argument("--number", default=None)
    money_options(sub)
    merchant_options(sub)
    sub = verb("reverse", "release all or part of an authorization's hold")
    sub.add_argument("--auth", required=True)
    money_options(sub, required=False)
    sub = verb("refund", "refund a purchase to the card")
    sub.add_argument("--number", required=True)
    sub.add_argument("--auth", default=None)
    money_options(sub)
    merchant_options(sub)
    sub = verb("present-check", "present a Flock check for payment")
    sub.add_argument("--routing", default=settings().routing_number)
    sub.add_argument("--account", required=True, help="the check's account number (its MICR)")
    sub.add_argument("--serial", required=True)
    sub.add_argument("--payee", default=None)
    money_options(sub)
    sub = verb("return-deposit", "return a deposited check")
    sub.add_argument("--deposit", required=True, help="the deposit id")
    sub.add_argument("--reason", required=True, choices=["not_sufficient_funds", "stop_payment", "account_closed",
                                                         "altered_or_fictitious", "unusable_image",
                                                         "refer_to_maker"])


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
    _network_parser(commands)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
