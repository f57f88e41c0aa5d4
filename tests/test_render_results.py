"""Query results -> Slack blocks / Discord embeds: pure functions, checked against the platforms' limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from pprfeed.archive.search import MatchKind, QueryEngine, QueryResult
from pprfeed.chat.results import (
    PAGE_SIZE,
    Action,
    ButtonState,
    ResultContext,
    discord_choices,
    discord_custom_id,
    discord_limit_problems,
    discord_message,
    page_of,
    parse_discord_custom_id,
    parse_slack_action,
    short_citation,
    slack_action_id,
    slack_button_value,
    slack_limit_problems,
    slack_message,
)
from pprfeed.config import SiteSettings
from pprfeed.model import Archive, Article, Issue, Topic


@pytest.mark.parametrize(
    ("citation", "short"),
    [
        (
            "Norcross, J. C., & Lambert, M. J. (2018). Psychotherapy relationships that work III.",
            "Norcross & Lambert (2018)",
        ),
        ("Murphy, R. & Hutton, P. (2017). Therapist variability.", "Murphy & Hutton (2017)"),
        (
            "Flückiger, C., Del Re, A. C., Wampold, B. E., & Horvath, A. O. (2018). The alliance.",
            "Flückiger et al. (2018)",
        ),
        (
            "Cuijpers, P., Driessen, E., Hollon, S. D., van Oppen, P., Barth, J. (2012). Supportive.",
            "Cuijpers et al. (2012)",
        ),
        ("Yulish, N. E., Goldberg, S. B., . . . Wampold, B. E. (2017). Problems.", "Yulish et al. (2017)"),
        ("Smith, A. (2020a). Alone.", "Smith (2020a)"),
        ("Some Committee (in press). Guidelines.", "Some Committee (in press)"),
        ("A reference with no year at all", "A reference with no year at all"),
    ],
)
def test_short_citation(citation, short):
    assert short_citation(citation) == short


def test_slack_button_state_round_trips():
    value = slack_button_value(3, "alliance: ruptures")
    assert parse_slack_action(slack_action_id(Action.NEXT), value) == ButtonState(Action.NEXT, 3, "alliance: ruptures")
    assert parse_slack_action("someone_else", value) is None
    assert parse_slack_action(slack_action_id(Action.NEXT), "x:alliance") is None
    assert parse_slack_action("ppr_topic_z", value) is None
    assert parse_slack_action(slack_action_id(Action.SHARE), "9" * 12 + ":q").page == 100_000


@pytest.mark.parametrize("query", ["alliance", "Alliance: ruptures & repair", "é" * 300, "word " * 100, "x" * 5000, ""])
def test_discord_custom_ids_fit_and_round_trip(query):
    custom_id = discord_custom_id(Action.PREVIOUS, 12, query)
    assert len(custom_id) <= 100
    state = parse_discord_custom_id(custom_id)
    assert state is not None and state.action is Action.PREVIOUS and state.page == 12
    if len(query) <= 85:
        assert state.query == query
    else:
        assert len(state.query) <= 100


def test_a_long_query_keeps_its_answer_when_carried_normalised(archive):
    engine = QueryEngine(archive)
    query = "THE ALLIANCE, in adolescents!!! " + " " * 80
    state = parse_discord_custom_id(discord_custom_id(Action.NEXT, 0, " ".join(query.split()) + "  " + "?" * 60))
    assert state is not None
    assert engine.find(state.query).articles == engine.find(query).articles


def big_archive(articles: int, topics: int = 3) -> Archive:
    vocabulary = tuple(
        Topic(f"topic-{n}", f"Topic number {n} " + "x" * 150, ("t" * 50,) if n == 0 else ()) for n in range(topics)
    )
    long = "Long words " * 200
    made = []
    for number in range(articles):
        made.append(
            Article(
                id=f"2020-01-a{number}",
                slug=f"a{number}",
                month="2020-01",
                title=("*Title* <!channel> @everyone " + long)[: 50 + number * 40],
                topics=tuple(t.slug for t in vocabulary[:3]),
                citation=long,
                summary_md="words",
                implications_md="more",
                published=date(2020, 1, 1),
                updated=date(2020, 1, 1),
                doi="10.1000/(weird)|doi>" + "y" * 300,
                permalink="https://example.org/a(b)|c>d e",
            )
        )
    return Archive(topics=vocabulary, issues=(Issue("2020-01", date(2020, 1, 1), tuple(made)),))


def context_for(archive: Archive, command: str = "/ppr-topic") -> ResultContext:
    engine = QueryEngine(archive)
    return ResultContext(SiteSettings(), command, {t.slug: t.name for t in archive.topics}, engine.topic_list())


def test_extreme_entries_stay_within_every_limit():
    archive = big_archive(23)
    context = context_for(archive)
    result = QueryEngine(archive).find("topic number 0")
    assert result.kind is MatchKind.PREFIX and len(result.articles) == 23
    for page in range(6):
        slack = slack_message(result, page, context)
        assert slack_limit_problems(slack) == []
        discord = discord_message(result, page, context)
        assert discord_limit_problems(discord.embed, discord.buttons) == []
    last = discord_message(result, 99, context)
    assert last.embed["footer"]["text"].startswith("Page 5 of 5")


def test_links_cannot_be_broken_by_odd_urls():
    archive = big_archive(1)
    context = context_for(archive)
    result = QueryEngine(archive).find("topic number 0")
    entry = slack_message(result, 0, context)["blocks"][2]["text"]["text"]
    assert "<https://example.org/a%28b%29%7Cc%3Ed%20e|" in entry
    assert "<https://doi.org/10.1000/%28weird%29%7Cdoi%3E" in entry
    description = discord_message(result, 0, context).embed["description"]
    assert "](https://example.org/a%28b%29%7Cc%3Ed%20e)" in description


def test_help_lists_every_topic_or_says_how_many_are_left_out():
    small = context_for(big_archive(2, topics=37))
    slack = slack_message(QueryResult("", MatchKind.LIST, (), ()), 0, small)
    assert slack_limit_problems(slack) == []
    assert sum(b["text"]["text"].count("• ") for b in slack["blocks"] if b["type"] == "section") == 37
    huge = context_for(big_archive(2, topics=3000))
    slack = slack_message(QueryResult("", MatchKind.LIST, (), ()), 0, huge)
    assert slack_limit_problems(slack) == []
    assert "more topics" in slack["blocks"][-1]["elements"][0]["text"]
    discord = discord_message(QueryResult("", MatchKind.LIST, (), ()), 0, huge)
    assert discord_limit_problems(discord.embed) == []
    assert "more topics" in discord.embed["description"]


def test_autocomplete_choices_respect_discord_limits():
    topics = [Topic(f"slug-{n}", "N" * (90 + n)) for n in range(40)]
    choices = discord_choices(topics, {"slug-0": 123456})
    assert len(choices) == 25
    assert choices[0]["name"].endswith(" (123456)")
    assert all(len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in choices)
    assert choices[20]["value"] == "slug-20"


def test_pages_clamp_to_what_exists(archive):
    result = QueryEngine(archive).find("alliance")
    assert page_of(result, -3).number == 0
    assert page_of(result, 10**9).number == page_of(result, 0).count - 1
    empty = replace(result, articles=())
    assert page_of(empty, 4).articles == () and page_of(empty, 4).count == 1
    assert PAGE_SIZE == 5
