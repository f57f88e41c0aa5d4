"""Shared by test_feeds.py, test_site.py and test_build.py: a tricky archive on disk and built outputs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from conftest import empty_content, write_article
from pprfeed.archive.load import load_archive
from pprfeed.config import SiteSettings
from pprfeed.model import Archive
from pprfeed.site.build import BuildResult, build_site

NOW = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
SITE = SiteSettings(base_url="https://feeds.example.org/pprnet/", feed_limit=50)

NASTY_SUMMARY = """Therapists <script>alert("x")</script> read *this* and **that**,
see [the guide](../guide/page.html) and [a trap](javascript:alert(1)).

<img src=x onerror=alert(1)> ![chart](chart.png "Chart")

```
<script>code()</script>
```

# A top-level heading

- one
- two

> quoted <iframe src="https://evil.example/"></iframe>

---

Plain [mail](mailto:editor@example.org) and `<b>code</b>`."""


def make_tricky_archive(content: Path) -> Path:
    """Ties within a month, a correction sharing a day with a publication, a draft, a future issue, XSS."""
    empty_content(content)
    write_article(content, "2020-01", "b-alliance-second", title="Alliance <second>", topics=["alliance", "empathy"])
    write_article(
        content,
        "2020-01",
        "a-alliance-first",
        title="Alliance & first",
        topics=["alliance"],
        summary=NASTY_SUMMARY,
        doi="10.1037/pst0000172",
    )
    write_article(content, "2020-01", "c-depression", title="Depression third", topics=["depression"])
    write_article(
        content,
        "2020-02",
        "corrected",
        title="Corrected later",
        topics=["depression", "alliance"],
        extra="updated = 2020-03-05\n",
    )
    write_article(
        content,
        "2020-02",
        "on-the-blog",
        title="Has a blog permalink",
        topics=["empathy"],
        extra='permalink = "https://www.pprnet.ca/2020/02/on-the-blog/"\n',
    )
    (content / "issues" / "2020-03").mkdir()
    (content / "issues" / "2020-03" / "issue.toml").write_text("published = 2020-03-05\n", encoding="utf-8")
    write_article(content, "2020-03", "march-news", title="March news", topics=["alliance"])
    (content / "issues" / "2020-04").mkdir()
    (content / "issues" / "2020-04" / "issue.toml").write_text("draft = true\n", encoding="utf-8")
    write_article(content, "2020-04", "draft-article", title="Draft article", topics=["alliance"])
    write_article(content, "2099-01", "future-article", title="Future article", topics=["alliance"])
    return content


def load(content: Path) -> Archive:
    archive, diagnostics = load_archive(content)
    assert archive is not None, "\n".join(map(str, diagnostics))
    return archive


def build(content: Path, out: Path, site: SiteSettings = SITE, now: datetime = NOW) -> BuildResult:
    return build_site(load(content), site, out, now, content)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (hidden ones too) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
