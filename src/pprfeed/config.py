"""pprfeed.toml -> settings: [site], [state], [slack], [discord] and [bots], all parsed and checked here.

Every section has embedded defaults, so no file is needed to run. Secrets are
never read from the file: it names environment variables that hold them, and
their values are read here, checked, and kept out of every message (`Secrets`).
Problems come back as `Diagnostic`s naming the file, line and fix, found before
anything runs; `pprfeed check --config` reports all of them (`check_config`).

`load_settings` reads the file and checks [site]: all that `pprfeed build`
needs. `load_publish_settings` and `load_bot_settings` check the sections that
publishing and the bots use, when those commands run.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pprfeed.diagnostics import Diagnostic, Report, key_line, parse_toml, read_text
from pprfeed.model import Archive, Topic
from pprfeed.text import EMAIL, did_you_mean, normalize

DEFAULT_CONFIG = "pprfeed.toml"
KNOWN_SECTIONS = {"site", "state", "slack", "discord", "bots"}

DISCORD_WEBHOOK_URL = re.compile(
    r"discord(?:app)?\.com/api/(?:v\d+/)?webhooks/(?P<id>[0-9]{17,20})/(?P<token>[A-Za-z0-9._-]{60,})"
)
"""A Discord webhook URL (found with `search`); its `id` and `token` groups are what the API call needs."""


# --- the file, and [site] ------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteSettings:
    title: str = "PPRNet research digest"
    description: str = (
        "Monthly summaries of practice-oriented psychotherapy research, with practice implications for clinicians."
    )
    base_url: str = "http://localhost:8000/"
    """Where the built feeds/ folder is served from; every URL in the feeds starts with it."""
    language: str = "en"
    author: str = "Dr. Giorgio Tasca"
    author_email: str | None = None
    feed_limit: int = 50
    """How many entries each feed carries (newest first)."""
    templates: str | None = None
    """A folder of page templates that override the packaged ones of the same name (site/templates/)."""
    timezone: str = "UTC"
    """The IANA zone whose calendar decides which day it is, for `build` and `publish` alike."""
    websub_hub: str | None = None
    discord_invite: str | None = None
    """The Discord bot's invite link (bots/discord/README.md), offered on the front door when set."""
    """A WebSub hub the feeds name (`<link rel="hub">`) and `build` and `ping` notify of changes."""
    slack_install_url: str | None = None
    """The front door's "Add to Slack" link: GET /slack/install beside [slack] redirect_uri, when client_id is set."""

    def now(self, moment: datetime | None = None) -> datetime:
        """`moment` (default: the current time), in UTC, whole seconds."""
        moment = moment or datetime.now(UTC)
        return moment.astimezone(UTC).replace(microsecond=0)

    def today(self, moment: datetime | None = None) -> date:
        """The site's calendar day at `moment` (default: now): the one clock of `build` and `publish`."""
        return self.now(moment).astimezone(ZoneInfo(self.timezone)).date()


@dataclass(frozen=True)
class Settings:
    site: SiteSettings = field(default_factory=SiteSettings)
    path: Path | None = None
    """The file read, or None when running on the embedded defaults."""
    raw: dict[str, Any] = field(default_factory=dict)
    """Every section as read; `load_publish_settings` and `load_bot_settings` check theirs."""
    text: str = ""
    """The file's text, for pointing at the line of a value."""


SITE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "title": str,
    "description": str,
    "base_url": str,
    "language": str,
    "author": str,
    "author_email": str,
    "feed_limit": int,
    "templates": str,
    "timezone": str,
    "websub_hub": str,
    "discord_invite": str,
}


def load_settings(path: str | Path | None) -> tuple[Settings | None, list[Diagnostic]]:
    """Read `path` and check [site]; None reads ./pprfeed.toml when it exists, else the embedded defaults."""
    if path is None:
        if not Path(DEFAULT_CONFIG).is_file():
            return Settings(), []
        path = DEFAULT_CONFIG
    file = Path(path)
    report = Report()
    if not file.is_file():
        report.error(
            file,
            None,
            "config file not found",
            "pass --config pointing at a pprfeed.toml, or leave it out to use the defaults",
        )
        return None, report.diagnostics
    text = read_text(file, report)
    data = None if text is None else parse_toml(text, file, report)
    if data is None or text is None:
        return None, report.diagnostics
    for section in data:
        if section not in KNOWN_SECTIONS:
            guess = did_you_mean(section, KNOWN_SECTIONS)
            report.error(
                file,
                _section_line(text, section),
                f"unknown section [{section}]",
                (f"did you mean [{guess}]?" if guess else f"known sections: {', '.join(sorted(KNOWN_SECTIONS))}"),
            )
    site = _site(data.get("site", {}), text, file, report)
    install_url = slack_install_url(data.get("slack"))
    if install_url:
        site = replace(site, slack_install_url=install_url)
    if report.failed:
        return None, report.diagnostics
    return Settings(site=site, path=file, raw=data, text=text), report.diagnostics


def slack_install_url(slack: Any) -> str | None:
    """Where "Add to Slack" starts: the endpoint's /slack/install, known from [slack] redirect_uri (checked with
    the rest of [slack] by load_publish_settings), when client_id is set."""
    if not isinstance(slack, dict) or not slack.get("client_id"):
        return None
    redirect = slack.get("redirect_uri")
    if not isinstance(redirect, str) or not re.fullmatch(r"https://[^\s/]+/\S*/oauth_redirect", redirect):
        return None
    return redirect.removesuffix("oauth_redirect") + "install"


def check_config(settings: Settings, archive: Archive | None, environ: Mapping[str, str]) -> list[Diagnostic]:
    """Every problem `pprfeed publish` or the bots would stop on, sorted by file and line."""
    problems = load_publish_settings(settings, archive, environ)[1] + load_bot_settings(settings)[1]
    return sorted(problems, key=lambda d: (d.path, d.line or 0))


def _site(table: Any, text: str, file: Path, report: Report) -> SiteSettings:
    values = check_fields(table, SITE_FIELDS, "site", text, file, report)

    def refuse(key: str, problem: str, fix: str) -> None:
        """Report the value at its line and leave it out, so the default applies."""
        report.error(file, key_line(text, key), problem, fix)
        values.pop(key)

    if "base_url" in values:
        url = values["base_url"]
        scheme, rest = url.split(":", 1) if ":" in url else ("", url)
        if not re.fullmatch(r"https?", scheme, re.I) or not re.fullmatch(r"//[^\s/?#]+([/?#][^\s]*)?", rest):
            refuse(
                "base_url",
                f'base_url "{url}" is not an absolute http(s) URL',
                'write the address the feeds/ folder is served from, e.g. base_url = "https://example.org/pprnet/"',
            )
        elif "?" in rest or "#" in rest:  # every link is the base URL and a path: a query or fragment cuts them
            refuse(
                "base_url",
                f'base_url "{url}" has a query (?…) or a fragment (#…), which would end up inside every link',
                'write only the folder\'s address, e.g. base_url = "https://example.org/pprnet/"',
            )
        else:
            values["base_url"] = scheme.lower() + ":" + rest + ("" if rest.endswith("/") else "/")
    if "feed_limit" in values and values["feed_limit"] < 1:
        refuse("feed_limit", "feed_limit must be at least 1", "write feed_limit = 50")
    for key in ("title", "description", "author", "language"):  # every feed must carry them
        if key in values and not values[key].strip():
            refuse(key, f"[site] {key} is empty", f'write {key} = "…" or remove the line')
    email = values.get("author_email")
    if email is not None and not EMAIL.fullmatch(email):
        refuse(
            "author_email",
            f'author_email "{email}" is not an e-mail address',
            'write author_email = "editor@example.org" (RSS needs an address), or remove the line',
        )
    if "timezone" in values:
        try:
            ZoneInfo(values["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            refuse(
                "timezone",
                f'timezone "{values["timezone"]}" is not a time zone',
                'write an IANA name such as timezone = "America/Toronto", or remove the line (UTC)',
            )
    hub = values.get("websub_hub")
    if hub is not None and not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", hub):
        refuse(
            "websub_hub",
            f'websub_hub "{hub}" is not an http(s) URL',
            'write the hub\'s address, e.g. websub_hub = "https://pubsubhubbub.appspot.com/", or remove the line',
        )
    invite = values.get("discord_invite")
    if invite is not None and not re.fullmatch(
        r"https://(?:discord\.com|discordapp\.com)/(?:api/)?oauth2/authorize\?\S+", invite
    ):
        refuse(
            "discord_invite",
            "discord_invite is not a Discord invite link (https://discord.com/oauth2/authorize?client_id=…)",
            "copy the link from bots/discord/README.md with your Application ID, or remove the line",
        )
    if "templates" in values:  # relative to the settings file, as every path in it
        folder = file.parent / values["templates"]
        if not folder.is_dir():
            refuse("templates", f'templates folder "{folder}" not found', "create it or remove the line")
        else:
            values["templates"] = str(folder)
    return SiteSettings(**values)


# --- checking tables -----------------------------------------------------------------------------

_KINDS = {
    str: ("a string", '"…"'),
    int: ("an integer", "1"),
    float: ("a number", "1.5"),
    bool: ("true or false", "true"),
    list: ("a list", "[…]"),
    dict: ("a table", "{ … }"),
}


def _kind(expected: type | tuple[type, ...]) -> tuple[str, str]:
    """How a type reads in a message ("an integer"), and an example value of it."""
    kinds = expected if isinstance(expected, tuple) else (expected,)
    named = [_KINDS.get(kind, (f"a {kind.__name__}", "…")) for kind in kinds]
    return " or ".join(name for name, _ in named), named[0][1]


def _kind_of(value: Any) -> str:
    """What a value is, for a message that must not show it (it may be a secret pasted in the wrong place)."""
    if isinstance(value, bool):  # before int: True is an int too
        return _KINDS[bool][0]
    for kind, (name, _) in _KINDS.items():
        if isinstance(value, kind):
            return name
    return "a date or time" if hasattr(value, "isoformat") else "a value of another type"


def check_fields(
    table: Any,
    fields: dict[str, type | tuple[type, ...]],
    section: str,
    text: str,
    file: Path,
    report: Report,
) -> dict[str, Any]:
    """Type-check one table: unknown keys and wrong types become diagnostics; returns the good values.

    `text` is where the table's keys are looked for, to name their lines: the section's own block when the same
    key may appear in several sections."""
    if not isinstance(table, dict):
        report.error(
            file,
            _section_line(text, section),
            f"[{section}] must be a table",
            f"write it as a [{section}] section",
        )
        return {}
    good: dict[str, Any] = {}
    for key, value in table.items():
        line = key_line(text, key)
        if key not in fields:
            guess = did_you_mean(key, fields)
            report.error(
                file,
                line,
                f'unknown key "{key}" in [{section}]',
                f'did you mean "{guess}"?' if guess else f"known keys: {', '.join(sorted(fields))}",
            )
            continue
        expected = fields[key]
        if isinstance(value, bool) and expected is int or not isinstance(value, expected):
            kind, example = _kind(expected)
            report.error(
                file, line, f"[{section}] {key} must be {kind}, not {_kind_of(value)}", f"write {key} = {example}"
            )
            continue
        good[key] = value
    return good


def _section_line(text: str, section: str) -> int | None:
    match = re.search(rf"^\[+{re.escape(section)}[.\]]", text, re.M)
    return text[: match.start()].count("\n") + 1 if match else None


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


def _file_of(settings: Settings) -> tuple[Path, Report]:
    file = settings.path or Path(DEFAULT_CONFIG)
    return file, Report()


# --- [state], [slack], [discord]: where issues are published ---------------------------------------

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
    "subscribe": str,
    "client_id": str,
    "client_secret_env": str,
    "redirect_uri": str,
}
OAUTH_FIELDS = ("client_id", "client_secret_env", "redirect_uri")
"""[slack] only: the app's OAuth v2 install into any workspace (unset client_id: one workspace, SLACK_BOT_TOKEN)."""
SUBSCRIBE_MODES = ("anyone", "admins")
"""[slack] subscribe: who may run `/ppr subscribe` — any member, or only workspace admins and owners."""
CHANNEL_FIELDS: dict[str, type | tuple[type, ...]] = {"id": str, "topics": list, "backfill": int, "format": str}
WEBHOOK_FIELDS: dict[str, type | tuple[type, ...]] = {"url_env": str, "topics": list, "backfill": int, "format": str}
POST_FORMATS = ("digest", "full")
"""A target's `format`: the digest of each issue (the default), or the full text as well."""

_SLACK_CHANNEL = re.compile(r"[CGD][A-Z0-9]{6,}")
_DISCORD_SNOWFLAKE = re.compile(r"[0-9]{15,21}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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
    subscribe: str = "anyone"
    """One of SUBSCRIBE_MODES (Slack only: Discord servers choose in their integration settings)."""
    client_id: str = ""
    """[slack] client_id: set, any workspace installs the app (OAuth v2) and posts use that workspace's token."""
    client_secret_env: str = "SLACK_CLIENT_SECRET"
    redirect_uri: str = ""
    """The public HTTPS address of /slack/oauth_redirect; empty: the one set in the app's settings."""
    channel_tokens: Mapping[str, str] = field(default_factory=dict)
    """Channel id -> name of the secret holding its workspace's own bot token (installed workspaces)."""


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

    def target(self, key: str) -> Target | None:
        return next((target for target in self.targets if target.key == key), None)


def load_publish_settings(
    settings: Settings, archive: Archive | None, environ: Mapping[str, str], *, need_secrets: bool = True
) -> tuple[PublishSettings | None, list[Diagnostic]]:
    """The [state], [slack] and [discord] sections; with `need_secrets`, a missing environment variable is an
    error. Topic filters are checked against the archive's topics (not at all without an archive)."""
    file, report = _file_of(settings)
    text, raw = settings.text, settings.raw
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
        if not _ENV_NAME.fullmatch(token_env):
            # never shown: what is here instead of a name is most likely the token itself
            report.error(
                file,
                key_line(section, "token_env"),
                f"[{platform}] token_env is not the name of an environment variable (letters, digits and _)",
                f'write token_env = "{platform.upper()}_BOT_TOKEN" and export the token in that variable; a token '
                "pasted into the file is exposed: regenerate it",
            )
            token_env = ""
        api_base_url = table.get("api_base_url", api)
        _check_api_base_url(api_base_url, platform, api, file, key_line(section, "api_base_url"), report)
        subscribe = table.get("subscribe", "anyone")
        if "subscribe" in table and (platform != "slack" or subscribe not in SUBSCRIBE_MODES):
            report.error(
                file,
                key_line(section, "subscribe"),
                f'[{platform}] subscribe = "{subscribe}" is not a choice pprfeed knows',
                'write subscribe = "anyone" or subscribe = "admins" in [slack]'
                if platform == "slack"
                else "remove it: a Discord server chooses who may /subscribe in its integration settings",
            )
            subscribe = "anyone"
        oauth = {key: table[key] for key in OAUTH_FIELDS if key in table}
        for key in oauth if platform != "slack" else ():
            report.error(
                file,
                key_line(section, key),
                f"[{platform}] {key} is for Slack's install flow only",
                "remove it, or move it to [slack]",
            )
        secret_env = oauth.get("client_secret_env", "SLACK_CLIENT_SECRET")
        if not _ENV_NAME.fullmatch(secret_env):
            report.error(  # never shown: it is most likely the secret itself
                file,
                key_line(section, "client_secret_env"),
                "[slack] client_secret_env is not the name of an environment variable (letters, digits and _)",
                'write client_secret_env = "SLACK_CLIENT_SECRET" and export the client secret in that variable; '
                "a secret pasted into the file is exposed: regenerate it",
            )
            secret_env = "SLACK_CLIENT_SECRET"
        redirect_uri = oauth.get("redirect_uri", "")
        if redirect_uri and not re.fullmatch(r"https://[^\s/]+/\S*", redirect_uri):
            report.error(
                file,
                key_line(section, "redirect_uri"),
                "[slack] redirect_uri is not an https:// address",
                "write the public address of the install flow, e.g. redirect_uri = "
                '"https://pprfeed.example.org/slack/oauth_redirect" (Slack redirects only to HTTPS)',
            )
            redirect_uri = ""
        platforms[platform] = PlatformSettings(
            token_env=token_env,
            api_base_url=api_base_url,
            subscribe=subscribe,
            client_id=oauth.get("client_id", "") if platform == "slack" else "",
            client_secret_env=secret_env,
            redirect_uri=redirect_uri,
        )
        channels = _entries(table, "channels", platform, section, file, report)
        for index, entry in enumerate(channels):
            where = _entry_line(text, f"{platform}.channels", index)
            block = _block(text, where)
            values = check_fields(entry, CHANNEL_FIELDS, f"[{platform}.channels]", block, file, report)
            channel_id = values.get("id")
            if channel_id is None:
                report.error(file, where, f"[[{platform}.channels]] entry has no id", _channel_id_fix(platform))
                continue
            pattern = _SLACK_CHANNEL if platform == "slack" else _DISCORD_SNOWFLAKE
            if not pattern.fullmatch(channel_id):
                named = " (it is a channel's name)" if re.fullmatch(r"#[\w-]+", channel_id) else ""
                report.error(  # the value is not shown: a token or URL pasted here would be printed
                    file,
                    key_line(block, "id") if where else None,
                    f"[[{platform}.channels]] id is not a {platform.capitalize()} channel id{named}",
                    _channel_id_fix(platform),
                )
                continue
            options = _target_options(values, f"{platform}.channels", topics, block, file, report)
            targets.append(Target(platform, "channel", channel_id, *options))
        webhooks = _entries(table, "webhooks", platform, section, file, report)
        for index, entry in enumerate(webhooks):
            where = _entry_line(text, f"{platform}.webhooks", index)
            block = _block(text, where)
            values = check_fields(entry, WEBHOOK_FIELDS, f"[{platform}.webhooks]", block, file, report)
            name = values.get("url_env")
            if name is None or not _ENV_NAME.fullmatch(name):
                report.error(
                    file,
                    where,
                    f"[[{platform}.webhooks]] entry needs url_env, the name of an environment variable",
                    f'write url_env = "{platform.upper()}_WEBHOOK_TEAM" and export that variable with the webhook URL',
                )
                continue
            options = _target_options(values, f"{platform}.webhooks", topics, block, file, report)
            targets.append(Target(platform, "webhook", name, *options))
            line = key_line(block, "url_env") if where else None
            _read_secret(name, environ, secrets, report, file, line, need_secrets, platform, webhook=True)
        if token_env and channels and any(t.platform == platform and t.kind == "channel" for t in targets):
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
    for key, count in Counter(target.key for target in targets).items():
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
        ),
        diagnostics,
    )


def _check_api_base_url(url: str, platform: str, default: str, file: Path, line: int | None, report: Report) -> None:
    """Never shows the value: a URL may carry a password, and secrets never live in pprfeed.toml."""
    match = re.fullmatch(r"https?://([^\s/]+)(/\S*)?", url)
    if match is None:
        report.error(
            file,
            line,
            f"[{platform}] api_base_url is not an http(s) URL (https:// or http://, a host, a path; no spaces)",
            f"leave it out to use {default}, or write the full address of a proxy",
        )
    elif "@" in match.group(1):
        report.error(
            file,
            line,
            f"[{platform}] api_base_url carries a user name or password",
            "take them out of the URL: secrets never go in pprfeed.toml (a proxy needing them must be given them "
            "by other means)",
        )


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


def _target_options(
    values: dict[str, Any], section: str, topics: tuple[Topic, ...], block: str, file: Path, report: Report
) -> tuple[tuple[str, ...], int, str]:
    """A target's topic filter, backfill and format, each problem reported at its line in `block` (the entry's
    text, from `_block`)."""
    backfill = values.get("backfill", DEFAULT_BACKFILL)
    if backfill < 0:
        report.error(file, key_line(block, "backfill"), "backfill must be 0 or more", "write backfill = 1")
        backfill = DEFAULT_BACKFILL
    wanted: list[str] = []
    spellings = {normalize(s): t for t in topics for s in (t.slug, t.name, *t.aliases)}
    for spelling in values.get("topics", []):
        if not isinstance(spelling, str):
            report.error(file, key_line(block, "topics"), "topics must be a list of strings", 'topics = ["trauma"]')
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
                file, key_line(block, "topics"), f'[[{section}]] topic filter "{spelling}" names no known topic', hint
            )
            continue
        if topic.slug not in wanted:
            wanted.append(topic.slug)
    post_format = values.get("format", POST_FORMATS[0])
    if post_format not in POST_FORMATS:
        report.error(
            file,
            key_line(block, "format"),
            f'[[{section}]] format "{post_format}" is not one of {", ".join(POST_FORMATS)}',
            'write format = "digest" (a short digest of each issue, the default) or format = "full" (the full text '
            "too: in a thread under the digest on Slack bot channels, as further messages elsewhere)",
        )
        post_format = POST_FORMATS[0]
    return tuple(wanted), backfill, str(post_format)


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
        if platform == "discord":
            ok, shape = bool(DISCORD_WEBHOOK_URL.search(value)), "https://discord.com/api/webhooks/<id>/<token>"
        else:
            ok, shape = bool(re.match(r"https?://\S+$", value)), "https://hooks.slack.com/services/…"
        if not ok:
            # never show the value: it is a secret even when it is malformed
            report.error(file, line, f"environment variable {name} does not hold {what}", f"set it to {shape}")


# --- [bots] ---------------------------------------------------------------------------------------

SLACK_COMMAND = re.compile(r"/[a-z0-9][a-z0-9_-]{0,30}")
DISCORD_COMMAND = re.compile(r"[a-z0-9_-]{1,32}")

BOT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "slack_command": str,
    "discord_command": str,
    "reload_seconds": (int, float),
}
REMOVED_BOT_FIELDS = {"cache_dir": "the bots read the content folder afresh whenever it changes"}
"""Keys earlier versions read: accepted with a warning, so an upgrade does not stop a bot."""


@dataclass(frozen=True)
class BotSettings:
    """The [bots] section; `reload_seconds` is how often the content folder is checked for changes."""

    slack_command: str = "/ppr-topic"
    """Slack app commands named /topic never reach the app: Slack keeps that name for itself."""
    discord_command: str = "topic"
    reload_seconds: float = 3.0


def load_bot_settings(settings: Settings) -> tuple[BotSettings | None, list[Diagnostic]]:
    """BotSettings from the [bots] table, or None with diagnostics naming the file, line and fix."""
    table = settings.raw.get("bots")
    if table is None:
        return BotSettings(), []
    file, report = _file_of(settings)
    text = _section(settings.text, "bots")
    if isinstance(table, dict):
        table = dict(table)
        for key, why in REMOVED_BOT_FIELDS.items():
            if key in table:
                del table[key]
                report.warning(file, key_line(text, key), f"[bots] {key} is no longer used", f"remove it ({why})")
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
