"""The loader's optional parse cache: re-loading a large unchanged archive without re-parsing it.

One pickle file in the cache folder maps each article file (path relative to the
content folder) to its parse result: the Article and any warnings it produced.
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
import time
from dataclasses import dataclass
from datetime import date
from operator import attrgetter
from pathlib import Path

from .model import Article

log = logging.getLogger(__name__)

CACHE_FILE = "articles.pickle"
FORMAT_VERSION = 2
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
    digest: str
    """article_digest(article), kept so that a build need not hash every article's text again."""


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
    """Entries from the previous load (`get`) and those of this load (`put`), saved by `save`."""

    def __init__(self, folder: Path, fingerprint: str) -> None:
        self.path = folder / CACHE_FILE
        self.fingerprint = fingerprint
        self.started_ns = time.time_ns()
        self.old: dict[str, Entry] = self._read()
        self.new: dict[str, Entry] = {}
        self.changed = False

    def _read(self) -> dict[str, Entry]:
        gc_was_enabled = gc.isenabled()
        gc.disable()  # unpickling makes ~100k objects: collecting in between only costs time
        try:
            with self.path.open("rb") as stream:
                stored = pickle.load(stream)
        except FileNotFoundError:
            return {}
        except Exception as exc:  # noqa: BLE001 - any damage to the cache means: rebuild it
            log.warning(
                "ignoring unreadable parse cache %s (%s: %s); rebuilding it", self.path, type(exc).__name__, exc
            )
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
            log.info("parse cache %s is from another format or vocabulary; rebuilding it", self.path)
            return {}
        return stored[1]

    def get(self, relative: str, stat: os.stat_result, published: date) -> Entry | None:
        entry = self.old.get(relative)
        if (
            isinstance(entry, Entry)
            and entry.mtime_ns == stat.st_mtime_ns
            and entry.size == stat.st_size
            and entry.published == published
            and isinstance(entry.article, Article)
        ):
            self.new[relative] = entry
            return entry
        return None

    def put(
        self,
        relative: str,
        stat: os.stat_result,
        published: date,
        article: Article,
        warnings: tuple[CachedWarning, ...],
        digest: str,
    ) -> None:
        if stat.st_mtime_ns >= self.started_ns - RACY_WINDOW_NS:
            return  # too fresh to trust mtime + size: parse it again next time
        self.new[relative] = Entry(stat.st_mtime_ns, stat.st_size, published, article, warnings, digest)
        self.changed = True

    def save(self) -> None:
        if not self.changed and self.new.keys() == self.old.keys():
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".articles-", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as stream:
                    pickle.dump((self.fingerprint, self.new), stream, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(temporary, self.path)  # atomic: a crash mid-write leaves the old cache whole
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            log.warning("cannot write parse cache %s (%s); loading will stay uncached", self.path, exc)
