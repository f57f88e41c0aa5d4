"""The loader: the real archive loads cleanly; every kind of bad input gives path:line: what — fix."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from conftest import CONTENT, empty_content
from pprfeed.archive.load import load_archive, month_folder_guess
from pprfeed.diagnostics import Diagnostic


def article(
    title: str = "A title",
    topics: str = '["alliance"]',
    citation: str = "Someone, A. (2018). A paper. Journal, 1(2), 3-4.",
    extra: str = "",
    body: str = "The summary.\n\n## Practice Implications\n\nWhat to do.\n",
) -> str:
    """An article file; every line of the front matter is predictable: +++ is line 1, title line 2."""
    return f'+++\ntitle = "{title}"\ntopics = {topics}\ncitation = "{citation}"\n{extra}+++\n{body}'


def make_content(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    """A content folder with the real vocabulary and the given files (paths relative to it)."""
    root = empty_content(tmp_path / "content")
    for relative, data in files.items():
        path = root / relative
        if relative.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    return root


def problems(root: Path) -> list[Diagnostic]:
    archive, diagnostics = load_archive(root)
    assert archive is None, "a broken archive must not load"
    assert diagnostics, "a broken archive must say why"
    return diagnostics


def only(diagnostics: list[Diagnostic], path: Path) -> Diagnostic:
    matching = [d for d in diagnostics if d.path == str(path)]
    assert len(matching) == 1, "\n".join(map(str, diagnostics))
    return matching[0]


# --- the real archive -------------------------------------------------------------------------


def test_real_archive_loads_without_diagnostics() -> None:
    archive, diagnostics = load_archive(CONTENT)
    assert diagnostics == []
    assert archive is not None
    assert [issue.month for issue in archive.issues] == [
        "2018-11",
        "2018-08",
        "2018-07",
        "2018-03",
        "2018-01",
        "2017-10",
    ]
    assert len(archive.articles) == 6
    assert len(archive.topics) == 36


def test_real_archive_dois_in_three_spellings_are_bare(archive) -> None:
    dois = {a.month: a.doi for a in archive.articles if a.doi}
    assert dois == {"2018-08": "10.1037/pst0000172", "2018-03": "10.1002/cpp.2180", "2017-10": "10.1111/jcpp.12767"}


def test_adherance_spelling_resolves_to_adherence(archive) -> None:
    adherence = archive.topic("adherence")
    assert adherence.name == "Adherence"
    assert "Adherance" in adherence.aliases


def test_ids_are_month_plus_slug(archive) -> None:
    for item in archive.articles:
        assert item.id == f"{item.month}-{item.slug}"
        assert item.source == f"issues/{item.month}/{item.slug}.md"


def test_good_minimal_archive_loads(tmp_path: Path) -> None:
    root = make_content(tmp_path, {"issues/2018-01/one.md": article()})
    archive, diagnostics = load_archive(root)
    assert diagnostics == []
    assert archive is not None
    (only_article,) = archive.articles
    assert only_article.topics == ("alliance-and-therapeutic-relationship",)
    assert only_article.summary_md == "The summary."
    assert only_article.implications_md == "What to do."
    assert only_article.published == date(2018, 1, 1)
    assert (only_article.id, only_article.slug, only_article.month) == ("2018-01-one", "one", "2018-01")
    assert only_article.source == "issues/2018-01/one.md"


def test_the_optional_fields_are_read_as_written(tmp_path: Path) -> None:
    extra = (
        'research_type = "Randomised trial"\ncontact_email = "a@example.org"\n'
        'permalink = "https://example.org/a"\ndoi = "10.1037/pst0000172"\n'
    )
    archive, _ = load_archive(make_content(tmp_path, {"issues/2018-01/one.md": article(extra=extra)}))
    assert archive is not None
    loaded = archive.articles[0]
    assert (loaded.research_type, loaded.contact_email, loaded.permalink, loaded.doi) == (
        "Randomised trial",
        "a@example.org",
        "https://example.org/a",
        "10.1037/pst0000172",
    )


def test_issue_toml_sets_date_intro_and_draft(tmp_path: Path) -> None:
    root = make_content(
        tmp_path,
        {
            "issues/2018-01/one.md": article(extra='updated = 2018-02-01\nid = "kept-id"\n'),
            "issues/2018-01/issue.toml": 'published = 2018-01-15\nintro = "  Hello.  "\ndraft = true\n',
        },
    )
    archive, diagnostics = load_archive(root)
    assert diagnostics == [] and archive is not None
    (issue,) = archive.issues
    assert (issue.published, issue.intro, issue.draft) == (date(2018, 1, 15), "Hello.", True)
    assert issue.articles[0].id == "kept-id"
    assert issue.articles[0].updated == date(2018, 2, 1)
    assert archive.published(date(2030, 1, 1)).issues == ()


def test_an_issue_toml_with_only_a_date_keeps_no_intro_and_is_not_a_draft(tmp_path: Path) -> None:
    root = make_content(
        tmp_path, {"issues/2018-01/one.md": article(), "issues/2018-01/issue.toml": "published = 2018-01-15\n"}
    )
    archive, _ = load_archive(root)
    assert archive is not None
    assert (archive.issues[0].intro, archive.issues[0].draft) == ("", False)


def test_a_retracted_article_keeps_its_address_and_says_so_with_its_reason_on_one_line(tmp_path: Path) -> None:
    reason = 'retraction_reason = "The data\\nwere wrong."\n'
    files = {"issues/2018-01/one.md": article(extra=f"retracted = true\nupdated = 2018-02-01\n{reason}")}
    archive, diagnostics = load_archive(make_content(tmp_path, files))
    assert diagnostics == [] and archive is not None
    (retracted,) = archive.articles
    assert (retracted.id, retracted.title, retracted.retracted) == ("2018-01-one", "Retracted: A title", True)
    assert (retracted.summary_md, retracted.implications_md) == (
        "This summary has been retracted. Reason: The data were wrong.",
        "",
    )


def test_a_retraction_without_a_reason_gives_the_notice_alone(tmp_path: Path) -> None:
    files = {"issues/2018-01/one.md": article(extra="retracted = true\nupdated = 2018-02-01\n")}
    archive, _ = load_archive(make_content(tmp_path, files))
    assert archive is not None
    assert archive.articles[0].summary_md == "This summary has been retracted."


def test_an_issue_may_be_published_on_the_first_day_of_its_month(tmp_path: Path) -> None:
    root = make_content(
        tmp_path, {"issues/2018-01/one.md": article(), "issues/2018-01/issue.toml": "published = 2018-01-01\n"}
    )
    archive, diagnostics = load_archive(root)
    assert diagnostics == [] and archive is not None
    assert archive.issues[0].published == date(2018, 1, 1)


def test_a_single_topic_may_be_written_without_brackets(tmp_path: Path) -> None:
    archive, diagnostics = load_archive(make_content(tmp_path, {"issues/2018-01/one.md": article(topics='"alliance"')}))
    assert diagnostics == [] and archive is not None
    assert archive.articles[0].topics == ("alliance-and-therapeutic-relationship",)


def test_a_title_of_exactly_the_longest_length_is_accepted(tmp_path: Path) -> None:
    archive, diagnostics = load_archive(make_content(tmp_path, {"issues/2018-01/one.md": article(title="x" * 300)}))
    assert diagnostics == [] and archive is not None


def test_articles_are_still_checked_against_the_first_of_the_month_when_issue_toml_is_broken(tmp_path: Path) -> None:
    files = {
        "issues/2018-01/one.md": article(extra="updated = 2017-12-01\n"),
        "issues/2018-01/issue.toml": "intro = \n",
    }
    assert printed(make_content(tmp_path, files)) == [
        'issues/2018-01/issue.toml:1: TOML syntax error: Invalid value — a value is "text in double quotes", a '
        'number, true or false, a date or a list ["a", "b"]',
        "issues/2018-01/one.md:5: updated 2017-12-01 is before the issue was published (2018-01-01) — a correction "
        "cannot predate publication: fix the date or remove it",
    ]


def test_implications_may_start_on_the_line_after_their_heading(tmp_path: Path) -> None:
    body = "The summary.\n## Practice Implications\nDo this.\nAnd that.\n"
    archive, _ = load_archive(make_content(tmp_path, {"issues/2018-01/one.md": article(body=body)}))
    assert archive is not None
    assert archive.articles[0].implications_md == "Do this.\nAnd that."


def test_a_correction_dated_the_day_of_publication_is_accepted(tmp_path: Path) -> None:
    files = {"issues/2018-01/one.md": article(extra="updated = 2018-01-01\n")}
    archive, diagnostics = load_archive(make_content(tmp_path, files))
    assert diagnostics == [] and archive is not None
    assert archive.articles[0].updated == date(2018, 1, 1)


def test_crlf_and_bom_are_accepted(tmp_path: Path) -> None:
    text = "\ufeff" + article().replace("\n", "\r\n")
    root = make_content(tmp_path, {"issues/2018-01/one.md": text.encode("utf-8")})
    archive, diagnostics = load_archive(root)
    assert diagnostics == [] and archive is not None


def test_other_implications_headings_are_accepted(tmp_path: Path) -> None:
    files = {
        f"issues/2018-01/a{n}.md": article(body=f"S.\n\n## {heading}\n\nI.\n")
        for n, heading in enumerate(["Practical Implications", "Practice Implication", "practice implications ##"])
    }
    archive, diagnostics = load_archive(make_content(tmp_path, files))
    assert diagnostics == [] and archive is not None


# --- every kind of bad input ---------------------------------------------------------------


def test_toml_syntax_error_in_front_matter_names_the_file_line(tmp_path: Path) -> None:
    # line 1 +++, 2 title, 3 topics (the unquoted value)
    root = make_content(tmp_path, {"issues/2018-01/bad.md": article(topics="[alliance]")})
    problem = only(problems(root), root / "issues/2018-01/bad.md")
    assert problem.line == 3
    assert problem.message == "TOML syntax error: Invalid value"
    assert "double quotes" in problem.fix


def test_toml_syntax_error_line_counts_from_the_file_not_the_front_matter(tmp_path: Path) -> None:
    extra = 'research_type = "meta-analysis"\ncontact_email = "a@b.org\n'  # line 5 fine, line 6 unterminated
    root = make_content(tmp_path, {"issues/2018-01/bad.md": article(extra=extra)})
    problem = only(problems(root), root / "issues/2018-01/bad.md")
    assert problem.line == 6
    assert "TOML syntax error" in problem.message


def test_toml_syntax_error_in_topics_and_issue_files(tmp_path: Path) -> None:
    root = make_content(
        tmp_path,
        {"issues/2018-01/one.md": article(), "issues/2018-01/issue.toml": 'intro = "fine"\npublished = 2018-01-\n'},
    )
    vocabulary = root / "topics.toml"
    lines = vocabulary.read_text(encoding="utf-8").split("\n")
    broken_line = lines.index('slug = "attachment"') + 1
    lines[broken_line - 1] = 'slug = "attachment'
    vocabulary.write_text("\n".join(lines), encoding="utf-8")
    diagnostics = problems(root)
    assert only(diagnostics, vocabulary).line == broken_line
    assert only(diagnostics, root / "issues/2018-01/issue.toml").line == 2


@pytest.mark.parametrize(
    ("front", "line", "message", "fix"),
    [
        (
            '+++\ntopics = ["alliance"]\ncitation = "C"\n+++\n',
            1,
            'required field "title" is missing',
            "add title = … to the front matter: the article's headline, as readers will see it",
        ),
        (
            '+++\ntitle = "T"\ncitation = "C"\n+++\n',
            1,
            'required field "topics" is missing',
            "add topics = … to the front matter: a list of topics from content/topics.toml (names, slugs or aliases)",
        ),
        (
            '+++\ntitle = "T"\ntopics = ["cbt"]\n+++\n',
            1,
            'required field "citation" is missing',
            "add citation = … to the front matter: the full reference of the summarised article",
        ),
        (
            '+++\ntitle = "  "\ntopics = ["cbt"]\ncitation = "C"\n+++\n',
            2,
            '"title" is empty or not text',
            'write title = "…": the article\'s headline, as readers will see it',
        ),
        (
            '+++\ntitle = "T"\ntopics = []\ncitation = "C"\n+++\n',
            3,
            "topics must be a non-empty list of topic names",
            'write topics = ["Depression", "cbt"]',
        ),
        (
            '+++\ntitle = "T"\ntopics = ["cbt"]\ncitation = ""\n+++\n',
            4,
            '"citation" is empty or not text',
            'write citation = "…": the full reference of the summarised article',
        ),
        (
            '+++\ntitle = 3\ntopics = ["cbt"]\ncitation = "C"\n+++\n',
            2,
            '"title" is empty or not text',
            'write title = "…": the article\'s headline, as readers will see it',
        ),
        (
            '+++\ntitle = "T"\ntopics = ["cbt"]\ncitation = "C"\ndoi = ""\n+++\n',
            5,
            '"doi" is empty or not text',
            'write doi = "…" or remove the line',
        ),
    ],
)
def test_missing_or_empty_required_field(tmp_path: Path, front: str, line: int, message: str, fix: str) -> None:
    root = make_content(tmp_path, {"issues/2018-01/bad.md": front + "S.\n\n## Practice Implications\n\nI.\n"})
    problem = only(problems(root), root / "issues/2018-01/bad.md")
    assert (problem.line, problem.message, problem.fix) == (line, message, fix)


def test_unknown_topic_suggests_the_closest_name_slug_or_alias(tmp_path: Path) -> None:
    root = make_content(tmp_path, {"issues/2018-01/bad.md": article(topics='["aliance", "depresion", "zzzzqq"]')})
    diagnostics = problems(root)
    assert [(d.line, d.message) for d in diagnostics] == [
        (3, 'unknown topic "aliance"'),
        (3, 'unknown topic "depresion"'),
        (3, 'unknown topic "zzzzqq"'),
    ]
    assert 'did you mean "Alliance and Therapeutic Relationship"' in diagnostics[0].fix
    assert 'did you mean "Depression and Depressive Symptoms"' in diagnostics[1].fix
    assert "did you mean" not in diagnostics[2].fix and "topics.toml" in diagnostics[2].fix


def test_a_month_folder_of_1900_is_an_issue(tmp_path: Path) -> None:
    archive, diagnostics = load_archive(make_content(tmp_path, {"issues/1900-01/a.md": article()}))
    assert diagnostics == []
    assert archive is not None
    assert [issue.month for issue in archive.issues] == ["1900-01"]


@pytest.mark.parametrize(
    ("files", "bad", "line", "message", "fix"),
    [
        (
            {"issues/2018-13/a.md": article()},
            "issues/2018-13",
            None,
            'folder name "2018-13" is not a month',
            "name issue folders YYYY-MM, e.g. 2018-11 (month 01 to 12, year 1900 or later)",
        ),
        (
            {"issues/nov-2018/a.md": article()},
            "issues/nov-2018",
            None,
            'folder name "nov-2018" is not a month',
            'did you mean "2018-11"? Rename the folder to 2018-11',
        ),
        (
            {"issues/2026-1/a.md": article()},
            "issues/2026-1",
            None,
            'folder name "2026-1" is not a month',
            'did you mean "2026-01"? Rename the folder to 2026-01',
        ),
        (
            {"issues/December 2026/a.md": article()},
            "issues/December 2026",
            None,
            'folder name "December 2026" is not a month',
            'did you mean "2026-12"? Rename the folder to 2026-12',
        ),
        (
            {"issues/1899-12/a.md": article()},
            "issues/1899-12",
            None,
            'folder name "1899-12" is not a month',
            "name issue folders YYYY-MM, e.g. 2018-11 (month 01 to 12, year 1900 or later)",
        ),
        (
            {"issues/18-11/a.md": article()},
            "issues/18-11",
            None,
            'folder name "18-11" is not a month',
            "name issue folders YYYY-MM, e.g. 2018-11 (month 01 to 12, year 1900 or later)",
        ),
        (
            {"issues/2018-02/a.md": article(), "issues/2018-02/issue.toml": 'published = "2018-02-30"\n'},
            "issues/2018-02/issue.toml",
            1,
            'published = "2018-02-30" is not a date',
            "write the date as YYYY-MM-DD, e.g. published = 2018-02-05",
        ),
        (
            {"issues/2018-02/a.md": article(), "issues/2018-02/issue.toml": "\npublished = 2018-01-31\n"},
            "issues/2018-02/issue.toml",
            2,
            "published 2018-01-31 is before the issue's month 2018-02",
            "use a date on or after 2018-02-01, or move the issue to folder 2018-01",
        ),
        (
            {"issues/2018-02/a.md": article(extra='updated = "soon"\n')},
            "issues/2018-02/a.md",
            5,
            'updated = "soon" is not a date',
            "write the date of the correction as YYYY-MM-DD, e.g. updated = 2018-03-03",
        ),
        (
            {"issues/2018-02/a.md": article(extra="updated = 2018-01-02\n")},
            "issues/2018-02/a.md",
            5,
            "updated 2018-01-02 is before the issue was published (2018-02-01)",
            "a correction cannot predate publication: fix the date or remove it",
        ),
        (
            {"issues/2018-02/a.md": article(), "issues/2018-02/issue.toml": 'draft = "yes"\n'},
            "issues/2018-02/issue.toml",
            1,
            "draft must be true or false",
            "write draft = true (no quotes)",
        ),
    ],
)
def test_bad_dates_and_folder_names(
    tmp_path: Path, files: dict[str, str], bad: str, line: int | None, message: str, fix: str
) -> None:
    root = make_content(tmp_path, files)
    problem = only(problems(root), root / bad)
    assert (problem.line, problem.message, problem.fix) == (line, message, fix)


def test_duplicate_ids_via_override(tmp_path: Path) -> None:
    root = make_content(
        tmp_path,
        {
            "issues/2018-01/first.md": article(),
            "issues/2018-02/second.md": article(extra='\nid = "2018-01-first"\n'),  # id on line 6
        },
    )
    problem = only(problems(root), root / "issues/2018-02/second.md")
    assert problem.line == 6
    assert 'duplicate article id "2018-01-first"' in problem.message
    assert str(root / "issues/2018-01/first.md") in problem.message
    assert "id" in problem.fix


def test_bad_file_names_and_ids(tmp_path: Path) -> None:
    root = make_content(
        tmp_path, {"issues/2018-01/Bad_Name.md": article(), "issues/2018-01/ok.md": article(extra='id = "Not OK"\n')}
    )
    diagnostics = problems(root)
    name = only(diagnostics, root / "issues/2018-01/Bad_Name.md")
    assert "is not a slug" in name.message and "bad-name.md" in name.fix
    bad_id = only(diagnostics, root / "issues/2018-01/ok.md")
    assert bad_id.line == 5 and "lowercase letters" in bad_id.fix


def test_non_utf8_file_names_the_line_of_the_bad_byte(tmp_path: Path) -> None:
    text = article(title="Fl\udcfcckiger").encode("utf-8", "surrogateescape")  # a Latin-1 ü on line 2
    root = make_content(tmp_path, {"issues/2018-01/latin1.md": text, "issues/2018-01/issue.toml": b"intro = '\xe9'"})
    diagnostics = problems(root)
    article_problem = only(diagnostics, root / "issues/2018-01/latin1.md")
    assert article_problem.line == 2
    assert "UTF-8" in article_problem.message and "UTF-8" in article_problem.fix
    assert "UTF-8" in only(diagnostics, root / "issues/2018-01/issue.toml").message


@pytest.mark.parametrize("body", ["", "\n\n   \n"])
def test_empty_body(tmp_path: Path, body: str) -> None:
    root = make_content(tmp_path, {"issues/2018-01/empty.md": article(body=body)})
    problem = only(problems(root), root / "issues/2018-01/empty.md")
    assert problem.line == 6  # the line after the closing +++
    assert "no body" in problem.message and "## Practice Implications" in problem.fix


# what each implications mistake says to do, by the end of its message
IMPLICATIONS_FIXES = {
    "no practice-implications section": (
        'add a line "## Practice Implications" followed by the implications for clinicians'
    ),
    "is not a Markdown heading": 'write the line as "## Practice Implications" (or "## " before it)',
    "has the wrong level": 'write it as "## Practice Implications" (two #)',
    "the practice-implications section is empty": "write the implications below the heading",
    "the summary before the practice implications is empty": "write the summary above the heading",
    "a second practice-implications heading": "keep one section: merge the two",
}


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("Only a summary.\n", 6, "no practice-implications section"),
        # pasted from the blog as a plain or bold line: pointed at, with the heading to write instead
        (
            "Summary.\n\nPractice Implications\n\nNot a heading.\n",
            8,
            '"Practice Implications" is not a Markdown heading',
        ),
        (
            "Summary.\n\n**Practical Implications:**\n\nNot a heading.\n",
            8,
            '"**Practical Implications:**" is not a Markdown heading',
        ),
        (
            "Summary.\n\n### Practice Implications\n\nI.\n",
            8,
            'the practice-implications heading "### Practice Implications" has the wrong level',
        ),
        ("Summary.\n\n## Practice Implications\n\n", 8, "the practice-implications section is empty"),
        ("## Practice Implications\n\nI.\n", 6, "the summary before the practice implications is empty"),
        (
            "S.\n\n## Practice Implications\n\nI.\n\n## Practical Implications\n\nJ.\n",
            12,
            "a second practice-implications heading",
        ),
    ],
)
def test_missing_or_malformed_implications(tmp_path: Path, body: str, line: int, message: str) -> None:
    root = make_content(tmp_path, {"issues/2018-01/a.md": article(body=body)})
    problem = only(problems(root), root / "issues/2018-01/a.md")
    assert (problem.line, problem.message) == (line, message)
    assert problem.fix == IMPLICATIONS_FIXES[message.split('"')[-1].strip()]


def test_front_matter_missing_or_unclosed(tmp_path: Path) -> None:
    root = make_content(
        tmp_path,
        {"issues/2018-01/none.md": 'title = "T"\n', "issues/2018-01/open.md": '+++\ntitle = "T"\n\nBody\n'},
    )
    diagnostics = problems(root)
    missing = only(diagnostics, root / "issues/2018-01/none.md")
    assert missing.line == 1 and "front matter missing" in missing.message and "+++" in missing.fix
    unclosed = only(diagnostics, root / "issues/2018-01/open.md")
    assert unclosed.line == 1 and "never closed" in unclosed.message and "+++" in unclosed.fix


STRAY_FIXES = {
    "stray entry in the content folder": (
        "the content folder holds only topics.toml, synonyms.toml, issues/ and README.md: move it elsewhere or "
        "delete it"
    ),
    "stray file in issues/": (
        "issues/ holds only YYYY-MM folders: move an article into its month's folder, anything else out"
    ),
    "stray file in an issue folder": (
        "an issue folder holds only issue.toml and <slug>.md article files: rename an article to .md, move anything "
        "else out of content/"
    ),
    "stray folder in an issue folder": (
        "an issue folder holds only issue.toml and <slug>.md files, no subfolders: move it out of content/"
    ),
}


@pytest.mark.parametrize(
    ("stray", "message"),
    [
        ("notes.txt", "stray entry in the content folder"),
        ("drafts/", "stray entry in the content folder"),
        ("issues/readme.txt", "stray file in issues/"),
        ("issues/2018-01/picture.png", "stray file in an issue folder"),
        ("issues/2018-01/article.markdown", "stray file in an issue folder"),
        ("issues/2018-01/images/", "stray folder in an issue folder"),
    ],
)
def test_stray_files(tmp_path: Path, stray: str, message: str) -> None:
    root = make_content(tmp_path, {"issues/2018-01/a.md": article(), stray: "x"})
    problem = only(problems(root), root / stray.rstrip("/"))
    assert problem.line is None
    assert problem.message == message
    assert problem.fix == STRAY_FIXES[message]


def test_hidden_files_and_readme_are_not_stray(tmp_path: Path) -> None:
    root = make_content(
        tmp_path,
        {"README.md": "# guide", ".git/": "", ".hidden": "x"} | {"issues/2018-01/a.md": article()},
    )
    archive, diagnostics = load_archive(root)
    assert diagnostics == [] and archive is not None


@pytest.mark.parametrize(
    "leftover",
    ["issues/2018-01/a.md~", "issues/2018-01/.#a.md", "issues/2018-01/.a.md.swp", "issues/.DS_Store"]
    + ["issues/2018-01/Thumbs.db", "topics.toml~"],
)
def test_editor_leftovers_are_skipped_with_a_note(tmp_path: Path, leftover: str) -> None:
    root = make_content(tmp_path, {"issues/2018-01/a.md": article(), leftover: "x"})
    archive, diagnostics = load_archive(root)
    assert archive is not None
    assert [(d.severity, d.path.endswith(leftover.split("/")[-1])) for d in diagnostics] == [("note", True)]
    assert printed(root) == [f"{leftover}: note: skipped: an editor's backup or system file — nothing to do"]


@pytest.mark.parametrize(
    ("files", "bad", "line", "key", "guess"),
    [
        ({"issues/2018-01/a.md": article(extra='titel = "x"\n')}, "issues/2018-01/a.md", 5, "titel", "title"),
        ({"issues/2018-01/a.md": article(extra='topic = ["x"]\n')}, "issues/2018-01/a.md", 5, "topic", "topics"),
        (
            {"issues/2018-01/a.md": article(), "issues/2018-01/issue.toml": '\nintroo = "x"\n'},
            "issues/2018-01/issue.toml",
            2,
            "introo",
            "intro",
        ),
    ],
)
def test_unknown_keys_suggest_the_known_one(
    tmp_path: Path, files: dict[str, str], bad: str, line: int, key: str, guess: str
) -> None:
    root = make_content(tmp_path, files)
    problem = only(problems(root), root / bad)
    assert problem.line == line
    assert problem.message == f'unknown key "{key}"'
    assert f'did you mean "{guess}"?' in problem.fix


def test_unknown_key_without_a_close_guess_lists_the_known_keys(tmp_path: Path) -> None:
    root = make_content(tmp_path, {"issues/2018-01/a.md": article(extra="zebra = 1\n")})
    problem = only(problems(root), root / "issues/2018-01/a.md")
    assert "contact_email" in problem.fix and "research_type" in problem.fix


def test_bad_vocabulary(tmp_path: Path) -> None:
    root = make_content(tmp_path, {"issues/2018-01/a.md": article()})
    vocabulary = root / "topics.toml"
    vocabulary.write_text(
        '[[topic]]\nname = "Alliance"\nslug = "alliance"\n\n'
        '[[topic]]\nname = "Other"\nslug = "Not A Slug"\n\n'
        '[[topic]]\nname = "Third"\nslug = "third"\naliases = ["alliance"]\ncolour = "red"\n',
        encoding="utf-8",
    )
    diagnostics = problems(root)
    assert [(d.line, d.message) for d in diagnostics] == [
        (7, 'topic "Other" has a missing or malformed slug'),
        (9, '"alliance" of topic "Third" is already used by topic "alliance"'),
        (13, 'unknown key "colour"'),
    ]


def test_missing_vocabulary_and_issues(tmp_path: Path) -> None:
    root = tmp_path / "content"
    root.mkdir()
    diagnostics = problems(root)
    assert [Path(d.path).name for d in diagnostics] == ["topics.toml", "issues"]
    assert all(d.fix for d in diagnostics)
    missing, diagnostics = load_archive(tmp_path / "nowhere")
    assert missing is None and "--content" in diagnostics[0].fix


def test_many_problems_are_all_reported_in_one_run(tmp_path: Path) -> None:
    root = make_content(
        tmp_path,
        {
            "notes.txt": "x",
            "issues/stray.txt": "x",
            "issues/2018-13/a.md": article(),
            "issues/2018-01/toml.md": article(topics="[alliance]"),
            "issues/2018-01/missing.md": article().replace('title = "A title"\n', ""),
            "issues/2018-01/topic.md": article(topics='["aliance"]'),
            "issues/2018-01/latin1.md": b"+++\ntitle = '\xe9'\n",
            "issues/2018-01/empty.md": article(body=""),
            "issues/2018-01/no-implications.md": article(body="Only a summary.\n"),
            "issues/2018-01/keys.md": article(extra='titel = "x"\n'),
            "issues/2018-01/image.png": "x",
            "issues/2018-02/a.md": article(),
            "issues/2018-02/b.md": article(extra='id = "2018-02-a"\n'),
            "issues/2018-02/issue.toml": 'published = "2018-02-30"\n',
        },
    )
    diagnostics = problems(root)
    bad = {
        "notes.txt",
        "issues/stray.txt",
        "issues/2018-13",
        "issues/2018-01/toml.md",
        "issues/2018-01/missing.md",
        "issues/2018-01/topic.md",
        "issues/2018-01/latin1.md",
        "issues/2018-01/empty.md",
        "issues/2018-01/no-implications.md",
        "issues/2018-01/keys.md",
        "issues/2018-01/image.png",
        "issues/2018-02/issue.toml",
        "issues/2018-02/b.md",
    }
    assert {Path(d.path).relative_to(root).as_posix() for d in diagnostics} == bad
    assert all(d.severity == "error" and d.message and d.fix for d in diagnostics)


def test_diagnostic_format() -> None:
    with_line = Diagnostic("content/issues/2018-01/a.md", 3, 'unknown topic "x"', "use a topic from topics.toml")
    assert str(with_line) == 'content/issues/2018-01/a.md:3: unknown topic "x" — use a topic from topics.toml'
    without = Diagnostic("content/notes.txt", None, "stray entry", "move it", "warning")
    assert str(without) == "content/notes.txt: warning: stray entry — move it"


def test_repeated_topic_is_a_warning_not_an_error(tmp_path: Path) -> None:
    root = make_content(tmp_path, {"issues/2018-01/a.md": article(topics='["alliance", "Alliance"]')})
    archive, diagnostics = load_archive(root)
    assert archive is not None
    assert [(d.severity, d.line) for d in diagnostics] == [("warning", 3)]


def test_messages_read_as_path_line_what_fix(tmp_path: Path) -> None:
    """The exact wording an editor sees for the commonest mistakes."""
    root = make_content(
        tmp_path,
        {
            "issues/2018-01/a.md": article(topics='["aliance", "zzzzqq"]', extra='titel = "x"\n'),
            "issues/2018-01/b.md": article(extra='contact_email = "a@b.org\n'),
            "issues/2018-01/c.md": article(topics='["cbt",\n'),
            "issues/2018-01/d.md": "---\ntitle: T\n---\nBody\n",
            "issues/2018-01/issue.toml": 'published = "2018-01-32"\n',
        },
    )
    shown = [str(d).removeprefix(str(root) + "/") for d in problems(root)]
    assert shown == [
        'issues/2018-01/issue.toml:1: published = "2018-01-32" is not a date — '
        "write the date as YYYY-MM-DD, e.g. published = 2018-01-05",
        'issues/2018-01/a.md:3: unknown topic "aliance" — did you mean "Alliance and Therapeutic Relationship" '
        "(slug alliance-and-therapeutic-relationship)? Write a name, slug or alias from topics.toml, "
        "or add the topic there",
        'issues/2018-01/a.md:3: unknown topic "zzzzqq" — write a name, slug or alias from topics.toml '
        "(`pprfeed topic` lists them), or add the topic there",
        'issues/2018-01/a.md:5: unknown key "titel" — did you mean "title"? Rename it, or remove the line',
        'issues/2018-01/b.md:5: TOML syntax error: Unterminated string — close the text with a " on the same line '
        '(use """ … """ for text over several lines)',
        "issues/2018-01/c.md:3: TOML syntax error: Unclosed array — close the list with ] on the line where it ends, "
        'e.g. topics = ["alliance", "cbt"]',
        "issues/2018-01/d.md:1: front matter between --- lines (YAML) is not read — use +++ lines and TOML instead: "
        'replace both --- lines with +++ and write key = "value"',
    ]


@pytest.mark.slow
def test_thousands_of_problems_are_all_reported(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        f"issues/{1900 + n // 12:04d}-{n % 12 + 1:02d}/a{n}.md": article(topics='["nosuchtopic"]') for n in range(1200)
    }
    diagnostics = problems(make_content(tmp_path, files))
    assert len(diagnostics) == 1200
    assert all(d.line == 3 and d.message == 'unknown topic "nosuchtopic"' for d in diagnostics)


def test_broken_vocabulary_does_not_bury_the_articles_in_unknown_topics(tmp_path: Path) -> None:
    root = make_content(tmp_path, {f"issues/2018-01/a{n}.md": article() for n in range(5)})
    (root / "topics.toml").write_text("[[topic]\n", encoding="utf-8")
    diagnostics = problems(root)
    assert [Path(d.path).name for d in diagnostics] == ["topics.toml"]


def test_the_editors_guide_examples_are_valid(tmp_path: Path) -> None:
    """content/README.md's examples of issue.toml and an article file pass the check."""
    guide = (CONTENT / "README.md").read_text(encoding="utf-8")
    blocks = guide.split("```")
    issue_toml = next(b.removeprefix("toml\n") for b in blocks if b.startswith("toml\nintro ="))
    article_md = next(b.removeprefix("markdown\n") for b in blocks if b.startswith("markdown\n+++"))
    root = make_content(
        tmp_path,
        {"issues/2018-11/issue.toml": issue_toml, "issues/2018-11/an-example.md": article_md},
    )
    archive, diagnostics = load_archive(root)
    assert diagnostics == [] and archive is not None
    (issue,) = archive.issues
    assert issue.draft and issue.published == date(2018, 11, 5)
    assert issue.articles[0].doi == "10.1002/cpp.2180"
    assert issue.articles[0].topics == (
        "alliance-and-therapeutic-relationship",
        "cbt",
        "depression-and-depressive-symptoms",
    )


# --- found in review: each would otherwise pass `check` and break later --------------------------------


def test_duplicate_id_blames_the_file_whose_id_line_made_it(tmp_path: Path) -> None:
    # loaded first (2018-01) is the file with the explicit id; the default-id file loads second
    root = make_content(
        tmp_path,
        {
            "issues/2018-01/first.md": article(extra='id = "2018-02-second"\n'),  # id on line 5
            "issues/2018-02/second.md": article(),
        },
    )
    problem = only(problems(root), root / "issues/2018-01/first.md")
    assert problem.line == 5 and 'duplicate article id "2018-02-second"' in problem.message


def test_two_topics_with_one_slug(tmp_path: Path) -> None:
    root = make_content(tmp_path, {"issues/2018-01/a.md": article()})
    topics = root / "topics.toml"
    topics.write_text(
        topics.read_text(encoding="utf-8") + '\n[[topic]]\nname = "CBT stuff"\nslug = "cbt"\n', encoding="utf-8"
    )
    problem = only(problems(root), topics)
    assert 'slug "cbt" is used by two topics' in problem.message and "CBT stuff" in problem.message
    assert topics.read_text(encoding="utf-8").split("\n")[problem.line - 1] == 'slug = "cbt"'


@pytest.mark.parametrize(
    ("where", "line"),
    [("title", 2), ("body", 8)],
)
def test_control_characters_are_reported_where_they_stand(tmp_path: Path, where: str, line: int) -> None:
    text = (
        article(title="A\x01title")
        if where == "title"
        else article(body="Summary.\n\nSum\x0bmary.\n\n## Practice Implications\n\nI.\n")
    )
    root = make_content(tmp_path, {"issues/2018-01/a.md": text})
    problem = only(problems(root), root / "issues/2018-01/a.md")
    assert problem.line == line and "control character U+00" in problem.message and "delete it" in problem.fix


@pytest.mark.parametrize(
    ("key", "value"), [("permalink", "https://x.org/" + "p" * 600), ("doi", "10.1234/" + "d" * 300)]
)
def test_values_too_long_to_show_are_refused(tmp_path: Path, key: str, value: str) -> None:
    root = make_content(tmp_path, {"issues/2018-01/a.md": article(extra=f'{key} = "{value}"\n')})
    problem = only(problems(root), root / "issues/2018-01/a.md")
    assert problem.line == 5 and f"{key} is" in problem.message and "at most" in problem.message


def test_a_pipe_named_like_an_article_does_not_hang_the_check(tmp_path: Path) -> None:
    root = make_content(tmp_path, {"issues/2018-01/a.md": article()})
    os.mkfifo(root / "issues/2018-01/b.md")
    assert str(only(problems(root), root / "issues/2018-01/b.md")) == (
        f"{root / 'issues/2018-01/b.md'}: not a regular file — replace it with an ordinary text file, or remove it"
    )


def test_gist_and_short_citation_are_read_and_the_gist_held_to_280_characters(tmp_path: Path) -> None:
    extra = 'gist = "Ask about the alliance   early."\nshort_citation = "Someone (2018)"\n'
    archive, diagnostics = load_archive(make_content(tmp_path, {"issues/2018-01/a.md": article(extra=extra)}))
    assert diagnostics == [] and archive is not None
    (item,) = archive.articles
    assert (item.gist, item.short_citation) == ("Ask about the alliance early.", "Someone (2018)")
    root = make_content(tmp_path, {"issues/2018-01/a.md": article(extra=f'gist = "{"g" * 281}"\n')})
    problem = only(problems(root), root / "issues/2018-01/a.md")
    assert problem.line == 5
    assert problem.message == "gist is 281 characters long (at most 280)"


# --- one list of heading spellings, for check and import ---------------------------------------------

HEADINGS = ["Practice Implications", "Practical Implication", "Implications for Practice", "Clinical Implications"]


@pytest.mark.parametrize("heading", HEADINGS)
def test_check_accepts_every_heading_spelling_import_accepts(tmp_path: Path, heading: str) -> None:
    body = f"The summary.\n\n## {heading}\n\nWhat to do.\n"
    archive, diagnostics = load_archive(make_content(tmp_path, {"issues/2018-01/a.md": article(body=body)}))
    assert archive is not None, diagnostics


@pytest.mark.parametrize("heading", HEADINGS)
def test_import_reads_every_heading_spelling_check_accepts(heading: str) -> None:
    from pprfeed.archive.importer import parse_blog_text

    text = f"January 2026\nA title\nDoe, A. (2025). Something. Journal, 2(3), 4-5.\nSum.\n{heading}\nDo.\n"
    assert [a.implications for a in parse_blog_text(text)] == [["Do."]]


def test_a_heading_that_is_not_markdown_is_reported_at_its_line_and_quoted(tmp_path: Path) -> None:
    body = "The summary.\n\nClinical Implications:\n\nWhat to do.\n"
    _, diagnostics = load_archive(make_content(tmp_path, {"issues/2018-01/a.md": article(body=body)}))
    assert [(d.line, d.message) for d in diagnostics] == [(8, '"Clinical Implications:" is not a Markdown heading')]


def test_a_heading_of_the_wrong_level_is_quoted(tmp_path: Path) -> None:
    body = "The summary.\n\n### Clinical Implications\n\nWhat to do.\n"
    _, diagnostics = load_archive(make_content(tmp_path, {"issues/2018-01/a.md": article(body=body)}))
    assert [(d.line, d.message) for d in diagnostics] == [
        (8, 'the practice-implications heading "### Clinical Implications" has the wrong level')
    ]


def test_check_summary_separates_live_scheduled_and_draft_issues(tmp_path: Path) -> None:
    from datetime import date

    from pprfeed.cli.archive import summarise

    root = make_content(
        tmp_path,
        {
            "issues/2018-01/a.md": article(),
            "issues/2026-12/b.md": article(),
            "issues/2026-12/issue.toml": "published = 2026-12-05\n",
            "issues/2027-01/c.md": article(topics='["empathy"]'),
            "issues/2027-01/issue.toml": "draft = true\n",
        },
    )
    archive, _ = load_archive(root)
    assert archive is not None
    lines = summarise(archive, "content", date(2026, 12, 1)).splitlines()
    assert lines[:5] == [
        "content: OK — 1 live issue, 1 article, 1 of 36 topics used (1 scheduled issue, 1 draft not counted)",
        "  newest issue: January 2018 (2018-01, published 2018-01-01), 1 article",
        "  oldest issue: January 2018",
        "  scheduled: December 2026 (2026-12), goes live on 2026-12-05, 1 article",
        "  draft: January 2027 (2027-01), 1 article: held back until draft = true is removed from its issue.toml",
    ]


def _the_problem(tmp_path: Path, files: dict[str, str]) -> str:
    root = make_content(tmp_path, files)
    (problem,) = problems(root)
    return str(problem).removeprefix(str(root) + "/")


@pytest.mark.parametrize("doi", ["10.12/abc", "https://example.org/10.1000/abc", "pst0000172"])
def test_a_doi_that_is_not_a_doi_is_named_with_how_to_write_one(tmp_path: Path, doi: str) -> None:
    files = {"issues/2018-01/one.md": article(extra=f'doi = "{doi}"\n')}
    assert _the_problem(tmp_path, files) == (
        f'issues/2018-01/one.md:5: doi "{doi}" is not a DOI — '
        'write the DOI as 10.<prefix>/<suffix>, e.g. doi = "10.1037/pst0000172"'
    )


@pytest.mark.parametrize(
    "written",
    ["https://dx.doi.org/10.1037/pst0000172", "DOI: 10.1037/pst0000172", "HTTP://DOI.ORG/10.1037/pst0000172."],
)
def test_a_doi_in_any_spelling_is_stored_bare(tmp_path: Path, written: str) -> None:
    root = make_content(tmp_path, {"issues/2018-01/one.md": article(extra=f'doi = "{written}"\n')})
    archive, diagnostics = load_archive(root)
    assert diagnostics == []
    assert archive is not None
    assert archive.articles[0].doi == "10.1037/pst0000172"


def test_an_email_without_a_dotted_host_is_refused(tmp_path: Path) -> None:
    files = {"issues/2018-01/one.md": article(extra='contact_email = "someone@localhost"\n')}
    assert _the_problem(tmp_path, files) == (
        'issues/2018-01/one.md:5: contact_email "someone@localhost" is not an e-mail address — '
        'write contact_email = "name@example.org" or remove it'
    )


@pytest.mark.parametrize(("written", "shown"), [("2018", "2018"), ("true", "true"), ('"soon"', '"soon"')])
def test_a_published_value_that_is_not_a_date_is_shown_as_written(tmp_path: Path, written: str, shown: str) -> None:
    files = {"issues/2018-01/one.md": article(), "issues/2018-01/issue.toml": f"published = {written}\n"}
    assert _the_problem(tmp_path, files) == (
        f"issues/2018-01/issue.toml:1: published = {shown} is not a date — "
        "write the date as YYYY-MM-DD, e.g. published = 2018-01-05"
    )


ARTICLE = article(citation="C.", body="The summary.\n\n## Practice Implications\n\nWhat to do.\n")
TWO_TOPICS = '[[topic]]\nname = "Alliance"\nslug = "alliance"\n\n[[topic]]\nname = "CBT"\n'


@pytest.mark.parametrize(
    ("files", "line"),
    [
        pytest.param(
            {"issues/2018-01/one.md": ARTICLE, "-topics.toml": ""},
            "content/topics.toml: topic vocabulary missing — create topics.toml with one [[topic]] table per topic "
            "(see content/README.md)",
            id="no_vocabulary",
        ),
        pytest.param(
            {"topics.toml": "# nothing\n", "issues/2018-01/one.md": ARTICLE},
            'content/topics.toml:1: no topics defined — add [[topic]] tables with name = "…" and slug = "…"',
            id="no_topics",
        ),
        pytest.param(
            {"topics.toml": 'topic = "alliance"\n', "issues/2018-01/one.md": ARTICLE},
            'content/topics.toml:1: no topics defined — add [[topic]] tables with name = "…" and slug = "…"',
            id="topic_not_a_table",
        ),
        pytest.param(
            {"topics.toml": '[[topic]]\nname = "Alliance"\nslug = "alliance"\n\n[[topic]]\nname = "CBT" \x01\n'},
            "content/topics.toml:6: invisible control character U+0001 on this line — delete it (it often comes with "
            "text pasted from a PDF or a word processor); feeds cannot carry it",
            id="unreadable_vocabulary",
        ),
        pytest.param(
            {
                "topics.toml": '[[topic]]\nname = "Alliance"\nslug = "alliance"\n\n[[topic]]\nslug = "cbt"\n',
                "issues/2018-01/one.md": ARTICLE,
            },
            'content/topics.toml:5: topic #2 has no name — add name = "Display Name"',
            id="topic_without_name",
        ),
        pytest.param(
            {
                "topics.toml": TWO_TOPICS + 'slug = "C B T"\n',
                "issues/2018-01/one.md": ARTICLE,
            },
            'content/topics.toml:7: topic "CBT" has a missing or malformed slug — use lowercase letters, digits and '
            'hyphens, e.g. slug = "trauma-and-or-ptsd"',
            id="topic_bad_slug",
        ),
        pytest.param(
            {
                "topics.toml": '[[topic]]\nname = "Alliance"\nslug = "alliance"\naliases = ["ok", 3]\n',
                "issues/2018-01/one.md": ARTICLE,
            },
            'content/topics.toml:4: topic "Alliance" has malformed aliases — write aliases = ["short", "other '
            'spelling"]',
            id="topic_bad_aliases",
        ),
        pytest.param(
            {
                "topics.toml": TWO_TOPICS + 'slug = "cbt"\nalias = ["x"]\n',
                "issues/2018-01/one.md": ARTICLE,
            },
            'content/topics.toml:8: unknown key "alias" — did you mean "aliases"? Rename it, or remove the line',
            id="topic_unknown_key",
        ),
        pytest.param(
            {"issues/2018-01/one.md": ARTICLE, "issues/2018-01/issue.toml": 'intro = "x"\npublished = 2017-12-31\n'},
            "content/issues/2018-01/issue.toml:2: published 2017-12-31 is before the issue's month 2018-01 — use a "
            "date on or after 2018-01-01, or move the issue to folder 2017-12",
            id="issue_published_before",
        ),
        pytest.param(
            {"issues/2018-01/one.md": ARTICLE, "issues/2018-01/issue.toml": "draft = false\nintro = 3\n"},
            'content/issues/2018-01/issue.toml:2: intro must be text — write intro = "…"',
            id="issue_intro_not_text",
        ),
        pytest.param(
            {"issues/2018-01/one.md": ARTICLE, "issues/2018-01/issue.toml": 'intro = "x"\ndraft = "yes"\n'},
            "content/issues/2018-01/issue.toml:2: draft must be true or false — write draft = true (no quotes)",
            id="issue_draft_not_bool",
        ),
        pytest.param(
            {"issues/2018-01/one.md": ARTICLE, "issues/2018-01/issue.toml": 'intro = "x"\npublish = 2018-01-05\n'},
            'content/issues/2018-01/issue.toml:2: unknown key "publish" — did you mean "published"? Rename it, or '
            "remove the line",
            id="issue_unknown_key",
        ),
        pytest.param(
            {"issues/2018-01/one.md": ARTICLE, "issues/2018-02/": None},
            "content/issues/2018-02: issue folder has no articles — add at least one <slug>.md article file, or "
            "delete the folder",
            id="empty_issue",
        ),
        pytest.param(
            {"issues/2018-01/one.md": ARTICLE.split("The summary")[0]},
            "content/issues/2018-01/one.md:6: the article has no body — after the closing +++ write the summary, "
            'then a line "## Practice Implications" and the implications',
            id="no_body",
        ),
        pytest.param(
            {"issues/2018-01/one.md": ARTICLE.replace("## Practice Implications", "Practice Implications:")},
            'content/issues/2018-01/one.md:8: "Practice Implications:" is not a Markdown heading — write the line as '
            '"## Practice Implications" (or "## " before it)',
            id="plain_heading",
        ),
        pytest.param(
            {"issues/2018-01/one.md": ARTICLE.replace("## Practice Implications\n", "")},
            'content/issues/2018-01/one.md:6: no practice-implications section — add a line "## Practice '
            'Implications" followed by the implications for clinicians',
            id="no_heading",
        ),
        pytest.param(
            {"issues/2018-01/one.md": ARTICLE.replace("## Practice", "### Practice")},
            'content/issues/2018-01/one.md:8: the practice-implications heading "### Practice Implications" has the '
            'wrong level — write it as "## Practice Implications" (two #)',
            id="heading_level",
        ),
        pytest.param(
            {"issues/2018-01/one.md": ARTICLE + "\n## Practice Implications\n\nMore.\n"},
            "content/issues/2018-01/one.md:12: a second practice-implications heading — keep one section: merge the "
            "two",
            id="two_headings",
        ),
        pytest.param(
            {"issues/2018-01/one.md": ARTICLE.replace("The summary.\n", "")},
            "content/issues/2018-01/one.md:6: the summary before the practice implications is empty — write the "
            "summary above the heading",
            id="empty_summary",
        ),
        pytest.param(
            {"issues/2018-01/one.md": ARTICLE.replace("What to do.\n", "")},
            "content/issues/2018-01/one.md:8: the practice-implications section is empty — write the implications "
            "below the heading",
            id="empty_implications",
        ),
    ],
)
def test_each_mistake_reads_as_one_whole_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str | None], line: str
) -> None:
    """What `pprfeed check` prints for each mistake, path:line: what — fix, matched whole."""
    root = make_content(
        tmp_path, {name: data for name, data in files.items() if data is not None and not name.startswith("-")}
    )
    for name, data in files.items():
        if data is None:
            (root / name).mkdir(parents=True, exist_ok=True)
    if "-topics.toml" in files:
        (root / "topics.toml").unlink()
    monkeypatch.chdir(tmp_path)
    _, diagnostics = load_archive(Path("content"))
    assert [str(d) for d in diagnostics] == [line]


# --- every mistake as the line `pprfeed check` prints it ------------------------------------------------------


def printed(root: Path) -> list[str]:
    """The diagnostics of the content folder `root`, as `pprfeed check` prints them, paths shown from `root`."""
    _, diagnostics = load_archive(root)
    return [str(d).replace(f"{root}{os.sep}", "") for d in diagnostics]


FIX_TOPICS = "write a name, slug or alias from topics.toml (`pprfeed topic` lists them), or add the topic there"
FIX_FRONT = "start the file with a line +++, the TOML fields (title, topics, citation), then another +++ line"


@pytest.mark.parametrize(
    ("files", "lines"),
    [
        (
            {"issues/2018-01/a.md": article(topics='["aliance", "zzzzqq"]')},
            [
                'issues/2018-01/a.md:3: unknown topic "aliance" — did you mean "Alliance and Therapeutic Relationship" '
                "(slug alliance-and-therapeutic-relationship)? Write a name, slug or alias from topics.toml, or add "
                "the topic there",
                f'issues/2018-01/a.md:3: unknown topic "zzzzqq" — {FIX_TOPICS}',
            ],
        ),
        (
            {"issues/2018-01/a.md": article(topics='["alliance", "Alliance and Therapeutic Relationship"]')},
            [
                'issues/2018-01/a.md:3: warning: topic "Alliance and Therapeutic Relationship" is listed twice '
                "(Alliance and Therapeutic Relationship) — remove the repeat"
            ],
        ),
        (
            {"issues/2018-01/first.md": article(), "issues/2018-02/second.md": article(extra='id = "2018-01-first"\n')},
            [
                'issues/2018-02/second.md:5: duplicate article id "2018-01-first" (also the id of '
                'issues/2018-01/first.md) — ids must be unique: give this file its own id = "…" in the front matter, '
                "or remove its id line to use the default (YYYY-MM-<file name>)"
            ],
        ),
        (
            {"issues/2018-01/___.md": article()},
            [
                'issues/2018-01/___.md: file name "___.md" is not a slug — rename it to lowercase letters, digits and '
                "hyphens, e.g. my-article.md"
            ],
        ),
        (
            {"issues/2018-01/a.md": "+++\n+++\nThe summary.\n\n## Practice Implications\n\nDo.\n"},
            [
                'issues/2018-01/a.md:1: required field "title" is missing — add title = … to the front matter: the '
                "article's headline, as readers will see it",
                'issues/2018-01/a.md:1: required field "topics" is missing — add topics = … to the front matter: a '
                "list of topics from content/topics.toml (names, slugs or aliases)",
                'issues/2018-01/a.md:1: required field "citation" is missing — add citation = … to the front matter: '
                "the full reference of the summarised article",
            ],
        ),
        (
            {"issues/2018-01/Bad_Name.md": article()},
            [
                'issues/2018-01/Bad_Name.md: file name "Bad_Name.md" is not a slug — rename it to lowercase letters, '
                "digits and hyphens, e.g. bad-name.md"
            ],
        ),
        (
            {"issues/2018-01/ok.md": article(extra='id = "Not OK"\n')},
            [
                'issues/2018-01/ok.md:5: id "Not OK" has characters ids cannot hold — use lowercase letters, digits '
                "and hyphens"
            ],
        ),
        (
            {"issues/2018-01/a.md": '---\ntitle: "T"\n---\nBody\n'},
            [
                "issues/2018-01/a.md:1: front matter between --- lines (YAML) is not read — use +++ lines and TOML "
                'instead: replace both --- lines with +++ and write key = "value"'
            ],
        ),
        ({"issues/2018-01/a.md": 'title = "T"\n'}, [f"issues/2018-01/a.md:1: front matter missing — {FIX_FRONT}"]),
        ({"issues/2018-01/a.md": ""}, [f"issues/2018-01/a.md:1: the file is empty — {FIX_FRONT}"]),
        (
            {"issues/2018-01/a.md": '+++\ntitle = "T"\n\nBody\n'},
            ["issues/2018-01/a.md:1: front matter is never closed — add a line +++ after the last front-matter field"],
        ),
        (
            {"issues/2018-01/a.md": article(body="")},
            [
                "issues/2018-01/a.md:6: the article has no body — after the closing +++ write the summary, then a "
                'line "## Practice Implications" and the implications'
            ],
        ),
        (
            {"issues/2018-01/a.md": article(extra='doi = "10.12/x"\n')},
            [
                'issues/2018-01/a.md:5: doi "10.12/x" is not a DOI — write the DOI as 10.<prefix>/<suffix>, e.g. '
                'doi = "10.1037/pst0000172"'
            ],
        ),
        (
            {"issues/2018-01/a.md": article(extra='contact_email = "someone@localhost"\n')},
            [
                'issues/2018-01/a.md:5: contact_email "someone@localhost" is not an e-mail address — write '
                'contact_email = "name@example.org" or remove it'
            ],
        ),
        (
            {"issues/2018-01/a.md": article(extra='permalink = "www.pprnet.ca/x"\n')},
            [
                'issues/2018-01/a.md:5: permalink "www.pprnet.ca/x" is not an http(s) URL — write the full address, '
                'e.g. permalink = "https://www.pprnet.ca/…"'
            ],
        ),
        (
            {"issues/2018-01/a.md": article(extra='retracted = "yes"\n')},
            ["issues/2018-01/a.md:5: retracted must be true or false — write retracted = true (no quotes)"],
        ),
        (
            {"issues/2018-01/a.md": article(extra="retracted = true\n")},
            [
                "issues/2018-01/a.md:5: a retracted article needs the date of its retraction — add updated = "
                "YYYY-MM-DD (the day it is retracted) to the front matter, so readers see the entry change"
            ],
        ),
        (
            {"issues/2018-01/a.md": article(title="x" * 301)},
            [
                "issues/2018-01/a.md:2: title is 301 characters long (at most 300) — shorten it: a longer title "
                "cannot be shown whole in feeds and chat posts"
            ],
        ),
        (
            {"issues/2018-01/a.md": article(), "issues/2018-01/issue.toml": "intro = 3\n"},
            ['issues/2018-01/issue.toml:1: intro must be text — write intro = "…"'],
        ),
        (
            {"issues/2018-01/a.md": article(), "issues/2018-01/issue.toml": 'intro = "x"\npublished = 2018\n'},
            [
                "issues/2018-01/issue.toml:2: published = 2018 is not a date — write the date as YYYY-MM-DD, e.g. "
                "published = 2018-01-05"
            ],
        ),
        (
            {"issues/2018-01/issue.toml": 'intro = "x"\n'},
            [
                "issues/2018-01: issue folder has no articles — add at least one <slug>.md article file, or delete the "
                "folder"
            ],
        ),
        (
            {"issues/": ""},
            [
                "issues: warning: the archive has no issues yet — add a YYYY-MM folder with an article file (see "
                "content/README.md)"
            ],
        ),
    ],
    ids=lambda value: "" if isinstance(value, dict) else None,
)
def test_each_article_and_issue_mistake_as_check_prints_it(
    tmp_path: Path, files: dict[str, str], lines: list[str]
) -> None:
    assert printed(make_content(tmp_path, files)) == lines


@pytest.mark.parametrize(
    ("vocabulary", "line"),
    [
        ("title = 1\n", 'topics.toml:1: no topics defined — add [[topic]] tables with name = "…" and slug = "…"'),
        ('[[topic]]\nslug = "a"\n', 'topics.toml:1: topic #1 has no name — add name = "Display Name"'),
        (
            '[[topic]]\nname = "A"\nslug = "a"\naliases = ["ok", " "]\n',
            'topics.toml:4: topic "A" has malformed aliases — write aliases = ["short", "other spelling"]',
        ),
        (
            '[[topic]]\nname = "A"\nslug = "a"\nformer_slugs = ["Old One"]\n',
            'topics.toml:4: topic "A" has malformed former_slugs — write former_slugs = ["old-slug"], each as a slug '
            "once was (lowercase letters, digits, hyphens)",
        ),
        (
            '[[topic]]\nname = "A"\nslug = "a"\n\n[[topic]]\nname = "B"\nslug = "b"\naliases = [" "]\n',
            'topics.toml:8: topic "B" has malformed aliases — write aliases = ["short", "other spelling"]',
        ),
        (
            '[[topic]]\nname = "A"\nslug = "a"\n\n[[topic]]\nname = "B"\nslug = "b"\nformer_slugs = ["B b"]\n',
            'topics.toml:8: topic "B" has malformed former_slugs — write former_slugs = ["old-slug"], each as a slug '
            "once was (lowercase letters, digits, hyphens)",
        ),
        (
            '[[topic]]\nname = "A"\nslug = "a"\n\n[[topic]]\nname = "B"\nslug = "b"\nformer_slugs = ["a"]\n',
            'topics.toml:8: former slug "a" of topic "B" is also the slug of "A" — a slug names one feed: remove it '
            "from former_slugs or rename the other topic",
        ),
        (
            '[[topic]]\nname = "A"\nslug = "a"\n\n[[topic]]\nname = "B"\nslug = "b"\naliases = ["A"]\n',
            'topics.toml:5: "A" of topic "B" is already used by topic "a" — every name, slug and alias must point at '
            "one topic only: remove one of them",
        ),
        (
            '[[topic]]\nname = "A"\nslug = "a"\n\n[[topic]]\nname = "B"\nslug = "a"\n',
            'topics.toml:7: slug "a" is used by two topics ("A" and "B") — every topic needs its own slug: rename one '
            "(never a slug already used in published feeds)",
        ),
    ],
)
def test_each_vocabulary_mistake_as_check_prints_it(tmp_path: Path, vocabulary: str, line: str) -> None:
    root = make_content(tmp_path, {"issues/2018-01/x.md": article(topics='["a"]')})
    (root / "topics.toml").write_text(vocabulary, encoding="utf-8")
    assert printed(root) == [line]


def test_missing_vocabulary_issues_and_content_folder_as_check_prints_them(tmp_path: Path) -> None:
    root = make_content(tmp_path, {"issues/2018-01/x.md": article()})
    (root / "topics.toml").unlink()
    shutil.rmtree(root / "issues")
    assert printed(root) == [
        "topics.toml: topic vocabulary missing — create topics.toml with one [[topic]] table per topic (see "
        "content/README.md)",
        "issues: issues folder missing — create content/issues/YYYY-MM/ folders holding the article files",
    ]
    missing = root / "nope"
    assert [str(d) for d in load_archive(missing)[1]] == [
        f"{missing}: content folder not found — pass --content DIR pointing at a folder with topics.toml and issues/"
    ]


@pytest.mark.parametrize(
    ("name", "meant"),
    [
        ("2026-1", "2026-01"),
        ("2026_01", "2026-01"),
        ("2026.1", "2026-01"),
        ("2026 1", "2026-01"),
        ("20261", "2026-01"),
        ("2026/12", "2026-12"),
        (" 2026-3 ", "2026-03"),
        ("2026-13", None),
        ("2026-0", None),
        ("Dec 2026", "2026-12"),
        ("dec.-2026", "2026-12"),
        ("December, 2026", "2026-12"),
        ("2026 December", "2026-12"),
        ("2026-dec", "2026-12"),
        ("jan2026", "2026-01"),
        ("Sept 2026", "2026-09"),
        ("de-2026", None),  # two letters could be several months
        ("xyz 2026", None),
        ("2026", None),
    ],
)
def test_a_near_miss_folder_name_is_read_as_the_month_it_meant(name: str, meant: str | None) -> None:
    assert month_folder_guess(name) == meant


FIX_DOI = 'write the DOI as 10.<prefix>/<suffix>, e.g. doi = "10.1037/pst0000172"'
FIX_KEYS = (
    "remove the line, or use one of the keys citation, contact_email, doi, gist, id, permalink, research_type, "
    "retracted, retraction_reason, short_citation, title, topics, updated"
)


def test_problems_go_file_by_file_and_top_to_bottom_in_each(tmp_path: Path) -> None:
    # the unknown key (line 6) is found before the DOI (line 5): it is printed after it
    files = {"issues/2018-01/a.md": article(extra='doi = "nope"\nzebra = 1\n')}
    files["issues/2018-01/b.md"] = article(extra='doi = "nope"\n')
    assert printed(make_content(tmp_path, files)) == [
        f'issues/2018-01/a.md:5: doi "nope" is not a DOI — {FIX_DOI}',
        f'issues/2018-01/a.md:6: unknown key "zebra" — {FIX_KEYS}',
        f'issues/2018-01/b.md:5: doi "nope" is not a DOI — {FIX_DOI}',
    ]


def test_a_duplicate_id_blames_the_file_whose_id_line_made_it(tmp_path: Path) -> None:
    # the older file wrote the id; the newer one has it by default (month + file name)
    files = {"issues/2018-01/a.md": article(extra='id = "2018-02-b"\n'), "issues/2018-02/b.md": article()}
    assert printed(make_content(tmp_path, files)) == [
        'issues/2018-01/a.md:5: duplicate article id "2018-02-b" (also the id of issues/2018-02/b.md) — ids must be '
        'unique: give this file its own id = "…" in the front matter, or remove its id line to use the default '
        "(YYYY-MM-<file name>)"
    ]


def test_an_id_line_in_the_body_is_not_the_id_the_duplicate_is_blamed_on(tmp_path: Path) -> None:
    # b.md has the id by default; the lines `id = 3` and `+++` in its summary are text, not front matter
    body = "The summary.\n\nid = 3\n\n+++\n\n## Practice Implications\n\nWhat to do.\n"
    files = {"issues/2018-01/a.md": article(extra='id = "2018-02-b"\n'), "issues/2018-02/b.md": article(body=body)}
    assert printed(make_content(tmp_path, files)) == [
        'issues/2018-01/a.md:5: duplicate article id "2018-02-b" (also the id of issues/2018-02/b.md) — ids must be '
        'unique: give this file its own id = "…" in the front matter, or remove its id line to use the default '
        "(YYYY-MM-<file name>)"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+++", "front matter is never closed — add a line +++ after the last front-matter field"),
        ("\n+++", f"front matter missing — {FIX_FRONT}"),  # the first line is the empty one
    ],
)
def test_a_file_of_one_front_matter_line_is_told_what_is_missing(tmp_path: Path, text: str, expected: str) -> None:
    assert printed(make_content(tmp_path, {"issues/2018-01/one.md": text})) == [f"issues/2018-01/one.md:1: {expected}"]


def test_a_duplicate_id_both_files_wrote_is_blamed_on_the_later_file(tmp_path: Path) -> None:
    files = {
        "issues/2018-01/a.md": article(extra='id = "same"\n'),
        "issues/2018-02/b.md": article(extra='id = "same"\n'),
    }
    assert printed(make_content(tmp_path, files)) == [
        'issues/2018-02/b.md:5: duplicate article id "same" (also the id of issues/2018-01/a.md) — ids must be '
        'unique: give this file its own id = "…" in the front matter, or remove its id line to use the default '
        "(YYYY-MM-<file name>)"
    ]


def test_an_issue_folder_that_cannot_be_listed_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_content(tmp_path, {"issues/2018-01/a.md": article()})
    scandir = os.scandir
    locked = root / "issues/2018-01"

    def refusing(path: Path) -> object:
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    assert printed(root) == [
        "issues/2018-01: the folder cannot be listed (Permission denied) — check the folder's permissions"
    ]


def test_a_vocabulary_written_as_inline_tables_is_checked_topic_by_topic(tmp_path: Path) -> None:
    # without [[topic]] lines, each problem is placed at the array's first line (after those without a line)
    root = make_content(tmp_path, {"issues/2018-01/a.md": article(topics='["c"]')})
    (root / "topics.toml").write_text(
        "topic = [\n"
        '  { name = "B", slug = "Bad" },\n'
        '  { name = "C", slug = "c", aliases = [" "], former_slugs = ["X Y"], zebra = 1 },\n'
        '  { name = "D", slug = "c" },\n'
        '  { name = "E", slug = "e", former_slugs = ["c"] },\n'
        '  { slug = "a" },\n'
        "]\n",
        encoding="utf-8",
    )
    assert printed(root) == [
        'topics.toml: topic #5 has no name — add name = "Display Name"',
        'topics.toml:1: topic "B" has a missing or malformed slug — use lowercase letters, digits and hyphens, e.g. '
        'slug = "trauma-and-or-ptsd"',
        'topics.toml:1: unknown key "zebra" — remove the line, or use one of the keys aliases, description, '
        "former_slugs, name, slug",
        'topics.toml:1: topic "C" has malformed aliases — write aliases = ["short", "other spelling"]',
        'topics.toml:1: topic "C" has malformed former_slugs — write former_slugs = ["old-slug"], each as a slug once '
        "was (lowercase letters, digits, hyphens)",
        'topics.toml:1: slug "c" is used by two topics ("C" and "D") — every topic needs its own slug: rename one '
        "(never a slug already used in published feeds)",
        'topics.toml:1: former slug "c" of topic "E" is also the slug of "C" — a slug names one feed: remove it from '
        "former_slugs or rename the other topic",
    ]


def test_the_topics_after_one_without_a_name_are_still_checked(tmp_path: Path) -> None:
    root = make_content(tmp_path, {"issues/2018-01/a.md": article()})
    (root / "topics.toml").write_text(
        '[[topic]]\nslug = "a"\n\n[[topic]]\nname = "B"\nslug = "Bad"\n', encoding="utf-8"
    )
    assert printed(root) == [
        'topics.toml:1: topic #1 has no name — add name = "Display Name"',
        'topics.toml:6: topic "B" has a missing or malformed slug — use lowercase letters, digits and hyphens, e.g. '
        'slug = "trauma-and-or-ptsd"',
    ]


def test_hidden_files_in_an_issue_folder_are_passed_over_in_silence(tmp_path: Path) -> None:
    root = make_content(tmp_path, {"issues/2018-01/a.md": article(), "issues/2018-01/.notes": "to do"})
    archive, diagnostics = load_archive(root)
    assert diagnostics == [] and archive is not None


def test_a_slug_that_was_another_topics_former_slug_names_that_topic(tmp_path: Path) -> None:
    root = make_content(tmp_path, {"issues/2018-01/a.md": article(topics='["a"]')})
    (root / "topics.toml").write_text(
        '[[topic]]\nname = "A"\nslug = "a"\nformer_slugs = ["x"]\n\n[[topic]]\nname = "B"\nslug = "x"\n',
        encoding="utf-8",
    )
    assert printed(root) == [
        'topics.toml:8: slug "x" is used by two topics ("A" and "B") — every topic needs its own slug: rename one '
        "(never a slug already used in published feeds)"
    ]


def test_a_renamed_topic_keeps_its_former_slugs(tmp_path: Path) -> None:
    root = make_content(tmp_path, {"issues/2018-01/a.md": article(topics='["a"]')})
    (root / "topics.toml").write_text(
        '[[topic]]\nname = "A"\nslug = "a"\nformer_slugs = ["x", "y"]\n', encoding="utf-8"
    )
    archive, diagnostics = load_archive(root)
    assert diagnostics == [] and archive is not None
    assert archive.topics[0].former_slugs == ("x", "y")


def test_the_folders_after_a_stray_file_or_an_editor_leftover_are_still_checked(tmp_path: Path) -> None:
    files = {
        "issues/2000.txt": "x",
        "issues/2018-01/a.md": article(extra='doi = "nope"\n'),
        ".DS_Store": "x",
        "stray.txt": "x",
    }
    assert printed(make_content(tmp_path, files)) == [
        "issues/2000.txt: stray file in issues/ — issues/ holds only YYYY-MM folders: move an article into its "
        "month's folder, anything else out",
        f'issues/2018-01/a.md:5: doi "nope" is not a DOI — {FIX_DOI}',
        ".DS_Store: note: skipped: an editor's backup or system file — nothing to do",
        "stray.txt: stray entry in the content folder — the content folder holds only topics.toml, synonyms.toml, "
        "issues/ and README.md: move it elsewhere or delete it",
    ]
