"""Making text inert and short enough for Slack and Discord.

Escaping comes first and measuring after it: limits are counted on the escaped
text, and `shorten` never cuts inside an escape sequence.
"""

from __future__ import annotations

import re
from collections.abc import Callable

ELLIPSIS = "…"
DIGEST_NAME = "PPRNet research digest"
FULL_TEXT_LABEL = "Read the full summary"

# Formatting anywhere in a line: emphasis, code, spoilers, links, and `<@…>`/`<#…>`/`<t:…>` tags.
_DISCORD_INLINE = re.compile(r"([\\*_~`|\[\]<>])")
# Formatting only at the start of a line: headings, quotes, lists, `-#` subtext.
_DISCORD_LINE_START = re.compile(r"^([ \t]*)([#>+\-])", re.M)
_DISCORD_NUMBERED = re.compile(r"^([ \t]*\d+)\.", re.M)
_DISCORD_MENTION = re.compile(r"@(everyone|here)", re.I)
_DISCORD_TAG = re.compile(r"(<|@(?=everyone|here))", re.I)
_DISCORD_LABEL_SPECIAL = re.compile(r"([\\*_~`|<>]|@(?=everyone|here))", re.I)
_SLACK_ENTITY = re.compile(r"&(?:amp|lt|gt);")
_DISCORD_ESCAPE = re.compile(r"\\.")
# Whole links, which a cut must never split: Slack `<url|label>` and Discord `[label](url)`.
_SLACK_LINK = re.compile(r"<[^<>\n]*>")
_DISCORD_LINK = re.compile(r"(?<!\\)\[(?:\\.|[^\]\\\n])*\]\([^()\s]*\)")


def slack_escape(text: str) -> str:
    """Slack mrkdwn: `&`, `<` and `>` become entities, so `<!channel>` or `<@U123>` stay text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_link(url: str, label: str) -> str:
    """`<url|label>` with both parts escaped; `|` in a label would end it early, so it becomes a look-alike."""
    return f"<{slack_escape(url)}|{slack_escape(label).replace('|', '∣')}>"


def discord_escape(text: str) -> str:
    """Discord markdown: the characters that would format backslashed; @everyone/@here broken with a zero-width space.

    Only what formats is escaped (a hyphen or parenthesis mid-sentence stays as it is), so text that Discord shows
    unrendered in some clients (notifications, search) is still readable. Pings are also prevented by
    `allowed_mentions` on every request; this keeps them from even looking like one.
    """
    escaped = _DISCORD_INLINE.sub(r"\\\1", text)
    escaped = _DISCORD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)
    escaped = _DISCORD_NUMBERED.sub(lambda m: m.group(1) + "\\.", escaped)
    return _DISCORD_MENTION.sub("@\u200b\\1", escaped)


def discord_plain(text: str) -> str:
    """For places Discord shows without rendering markdown (embed titles), where a backslash would show.

    Nothing is escaped; a zero-width space after `<` and `@` still breaks `<@…>` tags and @everyone/@here.
    """
    return _DISCORD_TAG.sub("\\1\u200b", text)


def discord_label(text: str) -> str:
    """The label of a `[label](url)` masked link, where backslash escapes are not rendered.

    Brackets become parentheses (they would end the link); after every formatting character a zero-width space
    breaks its pairing (`**`, `||`, `<@…>`), invisibly.
    """
    return _DISCORD_LABEL_SPECIAL.sub("\\1\u200b", text.replace("[", "(").replace("]", ")"))


def shorten(text: str, limit: int, ellipsis: str = ELLIPSIS) -> str:
    """`text` if it fits, else cut at a word boundary with `ellipsis`, never inside an escape, within `limit`."""
    if len(text) <= limit:
        return text
    room = limit - len(ellipsis)
    if room <= 0:
        return ellipsis[:limit]
    cut = text.rfind(" ", 0, room + 1)
    if cut <= room // 2:  # one enormous word: cut inside it rather than lose most of the room
        cut = room
    cut = _outside_escape(text, cut)
    return text[:cut].rstrip() + ellipsis


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
