"""A fake Slack Web API (chat.postMessage, chat.update, conversations.history, auth.test) and incoming webhooks.

It checks what real Slack checks that matters here: the bot token, the
channel, Block Kit limits. Every request is recorded; `messages` holds what
each channel shows.
"""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web

from .server import BODY, FakeServer

TOKEN = "xoxb-fake-token-0123456789"


class FakeSlack(FakeServer):
    def __init__(self, channels: list[str] | tuple[str, ...] = (), latency: float = 0.0, token: str = TOKEN) -> None:
        super().__init__(latency)
        self.token = token
        self.messages: dict[str, list[dict[str, Any]]] = {channel: [] for channel in channels}
        self.channel_errors: dict[str, str] = {}
        """channel -> Slack error code every call about it answers (not_in_channel, is_archived, …)."""
        self.method_errors: dict[str, str] = {}
        """API method -> error code (e.g. "chat.postMessage": "missing_scope")."""
        self.webhooks: dict[str, list[dict[str, Any]]] = {}
        self.webhook_status: dict[str, tuple[int, str]] = {}
        self._ts = 0

    @property
    def base_url(self) -> str:
        return f"{self.root}/api/"

    def webhook_url(self, name: str) -> str:
        self.webhooks.setdefault(name, [])
        return f"{self.root}/services/T000/B000/{name}"

    def posts(self, method: str = "chat.postMessage") -> list[Any]:
        return [r for r in self.requests if r.path == f"/api/{method}"]

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # slack_sdk reads conversations.history with GET
        app.router.add_post("/services/T000/B000/{name}", self._webhook)

    def _next_ts(self) -> str:
        with self.lock:
            self._ts += 1
            return f"{int(time.time())}.{self._ts:06d}"

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = {**request.query, **(request[BODY] if isinstance(request[BODY], dict) else {})}
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error("invalid_auth")
        if method in self.method_errors:
            return _error(self.method_errors[method], needed="chat:write")
        if method == "auth.test":
            return web.json_response({"ok": True, "user_id": "UBOT", "team_id": "T000"})
        channel = str(body.get("channel", ""))
        if channel not in self.messages:
            return _error("channel_not_found")
        if channel in self.channel_errors:
            return _error(self.channel_errors[channel])
        if method == "chat.postMessage":
            return self._post(channel, body)
        if method == "chat.update":
            for message in self.messages[channel]:
                if message["ts"] == body.get("ts"):
                    message.update(text=body.get("text"), blocks=_json(body.get("blocks")), edited=True)
                    return web.json_response({"ok": True, "channel": channel, "ts": message["ts"]})
            return _error("message_not_found")
        if method == "conversations.history":
            return self._history(channel, body)
        return _error("unknown_method")

    def _post(self, channel: str, body: dict[str, Any]) -> web.Response:
        blocks = _json(body.get("blocks")) or []
        problem = block_problem(blocks)
        if problem:
            return _error("invalid_blocks", detail=problem)
        if len(str(body.get("text", ""))) > 40_000:
            return _error("msg_too_long")
        message = {
            "type": "message",
            "ts": self._next_ts(),
            "text": body.get("text", ""),
            "blocks": blocks,
            "metadata": _json(body.get("metadata")),
            "unfurl_links": body.get("unfurl_links"),
            "unfurl_media": body.get("unfurl_media"),
            "bot_id": "B000",
        }
        with self.lock:
            self.messages[channel].append(message)
        return web.json_response({"ok": True, "channel": channel, "ts": message["ts"], "message": message})

    def _history(self, channel: str, body: dict[str, Any]) -> web.Response:
        oldest = float(body.get("oldest") or 0)
        limit = int(body.get("limit") or 100)
        start = int(body.get("cursor") or 0)
        with_metadata = str(body.get("include_all_metadata", "")).lower() in ("1", "true")
        newest_first = [m for m in reversed(self.messages[channel]) if float(m["ts"]) > oldest]
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
        with self.lock:
            self.webhooks[name].append(body)
        return web.Response(text="ok")


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value


def _error(code: str, **extra: Any) -> web.Response:
    status = 200
    return web.json_response({"ok": False, "error": code, **extra}, status=status)


def block_problem(blocks: list[dict[str, Any]]) -> str | None:
    """What real Slack would reject with invalid_blocks (the limits pprfeed must respect)."""
    if len(blocks) > 50:
        return "more than 50 blocks"
    for block in blocks:
        if block["type"] == "header" and len(block["text"]["text"]) > 150:
            return "header longer than 150"
        if block["type"] == "section" and len(block["text"]["text"]) > 3000:
            return "section longer than 3000"
    return None
