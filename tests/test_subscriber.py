"""Scenarios as a subscriber lives them: the `reader` feed library polls the built feeds over HTTP.

Each scenario builds, subscribes to RSS, Atom and JSON Feed, changes the content the way an editor
would, builds again and polls: no entry doubles, none is lost, every edit is seen.
"""

from __future__ import annotations

import dataclasses
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from reader import Reader, make_reader

from conftest import write_article
from feedkit import SITE, build
from pprfeed.config import SiteSettings
from pprfeed.site.build import LostAddresses
from test_published import small_content

pytestmark = pytest.mark.slow

FIRST = "do-common-factors-matter-in-psychotherapy"
FIRST_ID = f"2018-07-{FIRST}"
ENTRY = "tag:pprnet.ca,2017:article:"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


@dataclasses.dataclass
class World:
    content: Path
    out: Path
    site: SiteSettings
    reader: Reader

    def build(self) -> None:
        build(self.content, self.out, self.site)

    def subscribe(self, *paths: str) -> None:
        for path in paths:
            self.reader.add_feed(self.site.base_url + path)
        self.poll()

    def poll(self) -> None:
        for feed, value in self.reader.update_feeds_iter(scheduled=False):  # every poll fetches, as if an hour passed
            assert not isinstance(value, Exception), (feed, value)

    def entries(self, path: str) -> list[tuple[str, str]]:
        """(id without the prefix, title) of every entry the reader holds for the feed at `path`."""
        found = self.reader.get_entries(feed=self.site.base_url + path)
        return sorted((entry.id.removeprefix(ENTRY), entry.title or "") for entry in found)

    def ids(self, paths: tuple[str, ...]) -> list[list[str]]:
        """The entry ids each feed at `paths` holds (a duplicate would show twice)."""
        return [[entry_id for entry_id, _ in self.entries(path)] for path in paths]


FORMATS = ("rss.xml", "atom.xml", "feed.json")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    content = small_content(tmp_path / "content")
    write_article(content, "2018-07", FIRST, "Do common factors matter?", ["cbt"])
    out = tmp_path / "feeds"
    out.mkdir()
    (out / ".pprfeed-output").write_text("", encoding="utf-8")
    handler = functools.partial(_Quiet, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site = dataclasses.replace(SITE, base_url=f"http://127.0.0.1:{server.server_address[1]}/")
    subscriber = make_reader(str(tmp_path / "reader.sqlite"))
    world = World(content, out, site, subscriber)
    world.build()
    try:
        yield world
    finally:
        subscriber.close()
        server.shutdown()
        server.server_close()


def test_a_new_issue_adds_its_entry_once(world: World) -> None:
    world.subscribe(*FORMATS)
    write_article(world.content, "2018-08", "new", "A new issue", ["empathy"])
    world.build()
    world.poll()
    assert world.ids(FORMATS) == [[FIRST_ID, "2018-08-new"]] * 3


def test_an_edit_is_seen_and_so_is_its_revert(world: World) -> None:
    world.subscribe(*FORMATS)
    write_article(world.content, "2018-07", FIRST, "Do common factors matter? (edited)", ["cbt"])
    world.build()
    world.poll()
    edited = [world.entries(path) for path in FORMATS]
    write_article(world.content, "2018-07", FIRST, "Do common factors matter?", ["cbt"])
    world.build()
    world.poll()
    assert (edited, [world.entries(path) for path in FORMATS]) == (
        [[(FIRST_ID, "Do common factors matter? (edited)")]] * 3,
        [[(FIRST_ID, "Do common factors matter?")]] * 3,
    )


def test_a_rename_with_its_old_id_keeps_one_entry(world: World) -> None:
    world.subscribe(*FORMATS)
    (world.content / "issues" / "2018-07" / f"{FIRST}.md").unlink()
    write_article(
        world.content, "2018-07", "common-factors", "Do common factors matter?", ["cbt"], extra=f'id = "{FIRST_ID}"\n'
    )
    world.build()
    world.poll()
    assert world.ids(FORMATS) == [[FIRST_ID]] * 3


def test_a_rename_without_its_id_is_refused_and_subscribers_keep_the_entry(world: World) -> None:
    world.subscribe(*FORMATS)
    (world.content / "issues" / "2018-07" / f"{FIRST}.md").unlink()
    write_article(world.content, "2018-07", "common-factors", "Do common factors matter?", ["cbt"])
    with pytest.raises(LostAddresses):
        world.build()
    world.poll()
    assert world.ids(FORMATS) == [[FIRST_ID]] * 3


def test_a_retraction_updates_the_entry_readers_have(world: World) -> None:
    world.subscribe(*FORMATS)
    extra = 'retracted = true\nretraction_reason = "Data fabricated."\nupdated = 2018-09-01\n'
    write_article(world.content, "2018-07", FIRST, "Do common factors matter?", ["cbt"], extra=extra)
    world.build()
    world.poll()
    assert [world.entries(path) for path in FORMATS] == [[(FIRST_ID, "Retracted: Do common factors matter?")]] * 3


def test_a_renamed_topic_slug_keeps_its_subscribers_fed(world: World) -> None:
    paths = ("topics/cbt.rss.xml", "topics/cbt.atom.xml", "topics/cbt.json")
    world.subscribe(*paths)
    topics = world.content / "topics.toml"
    renamed = 'slug = "cognitive-behavioural-therapy"\nformer_slugs = ["cbt"]'
    topics.write_text(topics.read_text(encoding="utf-8").replace('slug = "cbt"', renamed), encoding="utf-8")
    write_article(world.content, "2018-08", "more-cbt", "More on CBT", ["cognitive-behavioural-therapy"])
    world.build()
    world.poll()
    assert world.ids(paths) == [[FIRST_ID, "2018-08-more-cbt"]] * 3


def test_an_empty_topic_gaining_its_first_article_delivers_it(world: World) -> None:
    paths = ("topics/attachment.rss.xml", "topics/attachment.atom.xml", "topics/attachment.json")
    world.subscribe(*paths)
    write_article(world.content, "2018-08", "attached", "Attachment at last", ["attachment"])
    world.build()
    world.poll()
    assert world.ids(paths) == [["2018-08-attached"]] * 3
