"""A locked moto server on 127.0.0.1 in its own process, for end-to-end tests.

    python scripts/motoserver.py --port N [--exit-with-parent]
"""
import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import localstack  # noqa: E402


def exit_with_parent() -> None:
    """Servers started by tests stop by themselves when the test run ends."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)
    threading.Thread(target=watch, daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--exit-with-parent", action="store_true")
    args = parser.parse_args()
    if args.exit_with_parent:
        exit_with_parent()
    server = localstack.LockedMotoServer(args.port).start()
    print(f"READY {server.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
