"""The static HTML front door: index.html, topics/<slug>.html, articles/<id>.html.

Plain HTML and a few lines of CSS, readable without JavaScript and on a phone (tables
stack under 600 px). The index leads with the newest issue (its intro, then each
article with citation, topics and the gist of its practice implications), then earlier
issues, then the topics. Every page that offers a feed says in plain words how to
subscribe. Every page carries feed autodiscovery links; every value is escaped; every
link is absolute and article links come from links.article_url.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from pprfeed.chat.escape import shorten
from pprfeed.config import SiteSettings
from pprfeed.links import article_url, topic_page_url
from pprfeed.model import Article, Topic, month_title
from pprfeed.site.feeds import FORMAT_NAMES, FORMATS, IMPLICATIONS_TITLE, MEDIA_TYPES, ArticleHtml, FeedSpec
from pprfeed.site.html import escape_text as esc
from pprfeed.site.html import markdown_html, markdown_text

OPML_FILE = "index.opml"
SHORT_NAMES = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}
GIST_LIMIT = 280
"""Characters of the practice implications the index shows for each article of the newest issue."""
STYLE = (
    "body{font-family:system-ui,sans-serif;line-height:1.5;max-width:46rem;margin:0 auto;padding:1rem;color:#222}"
    "a{color:#0b5394}header,footer{font-size:.9rem;color:#555}ul.feeds{list-style:none;padding:0}"
    "ul.feeds li{display:inline;margin-right:1rem}.meta{color:#555;font-size:.9rem}"
    "table{border-collapse:collapse;width:100%}th{text-align:left}"
    "td,th{padding:.3rem .6rem .3rem 0;vertical-align:top;border-bottom:1px solid #eee}"
    "code.address{user-select:all;overflow-wrap:anywhere;background:#f3f3f3;padding:0 .2rem}"
    ".summary h3{margin-bottom:.2rem}.summary p{margin:.3rem 0}.intro{font-size:1.05rem}"
    ".subscribe{background:#f6f8fb;border:1px solid #dde4ee;padding:.2rem 1rem;border-radius:.4rem}"
    "details summary{cursor:pointer;color:#0b5394;white-space:nowrap}"
    "@media (max-width:600px){h1{font-size:1.6rem}table,tbody,tr,td,th{display:block;width:auto}tr.head{display:none}"
    "tr{padding:.4rem 0;border-bottom:1px solid #eee}td{border:0;padding:.1rem 0}"
    'table.topics td:nth-child(2)::before{content:"Summaries: "}}'
)
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)][.!?])\s+(?=[A-Z])")


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


def _short_feed_links(spec: FeedSpec, site: SiteSettings) -> str:
    return " · ".join(
        f'<a href="{esc(spec.url(fmt, site))}" type="{MEDIA_TYPES[fmt]}">{SHORT_NAMES[fmt]}</a>' for fmt in FORMATS
    )


def _how_to_subscribe(spec: FeedSpec, site: SiteSettings, what: str) -> str:
    """Plain words for readers who have never used a feed: the address to paste, shown as text."""
    return (
        '<section class="subscribe" id="subscribe">\n<h2>How to subscribe</h2>\n'
        f"<p>To get {what} as they are published, paste this address into your feed reader "
        "(for example Feedly, Inoreader, NetNewsWire, or Outlook's RSS feeds):</p>\n"
        f'<p><code class="address">{esc(spec.url("rss", site))}</code></p>\n'
        '<p class="meta">Opening the address in a browser shows the feed\'s raw code: that is normal, '
        "it is meant for the reader app. The same feed in other formats:</p>\n"
        + _feed_links(spec, site)
        + "</section>\n"
    )


def _article_row(article: Article, site: SiteSettings) -> str:
    return (
        f'<li><a href="{esc(article_url(article, site))}">{esc(article.title)}</a> '
        f'<span class="meta">{month_title(article.month)}</span></li>\n'
    )


def _topic_links(slugs: Sequence[str], names: Mapping[str, str], site: SiteSettings) -> str:
    return ", ".join(f'<a href="{esc(topic_page_url(slug, site))}">{esc(names.get(slug, slug))}</a>' for slug in slugs)


def _intro(intro: str, site: SiteSettings) -> str:
    return f'<div class="intro">{markdown_html(intro, site.base_url)}</div>\n' if intro.strip() else ""


def _summary_card(article: Article, names: Mapping[str, str], site: SiteSettings) -> str:
    url = esc(article_url(article, site))
    kind = f" · {esc(article.research_type)}" if article.research_type else ""
    return (
        f'<article class="summary">\n<h3><a href="{url}">{esc(article.title)}</a></h3>\n'
        f'<p class="meta">{esc(article.citation)}</p>\n'
        f'<p class="meta">{_topic_links(article.topics, names, site)}{kind}</p>\n'
        f"<p><strong>{IMPLICATIONS_TITLE}:</strong> {esc(gist(article.implications_md))} "
        f'<a href="{url}">Read the summary</a></p>\n</article>\n'
    )


def _by_issue(articles: Sequence[Article]) -> list[tuple[str, list[Article]]]:
    """`articles` (newest first) grouped by issue month, newest issue first."""
    groups: dict[str, list[Article]] = {}
    for article in articles:
        groups.setdefault(article.month, []).append(article)
    return sorted(groups.items(), key=lambda item: item[0], reverse=True)


def index_page(
    site: SiteSettings,
    specs: Sequence[FeedSpec],
    topics: Sequence[Topic],
    counts: dict[str, int],
    latest: Sequence[Article],
    intros: Mapping[str, str] | None = None,
) -> bytes:
    """`latest`: the newest articles, newest first; `intros`: issue month -> intro (Markdown)."""
    intros = intros or {}
    everything = specs[0]
    by_slug = {spec.key: spec for spec in specs[1:]}
    names = {topic.slug: topic.name for topic in topics}
    issues = _by_issue(latest)
    parts = [f"<h1>{esc(site.title)}</h1>\n<p>{esc(site.description)}</p>\n"]
    if issues:
        month, members = issues[0]
        parts.append(
            f'<section class="issue" id="issue-{esc(month)}">\n<h2>Latest issue: {month_title(month)}</h2>\n'
            + _intro(intros.get(month, ""), site)
            + "".join(_summary_card(a, names, site) for a in members)
            + "</section>\n"
        )
    parts.append(_how_to_subscribe(everything, site, "every new summary"))
    if len(issues) > 1:
        parts.append("<h2>Earlier issues</h2>\n")
        for month, members in issues[1:]:
            intro = intros.get(month, "")
            parts.append(
                f'<section class="issue" id="issue-{esc(month)}">\n<h3>{month_title(month)}</h3>\n'
                + (f'<p class="meta">{esc(shorten(markdown_text(intro), GIST_LIMIT))}</p>\n' if intro.strip() else "")
                + "<ul>\n"
                + "".join(f'<li><a href="{esc(article_url(a, site))}">{esc(a.title)}</a></li>\n' for a in members)
                + "</ul>\n</section>\n"
            )
    rows, empty = [], []
    for topic in topics:
        count = counts.get(topic.slug, 0)
        spec = by_slug.get(topic.slug)
        if spec is None:
            empty.append(f"<tr><td>{esc(topic.name)}</td><td>{count}</td></tr>\n")
            continue
        rows.append(
            f'<tr><td><a href="{esc(topic_page_url(topic.slug, site))}">{esc(topic.name)}</a></td>'
            f"<td>{count}</td><td><details><summary>Subscribe</summary>"
            f'<p>Paste into your feed reader: <code class="address">{esc(spec.url("rss", site))}</code></p>'
            f"<p>{_short_feed_links(spec, site)}</p></details></td></tr>\n"
        )
    parts.append(
        "<h2>Topics</h2>\n"
        + (
            '<table class="topics">\n<tr class="head"><th>Topic</th><th>Summaries</th><th>Feed</th></tr>\n'
            + "".join(rows)
            + "</table>\n"
            if rows
            else ""
        )
        + (
            f'<details class="empty"><summary>{len(empty)} more topic{"" if len(empty) == 1 else "s"} '
            "with no summaries yet</summary>\n<table>\n" + "".join(empty) + "</table>\n</details>\n"
            if empty
            else ""
        )
        + f'<p class="meta">Every feed at once: <a href="{esc(site.base_url + OPML_FILE)}">index.opml</a> '
        "(import it in your feed reader).</p>\n"
    )
    return _page(site.title, site, [everything], "".join(parts), site.base_url)


def topic_page(
    topic: Topic,
    articles: Sequence[Article],
    spec: FeedSpec | None,
    everything: FeedSpec,
    site: SiteSettings,
    rows: dict[str, tuple[Article, str]] | None = None,
) -> bytes:
    """`rows`: article id -> (article, its list item), shared by the topic pages of one build (an article
    is listed on the page of each of its topics; a topic page of a large archive has hundreds of rows)."""
    count = len(articles)
    rows = {} if rows is None else rows
    items = []
    for article in articles:
        known = rows.get(article.id)
        if known is None or known[0] is not article:
            known = rows[article.id] = (article, _article_row(article, site))
        items.append(known[1])
    body = (
        f"<h1>{esc(topic.name)}</h1>\n"
        f"<p>{count} summar{'y' if count == 1 else 'ies'} on this topic.</p>\n"
        + ("<ul>\n" + "".join(items) + "</ul>\n" if articles else "")
        + (
            _how_to_subscribe(spec, site, f"new summaries on {esc(topic.name)}")
            if spec
            else _how_to_subscribe(everything, site, "every new summary (this topic has none yet)")
        )
        + f'<p><a href="{esc(site.base_url)}">All topics</a></p>\n'
    )
    alternates = [spec, everything] if spec else [everything]
    return _page(f"{topic.name} — {site.title}", site, alternates, body, topic_page_url(topic.slug, site))


def article_page(
    article: Article,
    rendered: ArticleHtml,
    topics: Sequence[Topic],
    everything: FeedSpec,
    site: SiteSettings,
    intro: str = "",
) -> bytes:
    """`intro`: the intro (Markdown) of the article's issue, shown after the article."""
    topic_links = ", ".join(f'<a href="{esc(topic_page_url(t.slug, site))}">{esc(t.name)}</a>' for t in topics)
    kind = f" · <strong>Research type:</strong> {esc(article.research_type)}" if article.research_type else ""
    more = "".join(
        f'<li><a href="{esc(topic_page_url(t.slug, site))}">More on {esc(t.name)}</a> '
        f'<span class="meta">(<a href="{esc(topic_feed(t).url("rss", site))}" type="{MEDIA_TYPES["rss"]}">'
        "feed</a>)</span></li>\n"
        for t in topics
    )
    body = (
        f"<article>\n<h1>{esc(article.title)}</h1>\n"
        + rendered.citation_html()
        + f'<p class="meta">{month_title(article.month)} issue{kind} · {topic_links}</p>\n'
        + rendered.summary_html
        + f"<h2>{IMPLICATIONS_TITLE}</h2>\n"
        + rendered.implications_html
        + "</article>\n"
        + (
            f'<aside class="intro-aside">\n<h2>From the {month_title(article.month)} issue</h2>\n'
            + _intro(intro, site)
            + "</aside>\n"
            if intro.strip()
            else ""
        )
        + (f'<nav class="more">\n<h2>More like this</h2>\n<ul>\n{more}</ul>\n</nav>\n' if more else "")
    )
    return _page(f"{article.title} — {site.title}", site, [everything], body, article_url(article, site))
