"""Archive -> RSS 2.0, Atom 1.0 (feedgen), JSON Feed 1.1 and the OPML list of feeds.

The only module that imports feedgen, and only through its public API. Every date
is set explicitly so the bytes depend on the archive alone, never on the clock.
Where feedgen 1.0's output needs mending (Atom entry links lose `rel` and `type`;
RSS takes its channel <link> from the last link given and its atom:link rel=self
from the Atom one), the mending is a feedgen extension (`_Mend`, `_MendEntry`),
which receives the lxml tree before it is serialised; tests/test_feeds.py checks
the result.
"""

from __future__ import annotations

import copy
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime
from functools import cached_property
from operator import attrgetter
from typing import TYPE_CHECKING, Any, NamedTuple
from xml.etree import ElementTree

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator

from pprfeed.config import SiteSettings
from pprfeed.links import article_url, topic_page_url
from pprfeed.model import Archive, Article, Topic
from pprfeed.site.html import escape_text, markdown_html, markdown_text, parse_markdown, plain_text

if TYPE_CHECKING:
    from markdown_it.token import Token

log = logging.getLogger(__name__)

# Ids are tag: URIs built from the article id, which the content format keeps stable
# across renames (front-matter `id`) and edits; they never depend on base_url or paths.
TAG_AUTHORITY = "tag:pprnet.ca,2017:"
ENTRY_ID_PREFIX = TAG_AUTHORITY + "article:"
FEED_ID_PREFIX = TAG_AUTHORITY + "feed:"
IMPLICATIONS_TITLE = "Practice Implications"
ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
FIRST_DAY = datetime(2017, 1, 1, tzinfo=UTC)
"""The `updated` of a feed with no entries yet: the digest's first year (as in TAG_AUTHORITY), fixed so that an
empty feed's bytes never change, and plausible to validators (the Unix epoch is not)."""


FORMATS = ("rss", "atom", "json")
MEDIA_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml", "json": "application/feed+json"}
FORMAT_NAMES = {"rss": "RSS 2.0", "atom": "Atom 1.0", "json": "JSON Feed 1.1"}


def entry_id(article: Article) -> str:
    return ENTRY_ID_PREFIX + article.id


def topic_scheme(site: SiteSettings) -> str:
    return f"{site.base_url}topics/"


# --- dates --------------------------------------------------------------------------------


class Stamp(NamedTuple):
    """A named tuple: a large archive makes ten thousand of them per build."""

    published: datetime
    updated: datetime


def entry_stamps(articles: Sequence[Article]) -> dict[str, Stamp]:
    """Distinct, deterministic times for dates the archive knows only by day.

    Articles sharing a publication day are staggered by seconds from midnight UTC
    so that feed order (newest first, ties by id) is also time order and no two
    entries share `updated`; a corrected article is `updated` after that day's
    publications.
    """
    published_on: dict[date, list[Article]] = defaultdict(list)
    corrected: list[Article] = []
    for article in articles:
        published_on[article.published].append(article)
        if article.updated != article.published:
            corrected.append(article)
    seconds = [timedelta(seconds=offset) for offset in range(max(map(len, published_on.values()), default=0))]
    stamps: dict[str, Stamp] = {}
    by_id = attrgetter("id")
    for day, group in published_on.items():
        group.sort(key=by_id, reverse=True)
        midnight = datetime.combine(day, time(), UTC)
        for article, offset in zip(group, seconds, strict=False):  # seconds: as long as the longest group
            moment = midnight + offset
            stamps[article.id] = Stamp(moment, moment)
    corrected_on: dict[date, list[Article]] = defaultdict(list)
    for article in corrected:
        corrected_on[article.updated].append(article)
    for day, group in corrected_on.items():
        group.sort(key=lambda a: (a.published, a.id))
        after = len(published_on.get(day, ()))
        midnight = datetime.combine(day, time(), UTC)
        for rank, article in enumerate(group):
            stamps[article.id] = Stamp(stamps[article.id].published, midnight + timedelta(seconds=after + rank))
    return stamps


def visible_articles(
    archive: Archive, now: datetime, today: date | None = None
) -> tuple[tuple[Article, ...], dict[str, Stamp]]:
    """The articles readers may see on `today` (the site's calendar day at `now`; by default the UTC one),
    newest first, and their stamps (none later than `now`).

    Every article of the day is shown, whatever the hour, so that `publish`, which uses the same day, never
    posts a link to a page the build has not written; a stamp not reached yet is `now`.
    """
    articles = archive.published(today or now.date()).articles
    stamps = entry_stamps(articles)
    if all(s.published <= now and s.updated <= now for s in stamps.values()):  # usual: nothing to clamp
        return articles, stamps
    return articles, {key: Stamp(min(s.published, now), min(s.updated, now)) for key, s in stamps.items()}


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# --- what goes into an entry ---------------------------------------------------------------


@dataclass(frozen=True)
class ArticleHtml:
    """An article rendered once per build, shared by feeds and pages."""

    article: Article
    site: SiteSettings
    topics: tuple[Topic, ...]

    @cached_property
    def _summary(self) -> list[Token]:
        return parse_markdown(self.article.summary_md)

    @cached_property
    def summary_html(self) -> str:
        return markdown_html(self._summary, self.site.base_url)

    @cached_property
    def implications_html(self) -> str:
        return markdown_html(self.article.implications_md, self.site.base_url)

    @cached_property
    def summary_text(self) -> str:
        return markdown_text(self._summary)

    @property
    def retracted(self) -> bool:
        return self.article.retracted

    def citation_html(self) -> str:
        doi = self.article.doi_url
        link = f' <a href="{escape_text(doi)}">{escape_text(doi)}</a>' if doi else ""
        return f"<p><strong>Citation:</strong> {escape_text(self.article.citation)}{link}</p>\n"

    @cached_property
    def content_html(self) -> str:
        """The entry body: summary, practice implications, citation with DOI link, topics; once retracted, the
        notice alone (it is the article's summary) and the citation."""
        if self.article.retracted:
            return self.summary_html + self.citation_html()
        topic_links = ", ".join(
            f'<a href="{escape_text(topic_page_url(t.slug, self.site))}">{escape_text(t.name)}</a>' for t in self.topics
        )
        return (
            self.summary_html
            + f"<h2>{IMPLICATIONS_TITLE}</h2>\n"
            + self.implications_html
            + self.citation_html()
            + (f"<p><strong>Topics:</strong> {topic_links}</p>\n" if self.topics else "")
        )


def article_html(archive: Archive, article: Article, site: SiteSettings) -> ArticleHtml:
    return ArticleHtml(article, site, tuple(archive.topic(slug) for slug in article.topics))


# --- which feeds exist ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedSpec:
    """One feed (the whole archive, or one topic) in every format."""

    key: str
    """`all` or the topic slug."""
    title: str
    description: str
    page_url: str
    """The human page the feed belongs to (RSS channel link, Atom rel=alternate)."""
    articles: tuple[Article, ...]
    topic: Topic | None = None

    def path(self, fmt: str, key: str | None = None) -> str:
        """The file's path inside the output folder (`key`: a former slug of the topic, for its old address)."""
        stem = "" if self.topic is None else f"topics/{key or self.key}."
        return {"rss": f"{stem}rss.xml", "atom": f"{stem}atom.xml", "json": f"{stem}json" if stem else "feed.json"}[fmt]

    @property
    def former_paths(self) -> list[tuple[str, str]]:
        """(format, path) of each file the topic's feed also keeps at its former slugs' addresses."""
        return [(fmt, self.path(fmt, old)) for old in self.former_slugs for fmt in FORMATS]

    @property
    def former_slugs(self) -> tuple[str, ...]:
        """The topic's former slugs, whose addresses carry this feed too (none for the copy at an old address)."""
        return self.topic.former_slugs if self.topic is not None and self.key == self.topic.slug else ()

    def url(self, fmt: str, site: SiteSettings) -> str:
        return site.base_url + self.path(fmt)

    @property
    def feed_id(self) -> str:
        """Never changes: a renamed topic keeps the id of its first slug (the oldest of its former slugs)."""
        if self.topic is None:
            return FEED_ID_PREFIX + "all"
        return FEED_ID_PREFIX + f"topic:{(*self.topic.former_slugs, self.key)[0]}"


def plan_feeds(archive: Archive, articles: Sequence[Article], site: SiteSettings) -> list[FeedSpec]:
    """The feed of everything, then one per topic (vocabulary order), with articles or not: a reader can
    subscribe to a topic before its first article, and a topic that loses its last keeps its feed."""
    specs = [
        FeedSpec(
            key="all",
            title=plain_text(site.title),
            description=plain_text(site.description),
            page_url=site.base_url,
            articles=tuple(articles[: site.feed_limit]),
        )
    ]
    by_topic: dict[str, list[Article]] = defaultdict(list)
    for article in articles:
        for slug in article.topics:
            if len(by_topic[slug]) < site.feed_limit:
                by_topic[slug].append(article)
    for topic in archive.topics:
        specs.append(
            FeedSpec(
                key=topic.slug,
                title=plain_text(f"{site.title}: {topic.name}"),
                description=plain_text(f"{topic.name}: {site.description}"),
                page_url=topic_page_url(topic.slug, site),
                articles=tuple(by_topic.get(topic.slug, ())),
                topic=topic,
            )
        )
    return specs


def feed_updated(spec: FeedSpec, stamps: dict[str, Stamp]) -> datetime:
    """The newest entry's `updated`, never the build time."""
    return max((stamps[a.id].updated for a in spec.articles), default=FIRST_DAY)


# --- one build's entries ----------------------------------------------------------------------


@dataclass
class FeedContext:
    """What the feeds of one build share: an article in five feeds is rendered once, not five times."""

    archive: Archive
    site: SiteSettings
    stamps: dict[str, Stamp]
    html: dict[str, ArticleHtml] = field(default_factory=dict)
    """Article id -> its HTML; the article pages of the build take it from here too."""
    entries: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    """Article id -> its RSS <item> and Atom <entry> (lxml elements, built once by feedgen), copied into every
    feed that carries the article."""
    items: dict[str, str] = field(default_factory=dict)
    """Article id -> its JSON Feed item, encoded."""

    def rendered(self, article: Article) -> ArticleHtml:
        found = self.html.get(article.id)
        if found is None:
            found = self.html[article.id] = article_html(self.archive, article, self.site)
        return found

    def entry(self, article: Article) -> tuple[Any, Any]:
        """The article's RSS <item> and Atom <entry>: an element has one parent, so each feed takes a copy."""
        found = self.entries.get(article.id)
        if found is None:
            entry = _entry(article, self.rendered(article), self.stamps[article.id], self.site)
            found = self.entries[article.id] = (entry.rss_entry(), entry.atom_entry())
        return found

    def item(self, article: Article) -> str:
        found = self.items.get(article.id)
        if found is None:
            found = self.items[article.id] = _json_item(
                article, self.rendered(article), self.stamps[article.id], self.site
            )
        return found


# --- RSS and Atom (feedgen) ------------------------------------------------------------------

EXTENSION = "pprfeed"
"""The name our mending extension is registered under (`generator.pprfeed`, `entry.pprfeed`)."""
ENTRIES_EXTENSION = "pprfeed_entries"
"""The name the extension that carries a feed's built entries is registered under."""


class _Mend(BaseExtension):
    """RSS only: the channel <link> is the feed's human page, its atom:link rel=self the RSS file itself, and
    atom:link rel=hub names the WebSub hub when there is one."""

    def __init__(self) -> None:
        self.page_url = ""
        self.rss_url = ""
        self.hub_url: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"dc": DC_NS}  # for the entries' dc:creator (_MendEntry)

    def extend_rss(self, feed: Any) -> Any:
        channel = feed.find("channel")
        channel.find("link").text = self.page_url
        for link in channel.iterfind(f"{{{ATOM_NS}}}link[@rel='self']"):
            link.set("href", self.rss_url)
            link.set("type", MEDIA_TYPES["rss"])
        if self.hub_url:  # feedgen writes only rel=self as atom:link in RSS
            hub = channel.makeelement(f"{{{ATOM_NS}}}link", href=self.hub_url, rel="hub")
            channel.find(f"{{{ATOM_NS}}}link").addnext(hub)
        return feed


class _Entries(BaseExtension):
    """Both formats: the feed's entries, each built once per build by feedgen's FeedEntry and copied in here,
    where feedgen would append them (after every channel or feed element)."""

    def __init__(self) -> None:
        self.rss_items: list[Any] = []
        self.atom_entries: list[Any] = []

    def extend_rss(self, feed: Any) -> Any:
        feed.find("channel").extend(copy.deepcopy(item) for item in self.rss_items)
        return feed

    def extend_atom(self, feed: Any) -> Any:
        feed.extend(copy.deepcopy(entry) for entry in self.atom_entries)
        return feed


class _MendEntry(BaseEntryExtension):
    """Atom: the entry's link gets back its rel and type, and the DOI follows it as rel=related.
    RSS: <dc:creator> names the author when there is no e-mail address for <author>, which must hold one."""

    def __init__(self) -> None:
        self.related: tuple[str, str] | None = None
        """The DOI as a link: (its URL, its title)."""
        self.creator: str | None = None

    def extend_rss(self, entry: Any) -> Any:
        if self.creator:
            creator = entry.makeelement(f"{{{DC_NS}}}creator")
            creator.text = self.creator
            entry.append(creator)
        return entry

    def extend_atom(self, entry: Any) -> Any:
        # feedgen builds its Atom tree un-namespaced (the namespace appears only once serialised)
        links = entry.findall("link")
        for link in links:
            link.set("rel", "alternate")
            link.set("type", "text/html")
        if self.related and links:
            href, title = self.related
            related = entry.makeelement("link", rel="related", href=href)
            related.set("title", title)
            links[-1].addnext(related)
        return entry


def rss_and_atom(spec: FeedSpec, context: FeedContext) -> tuple[bytes, bytes]:
    """The RSS 2.0 and Atom 1.0 documents of one feed."""
    site = context.site
    generator = FeedGenerator()
    generator.register_extension(EXTENSION, _Mend, _MendEntry, atom=False, rss=True)
    mend: _Mend = getattr(generator, EXTENSION)
    mend.page_url, mend.rss_url, mend.hub_url = spec.page_url, spec.url("rss", site), site.websub_hub
    generator.id(spec.feed_id)
    generator.title(spec.title)
    generator.subtitle(spec.description)
    generator.language(site.language)
    generator.author(_author(site))
    generator.generator("pprfeed")
    generator.updated(feed_updated(spec, context.stamps))
    # the alternate link first: some clients (feed-extractor) take the first link as the site's
    generator.link(href=spec.page_url, rel="alternate", type="text/html")
    generator.link(href=spec.url("atom", site), rel="self", type=MEDIA_TYPES["atom"])
    if site.websub_hub:
        generator.link(href=site.websub_hub, rel="hub")
    # the entries come in through an extension (feedgen has no public way to add a built element), registered
    # last so that it runs after _Mend, as feedgen's own entries would
    generator.register_extension(ENTRIES_EXTENSION, _Entries, atom=True, rss=True)
    entries: _Entries = getattr(generator, ENTRIES_EXTENSION)
    for article in spec.articles:
        rss_item, atom_entry = context.entry(article)
        entries.rss_items.append(rss_item)
        entries.atom_entries.append(atom_entry)
    return generator.rss_str(pretty=True), generator.atom_str(pretty=True)


def _author(site: SiteSettings) -> dict[str, str]:
    return {"name": site.author, **({"email": site.author_email} if site.author_email else {})}


def _entry(article: Article, rendered: ArticleHtml, stamp: Stamp, site: SiteSettings) -> FeedEntry:
    entry = FeedEntry()
    entry.register_extension(EXTENSION, _MendEntry, atom=True, rss=True)
    mend: _MendEntry = getattr(entry, EXTENSION)
    mend.related = (article.doi_url, f"doi:{article.doi}") if article.doi_url else None
    mend.creator = None if site.author_email else site.author
    entry.id(entry_id(article))  # also the RSS guid, isPermaLink="false": a tag: URI is no address
    entry.title(plain_text(article.title))
    entry.link(href=article_url(article, site), rel="alternate", type="text/html")
    entry.author(_author(site))
    # feedgen's setters overlap; in this order RSS gets <description> (the plain-text summary,
    # escaped because readers treat it as HTML) and content:encoded, Atom gets content
    # type="html" and summary type="text"
    entry.description(escape_text(rendered.summary_text))
    entry.content(rendered.content_html, type="html")
    entry.summary(rendered.summary_text, type="text")
    for topic in rendered.topics:
        entry.category(term=topic.slug, scheme=topic_scheme(site), label=topic.name)
    entry.published(stamp.published)
    entry.updated(stamp.updated)
    return entry


# --- JSON Feed 1.1 ----------------------------------------------------------------------------


def json_feed(spec: FeedSpec, context: FeedContext) -> bytes:
    site = context.site
    head = {
        "version": JSON_FEED_VERSION,
        "title": spec.title,
        "home_page_url": spec.page_url,
        "feed_url": spec.url("json", site),
        "description": spec.description,
        "language": site.language,
        "authors": [{"name": site.author}],
    }
    # the bytes of json.dumps(head | {"items": [...]}), each item encoded once per build, not once per feed
    items = ",".join(context.item(article) for article in spec.articles)
    return (_json(head)[:-1] + f',"items":[{items}]}}\n').encode("utf-8")


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _json_item(article: Article, rendered: ArticleHtml, stamp: Stamp, site: SiteSettings) -> str:
    topics = rendered.topics
    item: dict[str, object] = {
        "id": entry_id(article),
        "url": article_url(article, site),
        "title": plain_text(article.title),
        "content_html": rendered.content_html,
        "summary": rendered.summary_text,
        "date_published": iso(stamp.published),
        "date_modified": iso(stamp.updated),
        "authors": [{"name": site.author}],
        "tags": [t.name for t in topics],
        "language": site.language,
        "_pprnet": {
            "citation": plain_text(article.citation),
            "doi": article.doi,
            "topics": [{"slug": t.slug, "name": t.name} for t in topics],
        },
    }
    if article.doi_url:
        item["external_url"] = article.doi_url
    return _json(item)


# --- OPML 2.0 -----------------------------------------------------------------------------------


def opml(specs: Iterable[FeedSpec], site: SiteSettings, stamps: dict[str, Stamp]) -> bytes:
    """Every feed as one outline: xmlUrl is the RSS file, htmlUrl its page (which links the other formats).

    One outline per feed (not per file) so importing subscribes once to each topic. No extension attributes
    (atomUrl, jsonUrl): validators warn of any namespace they do not know, and readers import xmlUrl alone.
    """
    specs = list(specs)
    root = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(root, "head")
    ElementTree.SubElement(head, "title").text = plain_text(f"{site.title}: all feeds")
    newest = max((feed_updated(s, stamps) for s in specs), default=FIRST_DAY)
    ElementTree.SubElement(head, "dateModified").text = format_datetime(newest.astimezone(UTC))
    ElementTree.SubElement(head, "ownerName").text = site.author
    body = ElementTree.SubElement(root, "body")
    for spec in specs:
        ElementTree.SubElement(
            body,
            "outline",
            text=spec.title,
            title=spec.title,
            type="rss",
            version="RSS2",
            xmlUrl=spec.url("rss", site),
            htmlUrl=spec.page_url,
            description=spec.description,
            language=site.language,
        )
    ElementTree.indent(root, space="  ")
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
