"""Content files -> Archive, and every diagnostic `pprfeed check` prints.

`load_archive(folder)` never raises on bad input: it returns the Archive (or
None when anything is wrong) together with a list of Diagnostics, each naming
the file, the line, what is wrong and how to fix it.
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
import re
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from pprfeed.archive.parse_cache import CachedWarning, ParseCache, adopt_child, article_digest, fingerprint, reap
from pprfeed.diagnostics import (
    Diagnostic,
    Report,
    as_date,
    key_line,
    parse_front_matter,
    parse_toml,
    read_text,
    toml_value,
    unknown_keys,
)
from pprfeed.model import Archive, Article, Issue, Topic
from pprfeed.text import EMAIL, did_you_mean, normalize, normalize_doi, slugify

TOPICS_FILE = "topics.toml"
SYNONYMS_FILE = "synonyms.toml"  # search synonyms: read and checked by archive/synonyms.py
ISSUES_DIR = "issues"
ISSUE_FILE = "issue.toml"
README = "README.md"

_MONTH_DIR = re.compile(r"(\d{4})-(\d{2})")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_URL = re.compile(r"https?://[^\s<>\"]+")
_FENCE = re.compile(r"^[^\S\n]*\+\+\+[^\S\n]*$", re.M)
_IMPLICATIONS = re.compile(r"^(#{1,6})[ \t]+Practi(?:ce|cal)[ \t]+Implications?[ \t]*#*[ \t]*$", re.I | re.M)

log = logging.getLogger(__name__)

IMPLICATIONS_HEADING = "## Practice Implications"
FIELD_LIMITS = {
    "title": 300,
    "citation": 2000,
    "doi": 200,
    "permalink": 500,
    "contact_email": 254,
    "research_type": 100,
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
    "updated": "the date of the last correction (YYYY-MM-DD)",
}
REQUIRED_ARTICLE_KEYS = ("title", "topics", "citation")
ISSUE_KEYS = {
    "intro": "a short introduction shown above the articles",
    "published": "the publication date (YYYY-MM-DD); defaults to the first of the month",
    "draft": "true to hold the issue back from feeds and posts",
}
TOPIC_KEYS = {"name", "slug", "aliases", "description"}


def load_archive(
    folder: str | Path,
    cache_dir: str | Path | None = None,
    digests: dict[str, str] | None = None,
    prefetched: Prefetch | None = None,
) -> tuple[Archive | None, list[Diagnostic]]:
    """Read the content folder. The Archive is None when any error was found.

    With `cache_dir`, each article file that parsed without errors is remembered
    there (see parse_cache.py) and not parsed again while it is unchanged; the
    result, diagnostics included, is the same as without the cache.

    With `digests`, that dict receives article id -> parse_cache.article_digest(article)
    for every article of the archive (from the cache when it has them: what a
    rebuild uses to see which articles are unchanged without hashing them all).

    `prefetched`: what `prefetch(folder, cache_dir)` returned, earlier in this process.
    """
    root = Path(folder)
    report = Report(root)
    if not root.is_dir():
        report.error(
            root,
            None,
            "content folder not found",
            "pass --content DIR pointing at a folder with topics.toml and issues/",
        )
        return None, report.diagnostics
    reap()  # helpers and cache writers of earlier loads that have finished
    gc_was_enabled = gc.isenabled()
    gc.disable()  # tens of thousands of long-lived objects, no cycles: collections in between only cost time
    try:
        return _load(root, report, cache_dir, digests, prefetched)
    finally:
        if gc_was_enabled:
            gc.enable()


def _load(
    root: Path,
    report: Report,
    cache_dir: str | Path | None,
    digests: dict[str, str] | None,
    prefetched: Prefetch | None,
) -> tuple[Archive | None, list[Diagnostic]]:
    topics, topics_bytes = _load_topics(root / TOPICS_FILE, report)
    cache = ParseCache(Path(cache_dir), fingerprint(topics_bytes)) if cache_dir and topics_bytes is not None else None
    helper = _Helper()
    if prefetched is not None:
        if (
            topics_bytes is not None
            and prefetched.vocabulary == fingerprint(topics_bytes)
            and prefetched.root == root
            and prefetched.cache_dir == (Path(cache_dir) if cache_dir else None)
        ):
            helper = prefetched.helper
        else:  # another folder or vocabulary: its work is of no use
            prefetched.helper.finish()
    try:
        issues = _load_issues(root / ISSUES_DIR, topics, report, cache, helper)
        _check_stray_top_level(root, report)
        if digests is not None and not report.failed:
            _digests(issues, cache, digests)
        if cache is not None:
            cache.save(background=True)
    finally:
        helper.finish()
    _order_by_file_then_line(report.diagnostics)
    if report.failed:
        return None, report.diagnostics
    archive = Archive(topics=tuple(topics), issues=tuple(sorted(issues, key=lambda i: i.month, reverse=True)))
    return archive, report.diagnostics


def _digests(issues: list[Issue], cache: ParseCache | None, digests: dict[str, str]) -> None:
    """Every article's digest: from the cache where it has one, else computed (and then cached)."""
    known = cache.new if cache is not None else {}  # what this load took from the cache, by file
    for issue in issues:
        for article in issue.articles:
            entry = known.get(article.source)
            digest = entry.digest if entry is not None and entry.article is article else ""
            if not digest:
                digest = article_digest(article)
                if cache is not None:
                    cache.remember_digest(article, digest)
            digests[article.id] = digest


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
        self._seen: dict[str, Topic | None] = {}  # the same few spellings recur in every file
        self._guesses: dict[str, Topic | None] = {}

    def resolve(self, spelling: str) -> Topic | None:
        if spelling not in self._seen:
            self._seen[spelling] = self.by_key.get(normalize(spelling))
        return self._seen[spelling]

    def suggest(self, spelling: str) -> Topic | None:
        if spelling not in self._guesses:  # difflib is slow; a misspelling tends to recur across files
            guess = did_you_mean(spelling, self.spellings, cutoff=0.5)
            self._guesses[spelling] = self.resolve(guess) if guess else None
        return self._guesses[spelling]


def _load_topics(path: Path, report: Report) -> tuple[list[Topic], bytes | None]:
    """The vocabulary, and the file's bytes (the parse cache's key) when it could be read."""
    if not path.is_file():
        report.error(
            path,
            None,
            "topic vocabulary missing",
            "create topics.toml with one [[topic]] table per topic (see content/README.md)",
        )
        return [], None
    text = read_text(path, report)
    data = None if text is None else parse_toml(text, path, report)
    if data is None or text is None:
        return [], None
    tables = data.get("topic")
    if not isinstance(tables, list) or not tables:
        report.error(path, 1, "no topics defined", 'add [[topic]] tables with name = "…" and slug = "…"')
        return [], None
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
        if slug in slugs:
            report.error(
                path,
                key_line(block, "slug", line or 1),
                f'slug "{slug}" is used by two topics ("{slugs[slug]}" and "{name}")',
                "every topic needs its own slug: rename one (never a slug already used in published feeds)",
            )
            continue
        slugs[slug] = name
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
        topics.append(Topic(slug=slug, name=name.strip(), aliases=tuple(a.strip() for a in aliases)))
    return topics, text.encode()


# --- issues and articles ---------------------------------------------------------------------


def _check_stray_top_level(root: Path, report: Report) -> None:
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or entry.name in (TOPICS_FILE, SYNONYMS_FILE, ISSUES_DIR, README):
            continue
        report.error(
            entry,
            None,
            "stray entry in the content folder",
            "the content folder holds only topics.toml, synonyms.toml, issues/ and README.md: "
            "move it elsewhere or delete it",
        )


def _listing(folder: Path) -> list[os.DirEntry[str]]:
    """The folder's entries by name, hidden ones left out. scandir: no stat call per entry."""
    with os.scandir(folder) as entries:
        return sorted((e for e in entries if not e.name.startswith(".")), key=lambda e: e.name)


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _load_issues(
    folder: Path, topics: list[Topic], report: Report, cache: ParseCache | None = None, helper: _Helper | None = None
) -> list[Issue]:
    if not folder.is_dir():
        report.error(
            folder, None, "issues folder missing", "create content/issues/YYYY-MM/ folders holding the article files"
        )
        return []
    resolver = TopicResolver(topics)
    issues: list[Issue] = []
    ids: dict[str, str] = {}  # id -> source; Paths only when reporting (10,000 of them cost 80 ms)
    try:
        listing = _listing(folder)
    except OSError as exc:
        report.error(folder, None, f"the folder cannot be listed ({exc.strerror})", "check the folder's permissions")
        return []
    if helper is not None:
        helper.start(listing, resolver, cache, report.root)
    for dir_entry in listing:
        entry = Path(dir_entry.path)
        if not _is_dir(dir_entry):
            report.error(
                entry,
                None,
                "stray file in issues/",
                "issues/ holds only YYYY-MM folders: move an article into its month's folder, anything else out",
            )
            continue
        match = _MONTH_DIR.fullmatch(entry.name)
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
            report.error(
                entry,
                None,
                f'folder name "{entry.name}" is not a month',
                "name issue folders YYYY-MM, e.g. 2018-11 (month 01 to 12)",
            )
            continue
        done = helper.result(entry.name, report, cache) if helper is not None else None
        issue = done[0] if done is not None else _load_issue(entry, resolver, report, cache)
        if issue is None:
            continue
        for article in issue.articles:
            if article.id in ids:
                path, other = folder.parent / article.source, folder.parent / ids[article.id]
                if _id_line(path) is None and _id_line(other) is not None:
                    path, other = other, path  # blame the file whose `id =` line made the clash
                report.error(
                    path,
                    _id_line(path),
                    f'duplicate article id "{article.id}" (also the id of {report.shown(other)})',
                    'ids must be unique: give this file its own id = "…" in the front matter, '
                    "or remove its id line to use the default (YYYY-MM-<file name>)",
                )
            ids.setdefault(article.id, article.source)
        issues.append(issue)
    if not issues and not report.failed:
        report.warning(
            folder,
            None,
            "the archive has no issues yet",
            "add a YYYY-MM folder with an article file (see content/README.md)",
        )
    return issues


PARALLEL_FROM = 100
"""Issue folders from which an uncached load is shared with a forked helper process (~1,200 articles)."""


class _Helper:
    """A forked process that loads the newer half of the issue folders while this one loads the older half.

    Only for a load with nothing cached (no cache, or an empty one: a first build, a bot's
    first start) of a large archive, where fork exists and this process runs one thread.
    The helper sends back each folder's Issue, diagnostics and cache entries; the loop in
    `_load_issues` takes them in folder order, so the result and the diagnostics are the
    same as a single-process load. The helper then writes its years of the cache itself.
    If anything goes wrong in the helper, its folders are simply loaded here.
    """

    def __init__(self) -> None:
        self.pid = 0
        self.pipe = -1
        self.months: set[str] = set()
        self.results: dict[str, tuple[Issue | None, list[Diagnostic], int]] | None = None

    def start(
        self,
        listing: list[os.DirEntry[str]],
        resolver: TopicResolver,
        cache: ParseCache | None,
        root: Path,
        share: float = 0.5,
    ) -> None:
        """Fork the helper for about `share` of the folders (the newest years), if that pays and is safe."""
        if self.pid:  # started earlier by `prefetch`: its years of the cache are its to write
            if cache is not None:
                cache.written_elsewhere.update(m[:4] for m in self.months)
            return
        folders = [e for e in listing if _MONTH_DIR.fullmatch(e.name) and _is_dir(e)]
        if (
            len(folders) < PARALLEL_FROM
            or not hasattr(os, "fork")
            or threading.active_count() > 1
            or (cache is not None and not cache.empty())
        ):
            return
        years = sorted({e.name[:4] for e in folders})
        # whole years go to the helper (it writes their cache files), about `share` of the folders
        mine = int(len(folders) * (1 - share))
        split = next((y for y in years if sum(e.name[:4] < y for e in folders) >= mine), years[-1])
        theirs = [e for e in folders if e.name[:4] >= split]
        if not theirs or len(theirs) == len(folders):
            return
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # the helper: load, send, save its years of the cache, and leave without cleanup
            status = 1
            try:
                os.close(reader)
                _helper_main(theirs, resolver, cache, root, writer)
                status = 0
            finally:
                os._exit(status)
        os.close(writer)
        self.pid, self.pipe = pid, reader
        self.months = {e.name for e in theirs}
        if cache is not None:
            cache.written_elsewhere.update({e.name[:4] for e in theirs})

    def result(self, month: str, report: Report, cache: ParseCache | None) -> tuple[Issue | None] | None:
        """The helper's load of `month`, its diagnostics added to `report`; None: load it here."""
        if month not in self.months:
            return None
        if self.results is None:
            self.results = self._receive(cache)
        found = self.results.get(month)
        if found is None:
            return None
        issue, diagnostics, errors = found
        report.diagnostics.extend(diagnostics)
        report.error_count += errors
        return (issue,)

    def _receive(self, cache: ParseCache | None) -> dict[str, tuple[Issue | None, list[Diagnostic], int]]:
        chunks = []
        with os.fdopen(self.pipe, "rb") as stream:
            self.pipe = -1
            while chunk := stream.read(1 << 20):
                chunks.append(chunk)
        gc_was_enabled = gc.isenabled()
        gc.disable()  # thousands of new objects, no cycles among them: collecting in between only costs time
        try:
            results, kept = pickle.loads(b"".join(chunks))
        except Exception:  # noqa: BLE001 - the helper failed: its folders are loaded here instead
            log.warning("the helper process of the loader failed; loading its folders here")
            if cache is not None:
                cache.written_elsewhere.clear()
            return {}
        finally:
            if gc_was_enabled:
                gc.enable()
        if cache is not None:
            cache.adopt(kept)
        return results

    def finish(self) -> None:
        if self.pipe >= 0:
            os.close(self.pipe)
        if self.pid:  # it may still be writing its years of the cache: not waited for, reaped later
            adopt_child(self.pid)
            self.pid = 0


@dataclass
class Prefetch:
    """A loader helper started ahead of `load_archive` (see `prefetch`)."""

    root: Path
    cache_dir: Path | None
    vocabulary: str
    helper: _Helper


def prefetch(folder: str | Path, cache_dir: str | Path | None = None, share: float = 0.7) -> Prefetch | None:
    """Start loading a large archive in a helper process now; pass the result to `load_archive(prefetched=)`.

    For a process with other work to do first (a bot importing its HTTP and chat libraries):
    the helper parses about `share` of the issue folders meanwhile, and `load_archive` does
    the rest. Same conditions as the helper of `load_archive` (a large archive, nothing cached,
    fork, one thread), else None. If the vocabulary changed in between, `load_archive`
    ignores the helper. Whatever the helper parsed is what its files held when it read them.
    """
    root = Path(folder)
    listing_root = root / ISSUES_DIR
    report = Report(root)
    topics, topics_bytes = _load_topics(root / TOPICS_FILE, report)
    if topics_bytes is None or report.failed:
        return None
    vocabulary = fingerprint(topics_bytes)
    cache = ParseCache(Path(cache_dir), vocabulary) if cache_dir else None
    try:
        listing = _listing(listing_root)
    except OSError:
        return None
    helper = _Helper()
    helper.start(listing, TopicResolver(topics), cache, root, share)
    if not helper.pid:
        return None
    return Prefetch(root, Path(cache_dir) if cache_dir else None, vocabulary, helper)


def _helper_main(
    folders: list[os.DirEntry[str]], resolver: TopicResolver, cache: ParseCache | None, root: Path, writer: int
) -> None:
    results = {}
    for dir_entry in folders:
        report = Report(root)
        issue = _load_issue(Path(dir_entry.path), resolver, report, cache)
        results[dir_entry.name] = (issue, report.diagnostics, report.error_count)
    kept = cache.new if cache is not None else {}
    data = pickle.dumps((results, kept), protocol=pickle.HIGHEST_PROTOCOL)
    with os.fdopen(writer, "wb") as stream:
        stream.write(data)
    if cache is not None:
        cache.save(remove_stale=False)


def _id_line(path: Path) -> int | None:
    """The line of `id = …` in an article's front matter (None when the id is the default one)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    end = text.find("\n+++", 1)
    front = text[: end if end > 0 else len(text)]
    return key_line(front, "id") if re.search(r"^[ \t]*id[ \t]*=", front, re.M) else None


def _load_issue(folder: Path, resolver: TopicResolver, report: Report, cache: ParseCache | None) -> Issue | None:
    month = folder.name
    first_day = date(int(month[:4]), int(month[5:]), 1)
    published, intro, draft = first_day, "", False
    meta_path = folder / ISSUE_FILE
    failed_before = len(report.diagnostics)
    try:
        listing = _listing(folder)
    except OSError as exc:
        report.error(folder, None, f"the folder cannot be listed ({exc.strerror})", "check the folder's permissions")
        return None
    if any(e.name == ISSUE_FILE for e in listing):
        text = read_text(meta_path, report)
        data = None if text is None else parse_toml(text, meta_path, report)
        if data is not None and text is not None:
            unknown_keys(data, ISSUE_KEYS, text, meta_path, report)
            if "published" in data:
                parsed = as_date(data["published"])
                if parsed is None:
                    report.error(
                        meta_path,
                        key_line(text, "published"),
                        f"published = {toml_value(data['published'])} is not a date",
                        f"write the date as YYYY-MM-DD, e.g. published = {first_day:%Y-%m}-05",
                    )
                elif parsed < first_day:
                    report.error(
                        meta_path,
                        key_line(text, "published"),
                        f"published {parsed} is before the issue's month {month}",
                        f"use a date on or after {first_day}, or move the issue to folder {parsed:%Y-%m}",
                    )
                else:
                    published = parsed
            if "intro" in data:
                if isinstance(data["intro"], str):
                    intro = data["intro"].strip()
                else:
                    report.error(meta_path, key_line(text, "intro"), "intro must be text", 'write intro = "…"')
            if "draft" in data:
                if isinstance(data["draft"], bool):
                    draft = data["draft"]
                else:
                    report.error(
                        meta_path,
                        key_line(text, "draft"),
                        "draft must be true or false",
                        "write draft = true (no quotes)",
                    )
    signature = _signature(listing) if cache is not None else None
    cached = cache.unchanged_folder(month, published, signature) if cache is not None and signature else None
    if cached is not None:  # nothing in the folder changed: every article as the cache has it
        for relative, entry in cached.items():
            for warning in entry.warnings:
                report.warning(folder / relative.rsplit("/", 1)[1], warning.line, warning.message, warning.fix)
        return Issue(month, published, tuple(e.article for e in cached.values()), intro=intro, draft=draft)
    articles: list[Article] = []
    for dir_entry in listing:
        if dir_entry.name == ISSUE_FILE:
            continue
        if _is_dir(dir_entry):
            report.error(
                folder / dir_entry.name,
                None,
                "stray folder in an issue folder",
                "an issue folder holds only issue.toml and <slug>.md files, no subfolders: move it out of content/",
            )
            continue
        if not dir_entry.name.endswith(".md"):
            report.error(
                folder / dir_entry.name,
                None,
                "stray file in an issue folder",
                "an issue folder holds only issue.toml and <slug>.md article files: "
                "rename an article to .md, move anything else out of content/",
            )
            continue
        if not dir_entry.is_file():  # a pipe or device named *.md would block the read forever
            report.error(
                folder / dir_entry.name,
                None,
                "not a regular file",
                "replace it with an ordinary text file, or remove it",
            )
            continue
        article = _load_cached_article(folder, dir_entry, month, published, resolver, report, cache)
        if article is not None:
            articles.append(article)
    if not articles and len(report.diagnostics) == failed_before:
        report.error(
            folder,
            None,
            "issue folder has no articles",
            "add at least one <slug>.md article file, or delete the folder",
        )
    if cache is not None and signature and len(articles) == len(signature):
        cache.put_folder(month, published, signature)
    return Issue(month=month, published=published, articles=tuple(articles), intro=intro, draft=draft)


def _signature(listing: list[os.DirEntry[str]]) -> tuple[tuple[str, int, int], ...] | None:
    """(name, mtime_ns, size) of each file but issue.toml; None unless they are all article files.

    A stat per file: an edit in place changes no folder's mtime, only the file's. An edit that
    keeps both the size and the mtime (to the nanosecond) is the limit of any mtime-based cache.
    """
    signature = []
    for entry in listing:
        if entry.name == ISSUE_FILE:
            continue
        if not entry.name.endswith(".md") or _is_dir(entry):
            return None
        try:
            stat = entry.stat()  # kept by the DirEntry: a miss below does not stat again
        except OSError:
            return None
        signature.append((entry.name, stat.st_mtime_ns, stat.st_size))
    return tuple(signature)


def _load_cached_article(
    folder: Path,
    dir_entry: os.DirEntry[str],
    month: str,
    published: date,
    resolver: TopicResolver,
    report: Report,
    cache: ParseCache | None,
) -> Article | None:
    """`_load_article`, answered from the parse cache when the file is unchanged."""
    if cache is None:
        return _load_article(folder / dir_entry.name, month, published, resolver, report)
    relative = f"{ISSUES_DIR}/{month}/{dir_entry.name}"
    try:
        stat = dir_entry.stat()
    except OSError:  # reported as unreadable by _load_article
        return _load_article(folder / dir_entry.name, month, published, resolver, report)
    entry = cache.get(relative, stat, published, month[:4])
    if entry is not None:
        for warning in entry.warnings:
            report.warning(folder / dir_entry.name, warning.line, warning.message, warning.fix)
        return entry.article
    path = folder / dir_entry.name
    before = len(report.diagnostics)
    article = _load_article(path, month, published, resolver, report)
    if article is not None:  # only error-free files are cached: errors are always reported afresh
        warnings = tuple(CachedWarning(d.line, d.message, d.fix) for d in report.diagnostics[before:])
        cache.put(relative, stat, published, article, warnings)
    return article


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
    text = read_text(path, report)
    if text is None:
        return None
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
    front_text = text[first_break + 1 : max(first_break + 1, closing.start() - 1)]
    body = text[closing.end() + 1 :]
    body_first_line = text.count("\n", 0, closing.start()) + 2
    errors_before = report.error_count
    meta = parse_front_matter(front_text, path, report)
    if meta is None:
        return None
    unknown_keys(meta, ARTICLE_KEYS, front_text, path, report, first_line=2)

    def line_of(key: str) -> int:
        return key_line(front_text, key, first_line=2)

    for key in REQUIRED_ARTICLE_KEYS:
        value = meta.get(key)
        if value is None:
            report.error(
                path, 1, f'required field "{key}" is missing', f"add {key} = … to the front matter: {ARTICLE_KEYS[key]}"
            )
        elif key != "topics" and (not isinstance(value, str) or not value.strip()):
            report.error(path, line_of(key), f'"{key}" is empty or not text', f'write {key} = "…": {ARTICLE_KEYS[key]}')
    for key in ("doi", "research_type", "contact_email", "permalink", "id"):
        if key in meta and (not isinstance(meta[key], str) or not meta[key].strip()):
            report.error(path, line_of(key), f'"{key}" is empty or not text', f'write {key} = "…" or remove the line')

    topic_slugs: list[str] = []
    raw_topics = meta.get("topics")
    if raw_topics is not None:
        if isinstance(raw_topics, str):
            raw_topics = [raw_topics]
        if not isinstance(raw_topics, list) or not raw_topics or not all(isinstance(t, str) for t in raw_topics):
            report.error(
                path,
                line_of("topics"),
                "topics must be a non-empty list of topic names",
                'write topics = ["Depression", "cbt"]',
            )
        else:
            for spelling in raw_topics:
                topic = resolver.resolve(spelling)
                if topic is None and not resolver.by_key:
                    continue  # the vocabulary itself failed to load: that one error is enough
                if topic is None:
                    guess = resolver.suggest(spelling)
                    fix = (
                        f'did you mean "{guess.name}" (slug {guess.slug})? '
                        "Write a name, slug or alias from topics.toml, or add the topic there"
                        if guess
                        else "write a name, slug or alias from topics.toml (`pprfeed topic` lists them), "
                        "or add the topic there"
                    )
                    report.error(path, line_of("topics"), f'unknown topic "{spelling}"', fix)
                elif topic.slug in topic_slugs:
                    report.warning(
                        path,
                        line_of("topics"),
                        f'topic "{spelling}" is listed twice ({topic.name})',
                        "remove the repeat",
                    )
                else:
                    topic_slugs.append(topic.slug)

    for key, most in FIELD_LIMITS.items():
        value = meta.get(key)
        if isinstance(value, str) and len(value.strip()) > most:
            report.error(
                path,
                line_of(key),
                f"{key} is {len(value.strip()):,} characters long (at most {most:,})",
                f"shorten it: a longer {key} cannot be shown whole in feeds and chat posts",
            )
            meta.pop(key)
    doi = None
    if isinstance(meta.get("doi"), str) and meta["doi"].strip():
        doi = normalize_doi(meta["doi"])
        if doi is None:
            report.error(
                path,
                line_of("doi"),
                f'doi "{meta["doi"]}" is not a DOI',
                'write the DOI as 10.<prefix>/<suffix>, e.g. doi = "10.1037/pst0000172"',
            )
    email = meta.get("contact_email")
    if isinstance(email, str) and email.strip() and not EMAIL.fullmatch(email.strip()):
        report.error(
            path,
            line_of("contact_email"),
            f'contact_email "{email}" is not an e-mail address',
            'write contact_email = "name@example.org" or remove it',
        )
    permalink = meta.get("permalink")
    if isinstance(permalink, str) and permalink.strip() and not _URL.fullmatch(permalink.strip()):
        report.error(
            path,
            line_of("permalink"),
            f'permalink "{permalink}" is not an http(s) URL',
            'write the full address, e.g. permalink = "https://www.pprnet.ca/…"',
        )
    article_id = meta.get("id", f"{month}-{slug}")
    if isinstance(article_id, str) and article_id.strip() and not _SLUG.fullmatch(article_id.strip()):
        report.error(
            path,
            line_of("id"),
            f'id "{article_id}" has characters ids cannot hold',
            "use lowercase letters, digits and hyphens",
        )
    updated = published
    if "updated" in meta:
        parsed = as_date(meta["updated"])
        if parsed is None:
            report.error(
                path,
                line_of("updated"),
                f"updated = {toml_value(meta['updated'])} is not a date",
                f"write the date of the correction as YYYY-MM-DD, e.g. updated = {published + timedelta(days=30)}",
            )
        elif parsed < published:
            report.error(
                path,
                line_of("updated"),
                f"updated {parsed} is before the issue was published ({published})",
                "a correction cannot predate publication: fix the date or remove it",
            )
        else:
            updated = parsed

    summary_md, implications_md = _split_body(body, body_first_line, path, report)
    if report.error_count > errors_before:
        return None
    return Article(
        id=str(article_id).strip(),
        slug=slug,
        month=month,
        title=meta["title"].strip(),
        topics=tuple(topic_slugs),
        citation=" ".join(meta["citation"].split()),
        summary_md=summary_md,
        implications_md=implications_md,
        published=published,
        updated=updated,
        doi=doi,
        research_type=(meta.get("research_type") or "").strip() or None,
        contact_email=(email or "").strip() or None,
        permalink=(permalink or "").strip() or None,
        source=f"{ISSUES_DIR}/{month}/{path.name}",
    )


_PLAIN_IMPLICATIONS = re.compile(
    r"^[ \t]*[*_]{0,2}Practi(?:ce|cal)[ \t]+Implications?[ \t]*:?[*_]{0,2}[ \t]*$", re.I | re.M
)


def _implications_headings(body: str) -> list[re.Match[str]]:
    """Every practice-implications heading. Only lines starting with # are tried: a MULTILINE
    search would try the pattern at every character, the slowest part of a cold load."""
    starts = [0] if body.startswith("#") else []
    position = body.find("\n#")
    while position >= 0:
        starts.append(position + 1)
        position = body.find("\n#", position + 1)
    return [match for start in starts if (match := _IMPLICATIONS.match(body, start))]


def _split_body(body: str, first_line: int, path: Path, report: Report) -> tuple[str, str]:
    if not body.strip():
        report.error(
            path,
            first_line,
            "the article has no body",
            f'after the closing +++ write the summary, then a line "{IMPLICATIONS_HEADING}" and the implications',
        )
        return "", ""
    headings = _implications_headings(body)
    if not headings:
        plain = _PLAIN_IMPLICATIONS.search(body)
        if plain:  # the heading pasted from the blog as a plain or bold line
            report.error(
                path,
                first_line + body[: plain.start()].count("\n"),
                f'"{plain.group(0).strip()}" is not a Markdown heading',
                f'write the line as "{IMPLICATIONS_HEADING}"',
            )
        else:
            report.error(
                path,
                first_line,
                "no practice-implications section",
                f'add a line "{IMPLICATIONS_HEADING}" followed by the implications for clinicians',
            )
        return body.strip(), ""
    heading = headings[0]
    heading_line = first_line + body[: heading.start()].count("\n")
    if len(heading.group(1)) != 2:
        report.error(
            path,
            heading_line,
            "the practice-implications heading has the wrong level",
            f'write it as "{IMPLICATIONS_HEADING}" (two #)',
        )
    if len(headings) > 1:
        report.error(
            path,
            first_line + body[: headings[1].start()].count("\n"),
            "a second practice-implications heading",
            "keep one section: merge the two",
        )
    summary = body[: heading.start()].strip()
    implications = body[heading.end() :].strip()
    if not summary:
        report.error(
            path,
            first_line,
            "the summary before the practice implications is empty",
            "write the summary above the heading",
        )
    if not implications:
        report.error(
            path, heading_line, "the practice-implications section is empty", "write the implications below the heading"
        )
    return summary, implications
