"""What every subcommand shares: the --content option and printing diagnostics."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from pprfeed.archive.load import load_archive
from pprfeed.diagnostics import Diagnostic
from pprfeed.model import Archive


class UsageError(Exception):
    """A command was asked for something it cannot do; the message says why and what to do."""


def add_content_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--content", metavar="DIR", default="content", help="the content folder (default: content/)")


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help="settings file (default: ./pprfeed.toml if present, else built-in defaults)",
    )


def print_diagnostics(diagnostics: Iterable[Diagnostic]) -> None:
    # one write per line would make 10,000 diagnostics slow on a terminal: join first
    text = "\n".join(map(str, diagnostics))
    if text:
        print(text, file=sys.stderr)


def load_or_report(content: str, cache_dir: str | Path | None = None) -> Archive | None:
    """The archive, or None after printing every problem with it, then their count. `cache_dir`: see load_archive."""
    archive, diagnostics = load_archive(content, cache_dir=cache_dir)
    print_diagnostics(diagnostics)
    if archive is None:
        errors = sum(d.severity == "error" for d in diagnostics)
        warnings = len(diagnostics) - errors
        counted = f"{errors} problem{'s' if errors != 1 else ''}" + (
            f" and {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""
        )
        print(f"{content}: {counted} found — fix them and run `pprfeed check` again.", file=sys.stderr)
    return archive
