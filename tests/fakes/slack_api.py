"""A fake Slack: the Web API, incoming webhooks, response_urls and Socket Mode, on one local server.

- Web API under /api/: chat.postMessage (threads too), chat.update, conversations.history and .replies,
  auth.test (bot token), users.info (the `users` given),
  oauth.v2.access (client id and secret, a code from `authorize`, once) handing out a workspace's own bot token,
  apps.connections.open (app-level token) handing out the Socket Mode websocket at /link.
- Incoming webhooks at /services/T000/B000/<name> (`webhook_url`).
- response_urls at /hooks/…: what a bot POSTs there arrives in `response_urls`.

It checks what real Slack checks that matters here: the tokens, the channel,
Block Kit limits, and block text past `max_block_text` (msg_blocks_too_long).
With `rate_limit_per_channel`, chat.postMessage keeps Slack's posting limit (about one message per second
per channel): a post sooner than that after the channel's last is answered 429 with Retry-After, as Slack
answers, and counted in `rate_limited`. Off by default.
Every request is recorded; `messages` holds what each channel shows (thread
replies too, with their `thread_ts`). `signed_headers` signs a request the way Slack signs what it
sends to an app.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
import time
from typing import Any

from aiohttp import WSMsgType, web

from .server import BODY, FakeServer, Inbox

TOKEN = "xoxb-fake-token-0123456789"
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "fake-client-secret-abcdef"
MAX_BLOCK_TEXT = 11_300
"""Where real Slack starts refusing block text with msg_blocks_too_long, at the lowest reported (it is not
documented: slackapi/bolt-js#2867, #2509)."""


class FakeSlack(FakeServer):
    def __init__(
        self,
        channels: list[str] | tuple[str, ...] = (),
        latency: float = 0.0,
        token: str = TOKEN,
        rate_limit_per_channel: float | None = None,
    ) -> None:
        super().__init__(latency)
        self.token = token
        self.rate_limit_per_channel = rate_limit_per_channel
        """Posts per second one channel accepts; None: no limit."""
        self.rate_limited = 0
        """How many requests were answered 429."""
        self._last_post: dict[str, float] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {channel: [] for channel in channels}
        self.channel_errors: dict[str, str] = {}
        """channel -> Slack error code every call about it answers (not_in_channel, is_archived, …)."""
        self.method_errors: dict[str, str] = {}
        """API method -> error code (e.g. "chat.postMessage": "missing_scope")."""
        self.webhooks: dict[str, list[dict[str, Any]]] = {}
        self.webhook_status: dict[str, tuple[int, str]] = {}
        self.response_urls: Inbox[dict[str, Any]] = Inbox()
        """Each POST to /hooks/…, as {"path", "json"}."""
        self.socket_mode = SocketMode(self)
        self.max_block_text = MAX_BLOCK_TEXT
        """Characters of block text beyond which a post is refused with msg_blocks_too_long."""
        self.users: dict[str, dict[str, Any]] = {}
        """user id -> the user object users.info answers (is_admin, is_owner, …)."""
        self.client_id, self.client_secret = CLIENT_ID, CLIENT_SECRET
        self.team_tokens: dict[str, str] = {}
        """bot token -> the workspace (team id) it was issued for by oauth.v2.access; each is accepted too."""
        self._codes: dict[str, tuple[str, str]] = {}
        self._ts = 0

    @property
    def base_url(self) -> str:
        """The Web API base, as slack_sdk's `base_url` wants it."""
        return f"{self.root}/api/"

    def webhook_url(self, name: str) -> str:
        self.webhooks.setdefault(name, [])
        return f"{self.root}/services/T000/B000/{name}"

    def authorize(self, team_id: str, team_name: str = "") -> str:
        """A person in `team_id` clicked Allow: the one-time code Slack puts in the redirect."""
        code = f"code-{team_id}-{len(self._codes)}"
        self._codes[code] = (team_id, team_name or f"Clinic {team_id}")
        return code

    def posts(self, method: str = "chat.postMessage") -> list[Any]:
        return [r for r in self.requests if r.path == f"/api/{method}"]

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # slack_sdk reads conversations.history with GET
        app.router.add_post("/services/T000/B000/{name}", self._webhook)
        app.router.add_post("/hooks/{rest:.*}", self._response_url)
        app.router.add_get("/link", self.socket_mode.link)

    def _next_ts(self) -> str:
        with self.lock:
            self._ts += 1
            return f"{int(time.time())}.{self._ts:06d}"

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        body = {**request.query, **(request[BODY] if isinstance(request[BODY], dict) else {})}
        if method == "apps.connections.open":  # the one method that takes the app-level token
            return self.socket_mode.open(request)
        if method == "oauth.v2.access":
            return self._oauth_access(request, body)
        authorization = request.headers.get("Authorization", "")
        if authorization != f"Bearer {self.token}" and authorization.removeprefix("Bearer ") not in self.team_tokens:
            return _error("invalid_auth")
        if method in self.method_errors:
            return _error(self.method_errors[method], needed="chat:write")
        if method == "auth.test":
            return web.json_response({"ok": True, "user_id": "UBOT", "team_id": "T000"})
        if method == "users.info":
            user = self.users.get(str(body.get("user", "")))
            return web.json_response({"ok": True, "user": user}) if user else _error("user_not_found")
        channel = str(body.get("channel", ""))
        if channel not in self.messages:
            return _error("channel_not_found")
        if channel in self.channel_errors:
            return _error(self.channel_errors[channel])
        if method == "chat.postMessage":
            wait = self._posting_wait(channel)
            if wait:
                return _rate_limited(wait)
            return self._post(channel, body)
        if method == "chat.update":
            for message in self.messages[channel]:
                if message["ts"] == body.get("ts"):
                    message.update(text=body.get("text"), blocks=_json(body.get("blocks")), edited=True)
                    return web.json_response({"ok": True, "channel": channel, "ts": message["ts"]})
            return _error("message_not_found")
        if method == "conversations.history":
            return self._history(channel, body)
        if method == "conversations.replies":
            return self._history(channel, body, thread=str(body.get("ts", "")))
        return _error("unknown_method")

    def _oauth_access(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        """The client's credentials come as HTTP Basic (slack_sdk's way) or as form fields; each code works once."""
        client_id, client_secret = str(body.get("client_id", "")), str(body.get("client_secret", ""))
        basic = request.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
        if (client_id, client_secret) != (self.client_id, self.client_secret):
            return _error("invalid_client_id" if client_id != self.client_id else "bad_client_secret")
        with self.lock:
            granted = self._codes.pop(str(body.get("code", "")), None)
        if granted is None:
            return _error("invalid_code")
        team_id, team_name = granted
        token = f"xoxb-{team_id}-{secrets.token_hex(8)}"
        self.team_tokens[token] = team_id
        return web.json_response(
            {
                "ok": True,
                "access_token": token,
                "token_type": "bot",
                "scope": "commands,chat:write,users:read,channels:history,groups:history",
                "bot_user_id": f"UBOT{team_id}",
                "app_id": "A0PPRNET",
                "team": {"id": team_id, "name": team_name},
                "enterprise": None,
                "is_enterprise_install": False,
                "authed_user": {"id": "U1"},
            }
        )

    def _posting_wait(self, channel: str) -> float:
        """Seconds until `channel` accepts another post (0: now, and this post counts)."""
        if self.rate_limit_per_channel is None:
            return 0.0
        now = time.monotonic()
        with self.lock:
            wait = self._last_post.get(channel, -math.inf) + 1 / self.rate_limit_per_channel - now
            if wait > 0:
                self.rate_limited += 1
                return wait
            self._last_post[channel] = now
        return 0.0

    def _post(self, channel: str, body: dict[str, Any]) -> web.Response:
        blocks = _json(body.get("blocks")) or []
        problem = block_problem(blocks)
        if problem:
            return _error("invalid_blocks", detail=problem)
        if block_text(blocks) > self.max_block_text:
            return _error("msg_blocks_too_long")
        if len(str(body.get("text", ""))) > 40_000:
            return _error("msg_too_long")
        thread = body.get("thread_ts")
        if thread is not None and not any(m["ts"] == thread for m in self.messages[channel]):
            return _error("thread_not_found")
        message = {
            "type": "message",
            "ts": self._next_ts(),
            "text": body.get("text", ""),
            "blocks": blocks,
            "metadata": _json(body.get("metadata")),
            "unfurl_links": body.get("unfurl_links"),
            "unfurl_media": body.get("unfurl_media"),
            "bot_id": "B000",
            **({"thread_ts": thread} if thread is not None else {}),
        }
        with self.lock:
            self.messages[channel].append(message)
        return web.json_response({"ok": True, "channel": channel, "ts": message["ts"], "message": message})

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """The replies in the thread of message `ts`, oldest first."""
        return [m for m in self.messages[channel] if m.get("thread_ts") == ts]

    def _history(self, channel: str, body: dict[str, Any], thread: str | None = None) -> web.Response:
        """conversations.history (the channel, without thread replies) or, with `thread`, conversations.replies
        (the parent and its replies)."""
        oldest = float(body.get("oldest") or 0)
        limit = int(body.get("limit") or 100)
        start = int(body.get("cursor") or 0)
        with_metadata = str(body.get("include_all_metadata", "")).lower() in ("1", "true")
        if thread is None:
            shown_here = [m for m in self.messages[channel] if "thread_ts" not in m]
        else:
            shown_here = [m for m in self.messages[channel] if thread in (m["ts"], m.get("thread_ts"))]
            if not shown_here:
                return _error("thread_not_found")
        newest_first = [m for m in reversed(shown_here) if float(m["ts"]) > oldest]
        page = newest_first[start : start + limit]
        shown = [{k: v for k, v in m.items() if with_metadata or k != "metadata"} for m in page]
        more = start + limit < len(newest_first)
        return web.json_response(
            {
                "ok": True,
                "messages": shown,
                "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""},
            }
        )

    async def _webhook(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.webhooks:
            return web.Response(status=404, text="no_service")
        if name in self.webhook_status:
            status, text = self.webhook_status[name]
            return web.Response(status=status, text=text)
        body = request[BODY] if isinstance(request[BODY], dict) else {}
        problem = block_problem(body.get("blocks") or [])
        if problem:
            return web.Response(status=400, text="invalid_blocks")
        if block_text(body.get("blocks") or []) > self.max_block_text:
            return web.Response(status=400, text="msg_blocks_too_long")
        with self.lock:
            self.webhooks[name].append(body)
        return web.Response(text="ok")

    async def _response_url(self, request: web.Request) -> web.Response:
        body = request[BODY]
        self.response_urls.put({"path": request.path, "json": body})
        if isinstance(body, dict) and block_problem(body.get("blocks") or []):
            return web.Response(status=400, text="invalid_blocks")
        return web.Response(text="ok")


class SocketMode:
    """`apps.connections.open` and the websocket it hands out.

    Tests `push` envelopes as Slack would; the client's acknowledgements arrive in `acks`.
    """

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.tokens: list[str] = []
        """The Authorization header of every apps.connections.open."""
        self.acks: Inbox[dict[str, Any]] = Inbox()
        self.connections: Inbox[web.WebSocketResponse] = Inbox()
        self._socket: web.WebSocketResponse | None = None

    def open(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "")
        self.tokens.append(token)
        if not token.startswith("Bearer xapp-"):
            return _error("not_allowed_token_type")
        return web.json_response({"ok": True, "url": self.server.root.replace("http://", "ws://") + "/link"})

    async def link(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._socket = socket
        await socket.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}})
        self.connections.put(socket)
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                self.acks.put(json.loads(message.data))
        return socket

    async def wait_connected(self, timeout: float = 10.0) -> None:
        await self.connections.next(timeout)

    async def push(self, envelope: dict[str, Any]) -> None:
        assert self._socket is not None, "no Socket Mode client is connected"
        await self.server.on_server_loop(self._socket.send_json(envelope))

    async def next_ack(self, timeout: float = 10.0) -> dict[str, Any]:
        return await self.acks.next(timeout)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value


def _rate_limited(wait: float) -> web.Response:
    """Slack's 429: whole seconds in Retry-After."""
    headers = {"Retry-After": str(math.ceil(wait))}
    return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers=headers)


def _error(code: str, **extra: Any) -> web.Response:
    return web.json_response({"ok": False, "error": code, **extra}, status=200)


def block_problem(blocks: list[dict[str, Any]]) -> str | None:
    """What real Slack would reject with invalid_blocks (the limits pprfeed must respect)."""
    if len(blocks) > 50:
        return "more than 50 blocks"
    for block in blocks:
        text = block.get("text", {}).get("text", "")
        if block["type"] == "header" and len(text) > 150:
            return "header longer than 150"
        if block["type"] == "section" and len(text) > 3000:
            return "section longer than 3000"
    return None


def block_text(value: Any) -> int:
    """Characters of text in blocks, as Slack counts them towards msg_blocks_too_long."""
    if isinstance(value, dict):
        return sum(len(v) if k == "text" and isinstance(v, str) else block_text(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(block_text(item) for item in value)
    return 0


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Exactly what Slack sends in X-Slack-Signature: v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}")."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, body: bytes, timestamp: int | None = None, content_type: str = "application/x-www-form-urlencoded"
) -> dict[str, str]:
    """The headers of a slash command or interaction (or, with application/json, an event) Slack sends to an app."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": slack_signature(secret, stamp, body),
        "Content-Type": content_type,
    }
