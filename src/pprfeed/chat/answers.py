"""What the `/topic` bots answer, before any platform's markup: the query, its pages, its buttons, its wording.

Pure: a `QueryResult` and a `ResultContext` in, plain values out; chat/slack.py
and chat/discord.py turn them into each platform's payloads. Buttons carry
their state in the button itself (Slack `value`, Discord `custom_id`: the
action, the page and the query), so a click can be answered by any process,
even one started after the message was sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote

from pprfeed.archive.search import MAX_QUERY_CHARS, MatchKind, QueryEngine, QueryResult
from pprfeed.chat.escape import shorten
from pprfeed.config import SiteSettings
from pprfeed.model import Article, Topic
from pprfeed.text import normalize, plural

PAGE_SIZE = 5
MAX_PAGE = 100_000
"""Pages beyond this are not a real request: a button value was tampered with."""
QUERY_ECHO = 200
"""How much of the query is echoed back; the engine itself reads no more than MAX_QUERY_CHARS."""
HELP_WORDS = {"", "help", "list", "topics", "?"}


def ask(engine: QueryEngine, text: str) -> QueryResult:
    """`help` (or nothing) lists the topics; anything else goes to the query engine."""
    if normalize(text[:50]) in HELP_WORDS and len(text.strip()) <= 10:
        return QueryResult("", MatchKind.LIST, (), ())
    return engine.find(text)


class Action(StrEnum):
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
    article_count: int = 0
    """How many articles a query searches, for "nothing found" answers."""


@dataclass(frozen=True)
class ButtonState:
    """What a button click asks for."""

    action: Action
    page: int
    query: str


def button_state(action_code: str, value: str) -> ButtonState | None:
    """The state behind `<action code>` and `<page>:<query>`, or None when malformed."""
    page_text, separator, query = value.partition(":")
    if not separator or not (page_text.isascii() and page_text.isdigit()) or len(page_text) > 12:
        return None
    try:
        action = Action(action_code)
    except ValueError:
        return None
    return ButtonState(action, min(int(page_text), MAX_PAGE), query[:MAX_QUERY_CHARS])


@dataclass(frozen=True)
class Page:
    number: int
    """0-based, clamped to the pages that exist."""
    count: int
    total: int
    articles: tuple[Article, ...]
    order: str = "newest"
    """How the articles are ordered: "newest" (a topic) or "relevance" (words)."""


def page_of(result: QueryResult, number: int) -> Page:
    total = len(result.articles)
    count = max(1, -(-total // PAGE_SIZE))
    number = min(max(number, 0), count - 1)
    start = number * PAGE_SIZE
    return Page(number, count, total, result.articles[start : start + PAGE_SIZE], result.order)


def buttons(page: Page) -> list[tuple[Action, int]]:
    """The buttons a page offers, each with the page it asks for."""
    offered: list[tuple[Action, int]] = []
    if page.number > 0:
        offered.append((Action.PREVIOUS, page.number - 1))
    if page.number + 1 < page.count:
        offered.append((Action.NEXT, page.number + 1))
    if page.total:
        offered.append((Action.SHARE, page.number))
    return offered


# --- wording both platforms share -------------------------------------------------------------


def heading(result: QueryResult) -> str:
    """The one-line answer, with no user text in it (that is echoed separately, inert)."""
    names = ", ".join(topic.name for topic in result.topics)
    count = plural(len(result.articles), "article")
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


def page_footer(page: Page) -> str:
    order = "newest first" if page.order == "newest" else "best match first"
    return f"Page {page.number + 1} of {page.count} · {order}" if page.total else ""


def suggestion_names(result: QueryResult) -> str:
    return ", ".join(topic.name for topic in result.suggestions)


def help_topics(context: ResultContext) -> tuple[list[tuple[Topic, int]], list[Topic]]:
    """The topics the help lists with their counts (those with articles, in vocabulary order), and the empty
    ones, which it names in one line: a list of "— 0" lines would bury the topics that answer."""
    listed = [(topic, count) for topic, count in context.topic_list if count]
    return listed, [topic for topic, count in context.topic_list if not count]


def empty_line(empty: Sequence[Topic]) -> str:
    """`No articles yet on 2 topics: Grief, Sleep.`"""
    names = ", ".join(shorten(topic.name, 100) for topic in empty)
    return f"No articles yet on {plural(len(empty), 'topic')}: {names}."


def safe_url(url: str) -> str:
    """Percent-encode what would end a link early in Slack (`|`, `>`) or Discord (`)`), and spaces."""
    return quote(url, safe=":/?#[]@!$&'*+,;=%~-._")


def short_citation(citation: str) -> str:
    """`Norcross & Lambert (2018)`, `Cameron, Rodgers & Dagnan (2018)`, `Flückiger et al. (2018)` (four or more);
    the citation itself when it has no year."""
    year = _YEAR.search(citation)
    if year is None:
        return shorten(citation, 120)
    names = citation[: year.start()]
    surnames = [name.strip() for name in _SURNAME.findall(names)]
    if not surnames:
        authors = names.split(",")[0].strip() or names.strip()
    elif len(surnames) == 1:
        authors = surnames[0]
    elif len(surnames) == 2 and not _ELIDED.search(names):
        authors = f"{surnames[0]} & {surnames[1]}"
    elif len(surnames) == 3 and not _ELIDED.search(names):
        authors = f"{surnames[0]}, {surnames[1]} & {surnames[2]}"
    else:  # four or more, or a list elided with ". . ."
        authors = f"{surnames[0]} et al."
    return shorten(f"{authors} ({year.group(1)})", 120)


_ELIDED = re.compile(r"\.\s*\.\s*\.|…")
_YEAR = re.compile(r"\((\d{4}[a-z]?|in press|n\.\s?d\.)\)", re.I)
_SURNAME = re.compile(r"([^\W\d_][^,&()]*?),\s*(?:[^\W\d_]{1,2}\.[\s-]*)+")


# --- subscriptions -------------------------------------------------------------------------------

MAX_SUBSCRIBE_TOPICS = 25
"""More topics than this in one subscription is not a filter any more: subscribe to every article instead."""


@dataclass(frozen=True)
class TopicChoice:
    """What `/ppr subscribe <text>` named: the topics found, and what matched none (with did-you-mean)."""

    topics: tuple[Topic, ...]
    unknown: tuple[tuple[str, tuple[Topic, ...]], ...] = ()
    """(what was typed, the closest topics) for each piece that named no topic."""


def choose_topics(engine: QueryEngine, text: str) -> TopicChoice:
    """Topics named in `text` the way queries name them (names, slugs, aliases, prefixes; typos get suggestions),
    topics without articles included. Commas separate topics; without commas the whole text is tried as one
    topic first ("trauma and/or ptsd"), then each word ("trauma cbt")."""
    text = text[:MAX_QUERY_CHARS]
    if "," in text:
        pieces = [piece.strip() for piece in text.split(",")]
    else:
        kind, topics = engine.resolve(text)
        if kind in (MatchKind.TOPIC, MatchKind.PREFIX) or not text.strip():
            return TopicChoice(topics)
        pieces = text.split()
    found: dict[str, Topic] = {}
    unknown: list[tuple[str, tuple[Topic, ...]]] = []
    for piece in filter(None, pieces):
        kind, topics = engine.resolve(piece)
        if kind in (MatchKind.TOPIC, MatchKind.PREFIX):
            for topic in topics:
                found.setdefault(topic.slug, topic)
        else:
            unknown.append((piece, tuple(engine.suggest(piece))))
    return TopicChoice(tuple(found.values()), tuple(unknown))


def topic_names_line(slugs: Sequence[str], names: Mapping[str, str]) -> str:
    """`Trauma and/or PTSD, CBT`, or `every article` for a subscription without topics."""
    return ", ".join(names.get(slug, slug) for slug in slugs) if slugs else "every article"


def unknown_line(choice: TopicChoice) -> str:
    """`No topic is called “trama” (did you mean Trauma and/or PTSD?)`, one sentence per unknown piece."""
    sentences = []
    for typed, close in choice.unknown:
        hint = f" (did you mean {', '.join(topic.name for topic in close)}?)" if close else ""
        sentences.append(f"No topic is called “{shorten(typed, QUERY_ECHO)}”{hint}.")
    return " ".join(sentences)


# the wording of subscription answers, plain text: each platform escapes it and adds its own markup


def subscribed_public(slugs: Sequence[str], names: Mapping[str, str]) -> str:
    """The one public line a subscription posts in its channel."""
    return f"This channel now gets the PPRNet digest: {topic_names_line(slugs, names)}"


def subscribed_private(slugs: Sequence[str], names: Mapping[str, str], unsubscribe: str) -> str:
    return (
        f"Subscribed: this channel gets the PPRNet digest ({topic_names_line(slugs, names)}). "
        f"The latest issue comes with the next publication run, then each new issue once. "
        f"`{unsubscribe}` stops it."
    )


def unsubscribed_private(left: Sequence[str] | None, names: Mapping[str, str], subscribe: str) -> str:
    if left is None:
        return f"Unsubscribed: this channel gets no more issues. `{subscribe}` starts again."
    return f"This channel now gets the PPRNet digest for {topic_names_line(left, names)} only."


def not_subscribed(subscribe: str) -> str:
    return f"This channel has no subscription. `{subscribe}` subscribes it."


def subscription_state(paused: str | None) -> str:
    return f"paused: {paused} — subscribe again to resume" if paused else "active"
