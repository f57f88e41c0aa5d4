"""Known markup-injection bypasses, in every field an editor writes, never reach a reader as markup.

Each bypass is written into the title, citation, summary, practice implications, issue intro and the
site's title and description; the archive is loaded from disk and every output is parsed: RSS, Atom,
JSON Feed, OPML, the HTML pages, the Slack and Discord posts and bot answers, and `pprfeed topic`.

Fields that hold HTML (RSS content:encoded, Atom content, JSON content_html, the pages) are parsed once,
as a reader does. Fields that are plain text are parsed as HTML too, since readers are known to render
them so, and once more after decoding their entities, for readers that decode twice.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from conftest import empty_content
from pprfeed.archive.load import load_archive
from pprfeed.archive.search import QueryEngine
from pprfeed.chat import discord, slack
from pprfeed.chat.answers import ResultContext
from pprfeed.cli import main
from pprfeed.config import SiteSettings
from pprfeed.diagnostics import toml_value
from pprfeed.model import Archive
from pprfeed.site.build import build_site

BYPASSES = [
    '<script>alert("x")</script>',
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>script>alert(1)<</script>/script>",
    "<svg onload=alert(1)>",
    "<svg/onload=alert(1)>",
    "<img src=x onerror=alert(1)>",
    "<body onload=alert(1)>",
    '<a href="javascript:alert(1)">link</a>',
    '<a href="jav&#x09;ascript:alert(1)">link</a>',
    '<iframe src="javascript:alert(1)"></iframe>',
    "[link](javascript:alert(1))",
    "[link](JaVaScRiPt:alert(1))",
    "[link](<javascript:alert(1)>)",
    "<javascript:alert(1)>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "<script src=https://evil.example/x.js",
    "<!--<script>-->alert(1)",
    "<!-- --><script>alert(1)</script>",
    "\\<script>alert(1)\\</script>",
    "`<script>alert(1)</script>`",
]
NOW = datetime(2030, 1, 1, tzinfo=UTC)
SITE = SiteSettings(
    title="Site " + " ".join(BYPASSES),
    description="Described " + " ".join(BYPASSES),
    base_url="https://feeds.example.org/pprnet/",
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One issue per bypass (its own month, so the intro is its own too), with the bypass in every field."""
    content = empty_content(tmp_path_factory.mktemp("bypasses") / "content")
    for number, bypass in enumerate(BYPASSES):
        issue = content / "issues" / f"{2001 + number}-01"
        issue.mkdir(parents=True)
        (issue / "issue.toml").write_text(f"intro = {toml_value(f'Intro {bypass}')}\n", encoding="utf-8")
        (issue / "article.md").write_text(
            "+++\n"
            f"title = {toml_value(f'Title {bypass}')}\n"
            'topics = ["alliance"]\n'
            f"citation = {toml_value(f'Citation {bypass}.')}\n"
            'doi = "10.1037/pst0000172"\n'
            "+++\n"
            f"Summary {bypass} words.\n\n## Practice Implications\n\nImplications {bypass}.\n",
            encoding="utf-8",
        )
    return content.parent


@pytest.fixture(scope="module")
def archive(folder: Path) -> Archive:
    loaded, diagnostics = load_archive(folder / "content")
    assert loaded is not None, diagnostics
    return loaded


@pytest.fixture(scope="module")
def built(archive: Archive, folder: Path) -> dict[str, str]:
    out = folder / "feeds"
    build_site(archive, SITE, out, NOW)
    return {str(path.relative_to(out)): path.read_text(encoding="utf-8") for path in out.rglob("*") if path.is_file()}


@pytest.fixture(scope="module")
def names(archive: Archive) -> dict[str, str]:
    return {topic.slug: topic.name for topic in archive.topics}


# --- what counts as markup reaching a reader ---------------------------------------------------

_UNSAFE_SCHEMES = ("javascript:", "vbscript:", "data:")


def _unsafe_url(value: str) -> bool:
    squeezed = re.sub(r"[\x00-\x20]", "", html.unescape(value)).lower()
    return squeezed.startswith(_UNSAFE_SCHEMES)


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "svg", "object", "embed"):
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            elif value and _unsafe_url(value):
                self.problems.append(f"<{tag} {name}={value}>")


def markup_problems(value: str) -> list[str]:
    """What in `value`, read as HTML, would run: script-like tags, event handlers, javascript: URLs."""
    parser = _Markup()
    parser.feed(value)
    parser.close()
    return parser.problems


def plain_problems(value: str) -> list[str]:
    """markup_problems of a plain-text field, read as HTML and read again after decoding its entities."""
    return markup_problems(value) + markup_problems(html.unescape(value))


def xml_problems(document: str, html_fields: set[str]) -> list[str]:
    """Every text and attribute of a feed: the `html_fields` elements read as HTML, the rest as plain text."""
    problems: list[str] = []
    for element in ElementTree.fromstring(document.encode("utf-8")).iter():
        name = element.tag.rsplit("}", 1)[-1]
        if element.text:
            problems += markup_problems(element.text) if name in html_fields else plain_problems(element.text)
        for attribute, value in element.attrib.items():
            if attribute in ("href", "url", "xmlUrl", "htmlUrl", "atomUrl", "jsonUrl") and _unsafe_url(value):
                problems.append(f"{name} {attribute}={value}")
            problems += plain_problems(value)
    return problems


def strings(value: Any, key: str = "") -> list[tuple[str, str]]:
    """(key, string) for every string in a JSON value."""
    if isinstance(value, str):
        return [(key, value)]
    if isinstance(value, dict):
        return [pair for name, item in value.items() for pair in strings(item, name)]
    if isinstance(value, list):
        return [pair for item in value for pair in strings(item, key)]
    return []


def chat_problems(message: Any, link: re.Pattern[str], angle_brackets_are_markup: bool) -> list[str]:
    """Links in a chat message (mrkdwn `<url|label>` or Markdown `[label](url)`, and url fields) that are not
    http(s) or mailto, and, where `<…>` is markup (Slack), a `<script`. Discord shows `<script>` as the text."""
    problems = []
    for key, text in strings(message):
        if key.endswith("url") and not text.startswith(("https://", "http://")):
            problems.append(f"{key}={text}")
        targets = [next(group for group in match.groups() if group is not None) for match in link.finditer(text)]
        problems += [f"link {target}" for target in targets if _unsafe_url(target)]
        if angle_brackets_are_markup and "<script" in text.lower():
            problems.append(f"{key} has <script")
    return problems


SLACK_LINK = re.compile(r"<([^<>|]*)(?:\|[^<>]*)?>")
DISCORD_LINK = re.compile(r"(?<!\\)\]\(<?([^()<>\s]*)>?\)|(?<!\\)<([a-z]+:[^<>\s]*)>", re.I)


# --- the outputs ---------------------------------------------------------------------------------

TOPIC = "topics/alliance-and-therapeutic-relationship"


def test_every_bypass_reaches_the_feeds(built: dict[str, str]) -> None:
    """The checks below are only worth something if the fields are really there."""
    feed = json.loads(built["feed.json"])
    assert len(feed["items"]) == len(BYPASSES) and all(item["title"].startswith("Title") for item in feed["items"])


def test_rss(built: dict[str, str]) -> None:
    assert xml_problems(built["rss.xml"], {"encoded"}) == []


def test_atom(built: dict[str, str]) -> None:
    assert xml_problems(built["atom.xml"], {"content"}) == []


def test_topic_rss(built: dict[str, str]) -> None:
    assert xml_problems(built[f"{TOPIC}.rss.xml"], {"encoded"}) == []


def test_topic_atom(built: dict[str, str]) -> None:
    assert xml_problems(built[f"{TOPIC}.atom.xml"], {"content"}) == []


@pytest.mark.parametrize("name", ["feed.json", f"{TOPIC}.json"])
def test_json_feed(built: dict[str, str], name: str) -> None:
    feed = json.loads(built[name])
    problems = [
        problem
        for key, text in strings(feed)
        for problem in (markup_problems(text) if key == "content_html" else plain_problems(text))
    ]
    assert problems == []


def test_opml(built: dict[str, str]) -> None:
    (opml,) = [text for name, text in built.items() if name.endswith(".opml")]
    assert xml_problems(opml, set()) == []


def test_html_pages(built: dict[str, str]) -> None:
    pages = {name: text for name, text in built.items() if name.endswith(".html")}
    assert len(pages) > len(BYPASSES)  # the index, the topic page and every article's page
    assert {name: found for name, text in pages.items() if (found := markup_problems(text))} == {}


def test_slack_posts(archive: Archive, names: dict[str, str]) -> None:
    messages = [m for issue in archive.issues for m in slack.issue_messages(issue, issue.articles, names, SITE)]
    assert [problem for message in messages for problem in chat_problems(message, SLACK_LINK, True)] == []


def test_discord_posts(archive: Archive, names: dict[str, str]) -> None:
    messages = [m for issue in archive.issues for m in discord.issue_messages(issue, issue.articles, names, SITE)]
    assert [problem for message in messages for problem in chat_problems(message, DISCORD_LINK, False)] == []


def bot_context(archive: Archive, names: dict[str, str]) -> tuple[QueryEngine, ResultContext]:
    engine = QueryEngine(archive)
    return engine, ResultContext(SITE, "/ppr-topic", names, engine.topic_list())


def test_slack_bot_answers(archive: Archive, names: dict[str, str]) -> None:
    engine, context = bot_context(archive, names)
    result = engine.find("alliance")
    pages = range(1, len(BYPASSES) + 1)
    assert [p for page in pages for p in chat_problems(slack.answer(result, page, context), SLACK_LINK, True)] == []


def test_discord_bot_answers(archive: Archive, names: dict[str, str]) -> None:
    engine, context = bot_context(archive, names)
    result = engine.find("alliance")
    embeds = [discord.answer(result, page, context).embed for page in range(1, len(BYPASSES) + 1)]
    assert [problem for embed in embeds for problem in chat_problems(embed, DISCORD_LINK, False)] == []


def test_topic_command_prints_no_control_characters(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["topic", "alliance", "--content", str(folder / "content"), "--limit", "100"]) == 0
    out = capsys.readouterr().out
    assert out.count("Title") == len(BYPASSES) and re.findall(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", out) == []
