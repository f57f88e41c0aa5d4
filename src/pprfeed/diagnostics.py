"""Diagnostics: bad input as values that name the file, the line, what is wrong and how to fix it."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

# tomli is the standard library's tomllib published on its own, but compiled: every article is TOML, and
# it reads them several times faster (on a platform without its wheel it is the same pure Python)
import tomli as tomllib

from pprfeed.text import did_you_mean

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)")
_KEY_START = re.compile(r"[ \t]*[A-Za-z0-9_-]+[ \t]*=")
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
    """The diagnostics of one check, each naming its file as given or, inside the working folder, relative to it."""

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


TEXT_LIMIT = 1_000_000
"""The largest TOML file read (topics.toml, issue.toml, pprfeed.toml): hundreds of times a real one."""


def read_text(path: Path, report: Report, limit: int = TEXT_LIMIT) -> str | None:
    """The file's text (BOM dropped, CRLF as LF), or None after reporting why it cannot be had.

    Only a regular file of at most `limit` bytes is read: a pipe would block the read forever and a
    link to a device could be endless.
    """
    data = _read_bounded(path, report, limit)
    if data is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        report.error(
            path,
            line,
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} on this line is not UTF-8)",
            "save the file as UTF-8 in your editor (often: Save As… > Encoding > UTF-8)",
        )
        return None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    controls = list(_CONTROL.finditer(text))
    for match in controls[:5]:
        report.error(
            path,
            text.count("\n", 0, match.start()) + 1,
            f"invisible control character U+{ord(match.group()):04X} on this line",
            "delete it (it often comes with text pasted from a PDF or a word processor); feeds cannot carry it",
        )
    return None if controls else text


def _read_bounded(path: Path, report: Report, limit: int) -> bytes | None:
    try:
        # non-blocking, so that opening a pipe returns at once; fstat then tells what was opened
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        report.error(
            path,
            None,
            f"the file cannot be read ({exc.strerror or exc})",
            "check that it exists and that you may read it (file permissions)",
        )
        return None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            report.error(path, None, "not a regular file", "replace it with an ordinary text file, or remove it")
            return None
        try:
            # no more than the file holds: reading `limit` bytes would set aside a megabyte for every article
            data = file.read(min(info.st_size, limit) + 1)
        except OSError as exc:
            report.error(path, None, f"the file cannot be read ({exc.strerror or exc})", "check the file")
            return None
    if len(data) > limit:
        report.error(
            path,
            None,
            f"the file is larger than {limit // 1000:,} KB",
            "no content or settings file is this long: split it, or check that it is the file you meant",
        )
        return None
    return data


# What XML 1.0, and so every feed, cannot carry; tab and newline are fine, carriage returns are read above.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\r\x7f-\x9f\ufffe\uffff]")
# Invisible characters that reorder or hide text: a title can look like one thing and be another.
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")

_TOML_SYNTAX = 'strings need "double quotes", lists ["a", "b"], dates 2018-11-05, one key = value per line'
_TOML_HINTS = (
    ("Unterminated string", 'close the text with a " on the same line (use """ … """ for text over several lines)'),
    ("Illegal character '\\n'", 'close the text with a " on the same line (use """ … """ for text over several lines)'),
    ("Unclosed array", 'close the list with ] on the line where it ends, e.g. topics = ["alliance", "cbt"]'),
    ("Invalid value", 'a value is "text in double quotes", a number, true or false, a date or a list ["a", "b"]'),
    ("Cannot overwrite a value", "a key is written twice: keep one of the two lines"),
    ("Cannot declare", "a table is written twice: keep one"),
    ("Expected '=' after a key", 'write one key = value per line, e.g. title = "…"'),
    ("Invalid initial character for a key", 'write one key = value per line, e.g. title = "…"'),
    ("Unescaped '\\'", "write a backslash as \\\\ inside \"…\", or use 'single quotes'"),
    ("Invalid date", "write dates as YYYY-MM-DD, e.g. 2018-11-05"),
)


def parse_toml(text: str, path: Path, report: Report, first_line: int = 1) -> dict[str, Any] | None:
    """The TOML table, or None after reporting the syntax error at its line in the file.

    `first_line` is the file line that `text` starts on (2 for an article's front matter).
    """
    try:
        data = tomllib.loads(text)
    except RecursionError:
        report.error(
            path,
            None,
            "TOML nested too deeply to read (lists or tables inside one another, thousands deep)",
            "write the values flat: no setting nests more than two levels",
        )
        return None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        position = _TOML_POSITION.search(message)
        lines = text.split("\n")
        if position:
            index = int(position.group(1)) - 1
        elif "at end of document" in message:  # an unclosed string or list: point at the last written line
            index = len(text.rstrip().split("\n")) - 1
        else:
            index = -1
        if message.startswith("Invalid value") and 0 <= index < len(lines) and _KEY_START.match(lines[index]):
            # `topics = ["a",` then the next key: the list was never closed
            opened = next((i for i in range(index - 1, -1, -1) if "[" in lines[i]), None)
            if opened is not None and "]" not in lines[opened][lines[opened].rindex("[") :]:
                message, index = "Unclosed array", opened
        if message.startswith("Unclosed array"):
            # tomllib notices on the line after the list; the editor must look where the list was opened
            index = next((i for i in range(min(index, len(lines) - 1), -1, -1) if "[" in lines[i]), index)
        what = _TOML_END.sub("", _TOML_POSITION.sub("", message)).rstrip(".")
        fix = next((hint for start, hint in _TOML_HINTS if what.startswith(start)), f"fix the syntax: {_TOML_SYNTAX}")
        if 0 <= index < len(lines) and (plain := _plain_mistake(lines[index])):
            what, fix = plain
        report.error(path, first_line + index if index >= 0 else None, f"TOML syntax error: {what}", fix)
        return None
    except ValueError:  # an integer of more digits than Python converts (sys.get_int_max_str_digits)
        long_number = re.search(r"[0-9_]{1000}", text)
        line = first_line + text.count("\n", 0, long_number.start()) if long_number else None
        report.error(path, line, "a number thousands of digits long", "write numbers of at most a few digits")
        return None
    return _visible_values(data, text, path, report, first_line)


def _visible_values(data: dict[str, Any], text: str, path: Path, report: Report, first_line: int) -> dict[str, Any]:
    """`data` with control characters (written as escapes: read_text refuses raw ones) reported and
    replaced by U+FFFD, so that no later message or output carries them; invisible reordering
    characters are warned about."""
    reported: set[str] = set()

    def clean(value: Any, key: str) -> Any:
        if isinstance(value, str):
            if (control := _CONTROL.search(value)) and "control" + key not in reported:
                reported.add("control" + key)
                report.error(
                    path,
                    _escape_line(text, ord(control.group()), first_line),
                    f'"{key}" holds the control character U+{ord(control.group()):04X} (written as an escape)',
                    "remove the escape: feeds cannot carry it and terminals obey it",
                )
            if (hidden := _INVISIBLE.search(value)) and "invisible" + key not in reported:
                reported.add("invisible" + key)
                report.warning(
                    path,
                    key_line(text, key, first_line),
                    f'"{key}" holds the invisible character U+{ord(hidden.group()):04X}, which reorders or hides text',
                    "delete it unless you meant it (it often comes with pasted text)",
                )
            return _CONTROL.sub("\ufffd", value)
        if isinstance(value, list):
            return [clean(item, key) for item in value]
        if isinstance(value, dict):
            cleaned = {}
            for name, item in value.items():
                shown = _CONTROL.sub("\ufffd", name)  # a "quoted" key may hold an escape too: messages name it so
                clean(name, shown)  # reports a control or invisible character in the key itself
                cleaned[shown] = clean(item, shown)
            return cleaned
        return value

    cleaned: dict[str, Any] = clean(data, "")
    return cleaned


_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|[bfr]|.)")
_SHORT_ESCAPES = {"\\b": 8, "\\f": 12, "\\r": 13}


def _escape_line(text: str, code: int, first_line: int) -> int | None:
    """The line of the first escape in `text` that stands for character `code`, or None."""
    for match in _ESCAPE.finditer(text):
        written = match.group(1) or match.group(2)
        if (int(written, 16) if written else _SHORT_ESCAPES.get(match.group())) == code:
            return first_line + text.count("\n", 0, match.start())
    return None


_CURLY_QUOTES = re.compile("[\u201c\u201d\u2018\u2019\u00ab\u00bb]")
_DATE_LIKE = re.compile(r"=\s*([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})\b")
_SLASH_DATE = re.compile(r"=\s*(\d{1,4}/\d{1,2}/\d{1,4})")


def _plain_mistake(line: str) -> tuple[str, str] | None:
    """The everyday mistake behind a TOML error on `line`, in words an editor knows, or None."""
    value = line.split("=", 1)[1] if "=" in line else ""
    if _CURLY_QUOTES.search(value.split('"', 1)[0]) or (not value.count('"') and _CURLY_QUOTES.search(value)):
        return (
            "the value is in curly quotes (“…”), which TOML does not read as quotes",
            'use straight double quotes, e.g. title = "…" (turn off smart quotes in your editor)',
        )
    if match := _SLASH_DATE.search(line):
        return f"{match.group(1)} is not a TOML date", "write dates as YYYY-MM-DD, e.g. 2026-11-05"
    if match := _DATE_LIKE.search(line):
        year, month, day = (int(part) for part in match.groups())
        try:
            date(year, month, day)
        except ValueError as exc:
            return f"{year}-{match.group(2)}-{match.group(3)} is not a date ({exc})", "write a real date as YYYY-MM-DD"
        if len(match.group(2)) != 2 or len(match.group(3)) != 2:
            return "dates need two-digit months and days", f"write {year:04d}-{month:02d}-{day:02d}"
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
        fix = (
            f'did you mean "{guess}"? Rename it, or remove the line'
            if guess
            else f"remove the line, or use one of the keys {', '.join(sorted(known))}"
        )
        report.error(path, key_line(text, key, first_line), f'unknown key "{key}"', fix)


def toml_value(value: Any) -> str:
    """A value as it is written in TOML, for messages: "text", true, 2018-11-05."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def as_date(value: Any) -> date | None:
    """A TOML date (or date-time) as a date; a date written as text ("2018-11-05") is read too."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None
