"""`pprfeed build`: the feeds, OPML and HTML front door as a folder of static files."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

from pprfeed.archive.load import load_archive
from pprfeed.cli.common import add_config_option, add_content_option, add_removed_option, print_diagnostics
from pprfeed.config import load_settings


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
    add_removed_option(build, "--cache", takes_value=True)
    add_removed_option(build, "--no-cache")
    build.set_defaults(handler=run_build)


def run_build(args: argparse.Namespace) -> int:
    from pprfeed.site.build import build_site  # here, not above: the other commands never load the feed renderers
    from pprfeed.site.output import OutputError

    out = Path(args.out)
    settings, diagnostics = load_settings(args.config)
    print_diagnostics(diagnostics)
    if settings is None:
        print(f"pprfeed build: fix the settings file; {out} was not changed", file=sys.stderr)
        return 1
    archive, diagnostics = load_archive(args.content)
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
        result = build_site(archive, settings.site, out, now)
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
