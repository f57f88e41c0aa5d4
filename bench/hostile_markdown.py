"""Pathological article bodies: how long `check` and the rendering of `build` take at the size limit.

    python bench/hostile_markdown.py [--sizes 50,100,200]

For each body shape an attacker (or a broken paste) could write, an article file
of each size in KB (the last one just under archive.load.ARTICLE_LIMIT) is written
to a temporary content folder; the figures are the seconds `load_archive` takes
(what `check` and the bots' reload do) and the seconds markdown-it takes to parse
and render the body once (what `build` does per article). Time per KB staying flat
as the size grows is what "linear" means here. A body past the limit is refused by
`check` before it is parsed: the last line shows how fast.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from pprfeed.archive.load import ARTICLE_LIMIT, load_archive  # noqa: E402
from pprfeed.site.html import markdown_html, markdown_text, parse_markdown  # noqa: E402

TOPICS = Path(__file__).resolve().parent.parent / "content" / "topics.toml"
FRONT = '+++\ntitle = "Hostile"\ntopics = ["alliance"]\ncitation = "A. (2020). P. J, 1, 1."\n+++\n'
TAIL = "\n\n## Practice Implications\n\nDo.\n"
SHAPES = {
    "![ (image openers)": "![",
    "[ (link openers)": "[",
    "[a]( (unclosed links)": "[a](",
    "*a (emphasis runs)": "*a",
    "**_ (mixed emphasis)": "**_",
    "` a (code spans)": "` a",
    "&#1 (entities)": "&#1",
    "> (quote markers)": "> ",
    "lines of 50 ![": "![" * 50 + "\n",
    "prose": "Therapists and clients agree on goals. ",
}


def body_of(unit: str, size: int) -> str:
    room = size - len(FRONT) - len(TAIL) - 16
    return (unit * (room // len(unit) + 1))[:room]


def time_load(root: Path, body: str) -> float:
    (root / "issues" / "2020-01" / "a.md").write_text(FRONT + body + TAIL, encoding="utf-8")
    start = time.perf_counter()
    load_archive(root)
    return time.perf_counter() - start


def time_render(body: str) -> float:
    start = time.perf_counter()
    tokens = parse_markdown(body)
    markdown_html(tokens, "https://example.org/")
    markdown_text(tokens)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="50,100,200", help="article sizes in KB (200 is capped to the limit)")
    args = parser.parse_args()
    sizes = [min(int(kb) * 1000, ARTICLE_LIMIT) for kb in args.sizes.split(",")]
    root = Path(tempfile.mkdtemp(prefix="pprfeed-hostile-md-"))
    try:
        (root / "issues" / "2020-01").mkdir(parents=True)
        shutil.copy(TOPICS, root / "topics.toml")
        print(f"{'body':24} {'KB':>4} {'check s':>8} {'render s':>9} {'render ms/KB':>13}")
        for name, unit in SHAPES.items():
            for size in sizes:
                body = body_of(unit, size)
                load, render = time_load(root, body), time_render(body)
                print(f"{name:24} {size // 1000:4} {load:8.3f} {render:9.2f} {render * 1e6 / size:13.1f}")
        refused = time_load(root, body_of("![", 600_000))
        print(f"600 KB body of ![: refused by check in {refused:.3f} s (built in 39 s before the limit)")
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
