"""chat/markup.py: article Markdown as each platform's paragraphs; raw HTML kept as inert text."""

from __future__ import annotations

import pytest

from pprfeed.chat import discord, slack
from pprfeed.chat.markup import Dialect, to_paragraphs


@pytest.mark.parametrize("dialect", [slack.DIALECT, discord.DIALECT], ids=["slack", "discord"])
@pytest.mark.parametrize(
    ("markdown", "kept"),
    [
        ("<p>Alliance predicts outcome.</p>", "Alliance predicts outcome."),
        ("<div>Rupture and repair</div>\n\nNext paragraph.", "Rupture and repair"),
        ("<!-- editor's note --> kept", "editor's note"),
        ("<!channel> please read this study", "please read this study"),
    ],
    ids=["p", "div", "comment", "channel"],
)
def test_raw_html_paragraphs_are_kept_as_inert_text(dialect: Dialect, markdown: str, kept: str) -> None:
    text = "\n\n".join(to_paragraphs(markdown, dialect))
    assert kept in text.replace("\\", "")
    # escaped, so it can neither ping nor format
    assert "<!channel>" not in text
    assert "<p>" not in text
    assert "<div>" not in text


@pytest.mark.parametrize("dialect", [slack.DIALECT, discord.DIALECT], ids=["slack", "discord"])
def test_lists_quotes_and_headings(dialect: Dialect) -> None:
    paragraphs = to_paragraphs("## Aims\n\n1. one\n2. two\n\n> quoted", dialect)
    assert paragraphs == [f"{dialect.strong}Aims{dialect.strong}", "1. one\n2. two", "> quoted"]
