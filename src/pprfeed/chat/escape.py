"""Making escaped text short enough for a limit, for Slack and Discord alike.

Escaping (chat/slack.py, chat/discord.py) comes first and measuring after it:
limits are counted on the escaped text, and `shorten` never cuts inside an
escape sequence or a link of either platform.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pprfeed.text import shorten as text_shorten

DIGEST_NAME = "PPRNet research digest"
FULL_TEXT_LABEL = "Read the full summary"

# Escapes a cut must never split: Slack `&amp;`-style entities and Discord backslash pairs.
_SLACK_ENTITY = re.compile(r"&(?:amp|lt|gt);")
_DISCORD_ESCAPE = re.compile(r"\\.")
# Whole links, which a cut must never split: Slack `<url|label>` and Discord `[label](url)`.
_SLACK_LINK = re.compile(r"<[^<>\n]*>")
_DISCORD_LINK = re.compile(r"(?<!\\)\[(?:\\.|[^\]\\\n])*\]\([^()\s]*\)")


def shorten(text: str, limit: int) -> str:
    """`text` if it fits, else cut at a word boundary with an ellipsis, never inside an escape, within `limit`."""
    return text_shorten(text, limit, keep_whole=_outside_escape)


def _outside_escape(text: str, cut: int) -> int:
    """Move `cut` back so it does not split `&amp;`-style entities, a `\\x` backslash pair or a link."""
    for link in (_SLACK_LINK, _DISCORD_LINK):
        for match in link.finditer(text, 0, min(len(text), cut + 4096)):
            if match.start() < cut < match.end():
                cut = match.start()
    for pattern in (_SLACK_ENTITY, _DISCORD_ESCAPE):
        for match in pattern.finditer(text, max(0, cut - 6), min(len(text), cut + 6)):
            if match.start() < cut < match.end():
                cut = match.start()
    return cut


def fit_linked(
    text: str,
    limit: int,
    link: Callable[[str, str], str],
    url: str,
    fallback_url: str = "",
    label: str = FULL_TEXT_LABEL,
) -> str:
    """`text` if it fits in `limit`; else shortened at a word boundary and followed by `link(url, label)`.

    A link that would take more than half the room (a hostile permalink) gives way to `fallback_url`, then to
    none: the limit holds whatever the URL."""
    if len(text) <= limit:
        return text
    for link_url in (url, fallback_url):
        more = " " + link(link_url, label)
        if link_url and len(more) <= limit // 2:
            return shorten(text, limit - len(more)) + more
    return shorten(text, limit)


# Slack mrkdwn has no escape for its formatting characters, and Discord does not render a backslash escape
# everywhere (link labels): in titles and citations each becomes a look-alike that formats nothing.
_LOOK_ALIKES = str.maketrans({"*": "∗", "_": "ˍ", "~": "∼", "`": "ˋ"})


def neutralise(text: str) -> str:
    """`*`, `_`, `~` and backticks as look-alikes, so a title or citation can never turn into formatting."""
    return text.translate(_LOOK_ALIKES)
