"""`pprfeed build`: archive -> every feed and page -> one atomic replacement of the output folder.

`render_site` yields each file of the site with its bytes; `replace_folder` writes
them into a new folder beside the live one and swaps the two in one step, so
readers and web servers see the old tree or the new one, never a mix, and a build
that fails leaves the live folder exactly as it was.

Modification times are what feed readers poll by (HTTP Last-Modified, one-second
resolution): a file whose bytes equal the live copy *is* the live copy (a hard
link), so it keeps its time; every other file is newer than the one it replaces by
at least a second, so no reader is told "not modified" about a change.

Beside the marker, the folder keeps what it has published (site/published.py): a
build that would take a published article or topic feed away is refused before
anything is written. With `[site] websub_hub`, the feeds that changed are announced
to the hub once the new tree is live (site/websub.py).
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import errno
import logging
import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pprfeed.config import SiteSettings
from pprfeed.diagnostics import Diagnostic
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
from pprfeed.site.published import PUBLISHED_FILE, lost_addresses, published_record, read_published
from pprfeed.site.websub import PingResult, ping_hub
from pprfeed.text import plural

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
    changed: frozenset[str] = frozenset()
    """Paths of the files new or changed."""


@dataclass(frozen=True)
class BuildResult:
    out: Path
    feeds: list[FeedSpec]
    articles: int
    topic_pages: int
    pages: int
    """Article pages (articles without a permalink of their own)."""
    written: WriteStats
    pings: list[PingResult] = field(default_factory=list)
    """One per changed feed announced to `[site] websub_hub`."""


class OutputError(Exception):
    """The output folder cannot be replaced; the message says why and what to do."""


class LostAddresses(OutputError):
    """The build would take away articles or topic feeds the output folder has published."""

    def __init__(self, out: Path, problems: list[Diagnostic]) -> None:
        super().__init__(
            f"{out} has published {plural(len(problems), 'address', 'addresses')} this build would remove "
            "(see above): subscribers and chat posts would lose them"
        )
        self.problems = problems


def build_site(
    archive: Archive,
    site: SiteSettings,
    out: Path,
    now: datetime,
    content: Path | str = "content",
    guard: bool = True,
) -> BuildResult:
    """Write every feed and page for `archive` as it stands at `now` into `out`, atomically.

    Raises LostAddresses when `out` has published an article or topic feed the archive no longer has
    (`content`, the content folder, is where its messages point); `guard=False` (a preview, which nobody
    subscribes to) skips that check."""
    articles, stamps = visible_articles(archive, now, site.today(now))
    target = Path(os.path.realpath(out))
    published = read_published(target) if guard and _is_ours(target) else None
    if published is not None:
        problems = lost_addresses(published, archive, articles, content)
        if problems:
            raise LostAddresses(out, problems)
    feeds = plan_feeds(archive, articles, site)
    pages = [article for article in articles if needs_page(article)]
    context = FeedContext(archive, site, stamps)
    record = published_record(articles, archive.topics, site)
    stats = replace_folder(out, render_site(archive, site, articles, feeds, pages, context), record)
    log.info("%s: %d files, %d written, %d removed", out, stats.files, stats.written, stats.removed)
    pings = ping_hub(site.websub_hub, changed_feeds(feeds, stats.changed, site)) if site.websub_hub else []
    return BuildResult(out, feeds, len(articles), len(archive.topics), len(pages), stats, pings)


def changed_feeds(feeds: Iterable[FeedSpec], changed: frozenset[str], site: SiteSettings) -> list[str]:
    """The public URL of every RSS and Atom file in `changed` (former-slug copies included)."""
    urls = []
    for spec in feeds:
        paths = [(fmt, spec.path(fmt)) for fmt in ("rss", "atom")]
        paths += [(fmt, path) for fmt, path in spec.former_paths if fmt in ("rss", "atom")]
        urls += [site.base_url + path for _fmt, path in paths if path in changed]
    return urls


def feed_urls(folder: Path, site: SiteSettings) -> list[str]:
    """The public URL of every RSS and Atom file in a built folder, for `pprfeed ping`."""
    return [site.base_url + path for path in sorted(_walk(folder)) if path.endswith(("rss.xml", "atom.xml"))]


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
        # a renamed topic: the same feed (id, entries) at each old address too, each naming itself as `self`
        for alias in [spec, *(dataclasses.replace(spec, key=old) for old in spec.former_slugs)]:
            rss, atom = rss_and_atom(alias, context)
            yield alias.path("rss"), rss
            yield alias.path("atom"), atom
            yield alias.path("json"), json_feed(alias, context)
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
        page = html.topic(topic, by_topic[topic.slug])
        for slug in (topic.slug, *topic.former_slugs):
            yield f"topics/{slug}.html", page
    for article in pages:
        # an article in no feed is rendered for its page alone, and not kept: 10,000 pages need not stay in memory
        rendered = context.html.get(article.id) or article_html(archive, article, site)
        yield article_page_path(article), html.article(article, rendered, intros.get(article.month, ""))


# --- the output folder ---------------------------------------------------------------------------


def replace_folder(out: Path, files: Iterable[tuple[str, bytes]], record: bytes | None = None) -> WriteStats:
    """Make `out` hold exactly `files`, atomically; raises OutputError, or whatever producing a file raises.

    `record`: what the folder publishes (site/published.py), kept beside the marker.

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
        return _replace(target, files, record)


def _replace(target: Path, files: Iterable[tuple[str, bytes]], record: bytes | None = None) -> WriteStats:
    _check_ours(target)
    fresh = target.parent / f".{target.name}.new"
    _remove_leftover(fresh)
    fresh.mkdir()
    try:
        _keep_live(target / MARKER, fresh / MARKER, MARKER_TEXT.encode("utf-8"))
        if record is not None:
            _keep_live(target / PUBLISHED_FILE, fresh / PUBLISHED_FILE, record)
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
    changed: set[str] = set()
    for path, data in files:
        paths.add(path)
        destination = fresh / path
        if destination.parent not in made:
            destination.parent.mkdir(parents=True, exist_ok=True)
            made.add(destination.parent)
        if not _keep_live(live / path, destination, data):
            changed.add(path)
    removed = sum(1 for path in _walk(live) if path not in paths) if live.is_dir() else 0
    return WriteStats(files=len(paths), written=len(changed), removed=removed, changed=frozenset(changed))


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
            if name not in (MARKER, OLD_MANIFEST, PUBLISHED_FILE):
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
