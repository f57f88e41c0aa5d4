"""The static HTML front door: index.html, topics/<slug>.html, articles/<id>.html, from Jinja2 templates.

The templates (site/templates/) are plain HTML with a few lines of CSS, readable
without JavaScript and on a phone. A site owner restyles them without touching
Python: `[site] templates = "folder"` names a folder whose files are used instead of
the packaged ones of the same name (style.css alone, say). Every value is escaped
by Jinja2's autoescape; only the safe HTML that site/html.py renders from Markdown
is marked as such. Every link is absolute and article links come from links.article_url.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jinja2
from markupsafe import Markup

from pprfeed.config import SiteSettings
from pprfeed.links import article_url, topic_page_url
from pprfeed.model import Article, Topic, month_title
from pprfeed.site.feeds import FORMAT_NAMES, FORMATS, MEDIA_TYPES, ArticleHtml, FeedSpec
from pprfeed.site.html import markdown_html, markdown_text
from pprfeed.text import shorten

TEMPLATES = Path(__file__).parent / "templates"
OPML_FILE = "index.opml"
SHORT_NAMES = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}
GIST_LIMIT = 280
"""Characters of the practice implications the index shows for each article of the newest issue."""
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)][.!?])\s+(?=[A-Z])")


class TemplateError(Exception):
    """A page template cannot be read or rendered; the message names the file and what is wrong."""


def article_page_path(article: Article) -> str:
    """Where `pprfeed build` writes the page links.article_url points at (no permalink)."""
    return f"articles/{article.id}.html"


def needs_page(article: Article) -> bool:
    return article.permalink is None


def gist(markdown: str, limit: int = GIST_LIMIT) -> str:
    """The first sentence or so of `markdown` as plain text: two sentences when the first is short."""
    text = markdown_text(markdown).split("\n\n", 1)[0] if markdown.strip() else ""
    sentences = _SENTENCE_END.split(text)
    out = sentences[0]
    if len(out) < 80 and len(sentences) > 1:
        out = f"{out} {sentences[1]}"
    return shorten(out, limit)


def topic_feed(topic: Topic) -> FeedSpec:
    """A topic's feed addresses (the same paths feeds.plan_feeds gives it), for linking only."""
    return FeedSpec(key=topic.slug, title=topic.name, description="", page_url="", articles=(), topic=topic)


# --- what the templates see ----------------------------------------------------------------------


class FeedLink(NamedTuple):
    """One format of one feed."""

    url: str
    type: str
    name: str
    """`RSS 2.0`"""
    short_name: str
    """`RSS`"""


class FeedLinks(NamedTuple):
    title: str
    rss_url: str
    links: tuple[FeedLink, ...]
    """In FORMATS order: RSS, Atom, JSON Feed."""


class TopicLink(NamedTuple):
    name: str
    url: str
    """The topic's page."""
    feed: FeedLinks


class ArticleLink(NamedTuple):
    title: str
    url: str
    month_title: str


def feed_links(spec: FeedSpec, site: SiteSettings) -> FeedLinks:
    links = tuple(
        FeedLink(spec.url(fmt, site), MEDIA_TYPES[fmt], FORMAT_NAMES[fmt], SHORT_NAMES[fmt]) for fmt in FORMATS
    )
    return FeedLinks(spec.title, spec.url("rss", site), links)


def environment(folder: str | None) -> jinja2.Environment:
    """The packaged templates, each overridden by a file of the same name in `folder` when there is one."""
    packaged = jinja2.FileSystemLoader(TEMPLATES)
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(folder), packaged]) if folder else packaged
    return jinja2.Environment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a misspelt name in a template fails the build instead of vanishing
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )


class Pages:
    """The HTML pages of one build."""

    def __init__(self, site: SiteSettings, feeds: Sequence[FeedSpec], topics: Sequence[Topic]) -> None:
        self.site = site
        self.everything = feed_links(feeds[0], site)
        self.feeds = {spec.key: feed_links(spec, site) for spec in feeds[1:]}
        self.topics = topics
        self.topic_links = {
            t.slug: TopicLink(t.name, topic_page_url(t.slug, site), feed_links(topic_feed(t), site)) for t in topics
        }
        self.common = {"site": site, "opml_url": site.base_url + OPML_FILE, "everything": self.everything}
        self._intros: dict[str, Markup] = {}
        """Intro Markdown -> its HTML: every article page of an issue shows the same intro, rendered once."""
        env = environment(site.templates)
        try:  # read and compile every template now: a mistake in one is found before any file is written
            self._templates = {name: env.get_template(name) for name in ("index.html", "topic.html", "article.html")}
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"{exc.filename or exc.name}:{exc.lineno}: {exc.message}") from None
        except jinja2.TemplateError as exc:
            raise TemplateError(f"template {exc.message}: not found in {site.templates or TEMPLATES}") from None

    def _render(self, name: str, title: str, canonical: str, alternates: Sequence[FeedLinks], **values: Any) -> bytes:
        try:
            html = self._templates[name].render(
                self.common, title=title, canonical=canonical, alternates=alternates, **values
            )
        except jinja2.TemplateError as exc:
            raise TemplateError(f"{_where(exc) or name}: {exc}") from None
        return html.encode("utf-8")

    def index(self, counts: Mapping[str, int], latest: Sequence[Article], intros: Mapping[str, str]) -> bytes:
        """`latest`: the newest articles, newest first; `intros`: issue month -> intro (Markdown)."""
        issues = _by_issue(latest)
        newest = None
        if issues:
            month, members = issues[0]
            newest = {
                "month": month,
                "title": month_title(month),
                "intro_html": self._markdown(intros.get(month, "")),
                "cards": [self._card(article) for article in members],
            }
        earlier = [
            {
                "month": month,
                "title": month_title(month),
                "intro": shorten(markdown_text(intros[month]), GIST_LIMIT) if intros.get(month, "").strip() else "",
                "articles": [self._link(article) for article in members],
            }
            for month, members in issues[1:]
        ]
        with_feed = [
            {
                "name": t.name,
                "url": self.topic_links[t.slug].url,
                "count": counts.get(t.slug, 0),
                "feed": self.feeds[t.slug],
            }
            for t in self.topics
            if counts.get(t.slug, 0)
        ]
        empty = [
            {"name": t.name, "url": self.topic_links[t.slug].url, "count": 0, "feed": self.feeds[t.slug]}
            for t in self.topics
            if not counts.get(t.slug, 0)
        ]
        return self._render(
            "index.html",
            self.site.title,
            self.site.base_url,
            [self.everything],
            latest=newest,
            earlier=earlier,
            topics=with_feed,
            empty_topics=empty,
        )

    def topic(self, topic: Topic, articles: Sequence[Article]) -> bytes:
        feed = self.feeds[topic.slug]
        return self._render(
            "topic.html",
            f"{topic.name} — {self.site.title}",
            topic_page_url(topic.slug, self.site),
            [feed, self.everything],
            topic=topic,
            articles=[self._link(article) for article in articles],
            feed=feed,
        )

    def article(self, article: Article, rendered: ArticleHtml, intro: str = "") -> bytes:
        """`intro`: the intro (Markdown) of the article's issue, shown after the article."""
        return self._render(
            "article.html",
            f"{article.title} — {self.site.title}",
            article_url(article, self.site),
            [self.everything],
            article=article,
            issue_title=month_title(article.month),
            topics=[self.topic_links[slug] for slug in article.topics],
            summary_html=Markup(rendered.summary_html),
            implications_html=Markup(rendered.implications_html),
            intro_html=self._intro(intro),
        )

    def _intro(self, markdown: str) -> Markup:
        found = self._intros.get(markdown)
        if found is None:
            found = self._intros[markdown] = self._markdown(markdown)
        return found

    def _markdown(self, markdown: str) -> Markup:
        return Markup(markdown_html(markdown, self.site.base_url)) if markdown.strip() else Markup("")

    def _link(self, article: Article) -> ArticleLink:
        return ArticleLink(article.title, article_url(article, self.site), month_title(article.month))

    def _card(self, article: Article) -> dict[str, object]:
        return {
            "url": article_url(article, self.site),
            "title": article.title,
            "citation": article.citation,
            "topics": [self.topic_links[slug] for slug in article.topics],
            "research_type": article.research_type,
            "gist": gist(article.implications_md),
        }


def _where(exc: BaseException) -> str | None:
    """`file:line` of the template line that raised `exc` (Jinja2 puts template lines in the traceback)."""
    found = None
    for frame, line in traceback.walk_tb(exc.__traceback__):
        if not frame.f_code.co_filename.endswith(".py"):
            found = f"{frame.f_code.co_filename}:{line}"
    return found


def _by_issue(articles: Sequence[Article]) -> list[tuple[str, list[Article]]]:
    """`articles` (newest first) grouped by issue month, newest issue first."""
    groups: dict[str, list[Article]] = {}
    for article in articles:
        groups.setdefault(article.month, []).append(article)
    return sorted(groups.items(), key=lambda item: item[0], reverse=True)
