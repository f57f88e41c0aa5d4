"""What a deployed output folder has published, so that no later build takes an address away.

Every build writes `.pprfeed-published.json` beside its marker: the id, address and
title of each article in it, and the slug of each topic feed. The next build into
that folder (or `pprfeed check --out` against a copy of it) compares: an article id
or a topic slug that was published and is gone would make every reader's copy of it
an orphan and every chat post about it a dead link, so it is refused with the fix (an
`id` or `former_slugs` line). A folder without the file (a fresh clone, a preview) has
nothing to guard.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pprfeed.config import SiteSettings
from pprfeed.diagnostics import Diagnostic
from pprfeed.links import article_url
from pprfeed.model import Archive, Article, Topic

PUBLISHED_FILE = ".pprfeed-published.json"
TOPICS_FILE = "topics.toml"


@dataclass(frozen=True)
class Published:
    articles: dict[str, dict[str, str]] = field(default_factory=dict)
    """Article id -> {"url": …, "title": …, "source": …}."""
    topics: list[str] = field(default_factory=list)
    """Every slug a topic feed is written under (former slugs included)."""


def read_published(folder: Path) -> Published | None:
    """What `folder` has published, or None when it holds no record (nothing to guard)."""
    try:
        data = json.loads((folder / PUBLISHED_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None  # unreadable: the next build writes it afresh rather than block on it
    if not isinstance(data, dict):
        return None
    articles = data.get("articles")
    topics = data.get("topics")
    return Published(
        articles=articles if isinstance(articles, dict) else {},
        topics=[t for t in topics if isinstance(t, str)] if isinstance(topics, list) else [],
    )


def published_record(articles: Iterable[Article], topics: Sequence[Topic], site: SiteSettings) -> bytes:
    """The bytes of the record a build leaves: sorted, so that an unchanged site leaves the same bytes."""
    record = {
        "articles": {
            a.id: {"url": article_url(a, site), "title": a.title, "source": a.source}
            for a in sorted(articles, key=lambda a: a.id)
        },
        "topics": sorted({slug for t in topics for slug in (t.slug, *t.former_slugs)}),
    }
    return (json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


def lost_addresses(
    published: Published, archive: Archive, articles: Sequence[Article], content: Path | str = "content"
) -> list[Diagnostic]:
    """Each published article id and topic slug that `articles` and the archive's topics no longer have."""
    problems: list[Diagnostic] = []
    present = {a.id for a in articles}
    newcomers = [a for a in articles if a.id not in published.articles]
    for old_id, known in sorted(published.articles.items()):
        if old_id in present:
            continue
        successor = _successor(old_id, known, newcomers)
        source = Path(content) / (successor.source if successor else known.get("source", ""))
        url = known.get("url", "")
        if successor is not None:
            message = (
                f'published article "{old_id}" ({url}) is gone: this file, new id "{successor.id}", '
                "is probably its new name"
            )
            fix = f'add id = "{old_id}" to this file\'s front matter, so readers and chat posts keep it'
        else:
            message = f'published article "{old_id}" ({url}) is gone from the archive'
            fix = (
                f'put the file back; after renaming a file, add id = "{old_id}" to its front matter; '
                "to take it down, keep it with retracted = true"
            )
        problems.append(Diagnostic(str(source), None, message, fix))
    slugs = {slug for t in archive.topics for slug in (t.slug, *t.former_slugs)}
    for old_slug in published.topics:
        if old_slug in slugs:
            continue
        new = [t for t in archive.topics if t.slug not in published.topics]
        guess = difflib.get_close_matches(old_slug, [t.slug for t in new], n=1, cutoff=0.0) if new else []
        where = f' (now "{guess[0]}"?)' if guess else ""
        problems.append(
            Diagnostic(
                str(Path(content) / TOPICS_FILE),
                None,
                f'published topic feed "{old_slug}"{where} is gone: its subscribers would get 404',
                f'add former_slugs = ["{old_slug}"] to the [[topic]] that took its place',
            )
        )
    return problems


def _successor(old_id: str, known: dict[str, str], newcomers: Sequence[Article]) -> Article | None:
    """The new article most like the lost one: the same title, else the closest title or id."""
    if not newcomers:
        return None
    title = known.get("title", "")
    for article in newcomers:
        if title and article.title == title:
            return article
    by_title = {a.title: a for a in newcomers}
    close = difflib.get_close_matches(title, list(by_title), n=1, cutoff=0.6) if title else []
    if close:
        return by_title[close[0]]
    by_id = {a.id: a for a in newcomers}
    close = difflib.get_close_matches(old_id, list(by_id), n=1, cutoff=0.6)
    return by_id[close[0]] if close else None
