"""/topic bot benchmark on the synthetic archive: query and autocomplete latency, start-up, and a load run.

    python bench/bots.py [--articles 1000] [--out /tmp/pprfeed-bench-bots] [--requests 2000] [--concurrency 50]

1. In-process latency of what a bot does per query (QueryEngine.find, and
   find + rendering both the Slack and the Discord answer), over a mix of
   topic names, aliases, prefixes, typos, full-text words, nonsense and a
   10,000-character query; and of autocomplete (complete + Discord choices)
   for every prefix of every topic name and some junk.
2. Start-up: `pprfeed slack serve` as a process, from spawn to the first
   /healthz answer; and the same work a Discord start does before
   connecting (imports, load, command tree).
3. Load run: 2,000 requests, each signed the way Slack signs, 50 at a time
   from an aiohttp client, against `pprfeed slack serve` on 127.0.0.1.

Prints figures; asserts nothing. Targets: query p99 <= 2 ms,
autocomplete p99 <= 2 ms, start-up <= 1 s, load run p99 <= 50 ms with no errors.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pprfeed.bots.live import LiveArchive  # noqa: E402
from pprfeed.chat import discord as discord_chat  # noqa: E402
from pprfeed.chat import slack as slack_chat  # noqa: E402
from pprfeed.chat.answers import ask  # noqa: E402
from pprfeed.config import SiteSettings  # noqa: E402
from synthetic import child_env, write_archive  # noqa: E402

SECRET = "bench-signing-secret"
ENV = child_env()


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    return f"p50 {at(0.50):6.3f} ms  p99 {at(0.99):6.3f} ms  max {ordered[-1] * 1000:6.3f} ms  (n={len(ordered)})"


def query_mix(live: LiveArchive) -> dict[str, list[str]]:
    topics = [topic for topic, _ in live.snapshot.engine.topic_list()]
    rng = random.Random(5)
    return {
        "topic names": [t.name for t in topics],
        "slugs and aliases": [t.slug for t in topics] + [alias for t in topics for alias in t.aliases],
        "prefixes": [t.name[: rng.randint(3, 6)] for t in topics],
        "typos": [t.name[:3] + t.name[4:] for t in topics if len(t.name) > 6],
        "full text": [
            "rupture repair",
            "therapist alliance outcome",
            "dropout adolescents",
            "müller 2003",
            "placebo d",
        ],
        "nothing": ["qqqqzzzz", "xylophone orchestra", "zzz"],
        "hostile / long": ["<!channel> @everyone *b*", "alliance " * 1200, "x" * 10_000, "é" * 10_000],
        "help": ["", "help"],
    }


def bench_queries(live: LiveArchive, rounds: int) -> None:
    engine = live.snapshot.engine
    context = live.snapshot.context
    print("\nIn-process, per query (index built):")
    everything_find: list[float] = []
    everything_bot: list[float] = []
    for name, queries in query_mix(live).items():
        find_times, bot_times = [], []
        for _ in range(rounds):
            for query in queries:
                started = time.perf_counter()
                engine.find(query)
                find_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                result = ask(engine, query)
                slack_chat.answer(result, 0, context)
                discord_chat.answer(result, 0, context)
                bot_times.append(time.perf_counter() - started)
        everything_find += find_times
        everything_bot += bot_times
        print(f"  {name:18s} find          {percentiles(find_times)}")
        print(f"  {'':18s} find+render   {percentiles(bot_times)}")
    print(f"  {'ALL':18s} find          {percentiles(everything_find)}   (target p99 <= 2 ms)")
    print(f"  {'':18s} find+render   {percentiles(everything_bot)}")

    typed = [t.name[:cut] for t, _ in engine.topic_list() for cut in range(0, len(t.name) + 1)]
    typed += ["zz", "x" * 6000, "@everyone", "é" * 200, "therapy"]
    times = []
    for _ in range(rounds):
        for text in typed:
            started = time.perf_counter()
            discord_chat.choices(engine.complete(text), engine.counts)
            times.append(time.perf_counter() - started)
    print(f"\nAutocomplete (complete + choices): {percentiles(times)}   (target p99 <= 2 ms)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(content: Path, workdir: Path) -> tuple[subprocess.Popen[bytes], int, float]:
    """`pprfeed slack serve` as a process; returns it, its port and the seconds until /healthz answered."""
    port = free_port()
    env = {**ENV, "SLACK_SIGNING_SECRET": SECRET}
    started = time.perf_counter()
    deadline = started + 60
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pprfeed",
            "slack",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--content",
            str(content),
        ],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return process, port, time.perf_counter() - started
        except OSError:
            if process.poll() is not None:
                raise SystemExit("pprfeed slack serve exited; run it by hand to see why") from None
            if time.perf_counter() > deadline:
                stop(process)
                raise SystemExit("pprfeed slack serve did not answer /healthz within 60 s") from None
            time.sleep(0.005)


def wait_for_index(port: int) -> float:
    started = time.perf_counter()
    while time.perf_counter() < started + 60:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
            if b'"text_index": true' in response.read():
                return time.perf_counter() - started
        time.sleep(0.01)
    raise SystemExit("the full-text index was not ready within 60 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=10)


def spread(samples: list[float]) -> str:
    return f"median {statistics.median(samples):.3f} s [{min(samples):.3f}-{max(samples):.3f}] over {len(samples)}"


def bench_startup(content: Path, workdir: Path, runs: int) -> None:
    print("\nStart-up (spawn `pprfeed slack serve` -> first /healthz answer):")
    stop(start_server(content, workdir)[0])  # not measured: compiles the modules, as an install does once
    seconds, index = [], 0.0
    for attempt in range(runs):
        process, port, took = start_server(content, workdir)
        seconds.append(took)
        if attempt == 0:
            index = wait_for_index(port)
        stop(process)
    print(f"  {spread(seconds)}   (target <= 1 s)")
    print(f"    (full-text index ready {index:.3f} s after the first answer, built in the background)")
    script = (
        "import time; t=time.perf_counter();"
        "from pprfeed.bots.discord import TopicBot; from pprfeed.bots.live import LiveArchive;"
        "from pprfeed.config import SiteSettings;"
        f"live=LiveArchive({str(content)!r}, site=SiteSettings(), command='/topic');"
        "live.load(); TopicBot(live, 'topic'); print(time.perf_counter()-t)"
    )
    discord = [
        float(
            subprocess.run(
                [sys.executable, "-c", script], cwd=workdir, capture_output=True, text=True, check=True, env=ENV
            ).stdout
        )
        for _ in range(runs)
    ]
    print(f"  Discord, before connecting (imports + load + command tree): {spread(discord)}")


def signed(body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


async def load_run(port: int, queries: list[str], requests: int, concurrency: int) -> None:
    url = f"http://127.0.0.1:{port}/slack/commands"
    rng = random.Random(9)
    run = time.time_ns()
    bodies = []
    for number in range(requests):
        trigger = f"bench-{run}-{number}"  # unique bodies: the server rejects a repeated signature as a replay
        form = {"command": "/ppr-topic", "text": rng.choice(queries), "user_id": "U1", "trigger_id": trigger}
        body = urlencode(form).encode()
        bodies.append((body, signed(body)))  # signed up front: the client's HMAC is not the server's latency
    latencies: list[float] = []
    errors: list[str] = []
    pending = iter(bodies)
    connector = aiohttp.TCPConnector(limit=concurrency)

    async def worker(session: aiohttp.ClientSession) -> None:
        for body, headers in pending:
            started = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        errors.append(f"HTTP {response.status}")
            except (TimeoutError, aiohttp.ClientError) as exc:
                errors.append(type(exc).__name__)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=10)) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    print(f"\nLoad run: {requests} signed /slack/commands requests, {concurrency} concurrent, 127.0.0.1")
    print(f"  latency {percentiles(latencies)}   (target p99 <= 50 ms)")
    print(f"  throughput {requests / elapsed:.0f} requests/s; errors: {len(errors)} {sorted(set(errors)) or ''}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/pprfeed-bench-bots"))
    parser.add_argument("--rounds", type=int, default=20, help="repetitions of the in-process query mix")
    parser.add_argument("--startups", type=int, default=5, help="start-ups measured")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    content, workdir = args.out / "content", args.out / "run"
    if not (content / "issues").is_dir() or sum(1 for _ in content.glob("issues/*/*.md")) != args.articles:
        write_archive(content, args.articles)
    workdir.mkdir(parents=True, exist_ok=True)
    print(
        f"{args.articles} articles; Python {platform.python_version()}; {os.cpu_count()} CPUs; "
        f"load average {os.getloadavg()[0]:.1f}; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )

    live = LiveArchive(content, site=SiteSettings(), command="/ppr-topic")
    started = time.perf_counter()
    live.load()
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    live.snapshot.engine.prepare()
    print(f"In-process: load {loaded:.3f} s; full-text index {time.perf_counter() - started:.3f} s")
    bench_queries(live, args.rounds)
    bench_startup(content, workdir, args.startups)

    process, port, _ = start_server(content, workdir)
    try:
        wait_for_index(port)
        queries = [q for group in query_mix(live).values() for q in group]
        asyncio.run(load_run(port, queries, args.requests, args.concurrency))
    finally:
        stop(process)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
