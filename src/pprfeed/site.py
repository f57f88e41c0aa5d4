"""The static HTML front door: index.html, topics/<slug>.html, articles/<id>.html.

Plain HTML and a few lines of CSS, readable without JavaScript. Every page
carries feed autodiscovery links; every value is escaped; every link is
absolute and article links come from links.article_url.
"""

from __future__ import annotations

from collections.abc import Sequence

from .feeds import FORMAT_NAMES, FORMATS, IMPLICATIONS_TITLE, MEDIA_TYPES, ArticleHtml, FeedSpec
from .links import article_url, topic_page_url
from .safe_html import escape_text as esc
from .model import MONTH_NAMES, Article, Topic
from .settings import SiteSettings

OPML_FILE = "index.opml"
STYLE = (
    "body{font-family:system-ui,sans-serif;line-height:1.5;max-width:46rem;margin:0 auto;padding:1rem;color:#222}"
    "a{color:#0b5394}header,footer{font-size:.9rem;color:#555}ul.feeds{list-style:none;padding:0}"
    "ul.feeds li{display:inline;margin-right:1rem}.meta{color:#555;font-size:.9rem}"
    "table{border-collapse:collapse}td{padding:.15rem .6rem .15rem 0;vertical-align:top}"
)


def month_title(month: str) -> str:
    """`2018-11` -> `November 2018`, in English whatever the locale."""
    return f"{MONTH_NAMES[int(month[5:7]) - 1]} {month[:4]}"


def article_page_path(article: Article) -> str:
    """Where `pprfeed build` writes the page links.article_url points at (no permalink)."""
    return f"articles/{article.id}.html"


def needs_page(article: Article) -> bool:
    return article.permalink is None


def _page(title: str, site: SiteSettings, alternates: Sequence[FeedSpec], body: str, canonical: str) -> bytes:
    discovery = "".join(
        f'<link rel="alternate" type="{MEDIA_TYPES[fmt]}" title="{esc(spec.title)} ({FORMAT_NAMES[fmt]})" '
        f'href="{esc(spec.url(fmt, site))}">\n'
        for spec in alternates
        for fmt in FORMATS
    )
    html = (
        "<!DOCTYPE html>\n"
        f'<html lang="{esc(site.language)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n"
        f'<link rel="canonical" href="{esc(canonical)}">\n'
        f"{discovery}<style>{STYLE}</style>\n</head>\n<body>\n"
        f'<header><a href="{esc(site.base_url)}">{esc(site.title)}</a></header>\n'
        f"<main>\n{body}</main>\n"
        f'<footer><p>{esc(site.description)} Feeds for every topic: <a href="{esc(site.base_url + OPML_FILE)}">'
        "OPML</a>.</p></footer>\n</body>\n</html>\n"
    )
    return html.encode("utf-8")


def _feed_links(spec: FeedSpec, site: SiteSettings) -> str:
    items = "".join(
        f'<li><a href="{esc(spec.url(fmt, site))}" type="{MEDIA_TYPES[fmt]}">{FORMAT_NAMES[fmt]}</a></li>'
        for fmt in FORMATS
    )
    return f'<ul class="feeds">{items}</ul>\n'


def _article_row(article: Article, site: SiteSettings) -> str:
    return (
        f'<li><a href="{esc(article_url(article, site))}">{esc(article.title)}</a> '
        f'<span class="meta">{month_title(article.month)}</span></li>\n'
    )


def index_page(
    site: SiteSettings,
    specs: Sequence[FeedSpec],
    topics: Sequence[Topic],
    counts: dict[str, int],
    latest: Sequence[Article],
) -> bytes:
    everything = specs[0]
    by_slug = {spec.key: spec for spec in specs[1:]}
    rows = []
    for topic in topics:
        count = counts.get(topic.slug, 0)
        spec = by_slug.get(topic.slug)
        if spec is None:
            rows.append(f"<tr><td>{esc(topic.name)}</td><td>{count}</td><td></td></tr>\n")
            continue
        links = " ".join(
            f'<a href="{esc(spec.url(fmt, site))}" type="{MEDIA_TYPES[fmt]}">{fmt.upper()}</a>' for fmt in FORMATS
        )
        rows.append(
            f'<tr><td><a href="{esc(topic_page_url(topic.slug, site))}">{esc(topic.name)}</a></td>'
            f"<td>{count}</td><td>{links}</td></tr>\n"
        )
    body = (
        f"<h1>{esc(site.title)}</h1>\n<p>{esc(site.description)}</p>\n"
        "<h2>Subscribe</h2>\n<p>Every summary, newest first:</p>\n"
        + _feed_links(everything, site)
        + f'<p>Or one feed per topic below; <a href="{esc(site.base_url + OPML_FILE)}">index.opml</a> '
        "lists them all for your feed reader's import.</p>\n"
        "<h2>Topics</h2>\n<table>\n<tr><th>Topic</th><th>Articles</th><th>Feeds</th></tr>\n"
        + "".join(rows)
        + "</table>\n<h2>Latest summaries</h2>\n<ul>\n"
        + "".join(_article_row(a, site) for a in latest)
        + "</ul>\n"
    )
    return _page(site.title, site, [everything], body, site.base_url)


def topic_page(
    topic: Topic, articles: Sequence[Article], spec: FeedSpec | None, everything: FeedSpec, site: SiteSettings
) -> bytes:
    count = len(articles)
    body = (
        f"<h1>{esc(topic.name)}</h1>\n"
        f"<p>{count} summar{'y' if count == 1 else 'ies'} on this topic.</p>\n"
        + (("<h2>Subscribe to this topic</h2>\n" + _feed_links(spec, site)) if spec else "")
        + ("<ul>\n" + "".join(_article_row(a, site) for a in articles) + "</ul>\n" if articles else "")
        + f'<p><a href="{esc(site.base_url)}">All topics</a></p>\n'
    )
    alternates = [spec, everything] if spec else [everything]
    return _page(f"{topic.name} — {site.title}", site, alternates, body, topic_page_url(topic.slug, site))


def article_page(
    article: Article, rendered: ArticleHtml, topics: Sequence[Topic], everything: FeedSpec, site: SiteSettings
) -> bytes:
    topic_links = ", ".join(f'<a href="{esc(topic_page_url(t.slug, site))}">{esc(t.name)}</a>' for t in topics)
    body = (
        f"<article>\n<h1>{esc(article.title)}</h1>\n"
        f'<p class="meta">{month_title(article.month)} · {topic_links}</p>\n'
        + rendered.summary_html
        + f"<h2>{IMPLICATIONS_TITLE}</h2>\n"
        + rendered.implications_html
        + rendered.citation_html()
        + "</article>\n"
    )
    return _page(f"{article.title} — {site.title}", site, [everything], body, article_url(article, site))
