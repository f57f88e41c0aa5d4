"""The archive query behind `pprfeed topic` and both bots: pure, no I/O.

`QueryEngine(archive).find(text)` resolves what a person typed to a topic
(name, slug or alias; case and accents ignored; by prefix; typo-tolerant) and
falls back to full-text search of titles, citations and summaries. Build the
engine once per archive: the word index is made on the first full-text query.
"""

from __future__ import annotations

import difflib
from bisect import bisect_left
from dataclasses import dataclass
from enum import Enum

from .model import Archive, Article, Topic
from .text import normalize

MAX_QUERY_CHARS = 200
"""Longer input is cut before matching: nobody types a 10,000-character topic."""
STRONG_TYPO_RATIO = 0.8
SUGGESTION_RATIO = 0.6


class MatchKind(str, Enum):
    LIST = "list"  # no query: every topic with its count
    TOPIC = "topic"  # exact name, slug or alias
    PREFIX = "prefix"  # the query begins one or more topic names
    TYPO = "typo"  # did you mean: the closest topic, shown with a note
    TEXT = "text"  # full-text fallback (with `topics` set when the topic itself has no articles yet)
    NONE = "none"  # nothing matched


@dataclass(frozen=True)
class QueryResult:
    query: str
    kind: MatchKind
    topics: tuple[Topic, ...]
    """The topics the query resolved to (several when a prefix is shared)."""
    articles: tuple[Article, ...]
    """Newest first."""
    suggestions: tuple[Topic, ...] = ()
    """Did-you-mean topics, when nothing (or only text) matched."""

    @property
    def is_typo(self) -> bool:
        return self.kind is MatchKind.TYPO


class QueryEngine:
    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.articles = archive.articles
        self.counts = archive.topic_counts()
        self._by_topic: dict[str, list[int]] = {t.slug: [] for t in archive.topics}
        for position, article in enumerate(self.articles):
            for slug in article.topics:
                self._by_topic[slug].append(position)
        self._exact: dict[str, Topic] = {}
        self._spellings: list[tuple[str, Topic]] = []
        self._words: dict[str, set[str]] = {}
        for topic in archive.topics:
            for spelling in (topic.name, topic.slug, *topic.aliases):
                key = normalize(spelling)
                self._exact.setdefault(key, topic)
                self._spellings.append((key, topic))
                for word in key.split():
                    if len(word) > 2:
                        self._words.setdefault(word, set()).add(topic.slug)
        self._spellings.sort(key=lambda pair: pair[0])
        self._typo_keys = sorted({key for key, _ in self._spellings} | set(self._words))
        self._index: dict[str, list[int]] | None = None
        self._index_words: list[str] = []

    # --- topics -------------------------------------------------------------------------

    def topic_list(self) -> list[tuple[Topic, int]]:
        """Every topic with its article count, in vocabulary order."""
        return [(topic, self.counts[topic.slug]) for topic in self.archive.topics]

    def complete(self, typed: str, limit: int = 25) -> list[Topic]:
        """Topics for an autocomplete box: prefix matches first, then those containing the text."""
        key = normalize(typed[:MAX_QUERY_CHARS])
        if not key:
            return list(self.archive.topics[:limit])
        chosen: dict[str, Topic] = {}
        for topic in self._prefixed(key):
            chosen.setdefault(topic.slug, topic)
        for spelling, topic in self._spellings:
            if len(chosen) >= limit:
                break
            if key in spelling:
                chosen.setdefault(topic.slug, topic)
        return list(chosen.values())[:limit]

    def _prefixed(self, key: str) -> list[Topic]:
        found: dict[str, Topic] = {}
        start = bisect_left(self._spellings, key, key=lambda pair: pair[0])
        for spelling, topic in self._spellings[start:]:
            if not spelling.startswith(key):
                break
            found.setdefault(topic.slug, topic)
        return sorted(found.values(), key=lambda t: t.name)

    def resolve(self, text: str) -> tuple[MatchKind, tuple[Topic, ...]]:
        key = normalize(text[:MAX_QUERY_CHARS])
        if not key:
            return MatchKind.LIST, ()
        if key in self._exact:
            return MatchKind.TOPIC, (self._exact[key],)
        if key in self._words:
            topics = [self.archive.topic(slug) for slug in sorted(self._words[key])]
            return MatchKind.TOPIC, tuple(topics)
        prefixed = self._prefixed(key) if len(key) >= 3 else []
        if prefixed:
            return MatchKind.PREFIX, tuple(prefixed)
        return MatchKind.NONE, ()

    def suggest(self, text: str, cutoff: float = SUGGESTION_RATIO, most: int = 3) -> list[Topic]:
        key = normalize(text[:MAX_QUERY_CHARS])
        close = difflib.get_close_matches(key, self._typo_keys, n=most * 3, cutoff=cutoff)
        found: dict[str, Topic] = {}
        for match in close:
            for topic in self._topics_for_key(match):
                found.setdefault(topic.slug, topic)
        return list(found.values())[:most]

    def _topics_for_key(self, key: str) -> list[Topic]:
        if key in self._exact:
            return [self._exact[key]]
        return [self.archive.topic(slug) for slug in sorted(self._words.get(key, ()))]

    # --- articles --------------------------------------------------------------------------

    def find(self, text: str) -> QueryResult:
        query = " ".join(text[:MAX_QUERY_CHARS].split())
        kind, topics = self.resolve(query)
        if kind is MatchKind.LIST:
            return QueryResult(query, kind, (), ())
        if topics:
            tagged = self._articles_of(topics)
            if tagged:
                return QueryResult(query, kind, topics, tagged)
            # a real topic nobody has tagged yet: articles that mention the words beat an empty answer
            mentions = self.search_text(query)
            return QueryResult(query, MatchKind.TEXT if mentions else kind, topics, mentions)
        strong = self.suggest(query, cutoff=STRONG_TYPO_RATIO, most=1)
        if strong:
            return QueryResult(query, MatchKind.TYPO, tuple(strong), self._articles_of(strong))
        hits = self.search_text(query)
        if hits:
            return QueryResult(query, MatchKind.TEXT, (), hits, tuple(self.suggest(query)))
        return QueryResult(query, MatchKind.NONE, (), (), tuple(self.suggest(query)))

    def _articles_of(self, topics: tuple[Topic, ...] | list[Topic]) -> tuple[Article, ...]:
        positions: set[int] = set()
        for topic in topics:
            positions.update(self._by_topic[topic.slug])
        return tuple(self.articles[p] for p in sorted(positions))

    def search_text(self, text: str) -> tuple[Article, ...]:
        """Articles containing every word of `text` (the last word may be a prefix), newest first."""
        terms = normalize(text[:MAX_QUERY_CHARS]).split()
        if not terms:
            return ()
        index = self._word_index()
        matched: set[int] | None = None
        for position, term in enumerate(terms):
            is_last = position == len(terms) - 1
            found = self._prefix_postings(term) if is_last else set(index.get(term, ()))
            matched = found if matched is None else matched & found
            if not matched:
                return ()
        return tuple(self.articles[p] for p in sorted(matched or ()))

    def _prefix_postings(self, term: str) -> set[int]:
        index = self._word_index()
        found: set[int] = set()
        start = bisect_left(self._index_words, term)
        for word in self._index_words[start:]:
            if not word.startswith(term):
                break
            found.update(index[word])
        return found

    def _word_index(self) -> dict[str, list[int]]:
        if self._index is None:
            index: dict[str, list[int]] = {}
            for position, article in enumerate(self.articles):
                text = " ".join((article.title, article.citation, article.summary_md, article.implications_md))
                for word in set(normalize(text).split()):
                    index.setdefault(word, []).append(position)
            self._index = index
            self._index_words = sorted(index)
        return self._index


def find(archive: Archive, text: str) -> QueryResult:
    """One-off query; build a QueryEngine to ask many."""
    return QueryEngine(archive).find(text)
