"""Everything pprfeed sends to Slack, as plain data: issue posts (Block Kit + fallback text) and `/ppr-topic` answers.

An issue post is a digest (per article: linked title, gist, short citation,
topics, a link to the summary; chat/digest.py says what) or the full text.
Pure: the model in, JSON-ready dicts out, within Slack's limits by construction.
Every limit is measured on the escaped text. Text that must be shortened is cut
at a word boundary (never inside an escape or a link) and followed by a link to
the full summary, so nothing is ever cut silently. Per-block limits are
slack_sdk's own (its Block Kit models); the message-level ones are kept here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block, HeaderBlock, SectionBlock

from pprfeed.archive.search import MAX_QUERY_CHARS, MatchKind, QueryResult, explain
from pprfeed.chat.answers import (
    BUTTON_LABELS,
    QUERY_ECHO,
    Action,
    ButtonState,
    ResultContext,
    button_state,
    buttons,
    empty_line,
    heading,
    help_topics,
    page_footer,
    page_of,
    safe_url,
    suggestion_names,
)
from pprfeed.chat.digest import citation_of, gist, topic_line
from pprfeed.chat.digest import heading as digest_heading
from pprfeed.chat.escape import DIGEST_NAME, FULL_TEXT_LABEL, fit_linked, neutralise, shorten
from pprfeed.chat.markup import Dialect, link_target, to_paragraphs
from pprfeed.config import SiteSettings
from pprfeed.links import article_url
from pprfeed.model import Article, Issue, month_title

MAX_BLOCKS = 50
MAX_TEXT = SectionBlock.text_max_length
"""3,000: a section's text, and any one text object's."""
MAX_HEADER_TEXT = HeaderBlock.text_max_length
MAX_MESSAGE_TEXT = 8_000
"""Characters of block text in one issue post. Slack refuses more than an undocumented limit, reported between
about 11,300 and 13,200 (`msg_blocks_too_long`, slackapi/bolt-js#2867 and #2509): this leaves a margin, and a
refused part is split (publish/deliver.py)."""
PART_CONTEXT = 250
"""Block text kept free in each message for its "part k of n" line."""
INTRO_DIGEST = 600
INTRO_FULL = 1500
SUMMARY_LABEL = "Read the summary"
MAX_FALLBACK_TEXT = 3000
"""Slack cuts `text` at 40,000 characters; a notification line needs far less, so more is a bug."""
POST_FALLBACK_TEXT = 300
"""An issue post's notification line: the digest, the issue and the titles it carries, shortened."""
MAX_LINK = 1000
"""Longest `<url|label>` put in a title or DOI line; a longer one (a hostile permalink) is left out."""
ACTION_PREFIX = "ppr_topic_"

Message = dict[str, Any]


def slack_escape(text: str) -> str:
    """Slack mrkdwn: `&`, `<` and `>` become entities, so `<!channel>` or `<@U123>` stay text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_link(url: str, label: str) -> str:
    """`<url|label>` with both parts escaped; `|` in a label would end it early, so it becomes a look-alike."""
    return f"<{slack_escape(link_target(url))}|{slack_escape(label).replace('|', '∣')}>"


DIALECT = Dialect(escape=slack_escape, strong="*", emphasis="_", link=slack_link)


def fit(text: str, limit: int, url: str, fallback_url: str = "", label: str = FULL_TEXT_LABEL) -> str:
    """`fit_linked` with Slack's links."""
    return fit_linked(text, limit, slack_link, url, fallback_url, label)


# --- issue posts -----------------------------------------------------------------------------------


def issue_messages(
    issue: Issue,
    articles: Sequence[Article],
    topic_names: Mapping[str, str],
    site: SiteSettings,
    format: str = "digest",
) -> list[Message]:
    """The messages that carry `articles` of `issue` as a digest or in full (chat/digest.py FORMATS), in
    order; every one within every Slack limit."""
    heading = f"{DIGEST_NAME} — {digest_heading(issue, len(articles))}"
    if format == "digest":
        blocks = [_digest_blocks(article, topic_names, site) for article in articles]
        return _pack(heading, _opening_blocks(issue, heading, site, INTRO_DIGEST), articles, blocks)
    if format == "full":
        blocks = [_article_blocks(article, topic_names, site) for article in articles]
        return _pack(heading, _opening_blocks(issue, heading, site, INTRO_FULL), articles, blocks)
    raise ValueError(f"unknown format {format!r}")


def _pack(
    heading: str,
    opening: list[dict[str, Any]],
    articles: Sequence[Article],
    article_blocks: Sequence[list[dict[str, Any]]],
) -> list[Message]:
    """The articles' blocks in as few messages as the limits allow, each part saying which it is."""
    budget = MAX_MESSAGE_TEXT - PART_CONTEXT  # room for the "part k of n" context block
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
            context = _plain_context(f"{shorten(slack_escape(heading), 200)} · part {number} of {total}")
            blocks = [*blocks, context] if number == 1 else [context, *blocks]
        messages.append(_message(heading, blocks, names, number, total))
    return messages


def _message(heading: str, blocks: list[dict[str, Any]], titles: list[str], number: int, total: int) -> Message:
    fallback = heading + (f" (part {number} of {total})" if total > 1 else "")
    if titles:
        fallback += ": " + "; ".join(titles)
    return {
        "text": shorten(slack_escape(neutralise(fallback)), POST_FALLBACK_TEXT),
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
    }


def split_message(message: Mapping[str, Any]) -> list[Message] | None:
    """`message` as two messages of about half its blocks each (at an article's divider where one is near the
    middle), for a part Slack refused as too long; None when it holds a single block and cannot be split."""
    blocks = list(message.get("blocks", []))
    if len(blocks) < 2:
        return None
    middle = len(blocks) // 2
    dividers = [i + 1 for i, block in enumerate(blocks[:-1]) if block.get("type") == "divider"]
    cut = min(dividers, key=lambda i: abs(i - middle)) if dividers else middle
    if not 0 < cut < len(blocks) or abs(cut - middle) > len(blocks) // 4 + 1:
        cut = middle
    base = {key: value for key, value in message.items() if key != "blocks"}
    return [dict(base, blocks=blocks[:cut]), dict(base, blocks=blocks[cut:])]


def _opening_blocks(issue: Issue, heading: str, site: SiteSettings, intro_room: int) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [_header(heading)]
    if issue.intro.strip():
        intro = "\n\n".join(to_paragraphs(issue.intro, DIALECT))
        blocks.append(_section(fit(intro, intro_room, site.base_url, label="Read the issue")))
    return blocks


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": shorten(text, MAX_HEADER_TEXT), "emoji": False}}


def _title_line(article: Article, url: str) -> str:
    """The title in bold, linked to its page; its own `*`, `_`, `~` and backticks cannot format."""
    title = shorten(neutralise(article.title), 200)
    link = slack_link(url, title)
    return f"*{link if len(link) <= MAX_LINK else slack_escape(title)}*"


def _digest_blocks(article: Article, topic_names: Mapping[str, str], site: SiteSettings) -> list[dict[str, Any]]:
    """Linked title; the gist (plain text: nothing in it formats or pings); citation, topics, the link."""
    url = article_url(article, site)
    blocks: list[dict[str, Any]] = [_section(_title_line(article, url))]
    text = gist(article)
    if text:
        blocks.append({"type": "section", "text": _plain(slack_escape(text))})
    about = [shorten(slack_escape(citation_of(article)), 200)]
    topics = topic_line(article, topic_names)
    if topics:
        about.append(shorten("Topics: " + slack_escape(topics), 400))
    read = slack_link(url, SUMMARY_LABEL)
    elements = [_plain(" · ".join(about))]
    elements.append(_mrkdwn(read if len(read) <= MAX_LINK else slack_link(site.base_url, SUMMARY_LABEL)))
    blocks += [{"type": "context", "elements": elements}, {"type": "divider"}]
    return blocks


def _article_blocks(article: Article, topic_names: Mapping[str, str], site: SiteSettings) -> list[dict[str, Any]]:
    """The full text: at most ARTICLE_TEXT characters of block text, so an article alone always fits a message."""
    url = article_url(article, site)
    title_line = _title_line(article, url)
    citation = fit(slack_escape(neutralise(article.citation)), 1200 - len(title_line) - 1, url, site.base_url)
    blocks = [_section(f"{title_line}\n{citation}")]
    summary = "\n\n".join(to_paragraphs(article.summary_md, DIALECT))
    if summary:
        blocks.append(_section(fit(summary, MAX_TEXT, url, site.base_url)))
    implications = to_paragraphs(article.implications_md, DIALECT)
    if implications:
        quoted = "\n".join("> " + line for paragraph in implications for line in paragraph.split("\n"))
        title = "*Practice implications*\n"
        blocks.append(_section(title + fit(quoted, 2500 - len(title), url, site.base_url)))
    context = []
    names = [topic_names.get(slug, slug) for slug in article.topics]
    if names:
        context.append(_mrkdwn(shorten("Topics: " + slack_escape(", ".join(names)), 400)))
    if article.doi and article.doi_url:
        doi = slack_link(article.doi_url, shorten(article.doi, 100))
        context.append(_mrkdwn("DOI: " + (doi if len(doi) <= 400 else shorten(slack_escape(article.doi), 200))))
    if context:
        blocks.append({"type": "context", "elements": context})
    blocks.append({"type": "divider"})
    return blocks


# --- /ppr-topic answers ----------------------------------------------------------------------------


def answer(result: QueryResult, page_number: int, context: ResultContext, shared: bool = False) -> Message:
    """The message for a query: ephemeral with buttons, or (`shared`) the public copy without them."""
    if result.kind is MatchKind.LIST:
        return _help(context)
    page = page_of(result, page_number)
    blocks: list[dict[str, Any]] = [
        _plain_context(f"You asked: “{shorten(slack_escape(result.query), QUERY_ECHO)}”"),
        _section(f"*{shorten(slack_escape(heading(result)), MAX_TEXT - 100)}*"),
    ]
    blocks += [_section(_entry(article, context)) for article in page.articles]
    notes = []
    if result.suggestions:
        notes.append(f"Did you mean: {suggestion_names(result)}?")
    if result.kind is MatchKind.NONE:
        notes.append(explain(result, context.article_count))
        notes.append(f"Try `{context.command} help` for the list of topics.")
    blocks += [_section(shorten(slack_escape(note), MAX_TEXT - 100)) for note in notes]
    footer = page_footer(page)
    if shared:
        footer = f"{footer} · shared from {context.command}".lstrip(" ·")
    if footer:
        blocks.append(_plain_context(shorten(slack_escape(footer), MAX_TEXT - 100)))
    offered = [] if shared else buttons(page)
    if offered:
        blocks.append({"type": "actions", "elements": [_button(action, n, result.query) for action, n in offered]})
    fallback = heading(result) + (f" (page {page.number + 1} of {page.count})" if page.total else "")
    return {"text": shorten(slack_escape(fallback), MAX_FALLBACK_TEXT), "blocks": blocks}


def _help(context: ResultContext) -> Message:
    """No query, or `help`: how to ask, the topics that have articles with their counts, then the empty ones
    named in one line (they still answer, and can be subscribed to)."""
    intro = (
        f"*PPRNet research summaries by topic*\nAsk `{context.command} <topic or words>`, for example "
        f"`{context.command} alliance` or `{context.command} rupture repair`. Typos and prefixes are fine."
    )
    blocks: list[dict[str, Any]] = [_section(slack_escape(intro))]
    listed, empty = help_topics(context)
    lines = [f"• {slack_escape(shorten(topic.name, 200))} — {count}" for topic, count in listed]
    # room for the intro, the empty topics, and the note if topics are left out
    blocks += _line_sections(lines, MAX_BLOCKS - 3, "more topics")
    if empty:
        blocks.append(_plain_context(shorten(slack_escape(empty_line(empty)), MAX_TEXT)))
    return {"text": f"{len(context.topic_list)} topics — {context.command} help", "blocks": blocks}


def _entry(article: Article, context: ResultContext) -> str:
    title = shorten(slack_escape(neutralise(article.title)), 300).replace("|", "∣")
    citation = neutralise(citation_of(article))
    lines = [
        f"*<{slack_escape(safe_url(article_url(article, context.site)))}|{title}>*",
        f"{month_title(article.month)} · {shorten(slack_escape(citation), 200)}",
    ]
    topics = topic_line(article, context.topic_names)
    details = f"Topics: {shorten(slack_escape(topics), 600)}" if topics else ""
    if article.doi and article.doi_url:
        label = shorten(slack_escape(f"doi:{article.doi}"), 300).replace("|", "∣")
        link = f"<{slack_escape(safe_url(article.doi_url))}|{label}>"
        details = f"{details} · {link}" if details else link
    if details:
        lines.append(details)
    return "\n".join(lines)  # at most ~2,400 characters: titles, citations and topics are each capped above


def action_id(action: Action) -> str:
    return f"{ACTION_PREFIX}{action.value}"


def button_value(page: int, query: str) -> str:
    return f"{page}:{query[:MAX_QUERY_CHARS]}"


def parse_action(action_id: str, value: str) -> ButtonState | None:
    """The state behind a Slack button, or None when it is not one of ours or is malformed."""
    if not action_id.startswith(ACTION_PREFIX):
        return None
    return button_state(action_id[len(ACTION_PREFIX) :], value)


def _button(action: Action, page: int, query: str) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": BUTTON_LABELS[action], "emoji": True},
        "action_id": action_id(action),
        "value": button_value(page, query),
    }


# --- blocks and limits -----------------------------------------------------------------------------


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text)}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def _plain(text: str) -> dict[str, Any]:
    # plain_text: Slack applies no formatting and resolves no mentions in it; `text` arrives escaped
    # anyway (slack_escape), because Slack treats &, < and > as control characters in every text object
    return {"type": "plain_text", "text": text, "emoji": False}


def _plain_context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_plain(text)]}


def _line_sections(lines: Sequence[str], room: int, more: str) -> list[dict[str, Any]]:
    """`lines` packed whole (so no link is ever cut) into at most `room` sections, then `… and N <more>` for the
    lines left out."""
    sections: list[list[str]] = [[]]
    for line in lines:
        if sum(len(part) + 1 for part in sections[-1]) + len(line) > MAX_TEXT - 100:
            sections.append([])
        sections[-1].append(line)
    blocks = [_section("\n".join(section)) for section in sections[:room] if section]
    left_out = sum(len(section) for section in sections[room:])
    if left_out:
        blocks.append(_plain_context(f"… and {left_out} {more}"))
    return blocks


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


def message_size(message: Mapping[str, Any]) -> int:
    """Characters of block text in a message, as Slack counts them for `msg_blocks_too_long`."""
    return _size(message.get("blocks", []))


def answer_problems(message: Mapping[str, Any]) -> list[str]:
    """Every Block Kit limit `message` breaks (empty for anything `answer` made)."""
    problems = []
    blocks = message.get("blocks", [])
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks (Slack allows {MAX_BLOCKS})")
    for number, block in enumerate(blocks, start=1):
        problems += _block_problems(number, block)
    if len(message.get("text", "")) > MAX_FALLBACK_TEXT:
        problems.append(f"fallback text of {len(message['text'])} characters (max {MAX_FALLBACK_TEXT})")
    return problems


def post_problems(message: Mapping[str, Any]) -> list[str]:
    """Every limit an issue post breaks (empty for anything `issue_messages` made): Block Kit's, the size of the
    whole message, and link unfurling, which must be off."""
    problems = answer_problems(message)
    if message_size(message) > MAX_MESSAGE_TEXT:
        problems.append(f"{message_size(message)} characters of block text (keep under {MAX_MESSAGE_TEXT})")
    if len(message.get("text", "")) > POST_FALLBACK_TEXT:
        problems.append(f"fallback text of {len(message['text'])} characters (max {POST_FALLBACK_TEXT})")
    if message.get("unfurl_links") is not False or message.get("unfurl_media") is not False:
        problems.append("link unfurling is not off")
    return problems


def _block_problems(number: int, block: Mapping[str, Any]) -> list[str]:
    """The block's own limits, as slack_sdk's Block Kit models know them, and its text objects' length."""
    where = f"block {number} ({block.get('type')}, {_size([dict(block)])} characters of text)"
    try:
        parsed = Block.parse(dict(block))
        if parsed is None:
            return [f"{where}: not a block type Slack knows"]
        parsed.to_dict()  # validates the block and every element in it
    except (SlackObjectFormationError, TypeError, KeyError) as exc:
        return [f"{where}: {exc}"]
    if block.get("type") != "context":
        return []
    # the models check a section's text, not the 3,000 characters of each text in a context
    texts = [str(element.get("text") or "") for element in block.get("elements", [])]
    return [f"{where}: a text of {len(text)} characters (max {MAX_TEXT})" for text in texts if len(text) > MAX_TEXT]


# --- subscription answers (`/ppr subscribe`, `/ppr unsubscribe`, `/ppr subscriptions`, `/ppr help`) ----------


def notice(text: str) -> Message:
    """A short answer: plain words, escaped, so nothing typed or named can become a mention or a link."""
    escaped = shorten(slack_escape(text), MAX_TEXT - 100)
    return {"text": shorten(escaped, MAX_FALLBACK_TEXT), "blocks": [_section(escaped)]}


def channel_line(channel: str, topics: str, since: str, state: str) -> str:
    """One subscription in `/ppr subscriptions`: the channel as Slack links it (`<#C…>`, never a ping)."""
    mention = f"<#{channel}>" if _CHANNEL_ID.fullmatch(channel) else slack_escape(channel)
    return f"• {mention} — {slack_escape(topics)} · since {since[:10]} · {slack_escape(state)}"


def subscriptions_list(here: str | None, lines: Sequence[str], command: str) -> Message:
    """This channel's subscription first, then the workspace's; `lines` come from `channel_line`, packed into as
    many sections as they need (each line whole, so no channel link is ever cut)."""
    blocks = [_section(f"*This channel:* {slack_escape(here) if here else 'not subscribed'}")]
    if not lines:
        blocks.append(_section(f"No channel in this workspace is subscribed; `{command} subscribe` subscribes it."))
        return {"text": "PPRNet digest subscriptions", "blocks": blocks}
    listed = ["*Subscribed channels in this workspace:*", *(shorten(line, 1000) for line in lines)]
    # room for this channel's line, and the note if channels are left out
    blocks += _line_sections(listed, MAX_BLOCKS - 2, "more (`pprfeed subscriptions` lists them all)")
    return {"text": "PPRNet digest subscriptions", "blocks": blocks}


def command_help(command: str) -> Message:
    """`/ppr help`: the subcommands."""
    lines = [
        f"*{command}* — PPRNet research summaries and the monthly digest",
        f"`{command} topic <topic or words>` — today's summaries on a topic (only you see the answer)",
        f"`{command} subscribe [topics]` — post each new digest in this channel; no topics = every article; "
        "separate several with commas",
        f"`{command} unsubscribe [topics]` — stop (or drop some topics)",
        f"`{command} subscriptions` — this channel's and this workspace's subscriptions",
        f"`{command} help` — this list",
    ]
    return {"text": f"{command} help", "blocks": [_section("\n".join(lines))]}


_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{6,}")
