"""Discord `/subscribe` through discord.py's own dispatch against the fake Discord, then `pprfeed publish` to it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import discord
import pytest

from conftest import copy_content
from fakes.discord_api import MANAGE_CHANNELS, SEND_MESSAGES_AND_VIEW, FakeDiscord, discord_py_at, guild_command
from pprfeed.bots.discord import TopicBot, sync_commands
from pprfeed.bots.live import LiveArchive
from pprfeed.cli import main
from pprfeed.config import SiteSettings
from pprfeed.state import State

BOT_TOKEN = "fake-bot-token"
HERE = "1100000000000000010"
ELSEWHERE = "1100000000000000011"
GUILD = "1100000000000000030"
EPHEMERAL = 64


@pytest.fixture
def api() -> Iterator[FakeDiscord]:
    with FakeDiscord([HERE, ELSEWHERE], token=BOT_TOKEN) as fake:
        yield fake


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return copy_content(tmp_path)


@pytest.fixture
def config(tmp_path: Path, api: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DISCORD_BOT_TOKEN", BOT_TOKEN)
    path = tmp_path / "pprfeed.toml"
    path.write_text(f'[state]\npath = "state.sqlite3"\n\n[discord]\napi_base_url = "{api.base_url}"\n', "utf-8")
    return path


def dispatch(api: FakeDiscord, content: Path, state_path: Path, *interactions: dict[str, Any]) -> list[dict[str, Any]]:
    """Each interaction delivered as the gateway delivers it; the callback the bot made for each."""

    async def run() -> list[dict[str, Any]]:
        with discord_py_at(api.base_url), State(state_path) as state:
            live = LiveArchive(content, site=SiteSettings(), command="/topic")
            live.load()
            bot = TopicBot(live, "topic", state=state)
            callbacks = []
            try:
                await bot.login(BOT_TOKEN)
                for payload in interactions:
                    bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
                    callbacks.append((await api.next_callback())["json"])
            finally:
                await bot.close()
            return callbacks

    return asyncio.run(run())


def content_of(callback: dict[str, Any]) -> str:
    return str(callback["data"].get("content", ""))


def subscribed(state_path: Path) -> list[tuple[str, tuple[str, ...]]]:
    with State(state_path) as state:
        return [(s.channel, s.topics) for s in state.subscriptions()]


def test_subscribe_answers_privately(api, content, config, tmp_path):
    (callback,) = dispatch(api, content, tmp_path / "state.sqlite3", guild_command("subscribe"))
    assert callback["data"]["flags"] & EPHEMERAL


def test_subscribe_posts_one_public_line(api, content, config, tmp_path):
    dispatch(api, content, tmp_path / "state.sqlite3", guild_command("subscribe", {"topics": "cbt"}))
    assert [m["content"] for m in api.messages[HERE]] == [
        "This channel now gets the PPRNet digest: Cognitive Therapy (CT) and Cognitive-Behavioural Therapy (CBT)"
    ]


def test_subscribe_then_publish_reaches_the_channel_once(api, content, config, tmp_path, capsys):
    dispatch(api, content, tmp_path / "state.sqlite3", guild_command("subscribe"))
    main(["publish", "--config", str(config), "--content", str(content)])
    main(["publish", "--config", str(config), "--content", str(content)])
    assert capsys.readouterr().out.count(f"discord:{HERE}: posted 2018-11") == 1


def test_a_member_without_manage_channels_may_subscribe_where_the_server_allows_it(api, content, config, tmp_path):
    # Discord itself keeps the command from members without Manage Channels unless the server changed that;
    # when it delivers the command, the server decided, and the bot does not second-guess it
    state = tmp_path / "state.sqlite3"
    dispatch(api, content, state, guild_command("subscribe", permissions=0))
    assert subscribed(state) == [(HERE, ())]


def test_the_commands_need_manage_channels_by_default(api):
    async def run() -> None:
        with discord_py_at(api.base_url):
            await sync_commands(BOT_TOKEN, "topic")

    asyncio.run(run())
    commands = {command["name"]: command for command in api.registered[0]["json"]}
    needed = {name: int(commands[name]["default_member_permissions"]) for name in ("subscribe", "unsubscribe")}
    manage_channels = discord.Permissions(manage_channels=True).value
    assert needed == {"subscribe": manage_channels, "unsubscribe": manage_channels}


def test_subscribe_another_channel(api, content, config, tmp_path):
    state = tmp_path / "state.sqlite3"
    command = guild_command(
        "subscribe", {"topics": "empathy", "channel": ELSEWHERE}, permissions=MANAGE_CHANNELS | SEND_MESSAGES_AND_VIEW
    )
    dispatch(api, content, state, command)
    assert subscribed(state) == [(ELSEWHERE, ("empathy",))]


def test_another_channel_the_member_may_not_post_in_is_not_subscribed(api, content, config, tmp_path):
    state = tmp_path / "state.sqlite3"
    dispatch(api, content, state, guild_command("subscribe", {"channel": ELSEWHERE}, permissions=0))
    assert subscribed(state) == []


def test_a_channel_the_bot_may_not_post_in_is_not_subscribed(api, content, config, tmp_path):
    api.channel_errors[HERE] = (403, 50013)
    state = tmp_path / "state.sqlite3"
    (callback,) = dispatch(api, content, state, guild_command("subscribe"))
    assert "give it the View Channel and Send Messages permissions" in content_of(callback)
    assert subscribed(state) == []


def test_a_typo_gets_did_you_mean(api, content, config, tmp_path):
    (callback,) = dispatch(api, content, tmp_path / "state.sqlite3", guild_command("subscribe", {"topics": "empaty"}))
    assert "did you mean Empathy?" in content_of(callback)


def test_unsubscribe_stops_it(api, content, config, tmp_path):
    state = tmp_path / "state.sqlite3"
    dispatch(api, content, state, guild_command("subscribe"), guild_command("unsubscribe"))
    assert subscribed(state) == []


def test_subscriptions_lists_the_server_s_channels(api, content, config, tmp_path):
    state = tmp_path / "state.sqlite3"
    callbacks = dispatch(
        api,
        content,
        state,
        guild_command("subscribe", {"channel": ELSEWHERE}, permissions=MANAGE_CHANNELS | SEND_MESSAGES_AND_VIEW),
        guild_command("subscriptions"),
    )
    assert f"<#{ELSEWHERE}> — every article" in content_of(callbacks[-1])


def test_topics_autocomplete_the_piece_being_typed(api, content, config, tmp_path):
    (callback,) = dispatch(
        api, content, tmp_path / "state.sqlite3", guild_command("subscribe", {"topics": "cbt, empa"}, focused="topics")
    )
    assert callback["data"]["choices"][0]["value"] == "cbt, Empathy"


def test_missing_permissions_on_delivery_pauses_the_subscription(api, content, config, tmp_path):
    state = tmp_path / "state.sqlite3"
    dispatch(api, content, state, guild_command("subscribe"))
    api.channel_errors[HERE] = (403, 50013)
    assert main(["publish", "--config", str(config), "--content", str(content)]) == 1
    with State(state) as kept:
        assert kept.subscriptions()[0].paused == "Missing Permissions: the bot may not post in the channel (50013)"


def test_leaving_a_server_pauses_its_subscriptions(api, content, config, tmp_path):
    state = tmp_path / "state.sqlite3"
    dispatch(api, content, state, guild_command("subscribe"))

    async def removed() -> None:
        with discord_py_at(api.base_url), State(state) as kept:
            bot = TopicBot(None, "topic", state=kept)
            try:
                await bot.login(BOT_TOKEN)
                bot.dispatch("guild_remove", discord.Object(id=int(GUILD)))
                await asyncio.sleep(0.05)  # dispatch runs the handler as a task on the loop
            finally:
                await bot.close()

    asyncio.run(removed())
    with State(state) as kept:
        assert kept.subscriptions()[0].paused == "the bot was removed from the server"
