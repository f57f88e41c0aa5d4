"""The fakes themselves: what the tests rely on when a fake runs on its own thread and the test awaits it."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from fakes.discord_api import TOKEN as DISCORD_TOKEN
from fakes.discord_api import FakeDiscord
from fakes.slack_api import TOKEN as SLACK_TOKEN
from fakes.slack_api import FakeSlack


def test_a_threaded_fake_wakes_a_test_waiting_on_another_loop():
    async def main(slack: FakeSlack) -> None:
        async with aiohttp.ClientSession() as session:
            waiting = asyncio.ensure_future(slack.response_urls.next())
            await asyncio.sleep(0)  # the test waits before anything arrives
            async with session.post(slack.root + "/hooks/actions/1", json={"text": "hi", "blocks": []}) as response:
                assert response.status == 200
            assert await waiting == {"path": "/hooks/actions/1", "json": {"text": "hi", "blocks": []}}
            assert slack.response_urls.empty()
            with pytest.raises(TimeoutError):
                await slack.response_urls.next(timeout=0.05)

    with FakeSlack() as slack:
        asyncio.run(main(slack))


def test_socket_mode_takes_only_an_app_token_and_carries_envelopes_both_ways():
    async def main(slack: FakeSlack) -> None:
        async with aiohttp.ClientSession() as session:
            opened = {}
            for token in (SLACK_TOKEN, "xapp-1-test"):
                headers = {"Authorization": f"Bearer {token}"}
                async with session.post(slack.base_url + "apps.connections.open", headers=headers) as response:
                    opened[token] = await response.json()
            assert opened[SLACK_TOKEN] == {"ok": False, "error": "not_allowed_token_type"}
            assert slack.socket_mode.tokens == [f"Bearer {SLACK_TOKEN}", "Bearer xapp-1-test"]
            async with session.ws_connect(opened["xapp-1-test"]["url"]) as socket:
                assert (await socket.receive_json())["type"] == "hello"
                await slack.socket_mode.wait_connected()
                await slack.socket_mode.push({"envelope_id": "e1", "type": "slash_commands", "payload": {}})
                assert (await socket.receive_json())["envelope_id"] == "e1"
                await socket.send_json({"envelope_id": "e1", "payload": {"text": "ok"}})
                assert await slack.socket_mode.next_ack() == {"envelope_id": "e1", "payload": {"text": "ok"}}

    with FakeSlack() as slack:
        asyncio.run(main(slack))


def test_discord_checks_the_bot_token_and_answers_an_interaction_once():
    async def main() -> None:
        async with FakeDiscord() as discord, aiohttp.ClientSession() as session:
            for token, status in (("wrong", 401), (DISCORD_TOKEN, 200)):
                headers = {"Authorization": f"Bot {token}"}
                async with session.get(discord.base_url + "/users/@me", headers=headers) as response:
                    assert response.status == status
            callback = discord.base_url + "/interactions/1/tok/callback"
            answer = {"type": 4, "data": {"content": "hi", "flags": 64}}
            async with session.post(callback, json=answer) as first, session.post(callback, json=answer) as again:
                assert first.status == 200 and (await first.json())["interaction"]["response_message_ephemeral"]
                assert again.status == 400 and (await again.json())["code"] == 40060
            assert await discord.next_callback() == {"id": "1", "token": "tok", "json": answer, "auth": None}
            assert discord.callbacks.empty()

    asyncio.run(main())


def test_slack_with_a_rate_limit_answers_429_to_a_second_post_within_the_second():
    async def main(slack: FakeSlack) -> list[tuple[int, str | None]]:
        answers = []
        async with aiohttp.ClientSession() as session:
            for channel in ("C1", "C1", "C2"):
                async with session.post(
                    slack.base_url + "chat.postMessage",
                    headers={"Authorization": f"Bearer {SLACK_TOKEN}"},
                    json={"channel": channel, "text": "hi", "blocks": []},
                ) as response:
                    answers.append((response.status, response.headers.get("Retry-After")))
        return answers

    with FakeSlack(["C1", "C2"], rate_limit_per_channel=1.0) as slack:
        assert asyncio.run(main(slack)) == [(200, None), (429, "1"), (200, None)]


def test_discord_with_a_global_rate_limit_answers_429_past_it():
    async def main(discord: FakeDiscord) -> list[tuple[int, bool]]:
        answers = []
        async with aiohttp.ClientSession() as session:
            for _ in range(3):
                async with session.post(
                    discord.base_url + "/channels/1/messages",
                    headers={"Authorization": f"Bot {DISCORD_TOKEN}"},
                    json={"content": "hi", "allowed_mentions": {"parse": []}},
                ) as response:
                    answers.append((response.status, (await response.json()).get("global", False)))
        return answers

    with FakeDiscord(["1"], global_rate_limit=2) as discord:
        assert asyncio.run(main(discord)) == [(200, False), (200, False), (429, True)]
