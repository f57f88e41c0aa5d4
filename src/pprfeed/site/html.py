"""Article Markdown -> the small, safe HTML that feeds and pages carry, and plain text (markdown-it).

Only p, a, em, strong, ul, ol, li, blockquote and h2-h4 ever come out. Raw HTML
in the Markdown stays text (markdown-it's `html` option is off, so `<script>`
arrives here as text and is escaped); every other construct (images, code,
rules, breaks) is reduced to its escaped text or dropped. Link targets are made
absolute against the site's base URL and only http(s) and mailto survive.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from markdown_it import MarkdownIt

if TYPE_CHECKING:
    from markdown_it.token import Token

ALLOWED_TAGS = frozenset({"p", "a", "em", "strong", "ul", "ol", "li", "blockquote", "h2", "h3", "h4"})
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})

_BLOCK_TAGS = {
    "paragraph": "p",
    "bullet_list": "ul",
    "ordered_list": "ol",
    "list_item": "li",
    "blockquote": "blockquote",
}
_INLINE_TAGS = {"em": "em", "strong": "strong"}
# Readers are known to render "plain text" fields as HTML anyway: drop anything shaped like a tag
# (`p < .05` stays, `<script>` goes).
_TAG_LIKE = re.compile(r"</?[A-Za-z!?][^<>]*>")
# A `<` that could still open a tag once the text is read as HTML (`<script` never closed).
_TAG_OPENER = re.compile(r"<(?=[A-Za-z/!?])")
_STRIP_PASSES = 8
"""Enough for every nesting seen in the wild (`<scr<script>ipt>` needs two); past it, openers are spaced off."""


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def escape_text(text: str) -> str:
    """HTML-escape text and attribute values (&, <, >, ")."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def plain_text(text: str) -> str:
    """`text` with nothing a reader could take for markup, for fields that are plain text (titles,
    summaries, descriptions) but that readers are known to render as HTML.

    Entities are decoded and tags removed until neither changes the text, so neither a tag rebuilt by
    removing another (`<scr<script>ipt>`) nor one spelled as entities (`&lt;script&gt;`) survives; a
    `<` that could still open a tag is followed by a space. The serializer escapes the result.
    """
    for _ in range(_STRIP_PASSES):
        stripped = _TAG_LIKE.sub("", html.unescape(text))
        if stripped == text:
            break
        text = stripped
    return _TAG_OPENER.sub("< ", text)


def safe_url(href: str, base_url: str) -> str | None:
    """`href` made absolute against `base_url`, or None when its scheme is not http(s)/mailto."""
    absolute = urljoin(base_url, href.strip())
    scheme = urlsplit(absolute).scheme.lower()
    return absolute if scheme in SAFE_SCHEMES else None


def parse_markdown(markdown: str) -> list[Token]:
    """markdown-it's tokens for `markdown`: parse once, then take its HTML and its text from them."""
    return _parser().parse(markdown)


def markdown_html(markdown: str | list[Token], base_url: str) -> str:
    """The restricted HTML of `markdown` (or of its tokens); relative links are resolved against `base_url`."""
    tokens = parse_markdown(markdown) if isinstance(markdown, str) else markdown
    return _render_blocks(tokens, base_url)


def markdown_text(markdown: str | list[Token]) -> str:
    """Plain text of `markdown` (or of its tokens): paragraphs separated by blank lines, no markup, no tag-like text."""
    tokens = parse_markdown(markdown) if isinstance(markdown, str) else markdown
    blocks: list[str] = []
    for token in tokens:
        if token.type == "inline":
            blocks.append(_inline_text(token.children or []))
        elif token.type in ("fence", "code_block"):
            blocks.append(token.content.strip())
    return "\n\n".join(cleaned for block in blocks if (cleaned := plain_text(block).strip()))


def _inline_text(children: list[Token]) -> str:
    parts = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(_inline_text(child.children or []))
    return "".join(parts).strip()


def _render_blocks(tokens: list[Token], base_url: str) -> str:
    out: list[str] = []
    for token in tokens:
        kind = token.type
        if kind == "inline":
            out.append(_render_inline(token.children or [], base_url))
        elif kind.endswith("_open") or kind.endswith("_close"):
            tag = _block_tag(token)
            if tag is None or token.hidden:
                continue
            closing = kind.endswith("_close")
            out.append(f"</{tag}>" if closing else f"<{tag}>")
            if closing or tag in ("ul", "ol", "blockquote"):
                out.append("\n")
        elif kind in ("fence", "code_block") and token.content.strip():
            # code has no place in a summary: keep its words, lose the formatting
            out.append(f"<p>{escape_text(token.content.strip())}</p>\n")
        elif kind == "html_block" and token.content.strip():  # only if `html` were ever turned on
            out.append(f"<p>{escape_text(token.content.strip())}</p>\n")
        # hr and anything unknown: dropped
    return "".join(out)


def _block_tag(token: Token) -> str | None:
    name = token.type.rsplit("_", 1)[0]
    if name == "heading":
        level = int(token.tag[1:])
        return f"h{min(max(level, 2), 4)}"  # h1 -> h2, h5/h6 -> h4: entries sit under the reader's own heading
    return _BLOCK_TAGS.get(name)


def _render_inline(children: list[Token], base_url: str) -> str:
    out: list[str] = []
    open_links: list[bool] = []
    for child in children:
        kind = child.type
        if kind == "text":
            out.append(escape_text(child.content))
        elif kind in ("softbreak", "hardbreak"):  # no <br> in the allowed set
            out.append("\n")
        elif kind in ("code_inline", "html_inline"):  # raw HTML only if `html` were ever turned on
            out.append(escape_text(child.content))
        elif kind == "image":
            out.append(escape_text(_inline_text(child.children or [])))
        elif kind == "link_open":
            href = safe_url(str(child.attrs.get("href", "")), base_url)
            open_links.append(href is not None)
            if href is not None:
                out.append(f'<a href="{escape_text(href)}">')
        elif kind == "link_close":
            if open_links.pop():
                out.append("</a>")
        elif kind.endswith("_open") or kind.endswith("_close"):
            tag = _INLINE_TAGS.get(kind.rsplit("_", 1)[0])
            if tag:
                out.append(f"</{tag}>" if kind.endswith("_close") else f"<{tag}>")
        elif child.content:
            out.append(escape_text(child.content))
    return "".join(out)
