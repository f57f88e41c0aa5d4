"""The archive as the bots see it: loaded once, reloaded when the content folder changes on disk.

Requests read `LiveArchive.snapshot` (one attribute read, never blocked);
`watch()` checks a cheap fingerprint of the folder every few seconds and, when
it changed, loads and indexes the new archive in a worker thread before
swapping it in. Content with errors is not swapped in: the bots keep answering
from the last good archive and the errors are logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pprfeed.archive.load import load_archive
from pprfeed.archive.search import QueryEngine
from pprfeed.archive.synonyms import load_synonyms
from pprfeed.chat.answers import ResultContext
from pprfeed.config import SiteSettings
from pprfeed.diagnostics import Diagnostic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    engine: QueryEngine
    context: ResultContext
    fingerprint: int
    loaded_at: float
    """time.time() of the load."""

    @property
    def articles(self) -> int:
        return len(self.engine.articles)


class ArchiveUnavailable(Exception):
    """The content folder could not be loaded at start-up; `diagnostics` say why."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(f"{sum(d.severity == 'error' for d in diagnostics)} problem(s) in the content folder")
        self.diagnostics = diagnostics


def content_fingerprint(root: Path, today: date) -> int:
    """Changes whenever a file under `root` is added, removed, renamed, resized or touched, or the day changes.

    One stat per file, no reading; a set, so the order the folders are walked in does not matter.
    """
    files = set()
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            with contextlib.suppress(OSError):  # removed while we looked: the next check sees the new state
                stat = os.stat(path)
                files.add((path, stat.st_mtime_ns, stat.st_size))
    return hash((today.toordinal(), frozenset(files)))


class LiveArchive:
    def __init__(
        self,
        content: str | Path,
        *,
        site: SiteSettings,
        command: str,
        check_every: float = 3.0,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.content = Path(content)
        self.site = site
        self.command = command
        self.check_every = check_every
        self.today = today
        self._snapshot: Snapshot | None = None
        self._broken: int | None = None
        """The fingerprint of content that failed to load: not tried again until it changes."""

    @property
    def snapshot(self) -> Snapshot:
        if self._snapshot is None:
            raise RuntimeError("LiveArchive.load() must succeed before the bot answers")
        return self._snapshot

    def load(self) -> list[Diagnostic]:
        """The first load: raises ArchiveUnavailable (with the diagnostics) when the content has errors.

        The full-text index is left to `watch()` (or the first text query).
        """
        snapshot, diagnostics = self._build(prepare_index=False)
        if snapshot is None:
            raise ArchiveUnavailable(diagnostics)
        self._snapshot = snapshot
        return diagnostics

    def refresh(self) -> bool:
        """Reload if the folder changed since the snapshot was taken; True when a new archive was swapped in.

        Blocking (loads and indexes): run it off the request path, as `watch()` does.
        """
        current = self._snapshot
        fingerprint = content_fingerprint(self.content, self.today())
        if current is not None and fingerprint == current.fingerprint:
            return False
        if fingerprint == self._broken:  # the same broken content: reloading it again would only repeat the errors
            return False
        snapshot, diagnostics = self._build(prepare_index=True)
        if snapshot is None:
            self._broken = fingerprint
            for diagnostic in diagnostics:
                log.warning(
                    "content changed but cannot be loaded, still answering from the previous archive: %s", diagnostic
                )
            return False
        self._snapshot = snapshot  # one reference swap: a request sees the old archive or the new, never a mix
        log.info("archive reloaded: %d articles", snapshot.articles)
        return True

    async def watch(self) -> None:
        """Forever: build the index of the first load, then check for changes every `check_every` seconds."""
        if self._snapshot is not None:
            await asyncio.to_thread(self._snapshot.engine.prepare)
        while True:
            await asyncio.sleep(self.check_every)
            try:
                await asyncio.to_thread(self.refresh)
            except Exception:  # noqa: BLE001 - a failed check must not stop the watching
                log.exception("checking the content folder for changes failed")

    def _build(self, prepare_index: bool) -> tuple[Snapshot | None, list[Diagnostic]]:
        today = self.today()
        fingerprint = content_fingerprint(self.content, today)  # first: a change made while loading is seen next time
        archive, diagnostics = load_archive(self.content)
        if archive is None:
            return None, diagnostics
        engine = QueryEngine(archive.published(today), load_synonyms(self.content))
        if prepare_index:
            engine.prepare()
        context = ResultContext(
            site=self.site,
            command=self.command,
            topic_names={topic.slug: topic.name for topic in archive.topics},
            topic_list=engine.topic_list(),
            article_count=len(engine.articles),
        )
        return Snapshot(engine, context, fingerprint, time.time()), diagnostics
