"""The [state], [slack] and [discord] sections of pprfeed.toml -> where to publish.

Secrets never live in the file: it names environment variables, and their
values are read here, checked, and kept out of every message (`Secrets`).
Every problem is a Diagnostic naming the file, line and fix, found before
anything is sent; `pprfeed check --config` reports the same ones.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pprfeed.config import Settings, check_fields
from pprfeed.diagnostics import Diagnostic, Report, key_line
from pprfeed.model import Archive, Topic
from pprfeed.text import did_you_mean, normalize

DEFAULT_STATE_PATH = ".pprfeed/state.sqlite3"
SLACK_API = "https://slack.com/api/"
DISCORD_API = "https://discord.com/api/v10"
DEFAULT_BACKFILL = 1

STATE_FIELDS: dict[str, type | tuple[type, ...]] = {"path": str}
PLATFORM_FIELDS: dict[str, type | tuple[type, ...]] = {
    "token_env": str,
    "api_base_url": str,
    "channels": list,
    "webhooks": list,
}
CHANNEL_FIELDS: dict[str, type | tuple[type, ...]] = {"id": str, "topics": list, "backfill": int, "format": str}
WEBHOOK_FIELDS: dict[str, type | tuple[type, ...]] = {"url_env": str, "topics": list, "backfill": int, "format": str}
POST_FORMATS = ("digest", "full")
"""A target's `format`: the digest of each issue (the default), or the full text as well."""

_SLACK_CHANNEL = re.compile(r"[CGD][A-Z0-9]{6,}")
_DISCORD_SNOWFLAKE = re.compile(r"[0-9]{15,21}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DISCORD_WEBHOOK = re.compile(r"discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9.\-_]{60,}")


@dataclass(frozen=True)
class Target:
    """One place an issue is posted to. `key` is stable and secret-free: it names the target in the ledger."""

    platform: str
    """"slack" or "discord"."""
    kind: str
    """"channel" (bot token) or "webhook"."""
    address: str
    """The channel id, or the name of the environment variable holding the webhook URL."""
    topics: tuple[str, ...] = ()
    """Topic slugs; empty means every article."""
    backfill: int = DEFAULT_BACKFILL
    format: str = "digest"
    """One of POST_FORMATS; applies to issues posted from now on (the ledger keeps each post's own)."""

    @property
    def key(self) -> str:
        return (
            f"{self.platform}:{self.address}" if self.kind == "channel" else f"{self.platform}-webhook:{self.address}"
        )

    def wants(self, topics: tuple[str, ...]) -> bool:
        return not self.topics or any(slug in self.topics for slug in topics)


@dataclass(frozen=True)
class PlatformSettings:
    token_env: str
    api_base_url: str


@dataclass
class Secrets:
    """Secret values by environment-variable name; `redact` removes every one of them from a text."""

    values: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str:
        return self.values[name]

    def redact(self, text: str) -> str:
        for name, value in self.values.items():
            for fragment in _secret_fragments(value):
                text = text.replace(fragment, f"[{name}]")
        return text


def _secret_fragments(value: str) -> list[str]:
    """The value, and for a webhook URL also its path and long path segments: SDKs log the request URL they
    build (discord.py puts the webhook token after the API base, not after discord.com), so the token must
    be recognised on its own. Longest first, so a fragment never hides inside a replacement."""
    if not value:
        return []
    fragments = {value}
    match = re.match(r"https?://[^/\s]+/(\S+)", value)
    if match:
        path = match.group(1).split("?", 1)[0]
        fragments.add(path)
        fragments.update(segment for segment in path.split("/") if len(segment) >= 16)
    return sorted(fragments, key=len, reverse=True)


@dataclass(frozen=True)
class PublishSettings:
    state_path: Path
    slack: PlatformSettings
    discord: PlatformSettings
    targets: tuple[Target, ...]
    secrets: Secrets
    config_path: Path | None = None

    def target(self, key: str) -> Target | None:
        return next((target for target in self.targets if target.key == key), None)


def load_publish_settings(
    settings: Settings, archive: Archive | None, environ: Mapping[str, str], *, need_secrets: bool = True
) -> tuple[PublishSettings | None, list[Diagnostic]]:
    """Parse the publishing sections; with `need_secrets`, a missing environment variable is an error."""
    file = settings.path or Path("pprfeed.toml")
    text = file.read_text(encoding="utf-8") if settings.path and settings.path.is_file() else ""
    report = Report(file.parent)
    raw = settings.raw
    state = check_fields(raw.get("state", {}), STATE_FIELDS, "state", _section(text, "state"), file, report)
    state_path = Path(state.get("path", DEFAULT_STATE_PATH))
    if settings.path and not state_path.is_absolute() and "path" in state:
        state_path = settings.path.parent / state_path
    if state_path.exists() and not state_path.is_file():
        report.error(
            file,
            key_line(_section(text, "state"), "path") if "path" in state else None,
            f"[state] path {state_path} is a folder, not a file",
            'name the ledger file itself, e.g. path = ".pprfeed/state.sqlite3"',
        )
    topics = archive.topics if archive else ()
    secrets = Secrets()
    targets: list[Target] = []
    platforms = {}
    for platform, api in (("slack", SLACK_API), ("discord", DISCORD_API)):
        # each section's keys are looked for in its own block: [slack] and [discord] share key names
        section = _section(text, platform)
        table = check_fields(raw.get(platform, {}), PLATFORM_FIELDS, platform, section, file, report)
        token_env = table.get("token_env", f"{platform.upper()}_BOT_TOKEN")
        api_base_url = table.get("api_base_url", api)
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", api_base_url):
            report.error(
                file,
                key_line(section, "api_base_url"),
                f'[{platform}] api_base_url "{api_base_url}" is not an http(s) URL',
                f"leave it out to use {api}, or write the full address of a proxy",
            )
        platforms[platform] = PlatformSettings(token_env=token_env, api_base_url=api_base_url)
        channels = _entries(table, "channels", platform, section, file, report)
        for index, entry in enumerate(channels):
            where = _entry_line(text, f"{platform}.channels", index)
            values = check_fields(entry, CHANNEL_FIELDS, f"[{platform}.channels]", _block(text, where), file, report)
            channel_id = values.get("id")
            if channel_id is None:
                report.error(file, where, f"[[{platform}.channels]] entry has no id", _channel_id_fix(platform))
                continue
            pattern = _SLACK_CHANNEL if platform == "slack" else _DISCORD_SNOWFLAKE
            if not pattern.fullmatch(channel_id):
                report.error(
                    file,
                    key_line(_block(text, where), "id") if where else None,
                    f'[[{platform}.channels]] id "{channel_id}" is not a channel id',
                    _channel_id_fix(platform),
                )
                continue
            filters = _filters(values, f"{platform}.channels", topics, text, where, file, report)
            post_format = _post_format(values, f"{platform}.channels", text, where, file, report)
            targets.append(Target(platform, "channel", channel_id, *filters, format=post_format))
        webhooks = _entries(table, "webhooks", platform, section, file, report)
        for index, entry in enumerate(webhooks):
            where = _entry_line(text, f"{platform}.webhooks", index)
            values = check_fields(entry, WEBHOOK_FIELDS, f"[{platform}.webhooks]", _block(text, where), file, report)
            name = values.get("url_env")
            if name is None or not _ENV_NAME.fullmatch(name):
                report.error(
                    file,
                    where,
                    f"[[{platform}.webhooks]] entry needs url_env, the name of an environment variable",
                    f'write url_env = "{platform.upper()}_WEBHOOK_TEAM" and export that variable with the webhook URL',
                )
                continue
            filters = _filters(values, f"{platform}.webhooks", topics, text, where, file, report)
            post_format = _post_format(values, f"{platform}.webhooks", text, where, file, report)
            targets.append(Target(platform, "webhook", name, *filters, format=post_format))
            line = key_line(_block(text, where), "url_env") if where else None
            _read_secret(name, environ, secrets, report, file, line, need_secrets, platform, webhook=True)
        if channels and any(t.platform == platform and t.kind == "channel" for t in targets):
            _read_secret(
                token_env,
                environ,
                secrets,
                report,
                file,
                _token_line(text, platform),
                need_secrets,
                platform,
                webhook=False,
            )
    seen: dict[str, int] = {}
    for target in targets:
        seen[target.key] = seen.get(target.key, 0) + 1
    for key, count in seen.items():
        if count > 1:
            report.error(file, None, f"target {key} is configured {count} times", "list each channel or webhook once")
    diagnostics = sorted(report.diagnostics, key=lambda d: d.line or 0)
    if report.failed:
        return None, diagnostics
    return (
        PublishSettings(
            state_path=state_path,
            slack=platforms["slack"],
            discord=platforms["discord"],
            targets=tuple(targets),
            secrets=secrets,
            config_path=settings.path,
        ),
        diagnostics,
    )


def check_publish_config(settings: Settings, archive: Archive | None, environ: Mapping[str, str]) -> list[Diagnostic]:
    """What `pprfeed check --config` reports about publishing: the same problems `pprfeed publish` would stop on."""
    return load_publish_settings(settings, archive, environ)[1]


def _entries(table: dict[str, Any], name: str, platform: str, text: str, file: Path, report: Report) -> list[Any]:
    entries = table.get(name, [])
    if not all(isinstance(entry, dict) for entry in entries):
        report.error(
            file,
            key_line(text, name),
            f"[{platform}] {name} must be a list of tables",
            f"write each one as its own [[{platform}.{name}]] block",
        )
        return []
    return list(entries)


def _entry_line(text: str, header: str, index: int) -> int | None:
    matches = list(re.finditer(rf"^[ \t]*\[\[[ \t]*{re.escape(header)}[ \t]*\]\]", text, re.M))
    if index < len(matches):
        return text[: matches[index].start()].count("\n") + 1
    return None


def _section(text: str, name: str) -> str:
    """The [name] section's own lines (the rest blanked, so line numbers stay those of the file), or all of
    `text` when there is no such header (an inline table, or no file)."""
    match = re.search(rf"^[ \t]*\[[ \t]*{re.escape(name)}[ \t]*\]", text, re.M)
    return _block(text, text[: match.start()].count("\n") + 1) if match else text


def _block(text: str, line: int | None) -> str:
    """The text from `line` on, so key_line finds this entry's keys (line numbers are fixed up by the caller)."""
    if line is None:
        return text
    lines = text.split("\n")
    end = next((i for i in range(line, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    return "\n" * (line - 1) + "\n".join(lines[line - 1 : end])


def _token_line(text: str, platform: str) -> int | None:
    """Where [platform] token_env is written, else the [platform] header, else None (no file, or no section)."""
    match = re.search(rf"^[ \t]*\[[ \t]*{platform}[ \t]*\]", text, re.M)
    if match is None:
        return None
    line = text[: match.start()].count("\n") + 1
    block = _block(text, line)
    found = re.search(r"^[ \t]*token_env[ \t]*=", block, re.M)
    return block[: found.start()].count("\n") + 1 if found else line


def _channel_id_fix(platform: str) -> str:
    if platform == "slack":
        return 'write the channel id, e.g. id = "C0123456789" (in Slack: channel details → bottom of the About tab)'
    return (
        'write the channel id, e.g. id = "123456789012345678" (Discord: enable Developer Mode, right-click → Copy ID)'
    )


def _filters(
    values: dict[str, Any],
    section: str,
    topics: tuple[Topic, ...],
    text: str,
    where: int | None,
    file: Path,
    report: Report,
) -> tuple[tuple[str, ...], int]:
    backfill = values.get("backfill", DEFAULT_BACKFILL)
    if backfill < 0:
        report.error(
            file, key_line(_block(text, where), "backfill"), "backfill must be 0 or more", "write backfill = 1"
        )
        backfill = DEFAULT_BACKFILL
    wanted: list[str] = []
    spellings = {normalize(s): t for t in topics for s in (t.slug, t.name, *t.aliases)}
    for spelling in values.get("topics", []):
        if not isinstance(spelling, str):
            report.error(
                file, key_line(_block(text, where), "topics"), "topics must be a list of strings", 'topics = ["trauma"]'
            )
            continue
        topic = spellings.get(normalize(spelling))
        if topic is None:
            if not topics:
                continue  # no archive to check against (it is reported on its own)
            guess = did_you_mean(spelling, [s for t in topics for s in (t.slug, t.name, *t.aliases)], cutoff=0.5)
            hint = (
                f'did you mean "{spellings[normalize(guess)].slug}"?' if guess else "run `pprfeed topic` to list them"
            )
            report.error(
                file,
                key_line(_block(text, where), "topics"),
                f'[[{section}]] topic filter "{spelling}" names no known topic',
                hint,
            )
            continue
        if topic.slug not in wanted:
            wanted.append(topic.slug)
    return tuple(wanted), backfill


def _post_format(values: dict[str, Any], section: str, text: str, where: int | None, file: Path, report: Report) -> str:
    """A target's `format` (default "digest"); anything else is reported with the line it is on."""
    value = values.get("format", POST_FORMATS[0])
    if value not in POST_FORMATS:
        report.error(
            file,
            key_line(_block(text, where), "format"),
            f'[[{section}]] format "{value}" is not one of {", ".join(POST_FORMATS)}',
            'write format = "digest" (a short digest of each issue, the default) or format = "full" (the full text '
            "too: in a thread under the digest on Slack bot channels, as further messages elsewhere)",
        )
        return POST_FORMATS[0]
    return str(value)


def _read_secret(
    name: str,
    environ: Mapping[str, str],
    secrets: Secrets,
    report: Report,
    file: Path,
    line: int | None,
    need_secrets: bool,
    platform: str,
    *,
    webhook: bool,
) -> None:
    value = environ.get(name, "").strip()
    what = f"the {platform.capitalize()} webhook URL" if webhook else f"the {platform.capitalize()} bot token"
    if not value:
        if need_secrets:
            report.error(
                file,
                line,
                f"environment variable {name} is not set; it must hold {what}",
                f"export {name}=… before running (or remove the {platform} target that needs it)",
            )
        return
    secrets.values[name] = value
    if webhook:
        ok = bool(_DISCORD_WEBHOOK.search(value)) if platform == "discord" else bool(re.match(r"https?://\S+$", value))
        if not ok:
            shape = (
                "https://discord.com/api/webhooks/<id>/<token>"
                if platform == "discord"
                else "https://hooks.slack.com/services/…"
            )
            # never show the value: it is a secret even when it is malformed
            report.error(file, line, f"environment variable {name} does not hold {what}", f"set it to {shape}")


class RedactingFilter(logging.Filter):
    """Installed on the log handlers while publishing: no token or webhook URL reaches a log line."""

    def __init__(self, secrets: Secrets) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg = self.secrets.redact(message)
        record.args = ()
        return True
