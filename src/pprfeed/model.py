"""The archive as immutable values: Topic, Article, Issue, Archive.

Standard library only. Everything downstream (feeds, chat rendering, bots)
speaks these types, never the content files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def month_title(month: str) -> str:
    """`2018-11` -> `November 2018`, in English whatever the locale."""
    return f"{MONTH_NAMES[int(month[5:7]) - 1]} {month[:4]}"


@dataclass(frozen=True)
class Topic:
    """One entry of the controlled vocabulary (content/topics.toml)."""

    slug: str
    name: str
    aliases: tuple[str, ...] = ()
    former_slugs: tuple[str, ...] = ()
    """Slugs the topic was published under before, oldest first: its feeds stay at those addresses too."""


@dataclass(frozen=True)
class Article:
    """One research summary: content/issues/YYYY-MM/<slug>.md."""

    id: str
    """Stable forever once published: `YYYY-MM-<slug>` unless front matter sets `id`."""
    slug: str
    month: str
    """The issue it belongs to, `YYYY-MM`."""
    title: str
    topics: tuple[str, ...]
    """Topic slugs, in the order the editor listed them."""
    citation: str
    summary_md: str
    """The Markdown before the practice-implications heading."""
    implications_md: str
    """The Markdown of the practice-implications section (heading excluded)."""
    published: date
    updated: date
    doi: str | None = None
    """Bare DOI (`10.1037/pst0000172`), never a URL."""
    research_type: str | None = None
    contact_email: str | None = None
    permalink: str | None = None
    """The article's page on the original blog, when known."""
    source: str = ""
    """Path of the content file, relative to the content folder."""
    gist: str | None = None
    """What chat digests say of it, when the editor wrote it (else the practice implications' first sentences)."""
    short_citation: str | None = None
    """`Cameron, Rodgers & Dagnan (2018)`, when the editor wrote it (else derived from the citation)."""
    retracted: bool = False
    """Taken down: the title is marked, the summary is the retraction notice, and there are no implications."""

    @property
    def doi_url(self) -> str | None:
        from pprfeed.links import doi_url  # one encoding of DOIs for every link (feeds, pages, posts, bots)

        return doi_url(self.doi) if self.doi else None


@dataclass(frozen=True)
class Issue:
    """One monthly issue: content/issues/YYYY-MM/."""

    month: str
    published: date
    articles: tuple[Article, ...]
    intro: str = ""
    draft: bool = False

    @property
    def title(self) -> str:
        """`November 2018`: English month names whatever the locale."""
        return month_title(self.month)


@dataclass(frozen=True)
class Archive:
    """The whole archive. `issues` are newest first; articles inside an issue keep file order."""

    topics: tuple[Topic, ...]
    issues: tuple[Issue, ...]
    _topic_index: dict[str, Topic] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._topic_index.update({topic.slug: topic for topic in self.topics})

    def topic(self, slug: str) -> Topic:
        return self._topic_index[slug]

    @cached_property
    def articles(self) -> tuple[Article, ...]:
        """Every article, newest first; ties broken by id so the order is stable."""
        every = [article for issue in self.issues for article in issue.articles]
        every.sort(key=lambda a: a.id)
        every.sort(key=lambda a: a.published, reverse=True)
        return tuple(every)

    def published(self, today: date) -> Archive:
        """The archive as readers may see it on `today`: no drafts, nothing dated later."""
        kept = tuple(i for i in self.issues if not i.draft and i.published <= today)
        return Archive(topics=self.topics, issues=kept)

    def topic_counts(self) -> dict[str, int]:
        counts = {topic.slug: 0 for topic in self.topics}
        for article in self.articles:
            for slug in article.topics:
                counts[slug] += 1
        return counts
