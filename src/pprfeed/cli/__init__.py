"""`pprfeed` command line: argument parsing and printing, no logic of its own.

Each area registers its subcommands from a module of its own (cli/archive.py,
…), so the parser is assembled here and nowhere else.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from pprfeed import __version__
from pprfeed.cli import archive
from pprfeed.cli import bots as bots_cli
from pprfeed.cli import feeds as feeds_cli
from pprfeed.cli import publish as publish_cli
from pprfeed.cli import subscriptions as subscriptions_cli
from pprfeed.cli.common import UsageError

REGISTRARS = [archive.register, feeds_cli.register, publish_cli.register, subscriptions_cli.register, bots_cli.register]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pprfeed",
        description="Publish the PPRNet research digest: check the archive, build feeds, post to chat, run bots.",
    )
    parser.add_argument("--version", action="version", version=f"pprfeed {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and details to stderr")
    parser.add_argument("--debug", action="store_true", help="show a Python traceback on internal errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in REGISTRARS:
        register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("markdown_it").setLevel(logging.INFO)  # its DEBUG lines would drown ours under --debug
    try:
        return int(args.handler(args) or 0)
    except UsageError as exc:
        print(f"pprfeed {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("pprfeed: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - the last line of defence: never a traceback
        from pprfeed.archive.search import SearchUnavailable  # here: every command would pay for importing it

        if isinstance(exc, SearchUnavailable):  # this Python's SQLite lacks FTS5: the message says what to install
            print(f"pprfeed {args.command}: {exc}", file=sys.stderr)
            return 1
        if args.debug:
            raise
        print(
            f"pprfeed {args.command}: internal error ({type(exc).__name__}: {exc}). "
            "This is a bug in pprfeed; run again with --debug and report the output.",
            file=sys.stderr,
        )
        return 70


def run() -> NoReturn:
    """The `pprfeed` console script."""
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (`pprfeed topic | head -1`): no complaint at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    raise SystemExit(code)
