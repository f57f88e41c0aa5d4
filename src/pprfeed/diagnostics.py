"""Diagnostics: bad input as values that name the file, the line, what is wrong and how to fix it."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from dateutil import parser as date_parser

from .text import did_you_mean

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)")
_TOML_END = re.compile(r"\s*\(at end of document\)")


@dataclass(frozen=True)
class Diagnostic:
    path: str
    line: int | None
    message: str
    fix: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        label = "" if self.severity == "error" else f"{self.severity}: "
        return f"{where}: {label}{self.message} — {self.fix}"


@dataclass
class Report:
    root: Path
    diagnostics: list[Diagnostic] = field(default_factory=list)
    error_count: int = 0
    """Errors reported so far (kept as a count: summing over thousands of diagnostics per file is quadratic)."""

    def shown(self, path: Path) -> str:
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    def error(self, path: Path, line: int | None, message: str, fix: str) -> None:
        self.diagnostics.append(Diagnostic(self.shown(path), line, message, fix))
        self.error_count += 1

    def warning(self, path: Path, line: int | None, message: str, fix: str) -> None:
        self.diagnostics.append(Diagnostic(self.shown(path), line, message, fix, "warning"))

    @property
    def failed(self) -> bool:
        return self.error_count > 0


def read_text(path: Path, report: Report) -> str | None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        report.error(path, None, f"cannot be read ({exc.strerror})", "check the file's permissions")
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        report.error(
            path,
            line,
            f"is not UTF-8 (byte 0x{data[exc.start]:02x} cannot be decoded)",
            "save the file as UTF-8 in your editor",
        )
        return None
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


def parse_toml(text: str, path: Path, report: Report, first_line: int = 1) -> dict[str, Any] | None:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        position = _TOML_POSITION.search(message)
        if position:
            line: int | None = first_line + int(position.group(1)) - 1
        elif "at end of document" in message:  # an unclosed string or list: point at the last written line
            line = first_line + text.rstrip().count("\n")
        else:
            line = None
        what = _TOML_END.sub("", _TOML_POSITION.sub("", message)).rstrip(".")
        report.error(
            path,
            line,
            f"TOML syntax error: {what}",
            'fix the syntax (strings need "double quotes", lists ["a", "b"], one key = value per line)',
        )
        return None


_SIMPLE_STRING = r'"[^"\\\x00-\x08\x0a-\x1f\x7f]*"'
_SIMPLE_LINE = re.compile(
    rf"[ \t]*([A-Za-z0-9_-]+)[ \t]*=[ \t]*(?:({_SIMPLE_STRING})|\[[ \t]*((?:{_SIMPLE_STRING}[ \t]*,[ \t]*)*"
    rf"(?:{_SIMPLE_STRING}[ \t]*,?)?)[ \t]*\])[ \t]*"
)
_SIMPLE_ITEM = re.compile(_SIMPLE_STRING)


def parse_front_matter(text: str, path: Path, report: Report, first_line: int = 2) -> dict[str, Any] | None:
    """`parse_toml` for article front matter, with a fast path for the usual shape.

    Front matter is nearly always `key = "text"` and `key = ["a", "b"]` lines. Those
    (bare keys, strings without escapes or control characters, no comments) are read
    with one regular expression; anything else, and every error, goes to tomllib.
    The result is the same either way; the fast path makes a cold load of a large
    archive about a third quicker.
    """
    table: dict[str, Any] = {}
    for line in text.split("\n"):
        if not line.strip(" \t"):
            continue
        match = _SIMPLE_LINE.fullmatch(line)
        if match is None or match.group(1) in table:
            return parse_toml(text, path, report, first_line)
        key, single, items = match.groups()
        table[key] = single[1:-1] if single is not None else [item[1:-1] for item in _SIMPLE_ITEM.findall(items)]
    return table


def key_line(text: str, key: str, first_line: int = 1) -> int:
    """The line where `key = …` is written, for pointing at a value; the block's first line otherwise."""
    match = re.search(rf"^[ \t]*\"?{re.escape(key)}\"?[ \t]*=", text, re.M)
    return first_line + text[: match.start()].count("\n") if match else first_line


def unknown_keys(
    table: dict[str, Any], known: dict[str, str] | set[str], text: str, path: Path, report: Report, first_line: int = 1
) -> None:
    for key in table:
        if key in known:
            continue
        guess = did_you_mean(key, known)
        hint = f'did you mean "{guess}"?' if guess else f"known keys: {', '.join(sorted(known))}"
        report.error(path, key_line(text, key, first_line), f'unknown key "{key}"', f"{hint} Remove or rename it")


def as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return date_parser.isoparse(value.strip()).date()
        except (ValueError, OverflowError):
            return None
    return None
