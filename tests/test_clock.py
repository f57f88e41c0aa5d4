"""One clock: `build` and `publish` decide which day it is alike (UTC by default), whatever the machine's TZ."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import copy_content, write_article
from pprfeed.config import SiteSettings

FAR_EAST, FAR_WEST = "Pacific/Kiritimati", "Pacific/Pago_Pago"  # UTC+14, UTC-11


def dated_issue(content: Path, day: datetime, slug: str) -> None:
    month = f"{day:%Y-%m}"
    write_article(content, month, slug, f"Issue of {day:%Y-%m-%d}", ["alliance"])
    (content / "issues" / month / "issue.toml").write_text(f"published = {day:%Y-%m-%d}\n", encoding="utf-8")


def pprfeed(tz: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "TZ": tz}
    return subprocess.run(
        [sys.executable, "-m", "pprfeed", *args], cwd=cwd, env=environ, capture_output=True, text=True, check=False
    )


def test_the_site_day_is_the_utc_day_by_default() -> None:
    moment = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    assert SiteSettings().today(moment) == moment.date()


def test_a_timezone_setting_moves_the_day() -> None:
    moment = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    assert SiteSettings(timezone="Asia/Tokyo").today(moment) == moment.date() + timedelta(days=1)


def published_on(tmp_path: Path, day: datetime) -> Path:
    """The real archive and one more issue, published on `day`."""
    content = copy_content(tmp_path)
    dated_issue(content, day, "the-new-one")
    return content


@pytest.mark.slow
# far west, the local day is yesterday's until 11:00 UTC; far east, tomorrow's from 10:00 UTC: between the two,
# a clock that followed TZ would fail one of these at any hour
@pytest.mark.parametrize(("tz", "days"), [(FAR_WEST, 0), (FAR_EAST, 1)], ids=["today-far-west", "tomorrow-far-east"])
def test_build_and_publish_agree_on_the_day_whatever_tz(tmp_path: Path, tz: str, days: int) -> None:
    day = datetime.now(UTC) + timedelta(days=days)
    content = published_on(tmp_path, day)
    built = pprfeed(tz, tmp_path, "build", "--content", str(content), "--out", str(tmp_path / "feeds"))
    assert built.returncode == 0, built.stderr
    page = tmp_path / "feeds" / "articles" / f"{day:%Y-%m}-the-new-one.html"
    previewed = pprfeed(tz, tmp_path, "publish", "--dry-run", "--content", str(content))
    assert (page.exists(), f"Issue of {day:%Y-%m-%d}" in previewed.stdout) == (days == 0, days == 0)
