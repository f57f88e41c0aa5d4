"""The article pages of an issue are planned as one bundle: every change that shows on a page still rewrites it.

Each test builds incrementally, checks which article pages were rendered (in this process: one worker),
and compares the result with a cold build byte for byte.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from conftest import write_article
from feedkit import NOW, SITE, load, make_tricky_archive, snapshot
from pprfeed.config import SiteSettings
from pprfeed.model import Article
from pprfeed.site import build as build_module
from pprfeed.site.build import BuildResult, build_site
from pprfeed.site.output import MANIFEST, spare_folder

ISSUE_2020_01 = {"2020-01-a-alliance-first", "2020-01-b-alliance-second", "2020-01-c-depression"}


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Ids of the articles whose pages the builds render."""
    ids: list[str] = []
    original = build_module._article_page

    def recording(article: Article, *args: object) -> bytes:
        ids.append(article.id)
        return original(article, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(build_module, "_article_page", recording)
    return ids


def rebuild(content: Path, out: Path, site: SiteSettings = SITE) -> BuildResult:
    return build_site(load(content), site, out, NOW, workers=1)


def same_as_cold(content: Path, out: Path, tmp_path: Path, site: SiteSettings = SITE) -> None:
    build_site(load(content), site, tmp_path / "cold", NOW, workers=1)
    assert snapshot(out) == snapshot(tmp_path / "cold")


def built_twice(tmp_path: Path) -> tuple[Path, Path]:
    """An archive built twice: the output and its spare both up to date."""
    content = make_tricky_archive(tmp_path / "content")
    out = tmp_path / "feeds"
    rebuild(content, out)
    rebuild(content, out)
    return content, out


def test_every_article_page_is_built_and_listed_per_issue(tmp_path: Path, rendered: list[str]) -> None:
    content, out = built_twice(tmp_path)
    pages = {p.stem for p in (out / "articles").iterdir()}
    assert pages == ISSUE_2020_01 | {"2020-02-corrected", "2020-03-march-news"}  # no page for a blog permalink
    assert sorted(rendered) == sorted(pages)  # the first build only: the second took every bundle as it was
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert set(manifest["bundles"]) == {"articles:2020-01", "articles:2020-02", "articles:2020-03"}
    assert not any(path.startswith("articles/") for path in manifest["files"])


def test_an_edited_article_rewrites_the_pages_of_its_issue_only(tmp_path: Path, rendered: list[str]) -> None:
    content, out = built_twice(tmp_path)
    rendered.clear()
    write_article(content, "2020-01", "c-depression", title="Depression retitled", topics=["depression"])
    rebuild(content, out)
    assert set(rendered) == ISSUE_2020_01
    assert "Depression retitled" in (out / "articles" / "2020-01-c-depression.html").read_text(encoding="utf-8")
    same_as_cold(content, out, tmp_path)


def test_a_renamed_topic_rewrites_the_pages_that_show_it(tmp_path: Path, rendered: list[str]) -> None:
    content, out = built_twice(tmp_path)
    rendered.clear()
    topics = content / "topics.toml"
    text = topics.read_text(encoding="utf-8")
    old_name = 'name = "Depression and Depressive Symptoms"'
    assert text.count(old_name) == 1
    topics.write_text(text.replace(old_name, 'name = "Depression and mood"'), encoding="utf-8")
    rebuild(content, out)
    # the issues with a depression article: 2020-01 and 2020-02; 2020-03 (alliance only) is untouched
    assert set(rendered) == ISSUE_2020_01 | {"2020-02-corrected"}
    assert "Depression and mood" in (out / "articles" / "2020-02-corrected.html").read_text(encoding="utf-8")
    same_as_cold(content, out, tmp_path)


def test_changed_site_settings_rewrite_every_article_page(tmp_path: Path, rendered: list[str]) -> None:
    content, out = built_twice(tmp_path)
    rendered.clear()
    retitled = dataclasses.replace(SITE, title="Another digest")
    rebuild(content, out, retitled)
    assert sorted(rendered) == sorted(p.stem for p in (out / "articles").iterdir())
    assert "Another digest" in (out / "articles" / "2020-03-march-news.html").read_text(encoding="utf-8")
    same_as_cold(content, out, tmp_path, retitled)


def test_an_edited_intro_rewrites_its_issue_pages_only(tmp_path: Path, rendered: list[str]) -> None:
    content, out = built_twice(tmp_path)
    rendered.clear()
    (content / "issues" / "2020-01" / "issue.toml").write_text('intro = "January, in short."\n', encoding="utf-8")
    rebuild(content, out)
    assert set(rendered) == ISSUE_2020_01
    assert "January, in short." in (out / "articles" / "2020-01-a-alliance-first.html").read_text(encoding="utf-8")
    same_as_cold(content, out, tmp_path)


def test_a_new_issue_renders_its_own_pages_and_links_the_rest(tmp_path: Path, rendered: list[str]) -> None:
    content, out = built_twice(tmp_path)
    rendered.clear()
    write_article(content, "2020-05", "new-one", title="A new issue", topics=["empathy", "depression"])
    first = rebuild(content, out)
    assert rendered == ["2020-05-new-one"]
    assert first.written.files == len(snapshot(out)) - 1  # every file but the manifest
    rendered.clear()
    again = rebuild(content, out).written  # the spare catches up from the live output: links, no rendering
    assert rendered == [] and again.written == 0 and again.linked == first.written.written
    same_as_cold(content, out, tmp_path)


def test_a_page_missing_from_the_spare_is_rendered_again(tmp_path: Path, rendered: list[str]) -> None:
    content, out = built_twice(tmp_path)
    rendered.clear()
    (spare_folder(out) / "articles" / "2020-01-c-depression.html").unlink()
    rebuild(content, out)
    assert rendered == ["2020-01-c-depression"]  # only that one: its bundle is otherwise as the manifest says
    same_as_cold(content, out, tmp_path)


def test_an_output_with_a_format_1_manifest_is_rebuilt_in_place(tmp_path: Path) -> None:
    """Built before bundles existed: one fingerprint per file, article pages included."""
    content, out = built_twice(tmp_path)
    for folder in (out, spare_folder(out)):
        files = {str(p.relative_to(folder)): "old" for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST}
        (folder / MANIFEST).write_text(json.dumps({"format": 1, "files": files}), encoding="utf-8")
    result = rebuild(content, out)
    assert result.written.written == result.written.files  # nothing is known: everything rendered again
    same_as_cold(content, out, tmp_path)


def test_a_damaged_bundle_list_in_the_spare_only_costs_a_full_render(tmp_path: Path) -> None:
    content, out = built_twice(tmp_path)
    manifest = spare_folder(out) / MANIFEST
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["bundles"] = {"articles:2020-01": "not a pair"}
    manifest.write_text(json.dumps(data), encoding="utf-8")
    rebuild(content, out)
    same_as_cold(content, out, tmp_path)
