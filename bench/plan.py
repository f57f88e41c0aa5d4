"""Planning benchmark: what every `pprfeed publish` run computes before it sends anything.

    .venv/bin/python bench/plan.py [--articles 1000] [--channels 50] [--format digest]

A synthetic archive (bench/synthetic.py), `--channels` Slack and as many Discord channels
that have every issue already (half of them posted, half skipped by backfill), then one new
issue: times `plan_deliveries` (what is due) and `plan_updates` (what changed since posting,
which every run lists), each the best of three.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from pprfeed.archive.load import load_archive  # noqa: E402
from pprfeed.config import SiteSettings  # noqa: E402
from pprfeed.publish.deliver import layout_for, payload_hash, plan_deliveries, plan_updates  # noqa: E402
from pprfeed.publish.ledger import Ledger  # noqa: E402
from pprfeed.publish.targets import Target  # noqa: E402
from synthetic import add_issue, write_archive  # noqa: E402


def best_of(runs: int, work: object) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=50, help="channels per platform")
    parser.add_argument("--format", choices=("digest", "full"), default="digest")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pprfeed-plan-"))
    try:
        content = write_archive(folder / "content", args.articles)
        targets = [Target("slack", "channel", f"C{n:08d}", format=args.format) for n in range(args.channels)]
        targets += [
            Target("discord", "channel", str(400000000000000000 + n), format=args.format) for n in range(args.channels)
        ]
        site, today = SiteSettings(), date.today()
        archive, _ = load_archive(content)
        assert archive is not None
        ledger = Ledger(folder / "state.sqlite3")
        posted = archive.issues[: len(archive.issues) // 2]
        for target in targets:  # the newer half posted (recorded as sent), the older half skipped by backfill
            ledger.add_target(target.key, [issue.month for issue in archive.issues[len(posted) :]])
            for issue in posted:
                ledger.claim(issue.month, target.key, 1, 1, payload_hash({}), "n", layout_for(target))
                ledger.mark_sent(issue.month, target.key, 1, "1")
        add_issue(content)
        archive, _ = load_archive(content)
        assert archive is not None
        due_time, due = best_of(3, lambda: plan_deliveries(archive, targets, ledger, site, today))
        updates_time, _ = best_of(3, lambda: plan_updates(archive, targets, ledger, site, today))
        print(
            f"plan: {len(archive.articles)} articles in {len(archive.issues)} issues, {len(targets)} channels "
            f"({len(posted)} issues posted to each), format {args.format}"
        )
        print(f"  plan_deliveries: {due_time * 1000:.0f} ms ({len(due)} deliveries due)")  # type: ignore[arg-type]
        print(f"  plan_updates:    {updates_time * 1000:.0f} ms")
        ledger.close()
        return 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
