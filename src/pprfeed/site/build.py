"""`pprfeed build`: archive -> every feed and page -> one atomic replacement of the output folder.

`render_site` yields each file of the site with its bytes; `replace_folder` writes
them into a new folder beside the live one and swaps the two in one step, so
readers and web servers see the old tree or the new one, never a mix, and a build
that fails leaves the live folder exactly as it was.

Modification times are what feed readers poll by (HTTP Last-Modified, one-second
resolution): a file whose bytes equal the live copy *is* the live copy (a hard
link), so it keeps its time; every other file is newer than the one it replaces by
at least a second, so no reader is told "not modified" about a change.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pprfeed.config import SiteSettings
from pprfeed.locks import exclusive_lock
from pprfeed.model import Archive, Article
from pprfeed.site.feeds import (
    FeedContext,
    FeedSpec,
    article_html,
    json_feed,
    opml,
    plan_feeds,
    rss_and_atom,
    visible_articles,
)
from pprfeed.site.pages import OPML_FILE, Pages, article_page_path, needs_page

log = logging.getLogger(__name__)

MARKER = ".pprfeed-output"
"""Written into every output folder: only a folder holding it (or an old manifest) is ever replaced."""
MARKER_TEXT = "This folder is written by `pprfeed build`, which replaces all of it on every build.\n"
OLD_MANIFEST = ".pprfeed-manifest.json"
"""What earlier versions wrote instead of the marker: counts as one, and is not carried over."""
SECOND_NS = 1_000_000_000


@dataclass(frozen=True)
class WriteStats:
    files: int
    written: int
    """Files new or changed: written afresh, each newer than the one it replaces."""
    removed: int
    """Files of the live folder that the new one no longer has."""


@dataclass(frozen=True)
class BuildResult:
    out: Path
    feeds: list[FeedSpec]
    articles: int
    topic_pages: int
    pages: int
    """Article pages (articles without a permalink of their own)."""
    written: WriteStats


class OutputError(Exception):
    """The output folder cannot be replaced; the message says why and what to do."""


def build_site(archive: Archive, site: SiteSettings, out: Path, now: datetime) -> BuildResult:
    """Write every feed and page for `archive` as it stands at `now` into `out`, atomically."""
    articles, stamps = visible_articles(archive, now)
    feeds = plan_feeds(archive, articles, site)
    pages = [article for article in articles if needs_page(article)]
    context = FeedContext(archive, site, stamps)
    stats = replace_folder(out, render_site(archive, site, articles, feeds, pages, context))
    log.info("%s: %d files, %d written, %d removed", out, stats.files, stats.written, stats.removed)
    return BuildResult(out, feeds, len(articles), len(archive.topics), len(pages), stats)


def render_site(
    archive: Archive,
    site: SiteSettings,
    articles: tuple[Article, ...],
    feeds: list[FeedSpec],
    pages: list[Article],
    context: FeedContext,
) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) of every file, feeds first: the pages then find their articles' HTML already rendered."""
    for spec in feeds:
        rss, atom = rss_and_atom(spec, context)
        yield spec.path("rss"), rss
        yield spec.path("atom"), atom
        yield spec.path("json"), json_feed(spec, context)
    yield OPML_FILE, opml(feeds, site, context.stamps)

    by_topic: dict[str, list[Article]] = {topic.slug: [] for topic in archive.topics}
    for article in articles:
        for slug in article.topics:
            by_topic[slug].append(article)
    intros = {issue.month: issue.intro for issue in archive.issues if issue.intro}
    html = Pages(site, feeds, archive.topics)
    counts = {slug: len(members) for slug, members in by_topic.items()}
    yield "index.html", html.index(counts, articles[: site.feed_limit], intros)
    for topic in archive.topics:
        yield f"topics/{topic.slug}.html", html.topic(topic, by_topic[topic.slug])
    for article in pages:
        # an article in no feed is rendered for its page alone, and not kept: 10,000 pages need not stay in memory
        rendered = context.html.get(article.id) or article_html(archive, article, site)
        yield article_page_path(article), html.article(article, rendered, intros.get(article.month, ""))


# --- the output folder ---------------------------------------------------------------------------


def replace_folder(out: Path, files: Iterable[tuple[str, bytes]]) -> WriteStats:
    """Make `out` hold exactly `files`, atomically; raises OutputError, or whatever producing a file raises.

    When `out` is a symbolic link, the folder it points to is the one replaced (the link stays).
    """
    target = Path(os.path.realpath(out))
    parent = target.parent
    if out.is_symlink() and not parent.is_dir():
        raise OutputError(f"{out} is a link to {target}, whose folder {parent} does not exist")
    if parent.is_dir() and not os.access(parent, os.W_OK | os.X_OK):
        what = (
            f"{out} is a link to {target}; the new build is written beside that"
            if out.is_symlink()
            else (f"{out}: the new build is written beside it")
        )
        raise OutputError(
            f"{what}, in {parent}, which this user cannot write: "
            "give the user write access to that folder, or pass another --out"
        )
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target} is a file, not a folder: pass --out pointing at a folder")
    with contextlib.ExitStack() as stack:
        try:
            held = stack.enter_context(exclusive_lock(parent / f".{target.name}.lock"))
        except OSError as exc:
            raise OutputError(f"cannot write beside {target}: {exc}") from None
        if not held:
            raise OutputError(f"another `pprfeed build` is writing {out} right now; run again when it has finished")
        return _replace(target, files)


def _replace(target: Path, files: Iterable[tuple[str, bytes]]) -> WriteStats:
    _check_ours(target)
    fresh = target.parent / f".{target.name}.new"
    _remove_leftover(fresh)
    fresh.mkdir()
    try:
        _keep_live(target / MARKER, fresh / MARKER, MARKER_TEXT.encode("utf-8"))
        stats = _write_tree(fresh, target, files)
        _swap(fresh, target)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    shutil.rmtree(fresh, ignore_errors=True)  # the tree just replaced
    _remove_old_spare(target)
    return stats


def _is_ours(folder: Path) -> bool:
    return (folder / MARKER).is_file() or (folder / OLD_MANIFEST).is_file()


def _check_ours(target: Path) -> None:
    if target.is_dir() and not _is_ours(target) and any(target.iterdir()):
        raise OutputError(
            f"{target} exists and was not written by `pprfeed build` (no {MARKER}); "
            "the build replaces the whole folder, so move it away or pass another --out"
        )


def _remove_leftover(folder: Path) -> None:
    """A folder of ours left beside the output by a build that was killed."""
    if not folder.exists() and not folder.is_symlink():
        return
    if folder.is_symlink() or not folder.is_dir() or not (_is_ours(folder) or not any(folder.iterdir())):
        raise OutputError(f"{folder} is in the way of the build and was not written by it: move it away")
    shutil.rmtree(folder)


def _remove_old_spare(target: Path) -> None:
    """Earlier versions kept the previous output beside the live one as `.<name>.spare`: no longer used."""
    spare = target.parent / f".{target.name}.spare"
    if spare.is_dir() and not spare.is_symlink():
        if _is_ours(spare):
            shutil.rmtree(spare)
        else:  # a build of an earlier version that failed midway leaves its spare unmarked
            log.warning("%s: no longer used by pprfeed, but not marked as its own: remove it by hand", spare)


def _write_tree(fresh: Path, live: Path, files: Iterable[tuple[str, bytes]]) -> WriteStats:
    made = {fresh}
    paths: set[str] = set()
    written = 0
    for path, data in files:
        paths.add(path)
        destination = fresh / path
        if destination.parent not in made:
            destination.parent.mkdir(parents=True, exist_ok=True)
            made.add(destination.parent)
        if not _keep_live(live / path, destination, data):
            written += 1
    removed = sum(1 for path in _walk(live) if path not in paths) if live.is_dir() else 0
    return WriteStats(files=len(paths), written=written, removed=removed)


def _keep_live(old: Path, new: Path, data: bytes) -> bool:
    """Give `new` the bytes `data`: as a hard link to `old` when it holds them already (True), else a file
    of its own, later than `old` by a second at least (False)."""
    try:
        info = old.stat()
    except OSError:  # nothing to replace, or not readable: a new file
        info = None
    if info is not None and info.st_size == len(data) and old.read_bytes() == data:
        try:
            os.link(old, new)
        except OSError:  # no hard links on this file system: a copy with the same time
            new.write_bytes(data)
            os.utime(new, ns=(info.st_atime_ns, info.st_mtime_ns))
        return True
    with open(new, "xb") as file:
        file.write(data)
        made = os.fstat(file.fileno()).st_mtime_ns  # the file system's clock, which may lag time.time()
    if info is not None and made < info.st_mtime_ns + SECOND_NS:
        later = info.st_mtime_ns + SECOND_NS
        os.utime(new, ns=(later, later))
    return False


def _walk(folder: Path) -> Iterator[str]:
    for current, _dirs, names in os.walk(folder):
        relative = os.path.relpath(current, folder)
        prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
        for name in names:
            if name not in (MARKER, OLD_MANIFEST):
                yield prefix + name


def _swap(fresh: Path, target: Path) -> None:
    if not target.exists():
        os.rename(fresh, target)
        return
    if _exchange(fresh, target):
        return
    # no atomic exchange on this system: two renames, the folder missing for an instant
    parked = target.parent / f".{target.name}.old"
    _remove_leftover(parked)
    os.rename(target, parked)
    os.rename(fresh, target)
    os.rename(parked, fresh)


def _exchange(first: Path, second: Path) -> bool:
    """Linux renameat2(RENAME_EXCHANGE): swap two folders in one atomic step. False if unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(second))
