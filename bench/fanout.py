"""Fan-out benchmark: one new issue to 50 Slack + 50 Discord channels, 50 ms added to every request.

    .venv/bin/python bench/fanout.py [--channels 50] [--latency 0.05] [--concurrency 16] [--format full]

Runs the real publish path (plan, ledger with claims on disk, slack-sdk and
discord.py clients) against the local fakes from tests/fakes. The channels
exist already (their past issues are behind them); then one new issue lands.
Target: every channel has it in <= 3 s wall, zero duplicates.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from fakes.discord_api import TOKEN as DISCORD_TOKEN  # noqa: E402
from fakes.discord_api import FakeDiscord  # noqa: E402
from fakes.slack_api import TOKEN as SLACK_TOKEN  # noqa: E402
from fakes.slack_api import FakeSlack  # noqa: E402
from pprfeed.archive.load import load_archive  # noqa: E402
from pprfeed.config import PlatformSettings, Secrets, SiteSettings, Target  # noqa: E402
from pprfeed.publish.deliver import Tuning, deliver, plan_deliveries  # noqa: E402
from pprfeed.publish.discord import DiscordPoster  # noqa: E402
from pprfeed.publish.ledger import Ledger  # noqa: E402
from pprfeed.publish.slack import SlackPoster  # noqa: E402
from synthetic import add_issue  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--channels", type=int, default=50, help="channels per platform")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every request")
    parser.add_argument("--concurrency", type=int, default=Tuning().concurrency)
    parser.add_argument(
        "--format", choices=("digest", "full"), default="digest", help="the targets' format (full: Slack threads)"
    )
    args = parser.parse_args()

    slack_ids = [f"C{n:08d}" for n in range(args.channels)]
    discord_ids = [str(400000000000000000 + n) for n in range(args.channels)]
    slack = FakeSlack(slack_ids, latency=args.latency).start()
    discord = FakeDiscord(discord_ids, latency=args.latency).start()
    work = Path(tempfile.mkdtemp(prefix="pprfeed-fanout-"))
    try:
        content = work / "content"
        shutil.copytree(ROOT / "content", content)
        targets = [Target("slack", "channel", c, backfill=0, format=args.format) for c in slack_ids]
        targets += [Target("discord", "channel", c, backfill=0, format=args.format) for c in discord_ids]
        secrets = Secrets({"SLACK_BOT_TOKEN": SLACK_TOKEN, "DISCORD_BOT_TOKEN": DISCORD_TOKEN})
        site = SiteSettings()
        ledger = Ledger(work / "state.sqlite3")
        archive, _ = load_archive(content)
        assert archive is not None
        assert plan_deliveries(archive, targets, ledger, site, date.today()) == []  # channels set up, nothing due
        add_issue(content)
        archive, _ = load_archive(content)
        assert archive is not None
        tuning = Tuning(concurrency=args.concurrency)

        async def run() -> list:
            posters = {
                "slack": SlackPoster(PlatformSettings("SLACK_BOT_TOKEN", slack.base_url), secrets, tuning.timeout),
                "discord": DiscordPoster(
                    PlatformSettings("DISCORD_BOT_TOKEN", discord.base_url), secrets, tuning.timeout
                ),
            }
            try:
                return await deliver(plan, ledger, posters, tuning)  # type: ignore[arg-type]
            finally:
                for poster in posters.values():
                    await poster.close()

        started = time.perf_counter()
        plan = plan_deliveries(archive, targets, ledger, site, date.today())
        reports = asyncio.run(run())
        wall = time.perf_counter() - started

        failed = [r for r in reports if not r.ok]
        parts = {d.target.key: len(d.payloads) for d in plan}
        duplicates = 0
        missing = 0
        for channel in slack_ids:
            seen = Counter(m["metadata"]["event_payload"]["part"] for m in slack.messages[channel])
            duplicates += sum(n - 1 for n in seen.values() if n > 1)
            missing += parts[f"slack:{channel}"] - len(seen)
        for channel in discord_ids:
            seen = Counter(m["content"].split("\n", 1)[0] for m in discord.messages[channel])
            duplicates += sum(n - 1 for n in seen.values() if n > 1)
            missing += parts[f"discord:{channel}"] - len(seen)
        messages = sum(len(m) for m in slack.messages.values()) + sum(len(m) for m in discord.messages.values())
        requests = len(slack.requests) + len(discord.requests)
        print(
            f"fan-out: 1 new issue ({len(plan[0].issue.articles)} articles) to {len(slack_ids)} Slack + "
            f"{len(discord_ids)} Discord channels, {args.latency * 1000:.0f} ms added per request, "
            f"concurrency {args.concurrency}, format {args.format}"
        )
        print(
            f"  messages posted: {messages} (Slack {parts[targets[0].key]} per channel, "
            f"Discord {parts[targets[-1].key]} per channel); HTTP requests: {requests}"
        )
        print(f"  wall time: {wall:.2f} s  (target <= 3 s)  {'OK' if wall <= 3 else 'MISSED'}")
        print(f"  duplicates: {duplicates}, missing: {missing}, failed targets: {len(failed)}")
        return 0 if wall <= 3 and not duplicates and not missing and not failed else 1
    finally:
        slack.stop()
        discord.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
