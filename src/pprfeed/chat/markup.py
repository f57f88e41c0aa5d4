"""Article Markdown -> a chat platform's paragraphs, escaped so nothing in it can ping or format.

Summaries are mostly plain paragraphs; emphasis, links, lists, quotes and
headings are carried over simply, everything else becomes text. Every piece of
text goes through the platform's escape (its `Dialect`, defined in chat/slack.py
and chat/discord.py), so `<!channel>` or `@everyone` in a summary stays inert
and `Flückiger` stays `Flückiger`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:  # imported when first needed: the bots, which never render Markdown, start faster
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

_SAFE_SCHEMES = ("http://", "https://", "mailto:")
_LINK_BREAKERS = re.compile(r"[|<>\s]")
"""What ends a Slack link target early (`|` starts the label, `>` closes it) or splits it (white space)."""


def link_target(url: str) -> str:
    """`url` safe inside `<…|label>`: each breaking character percent-encoded, everything else (an existing
    `%23`, say) left as it is, so that a URL is encoded once."""
    return _LINK_BREAKERS.sub(lambda match: quote(match.group(), safe=""), url)


@dataclass(frozen=True)
class Dialect:
    """How one platform writes text, emphasis, links, list bullets and quotes."""

    escape: Callable[[str], str]
    strong: str
    emphasis: str
    link: Callable[[str, str], str]
    bullet: str = "•"
    quote: str = "> "


@functools.cache
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")


def to_paragraphs(markdown: str, dialect: Dialect) -> list[str]:
    """The Markdown as the platform's markup, one string per paragraph (list items and quotes included)."""
    paragraphs: list[str] = []
    prefixes: list[str] = []
    ordered: list[int | None] = []
    tokens = _parser().parse(markdown)
    for index, token in enumerate(tokens):
        if token.type == "bullet_list_open":
            ordered.append(None)
        elif token.type == "ordered_list_open":
            ordered.append(int(token.attrGet("start") or 1))
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            ordered.pop()
        elif token.type == "blockquote_open":
            prefixes.append(dialect.quote)
        elif token.type == "blockquote_close":
            prefixes.pop()
        elif token.type == "inline":
            text = _inline(token.children or [], dialect)
            opener = tokens[index - 1] if index else None
            if opener is not None and opener.type == "heading_open":
                text = f"{dialect.strong}{text}{dialect.strong}" if text else text
            in_item = any(t.type == "list_item_open" for t in tokens[max(0, index - 2) : index])
            if in_item and ordered:
                number = ordered[-1]
                if number is None:
                    marker = f"{dialect.bullet} "
                else:
                    marker = f"{number}. "
                    ordered[-1] = number + 1
                text = marker + text
            if text.strip():
                paragraphs.append("".join(prefixes) + text.replace("\n", "\n" + "".join(prefixes)))
        elif token.type in ("fence", "code_block", "html_block"):
            # raw HTML (`<p>…`, `<!-- -->`, a line starting `<!channel>`) is kept as escaped text, never dropped
            code = dialect.escape(token.content.rstrip("\n"))
            paragraphs.append("".join(prefixes) + code.replace("\n", "\n" + "".join(prefixes)))
    return _join_list_items(paragraphs, dialect)


def _join_list_items(paragraphs: list[str], dialect: Dialect) -> list[str]:
    """Consecutive list items read as one paragraph, one item a line."""
    joined: list[str] = []
    for paragraph in paragraphs:
        is_item = paragraph.lstrip("> ").startswith(f"{dialect.bullet} ") or _numbered(paragraph.lstrip("> "))
        previous = joined[-1].split("\n")[-1].lstrip("> ") if joined else ""
        if is_item and (previous.startswith(f"{dialect.bullet} ") or _numbered(previous)):
            joined[-1] += "\n" + paragraph
        else:
            joined.append(paragraph)
    return joined


def _numbered(line: str) -> bool:
    head, _, _ = line.partition(". ")
    return head.isdigit() and len(head) < 4 and ". " in line


def _inline(children: list[Token], dialect: Dialect) -> str:
    out: list[str] = []
    link_stack: list[tuple[str, int, int]] = []  # href, where its label starts in out and in children
    for position, child in enumerate(children):
        kind = child.type
        if kind in ("text", "html_inline", "code_inline"):
            out.append(dialect.escape(child.content))
        elif kind in ("softbreak",):
            out.append(" ")
        elif kind == "hardbreak":
            out.append("\n")
        elif kind in ("strong_open", "strong_close"):
            out.append(dialect.strong)
        elif kind in ("em_open", "em_close"):
            out.append(dialect.emphasis)
        elif kind == "link_open":
            link_stack.append((str(child.attrGet("href") or ""), len(out), position))
        elif kind == "link_close" and link_stack:
            href, start, opened = link_stack.pop()
            label_tokens = out[start:]
            del out[start:]
            label = _plain(children[opened + 1 : position]) or href
            if href.startswith(_SAFE_SCHEMES):
                out.append(dialect.link(href, label))
            else:
                out.extend(label_tokens)
        elif kind == "image":
            out.append(dialect.escape(child.content or ""))
    return "".join(out).strip()


def _plain(label: list[Token]) -> str:
    """The unformatted text of a link's label tokens (labels are escaped by the link function)."""
    parts = []
    for token in label:
        if token.type in ("text", "code_inline", "html_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)
