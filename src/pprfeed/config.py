"""pprfeed.toml -> Settings.

Every section has embedded defaults, so no file is needed to run. Secrets are
never read from the file: it names environment variables that hold them.
Problems come back as `Diagnostic`s naming the file, line and fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pprfeed.diagnostics import Diagnostic, Report, key_line, parse_toml, read_text, toml_value
from pprfeed.text import EMAIL, did_you_mean

DEFAULT_CONFIG = "pprfeed.toml"


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


@dataclass(frozen=True)
class Settings:
    site: SiteSettings = field(default_factory=SiteSettings)
    path: Path | None = None
    """The file read, or None when running on the embedded defaults."""
    raw: dict[str, Any] = field(default_factory=dict)
    """Every section as read, for modules that parse their own (publishing, bots)."""


SITE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "title": str,
    "description": str,
    "base_url": str,
    "language": str,
    "author": str,
    "author_email": str,
    "feed_limit": int,
    "templates": str,
}
KNOWN_SECTIONS = {"site", "state", "slack", "discord", "bots"}


def load_settings(path: str | Path | None) -> tuple[Settings | None, list[Diagnostic]]:
    """Read `path`; None reads ./pprfeed.toml when it exists, else the embedded defaults."""
    if path is None:
        if not Path(DEFAULT_CONFIG).is_file():
            return Settings(), []
        path = DEFAULT_CONFIG
    file = Path(path)
    report = Report(file.parent)
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
    if report.failed:
        return None, report.diagnostics
    return Settings(site=site, path=file, raw=data), report.diagnostics


def _section_line(text: str, section: str, first_line: int = 1) -> int | None:
    match = re.search(rf"^\[+{re.escape(section)}[.\]]", text, re.M)
    return text[: match.start()].count("\n") + first_line if match else None


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


def check_fields(
    table: Any,
    fields: dict[str, type | tuple[type, ...]],
    section: str,
    text: str,
    file: Path,
    report: Report,
    first_line: int = 1,
) -> dict[str, Any]:
    """Type-check one table: unknown keys and wrong types become diagnostics; returns the good values.

    `text` is where the table's keys are looked for, to name their lines: the section's own block when the same
    key may appear in several sections, starting at line `first_line` of the file."""
    if not isinstance(table, dict):
        report.error(
            file,
            _section_line(text, section, first_line),
            f"[{section}] must be a table",
            f"write it as a [{section}] section",
        )
        return {}
    good: dict[str, Any] = {}
    for key, value in table.items():
        line = key_line(text, key, first_line)
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
                file, line, f"[{section}] {key} must be {kind}, not {toml_value(value)}", f"write {key} = {example}"
            )
            continue
        good[key] = value
    return good


def _site(table: Any, text: str, file: Path, report: Report) -> SiteSettings:
    values = check_fields(table, SITE_FIELDS, "site", text, file, report)
    if "base_url" in values:
        url = values["base_url"]
        if not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", url):
            report.error(
                file,
                key_line(text, "base_url"),
                f'base_url "{url}" is not an absolute http(s) URL',
                'write the address the feeds/ folder is served from, e.g. base_url = "https://example.org/pprnet/"',
            )
            values.pop("base_url")
        elif not url.endswith("/"):
            values["base_url"] = url + "/"
    if "feed_limit" in values and values["feed_limit"] < 1:
        report.error(file, key_line(text, "feed_limit"), "feed_limit must be at least 1", "write feed_limit = 50")
        values.pop("feed_limit")
    for key in ("title", "description", "author", "language"):  # every feed must carry them
        if key in values and not values[key].strip():
            report.error(file, key_line(text, key), f"[site] {key} is empty", f'write {key} = "…" or remove the line')
            values.pop(key)
    email = values.get("author_email")
    if email is not None and not EMAIL.fullmatch(email):
        report.error(
            file,
            key_line(text, "author_email"),
            f'author_email "{email}" is not an e-mail address',
            'write author_email = "editor@example.org" (RSS needs an address), or remove the line',
        )
        values.pop("author_email")
    if "templates" in values:  # relative to the settings file, as every path in it
        folder = file.parent / values["templates"]
        if not folder.is_dir():
            report.error(
                file,
                key_line(text, "templates"),
                f'templates folder "{folder}" not found',
                "create it or remove the line",
            )
            values.pop("templates")
        else:
            values["templates"] = str(folder)
    return SiteSettings(**values)
