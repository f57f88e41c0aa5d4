"""Shared by every test module: the real archive, and content folders written into tmp."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pprfeed.archive.load import load_archive
from pprfeed.model import Archive

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
# The text of a PPRNet blog page, the one the six articles in content/ were imported from:
# the importer tests read it to check they reproduce those files.
SEED = ROOT / "tests" / "data" / "pprnet-blog.txt"


@pytest.fixture(scope="session")
def archive() -> Archive:
    loaded, diagnostics = load_archive(CONTENT)
    assert loaded is not None, "\n".join(map(str, diagnostics))
    return loaded


def copy_content(tmp_path: Path) -> Path:
    """A copy of the real archive at tmp_path/content, for a test to change."""
    folder = tmp_path / "content"
    shutil.copytree(CONTENT, folder)
    return folder


def empty_content(folder: Path) -> Path:
    """A content folder with the real topic vocabulary and no issues yet (replacing whatever was there)."""
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "issues").mkdir(parents=True)
    shutil.copy(CONTENT / "topics.toml", folder / "topics.toml")
    return folder


def write_article(
    content: Path,
    month: str,
    slug: str,
    title: str,
    topics: list[str],
    *,
    summary: str = "A summary of a study.",
    implications: str = "Clinicians may consider this.",
    doi: str | None = None,
    extra: str = "",
) -> Path:
    """A well-formed article file at issues/<month>/<slug>.md; `extra` adds front-matter lines."""
    folder = content / "issues" / month
    folder.mkdir(parents=True, exist_ok=True)
    citation = f"Tester, A. B., & Other, C. D. (2020). {slug}. Journal, 1(1), 1-10."
    if doi is not None:
        extra = f"doi = {json.dumps(doi)}\n{extra}"
    path = folder / f"{slug}.md"
    path.write_text(
        f"+++\ntitle = {json.dumps(title)}\ntopics = {json.dumps(topics)}\ncitation = {json.dumps(citation)}\n"
        f"{extra}+++\n{summary}\n\n## Practice Implications\n\n{implications}\n",
        encoding="utf-8",
    )
    return path


def content_with_studies(tmp_path: Path, studies: int, hostile_title: str | None = None) -> Path:
    """The real archive plus `studies` alliance articles in 2019-05 ("Alliance study 0" …, each with a DOI),
    enough for pages of bot answers, and an empathy article in 2019-06 with `hostile_title` if one is given."""
    content = copy_content(tmp_path)
    for number in range(studies):
        slug = f"alliance-extra-{number}"
        write_article(content, "2019-05", slug, f"Alliance study {number}", ["alliance"], doi=f"10.1000/{slug}")
    if hostile_title is not None:
        write_article(content, "2019-06", "hostile", hostile_title, ["empathy"])
    return content


@pytest.fixture(autouse=True, scope="session")
def _the_checkout_is_left_as_it_was():
    """No test may write state into the repository: `.pprfeed/` here is where a real deployment keeps its ledger."""
    state = ROOT / ".pprfeed"
    existed = state.exists()
    yield
    assert existed or not state.exists(), f"a test created {state}: run it in tmp_path (monkeypatch.chdir)"


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """`path` (a file or a folder) made read-only, even for root (who ignores permission bits: chattr +i)."""
    mode = path.stat().st_mode
    as_root = os.geteuid() == 0
    if as_root:
        made = subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0
    else:
        path.chmod(mode & ~0o222)
        made = True
    try:
        probe = path / ".probe" if path.is_dir() else path
        try:
            with open(probe, "ab"):
                pass
            writable = True
            if path.is_dir():
                probe.unlink()
        except OSError:
            writable = False
        if writable or not made:
            pytest.skip("this file system cannot make a file read-only")
        yield
    finally:
        if as_root:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True)
        else:
            path.chmod(mode)
