"""`pprfeed build`: byte-stable, atomic, and honest modification times for readers polling over HTTP."""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import http.server
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import feedparser
import pytest

from conftest import CONTENT, ROOT, write_article
from feedkit import NOW, SITE, build, load, make_tricky_archive, snapshot
from pprfeed.cli import main
from pprfeed.config import SiteSettings
from pprfeed.site import build as build_module
from pprfeed.site.build import MARKER, OLD_MANIFEST, build_site
from pprfeed.site.pages import Pages

RSS = "rss.xml"
RETITLED = "Depression retitled"


def state(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    """Bytes, inode and mtime of every file: 'left exactly as it was' means all three."""
    result = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            info = path.stat()
            result[str(path.relative_to(folder))] = (path.read_bytes(), info.st_ino, info.st_mtime_ns)
    return result


def mtime(path: Path) -> int:
    return path.stat().st_mtime_ns


def edit(content: Path, title: str) -> None:
    write_article(content, "2020-01", "c-depression", title=title, topics=["depression"])


def set_draft(content: Path, draft: bool) -> None:
    (content / "issues" / "2020-03" / "issue.toml").write_text(
        f"published = 2020-03-05\ndraft = {str(draft).lower()}\n", encoding="utf-8"
    )


def run_cli(*args: str) -> int:
    return main(["build", *args])


# --- bytes ------------------------------------------------------------------------------------------


def test_two_builds_of_the_same_archive_are_byte_identical(tmp_path: Path) -> None:
    content = make_tricky_archive(tmp_path / "content")
    build(content, tmp_path / "one")
    build(content, tmp_path / "two")
    first = snapshot(tmp_path / "one")
    assert first == snapshot(tmp_path / "two")
    build(content, tmp_path / "one")  # and again in place
    assert snapshot(tmp_path / "one") == first
    assert "atom.xml" in first
    assert MARKER in first


def test_a_rebuild_after_changes_equals_a_cold_build(tmp_path: Path) -> None:
    content = make_tricky_archive(tmp_path / "content")
    out = tmp_path / "feeds"
    build(content, out)
    write_article(content, "2020-05", "new-one", title="A new issue", topics=["empathy", "cbt"])
    result = build(content, out)
    assert 0 < result.written.written < result.written.files
    (content / "issues" / "2020-02" / "on-the-blog.md").unlink()
    edit(content, RETITLED)
    build(content, out)
    build(content, tmp_path / "cold")
    assert snapshot(out) == snapshot(tmp_path / "cold")
    assert "Has a blog permalink" not in (out / "topics" / "empathy.html").read_text()


CHANGES: dict[str, Callable[[Path], SiteSettings]] = {}


def change(function: Callable[[Path], SiteSettings]) -> Callable[[Path], SiteSettings]:
    CHANGES[function.__name__] = function
    return function


@change
def edited_article(content: Path) -> SiteSettings:
    edit(content, RETITLED)
    return SITE


@change
def renamed_topic(content: Path) -> SiteSettings:
    topics = content / "topics.toml"
    text = topics.read_text(encoding="utf-8")
    topics.write_text(text.replace('name = "Empathy"', 'name = "Empathy and warmth"'), encoding="utf-8")
    return SITE


@change
def new_site_title(content: Path) -> SiteSettings:
    return dataclasses.replace(SITE, title="Another digest")


@change
def edited_intro(content: Path) -> SiteSettings:
    (content / "issues" / "2020-01" / "issue.toml").write_text('intro = "January, in short."\n', encoding="utf-8")
    return SITE


@change
def new_issue(content: Path) -> SiteSettings:
    write_article(content, "2020-05", "new-one", title="A new issue", topics=["empathy", "depression"])
    return SITE


@pytest.mark.parametrize("name", CHANGES)
def test_every_kind_of_change_gives_a_cold_builds_bytes_and_keeps_the_unchanged_files(
    tmp_path: Path, name: str
) -> None:
    content = make_tricky_archive(tmp_path / "content")
    out = tmp_path / "feeds"
    build(content, out)
    before = state(out)
    site = CHANGES[name](content)
    build(content, out, site)
    build(content, tmp_path / "cold", site)
    after = state(out)
    assert snapshot(out) == snapshot(tmp_path / "cold")
    changed = {path for path in after if path not in before or before[path][0] != after[path][0]}
    assert changed
    kept = {path for path in after if path in before and path not in changed}
    assert {path: after[path] for path in kept} == {path: before[path] for path in kept}  # same inode, same mtime


# --- modification times --------------------------------------------------------------------------


def test_an_unchanged_file_keeps_its_inode_and_mtime(tmp_path: Path) -> None:
    content = make_tricky_archive(tmp_path / "content")
    out = tmp_path / "feeds"
    build(content, out)
    before = state(out)
    build(content, out)
    assert state(out) == before


def test_edit_build_revert_build_gives_rss_a_newer_mtime_each_time_and_a_cold_builds_bytes(tmp_path: Path) -> None:
    """The builds follow each other within the same second: Last-Modified must still move forward."""
    content = make_tricky_archive(tmp_path / "content")
    out = tmp_path / "feeds"
    build(content, out)
    times = [mtime(out / RSS)]
    for title in (RETITLED, "Depression third"):  # edit, then revert to the original title
        edit(content, title)
        build(content, out)
        times.append(mtime(out / RSS))
        build(content, tmp_path / "cold")
        assert (out / RSS).read_bytes() == (tmp_path / "cold" / RSS).read_bytes()
        shutil.rmtree(tmp_path / "cold")
    assert times[1] > times[0]
    assert times[2] > times[1]


def test_a_changed_file_is_at_least_a_second_newer_than_the_one_it_replaces(tmp_path: Path) -> None:
    content = make_tricky_archive(tmp_path / "content")
    out = tmp_path / "feeds"
    build(content, out)
    replaced = mtime(out / RSS)
    edit(content, RETITLED)
    build(content, out)
    assert mtime(out / RSS) >= replaced + 1_000_000_000


def test_draft_on_off_on_gives_rss_a_newer_mtime_each_time(tmp_path: Path) -> None:
    content = make_tricky_archive(tmp_path / "content")
    out = tmp_path / "feeds"
    build(content, out)
    times = [mtime(out / RSS)]
    for draft in (True, False, True):
        set_draft(content, draft)
        build(content, out)
        times.append(mtime(out / RSS))
    assert times == sorted(set(times))  # strictly increasing


# --- a symlinked output folder --------------------------------------------------------------------


@pytest.fixture
def linked(tmp_path: Path) -> tuple[Path, Path]:
    """`feeds -> www/ppr`, as a deployment serving www/ppr points the build at it."""
    target = tmp_path / "www" / "ppr"
    target.parent.mkdir()
    link = tmp_path / "feeds"
    link.symlink_to(target, target_is_directory=True)
    return link, target


def test_a_symlinked_output_replaces_its_target_every_build(tmp_path: Path, linked: tuple[Path, Path]) -> None:
    link, target = linked
    content = make_tricky_archive(tmp_path / "content")
    served = []  # each build's folder, held open so that its inode number cannot be reused
    for title in (None, RETITLED, "Depression third"):
        if title:
            edit(content, title)
        build(content, link)
        assert link.is_symlink()
        assert os.readlink(link) == str(target)
        served.append(os.open(target, os.O_RDONLY))
        build(content, tmp_path / "cold")
        assert snapshot(target) == snapshot(tmp_path / "cold")
        shutil.rmtree(tmp_path / "cold")
    inodes = {os.fstat(folder).st_ino for folder in served}
    for folder in served:
        os.close(folder)
    assert len(inodes) == 3  # a new folder swapped in each time, never one written in place
    assert sorted(p.name for p in target.parent.iterdir()) == [".ppr.lock", "ppr"]


def test_edit_build_revert_build_through_a_symlinked_output(tmp_path: Path, linked: tuple[Path, Path]) -> None:
    link, target = linked
    content = make_tricky_archive(tmp_path / "content")
    build(content, link)
    times = [mtime(target / RSS)]
    for title in (RETITLED, "Depression third"):
        edit(content, title)
        build(content, link)
        times.append(mtime(link / RSS))
        build(content, tmp_path / "cold")
        assert (target / RSS).read_bytes() == (tmp_path / "cold" / RSS).read_bytes()
        shutil.rmtree(tmp_path / "cold")
    assert times[1] > times[0]
    assert times[2] > times[1]


def test_a_target_folder_that_cannot_be_written_is_named_before_anything_is_written(
    tmp_path: Path, linked: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    link, target = linked
    real_access = os.access

    def access(path: object, mode: int, **kwargs: object) -> bool:  # tests run as root, who may write anywhere
        return False if Path(str(path)) == target.parent else real_access(path, mode, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(build_module.os, "access", access)
    assert run_cli("--content", str(CONTENT), "--out", str(link)) == 1
    said = capsys.readouterr().err
    assert f"{link} is a link to {target}" in said
    assert f"in {target.parent}, which this user cannot write" in said
    assert list(target.parent.iterdir()) == []


# --- atomic, and only over a folder of ours ---------------------------------------------------------


def test_cli_builds_and_says_where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_cli("--content", str(CONTENT)) == 0
    said = capsys.readouterr().out
    assert "feeds/:" in said
    assert "pprfeed serve" in said
    assert (tmp_path / "feeds" / "index.opml").is_file()


def test_settings_come_from_pprfeed_toml(tmp_path: Path) -> None:
    config = tmp_path / "pprfeed.toml"
    config.write_text('[site]\nbase_url = "https://example.org/digest"\ntitle = "Digest"\nfeed_limit = 2\n')
    assert run_cli("--content", str(CONTENT), "--out", str(tmp_path / "out"), "--config", str(config)) == 0
    atom = (tmp_path / "out" / "atom.xml").read_text()
    assert '<link href="https://example.org/digest/atom.xml" rel="self"' in atom
    assert atom.count("<entry>") == 2
    assert "<title>Digest</title>" in atom


def test_a_failing_archive_leaves_the_old_output_exactly_as_it_was(tmp_path: Path, capsys) -> None:
    content = make_tricky_archive(tmp_path / "content")
    out = tmp_path / "feeds"
    assert run_cli("--content", str(content), "--out", str(out)) == 0
    before = state(out)
    broken = content / "issues" / "2020-01" / "c-depression.md"
    broken.write_text(broken.read_text().replace('topics = ["depression"]', 'topics = ["no-such-topic"]'))
    capsys.readouterr()
    assert run_cli("--content", str(content), "--out", str(out)) == 1
    said = capsys.readouterr().err
    assert "c-depression.md" in said
    assert "no-such-topic" in said
    assert "was not changed" in said
    assert state(out) == before


def boom(*args: object, **kwargs: object) -> bytes:
    raise RuntimeError("disk on fire")


@pytest.mark.parametrize("writer", ["json_feed", "rss_and_atom", "article_page"])
def test_an_exception_mid_build_leaves_the_old_output_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, writer: str
) -> None:
    content = make_tricky_archive(tmp_path / "content")
    out = tmp_path / "feeds"
    assert run_cli("--content", str(content), "--out", str(out)) == 0
    before = state(out)
    write_article(content, "2020-05", "new-one", title="A new issue", topics=["empathy"])
    # files are written feeds first, pages last: each writer fails with others already written
    if writer == "article_page":
        monkeypatch.setattr(Pages, "article", boom)
    else:
        monkeypatch.setattr(build_module, writer, boom)
    capsys.readouterr()
    assert run_cli("--content", str(content), "--out", str(out)) == 1
    said = capsys.readouterr().err
    assert "disk on fire" in said
    assert "left exactly as it was" in said
    assert state(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".feeds.lock", "content", "feeds"]  # no half-built tree

    monkeypatch.undo()
    assert run_cli("--content", str(content), "--out", str(out)) == 0
    assert run_cli("--content", str(content), "--out", str(tmp_path / "cold")) == 0
    assert snapshot(out) == snapshot(tmp_path / "cold")


def test_a_folder_not_written_by_pprfeed_is_never_replaced(tmp_path: Path, capsys) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    assert run_cli("--content", str(CONTENT), "--out", str(out)) == 1
    assert "was not written by `pprfeed build`" in capsys.readouterr().err
    assert os.listdir(out) == ["thesis.tex"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".precious.lock", "precious"]


def test_an_empty_folder_may_become_the_output(tmp_path: Path) -> None:
    (tmp_path / "feeds").mkdir()
    build(CONTENT, tmp_path / "feeds")
    assert (tmp_path / "feeds" / MARKER).is_file()


def test_a_tree_left_by_a_killed_build_is_cleared_away(tmp_path: Path) -> None:
    content = make_tricky_archive(tmp_path / "content")
    out = tmp_path / "feeds"
    build(content, out)
    leftover = tmp_path / ".feeds.new"
    leftover.mkdir()
    (leftover / MARKER).write_text("")
    (leftover / "rss.xml").write_text("half")
    build(content, out)
    assert not leftover.exists()
    assert (out / RSS).read_text() != "half"


def test_the_first_build_after_an_upgrade_takes_over_and_clears_the_old_layout(tmp_path: Path) -> None:
    """Earlier versions marked the output with a manifest and kept the build before last as `.feeds.spare`."""
    content = make_tricky_archive(tmp_path / "content")
    out = tmp_path / "feeds"
    build(content, out)
    (out / MARKER).unlink()
    (out / OLD_MANIFEST).write_text('{"format": 2, "files": {}, "bundles": {}}')
    shutil.copytree(out, tmp_path / ".feeds.spare")
    rss = state(out)[RSS]
    build(content, out)
    assert not (tmp_path / ".feeds.spare").exists()
    assert not (out / OLD_MANIFEST).exists()
    assert (out / MARKER).is_file()
    assert state(out)[RSS] == rss  # unchanged bytes: still the live file


def test_built_feeds_are_not_committed() -> None:
    """The feeds/ folder is build output: ignored by git, so it can never be committed stale."""
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "/feeds/" in ignored
    assert "/.feeds.new/" in ignored
    assert "/.feeds.lock" in ignored


def test_a_second_build_at_the_same_time_is_refused(tmp_path: Path, capsys) -> None:
    out = tmp_path / "feeds"
    with open(tmp_path / ".feeds.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running build holds it
        assert run_cli("--content", str(CONTENT), "--out", str(out)) == 1
    assert "another `pprfeed build` is writing" in capsys.readouterr().err
    assert not out.exists()
    assert run_cli("--content", str(CONTENT), "--out", str(out)) == 0


def test_each_article_is_rendered_once_however_many_feeds_carry_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[str] = []
    original = build_module.FeedContext.rendered

    def counting(self: build_module.FeedContext, article):  # type: ignore[no-untyped-def]
        if article.id not in self.html:
            rendered.append(article.id)
        return original(self, article)

    monkeypatch.setattr(build_module.FeedContext, "rendered", counting)
    archive = load(make_tricky_archive(tmp_path / "content"))
    result = build_site(archive, SITE, tmp_path / "feeds", NOW)
    carried = {article.id for spec in result.feeds for article in spec.articles}
    assert sum(len(spec.articles) for spec in result.feeds) > len(carried)  # articles in several feeds
    assert sorted(rendered) == sorted(carried)


# --- a feed reader polling over HTTP -------------------------------------------------------------


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A real HTTP server on 127.0.0.1 serving tmp_path/feeds (Last-Modified from mtimes, 304 on If-Modified-Since)."""
    out = tmp_path / "feeds"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield out, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_a_feed_reader_polling_over_http_sees_every_change(tmp_path: Path, served: tuple[Path, str]) -> None:
    out, address = served
    content = make_tricky_archive(tmp_path / "content")
    build(content, out)
    first = feedparser.parse(address + RSS)
    assert first.status == 200
    assert "Depression third" in {entry.title for entry in first.entries}
    build(content, out)  # nothing changed: not downloaded again
    unchanged = feedparser.parse(address + RSS, modified=first.modified)
    assert unchanged.status == 304
    seen = first
    for title in (RETITLED, "Depression third"):  # edit, revert: all within a second or two
        edit(content, title)
        build(content, out)
        polled = feedparser.parse(address + RSS, modified=seen.modified)
        assert polled.status == 200
        assert title in {entry.title for entry in polled.entries}
        seen = polled
