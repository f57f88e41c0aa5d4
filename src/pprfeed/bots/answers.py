"""What both bots do with a query or a button click, before any platform gets involved."""

from __future__ import annotations

from pprfeed.archive.search import MatchKind, QueryEngine, QueryResult
from pprfeed.text import normalize

HELP_WORDS = {"", "help", "list", "topics", "?"}


def ask(engine: QueryEngine, text: str) -> QueryResult:
    """`help` (or nothing) lists the topics; anything else goes to the query engine."""
    if normalize(text[:50]) in HELP_WORDS and len(text.strip()) <= 10:
        return QueryResult("", MatchKind.LIST, (), ())
    return engine.find(text)
