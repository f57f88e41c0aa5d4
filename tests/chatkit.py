"""Shared by the test_chat_*.py modules: articles and issues built in memory, hostile ones included."""

from __future__ import annotations

import json
from datetime import date

from pprfeed.archive.search import QueryEngine
from pprfeed.chat.answers import ResultContext
from pprfeed.config import SiteSettings
from pprfeed.model import Archive, Article, Issue, Topic

SITE = SiteSettings(base_url="https://example.org/pprnet/")
WORDS = "therapist alliance outcome Flückiger & <rupture> repair empathy meta-analysis (g = .57) feedback *session*"
NAMES = {"alliance-and-therapeutic-relationship": "Alliance and Therapeutic Relationship"}


def prose(chars: int, seed: int = 0) -> str:
    words = WORDS.split()
    out: list[str] = []
    index = seed
    while sum(len(w) + 1 for w in out) < chars:
        out.append(words[index % len(words)])
        index += 1
    return " ".join(out)[:chars].rstrip()


def article(number: int, summary: str, implications: str = "Therapists should monitor the alliance.", **kw) -> Article:
    values = dict(
        id=f"2026-11-article-{number}",
        slug=f"article-{number}",
        month="2026-11",
        title=f"Article {number}: alliance & outcome",
        topics=("alliance-and-therapeutic-relationship",),
        citation=f"Flückiger, C., & Del Re, A. C. (2018). Paper {number}. Psychotherapy, 55(4), 316-340.",
        summary_md=summary,
        implications_md=implications,
        published=date(2026, 11, 1),
        updated=date(2026, 11, 1),
        doi=f"10.1037/pst000{number}",
    )
    values.update(kw)
    return Article(**values)  # type: ignore[arg-type]


def issue_of(*articles: Article, intro: str = "") -> Issue:
    return Issue(month="2026-11", published=date(2026, 11, 1), articles=tuple(articles), intro=intro)


def hostile_article(number: int = 1, summary: str = "") -> Article:
    """Valid but hostile: a 3,000-character permalink and a 2,000-character DOI (content caps are not relied on)."""
    return article(
        number,
        summary or prose(5000),
        implications=prose(2500, seed=3),
        permalink="https://example.org/" + "p" * 3000,
        doi="10.1234/" + "d" * 2000,
        citation=prose(900, seed=5),
    )


def all_text(messages: list[dict]) -> str:
    return "\n".join(json.dumps(message, ensure_ascii=False) for message in messages)


def big_archive(articles: int, topics: int = 3) -> Archive:
    """Bot answers at their worst: long hostile titles, citations and topic names, odd URLs and DOIs."""
    vocabulary = tuple(
        Topic(f"topic-{n}", f"Topic number {n} " + "x" * 150, ("t" * 50,) if n == 0 else ()) for n in range(topics)
    )
    long = "Long words " * 200
    made = []
    for number in range(articles):
        made.append(
            Article(
                id=f"2020-01-a{number}",
                slug=f"a{number}",
                month="2020-01",
                title=("*Title* <!channel> @everyone " + long)[: 50 + number * 40],
                topics=tuple(t.slug for t in vocabulary[:3]),
                citation=long,
                summary_md="words",
                implications_md="more",
                published=date(2020, 1, 1),
                updated=date(2020, 1, 1),
                doi="10.1000/(weird)|doi>" + "y" * 300,
                permalink="https://example.org/a(b)|c>d e",
            )
        )
    return Archive(topics=vocabulary, issues=(Issue("2020-01", date(2020, 1, 1), tuple(made)),))


def many_topic_archive(topics: int) -> Archive:
    """`topics` topics with long names, the first half with one article each, the others with none."""
    vocabulary = tuple(Topic(f"topic-{n}", f"Topic number {n} " + "x" * 150) for n in range(topics))
    made = tuple(
        article(n, "words", topics=(topic.slug,), id=f"2020-01-m{n}", slug=f"m{n}", month="2020-01")
        for n, topic in enumerate(vocabulary[: topics // 2])
    )
    return Archive(topics=vocabulary, issues=(Issue("2020-01", date(2020, 1, 1), made),))


def context_for(archive: Archive, command: str = "/ppr-topic") -> ResultContext:
    engine = QueryEngine(archive)
    return ResultContext(SiteSettings(), command, {t.slug: t.name for t in archive.topics}, engine.topic_list())
