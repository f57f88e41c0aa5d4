"""The loader's optional parse cache: re-loading a large unchanged archive without re-parsing it.

One pickle file per year of issues in the cache folder maps each article file
(path relative to the content folder) to its parse result: the Article, any
warnings it produced and its digest (what `pprfeed build` fingerprints it by).
An entry is reused only while the file's mtime_ns and size, the issue's
publication date, the topic vocabulary (topics.toml's bytes) and the cache
format are all unchanged. Files with errors are never cached, so their
diagnostics are always produced afresh.

The cache is an optimisation only: a missing, corrupt, unreadable or
unwritable cache is logged and ignored (and rebuilt), never an error.
It is a pickle, so the cache folder must be as trusted as the code itself
(a project-local folder such as .pprfeed/cache, never a shared or
downloaded one): unpickling runs whatever a crafted file asks for.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import logging
import os
import pickle
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from operator import attrgetter
from pathlib import Path

from pprfeed.model import Article

log = logging.getLogger(__name__)

SEGMENT = "articles-{}.pickle"
"""One cache file per year of issues."""
LEGACY_FILE = "articles.pickle"
"""The single cache file of format 1, removed on sight."""
FORMAT_VERSION = 3
"""Raise when what is cached, or how an article is parsed, changes."""
RACY_WINDOW_NS = 100_000_000
"""Files modified this close to the load are not cached: a second edit within the
file system's timestamp granularity could keep the same mtime and size."""


@dataclass(frozen=True)
class CachedWarning:
    line: int | None
    message: str
    fix: str


@dataclass(frozen=True)
class Entry:
    mtime_ns: int
    size: int
    published: date
    article: Article
    warnings: tuple[CachedWarning, ...]
    digest: str = ""
    """article_digest(article), kept so that a build need not hash every article's text again
    ("" until a build asked for it: a bot never does)."""


@dataclass(frozen=True)
class FolderRecord:
    """An issue folder whose every article file is cached: taken whole while nothing in it changed."""

    published: date
    signature: tuple[tuple[str, int, int], ...]
    """(name, mtime_ns, size) of every file but issue.toml, in name order."""
    entries: dict[str, Entry]
    """Relative path -> entry, in the same order."""


def folder_key(month: str) -> str:
    return f"issues/{month}/"


def article_digest(article: Article) -> str:
    """A hash of every field of the article: changes whenever anything about the article changes."""
    text = "\x1f".join(map(str, _ARTICLE_FIELDS(article)))  # repr() of a dataclass is several times slower
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()


_ARTICLE_FIELDS = attrgetter(*(field.name for field in dataclasses.fields(Article)))


def fingerprint(topics_bytes: bytes) -> str:
    """What every entry depends on besides its own file: the vocabulary and the cache format."""
    digest = hashlib.sha256()
    digest.update(f"{FORMAT_VERSION}|{sys.version_info[:2]}|".encode())
    digest.update("|".join(field.name for field in dataclasses.fields(Article)).encode())
    digest.update(b"|")
    digest.update(topics_bytes)
    return digest.hexdigest()


class ParseCache:
    """Entries from the previous load (`get`) and those of this load (`put`), saved by `save`.

    One file per year of issues (`articles-YYYY.pickle`), read on first use and
    rewritten only when one of its entries changed: a new monthly issue costs a
    rewrite of its year, not of the whole archive's cache.
    """

    def __init__(self, folder: Path, fingerprint: str) -> None:
        self.folder = folder
        self.fingerprint = fingerprint
        self.started_ns = time.time_ns()
        self.old: dict[str, dict[str, Entry | FolderRecord]] = {}
        """Year -> the entries stored for it (read on the first `get` of that year)."""
        self.new: dict[str, Entry] = {}
        """Relative path -> entry, for every file of this load that is (or will be) cached."""
        self._new_by_year: dict[str, dict[str, Entry | FolderRecord]] = {}
        self._changed: set[str] = set()
        self.written_elsewhere: set[str] = set()
        """Years whose files another process (content.py's loader helper) writes: `save` leaves them alone."""

    def empty(self) -> bool:
        """Nothing stored yet (a first load): no file of this format in the folder."""
        try:
            return not any(n.startswith("articles-") and n.endswith(".pickle") for n in os.listdir(self.folder))
        except OSError:
            return True

    def adopt(self, entries: dict[str, Entry]) -> None:
        """Entries kept by another process's load of some folders (see `written_elsewhere`)."""
        for relative, entry in entries.items():
            self._keep(relative, _year(relative), entry)

    def path(self, year: str) -> Path:
        return self.folder / SEGMENT.format(year)

    def _segment(self, year: str) -> dict[str, Entry | FolderRecord]:
        found = self.old.get(year)
        if found is None:
            found = self.old[year] = self._read(self.path(year))
        return found

    def _read(self, path: Path) -> dict[str, Entry | FolderRecord]:
        gc_was_enabled = gc.isenabled()
        gc.disable()  # unpickling makes ~10k objects a year: collecting in between only costs time
        try:
            with path.open("rb") as stream:
                stored = pickle.load(stream)
        except (FileNotFoundError, NotADirectoryError):
            return {}
        except Exception as exc:  # noqa: BLE001 - any damage to the cache means: rebuild it
            log.warning("ignoring unreadable parse cache %s (%s: %s); rebuilding it", path, type(exc).__name__, exc)
            return {}
        finally:
            if gc_was_enabled:
                gc.enable()
        if (
            not isinstance(stored, tuple)
            or len(stored) != 2
            or stored[0] != self.fingerprint
            or not isinstance(stored[1], dict)
        ):
            log.info("parse cache %s is from another format or vocabulary; rebuilding it", path)
            return {}
        return stored[1]

    def unchanged_folder(
        self, month: str, published: date, signature: tuple[tuple[str, int, int], ...]
    ) -> dict[str, Entry] | None:
        """Every entry of the folder `month`, if none of its files changed (same signature) nor its date."""
        year = month[:4]
        segment = self.old.get(year)
        record = (segment if segment is not None else self._segment(year)).get(folder_key(month))
        if not (isinstance(record, FolderRecord) and record.signature == signature and record.published == published):
            return None
        self.new.update(record.entries)
        kept = self._new_by_year.get(year)
        if kept is None:
            kept = self._new_by_year[year] = {}
        kept.update(record.entries)
        kept[folder_key(month)] = record
        return record.entries

    def put_folder(self, month: str, published: date, signature: tuple[tuple[str, int, int], ...]) -> None:
        """Remember the folder whole, if this load cached every one of its files."""
        entries = {}
        for name, _, _ in signature:
            relative = f"{folder_key(month)}{name}"
            entry = self.new.get(relative)
            if entry is None:
                return
            entries[relative] = entry
        year, key = month[:4], folder_key(month)
        before = self._segment(year).get(key)
        record = FolderRecord(published, signature, entries)
        if not (isinstance(before, FolderRecord) and before.signature == signature and before.published == published):
            self._changed.add(year)
        kept = self._new_by_year.get(year)
        if kept is None:
            kept = self._new_by_year[year] = {}
        kept[key] = record

    def _keep(self, relative: str, year: str, entry: Entry) -> None:
        self.new[relative] = entry
        segment = self._new_by_year.get(year)
        if segment is None:
            segment = self._new_by_year[year] = {}
        segment[relative] = entry

    def get(self, relative: str, stat: os.stat_result, published: date, year: str = "") -> Entry | None:
        """The entry of `relative` if the file is unchanged; `year` (of its issue) spares working it out."""
        year = year or _year(relative)
        segment = self.old.get(year)
        entry = (segment if segment is not None else self._segment(year)).get(relative)
        if (
            isinstance(entry, Entry)
            and entry.mtime_ns == stat.st_mtime_ns
            and entry.size == stat.st_size
            and entry.published == published
            and isinstance(entry.article, Article)
        ):
            self._keep(relative, year, entry)
            return entry
        return None

    def put(
        self,
        relative: str,
        stat: os.stat_result,
        published: date,
        article: Article,
        warnings: tuple[CachedWarning, ...],
    ) -> None:
        if stat.st_mtime_ns >= self.started_ns - RACY_WINDOW_NS:
            return  # too fresh to trust mtime + size: parse it again next time
        year = _year(relative)
        self._segment(year)
        self._keep(relative, year, Entry(stat.st_mtime_ns, stat.st_size, published, article, warnings))
        self._changed.add(year)

    def digest(self, article: Article) -> str | None:
        """The article's digest, if this load took `article` from the cache and the cache knows it."""
        entry = self.new.get(article.source)
        return entry.digest or None if entry is not None and entry.article is article else None

    def remember_digest(self, article: Article, digest: str) -> None:
        entry = self.new.get(article.source)
        if entry is not None and entry.article is article:
            year = _year(article.source)
            updated = dataclasses.replace(entry, digest=digest)
            self._keep(article.source, year, updated)
            record = self._new_by_year[year].get(folder_key(article.source.split("/", 2)[1]))
            if isinstance(record, FolderRecord) and article.source in record.entries:
                record.entries[article.source] = updated
            self._changed.add(year)

    def save(self, remove_stale: bool = True, background: bool = False) -> None:
        """Write each year whose entries changed; with `remove_stale`, remove the files of years that are gone.

        With `background`, a large write (BACKGROUND_FROM entries or more) is left to a forked
        process so that the caller need not wait for it (see `in_background`).
        """
        try:
            writes = []
            for year, old in self.old.items():
                new = self._new_by_year.get(year, {})
                if year not in self.written_elsewhere and (year in self._changed or new.keys() != old.keys()):
                    writes.append((self.path(year), new))
            if remove_stale and self.folder.is_dir():
                for name in os.listdir(self.folder):  # years no longer in the archive, and the format-1 single file
                    year = name[9:-7]
                    if name == LEGACY_FILE or (
                        name.startswith("articles-")
                        and name.endswith(".pickle")
                        and year not in self.old
                        and year not in self.written_elsewhere
                    ):
                        (self.folder / name).unlink(missing_ok=True)
            large = sum(len(entries) for _, entries in writes) >= BACKGROUND_FROM
            if background and large and in_background(lambda: self._write_all(writes)):
                return
            self._write_all(writes)
        except OSError as exc:
            log.warning("cannot write parse cache %s (%s); loading will stay uncached", self.folder, exc)

    def _write_all(self, writes: list[tuple[Path, dict[str, Entry | FolderRecord]]]) -> None:
        for path, entries in writes:
            self._write(path, entries)

    def _write(self, path: Path, entries: dict[str, Entry | FolderRecord]) -> None:
        if not entries:
            path.unlink(missing_ok=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".articles-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                pickle.dump((self.fingerprint, entries), stream, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)  # atomic: a crash mid-write leaves the old file whole
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


BACKGROUND_FROM = 2000
"""Cache entries to write from which `save(background=True)` forks a writer (~0.1 s of pickling saved)."""
_children: list[int] = []


def in_background(work: Callable[[], None]) -> bool:
    """Run `work` in a forked child and return at once; False (nothing done) where that is not safe.

    Only in a process running one thread (forking a multi-threaded one may copy a held lock).
    The child leaves with os._exit: no atexit handlers, no flushing of the parent's buffers.
    Finished children are reaped by later calls (a command that exits first leaves them to init).
    """
    reap()
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return False
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            work()
            status = 0
        finally:
            os._exit(status)
    _children.append(pid)
    return True


def adopt_child(pid: int) -> None:
    """A child forked elsewhere (the loader's helper) to be reaped like ours."""
    _children.append(pid)


def reap(wait: bool = False) -> None:
    """Collect finished children (all of them, waiting, with `wait`)."""
    for pid in list(_children):
        try:
            done, _ = os.waitpid(pid, 0 if wait else os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            _children.remove(pid)


def _year(relative: str) -> str:
    """`issues/2018-11/x.md` -> `2018`."""
    return relative.split("/", 2)[1][:4]
