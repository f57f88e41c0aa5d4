"""The loader's parse cache gives the same archive and diagnostics as a fresh parse."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from conftest import copy_content
from pprfeed.archive.load import load_archive
from pprfeed.archive.parse_cache import SEGMENT, article_digest
from pprfeed.diagnostics import Report, parse_front_matter, parse_toml


def age(folder: Path) -> None:
    """Date every file a minute back: the cache ignores files modified in the last 100 ms."""
    past = time.time() - 60
    for parent, _, files in os.walk(folder):
        for name in files:
            os.utime(Path(parent) / name, (past, past))


@pytest.fixture
def content(tmp_path: Path) -> Path:
    folder = copy_content(tmp_path)
    age(folder)
    return folder


def issue(archive, month: str):
    return next(i for i in archive.issues if i.month == month)


def strings(diagnostics) -> list[str]:
    return [str(d) for d in diagnostics]


def test_warm_load_equals_cold_load(content: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cold, cold_diagnostics = load_archive(content)
    first, _ = load_archive(content, cache_dir=cache)
    assert (cache / SEGMENT.format(2018)).is_file() and (cache / SEGMENT.format(2017)).is_file()
    warm, warm_diagnostics = load_archive(content, cache_dir=cache)
    assert cold is not None and warm is not None and first is not None
    assert warm.issues == cold.issues == first.issues
    assert strings(warm_diagnostics) == strings(cold_diagnostics)


def test_edited_file_is_parsed_again(content: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_archive(content, cache_dir=cache)
    article = next((content / "issues" / "2018-03").glob("*.md"))
    text = article.read_text(encoding="utf-8")
    article.write_text(text.replace("Therapeutic Alliance Predicts", "Alliance Predicts"), encoding="utf-8")
    age(content)
    archive, _ = load_archive(content, cache_dir=cache)
    assert archive is not None
    assert issue(archive, "2018-03").articles[0].title == "Alliance Predicts Client Outcomes in CBT"


def test_errors_are_reported_on_every_load(content: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    article = next((content / "issues" / "2018-03").glob("*.md"))
    article.write_text(article.read_text(encoding="utf-8").replace('"cbt"', '"cbtt"'), encoding="utf-8")
    age(content)
    first = strings(load_archive(content, cache_dir=cache)[1])
    second = strings(load_archive(content, cache_dir=cache)[1])
    assert first == second
    assert any('unknown topic "cbtt"' in line for line in second)


def test_warnings_of_cached_files_are_replayed(content: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    article = next((content / "issues" / "2018-03").glob("*.md"))
    article.write_text(article.read_text(encoding="utf-8").replace('"cbt",', '"cbt", "CBT",'), encoding="utf-8")
    age(content)
    first = strings(load_archive(content, cache_dir=cache)[1])
    second = strings(load_archive(content, cache_dir=cache)[1])
    assert len(first) == 1 and "listed twice" in first[0]
    assert second == first


def test_changed_vocabulary_invalidates_the_cache(content: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_archive(content, cache_dir=cache)
    topics = content / "topics.toml"
    topics.write_text(topics.read_text(encoding="utf-8").replace('"depression", ', ""), encoding="utf-8")
    age(content)
    archive, diagnostics = load_archive(content, cache_dir=cache)
    assert archive is None
    assert any('unknown topic "depression"' in str(d) for d in diagnostics)


def test_changed_issue_date_reaches_cached_articles(content: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_archive(content, cache_dir=cache)
    (content / "issues" / "2018-03" / "issue.toml").write_text("published = 2018-03-15\n", encoding="utf-8")
    archive, _ = load_archive(content, cache_dir=cache)
    assert archive is not None
    assert str(issue(archive, "2018-03").articles[0].published) == "2018-03-15"


@pytest.mark.parametrize("damage", [b"", b"not a pickle", b"\x80\x05garbage", b"\x80\x04K\x01."])
def test_corrupt_cache_is_rebuilt(content: Path, tmp_path: Path, damage: bytes) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / SEGMENT.format(2018)).write_bytes(damage)
    archive, diagnostics = load_archive(content, cache_dir=cache)
    assert archive is not None and diagnostics == []
    assert (cache / SEGMENT.format(2018)).read_bytes() != damage


def test_unusable_cache_folder_is_ignored(content: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    archive, diagnostics = load_archive(content, cache_dir=blocker / "cache")
    assert archive is not None and diagnostics == []


FRONT_MATTERS = [
    'title = "A"\ntopics = ["x", "y"]',
    'title = "A"\ntopics = []\n\n',
    'title="A"\ntopics=[ "x" , "y", ]',
    '  title = "tab\there"\n',
    'title = "Flückiger — “quoted”"',
    'title = "esc\\"aped"',  # escapes: tomllib
    'title = "A" # comment',
    "title = 'literal'",
    'title = "A"\ntitle = "B"',  # duplicate key: tomllib's error
    'a.b = "dotted"',
    "n = 3\nflag = true",
    'title = "unterminated',
    'topics = ["a",\n  "b"]',
]


@pytest.mark.parametrize("text", FRONT_MATTERS)
def test_front_matter_fast_path_agrees_with_tomllib(text: str, tmp_path: Path) -> None:
    fast, slow = Report(tmp_path), Report(tmp_path)
    assert parse_front_matter(text, tmp_path / "a.md", fast) == parse_toml(text, tmp_path / "a.md", slow, 2)
    assert fast.diagnostics == slow.diagnostics


def test_digests_from_the_cache_equal_fresh_ones(content: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_archive(content, cache_dir=cache)
    fresh: dict[str, str] = {}
    cached: dict[str, str] = {}
    cold, _ = load_archive(content, digests=fresh)
    warm, _ = load_archive(content, cache_dir=cache, digests=cached)
    assert cold is not None and warm is not None
    assert cached == fresh == {a.id: article_digest(a) for a in cold.articles}
    path = content / "issues" / "2018-11" / issue(cold, "2018-11").articles[0].source.rsplit("/", 1)[1]
    path.write_text(path.read_text(encoding="utf-8").replace("##", "Edited.\n\n##", 1), encoding="utf-8")
    age(content)
    edited: dict[str, str] = {}
    after, _ = load_archive(content, cache_dir=cache, digests=edited)
    assert after is not None
    changed = {key for key in fresh if edited[key] != fresh[key]}
    assert changed == {issue(cold, "2018-11").articles[0].id}
    assert edited == {a.id: article_digest(a) for a in after.articles}


def test_only_the_year_that_changed_is_written_again(content: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (cache).mkdir()
    (cache / "articles.pickle").write_bytes(b"format 1")  # the old single file goes
    load_archive(content, cache_dir=cache)
    assert not (cache / "articles.pickle").exists()

    def identity(year: int) -> tuple[int, int]:
        info = (cache / SEGMENT.format(year)).stat()
        return info.st_ino, info.st_mtime_ns

    before = {year: identity(year) for year in (2017, 2018)}
    load_archive(content, cache_dir=cache)
    assert {year: identity(year) for year in (2017, 2018)} == before  # nothing changed, nothing written
    path = next((content / "issues" / "2018-11").glob("*.md"))
    path.write_text(path.read_text(encoding="utf-8").replace("##", "Edited.\n\n##", 1), encoding="utf-8")
    past = time.time() - 30
    os.utime(path, (past, past))
    archive, _ = load_archive(content, cache_dir=cache)
    assert identity(2017) == before[2017] and identity(2018) != before[2018]
    warm, _ = load_archive(content, cache_dir=cache)
    assert archive is not None and warm is not None and warm.issues == archive.issues
    assert any("Edited." in a.summary_md for a in warm.articles)
    shutil.rmtree(content / "issues" / "2017-10")
    load_archive(content, cache_dir=cache)
    assert not (cache / SEGMENT.format(2017)).exists()


def test_a_load_shared_with_a_helper_process_equals_a_single_process_load(
    content: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large uncached loads fork a helper for the newer years; nothing about the result may differ."""
    from pprfeed.archive import load as loader
    from pprfeed.archive import parse_cache

    broken = content / "issues" / "2018-11" / "broken.md"
    broken.write_text('+++\ntitle = "Broken"\ntopics = ["no such topic"]\n+++\nText.\n', encoding="utf-8")
    (content / "issues" / "2017-10" / "notes.txt").write_text("stray", encoding="utf-8")
    age(content)
    single, single_diagnostics = load_archive(content)
    monkeypatch.setattr(loader, "PARALLEL_FROM", 2)
    monkeypatch.setattr(parse_cache, "BACKGROUND_FROM", 1)
    shared, shared_diagnostics = load_archive(content)
    assert single is None and shared is None
    assert strings(shared_diagnostics) == strings(single_diagnostics) and len(single_diagnostics) >= 3
    broken.unlink()
    (content / "issues" / "2017-10" / "notes.txt").unlink()
    cache = tmp_path / "cache"
    monkeypatch.setattr(loader, "PARALLEL_FROM", 10**9)
    single, single_diagnostics = load_archive(content)
    monkeypatch.setattr(loader, "PARALLEL_FROM", 2)
    digests: dict[str, str] = {}
    shared, shared_diagnostics = load_archive(content, cache_dir=cache, digests=digests)  # empty cache: shared
    parse_cache.reap(wait=True)  # the helper and the background writer have written the cache
    assert single is not None and shared is not None
    assert shared.issues == single.issues and strings(shared_diagnostics) == strings(single_diagnostics)
    assert digests == {a.id: article_digest(a) for a in single.articles}
    assert sorted(p.name for p in cache.iterdir()) == [SEGMENT.format(2017), SEGMENT.format(2018)]
    warm, warm_diagnostics = load_archive(content, cache_dir=cache)
    assert (
        warm is not None and warm.issues == single.issues and strings(warm_diagnostics) == strings(single_diagnostics)
    )


def test_unchanged_folders_are_taken_whole_and_edits_in_place_are_still_seen(
    content: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder is reused whole only while every file keeps its name, size and mtime."""
    from pprfeed.archive import load as loader
    from pprfeed.archive import parse_cache

    cache = tmp_path / "cache"
    article = next((content / "issues" / "2018-03").glob("*.md"))
    article.write_text(article.read_text(encoding="utf-8").replace('"cbt",', '"cbt", "CBT",'), encoding="utf-8")
    age(content)
    cold, cold_diagnostics = load_archive(content)
    load_archive(content, cache_dir=cache)
    parsed: list[str] = []
    original = loader._load_article
    monkeypatch.setattr(loader, "_load_article", lambda path, *a: parsed.append(path.name) or original(path, *a))
    looked_up: list[str] = []  # file by file: only in folders that changed
    original_get = parse_cache.ParseCache.get
    monkeypatch.setattr(
        parse_cache.ParseCache,
        "get",
        lambda self, relative, *a: looked_up.append(relative) or original_get(self, relative, *a),
    )
    warm, warm_diagnostics = load_archive(content, cache_dir=cache)
    assert parsed == [] and looked_up == [] and warm is not None and cold is not None and warm.issues == cold.issues
    assert strings(warm_diagnostics) == strings(cold_diagnostics) and "listed twice" in strings(warm_diagnostics)[0]
    text = article.read_text(encoding="utf-8")
    same_size = text.replace("Therapeutic Alliance Predicts", "Therapeutic Alliance PREDICTS")
    assert len(same_size) == len(text)
    article.write_text(same_size, encoding="utf-8")  # edited in place: the folder's own mtime does not change
    past = time.time() - 30
    os.utime(article, (past, past))
    edited, _ = load_archive(content, cache_dir=cache)
    assert parsed == [article.name] and edited is not None
    assert looked_up and all(relative.startswith("issues/2018-03/") for relative in looked_up)
    assert issue(edited, "2018-03").articles[0].title.startswith("Therapeutic Alliance PREDICTS")
    parsed.clear()
    again, _ = load_archive(content, cache_dir=cache)
    assert parsed == [] and again is not None and again.issues == edited.issues


def test_a_prefetched_load_equals_a_plain_one_and_a_changed_vocabulary_discards_it(
    content: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bot starts loading in a helper while it imports its libraries (content.prefetch)."""
    from pprfeed.archive import load as loader
    from pprfeed.archive import parse_cache

    (content / "issues" / "2018-11" / "broken.md").write_text('+++\ntitle = "Broken"\n+++\n', encoding="utf-8")
    age(content)
    plain, plain_diagnostics = load_archive(content)
    monkeypatch.setattr(loader, "PARALLEL_FROM", 2)
    started = loader.prefetch(content, tmp_path / "cache")
    assert started is not None and started.helper.pid
    shared, shared_diagnostics = load_archive(content, cache_dir=tmp_path / "cache", prefetched=started)
    assert plain is None and shared is None and strings(shared_diagnostics) == strings(plain_diagnostics)
    (content / "issues" / "2018-11" / "broken.md").unlink()
    plain, _ = load_archive(content)
    started = loader.prefetch(content, tmp_path / "cache2")
    assert started is not None
    topics = content / "topics.toml"
    topics.write_text(topics.read_text(encoding="utf-8").replace("Depression and Depressive Symptoms", "Low mood"))
    changed, _ = load_archive(content, cache_dir=tmp_path / "cache2", prefetched=started)
    parse_cache.reap(wait=True)
    assert plain is not None and changed is not None
    assert [t.name for t in changed.topics if t.slug == "depression-and-depressive-symptoms"] == ["Low mood"]
    assert changed.issues == plain.issues  # articles hold topic slugs: the same, parsed afresh here
