"""The archive query behind `pprfeed topic` and both bots: what a person typed -> the articles they mean.

`QueryEngine(archive, synonyms).find(text)` answers, in this order:

- nothing typed: every topic (`MatchKind.LIST`);
- exactly a topic (name, slug or alias; case, accents and punctuation ignored; also once the words
  people put around a question are left out, "what works for anxiety?"), a synonym of one
  (content/synonyms.toml), the beginning of a topic's spelling, or a typo of one: that topic's
  articles, newest first;
- a DOI in any spelling: its article;
- two topics or more ("cbt for depression"): the articles tagged with all of them first, then with
  fewer, each group by relevance;
- words, with or without topics: full-text search ranked by relevance (bm25; title above practice
  implications above summary above citation). A topic named among the words is a boost, not a filter:
  "alliance ruptures" lists the Alliance articles that mention ruptures, then the other articles that
  mention ruptures. Words are stemmed ("rupture" finds "ruptures"), a synonym also finds its target
  ("teens" finds "adolescents"), the last word may be unfinished, and when no article has every word
  those with the most come first;
- a word that no article has is read, in this order, as a typo of a topic's spelling ("depresion"),
  the beginning of a word, or a typo of a word of the articles ("Flukiger"); did-you-mean suggestions
  are only ever topics close to such a word.

The word index is SQLite FTS5 (standard library `sqlite3`, in memory), built from the loaded archive
on the first query that needs it, or ahead of time by `prepare()`: it can never be staler than the
archive the caller holds. The engine is pure otherwise: no files, no network. Thread-safe.
"""

from __future__ import annotations

import difflib
import functools
import re
import sqlite3
import sys
import threading
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from pprfeed.archive.synonyms import Synonyms
from pprfeed.model import Archive, Article, Topic
from pprfeed.text import normalize, normalize_doi, typo_matches

MAX_QUERY_CHARS = 200
"""Longer input is cut before matching: nobody types a 10,000-character topic."""
STOPWORDS = frozenset(
    "a about an and any are as at be best better between by can do does for from get good has have help helpful "
    "helps how i important in is it know many matter matters me much my of on or our really research should "
    "show shows study studies tell than that the their there these this to useful vs versus we what when where "
    "which who why with work works you your".split()
)
"""Words people add around what they ask ("what works for anxiety?", "is empathy important?"), left out of
matching (unless nothing else is left)."""
COLUMNS = ("title", "implications", "summary", "citation")
WEIGHTS = (8.0, 4.0, 2.0, 1.5)
"""bm25 weight of each column: a word in the title counts most, then in the practice implications,
the summary, the citation (whose author names and years are searchable too)."""
RANK_ALL = 300
"""At most this many matches are ranked by relevance: the newest RANK_ALL articles that match (60 pages
of five); older matches follow them newest first. A common word ("therapy" is in most articles) matches
thousands, and bm25 costs about a microsecond each, too much at 10,000 articles; with a rowid range
FTS5 reads only the part of the index the ranked window needs."""
TOKENIZER = "porter unicode61 remove_diacritics 2"
"""Stemming (Porter: "ruptures" -> "ruptur") over Unicode words with accents folded ("Flückiger" = "Fluckiger")."""
PREFIXES = "2 3"
"""FTS5 prefix indexes: the last word of a query may be the beginning of a word ("allian")."""
_WORDS = re.compile(r"[^\W_]+")
SEARCHED = "topic names and aliases, and the titles, practice implications, summaries and citations"
"""What a query is looked for in, for "nothing found" messages."""


def explain(result: QueryResult, article_count: int) -> str:
    """What was looked for where, for a "nothing found" answer: `Looked for “xyzzy” in … of 6 articles.`"""
    words = " ".join(f"“{word}”" for word in result.searched) or f"“{result.query}”"
    return f"Looked for {words} in {SEARCHED} of {article_count:,} articles."


class SearchUnavailable(RuntimeError):
    """This Python's SQLite has no FTS5, which pprfeed's search needs."""


@functools.cache
def require_fts5() -> None:
    """Raise SearchUnavailable, saying what to do, unless `sqlite3` can make FTS5 tables."""
    _check_fts5(sqlite3.connect(":memory:"))


def _check_fts5(connection: sqlite3.Connection) -> None:
    try:
        connection.execute(f"CREATE VIRTUAL TABLE temp.probe USING fts5(text, tokenize='{TOKENIZER}')")
    except sqlite3.OperationalError as exc:
        raise SearchUnavailable(
            f"searching the archive needs SQLite's full-text search (FTS5), which this Python's sqlite3 "
            f"(SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]} at {sys.executable}) lacks "
            f"({exc}). Use a Python whose SQLite has FTS5: the python.org installers, Debian/Ubuntu, "
            "Fedora, Homebrew and conda builds all have it."
        ) from None
    finally:
        connection.close()


class MatchKind(StrEnum):
    LIST = "list"  # no query: every topic with its count
    TOPIC = "topic"  # exactly a topic (name, slug, alias, synonym), or several ("cbt for depression")
    PREFIX = "prefix"  # the query begins one or more topic names
    TYPO = "typo"  # did you mean: the closest topic, shown with a note
    TEXT = "text"  # words, ranked by relevance (with `topics` set: a topic nobody has tagged yet, and the
    # articles that mention it)
    NONE = "none"  # nothing matched


@dataclass(frozen=True)
class QueryResult:
    query: str
    kind: MatchKind
    topics: tuple[Topic, ...]
    """The topics the query resolved to (several when a prefix is shared, or the query names several)."""
    articles: tuple[Article, ...]
    """In `order`: newest first for a topic, by relevance for words."""
    suggestions: tuple[Topic, ...] = ()
    """Did-you-mean topics: some word of the query matched no article and is a typo of these topics' spellings."""
    searched: tuple[str, ...] = ()
    """The words looked for in the articles' text, as typed ("ruptures"; a synonym with its target:
    "teens (adolescents)"); empty for a topic answer. For "nothing found" messages."""
    boosted: tuple[Topic, ...] = ()
    """For words: topics the query named too, whose articles come first (`kind` is TEXT)."""
    order: str = "newest"
    """`newest` (first) or `relevance`."""


@dataclass(frozen=True)
class _Part:
    """One thing the query names: a topic, or words to look for (with what they stand for)."""

    words: str
    """As typed, `normalize`d."""
    topic: Topic | None = None
    phrases: tuple[str, ...] = ()
    """For words: the phrases to look for, the words themselves first, then a synonym's target."""
    corrected: bool = False
    """Read from a typo: of a topic's spelling, or of a word of the articles."""
    note: str = ""
    """For a corrected word: the word of the articles it was taken for."""

    @property
    def shown(self) -> str:
        if self.note:
            return f"{self.words} ({self.note})"
        if len(self.phrases) > 1:
            return f"{self.words} ({', '.join(self.phrases[1:])})"
        return self.words

    def match(self, prefix: bool = False) -> str:
        """The FTS5 query for it: each phrase quoted, so nothing typed is FTS5 syntax (see `fts_phrase`).

        `prefix`: the last word may be unfinished ("alliance rupt"). FTS5 matches a prefix against the
        stems it stores, so one longer than the stem ("adolescen" of "adolescents", stored "adolesc")
        matches nothing; such a word is then read as a typo of the stem (see `_closest_word`).
        """
        quoted = [fts_phrase(phrase, prefix) for phrase in self.phrases]
        return quoted[0] if len(quoted) == 1 else "(" + " OR ".join(quoted) + ")"


def fts_phrase(text: str, prefix: bool = False) -> str:
    """`text` as one FTS5 phrase: "double quoted", inner quotes doubled, optionally a prefix (`"allian"*`).

    Inside quotes FTS5 reads no operators (AND, OR, NOT, NEAR), column filters (`title:`), `-`, `^`,
    `*` or parentheses: the text is only tokenized, as the articles were. The engine passes `normalize`d
    words (letters and digits only) anyway, so this is a second fence. Empty text gives `""`,
    which matches nothing.
    """
    return '"' + text.replace('"', '""') + '"' + ("*" if prefix and text else "")


class _Index:
    """The FTS5 table: one row per article (rowid = its position in `archive.articles`, newest first)."""

    def __init__(self, articles: Sequence[Article]) -> None:
        require_fts5()
        self.connection = sqlite3.connect(":memory:", check_same_thread=False)
        self.lock = threading.Lock()  # one connection, used by whichever thread answers
        self._vocabulary: dict[str, dict[str, int]] | None = None
        columns = ", ".join(COLUMNS)
        with self.connection:
            self.connection.execute(
                f"CREATE VIRTUAL TABLE articles USING fts5({columns}, content='', "
                f"tokenize='{TOKENIZER}', prefix='{PREFIXES}')"
            )
            self.connection.executemany(
                f"INSERT INTO articles(rowid, {columns}) VALUES (?, ?, ?, ?, ?)",
                (
                    (position, a.title, a.implications_md, a.summary_md, a.citation)
                    for position, a in enumerate(articles)
                ),
            )
            weights = ", ".join(map(str, WEIGHTS))
            self.connection.execute(f"INSERT INTO articles(articles, rank) VALUES ('rank', 'bm25({weights})')")

    def count(self, match: str) -> int:
        with self.lock:
            row = self.connection.execute("SELECT count(*) FROM articles WHERE articles MATCH ?", (match,)).fetchone()
        return int(row[0])

    def matching(self, match: str, after: int = -1) -> list[int]:
        """The positions of the articles that match (beyond position `after`), in order: newest first."""
        with self.lock:
            rows = self.connection.execute(
                "SELECT rowid FROM articles WHERE articles MATCH ? AND rowid > ? ORDER BY rowid",  # FTS5's own order
                (match, after),
            ).fetchall()
        return [row[0] for row in rows]

    def first(self, match: str) -> int | None:
        """The position of the newest article that matches, if any."""
        with self.lock:
            row = self.connection.execute(
                "SELECT rowid FROM articles WHERE articles MATCH ? LIMIT 1", (match,)
            ).fetchone()
        return None if row is None else int(row[0])

    def window(self, match: str, ranking: str = "") -> tuple[list[int], int | None]:
        """The newest RANK_ALL matches, best first (bm25 with the column weights), and the last position
        they reach when there are more matches beyond it (else None). `ranking`: an FTS5 query with the
        same matches and more phrases for bm25 to count (see `_ranked_by`)."""
        with self.lock:
            found = self.connection.execute(
                "SELECT rowid FROM articles WHERE articles MATCH ? LIMIT 1 OFFSET ?", (match, RANK_ALL)
            ).fetchone()
            last = None if found is None else found[0] - 1
            rows = self.connection.execute(
                "SELECT rowid FROM articles WHERE articles MATCH ? AND rowid <= ? ORDER BY rank",
                (ranking or match, sys.maxsize if last is None else last),
            ).fetchall()
        return [row[0] for row in rows], last

    def stem(self, word: str) -> str:
        """How the index stores `word` (Porter stem of the folded word): "Flukiger" -> "flukig"."""
        with self.lock:
            if self._vocabulary is None:
                self._prepare_vocabulary()
            self.connection.execute("DELETE FROM temp.stemmer")
            self.connection.execute("INSERT INTO temp.stemmer(word) VALUES (?)", (word,))
            row = self.connection.execute("SELECT group_concat(term, ' ') FROM temp.stems").fetchone()
        return row[0] or ""

    def terms(self, first: str) -> dict[str, int]:
        """The index's terms (stems) beginning with the letter `first`, with their article counts."""
        with self.lock:
            if self._vocabulary is None:
                self._prepare_vocabulary()
            assert self._vocabulary is not None
            return self._vocabulary.get(first, {})

    def _prepare_vocabulary(self) -> None:
        """Read the index's vocabulary once, the first time a word matches nothing (lock held)."""
        self.connection.execute(f"CREATE VIRTUAL TABLE temp.stemmer USING fts5(word, tokenize='{TOKENIZER}')")
        self.connection.execute("CREATE VIRTUAL TABLE temp.stems USING fts5vocab(temp, stemmer, 'instance')")
        self.connection.execute("CREATE VIRTUAL TABLE temp.vocabulary USING fts5vocab(main, articles, 'row')")
        vocabulary: dict[str, dict[str, int]] = {}
        for term, documents in self.connection.execute("SELECT term, doc FROM temp.vocabulary"):
            if len(term) >= 4 and not term[0].isdigit():
                vocabulary.setdefault(term[0], {})[term] = documents
        self._vocabulary = vocabulary

    def best_first(self, match: str, ranking: str = "") -> list[int]:
        """Every match: the ranked window (see RANK_ALL), then the older matches, newest first."""
        ranked, last = self.window(match, ranking)
        return ranked if last is None else ranked + self.matching(match, after=last)


class QueryEngine:
    def __init__(self, archive: Archive, synonyms: Synonyms | None = None) -> None:
        require_fts5()  # at start-up, not on someone's first query
        self.archive = archive
        self.articles = archive.articles
        self.counts = archive.topic_counts()
        self.synonyms = synonyms or Synonyms()
        by_topic: dict[str, list[int]] = {t.slug: [] for t in archive.topics}
        for position, article in enumerate(self.articles):
            for slug in article.topics:
                by_topic[slug].append(position)
        self._tagged = {slug: frozenset(found) for slug, found in by_topic.items()}
        self._exact: dict[str, Topic] = {}
        self._spellings: list[tuple[str, Topic]] = []
        for topic in archive.topics:
            for spelling in (topic.name, topic.slug, *topic.aliases):
                key = normalize(spelling)
                self._exact.setdefault(key, topic)
                self._spellings.append((key, topic))
        self._spellings.sort(key=lambda pair: pair[0])
        self._phrases: dict[str, Topic | tuple[str, ...]] = dict(self._exact)
        self._longest = max((key.count(" ") + 1 for key in self._phrases), default=1)
        # an alias made of two other spellings of its own topic ("alliance ruptures": "alliance" and
        # "ruptures") is no name of the topic: the second word narrows the first, as if typed apart
        for key, topic in list(self._exact.items()):
            if " " in key and key not in {normalize(topic.name), normalize(topic.slug)}:
                parts = self._segment(key.split(), without=key)
                if len(parts) > 1 and all(part.topic is not None and part.topic.slug == topic.slug for part in parts):
                    del self._exact[key], self._phrases[key]
        for synonym in self.synonyms.entries:
            if not synonym.words or synonym.words in self._phrases:
                continue  # a topic's own spelling, or a repeat: `pprfeed check` reports both
            target = normalize(synonym.target)
            if target in self._exact:
                self._phrases[synonym.words] = self._exact[target]
            elif target:
                self._phrases[synonym.words] = (synonym.words, target)
        self._longest = max((key.count(" ") + 1 for key in self._phrases), default=1)
        # typo candidates: every spelling; single words of multi-word spellings only as did-you-mean notes
        self._typo_keys = tuple(sorted(self._exact))
        words: dict[str, set[str]] = {}
        for key, topic in self._spellings:
            for word in key.split():
                if len(word) >= 5 and word not in STOPWORDS and " " in key:
                    words.setdefault(word, set()).add(topic.slug)
        self._name_words = {word: next(iter(slugs)) for word, slugs in words.items() if len(slugs) == 1}
        self._index: _Index | None = None
        self._dois: dict[str, tuple[Article, ...]] = {}
        for article in self.articles:
            if article.doi:
                doi = article.doi.casefold()  # DOIs ignore case
                self._dois[doi] = (*self._dois.get(doi, ()), article)
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
            if spelling in self._exact:  # not "alliance ruptures", which is no name (see __init__)
                found.setdefault(topic.slug, topic)
        return sorted(found.values(), key=lambda t: t.name)

    def resolve(self, text: str) -> tuple[MatchKind, tuple[Topic, ...]]:
        """The topic `text` names exactly (or by a synonym), or begins: LIST, TOPIC, PREFIX or NONE."""
        key = normalize(text[:MAX_QUERY_CHARS])
        if not key:
            return MatchKind.LIST, ()
        content = " ".join(word for word in key.split() if word not in STOPWORDS)
        for candidate in dict.fromkeys((key, content)):
            found = self._phrases.get(candidate)
            if isinstance(found, Topic):
                return MatchKind.TOPIC, (found,)
        prefixed = self._prefixed(key) if len(key) >= 3 else []
        if prefixed:
            return MatchKind.PREFIX, tuple(prefixed)
        return MatchKind.NONE, ()

    def suggest(self, text: str, most: int = 3) -> list[Topic]:
        """Topics whose spelling (or a word of it) `text` is a typo of: did-you-mean, closest first."""
        key = normalize(text[:MAX_QUERY_CHARS])
        found: dict[str, Topic] = {}
        for match in typo_matches(key, self._typo_keys, most, normalized=True):
            found.setdefault(self._exact[match].slug, self._exact[match])
        if " " not in key:
            for match in typo_matches(key, self._name_words, most, normalized=True):
                topic = self.archive.topic(self._name_words[match])
                found.setdefault(topic.slug, topic)
        return list(found.values())[:most]

    def _strong_typo(self, key: str) -> Topic | None:
        """The topic one of whose spellings `key` is a typo of, if any (closest wins)."""
        matches = typo_matches(key, self._typo_keys, 1, normalized=True)
        return self._exact[matches[0]] if matches else None

    # --- articles --------------------------------------------------------------------------

    def find(self, text: str) -> QueryResult:
        query = " ".join(text[:MAX_QUERY_CHARS].split())
        kind, topics = self.resolve(query)
        if kind is MatchKind.LIST:
            return QueryResult(query, kind, (), ())
        if topics:
            return self._topic_answer(query, kind, topics)
        doi = normalize_doi(query)
        if doi is not None:
            found = self._dois.get(doi.casefold(), ())
            return QueryResult(query, MatchKind.TEXT if found else MatchKind.NONE, (), found, searched=(doi,))
        words = normalize(query).split()
        parts = self._segment(words)
        content = [part for part in parts if part.topic is not None or part.words not in STOPWORDS]
        return self._answer(query, content or parts)

    def _topic_answer(self, query: str, kind: MatchKind, topics: Sequence[Topic]) -> QueryResult:
        tagged = self._articles_of(topics)
        if tagged or not query:
            return QueryResult(query, kind, tuple(topics), tagged)
        # a real topic nobody has tagged yet: articles that mention the words beat an empty answer
        mentions = self._search(self._segment_words(normalize(query).split()), (), self._text_index(), True)
        if mentions:
            return QueryResult(query, MatchKind.TEXT, tuple(topics), mentions, order="relevance")
        return QueryResult(query, kind, tuple(topics), ())

    def _segment(self, words: list[str], without: str = "") -> list[_Part]:
        """The query's words as topics and words: the longest topic spelling or synonym at each place."""
        parts: list[_Part] = []
        start = 0
        while start < len(words):
            for end in range(min(len(words), start + self._longest), start, -1):
                phrase = " ".join(words[start:end])
                found = self._phrases.get(phrase) if phrase != without else None
                if found is not None:
                    if isinstance(found, Topic):
                        parts.append(_Part(phrase, topic=found))
                    else:
                        parts.append(_Part(phrase, phrases=found))
                    start = end
                    break
            else:
                parts.append(_Part(words[start], phrases=(words[start],)))
                start += 1
        return parts

    def _segment_words(self, words: list[str]) -> list[_Part]:
        """All words as words (synonyms expanded), stopwords left out unless nothing else is left."""
        parts = [
            part if part.topic is None else _Part(part.words, phrases=(part.words,)) for part in self._segment(words)
        ]
        return [part for part in parts if part.words not in STOPWORDS] or parts

    def _answer(self, query: str, parts: list[_Part]) -> QueryResult:
        index = self._text_index()
        parts = self._narrow_repeated_topics(parts, index)
        topics = _topics_of(parts)
        words = [part for part in parts if part.topic is None]
        searched = tuple(part.shown for part in words)
        if words:  # the common case first: every word is in some article
            hits = self._search(words, topics, index, False, _topic_words(parts))
            if hits:
                return QueryResult(query, MatchKind.TEXT, (), hits, (), searched, topics, "relevance")
        unmatched = [part for part in words if not index.count(part.match())]
        if unmatched:
            whole = normalize(query)
            strong = self._strong_typo(whole) if " " in whole else None
            if strong is not None:  # "depresive symptoms": the whole query is a typo of a spelling
                return QueryResult(query, MatchKind.TYPO, (strong,), self._articles_of([strong]))
            corrected = []
            for part in parts:
                match = typo_matches(part.words, self._typo_keys, 1, normalized=True) if part in unmatched else []
                if match:  # the spelling it is a typo of stands in for it: "rupturs" is "ruptures"
                    corrected.append(_Part(match[0], topic=self._exact[match[0]], corrected=True))
                elif part in unmatched and part is words[-1] and self._unfinished(part, index):
                    unmatched.remove(part)  # the beginning of a word ("alliance rupt"): read as a prefix
                    corrected.append(part)
                elif part in unmatched and (word := self._closest_word(part.words, index)) is not None:
                    corrected.append(word)  # "Flukiger": the word of the articles it is a typo of
                else:
                    corrected.append(part)
            if corrected != parts:
                parts = self._narrow_repeated_topics(corrected, index)
                unmatched = [part for part in parts if part in unmatched and not part.corrected]
                topics = _topics_of(parts)
                words = [part for part in parts if part.topic is None]
                searched = tuple(part.shown for part in words)
        typo = any(part.corrected and part.topic is not None for part in parts)
        kind = MatchKind.TYPO if typo else MatchKind.TOPIC
        if not words:
            return self._topics_answer(query, kind, topics, parts)
        hits = self._search(words, topics, index, True, _topic_words(parts))
        suggestions = self._suggestions(unmatched, topics)
        if hits:
            return QueryResult(query, MatchKind.TEXT, (), hits, suggestions, searched, topics, "relevance")
        if topics:  # the other words are in no article: the topics' own answer
            answer = self._topics_answer(query, kind, topics, parts)
            return QueryResult(
                query, answer.kind, answer.topics, answer.articles, suggestions, searched, order=answer.order
            )
        return QueryResult(query, MatchKind.NONE, (), (), suggestions, searched)

    @staticmethod
    def _unfinished(part: _Part, index: _Index) -> bool:
        """Whether the last word of a query begins some word of the articles (three letters or more)."""
        return len(part.words) >= 3 and index.count(part.match(prefix=True)) > 0

    def _closest_word(self, typed: str, index: _Index) -> _Part | None:
        """`typed` (a word no article has) read as the word of the articles it is a typo of, if any.

        Compared as the index stores words (stems, so "adolecents" meets "adolesc"); of equally close
        words the one in most articles wins. The note shows the word as an article writes it.
        """
        if len(typed) < 5 or " " in typed or typed.isdigit():
            return None
        stem = index.stem(typed)
        terms = index.terms(stem[:1])
        close = typo_matches(stem, terms, most=5, normalized=True)
        if not close:
            return None
        best = close[0]
        best = max((term for term in close if _as_close(stem, term, best)), key=lambda term: terms[term])
        found = index.first(fts_phrase(best))
        if found is None:  # a stem the tokenizer would change again: not worth guessing
            return None
        return _Part(typed, phrases=(best,), corrected=True, note=self._written(best, found))

    def _written(self, stem: str, position: int) -> str:
        """How the article at `position` writes the word stored as `stem` (its most frequent such word)."""
        article = self.articles[position]
        counts: dict[str, int] = {}
        for text in (article.title, article.citation, article.summary_md, article.implications_md):
            for word in _WORDS.findall(text):
                if normalize(word).startswith(stem):
                    counts[word] = counts.get(word, 0) + 1
        return max(counts, key=lambda word: counts[word]) if counts else stem

    def _narrow_repeated_topics(self, parts: list[_Part], index: _Index) -> list[_Part]:
        """A topic named twice ("alliance ruptures", both spellings of Alliance): the rarer word narrows it."""
        by_topic: dict[str, list[_Part]] = {}
        for part in parts:
            if part.topic is not None:
                by_topic.setdefault(part.topic.slug, []).append(part)
        repeated = [found for found in by_topic.values() if len(found) > 1]
        if not repeated:
            return parts
        narrowing: set[int] = set()
        for found in repeated:
            commonest = max(found, key=lambda part: index.count(fts_phrase(part.words)))
            narrowing.update(id(part) for part in found if part is not commonest)
        return [_Part(part.words, phrases=(part.words,)) if id(part) in narrowing else part for part in parts]

    def _suggestions(self, unmatched: list[_Part], used: Sequence[Topic]) -> tuple[Topic, ...]:
        """Did-you-mean: topics that unmatched words are typos of (a word that matched articles gets none)."""
        found: dict[str, Topic] = {}
        taken = {topic.slug for topic in used}
        for part in unmatched:
            for topic in self.suggest(part.words):
                if topic.slug not in taken:
                    found.setdefault(topic.slug, topic)
        return tuple(found.values())[:3]

    def _topics_answer(self, query: str, kind: MatchKind, topics: Sequence[Topic], parts: list[_Part]) -> QueryResult:
        """Several topics: tagged with all first, then with fewer; each group by relevance to their words.
        One topic: its own answer."""
        if len(topics) == 1:
            return self._topic_answer(query, kind, topics)
        index = self._text_index()
        words = " OR ".join(fts_phrase(part.words) for part in parts if part.topic is not None)
        ranked, _ = index.window(words)
        relevance = {position: rank for rank, position in enumerate(ranked)}
        held = Counter(position for topic in topics for position in self._tagged[topic.slug])
        # beyond the ranked window, newest first (position order)
        ordered = sorted(held, key=lambda p: (-held[p], relevance.get(p, RANK_ALL + p)))
        return QueryResult(query, kind, tuple(topics), _pick(self.articles, ordered), order="relevance")

    def _search(
        self,
        words: list[_Part],
        boost: Sequence[Topic],
        index: _Index,
        fallbacks: bool,
        topic_words: Sequence[str] = (),
    ) -> tuple[Article, ...]:
        """The articles with every word, by relevance, articles of `boost` topics first. `fallbacks`:
        when none has them all, the last word may be unfinished ("alliance rupt"), then the articles
        with the most of the words come first."""
        # the boost topics' own words count in the ranking, not in the filter: (words) AND (word OR topic words)
        also = " OR ".join(fts_phrase(topic) for topic in topic_words)
        every = " AND ".join(part.match() for part in words)
        order = index.best_first(every, _ranked_by(every, words[0], also))
        if not order and fallbacks and len(words[-1].words) >= 3:
            every = " AND ".join([*(part.match() for part in words[:-1]), words[-1].match(prefix=True)])
            order = index.best_first(every, _ranked_by(every, words[0], also, prefix=len(words) == 1))
        if not order and fallbacks and len(words) > 1:
            matches = [part.match(prefix=part is words[-1] and len(part.words) >= 3) for part in words]
            held = Counter(position for match in matches for position in index.matching(match))
            if held:
                ranked = index.best_first(" OR ".join(matches))
                order = sorted(ranked, key=lambda position: -held[position])
        if boost and order:
            tagged = [self._tagged[topic.slug] for topic in boost]
            order = _boosted(order, tagged)
            if not any(order[0] in found for found in tagged) and 2 * len(order) >= len(self.articles):
                # no article of the topics mentions the words, which half the archive has ("how much does
                # therapy cost", and the Cost article says "psychological services"): the words are how
                # the question was put, not what it asks, and the topics' own articles still come first
                own = sorted(set().union(*tagged))
                order = own + [position for position in order if not any(position in found for found in tagged)]
        return _pick(self.articles, order)

    def _articles_of(self, topics: Sequence[Topic]) -> tuple[Article, ...]:
        """The articles tagged with any of `topics`, newest first."""
        return _pick(self.articles, sorted(frozenset().union(*(self._tagged[topic.slug] for topic in topics))))

    def search_text(self, text: str) -> tuple[Article, ...]:
        """Articles containing every word of `text` (stemmed; the last word may be a prefix), newest first."""
        terms = normalize(text[:MAX_QUERY_CHARS]).split()
        if not terms:
            return ()
        match = " AND ".join(fts_phrase(term, prefix=position == len(terms) - 1) for position, term in enumerate(terms))
        return _pick(self.articles, self._text_index().matching(match))

    def prepare(self) -> None:
        """Build the full-text index now (say, in a background thread) instead of on the first text query."""
        self._text_index().terms("a")  # and the vocabulary typos are compared with

    @property
    def prepared(self) -> bool:
        """Whether the full-text index is built (text queries then take about a millisecond)."""
        return self._index is not None

    def _text_index(self) -> _Index:
        if self._index is None:
            with self._index_lock:  # two first queries at once build it once
                if self._index is None:
                    self._index = _Index(self.articles)
        return self._index


def _as_close(stem: str, term: str, best: str) -> bool:
    """Whether `term` is as close to `stem` as `best` is (difflib's ratio, to two places)."""
    ratio = difflib.SequenceMatcher(None, term, stem).ratio()
    return round(ratio, 2) >= round(difflib.SequenceMatcher(None, best, stem).ratio(), 2)


def _ranked_by(match: str, first: _Part, also: str, prefix: bool = False) -> str:
    """`match`, with the phrases `also` counted by bm25 but not required: `(match) AND (first OR also)`."""
    return f"({match}) AND ({first.match(prefix)} OR {also})" if also else match


def _topic_words(parts: Sequence[_Part]) -> list[str]:
    return [part.words for part in parts if part.topic is not None]


def _topics_of(parts: Sequence[_Part]) -> tuple[Topic, ...]:
    return tuple({part.topic.slug: part.topic for part in parts if part.topic is not None}.values())


def _boosted(order: list[int], tagged: list[frozenset[int]]) -> list[int]:
    """`order` with the positions in most of the `tagged` sets first, otherwise kept (sorted() is stable)."""
    held = Counter(position for found in tagged for position in found)
    return sorted(order, key=lambda position: -held[position])


def _pick(articles: Sequence[Article], positions: Sequence[int]) -> tuple[Article, ...]:
    """`articles` at `positions`, in that order."""
    return tuple(articles[position] for position in positions)
