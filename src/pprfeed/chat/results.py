"""Query results -> Slack blocks and Discord embeds, as plain data (what the `/topic` bots send).

Pure: a `QueryResult` and a `ResultContext` in, JSON-ready dicts out. Whatever
a person typed is echoed only as inert text (escaped first, then shortened),
and every platform limit is met by construction: each piece has a budget and
the budgets add up under the limit. `slack_limit_problems` and
`discord_limit_problems` check a payload against the documented limits.

Buttons carry their state in the button itself (Slack `value`, Discord
`custom_id`: the action, the page and the query), so a click can be answered
by any process, even one started after the message was sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from urllib.parse import quote

from pprfeed.archive.search import MAX_QUERY_CHARS, MatchKind, QueryResult
from pprfeed.chat.escape import discord_escape, discord_label, shorten, slack_escape
from pprfeed.config import SiteSettings
from pprfeed.links import article_url
from pprfeed.model import Article, Topic, month_title
from pprfeed.text import normalize

PAGE_SIZE = 5
MAX_PAGE = 100_000
"""Pages beyond this are not a real request: a button value was tampered with."""

# Slack Block Kit limits (api.slack.com/reference/block-kit)
SLACK_MAX_BLOCKS = 50
SLACK_SECTION_TEXT = 3000
SLACK_CONTEXT_TEXT = 3000
SLACK_CONTEXT_ELEMENTS = 10
SLACK_BUTTON_TEXT = 75
SLACK_BUTTON_VALUE = 2000
SLACK_ACTION_ID = 255
SLACK_FALLBACK_TEXT = 3000  # Slack truncates `text` at 40,000; a notification line needs far less

# Discord limits (discord.com/developers/docs/resources/message#embed-object-embed-limits)
DISCORD_TITLE = 256
DISCORD_DESCRIPTION = 4096
DISCORD_FIELD_NAME = 256
DISCORD_FIELD_VALUE = 1024
DISCORD_FIELDS = 25
DISCORD_FOOTER = 2048
DISCORD_EMBED_TOTAL = 6000
DISCORD_CUSTOM_ID = 100
DISCORD_BUTTON_LABEL = 80
DISCORD_CHOICES = 25
DISCORD_CHOICE_TEXT = 100

SLACK_ACTION_PREFIX = "ppr_topic_"
DISCORD_ID_PREFIX = "ppr"
EMBED_COLOUR = 0x2B6CB0
QUERY_ECHO = 200
"""How much of the query is echoed back; the engine itself reads no more than MAX_QUERY_CHARS."""


class Action(str, Enum):
    PREVIOUS = "p"
    NEXT = "n"
    SHARE = "s"


BUTTON_LABELS = {Action.PREVIOUS: "◀ Previous", Action.NEXT: "Next 5 ▶", Action.SHARE: "Share in channel"}


@dataclass(frozen=True)
class ResultContext:
    """What rendering needs besides the result: built once per archive, not per request."""

    site: SiteSettings
    command: str
    """How users invoke the bot here, e.g. `/ppr-topic` in Slack or `/topic` in Discord."""
    topic_names: Mapping[str, str]
    """Topic slug -> display name."""
    topic_list: Sequence[tuple[Topic, int]]
    """Every topic with its article count, for the help view."""
    entries: dict[tuple[str, str], str] = field(default_factory=dict, compare=False, repr=False)
    """Rendered entries by (platform, article id): an article looks the same on every page that shows it."""


@dataclass(frozen=True)
class ButtonState:
    """What a button click asks for."""

    action: Action
    page: int
    query: str


@dataclass(frozen=True)
class Page:
    number: int
    """0-based, clamped to the pages that exist."""
    count: int
    total: int
    articles: tuple[Article, ...]

    @property
    def has_previous(self) -> bool:
        return self.number > 0

    @property
    def has_next(self) -> bool:
        return self.number + 1 < self.count


def page_of(result: QueryResult, number: int) -> Page:
    total = len(result.articles)
    count = max(1, -(-total // PAGE_SIZE))
    number = min(max(number, 0), count - 1)
    start = number * PAGE_SIZE
    return Page(number, count, total, result.articles[start : start + PAGE_SIZE])


# --- button state --------------------------------------------------------------------------


def slack_action_id(action: Action) -> str:
    return f"{SLACK_ACTION_PREFIX}{action.value}"


def slack_button_value(page: int, query: str) -> str:
    return f"{page}:{query[:MAX_QUERY_CHARS]}"


def parse_slack_action(action_id: str, value: str) -> ButtonState | None:
    """The state behind a Slack button, or None when it is not one of ours or is malformed."""
    if not action_id.startswith(SLACK_ACTION_PREFIX):
        return None
    return _state(action_id[len(SLACK_ACTION_PREFIX) :], value)


def discord_custom_id(action: Action, page: int, query: str) -> str:
    """`ppr:n:3:alliance` — at most 100 characters, as Discord requires.

    A query too long to fit is carried in its normalised form (the engine
    ignores case, accents and punctuation, so the answer is the same), and only
    if even that is too long is it cut at a word boundary.
    """
    head = f"{DISCORD_ID_PREFIX}:{action.value}:{page}:"
    room = DISCORD_CUSTOM_ID - len(head)
    carried = query if len(query) <= room else normalize(query)
    if len(carried) > room:
        cut = carried.rfind(" ", 0, room + 1)
        carried = carried[: cut if cut > 0 else room]
    return head + carried


DISCORD_ID_PATTERN = rf"{DISCORD_ID_PREFIX}:(?P<action>[pns]):(?P<page>\d{{1,12}}):(?P<query>.*)"
"""Matches every custom_id `discord_custom_id` makes (for discord.ui.DynamicItem templates)."""


def parse_discord_custom_id(custom_id: str) -> ButtonState | None:
    match = re.fullmatch(DISCORD_ID_PATTERN, custom_id, re.S)
    if match is None:
        return None
    return _state(match["action"], f"{match['page']}:{match['query']}")


def _state(action_code: str, value: str) -> ButtonState | None:
    page_text, separator, query = value.partition(":")
    if not separator or not (page_text.isascii() and page_text.isdigit()) or len(page_text) > 12:
        return None
    try:
        action = Action(action_code)
    except ValueError:
        return None
    return ButtonState(action, min(int(page_text), MAX_PAGE), query[:MAX_QUERY_CHARS])


# --- shared wording ----------------------------------------------------------------------------


def short_citation(citation: str) -> str:
    """`Norcross & Lambert (2018)`, `Flückiger et al. (2018)`; the citation itself when it has no year."""
    year = _YEAR.search(citation)
    if year is None:
        return shorten(citation, 120)
    surnames = [name.strip() for name in _SURNAME.findall(citation[: year.start()])]
    if not surnames:
        authors = citation[: year.start()].split(",")[0].strip() or citation[: year.start()].strip()
    elif len(surnames) == 1:
        authors = surnames[0]
    elif len(surnames) == 2:
        authors = f"{surnames[0]} & {surnames[1]}"
    else:
        authors = f"{surnames[0]} et al."
    return shorten(f"{authors} ({year.group(1)})", 120)


_YEAR = re.compile(r"\((\d{4}[a-z]?|in press|n\.\s?d\.)\)", re.I)
_SURNAME = re.compile(r"([^\W\d_][^,&()]*?),\s*(?:[^\W\d_]{1,2}\.[\s-]*)+")


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _heading(result: QueryResult) -> str:
    """The one-line answer, with no user text in it (that is echoed separately, inert)."""
    names = ", ".join(topic.name for topic in result.topics)
    count = _plural(len(result.articles), "article")
    if result.kind is MatchKind.TOPIC:
        return f"{names} — {count}"
    if result.kind is MatchKind.PREFIX:
        return f"Topics starting with your query: {names} — {count}"
    if result.kind is MatchKind.TYPO:
        return f"No exact topic; the closest is {names} — {count}"
    if result.kind is MatchKind.TEXT:
        if result.topics:
            return f"Nothing tagged {names} yet; {count} mention it"
        return f"No topic by that name; {count} mention those words"
    return "Nothing found"


def _suggestion_names(result: QueryResult) -> str:
    return ", ".join(topic.name for topic in result.suggestions)


def _safe_url(url: str) -> str:
    """Percent-encode what would end a link early in Slack (`|`, `>`) or Discord (`)`), and spaces."""
    return quote(url, safe=":/?#[]@!$&'*+,;=%~-._")


# --- Slack -----------------------------------------------------------------------------------------


def slack_message(
    result: QueryResult, page_number: int, context: ResultContext, shared: bool = False
) -> dict[str, Any]:
    """The message for a query: ephemeral with buttons, or (`shared`) the public copy without them."""
    if result.kind is MatchKind.LIST:
        return slack_help(context)
    page = page_of(result, page_number)
    blocks: list[dict[str, Any]] = [
        _slack_context(f"You asked: “{shorten(slack_escape(result.query), QUERY_ECHO)}”"),
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{shorten(slack_escape(_heading(result)), 2900)}*"}},
    ]
    for article in page.articles:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _slack_entry(article, context)}})
    if result.suggestions:
        note = f"Did you mean: {_suggestion_names(result)}?"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": shorten(slack_escape(note), 2900)}})
    if result.kind is MatchKind.NONE:
        tip = f"Try `{context.command} help` for the list of topics."
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": shorten(slack_escape(tip), 2900)}})
    footer = f"Page {page.number + 1} of {page.count} · newest first" if page.total else ""
    if shared:
        footer = f"{footer} · shared from {context.command}".lstrip(" ·")
    if footer:
        blocks.append(_slack_context(shorten(slack_escape(footer), 2900)))
    buttons = [] if shared else _buttons(page, result)
    if buttons:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": BUTTON_LABELS[action], "emoji": True},
                        "action_id": slack_action_id(action),
                        "value": slack_button_value(number, result.query),
                    }
                    for action, number in buttons
                ],
            }
        )
    fallback = _heading(result) + (f" (page {page.number + 1} of {page.count})" if page.total else "")
    return {"text": shorten(slack_escape(fallback), SLACK_FALLBACK_TEXT), "blocks": blocks}


def slack_help(context: ResultContext) -> dict[str, Any]:
    """No query, or `help`: how to ask, and every topic with its article count."""
    intro = (
        f"*PPRNet research summaries by topic*\nAsk `{context.command} <topic or words>`, for example "
        f"`{context.command} alliance` or `{context.command} rupture repair`. Typos and prefixes are fine."
    )
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": slack_escape(intro)}}]
    lines = [f"• {slack_escape(shorten(topic.name, 200))} — {count}" for topic, count in context.topic_list]
    sections: list[list[str]] = [[]]
    for line in lines:
        if sum(len(part) + 1 for part in sections[-1]) + len(line) > SLACK_SECTION_TEXT - 100:
            sections.append([])
        sections[-1].append(line)
    room = SLACK_MAX_BLOCKS - 2  # the intro, and a note if topics are left out
    for section in sections[:room]:
        if section:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(section)}})
    left_out = sum(len(section) for section in sections[room:])
    if left_out:
        blocks.append(_slack_context(f"… and {left_out} more topics"))
    return {"text": f"{len(context.topic_list)} topics — {context.command} help", "blocks": blocks}


def _slack_entry(article: Article, context: ResultContext) -> str:
    key = ("slack", article.id)
    entry = context.entries.get(key)
    if entry is None:
        entry = context.entries[key] = _render_slack_entry(article, context)
    return entry


def _render_slack_entry(article: Article, context: ResultContext) -> str:
    title = shorten(slack_escape(article.title), 300).replace("|", "∣")
    lines = [
        f"*<{slack_escape(_safe_url(article_url(article, context.site)))}|{title}>*",
        f"{month_title(article.month)} · {shorten(slack_escape(short_citation(article.citation)), 200)}",
    ]
    topics = ", ".join(context.topic_names.get(slug, slug) for slug in article.topics)
    details = f"Topics: {shorten(slack_escape(topics), 600)}" if topics else ""
    if article.doi and article.doi_url:
        label = shorten(slack_escape(f"doi:{article.doi}"), 300).replace("|", "∣")
        link = f"<{slack_escape(_safe_url(article.doi_url))}|{label}>"
        details = f"{details} · {link}" if details else link
    if details:
        lines.append(details)
    return "\n".join(lines)  # at most ~2,400 characters: titles, citations and topics are each capped above


def _slack_context(text: str) -> dict[str, Any]:
    # plain_text: Slack applies no formatting and resolves no mentions in it; `text` arrives escaped
    # anyway (slack_escape), because Slack treats &, < and > as control characters in every text object
    return {"type": "context", "elements": [{"type": "plain_text", "text": text, "emoji": False}]}


def _buttons(page: Page, result: QueryResult) -> list[tuple[Action, int]]:
    buttons: list[tuple[Action, int]] = []
    if page.has_previous:
        buttons.append((Action.PREVIOUS, page.number - 1))
    if page.has_next:
        buttons.append((Action.NEXT, page.number + 1))
    if page.total:
        buttons.append((Action.SHARE, page.number))
    return buttons


def slack_limit_problems(message: Mapping[str, Any]) -> list[str]:
    """Every way `message` breaks a documented Block Kit limit (empty when it is fine)."""
    problems: list[str] = []
    blocks = message.get("blocks", [])
    if len(blocks) > SLACK_MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks > {SLACK_MAX_BLOCKS}")
    if len(message.get("text", "")) > SLACK_FALLBACK_TEXT:
        problems.append("fallback text too long")
    for block in blocks:
        kind = block.get("type")
        if kind == "section" and len(block["text"]["text"]) > SLACK_SECTION_TEXT:
            problems.append(f"section text {len(block['text']['text'])} > {SLACK_SECTION_TEXT}")
        if kind == "context":
            if len(block["elements"]) > SLACK_CONTEXT_ELEMENTS:
                problems.append("too many context elements")
            problems += [
                f"context text {len(e['text'])} > {SLACK_CONTEXT_TEXT}"
                for e in block["elements"]
                if len(e["text"]) > SLACK_CONTEXT_TEXT
            ]
        if kind == "actions":
            for element in block["elements"]:
                if len(element["text"]["text"]) > SLACK_BUTTON_TEXT:
                    problems.append("button text too long")
                if len(element.get("value", "")) > SLACK_BUTTON_VALUE:
                    problems.append("button value too long")
                if len(element["action_id"]) > SLACK_ACTION_ID:
                    problems.append("action_id too long")
    return problems


# --- Discord -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiscordButton:
    label: str
    custom_id: str
    style: str
    """`primary` or `secondary`, as named in discord.ButtonStyle."""


@dataclass(frozen=True)
class DiscordMessage:
    embed: dict[str, Any]
    """An embed object as Discord's API spells it (discord.Embed.from_dict reads it)."""
    buttons: tuple[DiscordButton, ...] = ()


def discord_message(
    result: QueryResult, page_number: int, context: ResultContext, shared: bool = False
) -> DiscordMessage:
    if result.kind is MatchKind.LIST:
        return discord_help(context)
    page = page_of(result, page_number)
    description: list[str] = [f"You asked: “{shorten(discord_escape(result.query), QUERY_ECHO)}”"]
    if result.suggestions:
        description.append(shorten(f"Did you mean: {discord_escape(_suggestion_names(result))}?", 400))
    if result.kind is MatchKind.NONE:
        description.append(f"Try `{context.command} help` for the list of topics.")
    # the echo and notes take at most ~700 characters; five entries of <= 650 each fit in 4,096
    description += [_discord_entry(article, context) for article in page.articles]
    footer = f"Page {page.number + 1} of {page.count} · newest first" if page.total else f"{context.command} help"
    if shared:
        footer += f" · shared from {context.command}"
    embed = {
        "type": "rich",
        "title": shorten(_heading(result), DISCORD_TITLE),
        "description": shorten("\n\n".join(description), DISCORD_DESCRIPTION),
        "color": EMBED_COLOUR,
        "footer": {"text": shorten(footer, 200)},
    }
    buttons = (
        ()
        if shared
        else tuple(_discord_button(action, number, result.query) for action, number in _buttons(page, result))
    )
    return DiscordMessage(embed, buttons)


def discord_help(context: ResultContext) -> DiscordMessage:
    intro = (
        f"Ask `{context.command} query:<topic or words>`, for example `{context.command} alliance`. "
        "Typos and prefixes are fine; start typing to pick a topic."
    )
    lines = [f"• {discord_escape(shorten(topic.name, 200))} — {count}" for topic, count in context.topic_list]
    text = intro + "\n\n"
    shown = 0
    for line in lines:
        if len(text) + len(line) + 1 > DISCORD_DESCRIPTION - 40:
            break
        text += line + "\n"
        shown += 1
    if shown < len(lines):
        text += f"… and {len(lines) - shown} more topics"
    embed = {
        "type": "rich",
        "title": "PPRNet research summaries by topic",
        "description": text.rstrip("\n"),
        "color": EMBED_COLOUR,
        "footer": {"text": f"{len(lines)} topics · article counts"},
    }
    return DiscordMessage(embed)


def _discord_entry(article: Article, context: ResultContext) -> str:
    key = ("discord", article.id)
    entry = context.entries.get(key)
    if entry is None:
        entry = context.entries[key] = _render_discord_entry(article, context)
    return entry


def _render_discord_entry(article: Article, context: ResultContext) -> str:
    title = shorten(discord_label(article.title), 250)
    lines = [
        f"**[{title}]({_safe_url(article_url(article, context.site))})**",
        f"{month_title(article.month)} · {shorten(discord_escape(short_citation(article.citation)), 130)}",
    ]
    topics = ", ".join(context.topic_names.get(slug, slug) for slug in article.topics)
    details = f"Topics: {shorten(discord_escape(topics), 180)}" if topics else ""
    if article.doi and article.doi_url:
        link = f"[{shorten(discord_label('doi:' + article.doi), 60)}]({_safe_url(article.doi_url)})"
        details = f"{details} · {link}" if details else link
    if details:
        lines.append(details)
    return shorten("\n".join(lines), 650)


def _discord_button(action: Action, page: int, query: str) -> DiscordButton:
    style = "secondary" if action is Action.SHARE else "primary"
    return DiscordButton(BUTTON_LABELS[action], discord_custom_id(action, page, query), style)


def discord_choices(topics: Sequence[Topic], counts: Mapping[str, int]) -> list[dict[str, str]]:
    """Autocomplete choices: at most 25, names and values at most 100 characters."""
    choices = []
    for topic in topics[:DISCORD_CHOICES]:
        count = counts.get(topic.slug, 0)
        suffix = f" ({count})"
        name = shorten(topic.name, DISCORD_CHOICE_TEXT - len(suffix)) + suffix
        value = topic.name if len(topic.name) <= DISCORD_CHOICE_TEXT else topic.slug[:DISCORD_CHOICE_TEXT]
        choices.append({"name": name, "value": value})
    return choices


def discord_limit_problems(embed: Mapping[str, Any], buttons: Sequence[DiscordButton] = ()) -> list[str]:
    """Every way an embed (and its buttons) breaks a documented Discord limit (empty when it is fine)."""
    problems: list[str] = []
    title = embed.get("title", "")
    description = embed.get("description", "")
    footer = embed.get("footer", {}).get("text", "")
    fields = embed.get("fields", [])
    if len(title) > DISCORD_TITLE:
        problems.append(f"title {len(title)} > {DISCORD_TITLE}")
    if len(description) > DISCORD_DESCRIPTION:
        problems.append(f"description {len(description)} > {DISCORD_DESCRIPTION}")
    if len(footer) > DISCORD_FOOTER:
        problems.append("footer too long")
    if len(fields) > DISCORD_FIELDS:
        problems.append("too many fields")
    total = len(title) + len(description) + len(footer)
    for embed_field in fields:
        total += len(embed_field["name"]) + len(embed_field["value"])
        if len(embed_field["name"]) > DISCORD_FIELD_NAME or len(embed_field["value"]) > DISCORD_FIELD_VALUE:
            problems.append("field too long")
    if total > DISCORD_EMBED_TOTAL:
        problems.append(f"embed total {total} > {DISCORD_EMBED_TOTAL}")
    for button in buttons:
        if len(button.custom_id) > DISCORD_CUSTOM_ID:
            problems.append(f"custom_id {len(button.custom_id)} > {DISCORD_CUSTOM_ID}")
        if len(button.label) > DISCORD_BUTTON_LABEL:
            problems.append("button label too long")
    return problems
