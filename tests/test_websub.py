"""WebSub: the feeds name the hub, and build and ping announce changed feeds to it (a local fake hub)."""

from __future__ import annotations

import dataclasses
import http.server
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import write_article
from feedkit import SITE, build
from pprfeed.cli import main
from test_published import small_content


class FakeHub:
    """An HTTP server on 127.0.0.1 that records each publish ping and answers `status`."""

    def __init__(self) -> None:
        self.pings: list[dict[str, list[str]]] = []
        self.status = 204
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the base class's naming
                length = int(self.headers.get("Content-Length", "0"))
                hub.pings.append(urllib.parse.parse_qs(self.rfile.read(length).decode("ascii")))
                self.send_response(hub.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hub"

    def feeds(self) -> list[str]:
        return sorted(url for ping in self.pings for url in ping["hub.url"])


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    fake = FakeHub()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def content(tmp_path: Path) -> Path:
    folder = small_content(tmp_path / "content")
    write_article(folder, "2020-01", "one", "One", ["alliance"])
    return folder


def test_rss_and_atom_name_the_hub(content: Path, tmp_path: Path, hub: FakeHub) -> None:
    build(content, tmp_path / "feeds", dataclasses.replace(SITE, websub_hub=hub.url))
    for name in ("rss.xml", "atom.xml", "topics/attachment.rss.xml", "topics/attachment.atom.xml"):
        assert f'href="{hub.url}" rel="hub"'.encode() in (tmp_path / "feeds" / name).read_bytes(), name


def test_a_build_pings_the_hub_with_publish_mode(content: Path, tmp_path: Path, hub: FakeHub) -> None:
    build(content, tmp_path / "feeds", dataclasses.replace(SITE, websub_hub=hub.url))
    assert {mode for ping in hub.pings for mode in ping["hub.mode"]} == {"publish"}


def test_a_new_article_pings_only_the_feeds_it_changed(content: Path, tmp_path: Path, hub: FakeHub) -> None:
    site = dataclasses.replace(SITE, websub_hub=hub.url)
    build(content, tmp_path / "feeds", site)
    hub.pings.clear()
    write_article(content, "2020-02", "two", "Two", ["empathy"])
    build(content, tmp_path / "feeds", site)
    base = SITE.base_url
    assert hub.feeds() == sorted(
        [base + "atom.xml", base + "rss.xml", base + "topics/empathy.atom.xml", base + "topics/empathy.rss.xml"]
    )


def test_an_unchanged_build_pings_nothing(content: Path, tmp_path: Path, hub: FakeHub) -> None:
    site = dataclasses.replace(SITE, websub_hub=hub.url)
    build(content, tmp_path / "feeds", site)
    hub.pings.clear()
    build(content, tmp_path / "feeds", site)
    assert hub.pings == []


def test_a_failing_hub_is_a_warning_not_a_failed_build(content: Path, tmp_path: Path, hub: FakeHub) -> None:
    hub.status = 503
    result = build(content, tmp_path / "feeds", dataclasses.replace(SITE, websub_hub=hub.url))
    assert result.pings and all(ping.error == "the hub answered 503 Service Unavailable" for ping in result.pings)


def test_an_unreachable_hub_is_a_warning_in_the_cli(
    content: Path, tmp_path: Path, hub: FakeHub, capsys: pytest.CaptureFixture[str]
) -> None:
    hub.server.shutdown()
    hub.server.server_close()
    config = tmp_path / "pprfeed.toml"
    config.write_text(f'[site]\nwebsub_hub = "{hub.url}"\n', encoding="utf-8")
    assert main(["build", "--content", str(content), "--out", str(tmp_path / "feeds"), "--config", str(config)]) == 0
    assert "warning: WebSub ping for" in capsys.readouterr().err


def test_ping_announces_every_feed_of_a_copied_folder(content: Path, tmp_path: Path, hub: FakeHub) -> None:
    build(content, tmp_path / "feeds")
    config = tmp_path / "pprfeed.toml"
    config.write_text(f'[site]\nwebsub_hub = "{hub.url}"\n', encoding="utf-8")
    assert main(["ping", "--out", str(tmp_path / "feeds"), "--config", str(config)]) == 0
    feeds = [p for p in (tmp_path / "feeds").rglob("*.xml") if p.name.endswith(("rss.xml", "atom.xml"))]
    assert len(hub.feeds()) == len(feeds)


def test_ping_without_a_hub_says_what_to_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ping", "--out", str(tmp_path)]) == 1
    assert "websub_hub" in capsys.readouterr().err
