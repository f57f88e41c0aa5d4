"""What an issue's digest says, before any platform's markup: per article a gist and a short citation.

Practice teams act on the practice implications, so a digest quotes their first
one or two sentences (or the editor's front-matter `gist`), never the summary's
opening, which is mostly background. Pure: articles in, plain text out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pprfeed.chat.answers import short_citation
from pprfeed.chat.escape import shorten
from pprfeed.chat.markup import Dialect, to_paragraphs
from pprfeed.model import Article, Issue

MAX_GIST = 280
"""Characters of a digest's gist, the front-matter `gist` included (`pprfeed check` holds it there)."""
_PLAIN = Dialect(escape=lambda text: text, strong="", emphasis="", link=lambda url, label: label)
# a sentence ends at . ! or ? (a closing quote or bracket may follow) before a space and a capital, a digit or
# an opening quote or bracket; "(g = .57)" does not end one, nor does an abbreviation such as "e.g." or "et al."
_SENTENCE_END = re.compile(r"[.!?][\"”’)\]]*(?=\s+[\"“(\[]?[A-Z0-9])")
_ABBREVIATIONS = {"e.g", "i.e", "al", "vs", "cf", "dr", "prof", "no", "fig"}


def sentence_ends(text: str) -> list[int]:
    """Where each sentence of `text` ends (the last one at the end of the text)."""
    ends = []
    for match in _SENTENCE_END.finditer(text):
        word = text[: match.start()].rsplit(None, 1)[-1].lstrip("(").lower() if match.start() else ""
        if match.group()[0] == "." and word in _ABBREVIATIONS:
            continue
        ends.append(match.end())
    return [*ends, len(text)]


def gist(article: Article) -> str:
    """The article's gist as plain text: the front-matter `gist`, else the first one or two sentences of its
    practice implications (of its summary when it has none), at most MAX_GIST characters, cut at a sentence
    or, failing that, a word boundary."""
    if article.gist:
        return shorten(article.gist, MAX_GIST)
    paragraphs = to_paragraphs(article.implications_md, _PLAIN) or to_paragraphs(article.summary_md, _PLAIN)
    if not paragraphs:
        return ""
    text = " ".join(paragraphs[0].split())
    ends = sentence_ends(text)
    first = ends[0]
    if first > MAX_GIST:
        return shorten(text, MAX_GIST)
    second = ends[1] if len(ends) > 1 else first
    return text[: second if second <= MAX_GIST else first].strip()


def citation_of(article: Article) -> str:
    """The front-matter `short_citation`, else one derived from the citation."""
    return article.short_citation or short_citation(article.citation)


def heading(issue: Issue, shown: int) -> str:
    """`November 2018`, plus `2 of 3 articles on your topics` when a topic filter left some out."""
    if shown >= len(issue.articles):
        return issue.title
    return f"{issue.title} · {shown} of {len(issue.articles)} articles on your topics"


def topic_line(article: Article, topic_names: Mapping[str, str]) -> str:
    """The article's topics by name, comma-separated."""
    return ", ".join(topic_names.get(slug, slug) for slug in article.topics)
