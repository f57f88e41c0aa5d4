from __future__ import annotations

from pathlib import Path

import pytest

from pprfeed.content import load_archive
from pprfeed.model import Archive

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
# A copy of ../shared/seed/pprnet-blog.txt, the blog page the archive was imported from,
# so the importer tests need nothing outside the repository.
SEED = ROOT / "tests" / "data" / "pprnet-blog.txt"


@pytest.fixture(scope="session")
def archive() -> Archive:
    loaded, diagnostics = load_archive(CONTENT)
    assert loaded is not None, "\n".join(map(str, diagnostics))
    return loaded
