"""chat/discord.py: issue posts and /topic answers as content and embeds, within every Discord limit, nothing cut
silently, nothing able to ping, Unicode intact."""

from __future__ import annotations

import discord as discord_py
import pytest

from chatkit import (
    NAMES,
    SITE,
    all_text,
    article,
    big_archive,
    context_for,
    hostile_article,
    issue_of,
    many_topic_archive,
    prose,
)
from pprfeed.archive.search import MatchKind, QueryEngine, QueryResult
from pprfeed.chat import discord
from pprfeed.chat.answers import Action
from pprfeed.chat.markup import to_paragraphs
from pprfeed.model import Issue, Topic


def posts(issue: Issue) -> list[dict]:
    return discord.issue_messages(issue, issue.articles, NAMES, SITE, "full")


# --- issue posts -----------------------------------------------------------------------------------


def test_three_long_summaries_split_into_several_messages_within_every_limit() -> None:
    issue = issue_of(*(article(n, prose(2500, n)) for n in range(3)))
    messages = posts(issue)
    assert len(messages) >= 2  # 3 × ~2,600 characters of embed cannot fit the 6,000 of one message
    assert [embed["title"] for m in messages for embed in m["embeds"]] == [a.title for a in issue.articles]
    for number, message in enumerate(messages, start=1):
        assert discord.post_problems(message) == []
        assert len(message["content"]) <= 2000
        assert len(message["embeds"]) <= 10
        assert discord.embeds_size(message["embeds"]) <= 6000
        assert message["content"].endswith(f"part {number} of {len(messages)}")
        assert message["allowed_mentions"] == {"parse": []}
    # 2,500 characters fit an embed description: nothing shortened, every summary complete
    for message in messages:
        for embed in message["embeds"]:
            assert discord.FULL_TEXT_LABEL not in embed["description"]
    summary = to_paragraphs(issue.articles[1].summary_md, discord.DIALECT)[0]
    assert summary in [e["description"].split("\n\n")[1] for m in messages for e in m["embeds"]]


def test_every_limit_holds_for_oversized_articles() -> None:
    huge = article(
        1,
        "\n\n".join(prose(3000, n) for n in range(4)),
        implications="\n\n".join(prose(1200, n) for n in range(3)),
        title="T" * 400 + " & more",
        citation=prose(2000),
        topics=tuple(NAMES) * 3,
    )
    messages = posts(issue_of(*([huge] * 12), intro=prose(5000)))
    assert len(messages) >= 2
    for message in messages:
        assert discord.post_problems(message) == []
        for embed in message["embeds"]:
            assert len(embed["title"]) <= 256
            assert len(embed["description"]) <= 4096
            for field in embed["fields"]:
                assert len(field["value"]) <= 1024
                assert len(field["name"]) <= 256
            # shortened, never silently: the description ends with a link to the full text
            assert f"[{discord.FULL_TEXT_LABEL}](" in embed["description"]
    assert len(messages[0]["content"]) <= 2000
    assert "[Read the issue](https://example.org/pprnet/)" in messages[0]["content"]


def test_mentions_in_content_are_inert() -> None:
    hostile = article(
        1,
        "Ping <!channel> and <!here> and <@U123> and @everyone and @here please.",
        implications="<!subteam^S123> @everyone",
        title="<!channel> title @everyone",
    )
    messages = posts(issue_of(hostile, intro="hello @everyone"))
    text = all_text(messages)
    assert "@everyone" not in text
    assert "@here" not in text
    assert "@\u200beveryone" in text
    description = messages[0]["embeds"][0]["description"]
    assert "<@U123>" not in description
    assert "\\<@U123\\>" in description
    for message in messages:
        assert message["allowed_mentions"] == {"parse": []}


@pytest.mark.parametrize("escape", [discord.discord_escape, discord.discord_plain, discord.discord_label])
def test_every_escape_breaks_mentions_as_discord_py_does(escape) -> None:
    text = "@everyone @here <@&123456789012345678> @123456789012345678"
    escaped = escape(text)
    assert discord_py.utils.escape_mentions(escaped) == escaped  # nothing left that discord.py would break
    assert "@\u200beveryone" in escaped
    assert "@\u200bhere" in escaped
    assert "@\u200b123456789012345678" in escaped


def test_unicode_and_escaping_survive() -> None:
    item = article(1, "Flückiger’s meta-analysis: alliance → outcome (r = .28) & more — naïve café.")
    description = posts(issue_of(item))[0]["embeds"][0]["description"]
    assert "Flückiger’s" in description
    assert "naïve café" in description
    assert "(r = .28) & more" in description  # only what formats is escaped: no backslashes here


def test_markdown_becomes_discord_markdown() -> None:
    text = "A **bold** and *soft* claim, see [the paper](https://doi.org/10.1/x) & <b>.\n\n- one\n- two"
    paragraphs = to_paragraphs(text, discord.DIALECT)
    assert paragraphs[0].startswith("A **bold** and *soft* claim, see [the paper](https://doi.org/10.1/x)")


def test_many_short_articles_split_by_the_embed_count() -> None:
    messages = posts(issue_of(*(article(n, "Short summary.") for n in range(25))))
    assert [len(m["embeds"]) for m in messages] == [10, 10, 5]
    for message in messages:
        assert discord.post_problems(message) == []


def test_raw_html_survives_into_the_post() -> None:
    text = all_text(posts(issue_of(article(1, "<!channel> The effect held at follow-up.\n\n<p>Second paragraph.</p>"))))
    assert "The effect held at follow-up." in text
    assert "Second paragraph." in text


def test_every_limit_holds_with_a_3000_character_permalink_and_a_2000_character_doi() -> None:
    messages = posts(issue_of(hostile_article(1), hostile_article(2, "Short summary."), intro=prose(3000)))
    for message in messages:
        assert discord.post_problems(message) == []
    # shortened text still says where the rest is: the site's address stands in for the unusable permalink
    assert f"[Read the full summary]({SITE.base_url})" in all_text(messages)
    assert "p" * 3000 not in all_text(messages)
    embeds = [embed for message in messages for embed in message["embeds"]]
    (doi,) = {field["value"] for embed in embeds for field in embed["fields"] if field["name"] == "DOI"}
    assert doi.replace("\\", "").startswith("10.1234/ddd")
    assert doi.endswith("…")
    assert len(doi) <= 200


def test_fit_drops_a_link_that_cannot_fit() -> None:
    text = "word " * 100
    shortened = discord.fit(text, 300, "https://x.org/" + "p" * 3000)
    assert len(shortened) <= 300
    assert "x.org" not in shortened
    assert shortened.endswith("…")
    with_home = discord.fit(text, 300, "https://x.org/" + "p" * 3000, "https://example.org/")
    assert len(with_home) <= 300
    assert "https://example.org/" in with_home


def test_embed_size_counts_what_discord_counts() -> None:
    embed = {
        "title": "t" * 10,
        "description": "d" * 20,
        "fields": [{"name": "n" * 3, "value": "v" * 4}],
        "footer": {"text": "f" * 5},
        "author": {"name": "a" * 6},
        "url": "https://example.org/" + "u" * 100,  # not counted
    }
    assert discord.embed_size(embed) == 48


def test_limit_checks_name_what_is_over() -> None:
    (message,) = posts(issue_of(article(1, "Short summary.")))
    assert discord.post_problems(dict(message, content="x" * 2500)) == ["content of 2500 characters (max 2000)"]
    assert discord.post_problems(dict(message, allowed_mentions={"parse": ["everyone"]})) == [
        "allowed_mentions is not empty: the message could ping"
    ]
    answer = discord.DiscordAnswer({"title": "x" * 300}, (discord.DiscordButton("b" * 81, "c" * 101, "primary"),))
    assert discord.answer_problems(answer) == [
        "embed 1: title of 300 characters (max 256)",
        "custom_id of 101 characters (max 100)",
        "button label of 81 characters (max 80)",
    ]


# --- /topic answers --------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["alliance", "Alliance: ruptures & repair", "é" * 300, "word " * 100, "x" * 5000, ""])
def test_custom_ids_fit_and_round_trip(query: str) -> None:
    custom_id = discord.custom_id(Action.PREVIOUS, 12, query)
    assert len(custom_id) <= 100
    state = discord.parse_custom_id(custom_id)
    assert state is not None
    assert state.action is Action.PREVIOUS
    assert state.page == 12
    if len(query) <= 85:
        assert state.query == query
    else:
        assert len(state.query) <= 100


def test_a_long_query_keeps_its_answer_when_carried_normalised(archive) -> None:
    engine = QueryEngine(archive)
    query = "THE ALLIANCE, in adolescents!!! " + " " * 80
    state = discord.parse_custom_id(discord.custom_id(Action.NEXT, 0, " ".join(query.split()) + "  " + "?" * 60))
    assert state is not None
    assert engine.find(state.query).articles == engine.find(query).articles


def test_extreme_answers_stay_within_every_limit() -> None:
    archive = big_archive(23)
    context = context_for(archive)
    result = QueryEngine(archive).find("topic number 0")
    assert len(result.articles) == 23
    for page in range(6):
        assert discord.answer_problems(discord.answer(result, page, context)) == []
    last = discord.answer(result, 99, context)
    assert last.embed["footer"]["text"].startswith("Page 5 of 5")


def test_links_in_answers_cannot_be_broken_by_odd_urls() -> None:
    archive = big_archive(1)
    result = QueryEngine(archive).find("topic number 0")
    description = discord.answer(result, 0, context_for(archive)).embed["description"]
    assert "](https://example.org/a%28b%29%7Cc%3Ed%20e)" in description


def test_help_lists_the_topics_with_articles_and_names_the_empty_ones_in_one_line(archive) -> None:
    context = context_for(archive, "/topic")
    help_answer = discord.answer(QueryResult("", MatchKind.LIST, (), ()), 0, context)
    assert discord.answer_problems(help_answer) == []
    description = help_answer.embed["description"]
    with_articles = [(topic, count) for topic, count in context.topic_list if count]
    assert description.count("• ") == len(with_articles)
    assert "— 0" not in description
    empty = [topic for topic, count in context.topic_list if not count]
    last = description.split("\n")[-1]
    assert last.startswith(f"No articles yet on {len(empty)} topics: ")
    assert all(discord.discord_escape(topic.name) in last for topic in empty)


def test_help_says_how_many_topics_are_left_out() -> None:
    huge = discord.answer(QueryResult("", MatchKind.LIST, (), ()), 0, context_for(many_topic_archive(3000)))
    assert discord.answer_problems(huge) == []
    assert "more topics" in huge.embed["description"]
    assert "No articles yet on 1500 topics: " in huge.embed["description"]


def test_autocomplete_choices_respect_discord_limits() -> None:
    topics = [Topic(f"slug-{n}", "N" * (90 + n)) for n in range(40)]
    choices = discord.choices(topics, {"slug-0": 123456})
    assert len(choices) == 25
    assert choices[0]["name"].endswith(" (123456)")
    for choice in choices:
        assert len(choice["name"]) <= 100
        assert len(choice["value"]) <= 100
    assert choices[20]["value"] == "slug-20"
