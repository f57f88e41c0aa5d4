"""Slack and Discord rendering: every platform limit holds on the rendered (escaped) payloads, nothing is cut
silently, nothing can ping, Unicode survives."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date

import pytest

from pprfeed.chat import discord as discord_render
from pprfeed.chat import slack as slack_render
from pprfeed.chat.escape import shorten
from pprfeed.chat.markup import DISCORD, SLACK, Dialect, to_paragraphs
from pprfeed.config import SiteSettings
from pprfeed.links import article_url
from pprfeed.model import Archive, Article, Issue

SITE = SiteSettings(base_url="https://example.org/pprnet/")
WORDS = "therapist alliance outcome Flückiger & <rupture> repair empathy meta-analysis (g = .57) feedback *session*"


def prose(chars: int, seed: int = 0) -> str:
    words = WORDS.split()
    out: list[str] = []
    index = seed
    while sum(len(w) + 1 for w in out) < chars:
        out.append(words[index % len(words)])
        index += 1
    return " ".join(out)[:chars].rstrip()


def article(number: int, summary: str, implications: str = "Therapists should monitor the alliance.", **kw) -> Article:
    values = dict(
        id=f"2026-11-article-{number}",
        slug=f"article-{number}",
        month="2026-11",
        title=f"Article {number}: alliance & outcome",
        topics=("alliance-and-therapeutic-relationship",),
        citation=f"Flückiger, C., & Del Re, A. C. (2018). Paper {number}. Psychotherapy, 55(4), 316-340.",
        summary_md=summary,
        implications_md=implications,
        published=date(2026, 11, 1),
        updated=date(2026, 11, 1),
        doi=f"10.1037/pst000{number}",
    )
    values.update(kw)
    return Article(**values)  # type: ignore[arg-type]


def issue_of(*articles: Article, intro: str = "") -> Issue:
    return Issue(month="2026-11", published=date(2026, 11, 1), articles=tuple(articles), intro=intro)


NAMES = {"alliance-and-therapeutic-relationship": "Alliance and Therapeutic Relationship"}


def slack(issue: Issue) -> list[dict]:
    return slack_render.render_slack_issue(issue, issue.articles, NAMES, SITE)


def discord(issue: Issue) -> list[dict]:
    return discord_render.render_discord_issue(issue, issue.articles, NAMES, SITE)


def all_text(messages: list[dict]) -> str:
    return "\n".join(json.dumps(message, ensure_ascii=False) for message in messages)


def test_three_long_summaries_split_into_several_discord_messages_within_every_limit() -> None:
    issue = issue_of(*(article(n, prose(2500, n)) for n in range(3)))
    messages = discord(issue)
    assert len(messages) >= 2  # 3 × ~2,600 characters of embed cannot fit the 6,000 of one message
    assert [embed["title"] for m in messages for embed in m["embeds"]] == [a.title for a in issue.articles]
    for number, message in enumerate(messages, start=1):
        assert discord_render.limit_problems(message) == []
        assert len(message["content"]) <= 2000
        assert len(message["embeds"]) <= 10
        assert discord_render.embeds_size(message["embeds"]) <= 6000
        assert message["content"].endswith(f"part {number} of {len(messages)}")
        assert message["allowed_mentions"] == {"parse": []}
    # 2,500 characters fit an embed description: nothing shortened, every summary complete
    for message in messages:
        for embed in message["embeds"]:
            assert discord_render.FULL_TEXT_LABEL not in embed["description"]
    summary = to_paragraphs(issue.articles[1].summary_md, DISCORD)[0]
    assert summary in [e["description"].split("\n\n")[1] for m in messages for e in m["embeds"]]


def test_discord_every_limit_holds_for_oversized_articles() -> None:
    huge = article(
        1,
        "\n\n".join(prose(3000, n) for n in range(4)),
        implications="\n\n".join(prose(1200, n) for n in range(3)),
        title="T" * 400 + " & more",
        citation=prose(2000),
        topics=tuple(NAMES) * 3,
    )
    messages = discord(issue_of(*([huge] * 12), intro=prose(5000)))
    assert len(messages) >= 2
    for message in messages:
        assert discord_render.limit_problems(message) == []
        for embed in message["embeds"]:
            assert len(embed["title"]) <= 256
            assert len(embed["description"]) <= 4096
            assert all(len(f["value"]) <= 1024 and len(f["name"]) <= 256 for f in embed["fields"])
            # shortened, never silently: the description ends with a link to the full text
            assert f"[{discord_render.FULL_TEXT_LABEL}](" in embed["description"]
    assert len(messages[0]["content"]) <= 2000
    assert "[Read the issue](https://example.org/pprnet/)" in messages[0]["content"]


def test_slack_every_limit_holds_and_long_issues_split() -> None:
    articles = [article(n, "\n\n".join(prose(1400, n + k) for k in range(3))) for n in range(25)]
    messages = slack(issue_of(*articles, intro=prose(4000)))
    assert len(messages) > 1
    titles_seen = 0
    for number, message in enumerate(messages, start=1):
        assert slack_render.limit_problems(message) == []
        blocks = message["blocks"]
        assert len(blocks) <= 50
        for block in blocks:
            if block["type"] == "header":
                assert len(block["text"]["text"]) <= 150
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= 3000
        assert slack_render.message_size(message) <= 12_000
        assert message["unfurl_links"] is False and message["unfurl_media"] is False
        assert message["text"]  # the notification fallback
        # the first part says "part 1 of n" at its end; every later one at its top, naming the digest and issue
        part = blocks[-1] if number == 1 else blocks[0]
        assert part["elements"][0]["text"].endswith(f"part {number} of {len(messages)}")
        if number > 1:
            assert part["elements"][0]["text"].startswith("PPRNet research digest — ")
        titles_seen += sum(1 for b in blocks if b["type"] == "section" and b["text"]["text"].startswith("*<"))
    assert titles_seen == 25


def test_slack_shortening_cuts_at_a_word_outside_escapes_and_links_to_the_full_text() -> None:
    long_one = article(7, prose(9000))
    (message,) = slack(issue_of(long_one))
    summary = message["blocks"][2]["text"]["text"]
    assert len(summary) <= 3000
    url = article_url(long_one, SITE)
    assert summary.endswith(f"… <{url}|{slack_render.FULL_TEXT_LABEL}>")
    cut = summary[: summary.index("… <")]
    assert re.search(r"&(a|am|l|g|lt|gt)?$", cut) is None  # no half entity such as "&am"
    plain = cut.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("_session_", "*session*")
    assert prose(9000).startswith(plain)


def test_header_is_at_most_150_characters() -> None:
    issue = issue_of(article(1, "short"))
    (message,) = slack(issue)
    header = message["blocks"][0]
    assert header["type"] == "header" and len(header["text"]["text"]) <= 150


def test_mentions_in_content_are_inert() -> None:
    hostile = article(
        1,
        "Ping <!channel> and <!here> and <@U123> and @everyone and @here please.",
        implications="<!subteam^S123> @everyone",
        title="<!channel> title @everyone",
    )
    slack_text = all_text(slack(issue_of(hostile, intro="<!everyone> hello @here")))
    for raw in ("<!channel>", "<!here>", "<@U123>", "<!subteam", "<!everyone>"):
        assert raw not in slack_text
    assert "&lt;!channel&gt;" in slack_text and "&lt;@U123&gt;" in slack_text
    messages = discord(issue_of(hostile, intro="hello @everyone"))
    discord_text = all_text(messages)
    assert "@everyone" not in discord_text and "@here" not in discord_text
    assert "@\u200beveryone" in discord_text
    description = messages[0]["embeds"][0]["description"]
    assert "<@U123>" not in description and "\\<@U123\\>" in description
    assert all(m["allowed_mentions"] == {"parse": []} for m in messages)


def test_unicode_and_escaping_survive() -> None:
    item = article(1, "Flückiger’s meta-analysis: alliance → outcome (r = .28) & more — naïve café.")
    slack_text = slack(issue_of(item))[0]["blocks"][2]["text"]["text"]
    assert "Flückiger’s" in slack_text and "→" in slack_text and "naïve café" in slack_text
    assert "&amp; more" in slack_text
    description = discord(issue_of(item))[0]["embeds"][0]["description"]
    assert "Flückiger’s" in description and "naïve café" in description
    assert "(r = .28) & more" in description  # only what formats is escaped: no backslashes here


def test_markdown_is_converted_simply() -> None:
    text = "A **bold** and *soft* claim, see [the paper](https://doi.org/10.1/x) & <b>.\n\n- one\n- two"
    slack_paragraphs = to_paragraphs(text, SLACK)
    assert slack_paragraphs[0] == ("A *bold* and _soft_ claim, see <https://doi.org/10.1/x|the paper> &amp; &lt;b&gt;.")
    assert slack_paragraphs[1] == "• one\n• two"
    discord_paragraphs = to_paragraphs(text, DISCORD)
    assert discord_paragraphs[0].startswith("A **bold** and *soft* claim, see [the paper](https://doi.org/10.1/x)")
    assert to_paragraphs("[x](ftp://example.org/f)", SLACK) == ["x"]  # only http(s)/mailto become links


def test_shorten_never_splits_a_link() -> None:
    link = "<https://example.org/a|a long label here>"
    text = "word " * 5 + link + " tail"
    cut = shorten(text, 40)
    assert link not in cut or cut.endswith("…")
    assert "<https" not in cut  # the link did not fit whole, so it is left out entirely


def test_topic_filter_renders_only_matching_articles(archive: Archive) -> None:
    from pprfeed.publish.deliver import render_delivery
    from pprfeed.publish.targets import Target

    issue = replace(archive.issues[0], articles=archive.issues[0].articles + archive.issues[1].articles)
    wanted = archive.issues[1].articles[0].topics[0]
    only = [a for a in issue.articles if wanted in a.topics]
    delivery = render_delivery(Target("slack", "channel", "C0123456", topics=(wanted,)), issue, archive, SITE)
    assert delivery is not None and delivery.articles == tuple(only)


def test_many_short_articles_split_by_count_limits() -> None:
    articles = [article(n, "Short summary.") for n in range(25)]
    slack_messages = slack(issue_of(*articles))
    assert len(slack_messages) >= 3  # 25 articles × 5 blocks cannot fit 50 blocks
    assert all(len(m["blocks"]) <= 50 and slack_render.limit_problems(m) == [] for m in slack_messages)
    discord_messages = discord(issue_of(*articles))
    assert [len(m["embeds"]) for m in discord_messages] == [10, 10, 5]
    assert all(discord_render.limit_problems(m) == [] for m in discord_messages)


@pytest.mark.parametrize("dialect", [SLACK, DISCORD], ids=["slack", "discord"])
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
    assert "<!channel>" not in text and "<p>" not in text and "<div>" not in text  # escaped, cannot ping or format


def test_raw_html_survives_into_both_platforms_posts() -> None:
    issue = issue_of(article(1, "<!channel> The effect held at follow-up.\n\n<p>Second paragraph.</p>"))
    for messages in (slack(issue), discord(issue)):
        text = all_text(messages)
        assert "The effect held at follow-up." in text and "Second paragraph." in text


def hostile_article(number: int = 1, summary: str = "") -> Article:
    """Valid but hostile: a 3,000-character permalink and a 2,000-character DOI (content caps are not relied on)."""
    return article(
        number,
        summary or prose(5000),
        implications=prose(2500, seed=3),
        permalink="https://example.org/" + "p" * 3000,
        doi="10.1234/" + "d" * 2000,
        citation=prose(900, seed=5),
    )


def test_every_limit_holds_with_a_3000_character_permalink_and_a_2000_character_doi() -> None:
    issue = issue_of(hostile_article(1), hostile_article(2, "Short summary."), intro=prose(3000))
    slack_messages, discord_messages = slack(issue), discord(issue)
    for message in slack_messages:
        assert slack_render.limit_problems(message) == []
    for message in discord_messages:
        assert discord_render.limit_problems(message) == []
    # shortened text still says where the rest is: the site's address stands in for the unusable permalink
    assert f"<{SITE.base_url}|Read the full summary>" in all_text(slack_messages)
    assert f"[Read the full summary]({SITE.base_url})" in all_text(discord_messages)
    assert "p" * 3000 not in all_text(slack_messages) + all_text(discord_messages)
    embeds = [embed for message in discord_messages for embed in message["embeds"]]
    (doi,) = {field["value"] for embed in embeds for field in embed["fields"] if field["name"] == "DOI"}
    assert doi.replace("\\", "").startswith("10.1234/ddd") and doi.endswith("…") and len(doi) <= 200


def test_fit_drops_a_link_that_cannot_fit() -> None:
    text = "word " * 100
    for fit in (slack_render.fit, discord_render.fit):
        shortened = fit(text, 300, "https://x.org/" + "p" * 3000)
        assert len(shortened) <= 300 and "x.org" not in shortened and shortened.endswith("…")
        with_home = fit(text, 300, "https://x.org/" + "p" * 3000, "https://example.org/")
        assert len(with_home) <= 300 and "https://example.org/" in with_home
