"""An Issue -> Discord messages (content + embeds) as plain data, within Discord's limits by construction.

One embed per article; an issue that does not fit one message (10 embeds,
6,000 embed characters) is split into several, each saying "part k of n".
Every limit is measured on the escaped text; shortened text ends with a link
to the full summary. `allowed_mentions` is empty on every message, so nothing
can ping even if escaping were bypassed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pprfeed.chat.escape import DIGEST_NAME, FULL_TEXT_LABEL, discord_escape, discord_plain, fit_linked, shorten
from pprfeed.chat.markup import DISCORD, discord_link, discord_url, to_paragraphs
from pprfeed.config import SiteSettings
from pprfeed.links import article_url
from pprfeed.model import Article, Issue

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TITLE = 256
MAX_EMBED_DESCRIPTION = 4096
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FIELDS = 25
MAX_FOOTER = 2048
MAX_EMBEDS_TOTAL = 6000
MAX_EMBED_URL = 2048
"""Longest embed title link kept; a longer permalink leaves the title unlinked (the description still links)."""
MAX_DOI = 200
NO_MENTIONS: dict[str, Any] = {"parse": []}
EMBED_COLOUR = 0x2B6CB0

DiscordMessage = dict[str, Any]


def render_discord_issue(
    issue: Issue, articles: Sequence[Article], topic_names: Mapping[str, str], site: SiteSettings
) -> list[DiscordMessage]:
    """The messages that carry `articles` of `issue`, in order; every one within every Discord limit."""
    embeds = [_article_embed(issue, article, topic_names, site) for article in articles]
    groups: list[list[dict[str, Any]]] = [[]]
    for embed in embeds:
        current = groups[-1]
        fits = len(current) < MAX_EMBEDS and embeds_size(current) + embed_size(embed) <= MAX_EMBEDS_TOTAL
        if not fits and current:  # one article's embed alone always fits: see _article_embed's budgets
            groups.append([])
        groups[-1].append(embed)
    total = len(groups)
    messages = []
    for number, group in enumerate(groups, start=1):
        messages.append(
            {"content": _content(issue, number, total, site), "embeds": group, "allowed_mentions": dict(NO_MENTIONS)}
        )
    return messages


def _content(issue: Issue, number: int, total: int, site: SiteSettings) -> str:
    """The message text: the issue's heading (unique per part, so a lost reply can be found again) and intro."""
    heading = f"**{discord_escape(f'{DIGEST_NAME} — {issue.title}')}**"
    if total > 1:
        heading += f" · part {number} of {total}"
    if number > 1 or not issue.intro.strip():
        return heading
    intro = "\n\n".join(to_paragraphs(issue.intro, DISCORD))
    return heading + "\n" + fit(intro, MAX_CONTENT - len(heading) - 1, site.base_url, label="Read the issue")


def _article_embed(
    issue: Issue, article: Article, topic_names: Mapping[str, str], site: SiteSettings
) -> dict[str, Any]:
    url = article_url(article, site)
    home = site.base_url
    citation = "*" + fit(discord_escape(article.citation), 600, url, home) + "*"
    implications = to_paragraphs(article.implications_md, DISCORD)
    implication_text = ""
    if implications:
        quoted = "\n".join("> " + line for paragraph in implications for line in paragraph.split("\n"))
        implication_text = "**Practice implications**\n" + fit(quoted, 1500, url, home)
    summary = "\n\n".join(to_paragraphs(article.summary_md, DISCORD))
    room = MAX_EMBED_DESCRIPTION - len(citation) - len(implication_text) - 4
    description = "\n\n".join(part for part in (citation, fit(summary, room, url, home), implication_text) if part)
    embed: dict[str, Any] = {
        "title": shorten(discord_plain(article.title), MAX_EMBED_TITLE),
        "url": discord_url(url),
        "description": description,
        "color": EMBED_COLOUR,
        "footer": {"text": shorten(f"{DIGEST_NAME} · {issue.title}", 100)},
    }
    if len(embed["url"]) > MAX_EMBED_URL:
        del embed["url"]
    fields = []
    names = [topic_names.get(slug, slug) for slug in article.topics]
    if names:
        fields.append({"name": "Topics", "value": shorten(discord_escape(", ".join(names)), 400)})
    if article.doi and article.doi_url:
        doi = discord_link(article.doi_url, shorten(article.doi, 100))
        if len(doi) > MAX_FIELD_VALUE:  # the DOI as text, shortened where it is harmless to cut
            doi = shorten(discord_escape(article.doi), MAX_DOI)
        fields.append({"name": "DOI", "value": doi})
    if fields:
        embed["fields"] = fields
    return embed


def fit(text: str, limit: int, url: str, fallback_url: str = "", label: str = FULL_TEXT_LABEL) -> str:
    """`fit_linked` with this platform's links."""
    return fit_linked(text, limit, discord_link, url, fallback_url, label)


def embed_size(embed: dict[str, Any]) -> int:
    """Characters Discord counts towards the 6,000 of a message: title, description, fields, footer, author."""
    size = len(embed.get("title", "")) + len(embed.get("description", ""))
    size += sum(len(field["name"]) + len(field["value"]) for field in embed.get("fields", []))
    size += len(embed.get("footer", {}).get("text", "")) + len(embed.get("author", {}).get("name", ""))
    return size


def embeds_size(embeds: Sequence[dict[str, Any]]) -> int:
    return sum(embed_size(embed) for embed in embeds)


def limit_problems(message: DiscordMessage) -> list[str]:
    """Every Discord limit this message breaks (empty for anything `render_discord_issue` made)."""
    problems = []
    if len(message.get("content") or "") > MAX_CONTENT:
        problems.append(f"content of {len(message['content'])} characters (max {MAX_CONTENT})")
    embeds = message.get("embeds", [])
    if len(embeds) > MAX_EMBEDS:
        problems.append(f"{len(embeds)} embeds (max {MAX_EMBEDS})")
    if embeds_size(embeds) > MAX_EMBEDS_TOTAL:
        problems.append(f"{embeds_size(embeds)} characters across embeds (max {MAX_EMBEDS_TOTAL})")
    for number, embed in enumerate(embeds, start=1):
        if len(embed.get("title", "")) > MAX_EMBED_TITLE:
            problems.append(f"embed {number}: title of {len(embed['title'])} characters (max {MAX_EMBED_TITLE})")
        if len(embed.get("description", "")) > MAX_EMBED_DESCRIPTION:
            problems.append(
                f"embed {number}: description of {len(embed['description'])} characters (max {MAX_EMBED_DESCRIPTION})"
            )
        fields = embed.get("fields", [])
        if len(fields) > MAX_FIELDS:
            problems.append(f"embed {number}: {len(fields)} fields (max {MAX_FIELDS})")
        for field in fields:
            if len(field["name"]) > MAX_FIELD_NAME or len(field["value"]) > MAX_FIELD_VALUE:
                problems.append(f"embed {number}: field {field['name'][:20]!r} too long")
        if len(embed.get("footer", {}).get("text", "")) > MAX_FOOTER:
            problems.append(f"embed {number}: footer too long")
    if message.get("allowed_mentions") != NO_MENTIONS:
        problems.append("allowed_mentions is not empty: the message could ping")
    return problems
