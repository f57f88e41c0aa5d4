"""`/ppr subscribe` in Slack through the real endpoint (signed requests), then `pprfeed publish` to the fake Slack."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from conftest import copy_content, write_article
from fakes.slack_api import TOKEN, FakeSlack, signed_headers
from pprfeed.bots.live import LiveArchive
from pprfeed.bots.slack import SlackBot, SlackEndpoint, build_slack_app
from pprfeed.chat.slack import answer_problems
from pprfeed.cli import main
from pprfeed.config import SiteSettings
from pprfeed.state import State

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CHANNEL = "C0000SUBS"
PRIVATE = "G0000PRIV"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack([CHANNEL]) as fake:
        yield fake


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return copy_content(tmp_path)


@pytest.fixture
def config(tmp_path: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    path = tmp_path / "pprfeed.toml"
    path.write_text(f'[state]\npath = "state.sqlite3"\n\n[slack]\napi_base_url = "{slack.base_url}"\n', "utf-8")
    return path


def form(text: str, channel: str = CHANNEL, user: str = "U1", command: str = "/ppr") -> dict[str, str]:
    return {
        "team_id": "T1",
        "channel_id": channel,
        "user_id": user,
        "command": command,
        "text": text,
        "response_url": "https://hooks.slack.com/commands/T1/1/abc",
        "trigger_id": str(time.time_ns()),
    }


def ppr(
    slack: FakeSlack, content: Path, state_path: Path, *commands: dict[str, str], mode: str = "anyone"
) -> list[dict[str, Any]]:
    """Each command signed and POSTed to a running endpoint in turn; their answers."""

    async def run() -> list[dict[str, Any]]:
        live = LiveArchive(content, site=SiteSettings(), command="/ppr")
        live.load()
        web = AsyncWebClient(token=TOKEN, base_url=slack.base_url)
        with State(state_path) as state:
            bot = SlackBot(live, state=state, web=web, subscribe_mode=mode)
            answers = []
            async with SlackEndpoint(build_slack_app(bot, SECRET)) as endpoint, aiohttp.ClientSession() as session:
                for fields in commands:
                    body = urlencode(fields).encode()
                    async with session.post(
                        endpoint.url + "/slack/commands", data=body, headers=signed_headers(SECRET, body)
                    ) as response:
                        assert response.status == 200
                        answers.append(await response.json())
            return answers

    return asyncio.run(run())


def publish(config: Path, content: Path) -> int:
    return main(["publish", "--config", str(config), "--content", str(content)])


def shown(answer: dict[str, Any]) -> str:
    return json.dumps(answer["blocks"], ensure_ascii=False)


def channel_texts(slack: FakeSlack, channel: str = CHANNEL) -> list[str]:
    return [str(message.get("text")) for message in slack.messages[channel]]


def test_subscribe_answers_privately(slack, content, config, tmp_path):
    (answer,) = ppr(slack, content, tmp_path / "state.sqlite3", form("subscribe"))
    assert answer["response_type"] == "ephemeral"


def test_subscribe_posts_one_public_line_naming_the_topics(slack, content, config, tmp_path):
    ppr(slack, content, tmp_path / "state.sqlite3", form("subscribe trauma, cbt"))
    assert channel_texts(slack) == [
        "This channel now gets the PPRNet digest: Trauma and/or PTSD, "
        "Cognitive Therapy (CT) and Cognitive-Behavioural Therapy (CBT)"
    ]


def test_subscribe_answer_is_within_slack_s_limits(slack, content, config, tmp_path):
    (answer,) = ppr(slack, content, tmp_path / "state.sqlite3", form("subscribe alliance"))
    assert answer_problems(answer) == []


def test_subscribe_publish_unsubscribe_then_nothing_more(slack, content, config, tmp_path, capsys):
    state = tmp_path / "state.sqlite3"
    ppr(slack, content, state, form("subscribe"))
    assert publish(config, content) == 0
    assert f"slack:{CHANNEL}: posted 2018-11 (1 message)" in capsys.readouterr().out
    write_article(content, "2019-02", "new-study", "A new study", ["empathy"])
    ppr(slack, content, state, form("unsubscribe"))
    before = len(slack.messages[CHANNEL])
    assert publish(config, content) == 0
    assert len(slack.messages[CHANNEL]) == before


def test_a_subscribed_channel_gets_each_new_issue_once(slack, content, config, tmp_path):
    ppr(slack, content, tmp_path / "state.sqlite3", form("subscribe"))
    publish(config, content)
    write_article(content, "2019-02", "new-study", "A new study", ["empathy"])
    publish(config, content)
    publish(config, content)
    issue_posts = [text for text in channel_texts(slack) if "PPRNet research digest" in text]
    assert len(issue_posts) == 2


def test_subscribing_again_gets_the_latest_issue_not_all_it_missed(slack, content, config, tmp_path, capsys):
    state = tmp_path / "state.sqlite3"
    ppr(slack, content, state, form("subscribe"))
    publish(config, content)
    ppr(slack, content, state, form("unsubscribe"))
    write_article(content, "2019-02", "february", "A February study", ["empathy"])
    write_article(content, "2019-03", "march", "A March study", ["empathy"])
    ppr(slack, content, state, form("subscribe"))
    capsys.readouterr()
    publish(config, content)
    assert f"slack:{CHANNEL}: posted 2019-03 (1 message)\n" in capsys.readouterr().out


def test_a_resumed_channel_gets_the_latest_issue_not_all_it_missed(slack, content, config, tmp_path, capsys):
    state = tmp_path / "state.sqlite3"
    ppr(slack, content, state, form("subscribe"))
    publish(config, content)
    with State(state) as kept:
        kept.pause("slack", CHANNEL, "the channel was archived (is_archived)")
    write_article(content, "2019-02", "february", "A February study", ["empathy"])
    write_article(content, "2019-03", "march", "A March study", ["empathy"])
    ppr(slack, content, state, form("subscribe"))
    capsys.readouterr()
    publish(config, content)
    assert f"slack:{CHANNEL}: posted 2019-03 (1 message)\n" in capsys.readouterr().out


def test_topic_filter_picks_the_newest_matching_issue(slack, content, config, tmp_path, capsys):
    ppr(slack, content, tmp_path / "state.sqlite3", form("subscribe common factors"))
    publish(config, content)
    assert f"slack:{CHANNEL}: posted 2018-08 (1 message)" in capsys.readouterr().out


def test_a_topic_without_articles_can_be_subscribed_and_gets_nothing_yet(slack, content, config, tmp_path, capsys):
    ppr(slack, content, tmp_path / "state.sqlite3", form("subscribe trauma"))
    publish(config, content)
    assert "Nothing to publish" in capsys.readouterr().out


def test_a_typo_gets_did_you_mean_and_subscribes_nothing(slack, content, config, tmp_path):
    state = tmp_path / "state.sqlite3"
    (answer,) = ppr(slack, content, state, form("subscribe traumma"))
    assert "did you mean Trauma and/or PTSD?" in shown(answer)
    with State(state) as kept:
        assert kept.subscriptions() == []


def test_unsubscribing_one_topic_keeps_the_others(slack, content, config, tmp_path):
    state = tmp_path / "state.sqlite3"
    ppr(slack, content, state, form("subscribe alliance, empathy"), form("unsubscribe empathy"))
    with State(state) as kept:
        assert [s.topics for s in kept.subscriptions()] == [("alliance-and-therapeutic-relationship",)]


def test_a_private_channel_the_app_is_not_in_is_told_to_invite_it(slack, content, config, tmp_path):
    state = tmp_path / "state.sqlite3"
    (answer,) = ppr(slack, content, state, form("subscribe", channel=PRIVATE))
    assert "Invite @PPRNet first" in shown(answer)
    with State(state) as kept:
        assert kept.subscriptions() == []


def test_admins_only_refuses_a_member(slack, content, config, tmp_path):
    slack.users["U1"] = {"id": "U1", "is_admin": False, "is_owner": False}
    state = tmp_path / "state.sqlite3"
    (answer,) = ppr(slack, content, state, form("subscribe", user="U1"), mode="admins")
    assert "only admins and owners" in shown(answer)
    with State(state) as kept:
        assert kept.subscriptions() == []


def test_admins_only_lets_an_owner_subscribe(slack, content, config, tmp_path):
    slack.users["U2"] = {"id": "U2", "is_admin": False, "is_owner": True}
    state = tmp_path / "state.sqlite3"
    ppr(slack, content, state, form("subscribe", user="U2"), mode="admins")
    with State(state) as kept:
        assert [s.channel for s in kept.subscriptions()] == [CHANNEL]


def test_an_archived_channel_pauses_its_subscription(slack, content, config, tmp_path):
    state = tmp_path / "state.sqlite3"
    ppr(slack, content, state, form("subscribe"))
    slack.channel_errors[CHANNEL] = "is_archived"
    assert publish(config, content) == 1
    with State(state) as kept:
        assert kept.subscriptions()[0].paused == "the channel was archived (is_archived)"


def test_a_paused_subscription_is_not_delivered_to(slack, content, config, tmp_path):
    state = tmp_path / "state.sqlite3"
    ppr(slack, content, state, form("subscribe"))
    with State(state) as kept:
        kept.pause("slack", CHANNEL, "the channel was archived (is_archived)")
    publish(config, content)
    assert len(slack.posts()) == 1  # the public line only


def test_subscriptions_shows_a_paused_channel_and_why(slack, content, config, tmp_path):
    state = tmp_path / "state.sqlite3"
    ppr(slack, content, state, form("subscribe"))
    with State(state) as kept:
        kept.pause("slack", CHANNEL, "the channel was archived (is_archived)")
    (answer,) = ppr(slack, content, state, form("subscriptions"))
    assert "paused: the channel was archived (is_archived)" in shown(answer)


def test_subscribing_again_resumes_a_paused_channel(slack, content, config, tmp_path, capsys):
    state = tmp_path / "state.sqlite3"
    ppr(slack, content, state, form("subscribe"))
    with State(state) as kept:
        kept.pause("slack", CHANNEL, "the channel was archived (is_archived)")
    ppr(slack, content, state, form("subscribe"))
    publish(config, content)
    assert f"slack:{CHANNEL}: posted 2018-11" in capsys.readouterr().out


def test_a_channel_configured_and_subscribed_gets_one_post(slack, content, config, tmp_path):
    config.write_text(config.read_text("utf-8") + f'[[slack.channels]]\nid = "{CHANNEL}"\n', "utf-8")
    ppr(slack, content, tmp_path / "state.sqlite3", form("subscribe"))
    publish(config, content)
    issue_posts = [text for text in channel_texts(slack) if "PPRNet research digest" in text]
    assert len(issue_posts) == 1


def test_ppr_topic_answers_a_query(slack, content, config, tmp_path):
    (answer,) = ppr(slack, content, tmp_path / "state.sqlite3", form("topic alliance"))
    assert "Alliance and Therapeutic Relationship" in shown(answer)


def test_the_old_command_still_answers_a_query(slack, content, config, tmp_path):
    (answer,) = ppr(slack, content, tmp_path / "state.sqlite3", form("subscribe", command="/ppr-topic"))
    assert "You asked: “subscribe”" in shown(answer)


def test_ppr_help_lists_the_subcommands(slack, content, config, tmp_path):
    (answer,) = ppr(slack, content, tmp_path / "state.sqlite3", form("help"))
    assert "/ppr subscribe [topics]" in shown(answer)


def test_status_shows_a_paused_subscription(slack, content, config, tmp_path, capsys):
    state = tmp_path / "state.sqlite3"
    ppr(slack, content, state, form("subscribe"))
    with State(state) as kept:
        kept.pause("slack", CHANNEL, "the channel was archived (is_archived)")
    main(["status", "--config", str(config), "--content", str(content)])
    assert f"slack:{CHANNEL}  paused: the channel was archived (is_archived)" in capsys.readouterr().out
