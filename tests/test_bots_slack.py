"""The Slack bot through its real HTTP endpoint: signed requests over loopback, follow-ups to a fake response_url."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from conftest import content_with_studies, write_article
from fakes.server import Inbox
from fakes.slack_api import FakeSlack, signed_headers
from pprfeed.bots.live import LiveArchive
from pprfeed.bots.slack import SlackBot, SlackEndpoint, build_slack_app
from pprfeed.chat.slack import answer_problems
from pprfeed.config import SiteSettings

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
COMMAND = "/ppr-topic"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """The real archive plus eight more alliance articles (12 in all: three pages) and one hostile title."""
    hostile = "*Bold* <!channel> @everyone <@U123> _it_ `code` > quote"
    return content_with_studies(tmp_path, 8, hostile_title=hostile)


class Slack:
    """A running `pprfeed slack serve` app, the fake Slack's response_urls, and a client that signs like Slack."""

    def __init__(self, base: str, hooks: Inbox[dict[str, Any]], hooks_url: str, session: aiohttp.ClientSession) -> None:
        self.base, self.hooks, self.hooks_url, self.session = base, hooks, hooks_url, session

    async def post(
        self, path: str, form: dict[str, str], headers: dict[str, str] | None = None, body: bytes | None = None
    ) -> tuple[int, Any]:
        raw = body if body is not None else urlencode(form).encode()
        sent_headers = signed_headers(SECRET, raw) if headers is None else headers
        async with self.session.post(self.base + path, data=raw, headers=sent_headers) as response:
            text = await response.text()
            return response.status, (json.loads(text) if text and text[0] in "{[" else text)

    async def command(self, text: str) -> dict[str, Any]:
        status, answer = await self.post("/slack/commands", command_form(text))
        assert status == 200, answer
        return answer

    async def click(self, button: dict[str, Any], response_url: str | None = None) -> int:
        payload = {
            "type": "block_actions",
            "user": {"id": "U999"},
            "response_url": response_url or self.hooks_url + "/hooks/T1/B1/xyz",
            "actions": [{"action_id": button["action_id"], "value": button["value"], "type": "button"}],
        }
        status, _ = await self.post("/slack/interactions", {"payload": json.dumps(payload)})
        return status


def command_form(text: str) -> dict[str, str]:
    return {
        "token": "deprecated",
        "team_id": "T1",
        "channel_id": "C1",
        "user_id": "U999",
        "command": COMMAND,
        "text": text,
        "response_url": "https://hooks.slack.com/commands/T1/1/abc",
        "trigger_id": str(time.time_ns()),
    }


def run_with_slack(content: Path, test: Callable[[Slack], Awaitable[None]], check_every: float = 3.0) -> None:
    async def main() -> None:
        async with FakeSlack() as fake:
            live = LiveArchive(content, site=SiteSettings(), command=COMMAND, check_every=check_every)
            live.load()
            bot = SlackBot(live, allowed_response_urls=(fake.root + "/hooks/",))
            async with SlackEndpoint(build_slack_app(bot, SECRET)) as endpoint, aiohttp.ClientSession() as session:
                await test(Slack(endpoint.url, fake.response_urls, fake.root, session))

    asyncio.run(main())


def texts(message: dict[str, Any]) -> str:
    """Every piece of text in a message, for searching."""
    return json.dumps(message, ensure_ascii=False)


def displayed(message: dict[str, Any]) -> str:
    """Every piece of text Slack renders: button values and action ids are data for the app, never shown."""
    shown = {**message, "blocks": [b for b in message["blocks"] if b["type"] != "actions"]}
    labels = [e["text"]["text"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    return texts(shown) + json.dumps(labels, ensure_ascii=False)


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for block in message["blocks"]:
        if block["type"] == "actions":
            for element in block["elements"]:
                found[element["text"]["text"]] = element
    return found


def test_command_answers_privately_with_a_page_of_linked_entries(content):
    async def test(slack: Slack) -> None:
        answer = await slack.command("alliance")
        assert answer["response_type"] == "ephemeral"
        assert answer_problems(answer) == []
        everything = texts(answer)
        assert "Alliance and Therapeutic Relationship — 12 articles" in everything
        entries = [
            b["text"]["text"] for b in answer["blocks"] if b["type"] == "section" and "<http" in b["text"]["text"]
        ]
        assert len(entries) == 5
        # newest first: the June-2019 additions are not alliance, the May ones are
        assert "*<http://localhost:8000/articles/2019-05-alliance-extra-0.html|Alliance study 0>*" in entries[0]
        assert "May 2019 · Tester &amp; Other (2020)" in entries[0]
        assert "<https://doi.org/10.1000/alliance-extra-0|doi:10.1000/alliance-extra-0>" in entries[0]
        assert "Topics: Alliance and Therapeutic Relationship" in entries[0]
        assert "Page 1 of 3" in everything
        assert set(buttons(answer)) == {"Next 5 ▶", "Share in channel"}

    run_with_slack(content, test)


def test_no_query_or_help_lists_topics_with_counts(content):
    async def test(slack: Slack) -> None:
        for text in ("", "help", "  HELP "):
            answer = await slack.command(text)
            everything = texts(answer)
            assert "PPRNet research summaries by topic" in everything
            assert f"{COMMAND} alliance" in everything
            assert "• Alliance and Therapeutic Relationship — 12" in everything
            assert "• Empathy — " in everything
            assert answer_problems(answer) == []
            assert buttons(answer) == {}

    run_with_slack(content, test)


def test_typo_answers_the_closest_topic_and_nonsense_suggests_help(content):
    async def test(slack: Slack) -> None:
        typo = texts(await slack.command("depresion"))
        assert "No exact topic; the closest is Depression" in typo
        nothing = texts(await slack.command("qqqqzzzz"))
        assert "Nothing found" in nothing
        assert f"{COMMAND} help" in nothing

    run_with_slack(content, test)


def test_nothing_found_says_what_was_searched_in_how_many_articles(content):
    async def test(slack: Slack) -> None:
        message = await slack.command("qqqqzzzz")
        sections = [block["text"]["text"] for block in message["blocks"] if block["type"] == "section"]
        assert sections[1] == (
            "Looked for “qqqqzzzz” in topic names and aliases, and the titles, practice implications, summaries and "
            "citations of 15 articles."
        )

    run_with_slack(content, test)


def test_next_page_replaces_the_answer_through_response_url(content):
    async def test(slack: Slack) -> None:
        first = await slack.command("alliance")
        assert await slack.click(buttons(first)["Next 5 ▶"]) == 200
        sent = await slack.hooks.next()
        assert sent["path"] == "/hooks/T1/B1/xyz"
        second = sent["json"]
        assert second["replace_original"] is True
        assert second["response_type"] == "ephemeral"
        assert "Page 2 of 3" in texts(second)
        assert set(buttons(second)) == {"◀ Previous", "Next 5 ▶", "Share in channel"}
        await slack.click(buttons(second)["Next 5 ▶"])
        third = (await slack.hooks.next())["json"]
        assert "Page 3 of 3" in texts(third)
        assert set(buttons(third)) == {"◀ Previous", "Share in channel"}
        assert answer_problems(third) == []

    run_with_slack(content, test)


def test_share_posts_the_same_page_publicly_without_buttons(content):
    async def test(slack: Slack) -> None:
        first = await slack.command("alliance")
        await slack.click(buttons(first)["Share in channel"])
        shared = (await slack.hooks.next())["json"]
        assert shared["response_type"] == "in_channel"
        assert shared["replace_original"] is False
        assert buttons(shared) == {}
        assert "Alliance study 0" in texts(shared)
        assert f"shared from {COMMAND}" in texts(shared)

    run_with_slack(content, test)


def test_follow_ups_go_only_to_the_allowed_response_urls(content):
    async def test(slack: Slack) -> None:
        first = await slack.command("alliance")
        assert await slack.click(buttons(first)["Next 5 ▶"], response_url="http://169.254.169.254/latest") == 200
        await slack.click(buttons(first)["Share in channel"])  # a good one after the bad one
        assert (await slack.hooks.next())["json"]["response_type"] == "in_channel"
        assert slack.hooks.empty()

    run_with_slack(content, test)


def test_unsigned_wrong_stale_and_replayed_requests_get_401(content):
    async def test(slack: Slack) -> None:
        body = urlencode(command_form("alliance")).encode()
        good = signed_headers(SECRET, body)
        cases = {
            "missing": {"Content-Type": "application/x-www-form-urlencoded"},
            "no timestamp": {k: v for k, v in good.items() if k != "X-Slack-Request-Timestamp"},
            "wrong secret": signed_headers("not-the-secret", body),
            "six minutes old": signed_headers(SECRET, body, timestamp=int(time.time()) - 360),
            "from the future": signed_headers(SECRET, body, timestamp=int(time.time()) + 360),
            "garbage timestamp": {**good, "X-Slack-Request-Timestamp": "soon"},
            "5,000-digit timestamp": {**good, "X-Slack-Request-Timestamp": "9" * 5000},
            "non-ASCII digits": {**good, "X-Slack-Request-Timestamp": "²" * 10},
            "garbage signature": {**good, "X-Slack-Signature": "v0=zz"},
        }
        for name, headers in cases.items():
            for path in ("/slack/commands", "/slack/interactions"):
                status, answer = await slack.post(path, {}, headers=headers, body=body)
                assert status == 401, (name, path)
                assert "blocks" not in answer
        # signed for one body, sent with another
        status, _ = await slack.post("/slack/commands", {}, headers=good, body=body.replace(b"alliance", b"empathy"))
        assert status == 401
        # the genuine request works once; the same bytes and signature again are a replay
        first, _ = await slack.post("/slack/commands", {}, headers=good, body=body)
        again, _ = await slack.post("/slack/commands", {}, headers=good, body=body)
        assert (first, again) == (200, 401)
        # a signature made four minutes ago is still inside Slack's window
        recent = signed_headers(SECRET, body, timestamp=int(time.time()) - 240)
        assert (await slack.post("/slack/commands", {}, headers=recent, body=body))[0] == 200

    run_with_slack(content, test)


def test_malformed_interaction_payloads_are_rejected_without_a_crash(content):
    async def test(slack: Slack) -> None:
        status, _ = await slack.post("/slack/interactions", {"payload": "{not json"})
        assert status == 400
        status, _ = await slack.post("/slack/interactions", {"nothing": "here"})
        assert status == 400
        hook = slack.hooks_url + "/hooks/T1/B1/xyz"
        for payload in (
            [1, 2],
            {"type": "view_submission"},
            {"type": "block_actions", "actions": "x"},
            {"type": "block_actions", "response_url": hook, "actions": 5},  # signed, allowed URL, junk actions
            {"type": "block_actions", "response_url": hook, "actions": [5, None, {"value": []}]},
        ):
            status, _ = await slack.post("/slack/interactions", {"payload": json.dumps(payload)})
            assert status == 200
        forged = {"action_id": "ppr_topic_n", "value": "99999999:alliance"}
        assert await slack.click(forged) == 200
        last_page = (await slack.hooks.next())["json"]
        assert "Page 3 of 3" in texts(last_page)
        status, health = await slack.post("/slack/commands", command_form("alliance"))
        assert status == 200

    run_with_slack(content, test)


def test_healthz(content):
    async def test(slack: Slack) -> None:
        async with slack.session.get(slack.base + "/healthz") as response:
            assert response.status == 200
            assert (await response.json())["articles"] == 6 + 8 + 1

    run_with_slack(content, test)


HOSTILE = "<!channel> <!here> @everyone <@U123> <#C1> *bold* _it_ ~s~ `code` ```block``` > quote <https://x.test|click>"


def test_what_the_user_typed_comes_back_inert(content):
    async def test(slack: Slack) -> None:
        answer = await slack.command(HOSTILE)
        everything = displayed(answer)
        for live_syntax in ("<!channel>", "<!here>", "<@U123>", "<#C1>", "<https://x.test|click>"):
            assert live_syntax not in everything
        echo = answer["blocks"][0]
        assert echo["type"] == "context"
        assert echo["elements"][0]["type"] == "plain_text"
        assert "&lt;!channel&gt;" in echo["elements"][0]["text"]
        # the archive's own hostile title is escaped too
        hostile_title = displayed(await slack.command("bold"))
        assert "<!channel>" not in hostile_title
        assert "&lt;!channel&gt;" in hostile_title
        assert answer_problems(answer) == []

    run_with_slack(content, test)


def test_slack_entities_in_the_typed_text_are_read_as_the_characters_typed(content):
    async def test(slack: Slack) -> None:
        plain = await slack.command("alliance & empathy")
        encoded = await slack.command("alliance &amp; empathy")  # how Slack sends what was typed
        assert displayed(plain) == displayed(encoded)
        assert "You asked: “alliance &amp; empathy”" in displayed(encoded)
        literal = await slack.command("&amp;lt;b&amp;gt;")  # someone typed the entity itself
        assert "&amp;lt;b&amp;gt;" in displayed(literal)

    run_with_slack(content, test)


def test_a_10000_character_query_is_cut_for_display_and_stays_within_limits(content):
    async def test(slack: Slack) -> None:
        for text in ("alliance " * 1200, "<!channel>" * 1000, "x" * 10_000, "&" * 10_000):
            answer = await slack.command(text)
            assert answer_problems(answer) == []
            if "PPRNet research summaries by topic" not in texts(answer):  # nothing searchable: the help
                echo = answer["blocks"][0]["elements"][0]["text"]
                assert len(echo) <= 250
            assert "<!channel>" not in displayed(answer)
            for button in buttons(answer).values():
                assert len(button["value"]) <= 2000
                assert await slack.click(button) == 200
                assert answer_problems((await slack.hooks.next())["json"]) == []

    run_with_slack(content, test)


def test_new_content_is_answered_without_a_restart(content):
    async def test(slack: Slack) -> None:
        before = texts(await slack.command("zebrafish"))
        assert "Nothing found" in before
        write_article(content, "2019-07", "zebrafish-alliance", "Zebrafish and the alliance", ["alliance"])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            after = texts(await slack.command("zebrafish"))
            if "Zebrafish and the alliance" in after:
                break
            await asyncio.sleep(0.05)
        assert "Zebrafish and the alliance" in after
        assert "13 articles" in texts(await slack.command("alliance"))

    run_with_slack(content, test, check_every=0.05)
