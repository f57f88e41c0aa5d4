"""Every URL encoded once, correctly: DOIs per the DOI Handbook, Slack link targets, each link its own label."""

from __future__ import annotations

import json

import pytest

from chatkit import NAMES, SITE, article, issue_of
from pprfeed.chat import discord, slack
from pprfeed.chat.markup import link_target, to_paragraphs
from pprfeed.links import doi_url

WILEY = "10.1002/(SICI)1097-4679(199901)55:1<1::AID-JCLP1>3.0.CO;2-#"
WILEY_URL = "https://doi.org/10.1002/(SICI)1097-4679(199901)55:1%3C1::AID-JCLP1%3E3.0.CO;2-%23"


@pytest.mark.parametrize(
    ("doi", "url"),
    [
        ("10.1037/pst0000172", "https://doi.org/10.1037/pst0000172"),
        (WILEY, WILEY_URL),
        ("10.1000/a?b", "https://doi.org/10.1000/a%3Fb"),
        ("10.1000/50%", "https://doi.org/10.1000/50%25"),
        ('10.1000/"q"', "https://doi.org/10.1000/%22q%22"),
        ("10.1000/a b", "https://doi.org/10.1000/a%20b"),
        ("10.1000/a|b", "https://doi.org/10.1000/a%7Cb"),
        ("10.1000/a+b", "https://doi.org/10.1000/a%2Bb"),
        ("10.1000/{x}[y]^`\\", "https://doi.org/10.1000/%7Bx%7D%5By%5D%5E%60%5C"),
        ("10.1000/é", "https://doi.org/10.1000/%C3%A9"),
    ],
)
def test_doi_urls_follow_the_doi_handbook(doi: str, url: str) -> None:
    assert doi_url(doi) == url


def test_an_article_doi_url_is_the_encoded_one() -> None:
    assert article(1, "A summary.", doi=WILEY).doi_url == WILEY_URL


def test_slack_full_posts_link_the_encoded_doi() -> None:
    posted = json.dumps(
        slack.issue_messages(
            issue_of(article(1, "x", doi=WILEY)), [article(1, "x", doi=WILEY)], NAMES, SITE, format="full"
        )
    )
    assert WILEY_URL.replace("&", "&amp;") in posted


def test_discord_full_posts_link_the_encoded_doi() -> None:
    posted = json.dumps(
        discord.issue_messages(
            issue_of(article(1, "x", doi=WILEY)), [article(1, "x", doi=WILEY)], NAMES, SITE, format="full"
        )
    )
    # Discord also encodes the parentheses, which would end a masked link: the same address to doi.org
    assert WILEY_URL.replace("(", "%28").replace(")", "%29") in posted


def test_a_pipe_in_a_slack_link_target_is_encoded() -> None:
    assert slack.slack_link("https://example.org/a|b", "label") == "<https://example.org/a%7Cb|label>"


def test_a_link_target_is_encoded_once() -> None:
    assert link_target(WILEY_URL) == WILEY_URL


@pytest.mark.parametrize("dialect", [slack.DIALECT, discord.DIALECT], ids=["slack", "discord"])
def test_each_link_of_a_paragraph_keeps_its_own_label(dialect: object) -> None:
    (paragraph,) = to_paragraphs("See [the first](https://a.example/) and [the second](https://b.example/).", dialect)  # type: ignore[arg-type]
    assert "the second" in paragraph
