"""Search benchmark: the query engine (archive/search.py) on synthetic archives of 1,000 and 10,000 articles.

    python bench/search.py [--sizes 1000 10000] [--runs 200] [--out bench/out/search]

For each size it writes a synthetic archive (bench/synthetic.py), then prints

- index build: building the FTS5 index from the loaded archive (median of 5);
- in-process queries: p50 and p99 per query of a realistic mix (topics, typos, common and rare words,
  authors, questions, synonyms, DOIs, nonsense), each asked `--runs` times, and p99 over the mix, in
  wall-clock time and in CPU time (`time.thread_time`: the same, less any wait for a free core, which
  is what a machine shared with other work adds);
- whole process: `pprfeed topic <words>` as a command, median of 5 (interpreter start, imports,
  loading the archive without a parse cache, the index, the answer).

Targets: query p99 <= 2 ms at 1,000 articles and <= 10 ms at 10,000; index build at
1,000 <= 100 ms; `pprfeed topic <words>` at 1,000 <= 0.5 s. The figures are printed, not asserted:
a loaded CI machine would fail a timed test for no fault of the code.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pprfeed.archive.load import load_archive  # noqa: E402
from pprfeed.archive.search import QueryEngine, _Index  # noqa: E402
from pprfeed.archive.synonyms import load_synonyms  # noqa: E402
from synthetic import write_archive  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QUERIES = [
    "alliance",  # a topic: its articles, newest first, no index needed
    "cbt for depression",  # two topics: tagged with both first
    "depresion",  # a typo of a topic
    "therapist",  # in nearly every synthetic article: the ranking cut (RANK_ALL) at work
    "therapy",  # not a word of the synthetic text: read as the prefix of "therapist" (9,926 matches)
    "rupture repair",  # two common words
    "alliance rupture",  # a topic and a word: the topic as a boost
    "anxiety treatment",
    "Flückiger",  # an author (one of seven synthetic surnames)
    "Smith 2010",  # an author and a year
    "teens",  # a synonym (content/synonyms.toml): youth words
    "what works for adolescents with depression?",  # a question in plain words
    "counter transference",  # a typo of an alias
    "10.1500/synthetic.500",  # a DOI
    "xyzzyq",  # nonsense: nothing found
    "allian",  # a prefix of a topic
    "meta-analysis of dropout",
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def bench(size: int, runs: int, out: Path) -> None:
    content = out / f"content-{size}"
    if not (content / "issues").is_dir() or len(list((content / "issues").glob("*/*.md"))) != size:
        write_archive(content, size)
    archive, diagnostics = load_archive(content)
    if archive is None:
        raise SystemExit("\n".join(map(str, diagnostics)))
    synonyms = load_synonyms(ROOT / "content")
    builds = []
    for _ in range(5):
        started = time.perf_counter()
        _Index(archive.articles)
        builds.append(time.perf_counter() - started)
    engine = QueryEngine(archive, synonyms)
    engine.prepare()
    print(f"\n{size:,} articles: index build {statistics.median(builds) * 1000:.0f} ms (median of 5)")
    every: list[float] = []
    every_cpu: list[float] = []
    print(f"  {'query':46} {'found':>6} {'p50 ms':>8} {'p99 ms':>8} {'cpu p99':>8}")
    for query in QUERIES:
        times, cpu = [], []
        for _ in range(runs):
            started, started_cpu = time.perf_counter(), time.thread_time()
            result = engine.find(query)
            cpu.append(time.thread_time() - started_cpu)
            times.append(time.perf_counter() - started)
        every += times
        every_cpu += cpu
        print(
            f"  {query!r:46} {len(result.articles):>6} {percentile(times, 0.5) * 1000:>8.2f}"
            f" {percentile(times, 0.99) * 1000:>8.2f} {percentile(cpu, 0.99) * 1000:>8.2f}  {result.kind.value}"
        )
    print(
        f"  all queries: p50 {percentile(every, 0.5) * 1000:.2f} ms, p99 {percentile(every, 0.99) * 1000:.2f} ms"
        f" (CPU: p50 {percentile(every_cpu, 0.5) * 1000:.2f} ms, p99 {percentile(every_cpu, 0.99) * 1000:.2f} ms)"
    )
    for words in (["alliance", "rupture"], ["teens"], ["alliance"]):
        wall = []
        for _ in range(5):
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "pprfeed", "topic", *words, "--content", str(content), "--limit", "5"],
                capture_output=True,
                text=True,
            )
            wall.append(time.perf_counter() - started)
            if done.returncode not in (0, 1):
                raise SystemExit(done.stderr)
        print(f"  whole process `pprfeed topic {' '.join(words)}`: {statistics.median(wall):.2f} s (median of 5)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "search")
    args = parser.parse_args()
    for size in args.sizes:
        bench(size, args.runs, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
