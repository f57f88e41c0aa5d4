"""The HTML front door: autodiscovery, subscribe links, counts, escaping, links that resolve."""

from __future__ import annotations

import dataclasses
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import CONTENT, write_article
from feedkit import NOW, SITE, build, load, make_tricky_archive, snapshot
from pprfeed.cli import main
from pprfeed.links import article_url, topic_page_url
from pprfeed.site.pages import gist
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
    content = make_tricky_archive(root / "content")
    add_intro_and_research_type(content)
    build(content, root / "feeds")
    return root / "feeds"


ALLIANCE = "alliance-and-therapeutic-relationship"
IMPLICATIONS = (
    "Clinicians should ask about the alliance early, e.g. in session 2, and keep asking when progress stalls. "
    "Later sessions matter less."
)
INTRO = 'March: <script>alert("intro")</script> read *the* [guide](../guide/).'


def add_intro_and_research_type(content: Path) -> None:
    """The newest published issue (2020-03) gets an intro; its article a research type and two sentences."""
    (content / "issues" / "2020-03" / "issue.toml").write_text(
        f"published = 2020-03-05\nintro = {json.dumps(INTRO)}\n",
        encoding="utf-8",
    )
    write_article(
        content,
        "2020-03",
        "march-news",
        title="March news",
        topics=["alliance"],
        implications=IMPLICATIONS,
        extra='research_type = "randomized controlled trial"\n',
    )


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
    assert re.search(r"Adherence</a></td><td>0</td>", html)
    assert "<script" not in html.lower()


def test_topic_page_discovers_its_own_feeds(site_out: Path) -> None:
    page = read_page(site_out / "topics" / "empathy.html")
    assert SITE.base_url + "topics/empathy.atom.xml" in page.alternates()
    assert SITE.base_url + "topics/empathy.rss.xml" in page.links()
    assert "2 summaries on this topic." in "".join(page.text)
    empty = read_page(site_out / "topics" / "adherence.html")
    assert "0 summaries" in "".join(empty.text)
    assert SITE.base_url + "topics/adherence.rss.xml" in empty.alternates()


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


def test_index_leads_with_the_newest_issue_its_intro_and_articles(site_out: Path) -> None:
    html = (site_out / "index.html").read_text(encoding="utf-8")
    march = SITE.base_url + "articles/2020-03-march-news.html"
    order = [
        "<h2>Latest issue: March 2020</h2>",
        "March: &lt;script&gt;alert(&quot;intro&quot;)&lt;/script&gt; read <em>the</em> "
        '<a href="https://feeds.example.org/guide/">guide</a>.',
        f'<h3><a href="{march}">March news</a></h3>',
        "Tester, A. B., &amp; Other, C. D. (2020). march-news. Journal, 1(1), 1-10.",
        f'<a href="{topic_page_url(ALLIANCE, SITE)}">Alliance and Therapeutic Relationship</a> '
        "· randomized controlled trial",
        "<strong>Practice Implications:</strong> " + IMPLICATIONS.split(" Later")[0] + " <a",
        "<h2>How to subscribe</h2>",
        "<h2>Earlier issues</h2>",
        "<h3>February 2020</h3>",
        "<h3>January 2020</h3>",
        "<h2>Topics</h2>",
    ]
    positions = [html.find(part) for part in order]
    assert -1 not in positions, [part for part, at in zip(order, positions, strict=True) if at < 0]
    assert positions == sorted(positions)
    assert "Later sessions matter less" not in html  # the gist is the first sentence, the page has the rest
    assert "<script" not in html.lower() and "Draft article" not in html and "Future article" not in html
    article = (site_out / "articles" / "2020-03-march-news.html").read_text(encoding="utf-8")
    assert "<h2>From the March 2020 issue</h2>" in article and "read <em>the</em>" in article
    assert "From the" not in (site_out / "articles" / "2020-02-corrected.html").read_text(encoding="utf-8")


def test_gist_is_the_first_sentence_or_two_short_ones() -> None:
    assert gist(
        "First sentence is long enough to stand on its own, with p < .05 and all the rest of that. Second one."
    ) == ("First sentence is long enough to stand on its own, with p < .05 and all the rest of that.")
    assert gist("Short one. Then another sentence. And a third.") == "Short one. Then another sentence."
    assert gist("*Emphasis* and a [link](https://example.org/).\n\nNext paragraph.") == "Emphasis and a link."
    assert len(gist("word " * 200)) <= 280


def test_topics_with_articles_come_first_and_empty_ones_are_collapsed(site_out: Path) -> None:
    html = (site_out / "index.html").read_text(encoding="utf-8")
    archive = load(CONTENT)  # the same 36-topic vocabulary as the tricky archive
    table, _, rest = html.partition('<details class="empty">')
    listed = re.findall(r'<tr><td><a href="[^"]+">([^<]+)</a></td><td>(\d+)</td>', table)
    assert ("Alliance and Therapeutic Relationship", "4") in listed and all(n != "0" for _, n in listed)
    empty = re.findall(r'<tr><td><a href="[^"]+">([^<]+)</a></td><td>0</td>', rest)
    assert len(listed) + len(empty) == len(archive.topics)
    assert f"<summary>{len(empty)} more topics with no summaries yet (subscribe to hear of the first)</summary>" in rest
    assert f'href="{SITE.base_url}topics/adherence.rss.xml"' in rest
    assert "Adherence" in empty and "<td>0</td>" not in table
    assert table.count("<summary>Subscribe</summary>") == len(listed)


def test_subscribe_help_in_plain_words_with_the_address_as_text(site_out: Path) -> None:
    pages = {
        "index.html": SITE.base_url + "rss.xml",
        "topics/empathy.html": SITE.base_url + "topics/empathy.rss.xml",
        "topics/adherence.html": SITE.base_url + "topics/adherence.rss.xml",  # no articles yet, a feed all the same
    }
    for name, address in pages.items():
        html = (site_out / name).read_text(encoding="utf-8")
        assert "<h2>How to subscribe</h2>" in html and "paste this address into your feed reader" in html, name
        assert f'<code class="address">{address}</code>' in html, name
        assert "ATOM" not in html and ">Atom" in html, name
        assert (site_out / address.removeprefix(SITE.base_url)).is_file()
    index = (site_out / "index.html").read_text(encoding="utf-8")
    assert f'<code class="address">{SITE.base_url}topics/empathy.rss.xml</code>' in index


def test_article_page_citation_research_type_and_more_on_each_topic(site_out: Path) -> None:
    html = (site_out / "articles" / "2020-03-march-news.html").read_text(encoding="utf-8")
    assert re.search(r"<h1>March news</h1>\n<p><strong>Citation:</strong> Tester", html)
    assert "<strong>Research type:</strong> randomized controlled trial" in html
    page = read_page(site_out / "articles" / "2020-01-b-alliance-second.html")
    text = "".join(page.text)
    assert "Research type" not in text
    for slug, name in (
        ("alliance-and-therapeutic-relationship", "Alliance and Therapeutic Relationship"),
        ("empathy", "Empathy"),
    ):
        assert f"More on {name}" in text
        assert topic_page_url(slug, SITE) in page.links()
        feed = f"{SITE.base_url}topics/{slug}.rss.xml"
        assert feed in page.links() and (site_out / feed.removeprefix(SITE.base_url)).is_file()


def test_responsive_css_stacks_tables_on_narrow_screens(site_out: Path) -> None:
    for name in ("index.html", "topics/empathy.html", "articles/2020-03-march-news.html"):
        html = (site_out / name).read_text(encoding="utf-8")
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
        assert "table{border-collapse:collapse;width:100%}" in html
        assert re.search(r"@media \(max-width:600px\)\{[^<]*table,tbody,tr,td,th\{display:block", html)
        assert "overflow-wrap:anywhere" in html  # long feed addresses wrap instead of widening the page


def test_an_edited_intro_rewrites_the_index_and_its_issue_pages(tmp_path: Path) -> None:
    content = make_tricky_archive(tmp_path / "content")
    add_intro_and_research_type(content)
    out = tmp_path / "feeds"
    build(content, out)
    (content / "issues" / "2020-03" / "issue.toml").write_text(
        'published = 2020-03-05\nintro = "A new intro."\n', encoding="utf-8"
    )
    result = build(content, out)
    assert result.written.written == 2  # index.html and the one article page of that issue
    assert "A new intro." in (out / "index.html").read_text(encoding="utf-8")
    assert "A new intro." in (out / "articles" / "2020-03-march-news.html").read_text(encoding="utf-8")
    build(content, tmp_path / "cold")
    assert snapshot(out) == snapshot(tmp_path / "cold")


# --- templates a site owner overrides -----------------------------------------------------------


def test_a_templates_folder_overrides_the_packaged_files_of_the_same_name(tmp_path: Path) -> None:
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "style.css").write_text("body{font-family:Georgia,serif}\n", encoding="utf-8")
    config = tmp_path / "pprfeed.toml"
    config.write_text('[site]\ntemplates = "theme"\n', encoding="utf-8")  # relative to the settings file
    out = tmp_path / "feeds"
    assert main(["build", "--content", str(CONTENT), "--out", str(out), "--config", str(config)]) == 0
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "<style>\nbody{font-family:Georgia,serif}\n</style>" in html
    assert "<h2>How to subscribe</h2>" in html  # every other template is still the packaged one


def test_template_values_are_escaped_by_default(tmp_path: Path) -> None:
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "topic.html").write_text(
        '{% extends "base.html" %}{% block main %}<h1>{{ topic.name }}</h1>{% endblock %}', encoding="utf-8"
    )
    content = make_tricky_archive(tmp_path / "content")
    topics = content / "topics.toml"
    topics.write_text(topics.read_text().replace('name = "Empathy"', 'name = "Empathy <b>&</b>"'), encoding="utf-8")
    build(content, tmp_path / "feeds", dataclasses.replace(SITE, templates=str(theme)))
    page = (tmp_path / "feeds" / "topics" / "empathy.html").read_text(encoding="utf-8")
    assert "<h1>Empathy &lt;b&gt;&amp;&lt;/b&gt;</h1>" in page


def test_a_broken_template_fails_the_build_naming_its_file_and_line(tmp_path: Path, capsys) -> None:
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "article.html").write_text('{% extends "base.html" %}\n{% block main %}\n{{ article.title \n', "utf-8")
    config = tmp_path / "pprfeed.toml"
    config.write_text('[site]\ntemplates = "theme"\n', encoding="utf-8")
    out = tmp_path / "feeds"
    assert main(["build", "--content", str(CONTENT), "--out", str(out), "--config", str(config)]) == 1
    said = capsys.readouterr().err
    assert f"{theme / 'article.html'}:3:" in said
    assert "was not changed" in said
    assert not out.exists()


def test_a_missing_templates_folder_is_a_settings_problem(tmp_path: Path, capsys) -> None:
    config = tmp_path / "pprfeed.toml"
    config.write_text('[site]\ntemplates = "no-such-theme"\n', encoding="utf-8")
    assert main(["build", "--content", str(CONTENT), "--out", str(tmp_path / "feeds"), "--config", str(config)]) == 1
    said = capsys.readouterr().err
    assert f"{config}:2:" in said
    assert "no-such-theme" in said


def test_a_misspelt_name_in_a_template_fails_the_build_naming_its_file_and_line(tmp_path: Path, capsys) -> None:
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "article.html").write_text(
        '{% extends "base.html" %}\n{% block main %}\n{{ article.titel }}\n{% endblock %}\n', encoding="utf-8"
    )
    config = tmp_path / "pprfeed.toml"
    config.write_text('[site]\ntemplates = "theme"\n', encoding="utf-8")
    assert main(["build", "--content", str(CONTENT), "--out", str(tmp_path / "feeds"), "--config", str(config)]) == 1
    said = capsys.readouterr().err
    assert f"{theme / 'article.html'}:3:" in said
    assert "titel" in said


INVITE = "https://discord.com/oauth2/authorize?client_id=123456789012345678&scope=bot+applications.commands&permissions=84992"


def test_the_front_door_offers_the_discord_bot_when_its_invite_is_set(tmp_path: Path) -> None:
    build(CONTENT, tmp_path / "feeds", dataclasses.replace(SITE, discord_invite=INVITE))
    index = (tmp_path / "feeds" / "index.html").read_text(encoding="utf-8")
    assert f'<a href="{INVITE.replace("&", "&amp;")}">add the PPRNet bot to your server</a>' in index


def test_without_an_invite_the_front_door_names_no_discord_bot(tmp_path: Path) -> None:
    build(CONTENT, tmp_path / "feeds")
    assert "add the PPRNet bot" not in (tmp_path / "feeds" / "index.html").read_text(encoding="utf-8")


def test_a_discord_invite_that_is_no_invite_link_is_a_settings_problem(tmp_path: Path, capsys) -> None:
    config = tmp_path / "pprfeed.toml"
    config.write_text('[site]\ndiscord_invite = "https://example.org/join"\n', encoding="utf-8")
    assert main(["build", "--content", str(CONTENT), "--out", str(tmp_path / "feeds"), "--config", str(config)]) == 1
    said = capsys.readouterr().err
    assert f"{config}:2: discord_invite is not a Discord invite link" in said
