"""`pprfeed subscriptions` and `pprfeed state backup`: the channels that subscribed themselves, and a copy of it all."""

from __future__ import annotations

import argparse
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from pprfeed.cli.common import UsageError, add_config_option, print_diagnostics
from pprfeed.config import load_publish_settings, load_settings
from pprfeed.text import plural

if TYPE_CHECKING:
    from pprfeed.state import State


def register(commands: argparse._SubParsersAction) -> None:
    subscriptions = commands.add_parser(
        "subscriptions",
        help="list the channels subscribed from Slack or Discord, or remove one",
        description="Every subscription made with /ppr subscribe (Slack) or /subscribe (Discord): the workspace or "
        "server, the channel, its topics, since when, and whether it is active or paused (and why).",
    )
    subscriptions.add_argument("--remove", type=int, metavar="ID", help="remove the subscription with this id")
    add_config_option(subscriptions)
    subscriptions.set_defaults(handler=run_subscriptions)

    state = commands.add_parser(
        "state",
        help="the [state] file: subscriptions and the delivery ledger",
        description="Operations on the [state] SQLite file.",
    )
    actions = state.add_subparsers(dest="state_command", metavar="ACTION", required=True, help="backup")
    backup = actions.add_parser(
        "backup",
        help="write a consistent copy of the state file (safe while bots and publish write to it)",
        description="Copy the state file with SQLite's online backup API: a consistent snapshot even while the bots "
        "and `pprfeed publish` are writing. The copy is readable only by you (mode 0600).",
    )
    backup.add_argument("file", metavar="FILE", help="where to write the copy (replaced if it exists)")
    add_config_option(backup)
    backup.set_defaults(handler=run_backup)


def _state_path(args: argparse.Namespace) -> Path:
    settings, diagnostics = load_settings(args.config)
    print_diagnostics(diagnostics)
    if settings is None:
        raise UsageError("fix the settings file and try again")
    publishing, diagnostics = load_publish_settings(settings, None, os.environ, need_secrets=False)
    print_diagnostics(diagnostics)
    if publishing is None:
        raise UsageError("fix the configuration (above) and try again")
    return publishing.state_path


def _open(path: Path) -> State:
    from pprfeed.state import State  # here: the other commands need not import its encryption

    try:
        return State(path)
    except (OSError, sqlite3.Error) as exc:
        raise UsageError(
            f"the state file {path} cannot be opened ({exc}); set [state] path to a file in a folder you may write"
        ) from None


def run_subscriptions(args: argparse.Namespace) -> int:
    path = _state_path(args)
    if not path.is_file():
        if args.remove is not None:
            raise UsageError(f"no subscription {args.remove}: there is no state file {path} yet")
        print("No subscriptions yet (no channel has used /ppr subscribe or /subscribe).")
        return 0
    with _open(path) as state:
        if args.remove is not None:
            removed = state.remove(args.remove)
            if removed is None:
                raise UsageError(f"no subscription {args.remove} (`pprfeed subscriptions` lists their ids)")
            print(f"removed subscription {removed.id}: {removed.target.key} in {removed.workspace}")
            return 0
        subscriptions = state.subscriptions()
    if not subscriptions:
        print("No subscriptions yet (no channel has used /ppr subscribe or /subscribe).")
        return 0
    print(f"{'ID':>4}  {'PLATFORM':<8} {'WORKSPACE':<20} {'CHANNEL':<20} {'SINCE':<10}  TOPICS / STATE")
    for s in subscriptions:
        topics = ", ".join(s.topics) or "every article"
        print(f"{s.id:>4}  {s.platform:<8} {s.workspace:<20} {s.channel:<20} {s.since[:10]:<10}  {topics}; {s.state}")
    paused = sum(s.paused is not None for s in subscriptions)
    print(f"\n{plural(len(subscriptions), 'subscription')}, {paused} paused.")
    return 0


def run_backup(args: argparse.Namespace) -> int:
    path = _state_path(args)
    if not path.is_file():
        raise UsageError(f"there is no state file {path} to back up yet")
    target = Path(args.file)
    if target.resolve() == path.resolve():
        raise UsageError("the backup must be another file than the state file itself")
    with _open(path) as state:
        try:
            state.backup(target)
        except (OSError, sqlite3.Error) as exc:
            raise UsageError(f"cannot write {target} ({exc}); choose a file in a folder you may write") from None
    print(f"wrote a consistent copy of {path} to {target}")
    return 0
