"""Subscription state benchmark: what a bot does per `/ppr subscribe`, and what `pprfeed publish` reads.

    .venv/bin/python bench/subscriptions.py [--subscriptions 1000]

Times, in a fresh [state] file: `subscribe` (one committed write, as a bot makes per command), the
publisher's read of every subscription turned into targets (`with_subscriptions`), and the same read
while another connection keeps subscribing (a bot busy while publish runs). Best of three for reads.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time
from pathlib import Path

from pprfeed.publish.targets import with_subscriptions
from pprfeed.state import State


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscriptions", type=int, default=1000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pprfeed-subs-"))
    try:
        path = folder / "state.sqlite3"
        with State(path) as state:
            started = time.perf_counter()
            for number in range(args.subscriptions):
                state.subscribe("slack", f"T{number % 10}", f"C{number:08d}", ["cbt"] if number % 2 else [])
            writes = time.perf_counter() - started
        print(f"subscribe: {writes / args.subscriptions * 1000:.2f} ms each ({args.subscriptions} in {writes:.2f} s)")

        def read() -> float:
            with State(path) as reader:
                started = time.perf_counter()
                targets = with_subscriptions((), reader.subscriptions())
                elapsed = time.perf_counter() - started
            assert len(targets) == args.subscriptions
            return elapsed

        fastest = min(read() for _ in range(3))
        print(f"publisher read, {args.subscriptions} subscriptions -> targets: {fastest * 1000:.1f} ms")
        stop = threading.Event()

        def bot() -> None:
            with State(path) as writer:
                number = 0
                while not stop.is_set():
                    writer.subscribe("slack", "T0", f"C{number % args.subscriptions:08d}")
                    number += 1

        thread = threading.Thread(target=bot)
        thread.start()
        try:
            busy = min(read() for _ in range(3))
        finally:
            stop.set()
            thread.join()
        print(f"the same read while a bot keeps subscribing: {busy * 1000:.1f} ms")
    finally:
        shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
