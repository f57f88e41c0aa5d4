"""Socket Mode: slack_sdk's own client connects to a local fake of Slack (Web API + websocket).

The fake pushes envelopes exactly as Slack does; what comes back is the SDK's
acknowledgement (SocketModeResponse) carrying the bot's answer, and, for button
clicks, a follow-up to the response_url.
"""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from conftest import content_with_studies
from fakes.slack_api import FakeSlack
from pprfeed.bots.errors import ServiceUnreachable, TokenRefused
from pprfeed.bots.live import LiveArchive
from pprfeed.bots.slack import SlackBot, run_socket_mode, socket_mode_client
from pprfeed.chat.slack import answer_problems
from pprfeed.config import SiteSettings


def test_socket_mode_answers_commands_in_the_ack_and_clicks_through_response_url(tmp_path: Path):
    content = content_with_studies(tmp_path, 6)

    async def main() -> None:
        async with FakeSlack() as fake:
            slack, hooks, hooks_url = fake.socket_mode, fake.response_urls, fake.root
            live = LiveArchive(content, site=SiteSettings(), command="/ppr-topic")
            live.load()
            bot = SlackBot(live, allowed_response_urls=(hooks_url + "/hooks/",))
            client = socket_mode_client(bot, "xapp-1-test", AsyncWebClient(base_url=fake.base_url))
            try:
                await client.connect()
                await slack.wait_connected()
                assert slack.tokens == ["Bearer xapp-1-test"]

                await slack.push(
                    {
                        "envelope_id": "env-1",
                        "type": "slash_commands",
                        "accepts_response_payload": True,
                        "payload": {
                            "command": "/ppr-topic",
                            "text": "alliance <!channel>",
                            "user_id": "U1",
                            "channel_id": "C1",
                            "response_url": hooks_url + "/hooks/commands/1",
                            "trigger_id": "t1",
                        },
                    }
                )
                ack = await slack.next_ack()
                assert ack["envelope_id"] == "env-1"
                answer = ack["payload"]
                assert answer["response_type"] == "ephemeral"
                assert answer_problems(answer) == []
                echo = answer["blocks"][0]["elements"][0]["text"]
                assert echo == "You asked: “alliance &lt;!channel&gt;”"

                await slack.push({"envelope_id": "env-0", "type": "slash_commands", "payload": {"text": "alliance"}})
                answer = (await slack.next_ack())["payload"]
                next_button = next(
                    e
                    for b in answer["blocks"]
                    if b["type"] == "actions"
                    for e in b["elements"]
                    if "Next" in e["text"]["text"]
                )
                await slack.push(
                    {
                        "envelope_id": "env-2",
                        "type": "interactive",
                        "accepts_response_payload": False,
                        "payload": {
                            "type": "block_actions",
                            "user": {"id": "U1"},
                            "response_url": hooks_url + "/hooks/actions/2",
                            "actions": [next_button],
                        },
                    }
                )
                assert await slack.next_ack() == {"envelope_id": "env-2"}
                follow_up = await hooks.next()
                assert follow_up["path"] == "/hooks/actions/2"
                assert follow_up["json"]["replace_original"] is True
                assert "Page 2 of 2" in json.dumps(follow_up["json"])

                await slack.push({"envelope_id": "env-3", "type": "events_api", "payload": {"event": {}}})
                assert await slack.next_ack() == {"envelope_id": "env-3"}
            finally:
                await client.close()
                await bot.close()

    asyncio.run(main())


@pytest.mark.slow
def test_a_refused_app_token_or_an_unreachable_slack_ends_socket_mode(tmp_path: Path):
    content = content_with_studies(tmp_path, 1)

    async def main() -> None:
        async with FakeSlack() as fake:
            live = LiveArchive(content, site=SiteSettings(), command="/ppr-topic")
            live.load()
            with pytest.raises(TokenRefused):  # a bot token where the app-level one belongs
                await asyncio.wait_for(
                    run_socket_mode(SlackBot(live), "xoxb-not-an-app-token", AsyncWebClient(base_url=fake.base_url)), 10
                )
            with socket.socket() as probe:  # a port nobody listens on
                probe.bind(("127.0.0.1", 0))
                closed = f"http://127.0.0.1:{probe.getsockname()[1]}/api/"
            with pytest.raises(ServiceUnreachable):
                await asyncio.wait_for(
                    run_socket_mode(SlackBot(live), "xapp-1-test", AsyncWebClient(base_url=closed)), 10
                )

    asyncio.run(main())
