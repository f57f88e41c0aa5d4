"""The Slack `/ppr-topic` bot: one handler core, served over HTTP or Socket Mode.

`SlackBot` turns a slash command into the ephemeral answer, and a button click
into a follow-up for the click's `response_url` (the next page in place of the
old one, or the public copy when shared). It needs no bot token and no
`chat:write`: answers go back as command responses and through response_url.

- `build_slack_app`: aiohttp app with POST /slack/commands, POST
  /slack/interactions and GET /healthz. Every POST is verified with
  slack_sdk's SignatureVerifier on the raw body before anything is parsed;
  a missing, wrong, stale (> 5 min) or replayed signature gets 401.
- `run_socket_mode`: the same core over slack_sdk's Socket Mode client (aiohttp flavour).

Slack wants an answer within 3 seconds: the query runs in-process in about a
millisecond, and follow-ups are posted after the click has been acknowledged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import aiohttp
from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from pprfeed.bots.errors import CannotListen, ServiceUnreachable, TokenRefused
from pprfeed.bots.live import LiveArchive
from pprfeed.chat import slack as chat
from pprfeed.chat.answers import Action, ask

log = logging.getLogger(__name__)

SLACK_RESPONSE_URLS = ("https://hooks.slack.com/", "https://hooks.slack-gov.com/")
"""Follow-ups go only to Slack's own hooks, whatever a payload says."""
SIGNATURE_MAX_AGE = 5 * 60
MAX_BODY = 256 * 1024
FOLLOW_UP_TIMEOUT = 10.0
WATCHER = web.AppKey("watcher", asyncio.Task)


@dataclass(frozen=True)
class FollowUp:
    """A message to POST to a click's response_url."""

    response_url: str
    body: dict[str, Any]


@dataclass
class SlackBot:
    live: LiveArchive
    allowed_response_urls: Sequence[str] = SLACK_RESPONSE_URLS
    _session: aiohttp.ClientSession | None = field(default=None, repr=False)
    _tasks: set[asyncio.Task[bool]] = field(default_factory=set, repr=False)

    # --- the core: payloads in, payloads out -------------------------------------------------

    def command(self, fields: Mapping[str, str]) -> dict[str, Any]:
        """The response to `/ppr-topic <text>`: visible only to the person who asked."""
        snapshot = self.live.snapshot
        result = ask(snapshot.engine, slack_unescape(fields.get("text", "")))
        return {"response_type": "ephemeral", **chat.answer(result, 0, snapshot.context)}

    def action(self, payload: Mapping[str, Any]) -> FollowUp | None:
        """A button click (`block_actions`): the follow-up to send, or None when there is nothing to do."""
        if payload.get("type") != "block_actions":
            return None
        response_url = payload.get("response_url")
        if not isinstance(response_url, str) or not response_url.startswith(tuple(self.allowed_response_urls)):
            log.warning("ignoring a click whose response_url is not Slack's")
            return None
        actions = payload.get("actions")
        for action in actions if isinstance(actions, list) else ():
            if not isinstance(action, dict):
                continue
            state = chat.parse_action(str(action.get("action_id", "")), str(action.get("value", "")))
            if state is None:
                continue
            snapshot = self.live.snapshot
            result = ask(snapshot.engine, state.query)
            if state.action is Action.SHARE:
                message = chat.answer(result, state.page, snapshot.context, shared=True)
                body = {"response_type": "in_channel", "replace_original": False, **message}
            else:
                message = chat.answer(result, state.page, snapshot.context)
                body = {"response_type": "ephemeral", "replace_original": True, **message}
            return FollowUp(response_url, body)
        return None

    # --- sending follow-ups ----------------------------------------------------------------------

    def schedule(self, follow_up: FollowUp) -> None:
        """Send `follow_up` after the current request has been answered."""
        task = asyncio.get_running_loop().create_task(self.deliver(follow_up))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def deliver(self, follow_up: FollowUp) -> bool:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=FOLLOW_UP_TIMEOUT))
        try:
            async with self._session.post(follow_up.response_url, json=follow_up.body) as response:
                if response.status >= 300:
                    log.warning("Slack refused a follow-up: HTTP %s %s", response.status, (await response.text())[:200])
                    return False
                return True
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.warning("could not send a follow-up to Slack: %s", exc)
            return False

    async def close(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()


def slack_unescape(text: str) -> str:
    """The text as typed: Slack sends `&`, `<` and `>` as entities; `&amp;` last, so `&amp;lt;` stays `&lt;`.

    Decoded text is only ever searched and echoed re-escaped, so nothing typed can become markup.
    """
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# --- HTTP endpoint -------------------------------------------------------------------------------


class ReplayGuard:
    """Remembers the signatures seen within the last five minutes: Slack never sends one request twice."""

    def __init__(self, window: float = SIGNATURE_MAX_AGE) -> None:
        self.window = window
        self._seen: dict[str, float] = {}

    def first_time(self, signature: str, now: float) -> bool:
        if len(self._seen) > 10_000:
            self._seen = {s: expiry for s, expiry in self._seen.items() if expiry > now}
        expiry = self._seen.get(signature)
        if expiry is not None and expiry > now:
            return False
        self._seen[signature] = now + self.window
        return True


_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def build_slack_app(bot: SlackBot, signing_secret: str) -> web.Application:
    verifier = SignatureVerifier(signing_secret)
    replays = ReplayGuard()

    def verified(request: web.Request, body: bytes) -> bool:
        timestamp = request.headers.get("X-Slack-Request-Timestamp")
        signature = request.headers.get("X-Slack-Signature")
        # ASCII digits only, and few: "²".isdigit() is True and int() of 5,000 digits raises
        if not timestamp or not signature or not _TIMESTAMP.fullmatch(timestamp):
            return False
        if not verifier.is_valid(body, timestamp, signature):
            return False
        return replays.first_time(signature, time.time())

    async def commands(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if not verified(request, body):
            return _unauthorized()
        fields = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
        return web.json_response(bot.command(fields))

    async def interactions(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if not verified(request, body):
            return _unauthorized()
        form = parse_qs(body.decode("utf-8", "replace"))
        try:
            payload = json.loads(form["payload"][0])
        except (KeyError, IndexError, ValueError):
            return web.json_response({"error": "expected a form field named payload holding JSON"}, status=400)
        follow_up = bot.action(payload) if isinstance(payload, dict) else None
        if follow_up is not None:
            bot.schedule(follow_up)
        return web.Response(status=200)

    async def healthz(request: web.Request) -> web.StreamResponse:
        snapshot = bot.live.snapshot
        return web.json_response(
            {
                "ok": True,
                "articles": snapshot.articles,
                "loaded_at": snapshot.loaded_at,
                "text_index": snapshot.engine.prepared,
            }
        )

    async def start_watching(app: web.Application) -> None:
        app[WATCHER] = asyncio.create_task(bot.live.watch())

    async def stop(app: web.Application) -> None:
        app[WATCHER].cancel()
        await bot.close()

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post("/slack/commands", commands)
    app.router.add_post("/slack/interactions", interactions)
    app.router.add_get("/healthz", healthz)
    app.on_startup.append(start_watching)
    app.on_cleanup.append(stop)
    return app


def _unauthorized() -> web.Response:
    return web.json_response({"error": "invalid or missing Slack signature"}, status=401)


# --- Socket Mode ---------------------------------------------------------------------------------


def socket_mode_client(bot: SlackBot, app_token: str, web_client: AsyncWebClient | None = None) -> SocketModeClient:
    """A Socket Mode client whose every request is answered by `bot` (connect() it to start)."""
    client = SocketModeClient(app_token=app_token, web_client=web_client or AsyncWebClient())

    async def on_request(client: AsyncBaseSocketModeClient, request: SocketModeRequest) -> None:
        # acknowledge first and always: Slack retries unacknowledged envelopes
        if request.type == "slash_commands":
            answer = bot.command({k: str(v) for k, v in request.payload.items()})
            await client.send_socket_mode_response(SocketModeResponse(request.envelope_id, payload=answer))
            return
        await client.send_socket_mode_response(SocketModeResponse(request.envelope_id))
        if request.type == "interactive":
            follow_up = bot.action(request.payload)
            if follow_up is not None:
                await bot.deliver(follow_up)

    client.socket_mode_request_listeners.append(on_request)
    return client


def serve_http(bot: SlackBot, signing_secret: str, host: str, port: int) -> None:
    """`pprfeed slack serve`: run the endpoint until interrupted."""
    try:
        web.run_app(build_slack_app(bot, signing_secret), host=host, port=port, print=None, access_log=None)
    except OSError as exc:
        raise CannotListen(f"cannot listen on {host}:{port} ({exc.strerror})") from None


async def run_socket_mode(bot: SlackBot, app_token: str, web_client: AsyncWebClient | None = None) -> None:
    client = socket_mode_client(bot, app_token, web_client)
    watcher: asyncio.Task[None] | None = None
    try:
        # the first connection URL is asked for here, not inside connect(): the SDK retries every
        # failure there forever, so a refused token or an unreachable Slack would never end the command
        try:
            client.wss_uri = await client.issue_new_wss_url()
        except SlackApiError as exc:
            raise TokenRefused(str(exc.response.get("error"))) from None
        except (OSError, aiohttp.ClientError) as exc:
            raise ServiceUnreachable(str(exc)) from None
        watcher = asyncio.create_task(bot.live.watch())
        await client.connect()
        await asyncio.Event().wait()
    finally:
        if watcher is not None:
            watcher.cancel()
        await client.close()
        await bot.close()
