"""`pprfeed build`: byte-stable, incremental yet identical to a cold build, and atomic."""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

import pytest

from conftest import CONTENT, ROOT, write_article
from feedkit import NOW, SITE, build, load, make_tricky_archive, snapshot
from pprfeed.cli import main
from pprfeed.site import build as build_module
from pprfeed.site.build import build_site
from pprfeed.site.output import MANIFEST, spare_folder


def state(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    """Bytes, inode and mtime of every file: 'left exactly as it was' means all three."""
    result = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            info = path.stat()
            result[str(path.relative_to(folder))] = (path.read_bytes(), info.st_ino, info.st_mtime_ns)
    return result


def test_two_builds_of_the_same_archive_are_byte_identical(tmp_path: Path) -> None:
    content = make_tricky_archive(tmp_path / "content")
    build(content, tmp_path / "one")
    build(content, tmp_path / "two")
    first = snapshot(tmp_path / "one")
    assert first == snapshot(tmp_path / "two")
    build(content, tmp_path / "one")  # and again in place
    build(content, tmp_path / "one")
    assert snapshot(tmp_path / "one") == first
    assert any(name.endswith("atom.xml") for name in first) and MANIFEST in first


def test_a_rebuild_after_changes_equals_a_cold_build(tmp_path: Path) -> None:
    content = make_tricky_archive(tmp_path / "content")
    out = tmp_path / "feeds"
    build(content, out)
    write_article(content, "2020-05", "new-one", title="A new issue", topics=["empathy", "cbt"])
    result = build(content, out)
    assert 0 < result.written.written < result.written.files  # only what changed was rewritten
    (content / "issues" / "2020-02" / "on-the-blog.md").unlink()  # a removal, two builds behind the spare
    write_article(content, "2020-01", "c-depression", title="Depression retitled", topics=["depression"])
    build(content, out)
    build(content, tmp_path / "cold")
    assert snapshot(out) == snapshot(tmp_path / "cold")
    assert not (out / "topics" / "empathy.html").read_text().count("Has a blog permalink")


def run_cli(*args: str) -> int:
    return main(["build", *args])


def test_cli_builds_and_says_where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_cli("--content", str(CONTENT)) == 0
    said = capsys.readouterr().out
    assert "feeds/:" in said and "index.html" in said and "http.server" in said
    assert (tmp_path / "feeds" / "index.opml").is_file()


def test_settings_come_from_pprfeed_toml(tmp_path: Path) -> None:
    config = tmp_path / "pprfeed.toml"
    config.write_text('[site]\nbase_url = "https://example.org/digest"\ntitle = "Digest"\nfeed_limit = 2\n')
    assert run_cli("--content", str(CONTENT), "--out", str(tmp_path / "out"), "--config", str(config)) == 0
    atom = (tmp_path / "out" / "atom.xml").read_text()
    assert '<link href="https://example.org/digest/atom.xml" rel="self"' in atom
    assert atom.count("<entry>") == 2 and "<title>Digest</title>" in atom


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
    assert "c-depression.md" in said and "no-such-topic" in said and "was not changed" in said
    assert state(out) == before


@pytest.mark.parametrize("writer", ["json_feed", "article_page", "rss_and_atom"])
def test_an_exception_mid_build_leaves_the_old_output_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, writer: str
) -> None:
    content = make_tricky_archive(tmp_path / "content")
    out = tmp_path / "feeds"
    assert run_cli("--content", str(content), "--out", str(out)) == 0
    before = state(out)
    write_article(content, "2020-05", "new-one", title="A new issue", topics=["empathy"])

    def boom(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("disk on fire")

    # files are written in plan order (feeds, OPML, pages): each writer fails with others already written
    monkeypatch.setattr(build_module, writer, boom)
    capsys.readouterr()
    assert run_cli("--content", str(content), "--out", str(out)) == 1
    said = capsys.readouterr().err
    assert "disk on fire" in said and "left exactly as it was" in said
    assert state(out) == before
    assert not (spare_folder(out) / MANIFEST).exists()  # the half-written spare is known to be incomplete

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
    assert os.listdir(out) == ["thesis.tex"] and not spare_folder(out).exists()


def test_the_spare_is_rebuilt_when_it_was_deleted(tmp_path: Path) -> None:
    content = make_tricky_archive(tmp_path / "content")
    out = tmp_path / "feeds"
    build(content, out)
    build(content, out)
    shutil.rmtree(spare_folder(out))
    write_article(content, "2020-05", "new-one", title="A new issue", topics=["empathy"])
    build(content, out)
    build(content, tmp_path / "cold")
    assert snapshot(out) == snapshot(tmp_path / "cold")


def test_built_feeds_are_not_committed() -> None:
    """The feeds/ folder is build output: ignored by git, so it can never be committed stale."""
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "/feeds/" in ignored and "/.feeds.spare/" in ignored and "/.feeds.lock" in ignored


def test_two_workers_write_the_same_bytes_as_one(tmp_path: Path) -> None:
    content = make_tricky_archive(tmp_path / "content")
    archive = load(content)
    build_site(archive, SITE, tmp_path / "one", NOW, workers=1)
    build_site(archive, SITE, tmp_path / "two", NOW, workers=2, parallel_from=0)
    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "two")


def test_a_failing_worker_process_fails_the_build_and_leaves_the_old_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = make_tricky_archive(tmp_path / "content")
    out = tmp_path / "feeds"
    build(content, out)
    before = state(out)
    write_article(content, "2020-05", "new-one", title="A new issue", topics=["empathy"])

    def boom(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("worker disk on fire")

    monkeypatch.setattr(build_module, "json_feed", boom)
    with pytest.raises(RuntimeError, match="worker disk on fire"):
        build_site(load(content), SITE, out, NOW, workers=2, parallel_from=0)
    assert state(out) == before


def test_a_second_build_at_the_same_time_is_refused(tmp_path: Path, capsys) -> None:
    out = tmp_path / "feeds"
    with open(tmp_path / ".feeds.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running build holds it
        assert run_cli("--content", str(CONTENT), "--out", str(out)) == 1
    assert "another `pprfeed build` is writing" in capsys.readouterr().err
    assert not out.exists() and not spare_folder(out).exists()
    assert run_cli("--content", str(CONTENT), "--out", str(out)) == 0


def test_a_rebuild_takes_what_the_last_build_wrote_from_the_live_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spare is the output before last: files the last build changed are hard-linked, not rendered again."""
    content = make_tricky_archive(tmp_path / "content")
    out = tmp_path / "feeds"
    build(content, out)
    build(content, out)
    write_article(content, "2020-05", "new-one", title="A new issue", topics=["empathy", "cbt"])
    changed = build(content, out).written
    assert changed.written > 0 and changed.linked == 0
    rendered: list[str] = []
    original = build_module.rss_and_atom
    monkeypatch.setattr(build_module, "rss_and_atom", lambda *a: rendered.append("feed") or original(*a))
    again = build(content, out).written  # nothing new: the spare catches up from the live output
    assert again.written == 0 and again.linked == changed.written and not rendered
    for name, data in snapshot(out).items():
        assert (spare_folder(out) / name).read_bytes() == data
    build(content, tmp_path / "cold")
    assert snapshot(out) == snapshot(tmp_path / "cold")
    (out / "index.opml").unlink()  # a live file gone missing: rendered instead of linked
    write_article(content, "2020-06", "newer", title="Another issue", topics=["cbt"])
    build(content, out)
    build(content, tmp_path / "cold2")
    assert snapshot(out) == snapshot(tmp_path / "cold2")
