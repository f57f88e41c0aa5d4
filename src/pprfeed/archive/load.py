"""Content files -> Archive, and every diagnostic `pprfeed check` prints.

`load_archive(folder)` never raises on bad input: it returns the Archive (or
None when anything is wrong) together with a list of Diagnostics, each naming
the file, the line, what is wrong and how to fix it.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from pprfeed.diagnostics import (
    Diagnostic,
    Report,
    as_date,
    key_line,
    parse_toml,
    read_text,
    toml_value,
    unknown_keys,
)
from pprfeed.model import MONTH_NAMES, Archive, Article, Issue, Topic
from pprfeed.text import EMAIL, did_you_mean, normalize, normalize_doi, slugify

TOPICS_FILE = "topics.toml"
SYNONYMS_FILE = "synonyms.toml"  # search synonyms: read and checked by archive/synonyms.py
ISSUES_DIR = "issues"
ISSUE_FILE = "issue.toml"
README = "README.md"

_MONTH_DIR = re.compile(r"([0-9]{4})-([0-9]{2})")  # ASCII digits only: \d takes ٢٠١٩ too
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_URL = re.compile(r"https?://[^\s<>\"]+")
_FENCE = re.compile(r"^[^\S\n]*\+\+\+[^\S\n]*$", re.M)
IMPLICATIONS_SPELLINGS = (
    r"Practi(?:ce|cal)[ \t]+Implications?",
    r"Implications?[ \t]+for[ \t]+Practice",
    r"Clinical[ \t]+Implications?",
)
"""Every spelling of the practice-implications heading, for `check` and `import` alike (regular expressions)."""
IMPLICATIONS_WORDS = "(?:" + "|".join(IMPLICATIONS_SPELLINGS) + ")"
_IMPLICATIONS = re.compile(r"(#{1,6})[ \t]+" + IMPLICATIONS_WORDS + r"[ \t]*:?[ \t]*#*[ \t]*", re.I)
_PLAIN_IMPLICATIONS = re.compile(r"[ \t]*[*_]{0,2}" + IMPLICATIONS_WORDS + r"[ \t]*:?[*_]{0,2}[ \t]*", re.I)
EDITOR_LEFTOVERS = ("*~", ".#*", "*.swp", "*.swo", ".DS_Store", "Thumbs.db", "desktop.ini")
"""Backup, lock and system files editors and file managers leave beside the content: skipped with a note."""
RETRACTION_NOTICE = "This summary has been retracted."

IMPLICATIONS_HEADING = "## Practice Implications"
ARTICLE_LIMIT = 200_000
"""The largest article file read, in bytes: fifty times the longest real one, and far from what slows a build."""
FIELD_LIMITS = {
    "title": 300,
    "citation": 2000,
    "doi": 200,
    "permalink": 500,
    "contact_email": 254,
    "research_type": 100,
    "gist": 280,
    "short_citation": 120,
}
"""Longest accepted front-matter values: past these, posts and feeds could not show them whole."""
ARTICLE_KEYS = {
    "title": "the article's headline, as readers will see it",
    "topics": "a list of topics from content/topics.toml (names, slugs or aliases)",
    "citation": "the full reference of the summarised article",
    "doi": 'the DOI, e.g. "10.1037/pst0000172" (a doi.org URL or doi: prefix is fine)',
    "research_type": 'e.g. "meta-analysis"',
    "contact_email": "the corresponding author's e-mail",
    "permalink": "the summary's page on the original blog (https://…)",
    "id": "the article's permanent id; set only to keep an id after renaming the file",
    "updated": "the date of the last correction, or of the retraction (YYYY-MM-DD)",
    "retracted": "true to take the article down: feeds and posts then carry a retraction notice",
    "retraction_reason": "why the article was retracted, shown in the notice",
    "gist": "what chat digests say of the article (at most 280 characters; default: the practice implications' "
    "first sentences)",
    "short_citation": 'how chat digests cite it, e.g. "Cameron, Rodgers & Dagnan (2018)" (default: derived)',
}
REQUIRED_ARTICLE_KEYS = ("title", "topics", "citation")
OPTIONAL_TEXT_KEYS = (
    "doi",
    "research_type",
    "contact_email",
    "permalink",
    "id",
    "retraction_reason",
    "gist",
    "short_citation",
)
ISSUE_KEYS = {
    "intro": "a short introduction shown above the articles",
    "published": "the publication date (YYYY-MM-DD); defaults to the first of the month",
    "draft": "true to hold the issue back from feeds and posts",
}
TOPIC_KEYS = {"name", "slug", "aliases", "description", "former_slugs"}


def load_archive(folder: str | Path) -> tuple[Archive | None, list[Diagnostic]]:
    """Read and check the content folder. The Archive is None when any error was found."""
    root = Path(folder)
    report = Report()
    if not root.is_dir():
        report.error(
            root,
            None,
            "content folder not found",
            "pass --content DIR pointing at a folder with topics.toml and issues/",
        )
        return None, report.diagnostics
    topics = _load_topics(root / TOPICS_FILE, report)
    issues = _load_issues(root / ISSUES_DIR, topics, report)
    _check_stray_top_level(root, report)
    _order_by_file_then_line(report.diagnostics)
    if report.failed:
        return None, report.diagnostics
    archive = Archive(topics=tuple(topics), issues=tuple(sorted(issues, key=lambda i: i.month, reverse=True)))
    return archive, report.diagnostics


def _order_by_file_then_line(diagnostics: list[Diagnostic]) -> None:
    """Files stay in the order they were read; inside a file, problems go top to bottom."""
    first_seen: dict[str, int] = {}
    for diagnostic in diagnostics:
        first_seen.setdefault(diagnostic.path, len(first_seen))
    diagnostics.sort(key=lambda d: (first_seen[d.path], d.line or 0))


# --- topics --------------------------------------------------------------------------


class TopicResolver:
    """Maps any spelling an editor may write (name, slug, alias) to a topic slug."""

    def __init__(self, topics: list[Topic]) -> None:
        self.by_key: dict[str, Topic] = {}
        for topic in topics:
            for spelling in (topic.slug, topic.name, *topic.aliases):
                self.by_key.setdefault(normalize(spelling), topic)
        self.spellings = [s for t in topics for s in (t.name, t.slug, *t.aliases)]
        self.exact = {spelling: self.by_key[normalize(spelling)] for spelling in self.spellings}
        self._guesses: dict[str, Topic | None] = {}

    def resolve(self, spelling: str) -> Topic | None:
        return self.exact.get(spelling) or self.by_key.get(normalize(spelling))

    def suggest(self, spelling: str) -> Topic | None:
        if spelling not in self._guesses:  # a misspelling tends to recur across files, and difflib is slow
            guess = did_you_mean(spelling, self.spellings)
            self._guesses[spelling] = self.resolve(guess) if guess else None
        return self._guesses[spelling]


def _load_topics(path: Path, report: Report) -> list[Topic]:
    if not path.exists():  # anything else there (a folder, a device) is read_text's to report
        report.error(
            path,
            None,
            "topic vocabulary missing",
            "create topics.toml with one [[topic]] table per topic (see content/README.md)",
        )
        return []
    text = read_text(path, report)
    data = None if text is None else parse_toml(text, path, report)
    if data is None or text is None:
        return []
    tables = data.get("topic")
    if not isinstance(tables, list) or not tables:
        report.error(path, 1, "no topics defined", 'add [[topic]] tables with name = "…" and slug = "…"')
        return []
    starts = [m.start() for m in re.finditer(r"^\[\[topic\]\]", text, re.M)]
    topics: list[Topic] = []
    seen: dict[str, str] = {}
    slugs: dict[str, str] = {}
    for index, table in enumerate(tables):
        line = text[: starts[index]].count("\n") + 1 if index < len(starts) else None
        block = text[starts[index] :] if index < len(starts) else ""
        where = f"topic #{index + 1}"
        unknown_keys(table, TOPIC_KEYS, block, path, report, line or 1)
        name, slug = table.get("name"), table.get("slug")
        if not isinstance(name, str) or not name.strip():
            report.error(path, line, f"{where} has no name", 'add name = "Display Name"')
            continue
        if not isinstance(slug, str) or not _SLUG.fullmatch(slug):
            report.error(
                path,
                key_line(block, "slug", line or 1),
                f'topic "{name}" has a missing or malformed slug',
                'use lowercase letters, digits and hyphens, e.g. slug = "trauma-and-or-ptsd"',
            )
            continue
        aliases = table.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            report.error(
                path,
                key_line(block, "aliases", line or 1),
                f'topic "{name}" has malformed aliases',
                'write aliases = ["short", "other spelling"]',
            )
            aliases = []
        former = _former_slugs(table, name, block, path, report, line or 1)
        if slug in slugs:
            report.error(
                path,
                key_line(block, "slug", line or 1),
                f'slug "{slug}" is used by two topics ("{slugs[slug]}" and "{name}")',
                "every topic needs its own slug: rename one (never a slug already used in published feeds)",
            )
            continue
        slugs[slug] = name
        for old in former:
            if old in slugs:
                report.error(
                    path,
                    key_line(block, "former_slugs", line or 1),
                    f'former slug "{old}" of topic "{name}" is also the slug of "{slugs[old]}"',
                    "a slug names one feed: remove it from former_slugs or rename the other topic",
                )
            slugs[old] = name
        for spelling in (slug, name, *aliases):
            key = normalize(spelling)
            if key in seen and seen[key] != slug:
                report.error(
                    path,
                    line,
                    f'"{spelling}" of topic "{name}" is already used by topic "{seen[key]}"',
                    "every name, slug and alias must point at one topic only: remove one of them",
                )
            seen.setdefault(key, slug)
        topics.append(
            Topic(slug=slug, name=name.strip(), aliases=tuple(a.strip() for a in aliases), former_slugs=former)
        )
    return topics


def _former_slugs(
    table: dict[str, Any], name: str, block: str, path: Path, report: Report, line: int
) -> tuple[str, ...]:
    """`former_slugs = ["cbt"]`: the addresses a renamed topic's feeds keep."""
    former = table.get("former_slugs", [])
    if not isinstance(former, list) or not all(isinstance(s, str) and _SLUG.fullmatch(s) for s in former):
        report.error(
            path,
            key_line(block, "former_slugs", line),
            f'topic "{name}" has malformed former_slugs',
            'write former_slugs = ["old-slug"], each as a slug once was (lowercase letters, digits, hyphens)',
        )
        return ()
    return tuple(former)


# --- folders ---------------------------------------------------------------------------------


def _check_stray_top_level(root: Path, report: Report) -> None:
    for entry in sorted(root.iterdir()):
        if is_editor_leftover(entry.name):
            note = Diagnostic(
                report.shown(entry), None, "skipped: an editor's backup or system file", "nothing to do", "note"
            )
            report.diagnostics.append(note)
            continue
        if entry.name.startswith(".") or entry.name in (TOPICS_FILE, SYNONYMS_FILE, ISSUES_DIR, README):
            continue
        report.error(
            entry,
            None,
            "stray entry in the content folder",
            "the content folder holds only topics.toml, synonyms.toml, issues/ and README.md: "
            "move it elsewhere or delete it",
        )


def _listing(folder: Path, report: Report) -> list[os.DirEntry[str]] | None:
    """The folder's entries by name, hidden ones and editor leftovers left out; None after reporting that it
    cannot be listed."""
    try:
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except OSError as exc:
        report.error(folder, None, f"the folder cannot be listed ({exc.strerror})", "check the folder's permissions")
        return None
    kept = []
    for entry in entries:
        if is_editor_leftover(entry.name):
            shown = report.shown(Path(entry.path))
            report.diagnostics.append(
                Diagnostic(shown, None, "skipped: an editor's backup or system file", "nothing to do", "note")
            )
        elif not entry.name.startswith("."):
            kept.append(entry)
    return kept


def is_editor_leftover(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in EDITOR_LEFTOVERS)


def month_folder_guess(name: str) -> str | None:
    """`2026-1` -> `2026-01`, `December 2026` or `dec-2026` -> `2026-12`: what a near-miss folder name meant."""
    numeric = re.fullmatch(r"(\d{4})[-_. /]?(\d{1,2})", name.strip())
    if numeric and 1 <= int(numeric.group(2)) <= 12:
        return f"{numeric.group(1)}-{int(numeric.group(2)):02d}"
    words = re.fullmatch(r"([A-Za-z]+)\.?[-_ ,]*(\d{4})|(\d{4})[-_ ,]*([A-Za-z]+)", name.strip())
    if not words:
        return None
    month_word, year = (words.group(1), words.group(2)) if words.group(1) else (words.group(4), words.group(3))
    for number, month_name in enumerate(MONTH_NAMES, start=1):
        if len(month_word) >= 3 and month_name.lower().startswith(month_word.lower()):
            return f"{year}-{number:02d}"
    return None


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _load_issues(folder: Path, topics: list[Topic], report: Report) -> list[Issue]:
    if not folder.is_dir():
        report.error(
            folder, None, "issues folder missing", "create content/issues/YYYY-MM/ folders holding the article files"
        )
        return []
    listing = _listing(folder, report)
    if listing is None:
        return []
    resolver = TopicResolver(topics)
    issues: list[Issue] = []
    sources: dict[str, str] = {}  # article id -> the file that has it
    for entry in listing:
        path = Path(entry.path)
        if not _is_dir(entry):
            report.error(
                path,
                None,
                "stray file in issues/",
                "issues/ holds only YYYY-MM folders: move an article into its month's folder, anything else out",
            )
            continue
        match = _MONTH_DIR.fullmatch(entry.name)
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
            guess = month_folder_guess(entry.name)
            if guess == entry.name:  # a month, but of a year before 1900: renaming it to itself would not help
                guess = None
            report.error(
                path,
                None,
                f'folder name "{entry.name}" is not a month',
                f'did you mean "{guess}"? Rename the folder to {guess}'
                if guess
                else "name issue folders YYYY-MM, e.g. 2018-11 (month 01 to 12, year 1900 or later)",
            )
            continue
        issue = _load_issue(path, resolver, report)
        if issue is not None:
            _check_unique_ids(issue, sources, folder.parent, report)
            issues.append(issue)
    if not issues and not report.failed:
        report.warning(
            folder,
            None,
            "the archive has no issues yet",
            "add a YYYY-MM folder with an article file (see content/README.md)",
        )
    return issues


def _check_unique_ids(issue: Issue, sources: dict[str, str], root: Path, report: Report) -> None:
    """Report the issue's articles whose id an earlier article has; `sources` gains the issue's ids."""
    for article in issue.articles:
        if article.id in sources:
            path, other = root / article.source, root / sources[article.id]
            if _id_line(path) is None and _id_line(other) is not None:
                path, other = other, path  # blame the file whose `id =` line made the clash
            report.error(
                path,
                _id_line(path),
                f'duplicate article id "{article.id}" (also the id of {report.shown(other)})',
                'ids must be unique: give this file its own id = "…" in the front matter, '
                "or remove its id line to use the default (YYYY-MM-<file name>)",
            )
        sources.setdefault(article.id, article.source)


def _id_line(path: Path) -> int | None:
    """The line of `id = …` in an article's front matter (None when the id is the default one)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    end = text.find("\n+++", 1)
    front = text[: end if end > 0 else len(text)]
    return key_line(front, "id") if re.search(r"^[ \t]*id[ \t]*=", front, re.M) else None


# --- issues ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _IssueSettings:
    published: date
    intro: str = ""
    draft: bool = False


def _load_issue(folder: Path, resolver: TopicResolver, report: Report) -> Issue | None:
    month = folder.name
    diagnostics_before = len(report.diagnostics)
    listing = _listing(folder, report)
    if listing is None:
        return None
    first_day = date(int(month[:4]), int(month[5:]), 1)
    if any(entry.name == ISSUE_FILE for entry in listing):
        settings = _issue_settings(folder / ISSUE_FILE, first_day, report)
    else:
        settings = _IssueSettings(published=first_day)
    articles: list[Article] = []
    for entry in listing:
        if entry.name == ISSUE_FILE or not _is_article_file(folder, entry, report):
            continue
        article = _load_article(folder / entry.name, month, settings.published, resolver, report)
        if article is not None:
            articles.append(article)
    if not articles and len(report.diagnostics) == diagnostics_before:
        report.error(
            folder,
            None,
            "issue folder has no articles",
            "add at least one <slug>.md article file, or delete the folder",
        )
    return Issue(
        month=month,
        published=settings.published,
        articles=tuple(articles),
        intro=settings.intro,
        draft=settings.draft,
    )


def _issue_settings(path: Path, first_day: date, report: Report) -> _IssueSettings:
    """issue.toml: the publication date (the first of the month by default), intro and draft flag."""
    published, intro, draft = first_day, "", False
    text = read_text(path, report)
    data = None if text is None else parse_toml(text, path, report)
    if data is None or text is None:
        return _IssueSettings(published)
    unknown_keys(data, ISSUE_KEYS, text, path, report)
    if "published" in data:
        parsed = as_date(data["published"])
        if parsed is None:
            report.error(
                path,
                key_line(text, "published"),
                f"published = {toml_value(data['published'])} is not a date",
                f"write the date as YYYY-MM-DD, e.g. published = {first_day:%Y-%m}-05",
            )
        elif parsed < first_day:
            report.error(
                path,
                key_line(text, "published"),
                f"published {parsed} is before the issue's month {first_day:%Y-%m}",
                f"use a date on or after {first_day}, or move the issue to folder {parsed:%Y-%m}",
            )
        else:
            published = parsed
    if "intro" in data:
        if isinstance(data["intro"], str):
            intro = data["intro"].strip()
        else:
            report.error(path, key_line(text, "intro"), "intro must be text", 'write intro = "…"')
    if "draft" in data:
        if isinstance(data["draft"], bool):
            draft = data["draft"]
        else:
            report.error(path, key_line(text, "draft"), "draft must be true or false", "write draft = true (no quotes)")
    return _IssueSettings(published, intro, draft)


def _is_article_file(folder: Path, entry: os.DirEntry[str], report: Report) -> bool:
    """True for a regular *.md file; anything else in an issue folder is reported."""
    if _is_dir(entry):
        report.error(
            folder / entry.name,
            None,
            "stray folder in an issue folder",
            "an issue folder holds only issue.toml and <slug>.md files, no subfolders: move it out of content/",
        )
        return False
    if not entry.name.endswith(".md"):
        report.error(
            folder / entry.name,
            None,
            "stray file in an issue folder",
            "an issue folder holds only issue.toml and <slug>.md article files: "
            "rename an article to .md, move anything else out of content/",
        )
        return False
    if not entry.is_file():  # a pipe or device named *.md would block the read forever
        report.error(
            folder / entry.name,
            None,
            "not a regular file",
            "replace it with an ordinary text file, or remove it",
        )
        return False
    return True


# --- articles --------------------------------------------------------------------------------


@dataclass
class _FrontMatter:
    """An article's front matter as read, and where to point when one of its values is wrong."""

    path: Path
    text: str
    """The TOML between the two +++ lines; it starts on line 2 of the file."""
    meta: dict[str, Any]
    report: Report

    def line(self, key: str) -> int:
        return key_line(self.text, key, first_line=2)

    def error(self, key: str, message: str, fix: str) -> None:
        self.report.error(self.path, self.line(key), message, fix)

    def text_value(self, key: str) -> str | None:
        """The key's value stripped, or None when it is missing, not text or blank."""
        value = self.meta.get(key)
        return (value.strip() or None) if isinstance(value, str) else None


def _load_article(path: Path, month: str, published: date, resolver: TopicResolver, report: Report) -> Article | None:
    slug = path.stem
    if not _SLUG.fullmatch(slug):
        report.error(
            path,
            None,
            f'file name "{path.name}" is not a slug',
            f"rename it to lowercase letters, digits and hyphens, e.g. {slugify(slug) or 'my-article'}.md",
        )
        return None
    text = read_text(path, report, ARTICLE_LIMIT)
    if text is None:
        return None
    parts = _split_front_matter(text, path, report)
    if parts is None:
        return None
    front_text, body, body_line = parts
    errors_before = report.error_count
    meta = parse_toml(front_text, path, report, first_line=2)
    if meta is None:
        return None
    unknown_keys(meta, ARTICLE_KEYS, front_text, path, report, first_line=2)
    front = _FrontMatter(path, front_text, meta, report)
    _check_text_fields(front)
    topics = _article_topics(front, resolver)
    _check_lengths(front)
    doi = _doi(front)
    _check_contact_and_permalink(front)
    article_id = _article_id(front, f"{month}-{slug}")
    updated = _updated(front, published)
    summary_md, implications_md = _split_body(body, body_line, path, report)
    retracted = _retracted(front, updated, published)
    if report.error_count > errors_before:
        return None
    article = Article(
        id=article_id,
        slug=slug,
        month=month,
        title=meta["title"].strip(),
        topics=topics,
        citation=" ".join(meta["citation"].split()),
        summary_md=summary_md,
        implications_md=implications_md,
        published=published,
        updated=updated,
        doi=doi,
        research_type=front.text_value("research_type"),
        contact_email=front.text_value("contact_email"),
        permalink=front.text_value("permalink"),
        source=f"{ISSUES_DIR}/{month}/{path.name}",
        gist=_one_line(front.text_value("gist")),
        short_citation=_one_line(front.text_value("short_citation")),
    )
    return retraction(article, front.text_value("retraction_reason")) if retracted else article


def _retracted(front: _FrontMatter, updated: date, published: date) -> bool:
    """`retracted = true`, which needs an `updated` date (the retraction's) so every build dates it alike."""
    value = front.meta.get("retracted", False)
    if not isinstance(value, bool):
        front.error("retracted", "retracted must be true or false", "write retracted = true (no quotes)")
        return False
    if value and updated == published:
        front.error(
            "retracted",
            "a retracted article needs the date of its retraction",
            "add updated = YYYY-MM-DD (the day it is retracted) to the front matter, so readers see the entry change",
        )
    return value


def retraction(article: Article, reason: str | None) -> Article:
    """The article as feeds, pages, posts and bots show it once retracted: same id and address, new text."""
    notice = RETRACTION_NOTICE + (f" Reason: {reason}" if reason else "")
    return replace(
        article,
        title=f"Retracted: {article.title}",
        summary_md=notice.replace("\n", " "),
        implications_md="",
        retracted=True,
    )


def _one_line(text: str | None) -> str | None:
    """A chat-only field on one line, however the editor wrapped it."""
    return " ".join(text.split()) if text else None


def _split_front_matter(text: str, path: Path, report: Report) -> tuple[str, str, int] | None:
    """(front matter, body, the body's first line), or None after reporting missing or unclosed +++ lines."""
    first_break = text.find("\n")
    first = (text if first_break < 0 else text[:first_break]).strip()
    if first != "+++":
        if first == "---":
            report.error(
                path,
                1,
                "front matter between --- lines (YAML) is not read",
                'use +++ lines and TOML instead: replace both --- lines with +++ and write key = "value"',
            )
        else:
            report.error(
                path,
                1,
                "front matter missing" if text.strip() else "the file is empty",
                "start the file with a line +++, the TOML fields (title, topics, citation), then another +++ line",
            )
        return None
    closing = _FENCE.search(text, first_break + 1) if first_break >= 0 else None
    if closing is None:
        report.error(path, 1, "front matter is never closed", "add a line +++ after the last front-matter field")
        return None
    front = text[first_break + 1 : max(first_break + 1, closing.start() - 1)]
    body = text[closing.end() + 1 :]
    return front, body, text.count("\n", 0, closing.start()) + 2


def _check_text_fields(front: _FrontMatter) -> None:
    """The required fields are there, and they and the optional text fields hold text."""
    for key in REQUIRED_ARTICLE_KEYS:
        value = front.meta.get(key)
        if value is None:
            front.report.error(
                front.path,
                1,
                f'required field "{key}" is missing',
                f"add {key} = … to the front matter: {ARTICLE_KEYS[key]}",
            )
        elif key != "topics" and (not isinstance(value, str) or not value.strip()):
            front.error(key, f'"{key}" is empty or not text', f'write {key} = "…": {ARTICLE_KEYS[key]}')
    for key in OPTIONAL_TEXT_KEYS:
        if key in front.meta and front.text_value(key) is None:
            front.error(key, f'"{key}" is empty or not text', f'write {key} = "…" or remove the line')


def _article_topics(front: _FrontMatter, resolver: TopicResolver) -> tuple[str, ...]:
    """The slugs of the topics the article lists, in its order; unknown and repeated ones are reported."""
    listed = front.meta.get("topics")
    if listed is None:  # reported as a missing required field
        return ()
    if isinstance(listed, str):
        listed = [listed]
    if not isinstance(listed, list) or not listed or not all(isinstance(t, str) for t in listed):
        front.error("topics", "topics must be a non-empty list of topic names", 'write topics = ["Depression", "cbt"]')
        return ()
    slugs: list[str] = []
    for spelling in listed:
        topic = resolver.resolve(spelling)
        if topic is None and not resolver.by_key:
            continue  # the vocabulary itself failed to load: that one error is enough
        if topic is None:
            guess = resolver.suggest(spelling)
            fix = (
                f'did you mean "{guess.name}" (slug {guess.slug})? '
                "Write a name, slug or alias from topics.toml, or add the topic there"
                if guess
                else "write a name, slug or alias from topics.toml (`pprfeed topic` lists them), or add the topic there"
            )
            front.error("topics", f'unknown topic "{spelling}"', fix)
        elif topic.slug in slugs:
            front.report.warning(
                front.path,
                front.line("topics"),
                f'topic "{spelling}" is listed twice ({topic.name})',
                "remove the repeat",
            )
        else:
            slugs.append(topic.slug)
    return tuple(slugs)


def _check_lengths(front: _FrontMatter) -> None:
    """Values too long to show whole are reported, and dropped so that no later check reports them again."""
    for key, most in FIELD_LIMITS.items():
        value = front.meta.get(key)
        if isinstance(value, str) and len(value.strip()) > most:
            front.error(
                key,
                f"{key} is {len(value.strip()):,} characters long (at most {most:,})",
                f"shorten it: a longer {key} cannot be shown whole in feeds and chat posts",
            )
            front.meta.pop(key)


def _doi(front: _FrontMatter) -> str | None:
    written = front.text_value("doi")
    if written is None:
        return None
    doi = normalize_doi(written)
    if doi is None:
        front.error(
            "doi",
            f'doi "{front.meta["doi"]}" is not a DOI',
            'write the DOI as 10.<prefix>/<suffix>, e.g. doi = "10.1037/pst0000172"',
        )
    return doi


def _check_contact_and_permalink(front: _FrontMatter) -> None:
    email = front.text_value("contact_email")
    if email is not None and not EMAIL.fullmatch(email):
        front.error(
            "contact_email",
            f'contact_email "{front.meta["contact_email"]}" is not an e-mail address',
            'write contact_email = "name@example.org" or remove it',
        )
    permalink = front.text_value("permalink")
    if permalink is not None and not _URL.fullmatch(permalink):
        front.error(
            "permalink",
            f'permalink "{front.meta["permalink"]}" is not an http(s) URL',
            'write the full address, e.g. permalink = "https://www.pprnet.ca/…"',
        )


def _article_id(front: _FrontMatter, default: str) -> str:
    article_id = front.meta.get("id", default)
    if isinstance(article_id, str) and article_id.strip() and not _SLUG.fullmatch(article_id.strip()):
        front.error(
            "id", f'id "{article_id}" has characters ids cannot hold', "use lowercase letters, digits and hyphens"
        )
    return str(article_id).strip()


def _updated(front: _FrontMatter, published: date) -> date:
    """The date of the last correction: `updated` when it is a date on or after publication, else `published`."""
    if "updated" not in front.meta:
        return published
    written = front.meta["updated"]
    updated = as_date(written)
    if updated is None:
        front.error(
            "updated",
            f"updated = {toml_value(written)} is not a date",
            f"write the date of the correction as YYYY-MM-DD, e.g. updated = {published + timedelta(days=30)}",
        )
        return published
    if updated < published:
        front.error(
            "updated",
            f"updated {updated} is before the issue was published ({published})",
            "a correction cannot predate publication: fix the date or remove it",
        )
        return published
    return updated


def _split_body(body: str, first_line: int, path: Path, report: Report) -> tuple[str, str]:
    """(summary, practice implications): the body split at its practice-implications heading."""
    if not body.strip():
        report.error(
            path,
            first_line,
            "the article has no body",
            f'after the closing +++ write the summary, then a line "{IMPLICATIONS_HEADING}" and the implications',
        )
        return "", ""
    lines = body.split("\n")
    code = _code_lines(body, first_line, path, report)
    headings = [
        (i, match) for i, line in enumerate(lines) if i not in code and (match := _IMPLICATIONS.fullmatch(line))
    ]
    if not headings:
        plain = next((i for i, line in enumerate(lines) if i not in code and _PLAIN_IMPLICATIONS.fullmatch(line)), None)
        if plain is not None:  # the heading pasted from the blog as a plain or bold line
            report.error(
                path,
                first_line + plain,
                f'"{lines[plain].strip()}" is not a Markdown heading',
                f'write the line as "{IMPLICATIONS_HEADING}" (or "## " before it)',
            )
        else:
            report.error(
                path,
                first_line,
                "no practice-implications section",
                f'add a line "{IMPLICATIONS_HEADING}" followed by the implications for clinicians',
            )
        return body.strip(), ""
    at, heading = headings[0]
    if len(heading.group(1)) != 2:
        report.error(
            path,
            first_line + at,
            f'the practice-implications heading "{lines[at].strip()}" has the wrong level',
            f'write it as "{IMPLICATIONS_HEADING}" (two #)',
        )
    if len(headings) > 1:
        report.error(
            path,
            first_line + headings[1][0],
            "a second practice-implications heading",
            "keep one section: merge the two",
        )
    summary = "\n".join(lines[:at]).strip()
    implications = "\n".join(lines[at + 1 :]).strip()
    if not summary:
        report.error(
            path,
            first_line,
            "the summary before the practice implications is empty",
            "write the summary above the heading",
        )
    if not implications:
        report.error(
            path,
            first_line + at,
            "the practice-implications section is empty",
            "write the implications below the heading",
        )
    return summary, implications


# markdown-it's limit: text nested deeper than this is dropped by the parser
_MAX_NESTING = 20
# What a body needs before markdown-it is asked where its code and deep nesting are: a fence, an
# indented line (code, or a nested list), or a long run of quote and list markers. Most bodies have
# none, and `check` then never imports the Markdown parser.
_MAY_HAVE_CODE_OR_DEPTH = re.compile(
    rf"^[ \t>]*(?:```|~~~)|^(?:[ \t]*>)*(?: {{4}}|\t)|^(?:[ \t]*(?:>|[-*+]|[0-9]{{1,9}}[.)])){{{_MAX_NESTING - 1}}}",
    re.M,
)


@lru_cache(maxsize=1)
def _block_parser() -> Any:
    from markdown_it import MarkdownIt  # imported only for the bodies that need it

    return MarkdownIt("commonmark", {"html": False, "maxNesting": _MAX_NESTING}).disable("inline")


def _code_lines(body: str, first_line: int, path: Path, report: Report) -> set[int]:
    """The body's lines inside code blocks and fences (a heading written there is code, not a heading).

    Text nested deeper than Markdown renders (quotes or lists inside one another) is reported: it would
    vanish from every output.
    """
    if not _MAY_HAVE_CODE_OR_DEPTH.search(body):
        return set()
    tokens = _block_parser().parse(body)
    code: set[int] = set()
    lost: int | None = None
    for index, token in enumerate(tokens):
        if token.type in ("fence", "code_block") and token.map:
            code.update(range(*token.map))
        elif (
            lost is None
            and token.nesting == 1
            and token.level >= _MAX_NESTING - 1
            and token.map
            and index + 1 < len(tokens)
            and tokens[index + 1].nesting == -1  # opened, and nothing inside
        ):
            lost = token.map[0]
    if lost is not None:
        report.error(
            path,
            first_line + lost,
            f"quotes or lists nested more than {_MAX_NESTING - 1} deep: the text inside is not shown",
            "nest less (a summary rarely needs a quote inside a quote)",
        )
    return code
