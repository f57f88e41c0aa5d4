"""An Issue -> Slack messages (Block Kit + plain-text fallback) as plain data, within Slack's limits by construction.

Every limit is measured on the escaped text. Text that must be shortened is cut
at a word boundary (never inside an escape or a link) and followed by a link to
the full summary, so nothing is ever cut silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pprfeed.chat.escape import DIGEST_NAME, FULL_TEXT_LABEL, fit_linked, shorten, slack_escape, slack_link
from pprfeed.chat.markup import SLACK, to_paragraphs
from pprfeed.config import SiteSettings
from pprfeed.links import article_url
from pprfeed.model import Article, Issue

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_MESSAGE_TEXT = 12_000
"""Slack accepts more, but messages beyond ~12,000 characters are truncated or rejected in practice."""
MAX_FALLBACK_TEXT = 300
MAX_LINK = 1000
"""Longest `<url|label>` put in a title or DOI line; a longer one (a hostile permalink) is left out."""

SlackMessage = dict[str, Any]


def render_slack_issue(
    issue: Issue, articles: Sequence[Article], topic_names: Mapping[str, str], site: SiteSettings
) -> list[SlackMessage]:
    """The messages that carry `articles` of `issue`, in order; every one within every Slack limit."""
    article_blocks = [_article_blocks(article, topic_names, site) for article in articles]
    opening = _opening_blocks(issue, site)
    # leave room for the "part k of n" context block and the fallback text
    budget = MAX_MESSAGE_TEXT - MAX_FALLBACK_TEXT - 200
    groups: list[list[dict[str, Any]]] = [list(opening)]
    titles: list[list[str]] = [[]]
    for article, blocks in zip(articles, article_blocks, strict=True):
        current = groups[-1]
        fits = len(current) + len(blocks) + 1 <= MAX_BLOCKS and _size(current) + _size(blocks) <= budget
        if not fits and current:  # an article alone always fits, by the budgets in _article_blocks
            groups.append([])
            titles.append([])
        groups[-1].extend(blocks)
        titles[-1].append(article.title)
    total = len(groups)
    messages = []
    for number, (blocks, names) in enumerate(zip(groups, titles, strict=True), start=1):
        if total > 1:  # later parts say at their top what they continue; the first says it at its end
            context = _part_context(issue, number, total)
            blocks = [*blocks, context] if number == 1 else [context, *blocks]
        fallback = f"{DIGEST_NAME} — {issue.title}"
        if total > 1:
            fallback += f" (part {number} of {total})"
        if names:
            fallback += ": " + "; ".join(names)
        messages.append(
            {
                "text": shorten(slack_escape(fallback), MAX_FALLBACK_TEXT),
                "blocks": blocks,
                "unfurl_links": False,
                "unfurl_media": False,
            }
        )
    return messages


def _opening_blocks(issue: Issue, site: SiteSettings) -> list[dict[str, Any]]:
    header = shorten(f"{DIGEST_NAME} — {issue.title}", MAX_HEADER_TEXT)
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": header}}]
    if issue.intro.strip():
        intro = "\n\n".join(to_paragraphs(issue.intro, SLACK))
        blocks.append(_section(fit(intro, 1500, site.base_url, label="Read the issue")))
    return blocks


def _part_context(issue: Issue, number: int, total: int) -> dict[str, Any]:
    text = f"{slack_escape(f'{DIGEST_NAME} — {issue.title}')} · part {number} of {total}"
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _article_blocks(article: Article, topic_names: Mapping[str, str], site: SiteSettings) -> list[dict[str, Any]]:
    url = article_url(article, site)
    title_link = slack_link(url, shorten(article.title, 200))
    if len(title_link) > MAX_LINK:
        title_link = shorten(slack_escape(article.title), 200)
    title_line = f"*{title_link}*"
    citation = fit(slack_escape(article.citation), MAX_SECTION_TEXT - len(title_line) - 1, url, site.base_url)
    blocks = [_section(f"{title_line}\n{citation}")]
    summary = "\n\n".join(to_paragraphs(article.summary_md, SLACK))
    if summary:
        blocks.append(_section(fit(summary, MAX_SECTION_TEXT, url, site.base_url)))
    implications = to_paragraphs(article.implications_md, SLACK)
    if implications:
        quoted = "\n".join("> " + line for paragraph in implications for line in paragraph.split("\n"))
        heading = "*Practice implications*\n"
        blocks.append(_section(heading + fit(quoted, MAX_SECTION_TEXT - len(heading), url, site.base_url)))
    context = []
    names = [topic_names.get(slug, slug) for slug in article.topics]
    if names:
        context.append(_mrkdwn(shorten("Topics: " + slack_escape(", ".join(names)), 1000)))
    if article.doi and article.doi_url:
        doi = slack_link(article.doi_url, shorten(article.doi, 200))
        context.append(_mrkdwn("DOI: " + (doi if len(doi) <= MAX_LINK else shorten(slack_escape(article.doi), 200))))
    if context:
        blocks.append({"type": "context", "elements": context})
    blocks.append({"type": "divider"})
    return blocks


def fit(text: str, limit: int, url: str, fallback_url: str = "", label: str = FULL_TEXT_LABEL) -> str:
    """`fit_linked` with this platform's links."""
    return fit_linked(text, limit, slack_link, url, fallback_url, label)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text)}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def _texts(value: Any) -> list[str]:
    """Every `text` string inside blocks, as Slack counts them."""
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                found.append(item)
            else:
                found.extend(_texts(item))
        return found
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return []


def _size(blocks: Sequence[dict[str, Any]]) -> int:
    return sum(len(text) for text in _texts(list(blocks)))


def message_size(message: SlackMessage) -> int:
    """Characters of text in a message: the blocks' text plus the fallback."""
    return _size(message["blocks"]) + len(message["text"])


def limit_problems(message: SlackMessage) -> list[str]:
    """Every Slack limit this message breaks (empty for anything `render_slack_issue` made)."""
    problems = []
    blocks = message["blocks"]
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks (Slack allows {MAX_BLOCKS})")
    for number, block in enumerate(blocks, start=1):
        kind = block["type"]
        if kind == "header" and len(block["text"]["text"]) > MAX_HEADER_TEXT:
            problems.append(
                f"block {number}: header of {len(block['text']['text'])} characters (max {MAX_HEADER_TEXT})"
            )
        if kind == "section" and len(block["text"]["text"]) > MAX_SECTION_TEXT:
            problems.append(
                f"block {number}: section of {len(block['text']['text'])} characters (max {MAX_SECTION_TEXT})"
            )
        if kind == "context":
            if len(block["elements"]) > MAX_CONTEXT_ELEMENTS:
                problems.append(
                    f"block {number}: {len(block['elements'])} context elements (max {MAX_CONTEXT_ELEMENTS})"
                )
            for element in block["elements"]:
                if len(element["text"]) > MAX_SECTION_TEXT:
                    problems.append(f"block {number}: context text of {len(element['text'])} characters")
    if message_size(message) > MAX_MESSAGE_TEXT:
        problems.append(f"{message_size(message)} characters in all (keep under {MAX_MESSAGE_TEXT})")
    if message.get("unfurl_links") is not False or message.get("unfurl_media") is not False:
        problems.append("link unfurling is not off")
    return problems
