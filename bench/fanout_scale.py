"""Fan-out at scale: one new issue to 1,000 subscriptions, against fakes that keep the platforms' rate limits.

    .venv/bin/python bench/fanout_scale.py [--latency 0.05] [--concurrency 16]

500 Slack channels across 100 workspaces (each installed, with its own bot token in the state file) and 500
Discord channels across 200 servers, all subscribed, digest format. The fakes add 50 ms to every request and
answer 429 with Retry-After past Slack's one message per second per channel and Discord's 50 requests per
second per bot. The run goes the way `pprfeed publish` goes: subscriptions and installations read from the
state file (cli/publish.py `with_subscribed`), the real posters, the ledger with claims on disk.

The floor is the larger of 500 Discord posts / 50 per second and the slowest Slack channel's posts x 1 s.
Target: wall time <= 1.2 x the floor, 0 duplicates, 0 missing, 429 answers on at most 1% of requests.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from fakes.discord_api import TOKEN as DISCORD_TOKEN  # noqa: E402
from fakes.discord_api import FakeDiscord  # noqa: E402
from fakes.slack_api import CLIENT_ID, FakeSlack  # noqa: E402
from pprfeed.archive.load import load_archive  # noqa: E402
from pprfeed.cli.publish import with_subscribed  # noqa: E402
from pprfeed.config import PlatformSettings, PublishSettings, Secrets, SiteSettings  # noqa: E402
from pprfeed.publish import open_posters  # noqa: E402
from pprfeed.publish.deliver import Delivery, TargetReport, Tuning, deliver, plan_deliveries  # noqa: E402
from pprfeed.publish.ledger import Ledger  # noqa: E402
from pprfeed.state import State  # noqa: E402
from synthetic import add_issue  # noqa: E402

SLACK_WORKSPACES, SLACK_CHANNELS = 100, 500
DISCORD_SERVERS, DISCORD_CHANNELS = 200, 500
SLACK_PER_CHANNEL = 1.0
DISCORD_GLOBAL = 50
TARGET_RATIO, TARGET_429_SHARE = 1.2, 0.01


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every request")
    parser.add_argument("--concurrency", type=int, default=Tuning().concurrency)
    args = parser.parse_args()

    slack_ids = [f"C{n:08d}" for n in range(SLACK_CHANNELS)]
    discord_ids = [str(400000000000000000 + n) for n in range(DISCORD_CHANNELS)]
    slack = FakeSlack(slack_ids, latency=args.latency, rate_limit_per_channel=SLACK_PER_CHANNEL).start()
    discord = FakeDiscord(discord_ids, latency=args.latency, global_rate_limit=DISCORD_GLOBAL).start()
    work = Path(tempfile.mkdtemp(prefix="pprfeed-fanout-scale-"))
    try:
        content = work / "content"
        shutil.copytree(ROOT / "content", content)
        state_path = work / "state.sqlite3"
        with State(state_path) as state:
            for n, channel in enumerate(slack_ids):
                team = f"T{n % SLACK_WORKSPACES:04d}"
                if n < SLACK_WORKSPACES:
                    token = f"xoxb-{team}-bench"
                    slack.team_tokens[token] = team
                    state.save_installation(team, token, f"Clinic {team}")
                state.subscribe("slack", team, channel)
            for n, channel in enumerate(discord_ids):
                state.subscribe("discord", str(300000000000000000 + n % DISCORD_SERVERS), channel)
        publishing = with_subscribed(
            PublishSettings(
                state_path,
                PlatformSettings("SLACK_BOT_TOKEN", slack.base_url, client_id=CLIENT_ID),
                PlatformSettings("DISCORD_BOT_TOKEN", discord.base_url),
                (),
                Secrets({"DISCORD_BOT_TOKEN": DISCORD_TOKEN}),
            ),
            need_secrets=True,
        )
        # the channels subscribed before: their past issues are behind them, only the new one is due
        publishing = replace(publishing, targets=tuple(replace(t, backfill=0) for t in publishing.targets))
        assert len(publishing.targets) == SLACK_CHANNELS + DISCORD_CHANNELS, "every subscription is a target"
        site = SiteSettings()
        tuning = Tuning(concurrency=args.concurrency)
        with Ledger(state_path) as ledger:
            archive, _ = load_archive(content)
            assert archive is not None
            assert plan_deliveries(archive, publishing.targets, ledger, site, date.today()) == []
            add_issue(content)
            archive, _ = load_archive(content)
            assert archive is not None

            async def run(plan: list[Delivery]) -> list[TargetReport]:
                posters = open_posters(publishing, tuning.timeout)
                try:
                    return await deliver(plan, ledger, posters, tuning)
                finally:
                    for poster in posters.values():
                        await poster.close()

            started = time.perf_counter()
            plan = plan_deliveries(archive, publishing.targets, ledger, site, date.today())
            reports = asyncio.run(run(plan))
            wall = time.perf_counter() - started

        failed = [r for r in reports if not r.ok]
        parts = {d.target.key: len(d.payloads) for d in plan}
        duplicates = missing = 0
        for channel in slack_ids:
            seen = Counter(m["metadata"]["event_payload"]["part"] for m in slack.messages[channel])
            duplicates += sum(n - 1 for n in seen.values() if n > 1)
            missing += parts.get(f"slack:{channel}", 0) - len(seen)
        for channel in discord_ids:
            seen = Counter(m["content"].split("\n", 1)[0] for m in discord.messages[channel])
            duplicates += sum(n - 1 for n in seen.values() if n > 1)
            missing += parts.get(f"discord:{channel}", 0) - len(seen)
        missing += SLACK_CHANNELS + DISCORD_CHANNELS - len(parts)
        wrong_token = sum(
            r.headers.get("Authorization") != f"Bearer xoxb-T{int(r.body['channel'][1:]) % SLACK_WORKSPACES:04d}-bench"
            for r in slack.posts()
        )
        discord_posts = sum(n for key, n in parts.items() if key.startswith("discord:"))
        slowest_slack = max((n for key, n in parts.items() if key.startswith("slack:")), default=0)
        floor = max(discord_posts / DISCORD_GLOBAL, slowest_slack / SLACK_PER_CHANNEL)
        requests = len(slack.requests) + len(discord.requests)
        limited = slack.rate_limited + discord.rate_limited
        share = limited / requests if requests else 0.0
        ratio = wall / floor
        print(
            f"fan-out at scale: 1 new issue, digest, to {SLACK_CHANNELS} Slack channels in {SLACK_WORKSPACES} "
            f"workspaces + {DISCORD_CHANNELS} Discord channels in {DISCORD_SERVERS} servers; "
            f"{args.latency * 1000:.0f} ms per request, concurrency {args.concurrency}; limits enforced: Slack "
            f"{SLACK_PER_CHANNEL:g}/s per channel, Discord {DISCORD_GLOBAL}/s per bot"
        )
        print(
            f"  HTTP requests: {requests} (Slack {len(slack.requests)}, Discord {len(discord.requests)}); "
            f"Slack posts with another workspace's token: {wrong_token}"
        )
        print(
            f"  wall time: {wall:.2f} s; floor {floor:.2f} s (Discord {discord_posts} posts / {DISCORD_GLOBAL}/s, "
            f"slowest Slack channel {slowest_slack} x 1 s)"
        )
        print(f"  wall / floor: {ratio:.2f}  (target <= {TARGET_RATIO})  {'OK' if ratio <= TARGET_RATIO else 'MISSED'}")
        print(
            f"  429 answers: {limited} of {requests} requests = {share:.1%} (Slack {slack.rate_limited}, Discord "
            f"{discord.rate_limited}; target <= {TARGET_429_SHARE:.0%})  "
            f"{'OK' if share <= TARGET_429_SHARE else 'MISSED'}"
        )
        print(f"  duplicates: {duplicates}, missing: {missing}, failed targets: {len(failed)}")
        met = ratio <= TARGET_RATIO and share <= TARGET_429_SHARE
        return 0 if met and not duplicates and not missing and not failed and not wrong_token else 1
    finally:
        slack.stop()
        discord.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
