"""Installing the Slack app into any workspace (OAuth v2), per-workspace tokens, and uninstalls: the whole path
through the real endpoint and slack_sdk, against the fake Slack."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from conftest import copy_content, write_article
from fakes.slack_api import CLIENT_ID, CLIENT_SECRET, FakeSlack, signed_headers
from pprfeed.bots.live import LiveArchive
from pprfeed.bots.slack import SlackBot, SlackEndpoint, SlackOAuth, build_slack_app, socket_mode_client
from pprfeed.cli import main
from pprfeed.config import SiteSettings
from pprfeed.state import UNINSTALLED, State

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CHANNELS = {"T1": "C0000ONE1", "T2": "C0000TWO2"}
T = TypeVar("T")


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(list(CHANNELS.values())) as fake:
        yield fake


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return copy_content(tmp_path)


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "state.sqlite3"


@pytest.fixture
def config(tmp_path: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.delenv("PPRFEED_SECRET_KEY", raising=False)
    path = tmp_path / "pprfeed.toml"
    path.write_text(
        f'[state]\npath = "state.sqlite3"\n\n[slack]\napi_base_url = "{slack.base_url}"\nclient_id = "{CLIENT_ID}"\n',
        "utf-8",
    )
    return path


def on_endpoint(
    slack: FakeSlack, content: Path, state_path: Path, script: Callable[[aiohttp.ClientSession, str], Awaitable[T]]
) -> T:
    """`script(session, base_url)` against a running endpoint that installs into any workspace."""

    async def run() -> T:
        live = LiveArchive(content, site=SiteSettings(), command="/ppr")
        live.load()
        oauth = SlackOAuth(
            CLIENT_ID, CLIENT_SECRET, authorize_url=f"{slack.root}/oauth/v2/authorize", api_base_url=slack.base_url
        )
        with State(state_path) as state:
            bot = SlackBot(live, state=state, per_workspace=True, api_base_url=slack.base_url)
            async with (
                SlackEndpoint(build_slack_app(bot, SECRET, oauth)) as endpoint,
                aiohttp.ClientSession() as session,
            ):
                return await script(session, endpoint.url)

    return asyncio.run(run())


async def start_install(session: aiohttp.ClientSession, url: str) -> str:
    """GET /slack/install as a browser would: the state Slack's authorize page is sent."""
    async with session.get(url + "/slack/install", allow_redirects=False) as response:
        assert response.status == 302
        return parse_qs(urlsplit(response.headers["Location"]).query)["state"][0]


async def finish_install(session: aiohttp.ClientSession, url: str, state: str, code: str) -> tuple[int, str]:
    async with session.get(url + "/slack/oauth_redirect", params={"state": state, "code": code}) as response:
        return response.status, await response.text()


def install(slack: FakeSlack, content: Path, state_path: Path, *teams: str) -> list[int]:
    async def script(session: aiohttp.ClientSession, url: str) -> list[int]:
        statuses = []
        for team in teams:
            state = await start_install(session, url)
            statuses.append((await finish_install(session, url, state, slack.authorize(team)))[0])
        return statuses

    return on_endpoint(slack, content, state_path, script)


def subscribe(slack: FakeSlack, content: Path, state_path: Path, *teams: str) -> list[dict[str, Any]]:
    async def script(session: aiohttp.ClientSession, url: str) -> list[dict[str, Any]]:
        answers = []
        for team in teams:
            fields = {
                "team_id": team,
                "channel_id": CHANNELS[team],
                "user_id": "U1",
                "command": "/ppr",
                "text": "subscribe",
                "response_url": f"https://hooks.slack.com/commands/{team}/1/abc",
                "trigger_id": str(time.time_ns()),
            }
            body = urlencode(fields).encode()
            async with session.post(url + "/slack/commands", data=body, headers=signed_headers(SECRET, body)) as r:
                answers.append(await r.json())
        return answers

    return on_endpoint(slack, content, state_path, script)


def send_event(slack: FakeSlack, content: Path, state_path: Path, payload: dict[str, Any]) -> tuple[int, Any]:
    async def script(session: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
        body = json.dumps(payload).encode()
        headers = signed_headers(SECRET, body, content_type="application/json")
        async with session.post(url + "/slack/events", data=body, headers=headers) as response:
            return response.status, await response.json()

    return on_endpoint(slack, content, state_path, script)


def uninstalled(team: str) -> dict[str, Any]:
    return {"type": "event_callback", "team_id": team, "event": {"type": "app_uninstalled"}}


def publish(config: Path, content: Path) -> int:
    return main(["publish", "--config", str(config), "--content", str(content)])


def tokens_used(slack: FakeSlack, channel: str) -> set[str]:
    """The Authorization headers of the posts to `channel` that the fake saw."""
    return {r.headers.get("Authorization", "") for r in slack.posts() if (r.body or {}).get("channel") == channel}


def token_of(slack: FakeSlack, team: str) -> str:
    return next(f"Bearer {token}" for token, owner in slack.team_tokens.items() if owner == team)


@pytest.fixture
def two_subscribed(slack, content, state_path, config) -> None:
    install(slack, content, state_path, "T1", "T2")
    subscribe(slack, content, state_path, "T1", "T2")


def test_install_redirects_to_slack_s_authorize_page_with_the_client_id(slack, content, state_path, config):
    async def script(session: aiohttp.ClientSession, url: str) -> str:
        async with session.get(url + "/slack/install", allow_redirects=False) as response:
            return response.headers["Location"]

    location = on_endpoint(slack, content, state_path, script)
    assert parse_qs(urlsplit(location).query)["client_id"] == [CLIENT_ID]


def test_installing_two_workspaces_succeeds(slack, content, state_path, config):
    assert install(slack, content, state_path, "T1", "T2") == [200, 200]


def test_an_installed_workspace_s_token_is_kept(slack, content, state_path, config):
    install(slack, content, state_path, "T1")
    with State(state_path) as state:
        assert f"Bearer {state.bot_token('T1')}" == token_of(slack, "T1")


def test_each_workspace_s_subscribe_line_is_posted_with_its_own_token(slack, content, state_path, two_subscribed):
    assert [tokens_used(slack, CHANNELS[team]) for team in ("T1", "T2")] == [
        {token_of(slack, "T1")},
        {token_of(slack, "T2")},
    ]


def test_publish_reaches_each_channel_with_its_workspace_s_token(slack, content, state_path, config, two_subscribed):
    before = len(slack.posts())
    assert publish(config, content) == 0
    issue_posts = slack.posts()[before:]
    assert {(r.body["channel"], r.headers["Authorization"]) for r in issue_posts} == {
        (CHANNELS["T1"], token_of(slack, "T1")),
        (CHANNELS["T2"], token_of(slack, "T2")),
    }


def test_after_an_uninstall_publish_reaches_only_the_other_workspace(
    slack, content, state_path, config, two_subscribed
):
    publish(config, content)
    send_event(slack, content, state_path, uninstalled("T1"))
    write_article(content, "2019-02", "new-study", "A new study", ["empathy"])
    before = len(slack.posts())
    assert publish(config, content) == 0
    assert [r.body["channel"] for r in slack.posts()[before:]] == [CHANNELS["T2"]]


def test_a_workspace_without_an_installation_is_skipped_with_one_line(
    slack, content, state_path, config, two_subscribed, capsys
):
    send_event(slack, content, state_path, uninstalled("T1"))
    with State(state_path) as state:
        state.subscribe("slack", "T1", CHANNELS["T1"])  # subscribed again, but the app is not installed
    capsys.readouterr()
    publish(config, content)
    assert capsys.readouterr().err.count("Slack workspace T1 has not installed the app") == 1


def test_an_uninstall_forgets_the_token(slack, content, state_path, config, two_subscribed):
    send_event(slack, content, state_path, uninstalled("T1"))
    with State(state_path) as state:
        assert state.bot_token("T1") is None


def test_an_uninstall_pauses_the_workspace_s_subscriptions(slack, content, state_path, config, two_subscribed):
    send_event(slack, content, state_path, uninstalled("T1"))
    with State(state_path) as state:
        assert [(s.workspace, s.paused) for s in state.subscriptions()] == [("T1", UNINSTALLED), ("T2", None)]


def test_a_revoked_bot_token_counts_as_an_uninstall(slack, content, state_path, config, two_subscribed):
    event = {"type": "event_callback", "team_id": "T2", "event": {"type": "tokens_revoked", "tokens": {"bot": ["U"]}}}
    send_event(slack, content, state_path, event)
    with State(state_path) as state:
        assert state.bot_token("T2") is None


def test_revoked_user_tokens_alone_leave_the_installation(slack, content, state_path, config, two_subscribed):
    event = {"type": "event_callback", "team_id": "T2", "event": {"type": "tokens_revoked", "tokens": {"oauth": ["U"]}}}
    send_event(slack, content, state_path, event)
    with State(state_path) as state:
        assert state.bot_token("T2") is not None


def test_url_verification_echoes_the_challenge(slack, content, state_path, config):
    status, answer = send_event(slack, content, state_path, {"type": "url_verification", "challenge": "abc123"})
    assert answer == {"challenge": "abc123"}


def test_an_unsigned_event_is_refused(slack, content, state_path, config):
    async def script(session: aiohttp.ClientSession, url: str) -> int:
        async with session.post(url + "/slack/events", data=json.dumps(uninstalled("T1")).encode()) as response:
            return response.status

    assert on_endpoint(slack, content, state_path, script) == 401


def test_an_unsigned_uninstall_changes_nothing(slack, content, state_path, config, two_subscribed):
    async def script(session: aiohttp.ClientSession, url: str) -> None:
        async with session.post(url + "/slack/events", data=json.dumps(uninstalled("T1")).encode()):
            pass

    on_endpoint(slack, content, state_path, script)
    with State(state_path) as state:
        assert state.bot_token("T1") is not None


def test_a_forged_state_is_refused(slack, content, state_path, config):
    async def script(session: aiohttp.ClientSession, url: str) -> int:
        return (await finish_install(session, url, "forged-state", slack.authorize("T1")))[0]

    assert on_endpoint(slack, content, state_path, script) == 400


def test_a_forged_state_installs_nothing(slack, content, state_path, config):
    async def script(session: aiohttp.ClientSession, url: str) -> None:
        await finish_install(session, url, "forged-state", slack.authorize("T1"))

    on_endpoint(slack, content, state_path, script)
    with State(state_path) as state:
        assert state.bot_token("T1") is None


def test_a_reused_state_is_refused(slack, content, state_path, config):
    async def script(session: aiohttp.ClientSession, url: str) -> int:
        state = await start_install(session, url)
        await finish_install(session, url, state, slack.authorize("T1"))
        return (await finish_install(session, url, state, slack.authorize("T2")))[0]

    assert on_endpoint(slack, content, state_path, script) == 400


def test_a_refused_state_gets_a_short_page_saying_to_start_again(slack, content, state_path, config):
    async def script(session: aiohttp.ClientSession, url: str) -> str:
        return (await finish_install(session, url, "forged-state", "code"))[1]

    assert "Start again" in on_endpoint(slack, content, state_path, script)


def test_a_code_slack_refuses_is_a_400_page(slack, content, state_path, config):
    async def script(session: aiohttp.ClientSession, url: str) -> int:
        return (await finish_install(session, url, await start_install(session, url), "not-a-code"))[0]

    assert on_endpoint(slack, content, state_path, script) == 400


def test_the_install_page_never_shows_the_token(slack, content, state_path, config):
    async def script(session: aiohttp.ClientSession, url: str) -> str:
        return (await finish_install(session, url, await start_install(session, url), slack.authorize("T1")))[1]

    page = on_endpoint(slack, content, state_path, script)
    assert next(iter(slack.team_tokens)) not in page


def test_a_command_from_a_workspace_that_never_installed_says_to_add_the_app(slack, content, state_path, config):
    (answer,) = subscribe(slack, content, state_path, "T1")
    assert "Add to Slack" in json.dumps(answer)


def test_publish_removes_subscriptions_paused_by_an_uninstall_30_days_ago(
    slack, content, state_path, config, two_subscribed
):
    send_event(slack, content, state_path, uninstalled("T1"))
    with sqlite3.connect(state_path) as db:
        db.execute("UPDATE subscriptions SET paused_at = '2000-01-01T00:00:00+00:00' WHERE workspace = 'T1'")
    publish(config, content)
    with State(state_path) as state:
        assert [s.workspace for s in state.subscriptions()] == ["T2"]


def test_an_uninstall_over_socket_mode_forgets_the_workspace(slack, content, state_path, config):
    with State(state_path) as state:
        state.save_installation("T1", "xoxb-T1-kept")

    async def run() -> str | None:
        live = LiveArchive(content, site=SiteSettings(), command="/ppr")
        live.load()
        with State(state_path) as state:
            bot = SlackBot(live, state=state, per_workspace=True, api_base_url=slack.base_url)
            client = socket_mode_client(bot, "xapp-1-test", AsyncWebClient(base_url=slack.base_url))
            try:
                await client.connect()
                await slack.socket_mode.wait_connected()
                await slack.socket_mode.push({"envelope_id": "e1", "type": "events_api", "payload": uninstalled("T1")})
                await slack.socket_mode.next_ack()
                for _ in range(100):  # the event is handled right after its acknowledgement
                    if state.bot_token("T1") is None:
                        break
                    await asyncio.sleep(0.05)
                return state.bot_token("T1")
            finally:
                await client.close()

    assert asyncio.run(run()) is None


def revoke_at_slack(slack: FakeSlack, team: str) -> str:
    """Slack stops accepting the workspace's token (no event has arrived yet); the token."""
    token = token_of(slack, team).removeprefix("Bearer ")
    slack.team_tokens.pop(token)
    return token


def test_a_workspace_whose_token_slack_refuses_does_not_stop_the_other(
    slack, content, state_path, config, two_subscribed
):
    revoke_at_slack(slack, "T1")
    publish(config, content)
    assert [len(slack.messages[CHANNELS[team]]) for team in ("T1", "T2")] == [1, 2]  # the subscribe line, the issue


def test_a_workspace_whose_token_slack_refuses_is_told_to_add_the_app_again(
    slack, content, state_path, config, two_subscribed, capsys
):
    revoke_at_slack(slack, "T1")
    capsys.readouterr()
    publish(config, content)
    assert "someone there adds the app again (Add to Slack)" in capsys.readouterr().err


def test_a_refused_workspace_token_is_never_printed(slack, content, state_path, config, two_subscribed, capsys):
    token = revoke_at_slack(slack, "T1")
    capsys.readouterr()
    publish(config, content)
    printed = capsys.readouterr()
    assert token not in printed.out + printed.err
