"""Everyday TOML mistakes are named in an editor's words, at their line."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from pprfeed.diagnostics import Diagnostic, Report, as_date, key_line, parse_toml, read_text, toml_value, unknown_keys


def error_of(text: str, tmp_path: Path) -> str:
    report = Report()
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
    assert parse_toml('intro = "The “real” relationship"\n', tmp_path / "issue.toml", Report()) == {
        "intro": "The “real” relationship"
    }


def test_other_syntax_errors_keep_the_parser_message(tmp_path: Path) -> None:
    assert error_of("a = {b = 1\n", tmp_path) == f"TOML syntax error: Unclosed inline table — {FIX_THE_SYNTAX}"


def only_diagnostic(text: str, tmp_path: Path, first_line: int = 1) -> tuple[int | None, str, str]:
    report = Report()
    assert parse_toml(text, tmp_path / "issue.toml", report, first_line) is None
    (diagnostic,) = report.diagnostics
    return diagnostic.line, diagnostic.message, diagnostic.fix


UNCLOSED_LIST = 'close the list with ] on the line where it ends, e.g. topics = ["alliance", "cbt"]'
CLOSE_THE_TEXT = 'close the text with a " on the same line (use """ … """ for text over several lines)'
FIX_THE_SYNTAX = (
    'fix the syntax: strings need "double quotes", lists ["a", "b"], dates 2018-11-05, one key = value per line'
)
ONE_KEY_PER_LINE = 'write one key = value per line, e.g. title = "…"'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('intro = "unclosed\n', (1, "TOML syntax error: Illegal character '\\n'", CLOSE_THE_TEXT)),
        ('a = """abc\n', (1, "TOML syntax error: Unterminated string", CLOSE_THE_TEXT)),
        (
            "a = 1\na = 2\n",
            (2, "TOML syntax error: Cannot overwrite a value", "a key is written twice: keep one of the two lines"),
        ),
        ("[x]\n[x]\n", (2, "TOML syntax error: Cannot declare ('x',) twice", "a table is written twice: keep one")),
        ("title\n", (1, "TOML syntax error: Expected '=' after a key in a key/value pair", ONE_KEY_PER_LINE)),
        (
            "a = @\n",
            (
                1,
                "TOML syntax error: Invalid value",
                'a value is "text in double quotes", a number, true or false, a date or a list ["a", "b"]',
            ),
        ),
        (
            'a = "c:\\d"\n',
            (
                1,
                "TOML syntax error: Unescaped '\\' in a string",
                "write a backslash as \\\\ inside \"…\", or use 'single quotes'",
            ),
        ),
        ("= 3\n", (1, "TOML syntax error: Invalid statement", FIX_THE_SYNTAX)),
        ("a = {b = 1\n", (1, "TOML syntax error: Unclosed inline table", FIX_THE_SYNTAX)),
        (
            'a = "x" b\n',
            (1, "TOML syntax error: Expected newline or end of document after a statement", FIX_THE_SYNTAX),
        ),
    ],
)
def test_each_syntax_error_is_named_with_its_fix(text: str, expected: tuple[int, str, str], tmp_path: Path) -> None:
    assert only_diagnostic(text, tmp_path) == expected


def test_a_list_left_open_before_the_next_key_is_named_where_it_was_opened(tmp_path: Path) -> None:
    # tomllib notices on line 4, at the next key; the list an editor must close starts on line 2
    text = 'title = "T"\ntopics = [\n  "alliance",\n  "cbt"\ncitation = "C"\n'
    assert only_diagnostic(text, tmp_path) == (2, "TOML syntax error: Unclosed array", UNCLOSED_LIST)


def test_a_list_left_open_after_its_first_item_is_named_where_it_was_opened(tmp_path: Path) -> None:
    text = 'title = "T"\ntopics = ["alliance",\ncitation = "C"\n'
    assert only_diagnostic(text, tmp_path) == (2, "TOML syntax error: Unclosed array", UNCLOSED_LIST)


def test_a_list_left_open_at_the_end_of_the_file_is_named_where_it_was_opened(tmp_path: Path) -> None:
    text = 'title = "T"\ntopics = ["alliance",\n  "cbt"\n'
    assert only_diagnostic(text, tmp_path) == (2, "TOML syntax error: Unclosed array", UNCLOSED_LIST)


def test_a_closed_list_before_a_bad_value_is_not_blamed(tmp_path: Path) -> None:
    text = 'topics = ["alliance"]\nintro = nonsense\n'
    assert only_diagnostic(text, tmp_path)[:2] == (2, "TOML syntax error: Invalid value")


def test_a_bad_value_on_a_line_that_is_not_a_key_is_not_an_open_list(tmp_path: Path) -> None:
    text = 'topics = ["alliance"]\nintro = [\n  @\n]\n'
    assert only_diagnostic(text, tmp_path)[:2] == (3, "TOML syntax error: Invalid value")


def test_a_bad_value_on_the_first_line_is_not_an_open_list(tmp_path: Path) -> None:
    assert only_diagnostic("intro = nonsense\n", tmp_path)[:2] == (1, "TOML syntax error: Invalid value")


def test_the_line_counts_from_where_the_text_starts_in_the_file(tmp_path: Path) -> None:
    assert only_diagnostic('title = "T"\ntopics = ["a",\ncitation = "C"\n', tmp_path, first_line=2)[0] == 3


def test_an_error_at_the_end_points_at_the_last_written_line(tmp_path: Path) -> None:
    assert only_diagnostic('title = "T"\nintro = """never closed\n\n\n', tmp_path)[0] == 2


def test_a_good_table_is_returned_without_diagnostics(tmp_path: Path) -> None:
    report = Report()
    assert parse_toml('draft = true\ntopics = ["a"]\n', tmp_path / "issue.toml", report) == {
        "draft": True,
        "topics": ["a"],
    }
    assert report.diagnostics == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "published = 2026-13-01",
            ("2026-13-01 is not a date (month must be in 1..12)", "write a real date as YYYY-MM-DD"),
        ),
        ("published = 20/11/2026", ("20/11/2026 is not a TOML date", "write dates as YYYY-MM-DD, e.g. 2026-11-05")),
        ("published = 2026-3-5", ("dates need two-digit months and days", "write 2026-03-05")),
        ("published = 2026-03-5", ("dates need two-digit months and days", "write 2026-03-05")),
        ("published = 2026-12-5", ("dates need two-digit months and days", "write 2026-12-05")),
        ("published = 0999-3-05", ("dates need two-digit months and days", "write 0999-03-05")),
    ],
)
def test_date_mistakes_are_named_exactly(line: str, expected: tuple[str, str], tmp_path: Path) -> None:
    _, message, fix = only_diagnostic(line + "\n", tmp_path)
    assert (message, fix) == (f"TOML syntax error: {expected[0]}", expected[1])


@pytest.mark.parametrize("line", ["intro = “Hello”", "intro = ‘Hello’", "intro = «Hello»", "intro = ’Hello’"])
def test_curly_quotes_are_named_exactly(line: str, tmp_path: Path) -> None:
    assert only_diagnostic(line + "\n", tmp_path)[1:] == (
        "TOML syntax error: the value is in curly quotes (“…”), which TOML does not read as quotes",
        'use straight double quotes, e.g. title = "…" (turn off smart quotes in your editor)',
    )


def test_curly_quotes_after_an_opening_straight_quote_are_the_text(tmp_path: Path) -> None:
    # the string is never closed: that, not the quotes, is the mistake
    assert only_diagnostic('intro = "“Hello”\n', tmp_path)[1] == "TOML syntax error: Illegal character '\\n'"


# --- reading files --------------------------------------------------------------------


def test_a_file_that_cannot_be_read_is_named_with_why_and_what_to_do(tmp_path: Path) -> None:
    report = Report()
    assert read_text(tmp_path / "missing.toml", report) is None
    assert report.diagnostics == [
        Diagnostic(
            str(tmp_path / "missing.toml"),
            None,
            "the file cannot be read (No such file or directory)",
            "check that it exists and that you may read it (file permissions)",
        )
    ]


def test_a_file_that_is_not_utf8_names_the_line_and_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "issue.toml"
    path.write_bytes(b'title = "ok"\n\nintro = "caf\xe9"\n')
    report = Report()
    assert read_text(path, report) is None
    assert [(d.line, d.message, d.fix) for d in report.diagnostics] == [
        (
            3,
            "the file is not UTF-8 text (byte 0xe9 on this line is not UTF-8)",
            "save the file as UTF-8 in your editor (often: Save As… > Encoding > UTF-8)",
        )
    ]


def test_reading_drops_the_byte_order_mark_and_windows_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "issue.toml"
    path.write_bytes(b'\xef\xbb\xbftitle = "ok"\r\nintro = "x"\r\n')
    report = Report()
    assert read_text(path, report) == 'title = "ok"\nintro = "x"\n'
    assert report.diagnostics == []


def test_control_characters_are_named_at_their_lines_five_at_most(tmp_path: Path) -> None:
    path = tmp_path / "issue.toml"
    path.write_text("a\x01\n" + "b\x0b\n" * 6, encoding="utf-8")
    report = Report()
    assert read_text(path, report) is None
    assert [(d.line, d.message) for d in report.diagnostics] == [
        (1, "invisible control character U+0001 on this line"),
        *((line, "invisible control character U+000B on this line") for line in range(2, 6)),
    ]
    assert report.diagnostics[0].fix == (
        "delete it (it often comes with text pasted from a PDF or a word processor); feeds cannot carry it"
    )


# --- the diagnostic itself, unknown keys, values in messages, dates -------------------


def test_a_diagnostic_reads_path_line_what_fix() -> None:
    assert str(Diagnostic("a.toml", 3, "what", "fix")) == "a.toml:3: what — fix"


def test_a_diagnostic_without_a_line_names_only_the_path() -> None:
    assert str(Diagnostic("a.toml", None, "what", "fix")) == "a.toml: what — fix"


def test_a_warning_says_so() -> None:
    assert str(Diagnostic("a.toml", 3, "what", "fix", "warning")) == "a.toml:3: warning: what — fix"


def test_paths_are_shown_relative_to_the_working_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    report = Report()
    report.error(tmp_path / "issues" / "a.md", 2, "what", "fix")
    report.warning(Path("/elsewhere/b.md"), None, "what", "fix")
    assert [d.path for d in report.diagnostics] == ["issues/a.md", "/elsewhere/b.md"]


def test_only_errors_make_a_report_fail(tmp_path: Path) -> None:
    report = Report()
    report.warning(tmp_path / "a.md", 1, "what", "fix")
    assert (report.failed, report.error_count) == (False, 0)
    report.error(tmp_path / "a.md", 1, "what", "fix")
    report.error(tmp_path / "a.md", 2, "what", "fix")
    assert (report.failed, report.error_count) == (True, 2)


def test_an_unknown_key_close_to_a_known_one_is_named_with_the_guess(tmp_path: Path) -> None:
    report = Report()
    text = 'title = "T"\n\ntitel = "T"\n'
    unknown_keys({"title": "T", "titel": "T"}, {"title", "topics"}, text, tmp_path / "a.md", report, first_line=2)
    assert [(d.line, d.message, d.fix) for d in report.diagnostics] == [
        (4, 'unknown key "titel"', 'did you mean "title"? Rename it, or remove the line')
    ]


def test_an_unknown_key_far_from_every_known_one_lists_them(tmp_path: Path) -> None:
    report = Report()
    unknown_keys({"zzz": 1}, {"title": "", "draft": ""}, "zzz = 1\n", tmp_path / "a.md", report)
    assert [(d.line, d.message, d.fix) for d in report.diagnostics] == [
        (1, 'unknown key "zzz"', "remove the line, or use one of the keys draft, title")
    ]


@pytest.mark.parametrize(
    ("text", "first_line", "line"),
    [
        ("a = 1\n  key = 2\n", 1, 2),
        ('a = 1\n"key" = 2\n', 1, 2),
        ("a = 1\nkey = 2\n", 3, 4),
        ("a = 1\nkeys = 2\n", 3, 3),
        ("a = 1\nmykey = 2\n", 3, 3),
    ],
)
def test_key_line_finds_the_key_or_falls_back_to_the_first_line(text: str, first_line: int, line: int) -> None:
    assert key_line(text, "key", first_line) == line


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (True, "true"),
        (False, "false"),
        ("plain", '"plain"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("a\\b", '"a\\\\b"'),
        (2018, "2018"),
        (date(2018, 11, 5), "2018-11-05"),
    ],
)
def test_values_appear_in_messages_as_they_are_written_in_toml(value: object, written: str) -> None:
    assert toml_value(value) == written


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2018, 11, 5), date(2018, 11, 5)),
        (datetime(2018, 11, 5, 23, 59), date(2018, 11, 5)),
        ("2018-11-05", date(2018, 11, 5)),
        (" 2018-11-05 ", date(2018, 11, 5)),
        ("5 November 2018", None),
        ("", None),
        (2018, None),
        (None, None),
    ],
)
def test_as_date_reads_toml_dates_and_iso_text(value: object, expected: date | None) -> None:
    assert as_date(value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # an open list on the last line, with no newline after it, is not the bad value two lines up
        ("a = 1\nb = @\nc = [", (2, "TOML syntax error: Invalid value")),
        # the list opened last on a line is the one left open
        ('topics = [["alliance"], [\nintro = "x"\n', (1, "TOML syntax error: Unclosed array")),
        # a file ending inside a list, on the line where the list was opened
        ('a = ["x"]\ntopics = ["alliance", "cbt"', (2, "TOML syntax error: Unclosed array")),
        # well-formed dates on a line with another mistake are not the mistake
        ("published = 2026-03-05 x\n", (1, "TOML syntax error: Expected newline or end of document after a statement")),
        # curly quotes inside straight ones are text, even when the line has another mistake
        (
            'intro = "The “real” one" x\n',
            (1, "TOML syntax error: Expected newline or end of document after a statement"),
        ),
    ],
)
def test_the_mistake_is_named_on_the_right_line(text: str, expected: tuple[int, str], tmp_path: Path) -> None:
    assert only_diagnostic(text, tmp_path)[:2] == expected


@pytest.mark.parametrize("line", ["intro=“Hello”", 'intro = “Hello"', "intro = a=“Hello”", "intro = “Hello”=a"])
def test_curly_quotes_are_found_however_the_line_is_spaced_or_mixed(line: str, tmp_path: Path) -> None:
    assert only_diagnostic(line + "\n", tmp_path)[1] == (
        "TOML syntax error: the value is in curly quotes (“…”), which TOML does not read as quotes"
    )


def test_a_control_character_after_a_blank_first_line_is_on_line_two(tmp_path: Path) -> None:
    path = tmp_path / "issue.toml"
    path.write_text("\nintro = 'a\x07'\n", encoding="utf-8")
    report = Report()
    assert read_text(path, report) is None
    assert [d.line for d in report.diagnostics] == [2]


def test_a_warning_keeps_its_message_and_fix(tmp_path: Path) -> None:
    report = Report()
    report.warning(Path("/elsewhere/b.md"), 4, "topic listed twice", "list it once")
    assert [str(d) for d in report.diagnostics] == ["/elsewhere/b.md:4: warning: topic listed twice — list it once"]
