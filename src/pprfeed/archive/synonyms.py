"""Search synonyms: the words people type for what the archive calls something (content/synonyms.toml).

    adolescents = ["youth", "teens", "teenagers"]
    "substance use" = ["addiction", "alcohol use"]
    depression = ["low mood"]

Each key is a *target*: a topic (any name, slug or alias from topics.toml) or a word or phrase
that occurs in the articles. Its list holds the synonyms, each searched as if it were the target
too: "teens" finds the articles that say "adolescents", and "low mood" is the Depression topic.
Synonyms are for search only (`pprfeed topic` and the bots); article front matter never uses them.

`load_synonyms` reads the file for the query engine and never fails (a broken file means no
synonyms); `check_synonyms` is `pprfeed check`'s part: every problem as a Diagnostic with its line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pprfeed.archive.load import SYNONYMS_FILE
from pprfeed.diagnostics import Diagnostic, Report, parse_toml, read_text
from pprfeed.model import Archive, Article, Topic
from pprfeed.text import did_you_mean, normalize


@dataclass(frozen=True)
class Synonym:
    words: str
    """What people type, `normalize`d: `young people`."""
    target: str
    """What it stands for, as written in the file: `adolescents`, `Depression`."""
    line: int = 0
    """Where it is written in synonyms.toml (0 when not read from a file)."""


@dataclass(frozen=True)
class Synonyms:
    entries: tuple[Synonym, ...] = ()

    @classmethod
    def of(cls, table: dict[str, Sequence[str]]) -> Synonyms:
        """From `{target: [synonym, …]}`, as the file spells it (for tests and tools)."""
        return cls(tuple(Synonym(normalize(word), target) for target, words in table.items() for word in words))

    def __len__(self) -> int:
        return len(self.entries)


def load_synonyms(content: str | Path) -> Synonyms:
    """The synonyms of the content folder `content` for the query engine: none if the file is missing or broken.

    Entries `pprfeed check` would reject still load when their shape is right; the engine then
    ignores what it cannot use (a target that is no topic and occurs nowhere finds nothing).
    """
    path = Path(content) / SYNONYMS_FILE
    if not path.is_file():
        return Synonyms()
    synonyms, _ = _read(path)
    return Synonyms() if synonyms is None else synonyms


def check_synonyms(content: str | Path, archive: Archive) -> list[Diagnostic]:
    """Every problem with content/synonyms.toml (a missing file is fine), in line order.

    Each target must be a topic or a word or phrase that occurs in the archive; no synonym may be
    a topic's name, slug or alias (that word belongs to its topic), be listed twice, or be a
    target itself.
    """
    path = Path(content) / SYNONYMS_FILE
    if not path.is_file():
        return []
    synonyms, report = _read(path)
    if synonyms is None:
        return report.diagnostics
    topics = _topic_spellings(archive.topics)
    targets: dict[str, list[Synonym]] = {}
    for synonym in synonyms.entries:
        targets.setdefault(synonym.target, []).append(synonym)
    written = _article_text(archive.articles)
    missing = _missing_words([target for target in targets if normalize(target) not in topics], written)
    for target, entries in targets.items():
        if target in missing:
            guess = did_you_mean(target, [s for t in archive.topics for s in (t.name, t.slug, *t.aliases)])
            words = [entry.words for entry in entries]
            found = [word for word in words if word in topics or word not in _missing_words([word], written)]
            if found:  # `kids = ["children"]`: the wrong way round
                fix = f'write it the other way round: {_key(found[0])} = ["{target}"]'
            else:
                fix = (f'did you mean the topic "{guess}"? ' if guess else "") + (
                    "write a topic's name, slug or alias, or a word as the summaries spell it; or remove the line"
                )
            report.error(
                path, entries[0].line, f'"{target}" is neither a topic nor a word that occurs in the articles', fix
            )
    first: dict[str, Synonym] = {}
    target_keys = {normalize(target): entries[0] for target, entries in targets.items()}
    for synonym in synonyms.entries:
        shown = f'"{synonym.words}"'
        own = topics.get(normalize(synonym.target))
        topic = topics.get(synonym.words)
        if topic is not None:
            if own is not None and own.slug == topic.slug:
                fix = f"remove it here: topics.toml already makes it a spelling of {topic.name}"
            else:
                fix = (
                    f"remove it: it is a spelling of the topic {topic.name} in topics.toml, and a word "
                    "can stand for one thing only (move it between topics in topics.toml if it belongs elsewhere)"
                )
            report.error(path, synonym.line, f"synonym {shown} is a topic's name, slug or alias", fix)
        elif synonym.words == normalize(synonym.target):
            report.error(path, synonym.line, f"synonym {shown} is the word it stands for", "remove it")
        elif synonym.words in first:
            earlier = first[synonym.words]
            report.error(
                path,
                synonym.line,
                f"synonym {shown} is listed twice (lines {earlier.line} and {synonym.line}: "
                f'for "{earlier.target}" and for "{synonym.target}")'
                if earlier.target != synonym.target
                else f'synonym {shown} is listed twice for "{synonym.target}" (lines {earlier.line} and '
                f"{synonym.line})",
                "keep one of the two: a word can stand for one thing only",
            )
        elif synonym.words in target_keys:
            report.error(
                path,
                synonym.line,
                f"synonym {shown} is also a target (line {target_keys[synonym.words].line})",
                f'list its synonyms under "{synonym.target}" instead: synonyms do not chain',
            )
        first.setdefault(synonym.words, synonym)
    return sorted(report.diagnostics, key=lambda d: d.line or 0)


def _topic_spellings(topics: Iterable[Topic]) -> dict[str, Topic]:
    spellings: dict[str, Topic] = {}
    for topic in topics:
        for spelling in (topic.name, topic.slug, *topic.aliases):
            spellings.setdefault(normalize(spelling), topic)
    return spellings


def _read(path: Path) -> tuple[Synonyms | None, Report]:
    """The file's synonyms with their lines, or None when it cannot be read as TOML at all."""
    report = Report()
    text = read_text(path, report)
    table = None if text is None else parse_toml(text, path, report)
    if table is None or text is None:
        return None, report
    lines = _string_lines(text)
    entries: list[Synonym] = []
    for target, value in table.items():
        key_line = lines.get(target, [(0, target)])[0][0]
        if not isinstance(value, list) or not all(isinstance(word, str) for word in value):
            report.error(
                path,
                key_line or None,
                f'"{target}" must be a list of synonyms in double quotes',
                f'write {_key(target)} = ["one word", "another"]',
            )
            continue
        if not normalize(target):
            report.error(path, key_line or None, f'"{target}" has no letters or digits', "write a word, or remove it")
            continue
        written = [line for line, _ in lines.get(target, [])[1:]]
        for position, word in enumerate(value):
            line = written[position] if len(written) == len(value) else key_line
            if not normalize(word):
                report.error(
                    path, line or None, f'a synonym of "{target}" has no letters or digits', "remove the empty entry"
                )
                continue
            entries.append(Synonym(normalize(word), target, line))
    return Synonyms(tuple(entries)), report


_KEY = re.compile(r'[ \t]*(?:"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([A-Za-z0-9_-]+))[ \t]*=')
_WORD = re.compile(r"[^\W_]+")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|(#)')


def _string_lines(text: str) -> dict[str, list[tuple[int, str]]]:
    """Each top-level key -> [(its line, key), (line, string) for each string in its value, in order].

    A line scanner for the file's simple shape (`key = ["a", "b"]`, lists over several lines,
    comments), so every synonym can be named with its line; tomllib gives values only.
    """
    found: dict[str, list[tuple[int, str]]] = {}
    current: list[tuple[int, str]] | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        start = 0
        match = _KEY.match(line)
        if match:
            key = next(part for part in match.groups() if part is not None)
            key = key.encode().decode("unicode_escape") if match.group(1) and "\\" in key else key
            current = found.setdefault(key, [(number, key)])
            start = match.end()
        for string in _STRING.finditer(line, start):
            if string.group(3):  # a comment: the rest of the line is not TOML
                break
            if current is not None:
                current.append((number, string.group(1) if string.group(1) is not None else string.group(2)))
    return found


def _key(target: str) -> str:
    return target if re.fullmatch(r"[A-Za-z0-9_-]+", target) else f'"{target}"'


def _article_text(articles: Sequence[Article]) -> str:
    """The articles' titles, texts and citations, lower-cased: what synonym targets must occur in."""
    return "\n".join(part for a in articles for part in (a.title, a.summary_md, a.implications_md, a.citation)).lower()


def _missing_words(targets: list[str], text: str) -> set[str]:
    """The targets that occur (case-insensitively, as whole words) nowhere in `text` (from `_article_text`)."""
    missing = set()
    for target in targets:
        spellings = {normalize(target), " ".join(_WORD.findall(target.lower()))} - {""}  # accents folded or not
        if not any(_occurs(spelling.split(), text) for spelling in spellings):
            missing.add(target)
    return missing


def _occurs(words: list[str], text: str) -> bool:
    """Whether `words` occur in `text` as whole words, with anything but letters and digits between them."""
    # the pattern begins with the first word, so the regular expression engine skips ahead to it quickly;
    # whether a letter or digit comes before it is checked on each match
    pattern = re.compile(r"[\W_]+".join(map(re.escape, words)) + r"(?![^\W_])")
    return any(not match.start() or not _WORD.match(text, match.start() - 1) for match in pattern.finditer(text))
