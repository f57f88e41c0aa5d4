"""Importing blog-page text: the seed page reproduces the six archived articles."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from conftest import CONTENT, SEED
from pprfeed.archive.importer import ImportError_, parse_blog_text, render_article_file, suggest_topics, write_imported
from pprfeed.archive.load import load_archive
from pprfeed.cli import main

PAGE = """Blog intro that is skipped. November 2018 is mentioned here but not as a heading.

March 2018
A First Title
Author, A. (2018). First paper. Journal, 1(2), 3-4. https://dx.doi.org/10.1000/abc.1
First summary paragraph.
Second summary paragraph.
Practical Implications
Do the first thing.
Author email: someone@example.org.
A Second Title In The Same Month
Other, B. (2017). Second paper. Journal, 2, 5. DOI: 10.2000/xyz
Second summary.
Practice Implication
Do the second thing.
"""


@pytest.fixture
def empty_content(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    (root / "issues").mkdir(parents=True)
    shutil.copy(CONTENT / "topics.toml", root / "topics.toml")
    return root


def test_seed_page_reproduces_the_archive(archive, empty_content: Path) -> None:
    imported = parse_blog_text(SEED.read_text(encoding="utf-8"))
    write_imported(imported, empty_content, list(archive.topics))
    fresh, diagnostics = load_archive(empty_content)
    assert fresh is not None, "\n".join(map(str, diagnostics))

    def facts(articles):
        return sorted((a.id, a.month, a.title, a.citation, a.doi) for a in articles)

    assert len(fresh.articles) == 6
    assert facts(fresh.articles) == facts(archive.articles)


def test_seed_page_summaries_and_implications_match(archive) -> None:
    imported = {(a.month, a.title): a for a in parse_blog_text(SEED.read_text(encoding="utf-8"))}
    for article in archive.articles:
        source = imported[(article.month, article.title)]
        assert "\n\n".join(source.summary) == article.summary_md
        assert "\n\n".join(source.implications) == article.implications_md


def test_seed_dois_in_three_spellings_become_fields() -> None:
    imported = parse_blog_text(SEED.read_text(encoding="utf-8"))
    with_doi = {a.month: (a.doi, a.citation) for a in imported if a.doi}
    assert {month: doi for month, (doi, _) in with_doi.items()} == {
        "2018-08": "10.1037/pst0000172",  # http://dx.doi.org/…
        "2018-03": "10.1002/cpp.2180",  # DOI: …
        "2017-10": "10.1111/jcpp.12767",  # doi:…
    }
    assert not any("doi" in citation.lower() for _, citation in with_doi.values())


def test_headings_email_and_two_articles_in_one_month() -> None:
    first, second = parse_blog_text(PAGE)
    assert (first.month, first.title, first.doi) == ("2018-03", "A First Title", "10.1000/abc.1")
    assert first.citation == "Author, A. (2018). First paper. Journal, 1(2), 3-4."
    assert first.summary == ["First summary paragraph.", "Second summary paragraph."]
    assert first.implications == ["Do the first thing."]
    assert first.contact_email == "someone@example.org"
    assert (second.month, second.title, second.doi) == ("2018-03", "A Second Title In The Same Month", "10.2000/xyz")
    assert second.implications == ["Do the second thing."]
    assert second.contact_email is None


@pytest.mark.parametrize("heading", ["Practice Implications", "Practical Implications", "Practice Implication"])
def test_each_heading_spelling(heading: str) -> None:
    (article,) = parse_blog_text(f"January 2018\nTitle\nA. (2018). Paper.\nSummary.\n{heading}\nImplication.\n")
    assert article.summary == ["Summary."] and article.implications == ["Implication."]


def test_seed_author_email_line() -> None:
    emails = {a.month: a.contact_email for a in parse_blog_text(SEED.read_text(encoding="utf-8"))}
    assert emails["2018-01"] == "bwampold@wisc.edu"
    assert sum(email is not None for email in emails.values()) == 1


def test_article_without_implications_is_a_clear_error() -> None:
    with pytest.raises(ImportError_) as caught:
        parse_blog_text("intro\n\nJanuary 2018\nA Title\nA. (2018). Paper.\nOnly a summary.\n")
    assert caught.value.problems == [
        (
            4,
            '"A Title" has no practice-implications section',
            'add a line "Practice Implications" after the summary, followed by the implications',
        )
    ]
    assert str(caught.value).startswith('line 4: "A Title" has no practice-implications section — add a line')


def test_every_import_problem_is_reported() -> None:
    page = (
        "January 2018\nLonely Title\n"
        "February 2018\nT\nA. (2018). P.\nS.\nPractice Implications\nI.\nPractice Implications\nJ.\n"
        "March 2018\nNo Implications\nB. (2018). Q.\nSummary.\n"
    )
    with pytest.raises(ImportError_) as caught:
        parse_blog_text(page)
    assert [(line, what) for line, what, _ in caught.value.problems] == [
        (2, '"Lonely Title" has no citation line after its title'),
        (9, 'a second practice-implications heading in "T"'),
        (12, '"No Implications" has no practice-implications section'),
    ]


def test_rendered_file_loads_and_suggested_topics_come_from_the_vocabulary(archive, empty_content: Path) -> None:
    first, _ = parse_blog_text(PAGE)
    first.summary.append("The therapeutic alliance and the alliance with depression clients.")
    slugs = suggest_topics(first, list(archive.topics))
    assert slugs and set(slugs) <= {t.slug for t in archive.topics}
    text = render_article_file(first, slugs)
    assert text.startswith('+++\ntitle = "A First Title"\n')
    assert 'doi = "10.1000/abc.1"' in text and 'contact_email = "someone@example.org"' in text
    (empty_content / "issues" / "2018-03").mkdir()
    (empty_content / "issues" / "2018-03" / "a-first-title.md").write_text(text, encoding="utf-8")
    loaded, diagnostics = load_archive(empty_content)
    assert loaded is not None, diagnostics


def test_quotes_and_backslashes_survive_the_round_trip(archive, empty_content: Path) -> None:
    page = 'May 2018\nThe "Real" Thing \\ Other\nA. (2018). "Quoted" paper.\nS.\nPractice Implications\nI.\n'
    (article,) = parse_blog_text(page)
    write_imported([article], empty_content, list(archive.topics))
    path = empty_content / "issues" / "2018-05" / f"{article.slug}.md"
    path.write_text(path.read_text(encoding="utf-8").replace("topics = []", 'topics = ["cbt"]'), encoding="utf-8")
    loaded, diagnostics = load_archive(empty_content)
    assert loaded is not None, diagnostics
    assert loaded.articles[0].title == 'The "Real" Thing \\ Other'
    assert loaded.articles[0].citation == 'A. (2018). "Quoted" paper.'


def test_existing_files_are_kept_unless_forced(archive, empty_content: Path) -> None:
    imported = parse_blog_text(PAGE)
    write_imported(imported, empty_content, list(archive.topics))
    with pytest.raises(FileExistsError):
        write_imported(imported, empty_content, list(archive.topics))
    write_imported(imported, empty_content, list(archive.topics), force=True)


def test_import_command(empty_content: Path, capsys) -> None:
    assert main(["import", str(SEED), "--content", str(empty_content)]) == 0
    out = capsys.readouterr().out
    assert out.count(".md\n") == 6 and out.count("issue.toml (draft = true") == 6
    assert "6 articles imported" in out and "Review each file's suggested topics" in out
    assert main(["import", str(SEED), "--content", str(empty_content)]) == 2
    assert "--force" in capsys.readouterr().err


def test_import_command_errors(tmp_path: Path, empty_content: Path, capsys) -> None:
    missing = tmp_path / "missing.txt"
    assert main(["import", str(missing), "--content", str(empty_content)]) == 2
    assert "no such file" in capsys.readouterr().err
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes(b"January 2018\nTitl\xe9\n")
    assert main(["import", str(latin1), "--content", str(empty_content)]) == 2
    assert "not UTF-8" in capsys.readouterr().err
    shapeless = tmp_path / "shapeless.txt"
    shapeless.write_text("just some text\n", encoding="utf-8")
    assert main(["import", str(shapeless), "--content", str(empty_content)]) == 1
    assert "no month heading" in capsys.readouterr().err
    no_implications = tmp_path / "no-implications.txt"
    no_implications.write_text("January 2018\nA Title\nA. (2018). P.\nSummary.\n", encoding="utf-8")
    assert main(["import", str(no_implications), "--content", str(empty_content)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f'{no_implications}:2: "A Title" has no practice-implications section — add a line ' + (
        '"Practice Implications" after the summary, followed by the implications'
    )
    assert err[1] == f"pprfeed import: {no_implications}: 1 problem found; nothing was imported"


def test_short_aliases_count_for_suggestions(archive) -> None:
    imported = {a.month: a for a in parse_blog_text(SEED.read_text(encoding="utf-8"))}
    suggested = suggest_topics(imported["2018-03"], list(archive.topics))
    assert set(suggested) == {"alliance-and-therapeutic-relationship", "cbt", "depression-and-depressive-symptoms"}


def test_imported_issues_are_held_back_as_drafts(archive, empty_content: Path, capsys) -> None:
    assert main(["import", str(SEED), "--content", str(empty_content)]) == 0
    assert "delete `draft = true`" in capsys.readouterr().out
    imported, diagnostics = load_archive(empty_content)
    assert imported is not None, diagnostics
    assert len(imported.issues) == 6 and all(issue.draft for issue in imported.issues)
    assert imported.published(date(2030, 1, 1)).articles == ()
    # an issue.toml the editor already wrote is left alone
    month = empty_content / "issues" / "2018-11"
    (month / "issue.toml").write_text('intro = "Hello"\n', encoding="utf-8")
    assert main(["import", str(SEED), "--content", str(empty_content), "--force"]) == 0
    assert (month / "issue.toml").read_text(encoding="utf-8") == 'intro = "Hello"\n'


def test_import_of_a_folder_is_a_clear_error(tmp_path: Path, empty_content: Path, capsys) -> None:
    assert main(["import", str(tmp_path), "--content", str(empty_content)]) == 2
    err = capsys.readouterr().err
    assert "cannot be read" in err and "Traceback" not in err and "internal error" not in err


def test_other_month_and_heading_spellings_real_pages_use() -> None:
    page = (
        "Nov, 2026\nRepairing Ruptures\nSafran, J. (2026). Ruptures. Psychotherapy, 1(1), 1-2.\nSummary.\n"
        "Practice Implications: Watch for ruptures.\nMore.\n"
        "Sept. 2026\nAnother\nDoe, A. (2025). Something. Journal, 2(3), 4-5.\nSum.\nImplications for Practice\nDo.\n"
        "March 2026\nThird\nRoe, B. (2024). X. J, 1, 2.\nS.\nCLINICAL IMPLICATIONS\nI.\n"
    )
    found = [(a.month, a.title, a.implications) for a in parse_blog_text(page)]
    assert found == [
        ("2026-11", "Repairing Ruptures", ["Watch for ruptures.", "More."]),
        ("2026-09", "Another", ["Do."]),
        ("2026-03", "Third", ["I."]),
    ]


def test_words_that_only_look_like_months_are_not_headings() -> None:
    page = "Marketing 2018\nMay 2018\nTitle\nA. (2018). P. J.\nS.\nPractice Implications\nI.\n"
    (article,) = parse_blog_text(page)
    assert article.month == "2018-05" and article.title == "Title"


LOST_BEFORE = """March 2018
Ψυχοθεραπεία και συμμαχία
Author, A. (2018). Greek paper. Journal, 1(2), 3-4.
A summary.
Practice Implications
Do one thing.
Same Title
Author, B. (2018). Second paper. Journal, 1(2), 3-4.
Another summary.
Practice Implications
Do another thing.
Same Title
Author, C. (2018). Third paper. Journal, 1(2), 3-4.
A third summary.
Practice Implications
Do a third thing.
"""


def test_a_title_without_ascii_letters_gets_a_visible_file(archive, empty_content: Path) -> None:
    written = write_imported(parse_blog_text(LOST_BEFORE), empty_content, list(archive.topics))
    assert not any(path.name.startswith(".") for path in written)


def test_articles_sharing_a_title_in_a_month_get_numbered_files(archive, empty_content: Path) -> None:
    written = write_imported(parse_blog_text(LOST_BEFORE), empty_content, list(archive.topics))
    assert sorted(p.name for p in written if p.suffix == ".md") == ["article.md", "same-title-2.md", "same-title.md"]


def test_import_prints_the_number_of_files_it_wrote(empty_content: Path, tmp_path: Path, capsys) -> None:
    page = tmp_path / "page.txt"
    page.write_text(LOST_BEFORE, encoding="utf-8")
    assert main(["import", str(page), "--content", str(empty_content)]) == 0
    files = list((empty_content / "issues" / "2018-03").glob("*.md"))
    assert f"{len(files)} articles imported" in capsys.readouterr().out


@pytest.mark.parametrize(
    "doi",
    ["https://dx.doi.org/10.1000/abc.1.", "doi:10.1000/abc.1.", "DOI: 10.1000/abc.1;", "10.1000/abc.1,"],
)
def test_a_doi_ending_the_sentence_leaves_one_full_stop(doi: str) -> None:
    (article,) = parse_blog_text(
        f"March 2018\nA Title\nAuthor, A. (2018). Paper. Journal, 1(2), 3-4. {doi}\nSummary.\n"
        "Practice Implications\nDo it.\n"
    )
    assert (article.citation, article.doi) == ("Author, A. (2018). Paper. Journal, 1(2), 3-4.", "10.1000/abc.1")


def test_a_doi_inside_the_citation_is_taken_out_of_its_sentence() -> None:
    (article,) = parse_blog_text(
        "March 2018\nA Title\nAuthor, A. (2018). Paper, doi:10.1000/abc. Journal, 1(2), 3-4\nSummary.\n"
        "Practice Implications\nDo it.\n"
    )
    assert article.citation == "Author, A. (2018). Paper. Journal, 1(2), 3-4."


def test_import_into_content_that_fails_check_imports_nothing_and_exits_1(tmp_path: Path, capsys) -> None:
    broken = tmp_path / "content"
    broken.mkdir()
    (broken / "topics.toml").write_text("topics = [\n", encoding="utf-8")
    assert main(["import", str(SEED), "--content", str(broken)]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"pprfeed import: {broken} must pass `pprfeed check` before importing into it"
    )
    assert sorted(path.name for path in broken.iterdir()) == ["topics.toml"]
