"""`pprfeed build`: archive -> every feed and page -> one atomic replacement of the output folder.

`plan_site` lists each output file with a fingerprint of everything its bytes
depend on and a function that renders it; `build_site` hands the plan to
output.replace_folder, which renders only the files whose fingerprint changed.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path

from pprfeed import __version__
from pprfeed.config import SiteSettings
from pprfeed.model import Archive, Article
from pprfeed.site.feeds import (
    ArticleHtml,
    ArticleHtmlCache,
    FeedContext,
    FeedSpec,
    iso,
    json_feed,
    opml,
    plan_feeds,
    rss_and_atom,
    visible_articles,
)
from pprfeed.site.output import PlannedBundle, PlannedFile, WriteStats, replace_folder
from pprfeed.site.pages import OPML_FILE, article_page, article_page_path, index_page, needs_page, topic_page

log = logging.getLogger(__name__)

RENDER_VERSION = "2"
"""Bump when any renderer's output changes for the same input, so rebuilds rewrite every file."""


FEED_COST = 40
"""An RSS or Atom file costs about 40 small pages to render (feedgen: ~16 ms a pair of 50 entries):
from about four changed feeds on, a rebuild renders in two processes (output.PARALLEL_FROM)."""


@dataclass(frozen=True)
class BuildPlan:
    files: list[PlannedFile]
    feeds: list[FeedSpec]
    articles: int
    pages: int
    bundles: list[PlannedBundle] = field(default_factory=list)
    """The article pages, one bundle per issue (output.PlannedBundle)."""


@dataclass(frozen=True)
class BuildResult:
    out: Path
    plan: BuildPlan
    written: WriteStats


def _digest(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode("utf-8"), usedforsecurity=False).hexdigest()


def article_digest(article: Article) -> str:
    """A hash of every field of the article: changes whenever anything about the article changes."""
    return _digest(*(str(getattr(article, name)) for name in _ARTICLE_FIELDS))


_ARTICLE_FIELDS = tuple(f.name for f in dataclasses.fields(Article))


def plan_site(
    archive: Archive, site: SiteSettings, now: datetime, digests: Mapping[str, str] | None = None
) -> BuildPlan:
    """Every file of the output folder, nothing rendered yet (except the few cheap ones).

    `digests` (article id -> article_digest) spare hashing every article's text; any article
    missing from it is hashed here.
    """
    articles, stamps = visible_articles(archive, now)
    specs = plan_feeds(archive, articles, site)
    context = FeedContext(archive, site, stamps, ArticleHtmlCache(archive, site))
    common = _digest(RENDER_VERSION, __version__, repr(site))
    topic_keys = {topic.slug: _digest(repr(topic)) for topic in archive.topics}
    known = digests or {}
    # an article's key: its own digest (96 bits) and its topics' keys (48 bits each), put side by side
    # rather than hashed again; every fingerprint made from article keys also covers `common` (settings,
    # renderer)
    short_topic_keys = {slug: key[:12] for slug, key in topic_keys.items()}
    topic_key = short_topic_keys.__getitem__
    contexts: dict[tuple[str, ...], str] = {}
    article_keys = {}
    # one pass over the articles (10,000 of them) gathers all that the pages below need
    by_topic: dict[str, list[Article]] = {topic.slug: [] for topic in archive.topics}
    topic_members: dict[str, list[str]] = {topic.slug: [] for topic in archive.topics}  # their article keys
    by_issue: dict[str, list[Article]] = {}  # articles with a page of their own, by issue
    page_keys: dict[str, list[str]] = {}
    for a in articles:
        context_key = contexts.get(a.topics)
        if context_key is None:
            context_key = contexts[a.topics] = "".join(map(topic_key, a.topics))
        key = article_keys[a.id] = (known.get(a.id) or article_digest(a))[:24] + context_key
        for slug in a.topics:
            by_topic[slug].append(a)
            topic_members[slug].append(key)
        if needs_page(a):
            issue = by_issue.get(a.month)
            if issue is None:
                issue = by_issue[a.month] = []
                page_keys[a.month] = []
            issue.append(a)
            page_keys[a.month].append(key)
    files: list[PlannedFile] = []

    for spec in specs:
        key = _digest(
            common,
            spec.key,
            spec.title,
            spec.description,
            spec.page_url,
            *(article_keys[a.id] + iso(stamps[a.id].published) + iso(stamps[a.id].updated) for a in spec.articles),
        )
        pair = _once(partial(rss_and_atom, spec, context))
        group = f"feed:{spec.key}"
        files.append(PlannedFile(spec.path("rss"), key, partial(_half, pair, 0), group, FEED_COST))
        files.append(PlannedFile(spec.path("atom"), key, partial(_half, pair, 1), group, FEED_COST))
        files.append(PlannedFile(spec.path("json"), key, partial(json_feed, spec, context), group, FEED_COST // 4))

    opml_bytes = opml(specs, site, stamps)
    files.append(PlannedFile(OPML_FILE, _digest(common, opml_bytes.decode("utf-8")), lambda: opml_bytes))

    counts = {slug: len(members) for slug, members in by_topic.items()}
    everything = specs[0]
    latest = articles[: site.feed_limit]
    spec_keys = ",".join(spec.key for spec in specs)
    index_key = _digest(
        common,
        spec_keys,
        *(topic_keys[t.slug] + str(counts[t.slug]) for t in archive.topics),
        *(article_keys[a.id] for a in latest),
        *(f"{issue.month}:{issue.intro}" for issue in archive.issues if issue.intro),
    )
    intros = {issue.month: issue.intro for issue in archive.issues if issue.intro}
    render_index = partial(index_page, site, specs, archive.topics, counts, latest, intros)
    files.append(PlannedFile("index.html", index_key, render_index))

    topic_specs = {spec.key: spec for spec in specs[1:]}
    rows: dict[str, tuple[Article, str]] = {}  # one list item per article, whichever topic pages list it
    for topic in archive.topics:
        members = by_topic[topic.slug]
        key = _digest(common, spec_keys, topic_keys[topic.slug], *topic_members[topic.slug])
        render = partial(topic_page, topic, members, topic_specs.get(topic.slug), everything, site, rows)
        files.append(PlannedFile(f"topics/{topic.slug}.html", key, render))

    # An issue's article pages are one bundle: one fingerprint for them all, so an unchanged issue costs one
    # comparison, not one per page. A page shows its article (its digest in article_keys, which also covers
    # the settings, the renderer and its topics' names) and its issue's intro: the bundle's key has them all.
    bundles = [
        PlannedBundle(
            f"articles:{month}",
            _digest(common, month, intros.get(month, ""), *page_keys[month]),
            tuple(article_page_path(a) for a in members),
            partial(_issue_page, tuple(members), archive, everything, site, intros.get(month, "")),
        )
        for month, members in by_issue.items()
    ]
    pages = sum(len(bundle.paths) for bundle in bundles)
    return BuildPlan(files=files, feeds=specs, articles=len(articles), pages=pages, bundles=bundles)


def _issue_page(
    articles: tuple[Article, ...], archive: Archive, everything: FeedSpec, site: SiteSettings, intro: str, index: int
) -> bytes:
    return _article_page(articles[index], archive, everything, site, intro)


def _article_page(article: Article, archive: Archive, everything: FeedSpec, site: SiteSettings, intro: str) -> bytes:
    # rendered afresh rather than through the feeds' cache: 10,000 pages need not stay in memory
    topics = [archive.topic(slug) for slug in article.topics]
    return article_page(article, ArticleHtml(article, site, tuple(topics)), topics, everything, site, intro)


def _half(pair: Callable[[], tuple[bytes, bytes]], index: int) -> bytes:
    return pair()[index]


def _once(render: Callable[[], tuple[bytes, bytes]]) -> Callable[[], tuple[bytes, bytes]]:
    """RSS and Atom come from one feedgen object: render the pair once, hand out each half."""
    memo: list[tuple[bytes, bytes]] = []

    def get() -> tuple[bytes, bytes]:
        if not memo:
            memo.append(render())
        return memo[0]

    return get


def build_site(
    archive: Archive,
    site: SiteSettings,
    out: Path,
    now: datetime,
    digests: Mapping[str, str] | None = None,
    **options: int,
) -> BuildResult:
    """Write every feed and page for `archive` as it stands at `now` into `out`, atomically.

    `digests`: see plan_site. `options` go to output.replace_folder (workers, parallel_from).
    """
    # The archive is tens of thousands of objects that outlive the build: keep the cyclic garbage
    # collector from walking them again and again (a third of the planning time of a large archive).
    already_frozen = gc.get_freeze_count() > 0
    gc.freeze()
    try:
        plan = plan_site(archive, site, now, digests)
        stats = replace_folder(out, plan.files, bundles=plan.bundles, **options)
    finally:
        if not already_frozen:
            gc.unfreeze()
    log.info("%s: %d files, %d written, %d removed", out, stats.files, stats.written, stats.removed)
    return BuildResult(out=out, plan=plan, written=stats)
