"""The Discord bot through discord.py's own dispatch, against a local fake Discord API.

discord.py's HTTP is pointed at the fake (`discord.http.Route.BASE`), the bot
logs in there, and INTERACTION_CREATE payloads go to the client's connection
state exactly as the gateway would deliver them. Assertions are on the
interaction callbacks the fake receives.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import content_with_studies, write_article
from fakes.discord_api import FakeDiscord, autocomplete, button_click, discord_py_at, slash_command
from pprfeed.bots.discord import TopicBot, sync_commands
from pprfeed.bots.live import LiveArchive
from pprfeed.chat.discord import DiscordAnswer, DiscordButton, answer_problems
from pprfeed.config import SiteSettings

CHANNEL_MESSAGE = 4
AUTOCOMPLETE_RESULT = 8
UPDATE_MESSAGE = 7
EPHEMERAL = 64
BOT_TOKEN = "fake-bot-token"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """The real archive plus eight more alliance articles (12 in all: three pages) and one hostile title."""
    return content_with_studies(tmp_path, 8, hostile_title="*Bold* @everyone <@123> [x](https://evil.test) `c`")


class Discord:
    def __init__(self, bot: TopicBot, api: FakeDiscord) -> None:
        self.bot, self.api = bot, api

    async def send(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Deliver an interaction the way the gateway does; return the callback the bot made for it."""
        self.bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        callback = await self.api.next_callback()
        assert (callback["id"], callback["token"]) == (payload["id"], payload["token"])
        assert callback["auth"] is None  # interaction callbacks are authorised by their token, not the bot token
        return callback["json"]


def run_with_discord(content: Path, test: Callable[[Discord], Awaitable[None]], check_every: float = 3.0) -> None:
    async def main() -> None:
        async with FakeDiscord(token=BOT_TOKEN) as api:
            with discord_py_at(api.base_url):
                live = LiveArchive(content, site=SiteSettings(), command="/topic", check_every=check_every)
                live.load()
                bot = TopicBot(live, "topic")
                try:
                    await bot.login(BOT_TOKEN)
                    await test(Discord(bot, api))
                finally:
                    await bot.close()

    asyncio.run(main())


def components_of(callback: dict[str, Any]) -> list[dict[str, Any]]:
    return callback["data"].get("components", [])


def buttons_of(callback: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {button["label"]: button for row in components_of(callback) for button in row["components"]}


def check_limits(callback: dict[str, Any]) -> None:
    for embed in callback["data"].get("embeds", []):
        buttons = tuple(DiscordButton(b["label"], b["custom_id"], "primary") for b in buttons_of(callback).values())
        assert answer_problems(DiscordAnswer(embed, buttons)) == []


def test_slash_command_answers_with_an_ephemeral_embed_and_buttons(content):
    async def test(discord_: Discord) -> None:
        callback = await discord_.send(slash_command("topic", "alliance"))
        assert callback["type"] == CHANNEL_MESSAGE
        data = callback["data"]
        assert data["flags"] & EPHEMERAL
        assert data["allowed_mentions"] == {"parse": []}
        (embed,) = data["embeds"]
        assert embed["title"] == "Alliance and Therapeutic Relationship — 12 articles"
        assert (
            "**[Alliance study 0](http://localhost:8000/articles/2019-05-alliance-extra-0.html)**"
            in embed["description"]
        )
        assert "May 2019 · Tester & Other (2020)" in embed["description"]
        assert "[doi:10.1000/alliance-extra-0](https://doi.org/10.1000/alliance-extra-0)" in embed["description"]
        assert embed["description"].count("**[") == 5
        assert embed["footer"]["text"].startswith("Page 1 of 3")
        buttons = buttons_of(callback)
        assert set(buttons) == {"Next 5 ▶", "Share in channel"}
        assert buttons["Next 5 ▶"]["custom_id"] == "ppr:n:1:alliance"
        check_limits(callback)

    run_with_discord(content, test)


def test_no_query_or_help_lists_the_topics(content):
    async def test(discord_: Discord) -> None:
        for query in (None, "help"):
            callback = await discord_.send(slash_command("topic", query))
            (embed,) = callback["data"]["embeds"]
            assert embed["title"] == "PPRNet research summaries by topic"
            assert "• Alliance and Therapeutic Relationship — 12" in embed["description"]
            assert callback["data"]["flags"] & EPHEMERAL
            assert buttons_of(callback) == {}

    run_with_discord(content, test)


def test_autocomplete_offers_at_most_25_topics_matching_what_was_typed(content):
    async def test(discord_: Discord) -> None:
        callback = await discord_.send(autocomplete("topic", "alli"))
        assert callback["type"] == AUTOCOMPLETE_RESULT
        choices = callback["data"]["choices"]
        assert choices[0] == {
            "name": "Alliance and Therapeutic Relationship (12)",
            "value": "Alliance and Therapeutic Relationship",
        }
        everything = (await discord_.send(autocomplete("topic", "")))["data"]["choices"]
        assert len(everything) == 25
        for typed in ("x" * 6000, "@everyone", "zzzzzz"):
            choices = (await discord_.send(autocomplete("topic", typed)))["data"]["choices"]
            assert len(choices) <= 25
            assert all(len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in choices)

    run_with_discord(content, test)


def test_next_and_previous_edit_the_message_in_place(content):
    async def test(discord_: Discord) -> None:
        first = await discord_.send(slash_command("topic", "alliance"))
        second = await discord_.send(button_click(buttons_of(first)["Next 5 ▶"]["custom_id"], components_of(first)))
        assert second["type"] == UPDATE_MESSAGE
        assert second["data"]["embeds"][0]["footer"]["text"].startswith("Page 2 of 3")
        assert set(buttons_of(second)) == {"◀ Previous", "Next 5 ▶", "Share in channel"}
        back = await discord_.send(button_click(buttons_of(second)["◀ Previous"]["custom_id"], components_of(second)))
        assert back["data"]["embeds"][0]["footer"]["text"].startswith("Page 1 of 3")
        check_limits(second)

    run_with_discord(content, test)


def test_share_posts_publicly_without_buttons_or_pings(content):
    async def test(discord_: Discord) -> None:
        first = await discord_.send(slash_command("topic", "alliance"))
        shared = await discord_.send(
            button_click(buttons_of(first)["Share in channel"]["custom_id"], components_of(first))
        )
        assert shared["type"] == CHANNEL_MESSAGE
        assert not shared["data"].get("flags", 0) & EPHEMERAL
        assert shared["data"]["allowed_mentions"] == {"parse": []}
        assert buttons_of(shared) == {}
        assert "shared from /topic" in shared["data"]["embeds"][0]["footer"]["text"]

    run_with_discord(content, test)


def test_buttons_work_for_a_bot_started_after_the_message_was_sent(content):
    """The click carries everything: a fresh process answers a button it never rendered."""

    async def test(discord_: Discord) -> None:
        components = [
            {"type": 1, "components": [{"type": 2, "style": 1, "label": "Next 5 ▶", "custom_id": "ppr:n:2:ALLIANCE"}]}
        ]
        callback = await discord_.send(button_click("ppr:n:2:ALLIANCE", components))
        assert callback["data"]["embeds"][0]["footer"]["text"].startswith("Page 3 of 3")

    run_with_discord(content, test)


HOSTILE = (
    "@everyone @here <@123> <@&456> <#789> **bold** __u__ ~~s~~ `c` ```b``` > q "
    "[click](https://evil.test) ||spoiler|| :smile:"
)


def test_what_the_user_typed_comes_back_inert(content):
    async def test(discord_: Discord) -> None:
        for query in (HOSTILE, "alliance " + HOSTILE, "bold"):
            callback = await discord_.send(slash_command("topic", query))
            assert callback["data"]["allowed_mentions"] == {"parse": []}
            shown = json.dumps(callback["data"]["embeds"], ensure_ascii=False)
            for live_syntax in (
                "@everyone",
                "@here",
                "<@123>",
                "<@&456>",
                "<#789>",
                "**bold**",
                "[click](",
                "||spoiler||",
            ):
                assert live_syntax not in shown, (query, live_syntax)
            check_limits(callback)

    run_with_discord(content, test)


def test_a_10000_character_query_stays_within_every_limit(content):
    async def test(discord_: Discord) -> None:
        for query in ("alliance " * 1200, "*" * 10_000, "@everyone" * 1000, "é" * 10_000):
            callback = await discord_.send(slash_command("topic", query))
            assert callback["type"] == CHANNEL_MESSAGE
            check_limits(callback)
            for button in buttons_of(callback).values():
                assert len(button["custom_id"]) <= 100
                clicked = await discord_.send(button_click(button["custom_id"], components_of(callback)))
                check_limits(clicked)

    run_with_discord(content, test)


def test_nothing_found_says_what_was_searched_in_how_many_articles(content):
    async def test(discord_: Discord) -> None:
        callback = await discord_.send(slash_command("topic", "qqqqzzzz"))
        paragraphs = callback["data"]["embeds"][0]["description"].split("\n\n")
        assert paragraphs[1] == (
            "Looked for “qqqqzzzz” in topic names and aliases, and the titles, practice implications, summaries and "
            "citations of 15 articles."
        )

    run_with_discord(content, test)


def test_new_content_is_answered_without_a_restart(content):
    async def test(discord_: Discord) -> None:
        before = await discord_.send(slash_command("topic", "zebrafish"))
        assert before["data"]["embeds"][0]["title"] == "Nothing found"
        write_article(content, "2019-07", "zebrafish", "Zebrafish and the alliance", ["alliance"])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            after = await discord_.send(slash_command("topic", "zebrafish"))
            if "Zebrafish and the alliance" in after["data"]["embeds"][0]["description"]:
                break
            await asyncio.sleep(0.05)
        assert "Zebrafish and the alliance" in after["data"]["embeds"][0]["description"]
        choices = (await discord_.send(autocomplete("topic", "alliance")))["data"]["choices"]
        assert choices[0]["name"] == "Alliance and Therapeutic Relationship (13)"

    run_with_discord(content, test, check_every=0.05)


def test_sync_registers_the_command_with_autocomplete(content):
    async def main() -> None:
        async with FakeDiscord(token=BOT_TOKEN) as api:
            with discord_py_at(api.base_url):
                names = ["topic", "subscribe", "unsubscribe", "subscriptions"]
                assert await sync_commands("fake-bot-token", "topic") == names
                assert await sync_commands("fake-bot-token", "topic", guild_id=42) == names
        global_sync, guild_sync = api.registered
        assert global_sync["path"].endswith("/applications/1000000000000000002/commands")
        assert guild_sync["path"].endswith("/guilds/42/commands")
        assert global_sync["auth"] == "Bot fake-bot-token"
        command = global_sync["json"][0]
        assert command["name"] == "topic"
        (option,) = command["options"]
        assert option["name"] == "query"
        assert option["autocomplete"] is True
        assert option["required"] is False

    asyncio.run(main())
