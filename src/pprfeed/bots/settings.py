"""The [bots] section of pprfeed.toml -> BotSettings.

    [bots]
    slack_command = "/ppr-topic"   # Slack reserves /topic (it sets the channel topic)
    discord_command = "topic"
    reload_seconds = 3             # how often the content folder is checked for changes
    cache_dir = ".pprfeed/cache"

Secrets never live here: tokens come from environment variables (see env_secret).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pprfeed.config import Settings, check_fields
from pprfeed.diagnostics import Diagnostic, Report, key_line

SLACK_COMMAND = re.compile(r"/[a-z0-9][a-z0-9_-]{0,30}")
DISCORD_COMMAND = re.compile(r"[a-z0-9_-]{1,32}")

BOT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "slack_command": str,
    "discord_command": str,
    "reload_seconds": (int, float),
    "cache_dir": str,
}


@dataclass(frozen=True)
class BotSettings:
    slack_command: str = "/ppr-topic"
    """Slack app commands named /topic never reach the app: Slack keeps that name for itself."""
    discord_command: str = "topic"
    reload_seconds: float = 3.0
    cache_dir: str | None = ".pprfeed/cache"
    """The loader's parse cache, so a (re)start with a big archive takes a fraction of a second."""


def load_bot_settings(settings: Settings) -> tuple[BotSettings | None, list[Diagnostic]]:
    """BotSettings from the [bots] table, or None with diagnostics naming the file, line and fix."""
    table = settings.raw.get("bots")
    if table is None:
        return BotSettings(), []
    file = settings.path or Path("pprfeed.toml")
    report = Report(file.parent)
    text = file.read_text(encoding="utf-8") if settings.path else ""
    values: dict[str, Any] = check_fields(table, BOT_FIELDS, "bots", text, file, report)
    if "slack_command" in values and not SLACK_COMMAND.fullmatch(values["slack_command"]):
        report.error(
            file,
            key_line(text, "slack_command"),
            f'slack_command "{values.pop("slack_command")}" is not a Slack command name',
            'write a slash, then up to 31 lowercase letters, digits, - or _, e.g. slack_command = "/ppr-topic"',
        )
    if values.get("slack_command") == "/topic":
        report.error(
            file,
            key_line(text, "slack_command"),
            "Slack reserves /topic (it sets the channel topic): commands with that name never reach the app",
            'choose another name, e.g. slack_command = "/ppr-topic"',
        )
        values.pop("slack_command")
    if "discord_command" in values and not DISCORD_COMMAND.fullmatch(values["discord_command"]):
        report.error(
            file,
            key_line(text, "discord_command"),
            f'discord_command "{values.pop("discord_command")}" is not a Discord command name',
            'write 1 to 32 lowercase letters, digits, - or _, without the slash, e.g. discord_command = "topic"',
        )
    if "reload_seconds" in values and (
        isinstance(values["reload_seconds"], bool) or not 0.1 <= values["reload_seconds"] <= 3600
    ):
        report.error(
            file,
            key_line(text, "reload_seconds"),
            f"reload_seconds = {values.pop('reload_seconds')} is out of range",
            "write a number of seconds from 0.1 to 3600, e.g. reload_seconds = 3",
        )
    if report.failed:
        return None, report.diagnostics
    if "reload_seconds" in values:
        values["reload_seconds"] = float(values["reload_seconds"])
    return BotSettings(**values), report.diagnostics


class MissingSecret(Exception):
    """A required environment variable is not set; the message names it and says where to find the value."""


def env_secret(name: str, where: str) -> str:
    """The value of environment variable `name`; never logged or printed."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise MissingSecret(f"environment variable {name} is not set: {where}")
    return value
