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
