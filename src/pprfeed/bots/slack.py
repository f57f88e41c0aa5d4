"""The Slack `/ppr-topic` bot: one handler core, served over HTTP or Socket Mode.

`SlackBot` turns a slash command into the ephemeral answer, and a button click
into a follow-up for the click's `response_url` (the next page in place of the
old one, or the public copy when shared). It needs no bot token and no
`chat:write`: answers go back as command responses and through response_url.

- `build_slack_app`: aiohttp app with POST /slack/commands, POST
  /slack/interactions and GET /healthz. Every POST's signature is checked on
  the raw bytes before anything is decoded or parsed: a missing, wrong, stale
  (> 5 min) or replayed signature gets 401. Signed bodies are parsed within
  bounds (256 KB, 50 form fields, JSON 64 levels deep); past them, 400.
- `SlackEndpoint`: the app on a listening socket, each connection closed after
  one answer or 10 s, whichever comes first, and at most 512 open at once
  (a new one past that closes the oldest). `serve_http` runs it.
- `run_socket_mode`: the same core over slack_sdk's Socket Mode client (aiohttp flavour).
- With `SlackOAuth` (`[slack] client_id`), any workspace installs the app: GET /slack/install sends the browser
  to Slack's authorize page with a single-use state, GET /slack/oauth_redirect checks the state, exchanges the
  code (oauth.v2.access) and keeps the workspace's bot token in the state file; POST /slack/events (signed like
  the rest) forgets a workspace that uninstalled the app or revoked its token, and pauses its subscriptions.
  Commands from an installed workspace are answered with that workspace's own token.

Slack wants an answer within 3 seconds: the query runs in-process in about a
millisecond, and follow-ups are posted after the click has been acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import html
import json
import logging
import re
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qs

import aiohttp
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth import AuthorizeUrlGenerator
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from pprfeed.bots.errors import CannotListen, ServiceUnreachable, TokenRefused
from pprfeed.bots.live import LiveArchive, Snapshot
from pprfeed.chat import answers
from pprfeed.chat import slack as chat
from pprfeed.chat.answers import Action, TopicChoice, ask, choose_topics
from pprfeed.state import State, StateError, merged_topics
from pprfeed.text import plural

log = logging.getLogger(__name__)

SLACK_RESPONSE_URLS = ("https://hooks.slack.com/", "https://hooks.slack-gov.com/")
"""Follow-ups go only to Slack's own hooks, whatever a payload says."""
SIGNATURE_MAX_AGE = 5 * 60
MAX_BODY = 256 * 1024
REQUEST_DEADLINE = 10.0
"""Seconds a connection has for its request, headers and body, and its answer (one request a connection)."""
MAX_CONNECTIONS = 512
"""Open connections at most; a new one past it closes the oldest. The systemd unit allows 4,096 files."""
FD_RESERVE = 64
"""File descriptors kept free of connections: the content watcher, the parse cache, follow-ups to Slack."""
FOLLOW_UP_TIMEOUT = 10.0
WATCHER = web.AppKey("watcher", asyncio.Task)


@dataclass(frozen=True)
class FollowUp:
    """A message to POST to a click's response_url."""

    response_url: str
    body: dict[str, Any]


SUBSCRIBE_COMMAND = "/ppr"
"""The command with subcommands (`/ppr topic|subscribe|unsubscribe|subscriptions|help`)."""
INVITE_FIRST = ("not_in_channel", "channel_not_found")
"""chat.postMessage's answers for a private channel the app is not in: the person must invite it."""


@dataclass
class SlackBot:
    live: LiveArchive
    allowed_response_urls: Sequence[str] = SLACK_RESPONSE_URLS
    state: State | None = None
    """Where subscriptions are kept; None: `/ppr subscribe` says subscriptions are not set up."""
    web: AsyncWebClient | None = None
    """The bot token's client (chat:write, users:read): the public line a subscription posts, and who is admin."""
    subscribe_mode: str = "anyone"
    """[slack] subscribe: "anyone", or "admins" (workspace admins and owners only)."""
    per_workspace: bool = False
    """OAuth installs: each command is answered with its workspace's token from `state`, never `web`'s."""
    api_base_url: str = AsyncWebClient.BASE_URL
    """Where the per-workspace clients send their Web API calls."""
    _session: aiohttp.ClientSession | None = field(default=None, repr=False)
    _tasks: set[asyncio.Task[bool]] = field(default_factory=set, repr=False)

    # --- the core: payloads in, payloads out -------------------------------------------------

    async def command(self, fields: Mapping[str, str]) -> dict[str, Any]:
        """The response to `/ppr-topic <text>` or `/ppr <subcommand> …`: visible only to the person who asked."""
        text = slack_unescape(fields.get("text", ""))
        if fields.get("command") == SUBSCRIBE_COMMAND:
            word, _, rest = text.strip().partition(" ")
            word = word.lower()
            if word in ("", "help"):
                return _private(chat.command_help(SUBSCRIBE_COMMAND))
            if word == "subscribe":
                return _private(await self.subscribe(fields, rest))
            if word == "unsubscribe":
                return _private(await self.unsubscribe(fields, rest))
            if word == "subscriptions":
                return _private(self.subscriptions(fields))
            if word == "topic":
                text = rest
        snapshot = self.live.snapshot
        result = ask(snapshot.engine, text)
        return _private(chat.answer(result, 0, snapshot.context))

    # --- subscriptions -----------------------------------------------------------------------------

    def client(self, team_id: str) -> AsyncWebClient | None:
        """The Web API client for this workspace: its own installation's token, or the one bot token."""
        if not self.per_workspace:
            return self.web
        try:
            token = self.state.bot_token(team_id) if self.state is not None else None
        except StateError as exc:
            log.error("workspace %s: %s", team_id, exc)
            return None
        if token is None:
            return None
        return AsyncWebClient(token=token, base_url=self.api_base_url)

    def _ready(self, fields: Mapping[str, str]) -> tuple[AsyncWebClient | None, dict[str, Any] | None]:
        """The workspace's client, or the notice saying why subscriptions cannot be changed from here."""
        web = self.client(fields.get("team_id", "")) if self.state is not None else None
        if web is not None:
            return web, None
        if self.state is not None and self.per_workspace:
            return None, chat.notice(
                "PPRNet is not installed in this workspace any more: add it again from PPRNet's front door "
                "(Add to Slack), then subscribe."
            )
        return None, chat.notice(
            "Subscriptions are not set up here: the bot runs without a bot token (SLACK_BOT_TOKEN) or a "
            "[state] file. Ask whoever runs PPRNet's bot."
        )

    async def _refused(self, fields: Mapping[str, str], web: AsyncWebClient) -> dict[str, Any] | None:
        """A notice when this person may not change subscriptions ([slack] subscribe = "admins")."""
        if self.subscribe_mode != "admins":
            return None
        try:
            user = (await web.users_info(user=fields.get("user_id", ""))).get("user") or {}
        except SlackApiError as exc:
            log.warning("users.info failed: %s", exc.response.get("error"))
            return chat.notice("Could not check who you are with Slack (users.info); try again in a moment.")
        if user.get("is_admin") or user.get("is_owner"):
            return None
        return chat.notice("In this workspace only admins and owners may change the channel's PPRNet subscription.")

    async def _change_request(
        self, fields: Mapping[str, str], text: str
    ) -> tuple[AsyncWebClient, Snapshot, TopicChoice] | dict[str, Any]:
        """What /ppr subscribe and unsubscribe check first: subscriptions are set up, this user may change them,
        and every topic named resolves. The answer to give instead, or what the change needs."""
        web, unavailable = self._ready(fields)
        if unavailable is not None:
            return unavailable
        assert web is not None
        refused = await self._refused(fields, web)
        if refused is not None:
            return refused
        snapshot = self.live.snapshot
        choice = choose_topics(snapshot.engine, text)
        if choice.unknown:
            return chat.notice(f"{answers.unknown_line(choice)} Nothing changed.")
        return web, snapshot, choice

    async def subscribe(self, fields: Mapping[str, str], text: str) -> dict[str, Any]:
        request = await self._change_request(fields, text)
        if isinstance(request, dict):
            return request
        web, snapshot, choice = request
        assert self.state is not None
        channel, team = fields.get("channel_id", ""), fields.get("team_id", "")
        held = self.state.subscription("slack", channel)
        topics = merged_topics(held.topics if held else (), tuple(topic.slug for topic in choice.topics))
        names = snapshot.context.topic_names
        # the public line first: a private channel the app is not in cannot get the digest either
        try:
            await web.chat_postMessage(channel=channel, **chat.notice(answers.subscribed_public(topics, names)))
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            if error in INVITE_FIRST:
                return chat.notice(
                    "Invite @PPRNet first (`/invite @PPRNet` in this channel), then subscribe again: "
                    "the app can post only in channels it is in."
                )
            log.warning("could not post in %s: %s", channel, error)
            return chat.notice(f"Slack refused to let PPRNet post here ({error}); nothing changed.")
        self.state.subscribe("slack", team, channel, topics, fields.get("user_id", ""))
        return chat.notice(answers.subscribed_private(topics, names, f"{SUBSCRIBE_COMMAND} unsubscribe"))

    async def unsubscribe(self, fields: Mapping[str, str], text: str) -> dict[str, Any]:
        request = await self._change_request(fields, text)
        if isinstance(request, dict):
            return request
        _, snapshot, choice = request
        assert self.state is not None
        channel = fields.get("channel_id", "")
        if self.state.subscription("slack", channel) is None:
            return chat.notice(answers.not_subscribed(f"{SUBSCRIBE_COMMAND} subscribe"))
        left = self.state.unsubscribe("slack", channel, [topic.slug for topic in choice.topics])
        return chat.notice(
            answers.unsubscribed_private(
                left.topics if left else None, snapshot.context.topic_names, f"{SUBSCRIBE_COMMAND} subscribe"
            )
        )

    def subscriptions(self, fields: Mapping[str, str]) -> dict[str, Any]:
        if self.state is None:
            return self._ready(fields)[1] or {}
        names = self.live.snapshot.context.topic_names
        channel = fields.get("channel_id", "")
        here = self.state.subscription("slack", channel)
        lines = [
            chat.channel_line(
                s.channel, answers.topic_names_line(s.topics, names), s.since, answers.subscription_state(s.paused)
            )
            for s in self.state.subscriptions("slack", workspace=fields.get("team_id", ""))
        ]
        summary = None
        if here is not None:
            summary = f"{answers.topic_names_line(here.topics, names)} ({answers.subscription_state(here.paused)})"
        return chat.subscriptions_list(summary, lines, SUBSCRIBE_COMMAND)

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
            # shared: a public copy beside the answer; else the page asked for, in the answer's place
            shared = state.action is Action.SHARE
            message = chat.answer(result, state.page, snapshot.context, shared=shared)
            body = {"response_type": "in_channel" if shared else "ephemeral", "replace_original": not shared}
            return FollowUp(response_url, {**body, **message})
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
        except (TimeoutError, aiohttp.ClientError) as exc:
            log.warning("could not send a follow-up to Slack: %s", exc)
            return False

    async def close(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()


def _private(message: dict[str, Any]) -> dict[str, Any]:
    return {"response_type": "ephemeral", **message}


def slack_unescape(text: str) -> str:
    """The text as typed: Slack sends `&`, `<` and `>` as entities; `&amp;` last, so `&amp;lt;` stays `&lt;`.

    Decoded text is only ever searched and echoed re-escaped, so nothing typed can become markup.
    """
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# --- HTTP endpoint -------------------------------------------------------------------------------

MAX_FORM_FIELDS = 50
"""A slash command has about a dozen form fields and an interaction one: more is not Slack."""
MAX_JSON_DEPTH = 64
"""An interaction payload nests about ten levels deep; 5,000 would exhaust the JSON decoder's stack."""


class Tally:
    """Counts one kind of refusal and logs it at most once a minute, so that nobody can fill the log.

    `message` has one `%s`, the count with its noun (`plural`).
    """

    def __init__(self, message: str, noun: str, every: float = 60.0) -> None:
        self.message, self.noun, self.every = message, noun, every
        self.total = 0
        self._unlogged = 0
        self._next_line = 0.0

    def add(self) -> None:
        self.total += 1
        self._unlogged += 1
        now = time.monotonic()
        if now >= self._next_line:
            log.warning(self.message, plural(self._unlogged, self.noun))
            self._unlogged = 0
            self._next_line = now + self.every


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


def slack_signature_valid(secret: bytes, body: bytes, timestamp: str | None, signature: str | None, now: float) -> bool:
    """Slack's v0 signature of the raw bytes, checked before anything is decoded or parsed.

    slack_sdk's SignatureVerifier is not used: it decodes the body as UTF-8 first (a 500 for any other
    bytes) and compares with hmac.compare_digest on str (a TypeError for a non-ASCII signature).
    """
    # ASCII digits only, and few: "²".isdigit() is True and int() of 5,000 digits raises
    if not timestamp or not signature or not _TIMESTAMP.fullmatch(timestamp) or not signature.isascii():
        return False
    if abs(now - int(timestamp)) > SIGNATURE_MAX_AGE:
        return False
    digest = hmac.new(secret, b"v0:" + timestamp.encode("ascii") + b":" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"v0={digest}".encode("ascii"), signature.encode("ascii"))


def form_fields(body: bytes) -> dict[str, str] | None:
    """The first value of each field of an urlencoded body; None for more fields than Slack ever sends."""
    try:
        form = parse_qs(body.decode("utf-8", "replace"), max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        return None
    return {key: values[0] for key, values in form.items()}


_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)
"""A string (its closing quote optional, so that an unterminated one ends the scan in linear time) or a bracket."""


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects in `text` nest deeper than `limit` (brackets inside strings do not count).

    One pass, linear in the length of `text` whatever it holds; run before json.loads, whose C decoder
    recurses once a level.
    """
    depth = 0
    for token in _JSON_TOKEN.finditer(text):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
            if depth > limit:
                return True
        elif bracket in ("]", "}"):
            depth -= 1
    return False


def parse_json(text: str | None, expected: str) -> Any:
    """`text` as JSON; ValueError saying `expected` when it is missing or not JSON, or that it nests too deeply."""
    if text is None:
        raise ValueError(expected)
    if json_too_deep(text):
        raise ValueError(f"the payload nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text)
    except RecursionError:  # not reached after json_too_deep; kept so that no payload can ever be a 500
        raise ValueError(f"the payload nests deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError:
        raise ValueError(expected) from None


# --- OAuth v2: installing into any workspace ---------------------------------------------------------

INSTALL_SCOPES = ("commands", "chat:write", "users:read", "channels:history", "groups:history")
"""The bot scopes an install asks for, the same as bots/slack/manifest.yml's (what each is for is said there)."""
OAUTH_TIMEOUT = 5
"""Seconds for oauth.v2.access: the person is waiting in their browser."""


@dataclass(frozen=True)
class SlackOAuth:
    """The app's OAuth credentials ([slack] client_id, the secret named by client_secret_env, redirect_uri)."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str | None = None
    scopes: tuple[str, ...] = INSTALL_SCOPES
    authorize_url: str = "https://slack.com/oauth/v2/authorize"
    api_base_url: str = AsyncWebClient.BASE_URL


def _page(status: int, title: str, text: str) -> web.Response:
    """A short HTML page for the person in the browser (every value escaped)."""
    body = (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></html>"
    )
    return web.Response(status=status, text=body, content_type="text/html")


def oauth_routes(app: web.Application, bot: SlackBot, oauth: SlackOAuth) -> None:
    """GET /slack/install and GET /slack/oauth_redirect on `app`; installations go to `bot.state`."""
    state_file = bot.state
    if state_file is None:
        raise ValueError("installing into workspaces needs the [state] file")
    authorize = AuthorizeUrlGenerator(
        client_id=oauth.client_id,
        redirect_uri=oauth.redirect_uri,
        scopes=list(oauth.scopes),
        authorization_url=oauth.authorize_url,
    )

    async def install(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(authorize.generate(state_file.issue_state()))

    async def oauth_redirect(request: web.Request) -> web.StreamResponse:
        again = "Start again from PPRNet's front door (Add to Slack)."
        if request.query.get("error"):
            return _page(200, "Not installed", f"The installation was cancelled in Slack. {again}")
        state, code = request.query.get("state", ""), request.query.get("code", "")
        # consumed before anything else: a state is spent by its first use, whatever happens next
        if not state or not state_file.consume_state(state):
            return _page(400, "This install link is not valid", f"It has expired or was already used. {again}")
        if not code:
            return _page(400, "Not installed", f"Slack sent no authorization code. {again}")
        client = AsyncWebClient(timeout=OAUTH_TIMEOUT, base_url=oauth.api_base_url)
        try:
            answer = await client.oauth_v2_access(
                client_id=oauth.client_id,
                client_secret=oauth.client_secret,
                code=code,
                **({"redirect_uri": oauth.redirect_uri} if oauth.redirect_uri else {}),
            )
        except SlackApiError as exc:
            log.warning("oauth.v2.access refused the code: %s", exc.response.get("error"))
            return _page(400, "Not installed", f"Slack refused the installation ({exc.response.get('error')}). {again}")
        except (TimeoutError, aiohttp.ClientError):
            log.warning("oauth.v2.access: Slack could not be reached")
            return _page(502, "Not installed", f"Slack could not be reached. {again}")
        team = answer.get("team") or {}
        team_id, token = team.get("id"), answer.get("access_token")
        if not team_id or not token:
            return _page(400, "Not installed", f"Slack's answer named no workspace or bot token. {again}")
        state_file.save_installation(team_id, token, team.get("name") or "", answer.get("bot_user_id") or "")
        log.info("installed in workspace %s", team_id)
        return _page(
            200,
            "PPRNet is installed",
            f"PPRNet is now in {team.get('name') or 'your workspace'}. In a channel, invite @PPRNet and type "
            "/ppr subscribe to get the digest there.",
        )

    app.router.add_get("/slack/install", install)
    app.router.add_get("/slack/oauth_redirect", oauth_redirect)


def workspace_event(bot: SlackBot, payload: Any) -> dict[str, Any] | None:
    """The answer to an Events API request: url_verification's challenge; an uninstall forgets the workspace."""
    if not isinstance(payload, dict):
        return None
    if payload.get("type") == "url_verification":
        return {"challenge": str(payload.get("challenge", ""))}
    event = payload.get("event")
    if payload.get("type") != "event_callback" or not isinstance(event, dict):
        return None
    team_id = str(payload.get("team_id", ""))
    kind = event.get("type")
    if kind == "tokens_revoked":
        tokens = event.get("tokens")
        # only the bot token matters here: user tokens revoked alone leave the app working
        if not isinstance(tokens, dict) or not tokens.get("bot"):
            return None
    elif kind != "app_uninstalled":
        return None
    if bot.state is not None and team_id:
        bot.state.delete_installation(team_id)
        log.info("workspace %s: %s; its installation is deleted and its subscriptions paused", team_id, kind)
    return None


def build_slack_app(bot: SlackBot, signing_secret: str, oauth: SlackOAuth | None = None) -> web.Application:
    secret = signing_secret.encode("utf-8")
    replays = ReplayGuard()
    unsigned = Tally(
        "refused %s without a valid Slack signature (HTTP 401; if Slack's, check SLACK_SIGNING_SECRET; "
        "counted since the last such line, one a minute at most)",
        "request",
    )

    async def signed_body(request: web.Request) -> bytes:
        """The raw body, once its signature is checked: 401 for a missing, wrong, stale or replayed one."""
        body = await _read_body(request)
        timestamp = request.headers.get("X-Slack-Request-Timestamp")
        signature = request.headers.get("X-Slack-Signature")
        now = time.time()
        if slack_signature_valid(secret, body, timestamp, signature, now) and replays.first_time(str(signature), now):
            return body
        unsigned.add()
        raise web.HTTPUnauthorized(
            text=json.dumps({"error": "invalid or missing Slack signature"}), content_type="application/json"
        )

    async def commands(request: web.Request) -> web.StreamResponse:
        body = await signed_body(request)
        fields = form_fields(body)
        if fields is None:
            return _bad_request("a slash command", f"more than {MAX_FORM_FIELDS} form fields")
        return web.json_response(await bot.command(fields))

    async def interactions(request: web.Request) -> web.StreamResponse:
        body = await signed_body(request)
        fields = form_fields(body)
        if fields is None:
            return _bad_request("an interaction", f"more than {MAX_FORM_FIELDS} form fields")
        try:
            payload = parse_json(fields.get("payload"), "expected a form field named payload holding JSON")
        except ValueError as exc:
            return _bad_request("an interaction", str(exc))
        follow_up = bot.action(payload) if isinstance(payload, dict) else None
        if follow_up is not None:
            bot.schedule(follow_up)
        return web.Response(status=200)

    async def events(request: web.Request) -> web.StreamResponse:
        body = await signed_body(request)
        try:
            payload = parse_json(body.decode("utf-8", "replace"), "expected a JSON body")
        except ValueError as exc:
            return _bad_request("an event", str(exc))
        return web.json_response(workspace_event(bot, payload) or {})

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

    async def one_request_per_connection(request: web.Request, response: web.StreamResponse) -> None:
        # every connection is closed after its answer, so a connection's deadline is its request's;
        # the headers are made before this hook runs, hence the explicit Connection: close
        response.force_close()
        response.headers[aiohttp.hdrs.CONNECTION] = "close"

    async def start_watching(app: web.Application) -> None:
        app[WATCHER] = asyncio.create_task(bot.live.watch())

    async def stop(app: web.Application) -> None:
        app[WATCHER].cancel()
        await bot.close()

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post("/slack/commands", commands)
    app.router.add_post("/slack/interactions", interactions)
    app.router.add_post("/slack/events", events)
    if oauth is not None:
        oauth_routes(app, bot, oauth)
    app.router.add_get("/healthz", healthz)
    app.on_response_prepare.append(one_request_per_connection)
    app.on_startup.append(start_watching)
    app.on_cleanup.append(stop)
    return app


async def _read_body(request: web.Request) -> bytes:
    """The raw body, as sent: a body that breaks HTTP's framing (a bad chunk) is a 400 without a traceback.

    Bodies larger than MAX_BODY are a 413 (raised by aiohttp). Content-Encoding is not undone
    (SlackEndpoint turns aiohttp's auto_decompress off): Slack signs and sends plain bytes.
    """
    try:
        return await request.read()
    except (web.RequestPayloadError, HttpProcessingError):
        raise web.HTTPBadRequest(text="malformed request body") from None


def _bad_request(what: str, problem: str) -> web.Response:
    # signed, so from Slack or from someone holding the secret: worth one short line each
    log.warning("refused %s signed with the signing secret: %s (HTTP 400)", what, problem)
    return web.json_response({"error": problem}, status=400)


# --- the listening socket: deadlines and a cap on connections ------------------------------------


def connection_cap(wanted: int = MAX_CONNECTIONS, reserve: int = FD_RESERVE) -> int:
    """`wanted`, or fewer when the process may not open that many files and still have `reserve` left.

    Past the descriptor limit accept() fails, asyncio logs a traceback for every attempt, and nothing
    is answered; below it the oldest connection is closed instead (see ConnectionGuard).
    """
    try:
        import resource
    except ImportError:  # not on Unix
        return wanted
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - reserve))


class ConnectionGuard:
    """A protocol factory that wraps aiohttp's and bounds what a client can hold.

    - Deadline: a connection is closed `deadline` seconds after it was opened, whatever it is doing
      (sending headers or a body a byte at a time, not reading the answer, idle). The app answers
      `Connection: close`, so this is a deadline for the whole request; Slack's requests take milliseconds.
    - Cap: with `max_connections` open, a new one closes the oldest. A slow client is always the oldest,
      so a burst of them cannot lock out a fresh request, and the descriptors never run out.

    aiohttp has neither: its keep-alive timer closes a connection stuck in its headers only after the
    keep-alive timeout (75 s under run_app), nothing bounds the body read, and nothing counts connections.
    """

    def __init__(self, factory: Callable[[], asyncio.Protocol], deadline: float, max_connections: int) -> None:
        self.factory, self.deadline, self.max_connections = factory, deadline, max_connections
        self.open: dict[GuardedConnection, None] = {}
        """The open connections, oldest first."""
        self.timed_out = Tally(
            f"closed %s not done within {deadline:g} s of opening "
            "(slow or stalled clients; counted since the last such line, one a minute at most)",
            "connection",
        )
        self.evicted = Tally(
            f"closed %s, the oldest of {max_connections} open at once, to make room for new ones "
            "(counted since the last such line, one a minute at most)",
            "connection",
        )

    def __call__(self) -> GuardedConnection:
        return GuardedConnection(self, self.factory())

    def opened(self, connection: GuardedConnection) -> None:
        while len(self.open) >= self.max_connections:
            oldest = next(iter(self.open))
            self.evicted.add()
            oldest.close_now()
        self.open[connection] = None

    def closed(self, connection: GuardedConnection) -> None:
        self.open.pop(connection, None)


class GuardedConnection(asyncio.Protocol):
    """aiohttp's protocol for one connection, with a deadline; every event is passed on to it."""

    def __init__(self, guard: ConnectionGuard, inner: asyncio.Protocol) -> None:
        self.guard, self.inner = guard, inner
        self.transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.guard.opened(self)
        self._timer = asyncio.get_running_loop().call_later(self.guard.deadline, self._expire)
        self.inner.connection_made(transport)

    def _expire(self) -> None:
        self._timer = None
        self.guard.timed_out.add()
        self.close_now()

    def close_now(self) -> None:
        """Drop the connection at once: abort(), since close() would wait for a client that does not read."""
        self.guard.closed(self)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.closed(self)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.transport = None
        self.inner.connection_lost(exc)


class HttpErrorLog(logging.LoggerAdapter):
    """aiohttp's server log, less one traceback per malformed request.

    aiohttp answers a request it cannot parse (two Content-Lengths, a bad chunk, a path that is not
    UTF-8, …) with 400 and logs it at ERROR with a traceback: half a kilobyte of log per request
    for anyone. Those are counted in `tally` instead; everything else is passed on as it is.
    """

    def __init__(self, tally: Tally) -> None:
        super().__init__(logging.getLogger(f"{__name__}.http"), {})
        self.tally = tally

    def log(self, level: int, msg: object, *args: object, exc_info: Any = None, **kwargs: Any) -> None:
        error = exc_info[1] if isinstance(exc_info, tuple) else exc_info
        if error is True:
            error = sys.exc_info()[1]
        if level >= logging.WARNING and isinstance(error, HttpProcessingError):
            self.tally.add()
            return
        super().log(level, msg, *args, exc_info=exc_info, **kwargs)


class SlackEndpoint:
    """`pprfeed slack serve`'s server: the app on a listening socket behind a ConnectionGuard.

    `async with SlackEndpoint(app, host, port) as endpoint:` serves until the block ends; `endpoint.url`
    is its base URL (port 0 picks a free port). The app's startup and cleanup hooks run as with run_app.
    """

    def __init__(
        self,
        app: web.Application,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        deadline: float = REQUEST_DEADLINE,
        max_connections: int | None = None,
    ) -> None:
        self.app, self.host, self.port = app, host, port
        self.deadline = deadline
        self.max_connections = connection_cap() if max_connections is None else max_connections
        self.malformed = Tally(
            "answered %s with 400: not valid HTTP (counted since the last such line, one a minute at most)",
            "request",
        )
        self._runner = web.AppRunner(
            app,
            access_log=None,
            # a connection closed mid-body cancels its handler quietly, where aiohttp would otherwise log
            # the read's ConnectionResetError as "Error handling request" with a traceback
            handler_cancellation=True,
            # Slack never compresses; inflating attacker-chosen gzip only risks errors and memory
            auto_decompress=False,
            logger=HttpErrorLog(self.malformed),
            keepalive_timeout=deadline,
            shutdown_timeout=1.0,
        )
        self._server: asyncio.Server | None = None
        self.guard: ConnectionGuard | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "the endpoint is not running"
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    async def start(self) -> None:
        await self._runner.setup()
        server = self._runner.server
        assert server is not None
        self.guard = ConnectionGuard(server, self.deadline, self.max_connections)
        try:
            self._server = await asyncio.get_running_loop().create_server(self.guard, self.host, self.port)
        except OSError as exc:
            await self._runner.cleanup()
            raise CannotListen(f"cannot listen on {self.host}:{self.port} ({exc.strerror})") from None

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()  # no new connections
        await self._runner.cleanup()  # answers what is being handled (1 s at most), closes the rest
        for connection in list(self.guard.open if self.guard is not None else ()):
            connection.close_now()
        if server is not None:
            await server.wait_closed()  # on Python 3.12 and later, until every connection has gone

    async def __aenter__(self) -> SlackEndpoint:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


# --- Socket Mode ---------------------------------------------------------------------------------


def socket_mode_client(bot: SlackBot, app_token: str, web_client: AsyncWebClient | None = None) -> SocketModeClient:
    """A Socket Mode client whose every request is answered by `bot` (connect() it to start)."""
    client = SocketModeClient(app_token=app_token, web_client=web_client or AsyncWebClient())

    async def on_request(client: AsyncBaseSocketModeClient, request: SocketModeRequest) -> None:
        # acknowledge first and always: Slack retries unacknowledged envelopes
        if request.type == "slash_commands":
            answer = await bot.command({k: str(v) for k, v in request.payload.items()})
            await client.send_socket_mode_response(SocketModeResponse(request.envelope_id, payload=answer))
            return
        await client.send_socket_mode_response(SocketModeResponse(request.envelope_id))
        if request.type == "events_api":
            workspace_event(bot, request.payload)
        if request.type == "interactive":
            follow_up = bot.action(request.payload)
            if follow_up is not None:
                await bot.deliver(follow_up)

    client.socket_mode_request_listeners.append(on_request)
    return client


def web_client(token: str, base_url: str) -> AsyncWebClient:
    """The Web API client the bot posts and looks people up with (subscriptions), for this workspace's token."""
    return AsyncWebClient(token=token, base_url=base_url)


def serve_http(bot: SlackBot, signing_secret: str, host: str, port: int, oauth: SlackOAuth | None = None) -> None:
    """`pprfeed slack serve`: run the endpoint until SIGINT or SIGTERM."""
    asyncio.run(_serve_until_stopped(SlackEndpoint(build_slack_app(bot, signing_secret, oauth), host, port)))


async def _serve_until_stopped(endpoint: SlackEndpoint) -> None:
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows; not the main thread
            loop.add_signal_handler(signum, stopped.set)
    async with endpoint:
        await stopped.wait()


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
