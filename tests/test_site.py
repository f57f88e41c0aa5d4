"""The HTML front door: autodiscovery, subscribe links, counts, escaping, links that resolve."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import CONTENT
from feedkit import NOW, SITE, build, load, make_tricky_archive
from pprfeed.links import article_url
from test_feeds import entries, feed_files


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def alternates(self) -> dict[str, str]:
        """type -> href of every autodiscovery link, last one wins."""
        return {a["href"]: a["type"] for t, a in self.tags if t == "link" and a.get("rel") == "alternate"}

    def links(self) -> list[str]:
        return [a["href"] for t, a in self.tags if t == "a"]


def read_page(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


@pytest.fixture(scope="module")
def site_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site")
    build(make_tricky_archive(root / "content"), root / "feeds")
    return root / "feeds"


def test_index_has_autodiscovery_subscribe_links_and_topic_counts(site_out: Path) -> None:
    page = read_page(site_out / "index.html")
    assert page.alternates() == {
        SITE.base_url + "rss.xml": "application/rss+xml",
        SITE.base_url + "atom.xml": "application/atom+xml",
        SITE.base_url + "feed.json": "application/feed+json",
    }
    links = page.links()
    for name in ("rss.xml", "atom.xml", "feed.json", "index.opml", "topics/empathy.rss.xml"):
        assert SITE.base_url + name in links
    html = (site_out / "index.html").read_text()
    assert re.search(r"Alliance and Therapeutic Relationship</a></td><td>4</td>", html)
    assert re.search(r"<td>Adherence</td><td>0</td>", html)
    assert "<script" not in html.lower()


def test_topic_page_discovers_its_own_feeds(site_out: Path) -> None:
    page = read_page(site_out / "topics" / "empathy.html")
    assert SITE.base_url + "topics/empathy.atom.xml" in page.alternates()
    assert SITE.base_url + "topics/empathy.rss.xml" in page.links()
    assert "2 summaries on this topic." in "".join(page.text)
    empty = read_page(site_out / "topics" / "adherence.html")
    assert "0 summaries" in "".join(empty.text) and SITE.base_url + "rss.xml" in empty.alternates()


def test_every_value_is_escaped(site_out: Path) -> None:
    html = (site_out / "articles" / "2020-01-b-alliance-second.html").read_text()
    assert "Alliance &lt;second&gt;" in html and "<second>" not in html
    nasty = (site_out / "articles" / "2020-01-a-alliance-first.html").read_text()
    assert "<script" not in nasty.lower() and "<iframe" not in nasty.lower() and "&lt;script&gt;" in nasty


def test_every_entry_link_resolves_to_a_page_or_the_blog(site_out: Path) -> None:
    for path in feed_files(site_out):
        for entry in entries(path):
            if entry.link.startswith(SITE.base_url):
                assert (site_out / entry.link.removeprefix(SITE.base_url)).is_file(), entry.link
            else:
                assert entry.link == "https://www.pprnet.ca/2020/02/on-the-blog/"


def test_article_pages_live_where_links_article_url_points(tmp_path: Path) -> None:
    out = tmp_path / "feeds"
    build(CONTENT, out)
    archive = load(CONTENT).published(NOW.date())
    for article in archive.articles:
        url = article_url(article, SITE)
        if url.startswith(SITE.base_url):
            page = read_page(out / url.removeprefix(SITE.base_url))
            assert article.title in "".join(page.text)
            assert any(t == "link" and a.get("rel") == "canonical" and a["href"] == url for t, a in page.tags)


def test_every_link_on_every_page_is_absolute(site_out: Path) -> None:
    for path in site_out.rglob("*.html"):
        page = read_page(path)
        hrefs = page.links() + [a["href"] for t, a in page.tags if t == "link"]
        for href in hrefs:
            assert re.match(r"(https?://|mailto:)", href), (path, href)
