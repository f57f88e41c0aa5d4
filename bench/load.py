"""Loader benchmark: `load_archive` and the whole `pprfeed check` process on synthetic archives.

    python bench/load.py [--sizes 400 1000 10000] [--runs 7] [--out /tmp/pprfeed-bench-load]

For each size, writes a synthetic archive (bench/synthetic.py), then, each in a
fresh interpreter (as a command run by hand, from cron or CI is):
- load: `load_archive(folder)` alone, pprfeed already imported; its peak memory
  is the process's peak resident size after the load;
- check: `pprfeed check --content folder`, from spawn to exit.
Files are read from the page cache (they were just written): nothing else is cached.
Prints the median and the fastest of `--runs` runs; asserts nothing.
Targets: `pprfeed check` on 1,000 articles <= 0.3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import child_env, write_archive  # noqa: E402

ENV = child_env()

LOAD = """
import json, resource, sys, time
from pprfeed.archive.load import load_archive
started, cpu = time.perf_counter(), time.process_time()
archive, diagnostics = load_archive(sys.argv[1])
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
assert archive is not None, diagnostics
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": peak_kb / 1024, "articles": len(archive.articles)}))
"""

IMPORT_ONLY = """
import json, resource
import pprfeed.archive.load
print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def fresh(script: str, *args: str) -> dict[str, float]:
    result = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=ENV)
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return json.loads(result.stdout)


def check_seconds(content: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pprfeed", "check", "--content", str(content)], capture_output=True, text=True, env=ENV
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return seconds


def spread(samples: list[float]) -> str:
    return f"median {statistics.median(samples):.3f} s, fastest {min(samples):.3f} s"


def archive_of(out: Path, articles: int) -> Path:
    content = out / f"content-{articles}"
    if sum(1 for _ in content.glob("issues/*/*.md")) != articles:
        write_archive(content, articles)
    return content


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[400, 1000, 10_000])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("/tmp/pprfeed-bench-load"))
    args = parser.parse_args()
    print(
        f"Python {platform.python_version()}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {args.runs} runs each"
    )
    fresh(IMPORT_ONLY)  # writes the compiled modules, if they were not yet
    baseline = fresh(IMPORT_ONLY)["peak_mb"]
    print(f"interpreter + pprfeed imported: {baseline:.0f} MB resident")
    for articles in args.sizes:
        content = archive_of(args.out, articles)
        loads, checks = [], []
        for _ in range(args.runs):  # alternating, so that load from elsewhere on the machine hits both alike
            loads.append(fresh(LOAD, str(content)))
            checks.append(check_seconds(content))
        peak = max(run["peak_mb"] for run in loads)
        print(f"\n{articles:,} articles:")
        print(
            f"  load_archive     {spread([run['seconds'] for run in loads])} (CPU median "
            f"{statistics.median(run['cpu'] for run in loads):.3f} s); peak resident {peak:.0f} MB "
            f"({peak - baseline:.0f} MB over the imports)"
        )
        target = "   (target <= 0.3 s)" if articles == 1000 else ""
        print(f"  pprfeed check    {spread(checks)}, whole process{target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
