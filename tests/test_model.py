"""The immutable model: ordering, publication filtering, topic counts, derived fields."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from pprfeed.model import Archive, Article, Issue, Topic

TOPICS = (Topic("alliance", "Alliance", ("therapeutic alliance",)), Topic("cbt", "CBT"))


def make_article(month: str, slug: str, topics: tuple[str, ...] = ("alliance",), day: int = 1) -> Article:
    published = date(int(month[:4]), int(month[5:]), day)
    return Article(
        id=f"{month}-{slug}",
        slug=slug,
        month=month,
        title=slug.title(),
        topics=topics,
        citation="Someone (2018).",
        summary_md="S.",
        implications_md="I.",
        published=published,
        updated=published,
    )


def make_issue(month: str, *slugs: str, draft: bool = False, day: int = 1) -> Issue:
    articles = tuple(make_article(month, slug, day=day) for slug in slugs)
    return Issue(month=month, published=articles[0].published, articles=articles, draft=draft)


def test_values_are_frozen() -> None:
    article = make_article("2018-01", "a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        article.title = "changed"  # type: ignore[misc]


def test_articles_are_newest_first_with_stable_ties() -> None:
    archive = Archive(TOPICS, (make_issue("2018-03", "b", "a"), make_issue("2018-01", "z")))
    assert [a.id for a in archive.articles] == ["2018-03-a", "2018-03-b", "2018-01-z"]


def test_published_drops_drafts_and_future_issues() -> None:
    archive = Archive(
        TOPICS,
        (
            make_issue("2018-05", "future", day=20),
            make_issue("2018-04", "draft", draft=True),
            make_issue("2018-03", "a"),
        ),
    )
    assert [i.month for i in archive.published(date(2018, 5, 19)).issues] == ["2018-03"]
    assert [i.month for i in archive.published(date(2018, 5, 20)).issues] == ["2018-05", "2018-03"]
    assert archive.published(date(2018, 5, 20)).topics == TOPICS


def test_topic_counts_and_lookup() -> None:
    issue = Issue(
        "2018-01",
        date(2018, 1, 1),
        (make_article("2018-01", "a", ("alliance", "cbt")), make_article("2018-01", "b", ("alliance",))),
    )
    archive = Archive(TOPICS, (issue,))
    assert archive.topic_counts() == {"alliance": 2, "cbt": 1}
    assert archive.topic("cbt").name == "CBT"
    with pytest.raises(KeyError):
        archive.topic("nope")


def test_issue_title_uses_english_month_names() -> None:
    assert make_issue("2018-11", "a").title == "November 2018"
    assert make_issue("2017-01", "a").title == "January 2017"


def test_doi_url() -> None:
    article = make_article("2018-01", "a")
    assert article.doi_url is None
    assert dataclasses.replace(article, doi="10.1037/pst0000172").doi_url == "https://doi.org/10.1037/pst0000172"


def test_real_archive_model(archive) -> None:
    newest = archive.issues[0]
    assert (newest.month, newest.title, newest.published) == ("2018-11", "November 2018", date(2018, 11, 1))
    assert sum(archive.topic_counts().values()) == sum(len(a.topics) for a in archive.articles)
    assert all(a.summary_md and a.implications_md and a.citation.endswith(".") for a in archive.articles)
