"""The FTS5 word index gives exactly what a brute-force scan gives, and ranks every match once.

The oracle tokenizes like the index (Unicode words, accents and case folded, Porter stems; the stems
come from a separate FTS5 table of one word per row, not from the index under test) and then matches
in plain Python: every word's stem present, the last word's stem a prefix of some stem.
"""

from __future__ import annotations

import random
import sqlite3
import threading
from datetime import date

import pytest

from pprfeed.archive import search
from pprfeed.archive.search import TOKENIZER, QueryEngine, fts_phrase
from pprfeed.model import Archive, Article, Issue, Topic
from pprfeed.text import normalize

WORDS = [
    "alliance",
    "rupture",
    "ruptures",
    "repair",
    "repairing",
    "empathy",
    "empathic",
    "therapist",
    "thérapie",
    "therapies",
    "Flückiger",
    "müller",
    "outcome",
    "outcomes",
    "2018",
    "10",
    "a",
    "b",
    "c",
    "ocd",
    "öl",
    "near",
    "not",
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


class Stemmer:
    """Porter stems of single words, from an FTS5 table of its own (one word per row)."""

    def __init__(self) -> None:
        self.connection = sqlite3.connect(":memory:")
        self.connection.execute(f"CREATE VIRTUAL TABLE words USING fts5(word, tokenize='{TOKENIZER}')")
        self.connection.execute("CREATE VIRTUAL TABLE stems USING fts5vocab(words, 'instance')")
        self.cache: dict[str, str] = {}

    def __call__(self, word: str) -> str:
        if word not in self.cache:
            self.connection.execute("DELETE FROM words")
            self.connection.execute("INSERT INTO words(word) VALUES (?)", (word,))
            self.cache[word] = self.connection.execute("SELECT term FROM stems").fetchone()[0]
        return self.cache[word]


def brute_force_search(archive: Archive, stems_of: dict[str, set[str]], stem: Stemmer, text: str) -> tuple:
    terms = normalize(text[:200]).split()
    if not terms:
        return ()
    *whole, last = terms
    return tuple(
        article
        for article in archive.articles
        if all(stem(term) in stems_of[article.id] for term in whole)
        and any(found.startswith(stem(last)) for found in stems_of[article.id])
    )


def test_text_search_matches_a_brute_force_scan():
    archive = synthetic_archive(300)
    engine = QueryEngine(archive)
    stem = Stemmer()
    stems_of = {
        a.id: {
            stem(word) for word in normalize(" ".join((a.title, a.citation, a.summary_md, a.implications_md))).split()
        }
        for a in archive.articles
    }
    rng = random.Random(1)
    queries = ["", "a", "th", "Flü", "MÜLLER", "rupture repair", "zzz", "2018 out", "10", "near not", "NOT alliance"]
    for _ in range(300):
        words = [rng.choice(WORDS) for _ in range(rng.randint(1, 3))]
        words[-1] = words[-1][: rng.randint(1, len(words[-1]))]
        queries.append(" ".join(words))
    for query in queries:
        assert engine.search_text(query) == brute_force_search(archive, stems_of, stem, query), query


def test_ranked_words_are_the_matching_articles_each_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over RANK_ALL matches, only the newest RANK_ALL are ranked: still every match, once, ranked first."""
    monkeypatch.setattr(search, "RANK_ALL", 40)
    archive = synthetic_archive(300)
    engine = QueryEngine(archive)
    index = engine._text_index()
    for words in (["alliance"], ["therapist", "outcome"], ["empathy"], ["2018"], ["müller", "a"]):
        match = " AND ".join(fts_phrase(word) for word in words)
        matching = index.matching(match)
        ordered = index.best_first(match)
        assert sorted(ordered) == matching and len(set(ordered)) == len(ordered), words
        ranked, last = index.window(match)
        assert len(matching) <= 40 or (len(ranked) == 40 and last is not None and ordered[40:] == matching[40:])
        weights = ", ".join(map(str, search.WEIGHTS))
        by_bm25 = index.connection.execute(
            f"SELECT rowid FROM articles WHERE articles MATCH ? AND rowid <= ? ORDER BY bm25(articles, {weights})",
            (match, len(archive.articles) if last is None else last),
        ).fetchall()
        assert ordered[: len(ranked)] == [row[0] for row in by_bm25]
        hits = engine.find(" ".join(words))
        if hits.kind is search.MatchKind.TEXT:  # "alliance" and "empathy" are topics
            assert {a.id for a in hits.articles} == {archive.articles[p].id for p in matching}, words


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


def test_concurrent_queries_give_the_same_answers():
    engine = QueryEngine(synthetic_archive(300))
    queries = ["alliance rupture", "empathy outcomes", "Flückiger", "repairing therapists", "zzzq", "rupturs"]
    expected = {query: engine.find(query) for query in queries}
    failures: list[str] = []

    def ask() -> None:
        for _ in range(20):
            for query in queries:
                if engine.find(query) != expected[query]:
                    failures.append(query)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_matching_without_sqlites_json_functions_gives_the_same():
    engine = QueryEngine(synthetic_archive(300))
    index = engine._text_index()
    match = fts_phrase("alliance")
    with_json = index.matching(match)
    index.json = False
    assert index.matching(match) == with_json and index.matching(fts_phrase("zzzz")) == []
    assert index.matching(match, after=with_json[10]) == with_json[11:]
