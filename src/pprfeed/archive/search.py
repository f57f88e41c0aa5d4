"""The archive query behind `pprfeed topic` and both bots: pure, no I/O.

`QueryEngine(archive).find(text)` resolves what a person typed to a topic
(name, slug or alias; case and accents ignored; by prefix; typo-tolerant) and
falls back to full-text search of titles, citations and summaries. Build the
engine once per archive: the word index is made on the first full-text query,
or ahead of time by `prepare()`.
"""

from __future__ import annotations

import difflib
import heapq
import re
import threading
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from itertools import compress
from operator import itemgetter

from pprfeed.model import Archive, Article, Topic
from pprfeed.text import fold, normalize, normalize_doi

MAX_QUERY_CHARS = 200
"""Longer input is cut before matching: nobody types a 10,000-character topic."""
STRONG_TYPO_RATIO = 0.8
STOPWORDS = frozenset(
    "a about an and any are as at be by can do does for from has have how i in is it me my of on or "
    "research show shows study studies tell that the their there these this to what when where which who why "
    "with work works".split()
)
"""Words people add around what they ask ("what works for anxiety?"), left out of matching."""
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
    """Newest first; when no article holds every word of a text query, those matching most words come first."""
    suggestions: tuple[Topic, ...] = ()
    """Did-you-mean topics, when nothing (or only text) matched."""


class QueryEngine:
    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.articles = archive.articles
        self.counts = archive.topic_counts()
        self._by_topic: dict[str, list[int]] = {t.slug: [] for t in archive.topics}
        for position, article in enumerate(self.articles):
            for slug in article.topics:
                self._by_topic[slug].append(position)
        self._topic_articles = {slug: _pick(self.articles, found) for slug, found in self._by_topic.items()}
        self._exact: dict[str, Topic] = {}
        self._spellings: list[tuple[str, Topic]] = []
        self._words: dict[str, set[str]] = {}
        for topic in archive.topics:
            for spelling in (topic.name, topic.slug, *topic.aliases):
                key = normalize(spelling)
                self._exact.setdefault(key, topic)
                self._spellings.append((key, topic))
            # single words of names only: an alias like "ending therapy" must not make "therapy" mean Termination
            for word in normalize(topic.name).split():
                if len(word) > 2:
                    self._words.setdefault(word, set()).add(topic.slug)
        self._spellings.sort(key=lambda pair: pair[0])
        self._typo_keys = sorted({key for key, _ in self._spellings} | set(self._words))
        self._index: _TextIndex | None = None
        self._dois: dict[str, tuple[Article, ...]] | None = None
        self._index_lock = threading.Lock()

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
        close = close_matches(key, self._typo_keys, n=most * 3, cutoff=cutoff)
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
        by_doi = self._by_doi(query)
        if by_doi:
            return QueryResult(query, MatchKind.TEXT, (), by_doi)
        terms = [term for term in normalize(query).split() if term not in STOPWORDS] or normalize(query).split()
        if len(terms) > 1:
            combined = self._all_topics(terms)
            if combined:
                return QueryResult(query, MatchKind.TOPIC, *combined)
        elif terms and terms[0] != normalize(query):  # "what works for anxiety?" asks about one word
            return self.find(terms[0])
        strong = self.suggest(query, cutoff=STRONG_TYPO_RATIO, most=1) if len(terms) == 1 else []
        if strong:
            return QueryResult(query, MatchKind.TYPO, tuple(strong), self._articles_of(strong))
        hits = self._search_terms(terms)
        if hits:
            return QueryResult(query, MatchKind.TEXT, (), hits, tuple(self.suggest(query)))
        return QueryResult(query, MatchKind.NONE, (), (), tuple(self.suggest(query)))

    def _by_doi(self, query: str) -> tuple[Article, ...]:
        doi = normalize_doi(query)
        if doi is None:
            return ()
        if self._dois is None:
            dois: dict[str, list[Article]] = {}
            for article in self.articles:
                if article.doi:
                    dois.setdefault(article.doi.casefold(), []).append(article)  # DOIs ignore case
            self._dois = {doi: tuple(found) for doi, found in dois.items()}
        return self._dois.get(doi.casefold(), ())

    def _all_topics(self, terms: list[str]) -> tuple[tuple[Topic, ...], tuple[Article, ...]] | None:
        """ "cbt depression": when every word names a topic, the articles tagged with all of them."""
        chosen: list[Topic] = []
        for term in terms:
            kind, topics = self.resolve(term)
            if kind not in (MatchKind.TOPIC, MatchKind.PREFIX) or len(topics) != 1:
                return None
            chosen.append(topics[0])
        common = set.intersection(*(set(self._by_topic[topic.slug]) for topic in chosen))
        if not common:
            return None
        return tuple(chosen), _pick(self.articles, sorted(common))

    def _search_terms(self, terms: list[str]) -> tuple[Article, ...]:
        """Every word (the last may be a prefix of three or more letters); else most words matched first."""
        if not terms:
            return ()
        every = self._match(terms)
        if every or len(terms) == 1:
            return self._text_index().select(self.articles, every)
        # at_least[j]: the articles matching at least j of the words, as bitsets (no per-article Python)
        masks = [self._match([term]) for term in dict.fromkeys(terms)]
        at_least = [-1] + [0] * len(masks)
        for mask in masks:
            for j in range(len(masks), 0, -1):
                at_least[j] |= at_least[j - 1] & mask
        index = self._text_index()
        ranked: list[Article] = []
        for j in range(len(masks), 0, -1):
            exactly = at_least[j] & ~at_least[j + 1] if j < len(masks) else at_least[j]
            ranked.extend(index.select(self.articles, exactly))
        return tuple(ranked)

    def _match(self, terms: list[str]) -> int:
        """The articles holding every term, as a bitset; a last term of three letters or more may be a prefix."""
        index = self._text_index()
        matched = -1
        for position, term in enumerate(terms):
            is_prefix = position == len(terms) - 1 and len(term) >= 3  # "t" would begin every article
            matched &= index.prefix_mask(term) if is_prefix else index.word_mask(term)
            if not matched:
                return 0
        return matched

    def _articles_of(self, topics: tuple[Topic, ...] | list[Topic]) -> tuple[Article, ...]:
        if len(topics) == 1:  # the common case, answered from a ready-made tuple
            return self._topic_articles[topics[0].slug]
        positions: set[int] = set()
        for topic in topics:
            positions.update(self._by_topic[topic.slug])
        return _pick(self.articles, sorted(positions))

    def search_text(self, text: str) -> tuple[Article, ...]:
        """Articles containing every word of `text` (the last word may be a prefix), newest first."""
        terms = normalize(text[:MAX_QUERY_CHARS]).split()
        if not terms:
            return ()
        index = self._text_index()
        matched = -1  # every bit set: the identity of `&`
        for position, term in enumerate(terms):
            is_last = position == len(terms) - 1
            matched &= index.prefix_mask(term) if is_last else index.word_mask(term)
            if not matched:
                return ()
        return index.select(self.articles, matched)

    def prepare(self) -> None:
        """Build the full-text index now (say, in a background thread) instead of on the first text query."""
        self._text_index()

    @property
    def prepared(self) -> bool:
        """Whether the full-text index is built (text queries then take about a millisecond)."""
        return self._index is not None

    def _text_index(self) -> _TextIndex:
        if self._index is None:
            with self._index_lock:  # two first queries at once build it once
                if self._index is None:
                    self._index = _TextIndex.build(self.articles)
        return self._index


def _pick(articles: Sequence[Article], positions: Sequence[int]) -> tuple[Article, ...]:
    """`articles` at `positions`, in that order, built in C (itemgetter) rather than a generator."""
    if len(positions) < 2:
        return tuple(articles[p] for p in positions)
    return itemgetter(*positions)(articles)


def close_matches(word: str, possibilities: Sequence[str], n: int, cutoff: float) -> list[str]:
    """Exactly `difflib.get_close_matches`, several times faster.

    Before difflib's costly `ratio()`, a candidate must pass a cheap bound: the
    ratio counts matched characters, which never exceed the longest common
    subsequence, and that is computed bit-parallel (a few int operations per
    character). difflib's own quick bounds are looser than this one, so dropping
    them changes nothing.
    """
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(word)
    char_masks: dict[str, int] = {}
    for position, char in enumerate(word):
        char_masks[char] = char_masks.get(char, 0) | 1 << position
    full = (1 << len(word)) - 1
    result: list[tuple[float, str]] = []
    for candidate in possibilities:
        total = len(candidate) + len(word)
        # both bounds are >= difflib's ratio, so skipping on them never drops a match
        if total and (
            2.0 * min(len(candidate), len(word)) / total < cutoff
            or 2.0 * _lcs_length(candidate, char_masks, full) / total < cutoff
        ):
            continue
        matcher.set_seq1(candidate)
        score = matcher.ratio()
        if score >= cutoff:
            result.append((score, candidate))
    return [candidate for _, candidate in heapq.nlargest(n, result)]


def _lcs_length(text: str, char_masks: dict[str, int], full: int) -> int:
    """Length of the longest common subsequence of `text` and the word behind `char_masks` (Hyyrö's bit-vector)."""
    row = full
    for char in text:
        matched = row & char_masks.get(char, 0)
        row = ((row + matched) | (row - matched)) & full
    return full.bit_length() - row.bit_count()


_WORD = re.compile(r"[0-9a-z]+")
_BIT_FLAGS = bytes.maketrans(b"01", b"\x00\x01")
DENSE_POSTINGS = 32
"""Words in at least this many articles keep a ready-made bitset; rarer ones keep positions (far less memory)."""


def _fold_fast(text: str) -> str:
    """`fold`, skipping Unicode decomposition for ASCII text, where it changes nothing."""
    return text.lower() if text.isascii() else fold(text)


def _mask_of(positions: Sequence[int]) -> int:
    """The bitset with a 1 at each position (bit i = article i)."""
    if len(positions) < DENSE_POSTINGS:
        mask = 0
        for position in positions:
            mask |= 1 << position
        return mask
    size = positions[-1] + 1
    digits = bytearray(b"0") * size
    for position in positions:
        digits[size - 1 - position] = 49  # "1"; the string is read most significant bit first
    return int(digits, 2)


class _TextIndex:
    """Word -> articles, as Python-int bitsets, so `a & b` intersects 10,000 articles in microseconds."""

    def __init__(self, postings: dict[str, list[int]]) -> None:
        self.postings = postings
        self.words = sorted(postings)
        self.dense = {word: _mask_of(found) for word, found in postings.items() if len(found) >= DENSE_POSTINGS}
        # one- and two-letter prefixes can match thousands of words: precompute their union
        self.short_prefixes: dict[str, int] = {}
        for word in self.words:
            mask = self.word_mask(word)
            for key in {word[:1], word[:2]}:
                self.short_prefixes[key] = self.short_prefixes.get(key, 0) | mask

    @classmethod
    def build(cls, articles: Sequence[Article]) -> _TextIndex:
        postings: dict[str, list[int]] = {}
        for position, article in enumerate(articles):
            found: set[str] = set()
            for part in (article.title, article.citation, article.summary_md, article.implications_md):
                found.update(_WORD.findall(_fold_fast(part)))
            for word in found:
                postings.setdefault(word, []).append(position)
        return cls(postings)

    def word_mask(self, word: str) -> int:
        dense = self.dense.get(word)
        if dense is not None:
            return dense
        return _mask_of(self.postings.get(word, ()))

    def prefix_mask(self, prefix: str) -> int:
        if len(prefix) <= 2:
            return self.short_prefixes.get(prefix, 0)
        mask = 0
        start = bisect_left(self.words, prefix)
        for word in self.words[start:]:
            if not word.startswith(prefix):
                break
            mask |= self.word_mask(word)
        return mask

    @staticmethod
    def select(articles: Sequence[Article], mask: int) -> tuple[Article, ...]:
        """The articles whose bit is set, in order: all C loops, no per-article Python code."""
        flags = bin(mask)[:1:-1].encode("ascii").translate(_BIT_FLAGS)
        return tuple(compress(articles, flags))
