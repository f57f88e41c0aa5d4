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

    def shown(self, path: Path) -> str:
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    def error(self, path: Path, line: int | None, message: str, fix: str) -> None:
        self.diagnostics.append(Diagnostic(self.shown(path), line, message, fix))

    def warning(self, path: Path, line: int | None, message: str, fix: str) -> None:
        self.diagnostics.append(Diagnostic(self.shown(path), line, message, fix, "warning"))

    @property
    def failed(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)


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
        line = first_line + int(position.group(1)) - 1 if position else None
        what = _TOML_POSITION.sub("", message).rstrip(".")
        report.error(
            path,
            line,
            f"TOML syntax error: {what}",
            'fix the syntax (strings need "double quotes", lists ["a", "b"], one key = value per line)',
        )
        return None


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
