"""The bitset word index and the bounded close-match search give exactly what the plain versions gave."""

from __future__ import annotations

import difflib
import random
import threading
from datetime import date

from pprfeed.archive.search import QueryEngine, close_matches
from pprfeed.model import Archive, Article, Issue, Topic
from pprfeed.text import normalize

WORDS = [
    "alliance",
    "rupture",
    "repair",
    "empathy",
    "therapist",
    "thérapie",
    "Flückiger",
    "müller",
    "outcome",
    "2018",
    "10",
    "a",
    "b",
    "c",
    "ocd",
    "öl",
]


def synthetic_archive(count: int, seed: int = 7) -> Archive:
    rng = random.Random(seed)
    topics = (Topic("alliance", "Alliance", ("ruptures",)), Topic("empathy", "Empathy"))
    articles = []
    for number in range(count):
        month = f"{2000 + number // 12:04d}-{number % 12 + 1:02d}"
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 40)))
        articles.append(
            Article(
                id=f"{month}-a{number}",
                slug=f"a{number}",
                month=month,
                title=" ".join(rng.choice(WORDS) for _ in range(3)).capitalize(),
                topics=(rng.choice(topics).slug,),
                citation=f"{rng.choice(WORDS)}, A. ({2000 + number % 20}).",
                summary_md=body,
                implications_md=rng.choice(WORDS) + "-" + rng.choice(WORDS),
                published=date(2000 + number // 12, number % 12 + 1, 1),
                updated=date(2000 + number // 12, number % 12 + 1, 1),
            )
        )
    issues = tuple(Issue(a.month, a.published, (a,)) for a in reversed(articles))
    return Archive(topics=topics, issues=issues)


def brute_force_search(archive: Archive, words_of: dict[str, set[str]], text: str) -> tuple[Article, ...]:
    terms = normalize(text[:200]).split()
    if not terms:
        return ()
    *whole, last = terms
    return tuple(
        article
        for article in archive.articles
        if all(term in words_of[article.id] for term in whole)
        and any(word.startswith(last) for word in words_of[article.id])
    )


def test_text_search_matches_a_brute_force_scan():
    archive = synthetic_archive(300)
    engine = QueryEngine(archive)
    words_of = {
        a.id: set(normalize(" ".join((a.title, a.citation, a.summary_md, a.implications_md))).split())
        for a in archive.articles
    }
    rng = random.Random(1)
    queries = ["", "a", "th", "Flü", "MÜLLER", "rupture repair", "zzz", "2018 out", "10"]
    for _ in range(300):
        words = [rng.choice(WORDS) for _ in range(rng.randint(1, 3))]
        words[-1] = words[-1][: rng.randint(1, len(words[-1]))]
        queries.append(" ".join(words))
    for query in queries:
        assert engine.search_text(query) == brute_force_search(archive, words_of, query), query


def test_close_matches_equal_difflib():
    rng = random.Random(2)
    alphabet = "aeiorstnlc "
    keys = sorted({"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 25))).strip() or "x" for _ in range(300)})
    for _ in range(150):
        word = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
        for cutoff in (0.6, 0.8):
            assert close_matches(word, keys, 9, cutoff) == difflib.get_close_matches(word, keys, 9, cutoff), word


def test_index_built_once_under_concurrent_first_queries():
    engine = QueryEngine(synthetic_archive(200))
    results: list[tuple[Article, ...]] = []
    threads = [threading.Thread(target=lambda: results.append(engine.search_text("alliance"))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and all(result == results[0] for result in results)
    index = engine._index
    engine.prepare()
    assert engine._index is index
