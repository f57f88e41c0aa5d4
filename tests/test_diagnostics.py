"""Everyday TOML mistakes are named in an editor's words, at their line."""

from __future__ import annotations

from pathlib import Path

import pytest

from pprfeed.diagnostics import Report, parse_toml


def error_of(text: str, tmp_path: Path) -> str:
    report = Report(tmp_path)
    assert parse_toml(text, tmp_path / "issue.toml", report) is None
    (diagnostic,) = report.diagnostics
    assert diagnostic.line == text.count("\n", 0, text.rindex("=")) + 1  # the line of the last value
    return f"{diagnostic.message} — {diagnostic.fix}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("published = 2026-13-01\n", "2026-13-01 is not a date (month must be in 1..12) — write a real date"),
        ("published = 2026-02-30\n", "2026-02-30 is not a date (day is out of range for month)"),
        ("published = 20/11/2026\n", "20/11/2026 is not a TOML date — write dates as YYYY-MM-DD"),
        ("published = 2026-3-05\n", "dates need two-digit months and days — write 2026-03-05"),
        ("intro = “Hello”\n", "curly quotes (“…”)"),
        ("draft = true\nintro = ‘Hello’\n", "use straight double quotes"),
    ],
)
def test_everyday_mistakes_are_named(text: str, expected: str, tmp_path: Path) -> None:
    assert expected in error_of(text, tmp_path)


def test_curly_quotes_inside_a_string_are_fine(tmp_path: Path) -> None:
    assert parse_toml('intro = "The “real” relationship"\n', tmp_path / "issue.toml", Report(tmp_path)) == {
        "intro": "The “real” relationship"
    }


def test_other_syntax_errors_keep_the_parser_message(tmp_path: Path) -> None:
    assert "TOML syntax error" in error_of('intro = "unclosed\n', tmp_path)
