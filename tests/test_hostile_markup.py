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
from datetime import datetime, timezone
from functools import cache
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
NOW = datetime(2030, 1, 1, tzinfo=timezone.utc)
MONTH = "2020-01"


def site_for(bypass: str) -> SiteSettings:
    return SiteSettings(
        title=f"Site {bypass}", description=f"Described {bypass}", base_url="https://feeds.example.org/pprnet/"
    )


@cache
def loaded(bypass: str, folder: Path) -> Archive:
    content = empty_content(folder / "content")
    issue = content / "issues" / MONTH
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
    archive, diagnostics = load_archive(content)
    assert archive is not None, diagnostics
    return archive


@cache
def built(bypass: str, folder: Path) -> dict[str, str]:
    out = folder / "feeds"
    build_site(loaded(bypass, folder), site_for(bypass), out, NOW)
    return {str(path.relative_to(out)): path.read_text(encoding="utf-8") for path in out.rglob("*") if path.is_file()}


@pytest.fixture(params=BYPASSES, ids=range(len(BYPASSES)))
def bypass(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def folder(bypass: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _folder(bypass, tmp_path_factory)


_folders: dict[str, Path] = {}


def _folder(bypass: str, factory: pytest.TempPathFactory) -> Path:
    """One folder per bypass, so each archive is written and built once for all the outputs."""
    if bypass not in _folders:
        _folders[bypass] = factory.mktemp("bypass")
    return _folders[bypass]


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


def test_every_field_reaches_the_outputs(bypass: str, folder: Path) -> None:
    """The check below is only worth something if the fields are really there."""
    feed = json.loads(built(bypass, folder)["feed.json"])
    assert feed["title"].startswith("Site") and feed["items"][0]["title"].startswith("Title")


def test_rss(bypass: str, folder: Path) -> None:
    assert xml_problems(built(bypass, folder)["rss.xml"], {"encoded"}) == []


def test_atom(bypass: str, folder: Path) -> None:
    assert xml_problems(built(bypass, folder)["atom.xml"], {"content"}) == []


def test_topic_feeds(bypass: str, folder: Path) -> None:
    files = built(bypass, folder)
    rss, atom = (
        files["topics/alliance-and-therapeutic-relationship.rss.xml"],
        files["topics/alliance-and-therapeutic-relationship.atom.xml"],
    )
    assert xml_problems(rss, {"encoded"}) + xml_problems(atom, {"content"}) == []


def test_json_feed(bypass: str, folder: Path) -> None:
    feed = json.loads(built(bypass, folder)["feed.json"])
    problems = [
        problem
        for key, text in strings(feed)
        for problem in (markup_problems(text) if key == "content_html" else plain_problems(text))
    ]
    assert problems == []


def test_opml(bypass: str, folder: Path) -> None:
    (opml,) = [text for name, text in built(bypass, folder).items() if name.endswith(".opml")]
    assert xml_problems(opml, set()) == []


def test_html_pages(bypass: str, folder: Path) -> None:
    pages = {name: text for name, text in built(bypass, folder).items() if name.endswith(".html")}
    assert pages and {name: markup_problems(text) for name, text in pages.items() if markup_problems(text)} == {}


def chat_inputs(bypass: str, folder: Path) -> tuple[Archive, dict[str, str], SiteSettings]:
    archive = loaded(bypass, folder)
    return archive, {topic.slug: topic.name for topic in archive.topics}, site_for(bypass)


def test_slack_posts(bypass: str, folder: Path) -> None:
    archive, names, site = chat_inputs(bypass, folder)
    issue = archive.issues[0]
    messages = slack.issue_messages(issue, issue.articles, names, site)
    assert [chat_problems(message, SLACK_LINK, True) for message in messages] == [[]] * len(messages)


def test_discord_posts(bypass: str, folder: Path) -> None:
    archive, names, site = chat_inputs(bypass, folder)
    issue = archive.issues[0]
    messages = discord.issue_messages(issue, issue.articles, names, site)
    assert [chat_problems(message, DISCORD_LINK, False) for message in messages] == [[]] * len(messages)


def bot_answers(bypass: str, folder: Path) -> tuple[Any, Any]:
    archive, names, site = chat_inputs(bypass, folder)
    engine = QueryEngine(archive)
    context = ResultContext(site, "/ppr-topic", names, engine.topic_list())
    result = engine.find("alliance")
    return slack.answer(result, 1, context), discord.answer(result, 1, context)


def test_slack_bot_answer(bypass: str, folder: Path) -> None:
    assert chat_problems(bot_answers(bypass, folder)[0], SLACK_LINK, True) == []


def test_discord_bot_answer(bypass: str, folder: Path) -> None:
    answer = bot_answers(bypass, folder)[1]
    assert chat_problems(answer.embed, DISCORD_LINK, False) == []


def test_topic_command_prints_no_control_characters(
    bypass: str, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    loaded(bypass, folder)
    assert main(["topic", "alliance", "--content", str(folder / "content")]) == 0
    out = capsys.readouterr().out
    assert "Title" in out and re.findall(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", out) == []
