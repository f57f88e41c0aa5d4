"""LiveArchive: what the bots answer from, reloaded when the content folder changes."""

from __future__ import annotations

import os
from datetime import date

import pytest

from conftest import copy_content, write_article
from pprfeed.bots.live import ArchiveUnavailable, LiveArchive
from pprfeed.config import SiteSettings


@pytest.fixture
def content(tmp_path):
    return copy_content(tmp_path)


def live_for(content, today=date.today) -> LiveArchive:
    live = LiveArchive(content, site=SiteSettings(), command="/ppr-topic", today=today)
    live.load()
    return live


def titles(live: LiveArchive, query: str) -> list[str]:
    return [a.title for a in live.snapshot.engine.find(query).articles]


def test_nothing_changed_means_no_reload(content):
    live = live_for(content)
    before = live.snapshot
    assert live.refresh() is False and live.snapshot is before


def test_added_edited_and_removed_files_are_picked_up(content):
    live = live_for(content)
    path = write_article(content, "2019-02", "new-one", "Zebrafish alliance", ["alliance"])
    assert live.refresh() is True
    assert titles(live, "zebrafish") == ["Zebrafish alliance"]
    path.write_text(path.read_text().replace("Zebrafish alliance", "Zebrafish rupture"), "utf-8")
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9, path.stat().st_mtime_ns + 10**9))
    assert live.refresh() is True
    assert titles(live, "zebrafish") == ["Zebrafish rupture"]
    path.unlink()
    path.parent.rmdir()
    assert live.refresh() is True
    assert titles(live, "zebrafish") == []
    assert live.snapshot.engine.prepared  # reloads build the text index before swapping in


def test_broken_content_keeps_the_last_good_archive(content, caplog):
    live = live_for(content)
    good = live.snapshot
    (content / "issues" / "2019-03").mkdir()
    (content / "issues" / "2019-03" / "broken.md").write_text("no front matter", "utf-8")
    assert live.refresh() is False
    assert live.snapshot is good
    assert "front matter missing" in caplog.text and "previous archive" in caplog.text
    caplog.clear()
    assert live.refresh() is False and caplog.text == ""  # unchanged broken content is not loaded again
    (content / "issues" / "2019-03" / "broken.md").unlink()
    write_article(content, "2019-03", "fixed", "Fixed article", ["empathy"])
    assert live.refresh() is True and titles(live, "fixed article") == ["Fixed article"]


def test_a_future_issue_appears_on_its_day_without_any_file_change(content):
    write_article(content, "2030-01", "future", "From the future", ["alliance"])
    day = {"today": date(2029, 12, 31)}
    live = live_for(content, today=lambda: day["today"])
    assert titles(live, "future") == []
    day["today"] = date(2030, 1, 1)
    assert live.refresh() is True
    assert titles(live, "future") == ["From the future"]


def test_a_broken_folder_at_start_up_is_an_error_with_diagnostics(tmp_path):
    with pytest.raises(ArchiveUnavailable) as failure:
        LiveArchive(tmp_path / "missing", site=SiteSettings(), command="/x").load()
    assert "content folder not found" in str(failure.value.diagnostics[0])
