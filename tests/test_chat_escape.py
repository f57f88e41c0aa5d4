"""chat/escape.py: shortening escaped text never splits an escape or a link, and says when it cut."""

from __future__ import annotations

from pprfeed.chat.escape import shorten


def test_shorten_never_splits_a_link() -> None:
    link = "<https://example.org/a|a long label here>"
    text = "word " * 5 + link + " tail"
    cut = shorten(text, 40)
    assert link not in cut or cut.endswith("…")
    assert "<https" not in cut  # the link did not fit whole, so it is left out entirely


def test_shorten_never_splits_an_entity_or_a_backslash_escape() -> None:
    assert shorten("a" * 10 + "&amp;" + "b" * 10, 14) == "a" * 10 + "…"
    assert shorten("a" * 10 + "\\*" + "b" * 10, 12) == "a" * 10 + "…"
    assert shorten("short", 40) == "short"
