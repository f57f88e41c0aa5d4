"""Digests: what a post says of each article, on both platforms, within every limit (slack_sdk's own Block Kit
models for Slack, Discord's documented limits in code points and UTF-16 alike)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from chatkit import NAMES, SITE, article, context_for, hostile_article, issue_of, prose
from pprfeed.archive.search import QueryEngine
from pprfeed.chat import discord, slack
from pprfeed.chat.digest import MAX_GIST, citation_of, gist, sentence_ends
from pprfeed.links import article_url
from pprfeed.model import Archive, Issue

PLATFORMS = {"slack": slack, "discord": discord}
FORMATS = ("digest", "full")


def names_of(archive: Archive) -> dict[str, str]:
    return {topic.slug: topic.name for topic in archive.topics}


def validate_slack(value: Any) -> None:
    """Parse every block with slack_sdk's models and validate it and every element nested in it."""
    for block in value["blocks"]:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.validate_json()
        for element in _nested(parsed):
            element.validate_json()


def _nested(obj: Any) -> list[Any]:
    found = []
    for attribute in getattr(obj, "attributes", ()):
        value = getattr(obj, attribute, None)
        for item in value if isinstance(value, list) else [value]:
            if hasattr(item, "validate_json"):
                found += [item, *_nested(item)]
    return found


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def within_discord_limits(message: dict[str, Any]) -> list[str]:
    """Discord's documented limits, computed here on the payload (not by pprfeed's own checks)."""
    over = []
    for measure in (len, utf16):
        content = message.get("content") or ""
        if measure(content) > 2000:
            over.append(f"content {measure(content)}")
        total = 0
        for embed in message["embeds"]:
            texts = {
                "title": (embed.get("title", ""), 256),
                "description": (embed.get("description", ""), 4096),
                "footer": (embed.get("footer", {}).get("text", ""), 2048),
            }
            for field in embed.get("fields", []):
                texts[f"field {field['name']}"] = (field["value"], 1024)
                total += measure(field["name"])
            for name, (text, limit) in texts.items():
                total += measure(text)
                if measure(text) > limit:
                    over.append(f"{name} {measure(text)}")
        if total > 6000:
            over.append(f"embeds {total}")
    if len(message["embeds"]) > 10:
        over.append("more than 10 embeds")
    if message["allowed_mentions"] != {"parse": []}:
        over.append("mentions allowed")
    return over


@pytest.mark.parametrize("format", FORMATS)
def test_every_slack_payload_of_every_seed_issue_passes_slack_sdk_models(archive: Archive, format: str) -> None:
    for issue in archive.issues:
        for message in slack.issue_messages(issue, issue.articles, names_of(archive), SITE, format):
            validate_slack(message)
            assert slack.post_problems(message) == []
            assert slack.message_size(message) <= 8000


@pytest.mark.parametrize("format", FORMATS)
def test_every_discord_payload_of_every_seed_issue_is_within_the_documented_limits(
    archive: Archive, format: str
) -> None:
    for issue in archive.issues:
        for message in discord.issue_messages(issue, issue.articles, names_of(archive), SITE, format):
            assert within_discord_limits(message) == []
            assert discord.post_problems(message) == []


def six_article_issue(archive: Archive) -> Issue:
    """Every seed article in one issue (titles, citations and implications as the editor writes them)."""
    articles = tuple(a for issue in archive.issues for a in issue.articles)
    assert len(articles) == 6
    return Issue("2026-11", archive.issues[0].published, articles, intro=prose(900))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_six_article_issue_fits_one_message_in_digest_format(archive: Archive, platform: str) -> None:
    issue = six_article_issue(archive)
    (message,) = PLATFORMS[platform].issue_messages(issue, issue.articles, names_of(archive), SITE)
    assert PLATFORMS[platform].post_problems(message) == []


def test_a_six_article_issue_fits_one_message_even_with_the_longest_gists(archive: Archive) -> None:
    issue = six_article_issue(archive)
    longest = replace(issue, articles=tuple(replace(a, gist="g" * 279 + ".") for a in issue.articles))
    for platform in PLATFORMS.values():
        (message,) = platform.issue_messages(longest, longest.articles, names_of(archive), SITE)
        assert platform.post_problems(message) == []


def test_the_november_2018_digest(archive: Archive) -> None:
    (issue,) = [issue for issue in archive.issues if issue.month == "2018-11"]
    (item,) = issue.articles
    url = article_url(item, SITE)
    (message,) = slack.issue_messages(issue, issue.articles, names_of(archive), SITE)
    assert [block["type"] for block in message["blocks"]] == ["header", "section", "section", "context", "divider"]
    header, title, summary, about, _ = message["blocks"]
    assert header["text"]["text"] == "PPRNet research digest — November 2018"
    assert title["text"]["text"] == f"*<{url}|{item.title}>*"
    assert summary["text"] == {
        "type": "plain_text",
        "text": "The research as a whole indicates that therapists should make the creation and cultivation of the "
        "therapeutic relationship a primary goal of therapy.",
        "emoji": False,
    }
    assert about["elements"][0]["text"].startswith("Norcross &amp; Lambert (2018) · Topics: Alliance")
    assert about["elements"][1]["text"] == f"<{url}|Read the summary>"
    # the blocks' text is these five texts, and nothing else: under 700 characters, against over 3,500 in full
    texts = [header["text"]["text"], title["text"]["text"], summary["text"]["text"]]
    texts += [element["text"] for element in about["elements"]]
    assert slack.message_size(message) == sum(map(len, texts)) < 700
    (full,) = slack.issue_messages(issue, issue.articles, names_of(archive), SITE, "full")
    assert slack.message_size(full) > 3500
    (post,) = discord.issue_messages(issue, issue.articles, names_of(archive), SITE)
    assert post["content"] == "**PPRNet research digest — November 2018**"
    (embed,) = post["embeds"]
    assert embed["url"] == url
    assert embed["description"].split("\n") == [
        "*Norcross & Lambert (2018)*",
        summary["text"]["text"],
        f"[Read the summary]({url})",
    ]
    assert discord.embeds_size(post["embeds"]) == len(embed["title"]) + len(embed["description"]) + len(
        embed["footer"]["text"]
    )
    assert discord.embeds_size(post["embeds"]) < 600
    (full,) = discord.issue_messages(issue, issue.articles, names_of(archive), SITE, "full")
    assert discord.embeds_size(full["embeds"]) > 3400


def test_the_gist_is_the_first_two_sentences_of_the_practice_implications_when_they_fit() -> None:
    item = article(1, "Background first.", implications="Monitor the alliance. Repair ruptures early. Then more.")
    assert gist(item) == "Monitor the alliance. Repair ruptures early."


def test_the_gist_keeps_one_sentence_when_two_exceed_the_limit() -> None:
    first = "Monitor the alliance (g = .57, e.g. with the WAI) at every session. "
    item = article(1, "Background.", implications=first + "Next, " + prose(400) + ". Second.")
    assert gist(item) == first.strip()


def test_a_gist_without_a_sentence_end_in_reach_is_cut_at_a_word() -> None:
    item = article(1, "Background.", implications=prose(1000))
    text = gist(item)
    assert len(text) <= MAX_GIST
    assert text.endswith("…")
    assert prose(1000).replace("*session*", "session").startswith(text[:-1].rstrip())


def test_front_matter_gist_and_short_citation_win() -> None:
    item = article(1, "Background.", gist="Ask about the alliance.", short_citation="Flückiger & al. (2018)")
    assert gist(item) == "Ask about the alliance."
    assert citation_of(item) == "Flückiger & al. (2018)"
    assert citation_of(article(2, "x")) == "Flückiger & Del Re (2018)"


def test_a_topic_filtered_channel_is_told_how_many_articles_are_its() -> None:
    issue = issue_of(article(1, "One."), article(2, "Two."), article(3, "Three."))
    shown = issue.articles[:2]
    (message,) = slack.issue_messages(issue, shown, NAMES, SITE)
    assert message["blocks"][0]["text"]["text"] == (
        "PPRNet research digest — November 2026 · 2 of 3 articles on your topics"
    )
    (post,) = discord.issue_messages(issue, shown, NAMES, SITE)
    assert "2 of 3 articles on your topics" in post["content"]
    assert len(post["embeds"]) == 2


@pytest.mark.parametrize("format", FORMATS)
def test_formatting_characters_in_titles_and_citations_cannot_format(format: str) -> None:
    item = article(1, "Short.", title="*Bold* _soft_ ~gone~ `code` title", citation="Smith, A. (2020). *Starred* `x`.")
    text = str(slack.issue_messages(issue_of(item), [item], NAMES, SITE, format))
    for raw in ("*Bold*", "_soft_", "~gone~", "`code`", "*Starred*"):
        assert raw not in text
    assert "∗Bold∗ ˍsoftˍ ∼gone∼ ˋcodeˋ title" in text
    (post,) = discord.issue_messages(issue_of(item), [item], NAMES, SITE, format)
    assert post["embeds"][0]["title"] == "∗Bold∗ ˍsoftˍ ∼gone∼ ˋcodeˋ title"


def test_astral_characters_count_twice_against_discord_limits() -> None:
    emoji = "🧠 " * 3000
    item = article(1, emoji, implications=emoji, title="🧠" * 300)
    for format in FORMATS:
        for message in discord.issue_messages(issue_of(item, intro=emoji), [item], NAMES, SITE, format):
            assert within_discord_limits(message) == []
            assert discord.post_problems(message) == []


def test_a_refused_slack_message_splits_at_an_article_into_two_valid_halves() -> None:
    issue = issue_of(*(article(n, "Short.") for n in range(6)))
    (message,) = slack.issue_messages(issue, issue.articles, NAMES, SITE)
    first, second = slack.split_message(message) or []
    assert first["blocks"] + second["blocks"] == message["blocks"]
    assert first["blocks"][-1]["type"] == "divider"  # cut between two articles
    for half in (first, second):
        validate_slack(half)
        assert half["text"] == message["text"]
    assert slack.split_message(dict(message, blocks=message["blocks"][:1])) is None


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("Use the WAI (e.g. at session 3). Then repair.", "Use the WAI (e.g. at session 3)."),
        ("As Flückiger et al. Found, it holds. Then more.", "As Flückiger et al. Found, it holds."),
        ("The effect (g = .57) held. It did.", "The effect (g = .57) held."),
        ("Ask “why?” Then listen.", "Ask “why?”"),
        ("Scores rose by 2.5 points. Then fell.", "Scores rose by 2.5 points."),
    ],
)
def test_sentences_end_where_a_reader_would_say(text: str, first: str) -> None:
    assert text[: sentence_ends(text)[0]] == first


def test_bot_answers_neutralise_formatting_in_titles_too(archive: Archive) -> None:
    item = replace(archive.articles[0], title="*Bold* _soft_ title")
    changed = Archive(archive.topics, (replace(archive.issues[0], articles=(item,)), *archive.issues[1:]))
    result = QueryEngine(changed).find(changed.topic(item.topics[0]).name)  # the query itself is echoed
    assert item in result.articles[:5]
    entries = str(slack.answer(result, 0, context_for(changed))) + str(discord.answer(result, 0, context_for(changed)))
    assert "∗Bold∗ ˍsoftˍ title" in entries
    assert "*Bold*" not in entries


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_limit_holds_for_hostile_articles_in_a_digest(platform: str) -> None:
    issue = issue_of(*(hostile_article(n) for n in range(12)), intro=prose(5000))
    messages = PLATFORMS[platform].issue_messages(issue, issue.articles, NAMES, SITE)
    for message in messages:
        assert PLATFORMS[platform].post_problems(message) == []
        if platform == "slack":
            validate_slack(message)
        else:
            assert within_discord_limits(message) == []
