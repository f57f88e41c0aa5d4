"""A subscription never breaks: published ids and topic slugs are guarded, retractions update entries."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import feedparser
import pytest

from conftest import empty_content, write_article
from feedkit import SITE, build, load
from pprfeed.cli import main
from pprfeed.site.build import LostAddresses
from pprfeed.site.feeds import ENTRY_ID_PREFIX
from pprfeed.site.published import PUBLISHED_FILE

ATOM = "{http://www.w3.org/2005/Atom}"
RENAMED = "do-common-factors-matter"


SMALL_VOCABULARY = """\
[[topic]]
name = "Alliance and Therapeutic Relationship"
slug = "alliance-and-therapeutic-relationship"
aliases = ["alliance"]

[[topic]]
name = "Attachment"
slug = "attachment"

[[topic]]
name = "Cognitive Therapy (CT) and Cognitive-Behavioural Therapy (CBT)"
slug = "cbt"
aliases = ["cbt"]

[[topic]]
name = "Empathy"
slug = "empathy"
"""


def small_content(folder: Path) -> Path:
    """A content folder with no issues and four topics (one that no test gives articles): quick to build."""
    empty_content(folder)
    (folder / "topics.toml").write_text(SMALL_VOCABULARY, encoding="utf-8")
    return folder


@pytest.fixture
def content(tmp_path: Path) -> Path:
    folder = small_content(tmp_path / "content")
    write_article(folder, "2018-07", "do-common-factors-matter-in-psychotherapy", "Do common factors matter?", ["cbt"])
    write_article(folder, "2018-07", "another", "Another study", ["empathy"])
    return folder


def rename(content: Path, extra: str = "") -> None:
    (content / "issues" / "2018-07" / "do-common-factors-matter-in-psychotherapy.md").unlink()
    write_article(content, "2018-07", RENAMED, "Do common factors matter?", ["cbt"], extra=extra)


def lost(content: Path, out: Path) -> list[str]:
    with pytest.raises(LostAddresses) as raised:
        build(content, out)
    return [str(problem) for problem in raised.value.problems]


def test_the_build_remembers_what_it_published(content: Path, tmp_path: Path) -> None:
    build(content, tmp_path / "feeds")
    record = json.loads((tmp_path / "feeds" / PUBLISHED_FILE).read_text(encoding="utf-8"))
    assert sorted(record["articles"]) == ["2018-07-another", "2018-07-do-common-factors-matter-in-psychotherapy"]


def test_a_renamed_article_is_refused_naming_the_old_id(content: Path, tmp_path: Path) -> None:
    build(content, tmp_path / "feeds")
    rename(content)
    assert '"2018-07-do-common-factors-matter-in-psychotherapy"' in lost(content, tmp_path / "feeds")[0]


def test_the_refusal_points_at_the_probable_new_file(content: Path, tmp_path: Path) -> None:
    build(content, tmp_path / "feeds")
    rename(content)
    assert lost(content, tmp_path / "feeds")[0].startswith(f"{content}/issues/2018-07/{RENAMED}.md: ")


def test_the_refusal_gives_the_id_line_to_add(content: Path, tmp_path: Path) -> None:
    build(content, tmp_path / "feeds")
    rename(content)
    assert 'add id = "2018-07-do-common-factors-matter-in-psychotherapy"' in lost(content, tmp_path / "feeds")[0]


def test_a_refused_build_leaves_the_folder_as_it_was(content: Path, tmp_path: Path) -> None:
    build(content, tmp_path / "feeds")
    before = (tmp_path / "feeds" / "atom.xml").read_bytes()
    rename(content)
    lost(content, tmp_path / "feeds")
    assert (tmp_path / "feeds" / "atom.xml").read_bytes() == before


def test_a_rename_with_the_old_id_keeps_the_entry_and_its_page(content: Path, tmp_path: Path) -> None:
    build(content, tmp_path / "feeds")
    rename(content, extra='id = "2018-07-do-common-factors-matter-in-psychotherapy"\n')
    build(content, tmp_path / "feeds")
    assert (tmp_path / "feeds" / "articles" / "2018-07-do-common-factors-matter-in-psychotherapy.html").is_file()


def test_a_build_into_a_new_folder_guards_nothing(content: Path, tmp_path: Path) -> None:
    build(content, tmp_path / "feeds")
    rename(content)
    assert build(content, tmp_path / "fresh").articles == 2


def test_check_out_reports_what_build_would_refuse(
    content: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build(content, tmp_path / "feeds")
    deployed = tmp_path / "deployed"
    shutil.copytree(tmp_path / "feeds", deployed)
    rename(content)
    assert main(["check", "--content", str(content), "--out", str(deployed)]) == 1
    assert 'id = "2018-07-do-common-factors-matter-in-psychotherapy"' in capsys.readouterr().err


def test_check_out_passes_when_nothing_is_lost(content: Path, tmp_path: Path) -> None:
    build(content, tmp_path / "feeds")
    assert main(["check", "--content", str(content), "--out", str(tmp_path / "feeds")]) == 0


def test_build_cli_prints_the_fix_and_fails(content: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "feeds"
    assert main(["build", "--content", str(content), "--out", str(out)]) == 0
    rename(content)
    assert main(["build", "--content", str(content), "--out", str(out)]) == 1
    assert f"{RENAMED}.md: published article" in capsys.readouterr().err


# --- topics ---------------------------------------------------------------------------------------


def rename_topic(content: Path, former: bool) -> None:
    topics = content / "topics.toml"
    text = topics.read_text(encoding="utf-8").replace('slug = "cbt"', 'slug = "cognitive-behavioural-therapy"')
    if former:
        text = text.replace(
            'slug = "cognitive-behavioural-therapy"', 'slug = "cognitive-behavioural-therapy"\nformer_slugs = ["cbt"]'
        )
    topics.write_text(text, encoding="utf-8")


def test_a_renamed_topic_slug_is_refused_without_a_former_slug(content: Path, tmp_path: Path) -> None:
    build(content, tmp_path / "feeds")
    rename_topic(content, former=False)
    assert 'add former_slugs = ["cbt"]' in lost(content, tmp_path / "feeds")[0]


def entries_of(path: Path) -> list[tuple[str, str]]:
    return [(entry.id, entry.updated) for entry in feedparser.parse(path.read_bytes()).entries]


@pytest.mark.parametrize("suffix", ["rss.xml", "atom.xml"])
def test_a_former_slug_keeps_the_same_entries_at_the_old_address(content: Path, tmp_path: Path, suffix: str) -> None:
    build(content, tmp_path / "feeds")
    rename_topic(content, former=True)
    build(content, tmp_path / "feeds")
    topics = tmp_path / "feeds" / "topics"
    assert entries_of(topics / f"cbt.{suffix}") == entries_of(topics / f"cognitive-behavioural-therapy.{suffix}")


def test_the_old_address_names_itself_as_self(content: Path, tmp_path: Path) -> None:
    rename_topic(content, former=True)
    build(content, tmp_path / "feeds")
    links = ElementTree.parse(tmp_path / "feeds" / "topics" / "cbt.atom.xml").getroot().findall(ATOM + "link")
    assert [link.get("href") for link in links if link.get("rel") == "self"] == [SITE.base_url + "topics/cbt.atom.xml"]


def test_a_renamed_topic_keeps_its_feed_id(content: Path, tmp_path: Path) -> None:
    build(content, tmp_path / "feeds")
    before = ElementTree.parse(tmp_path / "feeds" / "topics" / "cbt.atom.xml").getroot().findtext(ATOM + "id")
    rename_topic(content, former=True)
    build(content, tmp_path / "feeds")
    after = ElementTree.parse(tmp_path / "feeds" / "topics" / "cbt.atom.xml").getroot().findtext(ATOM + "id")
    assert after == before


def test_a_former_slug_keeps_the_topic_page_too(content: Path, tmp_path: Path) -> None:
    rename_topic(content, former=True)
    build(content, tmp_path / "feeds")
    assert (tmp_path / "feeds" / "topics" / "cbt.html").is_file()


def test_a_former_slug_taken_by_another_topic_is_an_error(content: Path) -> None:
    topics = content / "topics.toml"
    text = topics.read_text(encoding="utf-8").replace('slug = "cbt"', 'slug = "cbt"\nformer_slugs = ["empathy"]')
    topics.write_text(text, encoding="utf-8")
    from pprfeed.archive.load import load_archive

    archive, diagnostics = load_archive(content)
    assert archive is None and any('"empathy"' in d.message for d in diagnostics)


# --- retraction -----------------------------------------------------------------------------------

RETRACTED = 'retracted = true\nretraction_reason = "The data were fabricated."\nupdated = 2018-09-01\n'


def retract(content: Path) -> None:
    write_article(
        content, "2018-07", "do-common-factors-matter-in-psychotherapy", "Do common factors matter?", ["cbt"],
        extra=RETRACTED,
    )  # fmt: skip


def retracted_entry(out: Path) -> feedparser.FeedParserDict:
    parsed = feedparser.parse((out / "atom.xml").read_bytes())
    wanted = ENTRY_ID_PREFIX + "2018-07-do-common-factors-matter-in-psychotherapy"
    return next(entry for entry in parsed.entries if entry.id == wanted)


def test_a_retracted_article_stays_in_the_feed_marked_retracted(content: Path, tmp_path: Path) -> None:
    build(content, tmp_path / "feeds")
    retract(content)
    build(content, tmp_path / "feeds")
    assert retracted_entry(tmp_path / "feeds").title == "Retracted: Do common factors matter?"


def test_a_retraction_replaces_the_content_with_the_notice_and_reason(content: Path, tmp_path: Path) -> None:
    retract(content)
    build(content, tmp_path / "feeds")
    content_html = retracted_entry(tmp_path / "feeds").content[0].value
    assert "retracted. Reason: The data were fabricated." in content_html
    assert "Clinicians may consider this." not in content_html


def test_a_retraction_is_a_new_updated_date(content: Path, tmp_path: Path) -> None:
    retract(content)
    build(content, tmp_path / "feeds")
    assert retracted_entry(tmp_path / "feeds").updated.startswith("2018-09-01")


def test_a_retracted_article_page_says_so(content: Path, tmp_path: Path) -> None:
    retract(content)
    build(content, tmp_path / "feeds")
    page = tmp_path / "feeds" / "articles" / "2018-07-do-common-factors-matter-in-psychotherapy.html"
    assert "This summary has been retracted." in page.read_text(encoding="utf-8")


def test_a_retraction_without_a_date_is_an_error(content: Path) -> None:
    write_article(content, "2018-07", "another", "Another study", ["empathy"], extra="retracted = true\n")
    from pprfeed.archive.load import load_archive

    archive, diagnostics = load_archive(content)
    assert archive is None and any("needs the date of its retraction" in d.message for d in diagnostics)


def test_a_retraction_changes_the_chat_post(content: Path) -> None:
    from pprfeed.chat.markup import to_paragraphs
    from pprfeed.chat.slack import DIALECT

    retract(content)
    article = next(a for a in load(content).articles if a.retracted)
    assert to_paragraphs(article.summary_md, DIALECT) == [
        "This summary has been retracted. Reason: The data were fabricated."
    ]


def test_site_base_url_is_what_the_record_keeps(content: Path, tmp_path: Path) -> None:
    build(content, tmp_path / "feeds")
    record = json.loads((tmp_path / "feeds" / PUBLISHED_FILE).read_text(encoding="utf-8"))
    assert record["articles"]["2018-07-another"]["url"] == SITE.base_url + "articles/2018-07-another.html"


def test_a_preview_build_guards_nothing(content: Path, tmp_path: Path) -> None:
    from pprfeed.site.build import build_site

    build(content, tmp_path / "preview")
    rename(content)
    result = build_site(load(content), SITE, tmp_path / "preview", datetime(2024, 1, 1, tzinfo=UTC), guard=False)
    assert result.articles == 2
