"""`pprfeed build`: the feeds, OPML and HTML front door as a folder of static files."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

from pprfeed.archive.load import load_archive
from pprfeed.cli.common import add_config_option, add_content_option, print_diagnostics
from pprfeed.config import load_settings
from pprfeed.site.build import build_site
from pprfeed.site.output import OutputError

CACHE_FOLDER = ".pprfeed/cache"


def register(commands: argparse._SubParsersAction) -> None:
    build = commands.add_parser(
        "build",
        help="write RSS, Atom and JSON feeds, OPML and HTML pages into a folder",
        description="Build every feed (the whole archive and each topic) in RSS 2.0, Atom 1.0 and JSON Feed 1.1, "
        "index.opml and a small HTML front door. The output folder is replaced atomically: if the archive has "
        "problems or the build fails, the old folder is left exactly as it was.",
    )
    add_content_option(build)
    build.add_argument("--out", metavar="DIR", default="feeds", help="the output folder (default: feeds/)")
    add_config_option(build)
    build.add_argument(
        "--cache",
        metavar="DIR",
        default=None,
        help=f"where parsed content is remembered between builds (default: {CACHE_FOLDER}/ beside the output)",
    )
    build.add_argument("--no-cache", action="store_true", help="parse every content file afresh")
    build.set_defaults(handler=run_build)


def run_build(args: argparse.Namespace) -> int:
    out = Path(args.out)
    settings, diagnostics = load_settings(args.config)
    print_diagnostics(diagnostics)
    if settings is None:
        print(f"pprfeed build: fix the settings file; {out} was not changed", file=sys.stderr)
        return 1
    cache = None if args.no_cache else Path(args.cache) if args.cache else out.absolute().parent / CACHE_FOLDER
    digests: dict[str, str] = {}  # what the parse cache knows of each article: spares hashing them all again
    archive, diagnostics = load_archive(args.content, cache_dir=cache, digests=digests)
    print_diagnostics(diagnostics)
    if archive is None:
        errors = sum(d.severity == "error" for d in diagnostics)
        print(
            f"pprfeed build: {args.content} has {errors} problem{'s' if errors != 1 else ''} "
            f"(see above, as `pprfeed check` shows them); {out} was not changed",
            file=sys.stderr,
        )
        return 1
    now = datetime.now(timezone.utc).replace(microsecond=0)
    try:
        result = build_site(archive, settings.site, out, now, digests)
    except OutputError as exc:
        print(f"pprfeed build: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"pprfeed build: failed ({type(exc).__name__}: {exc}); {out} was left exactly as it was. "
            "Run again with --debug for the details.",
            file=sys.stderr,
        )
        return 1
    plan, stats = result.plan, result.written
    print(
        f"{out}/: {len(plan.feeds)} feed{'s' if len(plan.feeds) != 1 else ''} "
        f"(all articles + {len(plan.feeds) - 1} topics) in RSS, Atom and JSON Feed, "
        f"index.opml, index.html, {len(archive.topics)} topic pages, {plan.pages} article pages "
        f"({stats.written} of {stats.files} files written, "
        + (f"{stats.linked} taken from the previous build, " if stats.linked else "")
        + f"{stats.removed} removed)"
    )
    print(f"  open {out / 'index.html'}, or serve it: python3 -m http.server -b 127.0.0.1 -d {out} 8000")
    print(f"  feeds are addressed as {settings.site.base_url} (set [site] base_url in pprfeed.toml)")
    return 0
