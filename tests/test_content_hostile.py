"""Hostile content and settings: each is a diagnostic naming the file, never a hang, a crash or a terminal escape."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from pprfeed.archive.load import ARTICLE_LIMIT, load_archive
from pprfeed.config import load_settings
from pprfeed.diagnostics import TEXT_LIMIT, Diagnostic
from test_content import article, make_content, only, problems

ISSUE = "issues/2018-01"


def loaded_within(root: Path, seconds: float = 20) -> list[Diagnostic]:
    """load_archive's diagnostics, failing (not hanging) when it blocks."""
    found: list[list[Diagnostic]] = []
    worker = threading.Thread(target=lambda: found.append(load_archive(root)[1]), daemon=True)
    worker.start()
    worker.join(seconds)
    assert found, "load_archive did not return"
    return found[0]


def settings_problems(tmp_path: Path, text: str) -> list[Diagnostic]:
    config = tmp_path / "pprfeed.toml"
    config.write_text(text, encoding="utf-8")
    settings, diagnostics = load_settings(config)
    assert settings is None, "broken settings must not load"
    return diagnostics


# --- control characters written as TOML escapes ------------------------------------------------


CONTROL_FIX = "remove the escape: feeds cannot carry it and terminals obey it"


def control(path: Path, line: int, key: str, code: str) -> str:
    """The line `pprfeed check` prints for an escaped control character."""
    return f'{path}:{line}: "{key}" holds the control character U+{code} (written as an escape) — {CONTROL_FIX}'


@pytest.mark.parametrize(
    ("escape", "code"), [("\\u001b[2J", "001B"), ("\\u0000", "0000"), ("\\U0000009b", "009B"), ("\\b", "0008")]
)
def test_an_escaped_control_character_in_a_title_is_reported_at_its_line(
    tmp_path: Path, escape: str, code: str
) -> None:
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article(title=f"T{escape}x")})
    path = root / ISSUE / "a.md"
    assert str(only(problems(root), path)) == control(path, 2, "title", code)


def test_an_escaped_control_character_after_an_empty_line_is_placed_on_its_own_line(tmp_path: Path) -> None:
    text = article(title="T\\u001bx").replace("+++\n", "+++\n\n", 1)  # the title moves to line 3
    root = make_content(tmp_path, {f"{ISSUE}/a.md": text})
    path = root / ISSUE / "a.md"
    assert str(only(problems(root), path)) == control(path, 3, "title", "001B")


def test_a_short_escape_on_the_second_line_of_a_multi_line_string_is_placed_there(tmp_path: Path) -> None:
    issue_toml = 'intro = """Hello\nworld\\b"""\n'
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article(), f"{ISSUE}/issue.toml": issue_toml})
    path = root / ISSUE / "issue.toml"
    assert str(only(problems(root), path)) == control(path, 2, "intro", "0008")


def test_each_value_is_reported_once_however_many_control_characters_it_holds(tmp_path: Path) -> None:
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article(topics='["\\u0007a", "\\u0007b"]')})
    path = root / ISSUE / "a.md"
    assert [str(d) for d in problems(root) if "control" in d.message] == [control(path, 3, "topics", "0007")]


def test_a_control_character_is_shown_as_a_replacement_character_in_later_messages(tmp_path: Path) -> None:
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article(topics='["\\u001b[2J"]')})
    messages = [d.message for d in problems(root)]
    assert 'unknown topic "\ufffd[2J"' in messages


def test_no_diagnostic_carries_the_escaped_control_character(tmp_path: Path) -> None:
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article(topics='["\\u001b[2J"]')})
    assert not any("\x1b" in str(d) for d in problems(root))


def test_an_escaped_control_character_in_issue_toml_is_reported(tmp_path: Path) -> None:
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article(), f"{ISSUE}/issue.toml": 'intro = "\\u001b]0;x\\u0007"\n'})
    assert only(problems(root), root / ISSUE / "issue.toml").line == 1


def test_an_escaped_control_character_in_topics_toml_is_reported(tmp_path: Path) -> None:
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article()})
    vocabulary = root / "topics.toml"
    vocabulary.write_text(vocabulary.read_text() + '\n[[topic]]\nname = "Bad\\u001bName"\nslug = "bad"\n')
    problem = only(problems(root), vocabulary)
    assert problem.line == vocabulary.read_text().count("\n") - 1


def test_an_escaped_control_character_in_the_site_title_is_reported(tmp_path: Path) -> None:
    (problem,) = settings_problems(tmp_path, '[site]\n\ntitle = "Digest\\u001b[31m"\n')
    assert problem.line == 3 and "control character U+001B" in problem.message


def test_a_raw_c1_control_character_is_reported(tmp_path: Path) -> None:
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article(title="T\x9bx")})
    assert "U+009B" in only(problems(root), root / ISSUE / "a.md").message


# --- invisible characters -----------------------------------------------------------------------


@pytest.mark.parametrize("hidden", ["\u202e", "\u200b", "\u2066"])
def test_bidi_and_zero_width_characters_in_a_title_are_warned_about(tmp_path: Path, hidden: str) -> None:
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article(title=f"Safe{hidden}title")})
    (warning,) = load_archive(root)[1]
    assert str(warning) == (
        f'{root / ISSUE / "a.md"}:2: warning: "title" holds the invisible character U+{ord(hidden):04X}, which '
        "reorders or hides text — delete it unless you meant it (it often comes with pasted text)"
    )


def test_a_value_with_several_invisible_characters_is_warned_about_once(tmp_path: Path) -> None:
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article(topics='["alliance\u200b", "depression\u200b"]')})
    warnings = [d for d in load_archive(root)[1] if d.severity == "warning"]
    assert [d.line for d in warnings] == [3]


# --- pathological TOML ----------------------------------------------------------------------------


TOO_DEEP = (
    ": TOML nested too deeply to read (lists or tables inside one another, thousands deep) — write the values "
    "flat: no setting nests more than two levels"
)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("[" * 5000, TOO_DEEP),
        ("{a=" * 5000, TOO_DEEP),
        ("9" * 5000, ":1: a number thousands of digits long — write numbers of at most a few digits"),
    ],
)
def test_pathological_toml_is_a_diagnostic_and_other_files_are_still_checked(
    tmp_path: Path, value: str, problem: str
) -> None:
    root = make_content(
        tmp_path,
        {f"{ISSUE}/a.md": article(topics='["no-such-topic"]'), f"{ISSUE}/issue.toml": f"intro = {value}\n"},
    )
    found = problems(root)
    assert str(only(found, root / ISSUE / "issue.toml")) == f"{root / ISSUE / 'issue.toml'}{problem}"
    assert "no-such-topic" in only(found, root / ISSUE / "a.md").message


def test_pathological_toml_in_settings_is_a_diagnostic(tmp_path: Path) -> None:
    (problem,) = settings_problems(tmp_path, "[site]\nfeed_limit = " + "9" * 5000 + "\n")
    assert problem.line == 2 and "digits" in problem.message


# --- special files and sizes ----------------------------------------------------------------------


def not_regular(path: Path) -> str:
    return f"{path}: not a regular file — replace it with an ordinary text file, or remove it"


def test_an_issue_toml_that_is_a_pipe_does_not_hang_the_check(tmp_path: Path) -> None:
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article()})
    os.mkfifo(root / ISSUE / "issue.toml")
    assert str(only(loaded_within(root), root / ISSUE / "issue.toml")) == not_regular(root / ISSUE / "issue.toml")


def test_a_topics_toml_linked_to_an_endless_device_is_refused(tmp_path: Path) -> None:
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article()})
    (root / "topics.toml").unlink()
    (root / "topics.toml").symlink_to("/dev/zero")
    assert str(only(loaded_within(root), root / "topics.toml")) == not_regular(root / "topics.toml")


def test_an_issue_toml_linked_to_an_endless_device_is_refused(tmp_path: Path) -> None:
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article()})
    (root / ISSUE / "issue.toml").symlink_to("/dev/zero")
    assert str(only(loaded_within(root), root / ISSUE / "issue.toml")) == not_regular(root / ISSUE / "issue.toml")


def test_a_settings_file_that_is_a_pipe_does_not_hang(tmp_path: Path) -> None:
    config = tmp_path / "pprfeed.toml"
    os.mkfifo(config)
    found: list[list[Diagnostic]] = []
    worker = threading.Thread(target=lambda: found.append(load_settings(config)[1]), daemon=True)
    worker.start()
    worker.join(20)
    assert found and found[0], "load_settings did not return, or returned no diagnostic"


def test_an_article_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    body = "Summary. " * (ARTICLE_LIMIT // 9) + "\n\n## Practice Implications\n\nDo.\n"
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article(body=body)})
    assert str(only(problems(root), root / ISSUE / "a.md")) == (
        f"{root / ISSUE / 'a.md'}: the file is larger than 200 KB — no content or settings file is this long: split "
        "it, or check that it is the file you meant"
    )


def test_an_article_just_under_the_size_limit_loads(tmp_path: Path) -> None:
    body = "Summary. " * ((ARTICLE_LIMIT - 1000) // 9) + "\n\n## Practice Implications\n\nDo.\n"
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article(body=body)})
    assert load_archive(root)[0] is not None


def test_a_topics_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article()})
    with (root / "topics.toml").open("a") as vocabulary:
        vocabulary.write("#" * TEXT_LIMIT + "\n")
    assert "larger than" in only(problems(root), root / "topics.toml").message


# --- Markdown structure ----------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [20, 25])
def test_text_nested_too_deep_to_show_is_reported(tmp_path: Path, depth: int) -> None:
    body = "Summary.\n\n" + "> " * depth + "hidden words\n\n## Practice Implications\n\nDo.\n"
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article(body=body)})
    assert str(only(problems(root), root / ISSUE / "a.md")) == (
        f"{root / ISSUE / 'a.md'}:8: quotes or lists nested more than 19 deep: the text inside is not shown — "
        "nest less (a summary rarely needs a quote inside a quote)"
    )


@pytest.mark.parametrize("depth", [10, 19])
def test_text_nested_within_the_limit_loads(tmp_path: Path, depth: int) -> None:
    body = "Summary.\n\n" + "> " * depth + "quoted words\n\n## Practice Implications\n\nDo.\n"
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article(body=body)})
    assert load_archive(root)[1] == []


def test_an_empty_quote_within_the_limit_is_no_text_lost(tmp_path: Path) -> None:
    body = "Summary.\n\n" + "> " * 19 + "\n\n## Practice Implications\n\nDo.\n"
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article(body=body)})
    assert load_archive(root)[1] == []


def test_the_heading_words_in_an_indented_code_block_are_code_not_a_plain_heading(tmp_path: Path) -> None:
    body = "Summary.\n\n    Practice Implications\n\nDo.\n"
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article(body=body)})
    assert str(only(problems(root), root / ISSUE / "a.md")) == (
        f'{root / ISSUE / "a.md"}:6: no practice-implications section — add a line "## Practice Implications" '
        "followed by the implications for clinicians"
    )


def test_a_heading_in_an_indented_code_block_is_not_a_second_heading(tmp_path: Path) -> None:
    body = "Summary.\n\n    ## Practice Implications\n\n## Practice Implications\n\nDo.\n"
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article(body=body)})
    assert load_archive(root)[1] == []


def test_a_heading_inside_a_code_fence_is_not_a_second_heading(tmp_path: Path) -> None:
    body = "Summary.\n\n## Practice Implications\n\nDo.\n\n```\n## Practice Implications\n```\n"
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article(body=body)})
    archive, diagnostics = load_archive(root)
    assert archive is not None, diagnostics


def test_a_heading_only_inside_a_code_fence_is_no_section(tmp_path: Path) -> None:
    body = "Summary.\n\n```\n## Practice Implications\n```\n\nDo.\n"
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article(body=body)})
    assert "no practice-implications section" in only(problems(root), root / ISSUE / "a.md").message


# --- folder names ---------------------------------------------------------------------------------


def test_a_month_folder_in_arabic_digits_is_not_a_month(tmp_path: Path) -> None:
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article(), "issues/٢٠١٩-٠٥/b.md": article()})
    assert "is not a month" in only(problems(root), root / "issues/٢٠١٩-٠٥").message


# --- base_url ---------------------------------------------------------------------------------------


def test_a_base_url_with_an_uppercase_scheme_is_accepted(tmp_path: Path) -> None:
    config = tmp_path / "pprfeed.toml"
    config.write_text('[site]\nbase_url = "HTTPS://example.org/pprnet"\n', encoding="utf-8")
    settings, _ = load_settings(config)
    assert settings is not None and settings.site.base_url == "https://example.org/pprnet/"


@pytest.mark.parametrize("url", ["https://example.org/?a=", "https://example.org/pprnet/#x", "https://example.org?a"])
def test_a_base_url_with_a_query_or_fragment_is_refused(tmp_path: Path, url: str) -> None:
    (problem,) = settings_problems(tmp_path, f'[site]\nbase_url = "{url}"\n')
    assert problem.line == 2 and "query" in problem.message


def test_a_quoted_key_with_an_escaped_control_character_never_reaches_the_terminal(tmp_path: Path) -> None:
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article(extra='"ti\\u001btle" = "x"\n')})
    path = root / ISSUE / "a.md"
    assert control(path, 5, "ti\ufffdtle", "001B") in [str(d) for d in problems(root)]


def test_an_article_of_exactly_the_size_limit_loads(tmp_path: Path) -> None:
    text = article()
    padding = ARTICLE_LIMIT - len(text.encode("utf-8"))
    root = make_content(tmp_path, {f"{ISSUE}/a.md": text.replace("The summary.", "The summary." + " " * padding)})
    assert (root / ISSUE / "a.md").stat().st_size == ARTICLE_LIMIT
    assert load_archive(root)[1] == []


class _FailingRead:
    """A file whose read fails as a dying disk's does."""

    def __init__(self, fd: int, error: OSError) -> None:
        self.fd, self.error = fd, error

    def __enter__(self) -> _FailingRead:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)

    def read(self, size: int = -1) -> bytes:
        raise self.error


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
@pytest.mark.parametrize(
    ("error", "shown"),
    [(OSError(5, "Input/output error"), "Input/output error"), (OSError("the disk went away"), "the disk went away")],
)
def test_a_file_whose_read_fails_is_one_line_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: OSError, shown: str
) -> None:
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article()})
    path = root / ISSUE / "a.md"
    real_fdopen = os.fdopen

    def fdopen(fd: int, *args: object, **kwargs: object) -> object:
        if os.readlink(f"/proc/self/fd/{fd}") == str(path):
            return _FailingRead(fd, error)
        return real_fdopen(fd, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "fdopen", fdopen)
    assert str(only(problems(root), path)) == f"{path}: the file cannot be read ({shown}) — check the file"


def test_a_number_thousands_of_digits_long_is_placed_on_its_line(tmp_path: Path) -> None:
    issue_toml = '\nintro = "x"\ndraft = ' + "9" * 5000 + "\n\n"
    root = make_content(tmp_path, {f"{ISSUE}/a.md": article(), f"{ISSUE}/issue.toml": issue_toml})
    path = root / ISSUE / "issue.toml"
    assert str(only(problems(root), path)) == (
        f"{path}:3: a number thousands of digits long — write numbers of at most a few digits"
    )
