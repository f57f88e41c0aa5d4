"""A fake Discord REST API (v10), and the gateway's interaction payloads for driving a bot.

Routes: /users/@me and /oauth2/applications/@me (login), bot messages (send,
edit, list), webhooks (execute, edit), interaction callbacks, and application
command registration (global and per server).

It checks the bot token, channel access, message limits, `allowed_mentions`
and honours `enforce_nonce` like Discord: a repeated nonce returns the first
message instead of creating another. Listing messages omits the nonce, as
Discord does. An interaction is answered once; callbacks are authorised by
the interaction token in the path, not the bot token. Every request is recorded.

With `global_rate_limit`, the channel routes keep Discord's global limit (that many requests per second per
bot): one more within the second is answered 429 with `global: true` and Retry-After, as Discord answers, and
counted in `rate_limited`. Off by default.

`slash_command`, `autocomplete` and `button_click` build INTERACTION_CREATE
payloads as the gateway delivers them; `discord_py_at` points discord.py there.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import discord
from aiohttp import web

from .server import BODY, FakeServer, Inbox

TOKEN = "fake-discord-bot-token.0123456789"
BOT_ID = "900000000000000001"
APP_ID = "1000000000000000002"
OWNER_ID = "1000000000000000003"
DISCORD_EPOCH = 1420070400000
WEBHOOK_TOKEN = "w" * 68
EPHEMERAL = 64

ChannelHandler = Callable[[web.Request, str], Awaitable[web.Response]]


class FakeDiscord(FakeServer):
    def __init__(
        self,
        channels: list[str] | tuple[str, ...] = (),
        latency: float = 0.0,
        token: str = TOKEN,
        global_rate_limit: int | None = None,
    ) -> None:
        super().__init__(latency)
        self.token = token
        """The one bot token this Discord accepts; any other gets 401, at login too."""
        self.global_rate_limit = global_rate_limit
        """Requests per second the bot may make on the channel routes; None: no limit."""
        self.rate_limited = 0
        """How many requests were answered 429."""
        self._accepted: deque[float] = deque()
        """When each request of the last second was accepted (global_rate_limit)."""
        self.messages: dict[str, list[dict[str, Any]]] = {channel: [] for channel in channels}
        self.channel_errors: dict[str, tuple[int, int]] = {}
        """channel -> (HTTP status, Discord error code) every call about it answers (403/50001, 403/50013, …)."""
        self.webhooks: dict[str, str] = {}
        """webhook id -> the channel it posts into."""
        self.callbacks: Inbox[dict[str, Any]] = Inbox()
        """Each interaction callback, as {"id", "token", "json", "auth"}."""
        self.registered: list[dict[str, Any]] = []
        """Each command registration, as {"path", "json", "auth"}."""

    @property
    def base_url(self) -> str:
        return f"{self.root}/api/v10"

    def webhook_url(self, webhook_id: str, channel: str) -> str:
        """The URL a user would copy from Discord; requests go to the fake through api_base_url."""
        self.webhooks[webhook_id] = channel
        self.messages.setdefault(channel, [])
        return f"https://discord.com/api/webhooks/{webhook_id}/{WEBHOOK_TOKEN}"

    def posts(self) -> list[Any]:
        return [
            r for r in self.requests if r.method == "POST" and (r.path.endswith("/messages") or "/webhooks/" in r.path)
        ]

    async def next_callback(self, timeout: float = 10.0) -> dict[str, Any]:
        return await self.callbacks.next(timeout)

    def routes(self, app: web.Application) -> None:
        route = app.router
        route.add_get("/api/v10/users/@me", self._me)
        route.add_get("/api/v10/oauth2/applications/@me", self._application)
        route.add_post("/api/v10/channels/{channel}/messages", self._in_channel(self._send))
        route.add_get("/api/v10/channels/{channel}/messages", self._in_channel(self._list))
        route.add_patch("/api/v10/channels/{channel}/messages/{message}", self._in_channel(self._edit))
        route.add_post("/api/v10/webhooks/{webhook}/{token}", self._execute)
        route.add_patch("/api/v10/webhooks/{webhook}/{token}/messages/{message}", self._edit_webhook)
        route.add_post("/api/v10/interactions/{id}/{token}/callback", self._callback)
        route.add_put("/api/v10/applications/{app}/commands", self._register)
        route.add_put("/api/v10/applications/{app}/guilds/{guild}/commands", self._register)

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bot {self.token}"

    async def _me(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 0, "401: Unauthorized")
        return _json(bot_user())

    async def _application(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 0, "401: Unauthorized")
        return _json(
            {
                "id": APP_ID,
                "name": "pprfeed",
                "icon": None,
                "description": "",
                "bot_public": False,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "owner": {"id": OWNER_ID, "username": "owner", "discriminator": "0", "avatar": None},
                "flags": 0,
            }
        )

    def _in_channel(self, handler: ChannelHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
        """The checks every channel route makes first: token, channel known, bot allowed in it."""

        async def checked(request: web.Request) -> web.Response:
            if not self._authorized(request):
                return _error(401, 0, "401: Unauthorized")
            channel = request.match_info["channel"]
            if channel not in self.messages:
                return _error(404, 10003, "Unknown Channel")
            wait = self._global_wait()
            if wait:
                return _json(
                    {"message": "You are being rate limited.", "retry_after": round(wait, 3), "global": True},
                    status=429,
                    headers={
                        "Retry-After": str(math.ceil(wait)),
                        "X-RateLimit-Global": "true",
                        "X-RateLimit-Scope": "global",
                        "Via": "1.1 google",
                    },
                )
            if channel in self.channel_errors:
                status, code = self.channel_errors[channel]
                return _error(status, code, {50001: "Missing Access", 50013: "Missing Permissions"}.get(code, "error"))
            return await handler(request, channel)

        return checked

    def _global_wait(self) -> float:
        """Seconds until the bot may make another request (0: now, and this one counts)."""
        if self.global_rate_limit is None:
            return 0.0
        now = time.monotonic()
        with self.lock:
            while self._accepted and self._accepted[0] <= now - 1.0:
                self._accepted.popleft()
            if len(self._accepted) >= self.global_rate_limit:
                self.rate_limited += 1
                return self._accepted[0] + 1.0 - now
            self._accepted.append(now)
        return 0.0

    async def _send(self, request: web.Request, channel: str) -> web.Response:
        body = request[BODY]
        refused = _invalid(body)
        if refused is not None:
            return refused
        nonce = body.get("nonce")
        if body.get("enforce_nonce") and nonce is not None:
            for message in self.messages[channel]:
                if message.get("nonce") == nonce:
                    return _json(message)
        message = self._store(channel, body, {"id": BOT_ID, "username": "pprfeed", "bot": True})
        return _json(message)

    def _store(self, channel: str, body: dict[str, Any], author: dict[str, Any]) -> dict[str, Any]:
        message = {
            "id": snowflake(),
            "channel_id": channel,
            "type": 0,
            "content": body.get("content") or "",
            "embeds": body.get("embeds") or [],
            "nonce": body.get("nonce"),
            "allowed_mentions": body.get("allowed_mentions"),
            "author": author,
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
            "edited_timestamp": None,
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
        }
        with self.lock:
            self.messages[channel].append(message)
        return message

    async def _list(self, request: web.Request, channel: str) -> web.Response:
        limit = int(request.query.get("limit", 50))
        after = int(request.query.get("after", 0))
        newer = [m for m in self.messages[channel] if int(m["id"]) > after][:limit]
        return _json([{k: v for k, v in m.items() if k != "nonce"} for m in reversed(newer)])

    async def _edit(self, request: web.Request, channel: str) -> web.Response:
        return self._apply_edit(channel, request.match_info["message"], request[BODY])

    def _apply_edit(self, channel: str, message_id: str, body: dict[str, Any]) -> web.Response:
        refused = _invalid(body)
        if refused is not None:
            return refused
        for message in self.messages.get(channel, []):
            if message["id"] == message_id:
                message.update(content=body.get("content") or "", embeds=body.get("embeds") or [])
                message["edited_timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
                return _json(message)
        return _error(404, 10008, "Unknown Message")

    def _webhook_channel(self, request: web.Request) -> str | None:
        webhook = request.match_info["webhook"]
        if webhook not in self.webhooks or request.match_info["token"] != WEBHOOK_TOKEN:
            return None
        return self.webhooks[webhook]

    async def _execute(self, request: web.Request) -> web.Response:
        channel = self._webhook_channel(request)
        if channel is None:
            return _error(404, 10015, "Unknown Webhook")
        body = request[BODY]
        refused = _invalid(body)
        if refused is not None:
            return refused
        webhook = request.match_info["webhook"]
        message = self._store(channel, body, {"id": webhook, "username": "PPRNet", "bot": True})
        message["webhook_id"] = webhook
        if request.query.get("wait") in ("1", "true", "True"):
            return _json(message)
        return web.Response(status=204)

    async def _edit_webhook(self, request: web.Request) -> web.Response:
        channel = self._webhook_channel(request)
        if channel is None:
            return _error(404, 10015, "Unknown Webhook")
        return self._apply_edit(channel, request.match_info["message"], request[BODY])

    async def _callback(self, request: web.Request) -> web.Response:
        interaction, body = request.match_info["id"], request[BODY]
        if any(callback["id"] == interaction for callback in self.callbacks.items):
            return _error(400, 40060, "Interaction has already been acknowledged.")
        self.callbacks.put(
            {
                "id": interaction,
                "token": request.match_info["token"],
                "json": body,
                "auth": request.headers.get("Authorization"),
            }
        )
        return _json(
            {
                "interaction": {
                    "id": interaction,
                    "type": 2,
                    "response_message_loading": False,
                    "response_message_ephemeral": bool((body.get("data") or {}).get("flags", 0) & EPHEMERAL),
                }
            }
        )

    async def _register(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 0, "401: Unauthorized")
        commands = request[BODY]
        self.registered.append({"path": request.path, "json": commands, "auth": request.headers.get("Authorization")})
        answer = [
            {
                **command,
                "id": str(2000 + index),
                "application_id": APP_ID,
                "version": "1",
                "default_member_permissions": None,
            }
            for index, command in enumerate(commands)
        ]
        return _json(answer)


def rate_limited(retry_after: float) -> dict[str, Any]:
    """Keyword arguments for FakeServer.fail: a Discord 429 as its edge sends it (discord.py wants `Via`)."""
    return {
        "status": 429,
        "body": {"message": "You are being rate limited.", "retry_after": retry_after, "global": False},
        "headers": {"Retry-After": str(retry_after), "Via": "1.1 google", "X-RateLimit-Scope": "user"},
    }


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON with exactly `application/json`, as Discord sends it (discord.py compares the header verbatim)."""
    headers = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(body=json.dumps(data).encode(), status=status, headers=headers)


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"message": message, "code": code}, status=status)


def _invalid(body: dict[str, Any]) -> web.Response | None:
    problem = message_problem(body)
    return _error(400, 50035, f"Invalid Form Body: {problem}") if problem else None


def message_problem(body: dict[str, Any]) -> str | None:
    """What real Discord would reject (400, code 50035), plus the absence of allowed_mentions (a ping risk)."""
    if len(body.get("content") or "") > 2000:
        return "content longer than 2000"
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        return "more than 10 embeds"
    total = 0
    for embed in embeds:
        title, description = embed.get("title", ""), embed.get("description", "")
        if len(title) > 256 or len(description) > 4096:
            return "embed title/description too long"
        fields = embed.get("fields", [])
        if len(fields) > 25 or any(len(f["name"]) > 256 or len(f["value"]) > 1024 for f in fields):
            return "embed field too long"
        total += len(title) + len(description) + sum(len(f["name"]) + len(f["value"]) for f in fields)
        total += len(embed.get("footer", {}).get("text", "")) + len(embed.get("author", {}).get("name", ""))
    if total > 6000:
        return "embeds longer than 6000 in all"
    if body.get("allowed_mentions") != {"parse": []}:
        return "allowed_mentions must be {'parse': []} (test fake: every pprfeed request must disable pings)"
    return None


_sequence = itertools.count(1)


def snowflake() -> str:
    """A new Discord id: milliseconds since the Discord epoch, then a sequence number (so ids sort by time)."""
    return str(((int(time.time() * 1000) - DISCORD_EPOCH) << 22) | (next(_sequence) & 0x3FFFFF))


def bot_user() -> dict[str, Any]:
    return {"id": BOT_ID, "username": "pprfeed", "discriminator": "0", "avatar": None, "bot": True}


@contextmanager
def discord_py_at(base_url: str) -> Iterator[None]:
    """Point discord.py's HTTP client (it builds every URL from `Route.BASE`) at `base_url` for a while."""
    original = discord.http.Route.BASE
    discord.http.Route.BASE = base_url.rstrip("/")
    try:
        yield
    finally:
        discord.http.Route.BASE = original


# INTERACTION_CREATE payloads, as the gateway delivers them


def _interaction(kind: int, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": snowflake(),
        "application_id": APP_ID,
        "type": kind,
        "token": f"token-{snowflake()}",
        "version": 1,
        "attachment_size_limit": 8 * 1024 * 1024,
        "channel_id": "1100000000000000010",
        "user": {"id": "1100000000000000020", "username": "asker", "discriminator": "0", "avatar": None},
        "locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {},
        "data": data,
        **extra,
    }


def slash_command(name: str, query: str | None) -> dict[str, Any]:
    """`/name query:<query>` (type 2, chat input)."""
    options = [] if query is None else [{"type": 3, "name": "query", "value": query}]
    return _interaction(2, {"id": snowflake(), "name": name, "type": 1, "options": options})


def autocomplete(name: str, typed: str) -> dict[str, Any]:
    """Autocomplete while typing the query option (type 4)."""
    option = {"type": 3, "name": "query", "value": typed, "focused": True}
    return _interaction(4, {"id": snowflake(), "name": name, "type": 1, "options": [option]})


def button_click(custom_id: str, components: list[dict[str, Any]]) -> dict[str, Any]:
    """A click on a button of an ephemeral message the bot sent (type 3, component)."""
    message = {
        "id": snowflake(),
        "channel_id": "1100000000000000010",
        "author": bot_user(),
        "content": "",
        "timestamp": "2026-01-01T00:00:00+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
        "flags": EPHEMERAL,
        "components": components,
    }
    return _interaction(3, {"custom_id": custom_id, "component_type": 2}, message=message)


MANAGE_CHANNELS = 1 << 4
SEND_MESSAGES_AND_VIEW = (1 << 11) | (1 << 10)


def guild_command(
    name: str,
    options: dict[str, str] | None = None,
    *,
    guild: str = "1100000000000000030",
    channel: str = "1100000000000000010",
    permissions: int = MANAGE_CHANNELS,
    focused: str | None = None,
) -> dict[str, Any]:
    """`/name option:value …` from a member of a server (type 2), or autocomplete of option `focused` (type 4).

    `permissions` are the member's in the channel: Discord delivers a command with `default_member_permissions`
    only to members who hold them, unless the server changed that in its integration settings. An option named
    `channel` is a channel option (type 7), resolved as Discord resolves it."""
    given = []
    resolved: dict[str, Any] = {}
    for option, value in (options or {}).items():
        if option == "channel":
            given.append({"type": 7, "name": option, "value": value})
            resolved = {
                "channels": {
                    value: {
                        "id": value,
                        "name": "elsewhere",
                        "type": 0,
                        "permissions": str(permissions),
                        "guild_id": guild,
                    }
                }
            }
        else:
            given.append(
                {"type": 3, "name": option, "value": value, **({"focused": True} if option == focused else {})}
            )
    data: dict[str, Any] = {"id": snowflake(), "name": name, "type": 1, "options": given, "guild_id": guild}
    if resolved:
        data["resolved"] = resolved
    payload = _interaction(4 if focused else 2, data)
    del payload["user"]
    member_user = {"id": "1100000000000000020", "username": "asker", "discriminator": "0", "avatar": None}
    payload.update(
        guild_id=guild,
        channel_id=channel,
        channel={
            "id": channel,
            "name": "general",
            "type": 0,
            "guild_id": guild,
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "permissions": str(permissions),
        },
        guild_locale="en-US",
        app_permissions=str(SEND_MESSAGES_AND_VIEW),
        member={
            "user": member_user,
            "roles": [],
            "joined_at": "2026-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "permissions": str(permissions),
        },
    )
    return payload
