"""The W3C Feed Validation Service's rules that our files once broke, checked on every file the build writes.

The validator itself is not on PyPI; these are the rules it applies (feedvalidator/opml.py, validators.py).
"""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest

from conftest import empty_content, write_article
from feedkit import SITE, build

ATOM = "{http://www.w3.org/2005/Atom}"
OPML_HEAD = {
    "title", "dateCreated", "dateModified", "ownerName", "ownerEmail", "ownerId", "expansionState",
    "vertScrollState", "windowTop", "windowLeft", "windowBottom", "windowRight",
}  # fmt: skip
OPML_OUTLINE = {
    "category", "created", "description", "htmlUrl", "isBreakpoint", "isComment", "language", "text", "title",
    "type", "url", "version", "xmlUrl",
}  # fmt: skip
PLAUSIBLE_FROM = "1990-01-01"


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("validated")
    content = empty_content(root / "content")
    write_article(content, "2020-01", "one", "One", ["alliance"])
    build(content, root / "feeds")
    return root / "feeds"


def xml_files(out: Path, suffix: str) -> list[Path]:
    return sorted(p for p in out.rglob(f"*{suffix}") if p.is_file())


def test_opml_head_has_only_elements_the_validator_knows(out: Path) -> None:
    head = ElementTree.parse(out / "index.opml").getroot().find("head")
    assert head is not None and {child.tag for child in head} <= OPML_HEAD


def test_opml_outlines_have_only_opml_attributes(out: Path) -> None:
    outlines = ElementTree.parse(out / "index.opml").getroot().iter("outline")
    assert set().union(*(outline.attrib for outline in outlines)) <= OPML_OUTLINE


def test_atom_feeds_give_the_alternate_link_before_the_self_link(out: Path) -> None:
    for path in xml_files(out, "atom.xml"):
        links = ElementTree.parse(path).getroot().findall(ATOM + "link")
        assert [link.get("rel") for link in links[:2]] == ["alternate", "self"], path


def test_atom_feed_dates_are_plausible_even_without_entries(out: Path) -> None:
    for path in xml_files(out, "atom.xml"):
        assert (ElementTree.parse(path).getroot().findtext(ATOM + "updated") or "") >= PLAUSIBLE_FROM, path


def test_rss_feed_dates_are_plausible_even_without_entries(out: Path) -> None:
    for path in xml_files(out, "rss.xml"):
        channel = ElementTree.parse(path).getroot().find("channel")
        assert channel is not None
        assert int((channel.findtext("lastBuildDate") or "").split()[3]) >= int(PLAUSIBLE_FROM[:4]), path


def test_no_file_names_the_hub_when_there_is_none(out: Path) -> None:
    assert all(b'rel="hub"' not in path.read_bytes() for path in xml_files(out, ".xml"))


def test_every_xml_file_is_well_formed(out: Path) -> None:
    for path in [*xml_files(out, ".xml"), out / "index.opml"]:
        ElementTree.parse(path)


def test_base_url_starts_every_self_link(out: Path) -> None:
    for path in xml_files(out, "atom.xml"):
        links = ElementTree.parse(path).getroot().findall(ATOM + "link")
        assert all(link.get("href", "").startswith(SITE.base_url) for link in links), path
