"""Loader benchmark: cold and warm (parse-cache) load of a synthetic archive.

    python bench/load.py [--articles 10000] [--out /tmp/pprfeed-bench-load]

Writes the synthetic archive (bench/synthetic.py), then times load_archive:
without a cache, with an empty cache (parse + write the cache), and with a
warm cache (best of three; nothing changed on disk), in this process and in a
fresh one (as a command run from cron or CI would). Prints seconds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pprfeed.archive.load import load_archive  # noqa: E402
from pprfeed.archive.parse_cache import reap  # noqa: E402
from synthetic import write_archive  # noqa: E402


def timed(content: Path, cache: Path | None) -> float:
    started = time.perf_counter()
    archive, diagnostics = load_archive(content, cache_dir=cache)
    elapsed = time.perf_counter() - started
    if archive is None:
        raise SystemExit("\n".join(map(str, diagnostics)))
    return elapsed


FRESH = """
import sys, time
from pprfeed.archive.load import load_archive
started = time.perf_counter()
archive, _ = load_archive(sys.argv[1], cache_dir=sys.argv[2])
assert archive is not None
print(time.perf_counter() - started)
"""


def timed_fresh(content: Path, cache: Path) -> float:
    """A warm load in a new interpreter (the import of pprfeed not counted)."""
    result = subprocess.run([sys.executable, "-c", FRESH, str(content), str(cache)], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return float(result.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/pprfeed-bench-load"))
    args = parser.parse_args()
    content, cache = args.out / "content", args.out / "cache"
    write_archive(content, args.articles)
    # the cache skips files modified in the last 100 ms (see parse_cache.py): date them a little back
    past = time.time() - 60
    for folder, _, files in os.walk(content):
        for name in files:
            os.utime(os.path.join(folder, name), (past, past))
    shutil.rmtree(cache, ignore_errors=True)
    print(f"{args.articles} articles, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(f"cold, no cache:        {timed(content, None):.3f} s")
    print(f"cold, building cache:  {timed(content, cache):.3f} s   (large cache writes finish in a background process)")
    reap(wait=True)  # the warm loads below must find the whole cache written
    warm = min(timed(content, cache) for _ in range(3))
    print(f"warm (cache, best of 3): {warm:.3f} s   (target <= 0.25 s)")
    fresh = min(timed_fresh(content, cache) for _ in range(3))
    print(f"warm, fresh process (best of 3): {fresh:.3f} s")
    print(f"cache size:            {sum(p.stat().st_size for p in cache.glob('articles-*.pickle')) / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
