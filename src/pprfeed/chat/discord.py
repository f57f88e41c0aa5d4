"""Everything pprfeed sends to Discord, as plain data: issue posts (content + embeds) and `/topic` answers.

Pure: the model in, JSON-ready dicts out, within Discord's limits by construction.
An issue post is a digest or the full text (chat/digest.py), one embed per
article; an issue that does not fit one message (10 embeds, 6,000 embed
characters) is split into several, each saying "part k of n".
Every limit is measured on the escaped text; shortened text ends with a link
to the full summary. `allowed_mentions` is empty on every message, so nothing
can ping even if escaping were bypassed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from discord import Embed
from discord.utils import escape_mentions

from pprfeed.archive.search import MatchKind, QueryResult, explain
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
from pprfeed.chat.markup import Dialect, to_paragraphs
from pprfeed.config import SiteSettings
from pprfeed.links import article_url
from pprfeed.model import Article, Issue, Topic, month_title
from pprfeed.text import normalize

# discord.com/developers/docs/resources/message#embed-object-embed-limits, and the components' limits
MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TITLE = 256
MAX_EMBED_DESCRIPTION = 4096
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FIELDS = 25
MAX_FOOTER = 2048
MAX_EMBEDS_TOTAL = 6000
MAX_CUSTOM_ID = 100
MAX_BUTTON_LABEL = 80
MAX_CHOICES = 25
MAX_CHOICE_TEXT = 100
MAX_EMBED_URL = 2048
"""Longest embed title link kept; a longer permalink leaves the title unlinked (the description still links)."""
MAX_DOI = 200
NO_MENTIONS: dict[str, Any] = {"parse": []}
EMBED_COLOUR = 0x2B6CB0
ID_PREFIX = "ppr"
INTRO_DIGEST = 600
"""Characters of the issue's intro a digest shows before its "Read the issue" link."""
SUMMARY_LABEL = "Read the summary"

Message = dict[str, Any]

# Formatting anywhere in a line: emphasis, code, spoilers, links, and `<@…>`/`<#…>`/`<t:…>` tags.
_INLINE = re.compile(r"([\\*_~`|\[\]<>])")
# Formatting only at the start of a line: headings, quotes, lists, `-#` subtext.
_LINE_START = re.compile(r"^([ \t]*)([#>+\-])", re.M)
_NUMBERED = re.compile(r"^([ \t]*\d+)\.", re.M)
_LABEL_SPECIAL = re.compile(r"([\\*_~`|<>])")


def discord_escape(text: str) -> str:
    """Discord markdown: the characters that would format backslashed; mentions broken with a zero-width space.

    Only what formats is escaped (a hyphen or parenthesis mid-sentence stays as it is), so text that Discord shows
    unrendered in some clients (notifications, search) is still readable. Pings are also prevented by
    `allowed_mentions` on every request; `escape_mentions` keeps @everyone and @here from even looking like one.
    """
    escaped = _INLINE.sub(r"\\\1", text)
    escaped = _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)
    escaped = _NUMBERED.sub(lambda m: m.group(1) + "\\.", escaped)
    return escape_mentions(escaped)


def discord_plain(text: str) -> str:
    """For places Discord shows without rendering markdown (embed titles), where a backslash would show.

    Nothing is escaped; a zero-width space after `<` and in mentions still breaks `<@…>` tags and @everyone/@here.
    """
    return escape_mentions(text.replace("<", "<\u200b"))


def discord_label(text: str) -> str:
    """The label of a `[label](url)` masked link, where backslash escapes are not rendered.

    Brackets become parentheses (they would end the link); after every formatting character a zero-width space
    breaks its pairing (`**`, `||`, `<@…>`), invisibly.
    """
    return escape_mentions(_LABEL_SPECIAL.sub("\\1\u200b", text.replace("[", "(").replace("]", ")")))


def discord_link(url: str, label: str) -> str:
    """A Discord masked link; its label cannot end the link early or ping."""
    return f"[{discord_label(label)}]({safe_url(url)})"


DIALECT = Dialect(escape=discord_escape, strong="**", emphasis="*", link=discord_link)


def fit(text: str, limit: int, url: str, fallback_url: str = "", label: str = FULL_TEXT_LABEL) -> str:
    """`fit_linked` with Discord's links."""
    return fit_linked(text, limit, discord_link, url, fallback_url, label)


# --- issue posts -----------------------------------------------------------------------------------


def issue_messages(
    issue: Issue,
    articles: Sequence[Article],
    topic_names: Mapping[str, str],
    site: SiteSettings,
    format: str = "digest",
) -> list[Message]:
    """The messages that carry `articles` of `issue` as a digest or in full (chat/digest.py FORMATS), in
    order; every one within every Discord limit."""
    heading = f"{DIGEST_NAME} — {digest_heading(issue, len(articles))}"
    if format == "digest":
        embeds = [_digest_embed(article, topic_names, site) for article in articles]
        return _pack(issue, heading, embeds, site, INTRO_DIGEST)
    if format == "full":
        embeds = [_article_embed(issue, article, topic_names, site) for article in articles]
        return _pack(issue, heading, embeds, site, MAX_CONTENT)
    raise ValueError(f"unknown format {format!r}")


def _pack(
    issue: Issue, heading: str, embeds: Sequence[dict[str, Any]], site: SiteSettings, intro_room: int
) -> list[Message]:
    groups: list[list[dict[str, Any]]] = [[]]
    room = MAX_EMBEDS_TOTAL
    for embed in embeds:
        size = embeds_size([embed])
        if (len(groups[-1]) >= MAX_EMBEDS or size > room) and groups[-1]:
            groups.append([])  # one article's embed alone always fits: see _article_embed's budgets
            room = MAX_EMBEDS_TOTAL
        groups[-1].append(embed)
        room -= size
    total = len(groups)
    return [
        {
            "content": _content(issue, heading, number, total, site, intro_room),
            "embeds": group,
            "allowed_mentions": dict(NO_MENTIONS),
        }
        for number, group in enumerate(groups, start=1)
    ]


def _content(issue: Issue, heading: str, number: int, total: int, site: SiteSettings, intro_room: int) -> str:
    """The message text: the issue's heading (unique per part, so a lost reply can be found again) and intro."""
    title = f"**{discord_escape(heading)}**"
    if total > 1:
        title += f" · part {number} of {total}"
    if number > 1 or not issue.intro.strip():
        return title
    intro = "\n\n".join(to_paragraphs(issue.intro, DIALECT))
    room = min(intro_room, MAX_CONTENT - len(title) - 1)
    return title + "\n" + _fit16(lambda limit: fit(intro, limit, site.base_url, label="Read the issue"), room)


def _title(article: Article) -> str:
    """An embed title: its `*`, `_`, `~` and backticks cannot format, and nothing in it can ping."""
    return _fit16(lambda limit: shorten(discord_plain(neutralise(article.title)), limit), MAX_EMBED_TITLE)


def _embed(article: Article, url: str, description: str) -> dict[str, Any]:
    """An article's embed: its title, linked to `url` unless that is longer than Discord keeps."""
    embed: dict[str, Any] = {
        "title": _title(article),
        "url": safe_url(url),
        "description": description,
        "color": EMBED_COLOUR,
    }
    if len(embed["url"]) > MAX_EMBED_URL:
        del embed["url"]
    return embed


def _digest_embed(article: Article, topic_names: Mapping[str, str], site: SiteSettings) -> dict[str, Any]:
    """Linked title; citation, gist and a link to the summary; the topics in the footer."""
    url = article_url(article, site)
    lines = [f"*{discord_escape(neutralise(citation_of(article)))}*"]
    text = gist(article)
    if text:
        lines.append(discord_escape(text))
    link = discord_link(url, SUMMARY_LABEL)
    lines.append(link if len(link) <= MAX_EMBED_URL else discord_link(site.base_url, SUMMARY_LABEL))
    embed = _embed(article, url, "\n".join(lines))
    topics = topic_line(article, topic_names)
    if topics:
        embed["footer"] = {"text": shorten(discord_plain(topics), 300)}
    return embed


def _article_embed(
    issue: Issue, article: Article, topic_names: Mapping[str, str], site: SiteSettings
) -> dict[str, Any]:
    url = article_url(article, site)
    home = site.base_url
    citation = "*" + fit(discord_escape(neutralise(article.citation)), 600, url, home) + "*"
    implications = to_paragraphs(article.implications_md, DIALECT)
    implication_text = ""
    if implications:
        quoted = "\n".join("> " + line for paragraph in implications for line in paragraph.split("\n"))
        implication_text = "**Practice implications**\n" + _fit16(lambda limit: fit(quoted, limit, url, home), 1500)
    summary = "\n\n".join(to_paragraphs(article.summary_md, DIALECT))
    room = MAX_EMBED_DESCRIPTION - utf16_len(citation) - utf16_len(implication_text) - 4
    summary_text = _fit16(lambda limit: fit(summary, limit, url, home), room)
    description = "\n\n".join(part for part in (citation, summary_text, implication_text) if part)
    embed = _embed(article, url, description)
    embed["footer"] = {"text": shorten(f"{DIGEST_NAME} · {issue.title}", 100)}
    fields = []
    names = [topic_names.get(slug, slug) for slug in article.topics]
    if names:
        fields.append({"name": "Topics", "value": _fit16(lambda n: shorten(discord_escape(", ".join(names)), n), 400)})
    if article.doi and article.doi_url:
        doi = discord_link(article.doi_url, shorten(article.doi, 100))
        if len(doi) > MAX_FIELD_VALUE:  # the DOI as text, shortened where it is harmless to cut
            doi = shorten(discord_escape(article.doi), MAX_DOI)
        fields.append({"name": "DOI", "value": doi})
    if fields:
        embed["fields"] = fields
    return embed


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: what Discord's JavaScript-side limits may count (an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def _fit16(make: Callable[[int], str], limit: int) -> str:
    """`make(limit)`, asked for less until it fits `limit` in code points and in UTF-16 code units alike."""
    text = make(limit)
    while utf16_len(text) > limit and limit > 0:
        limit -= utf16_len(text) - limit
        text = make(max(limit, 0))
    return text


# --- /topic answers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiscordButton:
    label: str
    custom_id: str
    style: str
    """`primary` or `secondary`, as named in discord.ButtonStyle."""


@dataclass(frozen=True)
class DiscordAnswer:
    embed: dict[str, Any]
    """An embed object as Discord's API spells it (discord.Embed.from_dict reads it)."""
    buttons: tuple[DiscordButton, ...] = ()


def answer(result: QueryResult, page_number: int, context: ResultContext, shared: bool = False) -> DiscordAnswer:
    """The answer to a query: a page of entries with buttons, or (`shared`) the public copy without them."""
    if result.kind is MatchKind.LIST:
        return _help(context)
    page = page_of(result, page_number)
    description: list[str] = [f"You asked: “{shorten(discord_escape(result.query), QUERY_ECHO)}”"]
    if result.suggestions:
        description.append(shorten(f"Did you mean: {discord_escape(suggestion_names(result))}?", 400))
    if result.kind is MatchKind.NONE:
        description.append(shorten(discord_escape(explain(result, context.article_count)), 400))
        description.append(f"Try `{context.command} help` for the list of topics.")
    # the echo and notes take at most ~700 characters; five entries of <= 650 each fit in 4,096
    description += [_entry(article, context) for article in page.articles]
    footer = page_footer(page) or f"{context.command} help"
    if shared:
        footer += f" · shared from {context.command}"
    embed = {
        "type": "rich",
        "title": shorten(heading(result), MAX_EMBED_TITLE),
        "description": shorten("\n\n".join(description), MAX_EMBED_DESCRIPTION),
        "color": EMBED_COLOUR,
        "footer": {"text": shorten(footer, 200)},
    }
    offered = () if shared else tuple(_button(action, number, result.query) for action, number in buttons(page))
    return DiscordAnswer(embed, offered)


def _help(context: ResultContext) -> DiscordAnswer:
    intro = (
        f"Ask `{context.command} query:<topic or words>`, for example `{context.command} alliance`. "
        "Typos and prefixes are fine; start typing to pick a topic."
    )
    listed, empty = help_topics(context)
    lines = [f"• {discord_escape(shorten(topic.name, 200))} — {count}" for topic, count in listed]
    closing = shorten(discord_escape(empty_line(empty)), 1000) if empty else ""
    text = intro + "\n\n"
    shown = 0
    for line in lines:
        if len(text) + len(line) + 1 > MAX_EMBED_DESCRIPTION - 40 - len(closing):
            break
        text += line + "\n"
        shown += 1
    if shown < len(lines):
        text += f"… and {len(lines) - shown} more topics\n"
    if closing:
        text += "\n" + closing
    embed = {
        "type": "rich",
        "title": "PPRNet research summaries by topic",
        "description": text.rstrip("\n"),
        "color": EMBED_COLOUR,
        "footer": {"text": f"{len(context.topic_list)} topics · article counts"},
    }
    return DiscordAnswer(embed)


def _entry(article: Article, context: ResultContext) -> str:
    title = shorten(discord_label(neutralise(article.title)), 250)
    citation = citation_of(article)
    lines = [
        f"**[{title}]({safe_url(article_url(article, context.site))})**",
        f"{month_title(article.month)} · {shorten(discord_escape(citation), 130)}",
    ]
    topics = topic_line(article, context.topic_names)
    details = f"Topics: {shorten(discord_escape(topics), 180)}" if topics else ""
    if article.doi and article.doi_url:
        link = f"[{shorten(discord_label('doi:' + article.doi), 60)}]({safe_url(article.doi_url)})"
        details = f"{details} · {link}" if details else link
    if details:
        lines.append(details)
    return shorten("\n".join(lines), 650)


def _button(action: Action, page: int, query: str) -> DiscordButton:
    style = "secondary" if action is Action.SHARE else "primary"
    return DiscordButton(BUTTON_LABELS[action], custom_id(action, page, query), style)


def custom_id(action: Action, page: int, query: str) -> str:
    """`ppr:n:3:alliance` — at most 100 characters, as Discord requires.

    A query too long to fit is carried in its normalised form (the engine
    ignores case, accents and punctuation, so the answer is the same), and only
    if even that is too long is it cut at a word boundary.
    """
    head = f"{ID_PREFIX}:{action.value}:{page}:"
    room = MAX_CUSTOM_ID - len(head)
    carried = query if len(query) <= room else normalize(query)
    if len(carried) > room:
        cut = carried.rfind(" ", 0, room + 1)
        carried = carried[: cut if cut > 0 else room]
    return head + carried


CUSTOM_ID_PATTERN = rf"{ID_PREFIX}:(?P<action>[pns]):(?P<page>\d{{1,12}}):(?P<query>.*)"
"""Matches every custom_id `custom_id` makes (for discord.ui.DynamicItem templates)."""


def parse_custom_id(custom_id: str) -> ButtonState | None:
    match = re.fullmatch(CUSTOM_ID_PATTERN, custom_id, re.S)
    if match is None:
        return None
    return button_state(match["action"], f"{match['page']}:{match['query']}")


def choices(topics: Sequence[Topic], counts: Mapping[str, int]) -> list[dict[str, str]]:
    """Autocomplete choices: at most 25, names and values at most 100 characters."""
    found = []
    for topic in topics[:MAX_CHOICES]:
        suffix = f" ({counts.get(topic.slug, 0)})"
        name = shorten(topic.name, MAX_CHOICE_TEXT - len(suffix)) + suffix
        value = topic.name if len(topic.name) <= MAX_CHOICE_TEXT else topic.slug[:MAX_CHOICE_TEXT]
        found.append({"name": name, "value": value})
    return found


# --- limits ----------------------------------------------------------------------------------------
# Discord documents its limits in characters; its servers may count code points or UTF-16 code units (an
# emoji is one or two). Every check here counts UTF-16 code units, never fewer than code points: both hold.


def embed_size(embed: Mapping[str, Any]) -> int:
    """Characters Discord counts towards the 6,000 of a message (title, description, fields, footer, author),
    in code points, as discord.py's `len(Embed)` counts them."""
    return len(Embed.from_dict(dict(embed)))


def embed_size16(embed: Mapping[str, Any]) -> int:
    """The same characters in UTF-16 code units."""
    counted = [embed.get("title") or "", embed.get("description") or ""]
    counted += [(embed.get("footer") or {}).get("text") or "", (embed.get("author") or {}).get("name") or ""]
    counted += [str(field.get(key) or "") for field in embed.get("fields", []) for key in ("name", "value")]
    return sum(utf16_len(text) for text in counted)


def embeds_size(embeds: Sequence[Mapping[str, Any]]) -> int:
    return sum(max(embed_size(embed), embed_size16(embed)) for embed in embeds)


def post_problems(message: Mapping[str, Any]) -> list[str]:
    """Every Discord limit an issue post breaks (empty for anything `issue_messages` made)."""
    problems = []
    if utf16_len(message.get("content") or "") > MAX_CONTENT:
        problems.append(f"content of {utf16_len(message['content'])} characters (max {MAX_CONTENT})")
    embeds = message.get("embeds", [])
    if len(embeds) > MAX_EMBEDS:
        problems.append(f"{len(embeds)} embeds (max {MAX_EMBEDS})")
    if embeds_size(embeds) > MAX_EMBEDS_TOTAL:
        problems.append(f"{embeds_size(embeds)} characters across embeds (max {MAX_EMBEDS_TOTAL})")
    for number, embed in enumerate(embeds, start=1):
        problems += _embed_problems(number, embed)
    if message.get("allowed_mentions") != NO_MENTIONS:
        problems.append("allowed_mentions is not empty: the message could ping")
    return problems


def answer_problems(answer: DiscordAnswer) -> list[str]:
    """Every Discord limit an answer's embed and buttons break (empty for anything `answer` made)."""
    problems = _embed_problems(1, answer.embed)
    if embeds_size([answer.embed]) > MAX_EMBEDS_TOTAL:
        problems.append(f"{embeds_size([answer.embed])} characters in the embed (max {MAX_EMBEDS_TOTAL})")
    for button in answer.buttons:
        if len(button.custom_id) > MAX_CUSTOM_ID:
            problems.append(f"custom_id of {len(button.custom_id)} characters (max {MAX_CUSTOM_ID})")
        if len(button.label) > MAX_BUTTON_LABEL:
            problems.append(f"button label of {len(button.label)} characters (max {MAX_BUTTON_LABEL})")
    return problems


def _embed_problems(number: int, embed: Mapping[str, Any]) -> list[str]:
    problems = []
    title = utf16_len(embed.get("title", ""))
    if title > MAX_EMBED_TITLE:
        problems.append(f"embed {number}: title of {title} characters (max {MAX_EMBED_TITLE})")
    description = utf16_len(embed.get("description", ""))
    if description > MAX_EMBED_DESCRIPTION:
        problems.append(f"embed {number}: description of {description} characters (max {MAX_EMBED_DESCRIPTION})")
    fields = embed.get("fields", [])
    if len(fields) > MAX_FIELDS:
        problems.append(f"embed {number}: {len(fields)} fields (max {MAX_FIELDS})")
    for field in fields:
        if utf16_len(field["name"]) > MAX_FIELD_NAME or utf16_len(field["value"]) > MAX_FIELD_VALUE:
            problems.append(f"embed {number}: field {field['name'][:20]!r} too long")
    if utf16_len(embed.get("footer", {}).get("text", "")) > MAX_FOOTER:
        problems.append(f"embed {number}: footer too long")
    if len(embed.get("url", "")) > MAX_EMBED_URL:
        problems.append(f"embed {number}: url of {len(embed['url'])} characters (max {MAX_EMBED_URL})")
    return problems


# --- subscription answers (`/subscribe`, `/unsubscribe`, `/subscriptions`) -------------------------------

MAX_CONTENT = 2000
"""Characters of a message's content."""


def notice(text: str) -> str:
    """A short answer's content: escaped, so nothing typed or named can format, link or ping."""
    return shorten(discord_escape(text), MAX_CONTENT)


def subscriptions_list(here: str | None, lines: Sequence[tuple[str, str]]) -> str:
    """This channel's subscription, then the server's, as (channel id, description) pairs."""
    parts = [f"**This channel:** {discord_escape(here) if here else 'not subscribed'}"]
    if lines:
        parts.append("**Subscribed channels in this server:**")
        parts += [f"• <#{channel}> — {discord_escape(text)}" for channel, text in lines if channel.isdigit()]
    else:
        parts.append("No channel in this server is subscribed; /subscribe subscribes this one.")
    return shorten("\n".join(parts), MAX_CONTENT)


def topic_choices(typed: str, topics: Sequence[Topic], counts: Mapping[str, int]) -> list[dict[str, str]]:
    """Autocomplete for a comma-separated topics option: choices for the piece being typed, after the others."""
    earlier, _, _ = typed.rpartition(",")
    prefix = f"{earlier.strip()}, " if earlier.strip() else ""
    found = []
    for choice in choices(topics, counts):
        value = prefix + choice["value"]
        if len(value) <= MAX_CHOICE_TEXT:
            found.append({"name": shorten(prefix + choice["name"], MAX_CHOICE_TEXT), "value": value})
    return found
