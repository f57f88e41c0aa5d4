"""chat/slack.py: issue posts and /ppr-topic answers as Block Kit, within every Slack limit, nothing cut silently,
nothing able to ping, Unicode intact."""

from __future__ import annotations

import re

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
from pprfeed.chat import slack
from pprfeed.chat.answers import Action, ButtonState, ask
from pprfeed.chat.markup import to_paragraphs
from pprfeed.links import article_url
from pprfeed.model import Issue


def posts(issue: Issue) -> list[dict]:
    return slack.issue_messages(issue, issue.articles, NAMES, SITE, "full")


# --- issue posts -----------------------------------------------------------------------------------


def test_every_limit_holds_and_long_issues_split() -> None:
    articles = [article(n, "\n\n".join(prose(1400, n + k) for k in range(3))) for n in range(25)]
    messages = posts(issue_of(*articles, intro=prose(4000)))
    assert len(messages) > 1
    titles_seen = 0
    for number, message in enumerate(messages, start=1):
        assert slack.post_problems(message) == []
        blocks = message["blocks"]
        assert len(blocks) <= 50
        for block in blocks:
            if block["type"] == "header":
                assert len(block["text"]["text"]) <= 150
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= 3000
        assert slack.message_size(message) <= 12_000
        assert message["unfurl_links"] is False
        assert message["unfurl_media"] is False
        assert message["text"]  # the notification fallback
        # the first part says "part 1 of n" at its end; every later one at its top, naming the digest and issue
        part = blocks[-1] if number == 1 else blocks[0]
        assert part["elements"][0]["text"].endswith(f"part {number} of {len(messages)}")
        if number > 1:
            assert part["elements"][0]["text"].startswith("PPRNet research digest — ")
        titles_seen += sum(1 for b in blocks if b["type"] == "section" and b["text"]["text"].startswith("*<"))
    assert titles_seen == 25


def test_shortening_cuts_at_a_word_outside_escapes_and_links_to_the_full_text() -> None:
    long_one = article(7, prose(9000))
    (message,) = posts(issue_of(long_one))
    summary = message["blocks"][2]["text"]["text"]
    assert len(summary) <= 3000
    url = article_url(long_one, SITE)
    assert summary.endswith(f"… <{url}|{slack.FULL_TEXT_LABEL}>")
    cut = summary[: summary.index("… <")]
    assert re.search(r"&(a|am|l|g|lt|gt)?$", cut) is None  # no half entity such as "&am"
    plain = cut.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("_session_", "*session*")
    assert prose(9000).startswith(plain)


def test_header_is_at_most_150_characters() -> None:
    (message,) = posts(issue_of(article(1, "short")))
    header = message["blocks"][0]
    assert header["type"] == "header"
    assert len(header["text"]["text"]) <= 150


def test_mentions_in_content_are_inert() -> None:
    hostile = article(
        1,
        "Ping <!channel> and <!here> and <@U123> and @everyone and @here please.",
        implications="<!subteam^S123> @everyone",
        title="<!channel> title @everyone",
    )
    text = all_text(posts(issue_of(hostile, intro="<!everyone> hello @here")))
    for raw in ("<!channel>", "<!here>", "<@U123>", "<!subteam", "<!everyone>"):
        assert raw not in text
    assert "&lt;!channel&gt;" in text
    assert "&lt;@U123&gt;" in text


def test_unicode_and_escaping_survive() -> None:
    item = article(1, "Flückiger’s meta-analysis: alliance → outcome (r = .28) & more — naïve café.")
    text = posts(issue_of(item))[0]["blocks"][2]["text"]["text"]
    assert "Flückiger’s" in text
    assert "→" in text
    assert "naïve café" in text
    assert "&amp; more" in text


def test_markdown_becomes_mrkdwn() -> None:
    text = "A **bold** and *soft* claim, see [the paper](https://doi.org/10.1/x) & <b>.\n\n- one\n- two"
    paragraphs = to_paragraphs(text, slack.DIALECT)
    assert paragraphs[0] == "A *bold* and _soft_ claim, see <https://doi.org/10.1/x|the paper> &amp; &lt;b&gt;."
    assert paragraphs[1] == "• one\n• two"
    assert to_paragraphs("[x](ftp://example.org/f)", slack.DIALECT) == ["x"]  # only http(s)/mailto become links


def test_many_short_articles_split_by_the_block_count() -> None:
    messages = posts(issue_of(*(article(n, "Short summary.") for n in range(25))))
    assert len(messages) >= 3  # 25 articles × 5 blocks cannot fit 50 blocks
    for message in messages:
        assert len(message["blocks"]) <= 50
        assert slack.post_problems(message) == []


def test_raw_html_survives_into_the_post() -> None:
    text = all_text(posts(issue_of(article(1, "<!channel> The effect held at follow-up.\n\n<p>Second paragraph.</p>"))))
    assert "The effect held at follow-up." in text
    assert "Second paragraph." in text


def test_every_limit_holds_with_a_3000_character_permalink_and_a_2000_character_doi() -> None:
    messages = posts(issue_of(hostile_article(1), hostile_article(2, "Short summary."), intro=prose(3000)))
    for message in messages:
        assert slack.post_problems(message) == []
    # shortened text still says where the rest is: the site's address stands in for the unusable permalink
    assert f"<{SITE.base_url}|Read the full summary>" in all_text(messages)
    assert "p" * 3000 not in all_text(messages)


def test_fit_drops_a_link_that_cannot_fit() -> None:
    text = "word " * 100
    shortened = slack.fit(text, 300, "https://x.org/" + "p" * 3000)
    assert len(shortened) <= 300
    assert "x.org" not in shortened
    assert shortened.endswith("…")
    with_home = slack.fit(text, 300, "https://x.org/" + "p" * 3000, "https://example.org/")
    assert len(with_home) <= 300
    assert "https://example.org/" in with_home


def test_limit_checks_name_what_is_over() -> None:
    """Per-block limits come from slack_sdk's Block Kit models; the message-level ones are pprfeed's."""
    (message,) = posts(issue_of(article(1, "Short summary.")))
    too_long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 4000}}
    (problem,) = slack.post_problems(dict(message, blocks=[too_long]))
    assert problem.startswith("block 1 (section, 4000 characters of text): ")
    assert "cannot exceed 3000 characters" in problem
    button = {"type": "button", "text": {"type": "plain_text", "text": "x" * 76}, "action_id": "a", "value": "1:q"}
    (problem,) = slack.answer_problems({"text": "t", "blocks": [{"type": "actions", "elements": [button]}]})
    assert "cannot exceed 75 characters" in problem
    context = {"type": "context", "elements": [{"type": "plain_text", "text": "x" * 3001}]}
    assert slack.answer_problems({"text": "t", "blocks": [context]}) == [
        "block 1 (context, 3001 characters of text): a text of 3001 characters (max 3000)"
    ]
    assert slack.answer_problems({"text": "t", "blocks": [{"type": "divider"}] * 51}) == ["51 blocks (Slack allows 50)"]
    assert slack.post_problems(dict(message, unfurl_links=True)) == ["link unfurling is not off"]


# --- /ppr-topic answers ----------------------------------------------------------------------------


def test_button_state_round_trips() -> None:
    value = slack.button_value(3, "alliance: ruptures")
    assert slack.parse_action(slack.action_id(Action.NEXT), value) == ButtonState(Action.NEXT, 3, "alliance: ruptures")
    assert slack.parse_action("someone_else", value) is None
    assert slack.parse_action(slack.action_id(Action.NEXT), "x:alliance") is None
    assert slack.parse_action("ppr_topic_z", value) is None
    state = slack.parse_action(slack.action_id(Action.SHARE), "9" * 12 + ":q")
    assert state is not None
    assert state.page == 100_000


def test_extreme_answers_stay_within_every_limit() -> None:
    archive = big_archive(23)
    context = context_for(archive)
    result = QueryEngine(archive).find("topic number 0")
    assert result.kind is MatchKind.PREFIX
    assert len(result.articles) == 23
    for page in range(6):
        assert slack.answer_problems(slack.answer(result, page, context)) == []


def test_links_in_answers_cannot_be_broken_by_odd_urls() -> None:
    archive = big_archive(1)
    result = QueryEngine(archive).find("topic number 0")
    entry = slack.answer(result, 0, context_for(archive))["blocks"][2]["text"]["text"]
    assert "<https://example.org/a%28b%29%7Cc%3Ed%20e|" in entry
    assert "<https://doi.org/10.1000/%28weird%29%7Cdoi%3E" in entry


def test_help_lists_the_topics_with_articles_and_names_the_empty_ones_in_one_line(archive) -> None:
    context = context_for(archive)
    message = slack.answer(QueryResult("", MatchKind.LIST, (), ()), 0, context)
    assert slack.answer_problems(message) == []
    listed = "\n".join(b["text"]["text"] for b in message["blocks"][1:] if b["type"] == "section")
    with_articles = [(topic, count) for topic, count in context.topic_list if count]
    assert listed.count("• ") == len(with_articles)
    assert "— 0" not in listed
    for topic, count in with_articles:
        assert f"• {slack.slack_escape(topic.name)} — {count}" in listed
    empty = [topic for topic, count in context.topic_list if not count]
    last = message["blocks"][-1]["elements"][0]["text"]
    assert last.startswith(f"No articles yet on {len(empty)} topics: ")
    assert all(slack.slack_escape(topic.name) in last for topic in empty)
    # named in one line, but still topics: asking for one answers with that topic
    engine = QueryEngine(archive)
    assert all(ask(engine, topic.name).topics == (topic,) for topic in empty)


def test_help_says_how_many_topics_are_left_out() -> None:
    huge = many_topic_archive(3000)
    message = slack.answer(QueryResult("", MatchKind.LIST, (), ()), 0, context_for(huge))
    assert slack.answer_problems(message) == []
    assert "more topics" in message["blocks"][-2]["elements"][0]["text"]
    assert message["blocks"][-1]["elements"][0]["text"].startswith("No articles yet on 1500 topics: ")


def test_a_workspace_with_many_subscriptions_is_listed_within_slack_s_limits():
    lines = [slack.channel_line(f"C{n:08d}", "Trauma and/or PTSD, " * 20, "2026-12-01", "active") for n in range(500)]
    assert slack.answer_problems(slack.subscriptions_list("every article (active)", lines, "/ppr")) == []
