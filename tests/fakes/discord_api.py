"""A fake Discord REST API (v10): bot messages (send, edit, list), webhooks (execute, edit), /users/@me.

It checks the bot token, channel access, message limits, `allowed_mentions`
and honours `enforce_nonce` like Discord: a repeated nonce returns the first
message instead of creating another. Listing messages omits the nonce, as
Discord does. Every request is recorded.
"""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web

from .server import BODY, FakeServer

TOKEN = "fake-discord-bot-token.0123456789"
BOT_ID = "900000000000000001"
DISCORD_EPOCH = 1420070400000
WEBHOOK_TOKEN = "w" * 68


class FakeDiscord(FakeServer):
    def __init__(self, channels: list[str] | tuple[str, ...] = (), latency: float = 0.0, token: str = TOKEN) -> None:
        super().__init__(latency)
        self.token = token
        self.messages: dict[str, list[dict[str, Any]]] = {channel: [] for channel in channels}
        self.channel_errors: dict[str, tuple[int, int]] = {}
        """channel -> (HTTP status, Discord error code) every call about it answers (403/50001, 403/50013, …)."""
        self.webhooks: dict[str, str] = {}
        """webhook id -> the channel it posts into."""
        self._counter = 0

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

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/api/v10/users/@me", self._me)
        app.router.add_post("/api/v10/channels/{channel}/messages", self._send)
        app.router.add_get("/api/v10/channels/{channel}/messages", self._list)
        app.router.add_patch("/api/v10/channels/{channel}/messages/{message}", self._edit)
        app.router.add_post("/api/v10/webhooks/{webhook}/{token}", self._execute)
        app.router.add_patch("/api/v10/webhooks/{webhook}/{token}/messages/{message}", self._edit_webhook)

    def _snowflake(self) -> str:
        with self.lock:
            self._counter += 1
            return str(((int(time.time() * 1000) - DISCORD_EPOCH) << 22) | (self._counter & 0x3FFFFF))

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bot {self.token}"

    async def _me(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 0, "401: Unauthorized")
        return _json({"id": BOT_ID, "username": "pprfeed", "discriminator": "0", "bot": True, "avatar": None})

    def _channel_check(self, request: web.Request) -> web.Response | None:
        if not self._authorized(request):
            return _error(401, 0, "401: Unauthorized")
        channel = request.match_info["channel"]
        if channel not in self.messages:
            return _error(404, 10003, "Unknown Channel")
        if channel in self.channel_errors:
            status, code = self.channel_errors[channel]
            return _error(status, code, {50001: "Missing Access", 50013: "Missing Permissions"}.get(code, "error"))
        return None

    async def _send(self, request: web.Request) -> web.Response:
        refused = self._channel_check(request)
        if refused:
            return refused
        channel = request.match_info["channel"]
        body = request[BODY]
        problem = message_problem(body)
        if problem:
            return _error(400, 50035, f"Invalid Form Body: {problem}")
        nonce = body.get("nonce")
        if body.get("enforce_nonce") and nonce is not None:
            for message in self.messages[channel]:
                if message.get("nonce") == nonce:
                    return _json(message)
        message = self._store(channel, body, {"id": BOT_ID, "username": "pprfeed", "bot": True})
        return _json(message)

    def _store(self, channel: str, body: dict[str, Any], author: dict[str, Any]) -> dict[str, Any]:
        message = {
            "id": self._snowflake(),
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

    async def _list(self, request: web.Request) -> web.Response:
        refused = self._channel_check(request)
        if refused:
            return refused
        channel = request.match_info["channel"]
        limit = int(request.query.get("limit", 50))
        after = int(request.query.get("after", 0))
        newer = [m for m in self.messages[channel] if int(m["id"]) > after][:limit]
        return _json([{k: v for k, v in m.items() if k != "nonce"} for m in reversed(newer)])

    async def _edit(self, request: web.Request) -> web.Response:
        refused = self._channel_check(request)
        if refused:
            return refused
        return self._apply_edit(request.match_info["channel"], request.match_info["message"], request[BODY])

    def _apply_edit(self, channel: str, message_id: str, body: dict[str, Any]) -> web.Response:
        problem = message_problem(body)
        if problem:
            return _error(400, 50035, f"Invalid Form Body: {problem}")
        for message in self.messages.get(channel, []):
            if message["id"] == message_id:
                message.update(content=body.get("content") or "", embeds=body.get("embeds") or [])
                message["edited_timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
                return _json(message)
        return _error(404, 10008, "Unknown Message")

    async def _execute(self, request: web.Request) -> web.Response:
        webhook = request.match_info["webhook"]
        if webhook not in self.webhooks or request.match_info["token"] != WEBHOOK_TOKEN:
            return _error(404, 10015, "Unknown Webhook")
        body = request[BODY]
        problem = message_problem(body)
        if problem:
            return _error(400, 50035, f"Invalid Form Body: {problem}")
        message = self._store(self.webhooks[webhook], body, {"id": webhook, "username": "PPRNet", "bot": True})
        message["webhook_id"] = webhook
        if request.query.get("wait") in ("1", "true", "True"):
            return _json(message)
        return web.Response(status=204)

    async def _edit_webhook(self, request: web.Request) -> web.Response:
        webhook = request.match_info["webhook"]
        if webhook not in self.webhooks or request.match_info["token"] != WEBHOOK_TOKEN:
            return _error(404, 10015, "Unknown Webhook")
        return self._apply_edit(self.webhooks[webhook], request.match_info["message"], request[BODY])


def rate_limited(retry_after: float) -> dict[str, Any]:
    """Keyword arguments for FakeServer.fail: a Discord 429 as its edge sends it (discord.py wants `Via`)."""
    return {
        "status": 429,
        "body": {"message": "You are being rate limited.", "retry_after": retry_after, "global": False},
        "headers": {"Retry-After": str(retry_after), "Via": "1.1 google", "X-RateLimit-Scope": "user"},
    }


def _json(data: Any, status: int = 200) -> web.Response:
    """JSON with exactly `application/json`, as Discord sends it (discord.py compares the header verbatim)."""
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"message": message, "code": code}, status=status)


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
