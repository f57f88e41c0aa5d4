"""Every "valid everywhere" rule of the feeds issue, checked on the built files."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from xml.etree import ElementTree

import feedparser
import pytest

from conftest import CONTENT, write_article
from feedkit import NOW, SITE, build, load, make_tricky_archive, snapshot
from pprfeed.site.feeds import ENTRY_ID_PREFIX
from pprfeed.site.html import ALLOWED_TAGS
from test_safe_html import collect

ATOM = "{http://www.w3.org/2005/Atom}"
RSS_DATE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}:\d{2} [+-]\d{4}$"
)
VERSIONS = {".rss.xml": "rss20", ".atom.xml": "atom10", ".json": "json11"}


def version_of(path: Path) -> str:
    name = path.name
    if name in ("rss.xml", "atom.xml", "feed.json"):
        return {"rss.xml": "rss20", "atom.xml": "atom10", "feed.json": "json11"}[name]
    return next(version for suffix, version in VERSIONS.items() if name.endswith(suffix))


def parse(path: Path, **options: object) -> feedparser.FeedParserDict:
    """feedparser for RSS and Atom; JSON Feed (which feedparser 6.0 cannot read) checked against its spec."""
    if path.suffix == ".json":
        return parse_json_feed(path)
    return feedparser.parse(path.read_bytes(), **options)


RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def parse_json_feed(path: Path) -> feedparser.FeedParserDict:
    """Every MUST of https://jsonfeed.org/version/1.1 that applies, then the entries in feedparser's shape."""
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(document["title"], str) and document["title"]
    assert document["feed_url"].startswith("http") and document["home_page_url"].startswith("http")
    assert all(isinstance(a, dict) and a.get("name") for a in document.get("authors", []))
    assert isinstance(document["items"], list)
    result = feedparser.FeedParserDict(bozo=0, version="json11", feed=feedparser.FeedParserDict(), entries=[])
    ids = set()
    for item in document["items"]:
        assert isinstance(item["id"], str) and item["id"] not in ids
        ids.add(item["id"])
        assert isinstance(item.get("content_html"), str) or isinstance(item.get("content_text"), str)
        assert RFC3339.match(item["date_published"]) and RFC3339.match(item["date_modified"])
        assert isinstance(item.get("tags", []), list)
        entry = feedparser.FeedParserDict(
            id=item["id"],
            link=item["url"],
            title=item["title"],
            summary=item.get("summary", ""),
            content=[feedparser.FeedParserDict(value=item["content_html"])],
            published=item["date_published"],
            updated=item["date_modified"],
            published_parsed=datetime.fromisoformat(item["date_published"].replace("Z", "+00:00")).timetuple(),
            updated_parsed=datetime.fromisoformat(item["date_modified"].replace("Z", "+00:00")).timetuple(),
        )
        result["entries"].append(entry)
    return result


def feed_files(out: Path) -> list[Path]:
    top = [out / "rss.xml", out / "atom.xml", out / "feed.json"]
    topics = sorted(p for p in (out / "topics").iterdir() if not p.name.endswith(".html"))
    return [p for p in top if p.exists()] + topics


@pytest.fixture(scope="module")
def tricky(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tricky")
    content = make_tricky_archive(root / "content")
    build(content, root / "feeds")
    return root / "feeds"


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("real") / "feeds"
    build(CONTENT, out)
    return out


@pytest.fixture(params=["tricky", "real"])
def out(request: pytest.FixtureRequest) -> Path:
    return request.getfixturevalue(request.param)


def public_url(out: Path, path: Path) -> str:
    return SITE.base_url + path.relative_to(out).as_posix()


# --- every file parses ----------------------------------------------------------------------------


def test_every_feed_parses_cleanly_with_the_expected_version(out: Path) -> None:
    files = feed_files(out)
    assert len(files) >= 6
    for path in files:
        parsed = parse(path)
        assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
        assert parsed.version == version_of(path), path


def test_the_feed_of_everything_has_entries(out: Path) -> None:
    for name in ("rss.xml", "atom.xml", "feed.json"):
        assert parse(out / name).entries, name


def test_opml_lists_exactly_the_feed_files_that_exist(out: Path) -> None:
    root = ElementTree.parse(out / "index.opml").getroot()
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title")
    outlines = root.findall("body/outline")
    listed = [o.get("xmlUrl") for o in outlines]
    existing = [public_url(out, p) for p in feed_files(out) if p.name.endswith("rss.xml")]
    assert sorted(listed) == sorted(existing)
    for outline in outlines:
        assert outline.get("type") == "rss" and outline.get("text")
        assert (out / outline.get("htmlUrl", "").removeprefix(SITE.base_url)).is_file() or outline.get(
            "htmlUrl"
        ) == SITE.base_url


def test_every_topic_has_a_feed_in_every_format_articles_or_not(tricky: Path) -> None:
    topics = load(tricky.parent / "content").topics
    for topic in topics:
        for suffix in ("rss.xml", "atom.xml", "json"):
            assert (tricky / "topics" / f"{topic.slug}.{suffix}").is_file(), (topic.slug, suffix)


def test_a_topic_without_articles_has_a_valid_feed_with_no_entries(tricky: Path) -> None:
    for suffix, version in (("rss.xml", "rss20"), ("atom.xml", "atom10"), ("json", "json11")):
        parsed = parse(tricky / "topics" / f"attachment.{suffix}")
        assert (parsed.bozo, parsed.version, parsed.entries) == (0, version, []), suffix


# --- W3C feed-validator rules -------------------------------------------------------------------


def atom_files(out: Path) -> list[Path]:
    return [p for p in feed_files(out) if p.name.endswith("atom.xml")]


def rss_files(out: Path) -> list[Path]:
    return [p for p in feed_files(out) if p.name.endswith("rss.xml")]


def test_atom_feed_has_one_id_title_updated_an_author_and_its_own_url_as_self(out: Path) -> None:
    for path in atom_files(out):
        feed = ElementTree.parse(path).getroot()
        for tag in ("id", "title", "updated"):
            assert len(feed.findall(ATOM + tag)) == 1, (path, tag)
        assert feed.findtext(f"{ATOM}author/{ATOM}name")
        selves = [link.get("href") for link in feed.findall(ATOM + "link") if link.get("rel") == "self"]
        assert selves == [public_url(out, path)]


def test_atom_content_is_never_cdata_and_entries_have_at_most_one_alternate_link(out: Path) -> None:
    for path in atom_files(out):
        feed = ElementTree.parse(path).getroot()
        for entry in feed.findall(ATOM + "entry"):
            content = entry.find(ATOM + "content")
            assert content is not None and content.get("type") == "html"
            # a link without rel IS an alternate link (RFC 4287 4.2.7.2): count those too
            alternates = [link for link in entry.findall(ATOM + "link") if link.get("rel", "alternate") == "alternate"]
            assert len(alternates) == 1, path
        assert b'type="CDATA"' not in path.read_bytes()


def test_doi_is_a_related_link_in_atom(tricky: Path) -> None:
    feed = ElementTree.parse(tricky / "atom.xml").getroot()
    related = [link.get("href") for link in feed.iter(ATOM + "link") if link.get("rel") == "related"]
    assert related == ["https://doi.org/10.1037/pst0000172"]


def test_rss_has_a_human_channel_link_a_self_link_and_a_guid_on_every_item(out: Path) -> None:
    for path in rss_files(out):
        channel = ElementTree.parse(path).getroot().find("channel")
        assert channel is not None
        link = channel.findtext("link") or ""
        page = out / (link.removeprefix(SITE.base_url) or "index.html")
        assert link.startswith(SITE.base_url) and page.is_file() and page.suffix == ".html"
        selves = [a.get("href") for a in channel.findall(ATOM + "link") if a.get("rel") == "self"]
        assert selves == [public_url(out, path)]
        for item in channel.findall("item"):
            guid = item.find("guid")
            assert guid is not None and guid.text
            if guid.get("isPermaLink", "true") == "true":
                assert re.match(r"https?://", guid.text)


def test_rss_dates_are_rfc822_in_english(out: Path) -> None:
    for path in rss_files(out):
        channel = ElementTree.parse(path).getroot().find("channel")
        assert channel is not None
        dates = [channel.findtext("lastBuildDate")] + [item.findtext("pubDate") for item in channel.iter("item")]
        for value in dates:
            assert value and RSS_DATE.match(value), value
            parsedate_to_datetime(value)


@pytest.mark.slow
def test_rss_dates_stay_english_under_a_german_locale(tmp_path: Path) -> None:
    """Build in a child process with LC_ALL=de_DE.UTF-8 in force; the bytes must not change."""
    localedef = shutil.which("localedef")
    if localedef is None:
        pytest.skip("localedef not available to make a non-English locale")
    locales = tmp_path / "locales"
    locales.mkdir()
    made = subprocess.run(
        [localedef, "-i", "de_DE", "-f", "UTF-8", str(locales / "de_DE.UTF-8")], capture_output=True, check=False
    )
    if not (locales / "de_DE.UTF-8").exists():
        pytest.skip(f"cannot make de_DE.UTF-8: {made.stderr.decode(errors='replace')[:200]}")
    script = (
        "import locale, sys, datetime\n"
        "locale.setlocale(locale.LC_ALL, '')\n"
        "assert datetime.date(2018, 3, 1).strftime('%b') == 'Mär', 'German locale not in force'\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from feedkit import build\n"
        "from pathlib import Path\n"
        "build(Path(sys.argv[2]), Path(sys.argv[3]))\n"
    )
    env = {**os.environ, "LOCPATH": str(locales), "LC_ALL": "de_DE.UTF-8"}
    tests = Path(__file__).parent
    subprocess.run([sys.executable, "-c", script, str(tests), str(CONTENT), str(tmp_path / "de")], env=env, check=True)
    build(CONTENT, tmp_path / "c")
    assert snapshot(tmp_path / "de") == snapshot(tmp_path / "c")


def xml_text_values(path: Path) -> list[str]:
    root = ElementTree.parse(path).getroot()
    values = []
    for element in root.iter():
        values.extend(v for k, v in element.attrib.items() if k in ("href", "url", "scheme", "domain", "uri"))
        if element.tag in ("link", f"{ATOM}id") and element.text and element.text.strip():
            values.append(element.text.strip())
    return values


def content_htmls(path: Path) -> list[str]:
    if path.suffix == ".json":
        return [item["content_html"] for item in json.loads(path.read_text())["items"]]
    root = ElementTree.parse(path).getroot()
    encoded = "{http://purl.org/rss/1.0/modules/content/}encoded"
    return [e.text or "" for e in root.iter() if e.tag in (encoded, ATOM + "content")]


def test_all_urls_are_absolute_also_inside_content(out: Path) -> None:
    for path in feed_files(out):
        urls = [] if path.suffix == ".json" else xml_text_values(path)
        if path.suffix == ".json":
            document = json.loads(path.read_text())
            urls += [document["home_page_url"], document["feed_url"]]
            urls += [item["url"] for item in document["items"]] + [i.get("external_url", "") for i in document["items"]]
        for html in content_htmls(path):
            urls += collect(html).urls
        assert urls
        for url in filter(None, urls):
            assert re.match(r"(https?://[^/\s]+/|mailto:|tag:)", url), (path, url)


def entries(path: Path) -> list[feedparser.FeedParserDict]:
    return parse(path).entries


def test_no_two_entries_share_updated_and_nothing_is_in_the_future(out: Path) -> None:
    for path in feed_files(out):
        parsed = parse(path)
        keys = ("published_parsed",) if parsed.version == "rss20" else ("updated_parsed", "published_parsed")
        stamps = [e.get(keys[0]) for e in parsed.entries]  # RSS items have only pubDate
        assert all(stamps) and len(set(stamps)) == len(stamps), path
        for entry in parsed.entries:
            for key in keys:
                moment = datetime(*entry[key][:6], tzinfo=UTC)
                assert moment <= NOW, (path, entry.id, key)
        feed_updated = parsed.feed.get("updated_parsed")
        if feed_updated:  # JSON Feed has no feed-level date
            assert datetime(*feed_updated[:6], tzinfo=UTC) <= NOW


def test_feed_updated_is_its_newest_entry_not_the_build_time(out: Path) -> None:
    for path in atom_files(out):
        parsed = parse(path)
        if parsed.entries:
            assert parsed.feed.updated_parsed == max(e.updated_parsed for e in parsed.entries)


def test_drafts_and_future_issues_stay_out(tricky: Path) -> None:
    ids = {e.id for path in feed_files(tricky) for e in entries(path)}
    assert not {i for i in ids if "draft" in i or "future" in i}
    assert not (tricky / "articles" / "2099-01-future-article.html").exists()


def test_newest_first_ties_broken_by_id(tricky: Path) -> None:
    ids = [e.id.removeprefix(ENTRY_ID_PREFIX) for e in entries(tricky / "atom.xml")]
    assert ids == [
        "2020-03-march-news",
        "2020-02-corrected",
        "2020-02-on-the-blog",
        "2020-01-a-alliance-first",
        "2020-01-b-alliance-second",
        "2020-01-c-depression",
    ]
    published = [e.published_parsed for e in entries(tricky / "atom.xml")]
    assert published == sorted(published, reverse=True) and len(set(published)) == len(published)


def test_a_correction_on_a_publication_day_gets_its_own_updated(tricky: Path) -> None:
    by_id = {e.id.removeprefix(ENTRY_ID_PREFIX): e for e in entries(tricky / "atom.xml")}
    corrected, march = by_id["2020-02-corrected"], by_id["2020-03-march-news"]
    assert corrected.updated[:10] == march.updated[:10] == "2020-03-05"
    assert corrected.updated != march.updated
    assert corrected.published[:10] == "2020-02-01"


def test_entry_carries_every_field(tricky: Path) -> None:
    archive = load(tricky.parent / "content").published(NOW.date())
    article = next(a for a in archive.articles if a.id == "2020-01-a-alliance-first")
    atom = next(e for e in entries(tricky / "atom.xml") if e.id == ENTRY_ID_PREFIX + article.id)
    assert atom.title == "Alliance & first"
    html = atom.content[0].value
    assert "Practice Implications" in html and "Clinicians may consider this." in html
    assert article.citation.replace("&", "&amp;") in html and 'href="https://doi.org/10.1037/pst0000172"' in html
    assert atom.summary.startswith("Therapists") and "<" not in atom.summary
    assert [(t.term, t.scheme, t.label) for t in atom.tags] == [
        ("alliance-and-therapeutic-relationship", SITE.base_url + "topics/", "Alliance and Therapeutic Relationship")
    ]
    assert atom.author == SITE.author
    assert atom.link == SITE.base_url + "articles/2020-01-a-alliance-first.html"
    assert atom.published.startswith("2020-01-01") and atom.updated.startswith("2020-01-01")
    rss = next(e for e in entries(tricky / "rss.xml") if e.id == ENTRY_ID_PREFIX + article.id)
    assert "Practice Implications" in rss.content[0].value and rss.author == SITE.author
    assert rss.summary.startswith("Therapists")
    item = json.loads((tricky / "feed.json").read_text())["items"][3]
    assert item["id"] == ENTRY_ID_PREFIX + article.id and item["external_url"] == "https://doi.org/10.1037/pst0000172"
    assert item["_pprnet"]["citation"] == article.citation


def test_permalink_is_the_entry_link_when_the_content_gives_one(tricky: Path) -> None:
    entry = next(e for e in entries(tricky / "rss.xml") if e.id.endswith("on-the-blog"))
    assert entry.link == "https://www.pprnet.ca/2020/02/on-the-blog/"


def test_content_html_holds_only_simple_tags_and_no_script_reaches_a_reader(out: Path) -> None:
    for path in feed_files(out):
        for html in content_htmls(path):
            assert set(collect(html).tags) <= ALLOWED_TAGS, path
        parsed = parse(path, sanitize_html=False)
        for entry in parsed.entries:
            for value in [c.value for c in entry.get("content", [])] + [entry.get("summary", "")]:
                assert "<script" not in value.lower() and "<iframe" not in value.lower() and "<img" not in value
        if path.suffix != ".json":
            assert b"<script" not in path.read_bytes() and b"&lt;script" not in path.read_bytes()


def ids_by_feed(out: Path) -> dict[str, dict[str, str]]:
    """feed file -> {entry link -> entry id}."""
    return {p.name: {e.link: e.id for e in entries(p)} for p in feed_files(out)}


def test_an_article_has_the_same_id_in_every_feed(out: Path) -> None:
    seen: dict[str, str] = {}
    for ids in ids_by_feed(out).values():
        for link, entry_id in ids.items():
            assert seen.setdefault(link, entry_id) == entry_id
            assert entry_id.startswith(ENTRY_ID_PREFIX)


def test_ids_survive_renaming_the_file_and_editing_the_text(tmp_path: Path) -> None:
    content = make_tricky_archive(tmp_path / "content")
    build(content, tmp_path / "before")
    before = {e.title: e.id for e in entries(tmp_path / "before" / "atom.xml")}
    old = content / "issues" / "2020-01" / "c-depression.md"
    text = old.read_text().replace("+++\n", '+++\nid = "2020-01-c-depression"\n', 1)
    text = text.replace("A summary of a study.", "A corrected summary, with new words.")
    (content / "issues" / "2020-01" / "depression-renamed.md").write_text(text)
    old.unlink()
    write_article(content, "2020-01", "b-alliance-second", title="Alliance <second>", topics=["alliance", "empathy"],
                  summary="Edited text.")  # fmt: skip
    build(content, tmp_path / "after")
    after = {e.title: e.id for e in entries(tmp_path / "after" / "atom.xml")}
    assert after == before
    renamed = next(e for e in entries(tmp_path / "after" / "atom.xml") if e.title == "Depression third")
    assert "corrected summary" in renamed.content[0].value


def test_an_archive_with_nothing_published_yet_gives_valid_empty_feeds(tmp_path: Path) -> None:
    content = make_tricky_archive(tmp_path / "content")
    for month in ("2020-01", "2020-02", "2020-03", "2020-04"):
        shutil.rmtree(content / "issues" / month)
    build(content, tmp_path / "feeds")  # only the 2099 issue is left: not yet published
    for name, version in (("rss.xml", "rss20"), ("atom.xml", "atom10")):
        parsed = parse(tmp_path / "feeds" / name)
        assert parsed.bozo == 0 and parsed.version == version and not parsed.entries
    assert parse(tmp_path / "feeds" / "feed.json").entries == []
    assert parse(tmp_path / "feeds" / "topics" / "alliance-and-therapeutic-relationship.rss.xml").entries == []
