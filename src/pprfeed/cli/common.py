"""What every subcommand shares: the --content option and printing diagnostics."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable

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


class _RemovedOption(argparse.Action):
    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object, option: str | None = None
    ) -> None:
        print(f"{parser.prog}: {option} is no longer used; remove it", file=sys.stderr)


def add_removed_option(parser: argparse.ArgumentParser, option: str, *, takes_value: bool = False) -> None:
    """An option of an earlier version: still accepted, so that scripts keep working, with a note to remove it."""
    parser.add_argument(
        option,
        action=_RemovedOption,
        nargs=None if takes_value else 0,
        dest=argparse.SUPPRESS,
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS,
    )


def print_diagnostics(diagnostics: Iterable[Diagnostic]) -> None:
    # one write per line would make 10,000 diagnostics slow on a terminal: join first
    text = "\n".join(map(str, diagnostics))
    if text:
        print(text, file=sys.stderr)


def load_or_report(content: str) -> Archive | None:
    """The archive, or None after printing every problem with it, then their count."""
    archive, diagnostics = load_archive(content)
    print_diagnostics(diagnostics)
    if archive is None:
        errors = sum(d.severity == "error" for d in diagnostics)
        warnings = len(diagnostics) - errors
        counted = f"{errors} problem{'s' if errors != 1 else ''}" + (
            f" and {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""
        )
        print(f"{content}: {counted} found — fix them and run `pprfeed check` again.", file=sys.stderr)
    return archive
