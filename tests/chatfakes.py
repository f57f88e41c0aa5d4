"""Local stand-ins for Slack and Discord that speak their real protocols over loopback HTTP.

- `FakeSlackHooks`: receives what a bot POSTs to a `response_url`.
- `FakeSlackSocket`: Slack's `apps.connections.open` plus the Socket Mode websocket.
- `FakeDiscordAPI`: the REST routes discord.py needs to log in, answer interactions and register commands.

Each runs an aiohttp server on 127.0.0.1 with an ephemeral port, and records
what it receives in an asyncio.Queue, so tests wait for an event instead of sleeping.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

BOT_USER_ID = "1000000000000000001"
APP_ID = "1000000000000000002"
OWNER_ID = "1000000000000000003"


@asynccontextmanager
async def serve(app: web.Application):
    """Run `app` on 127.0.0.1 with an ephemeral port; yields the base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Exactly what Slack sends in X-Slack-Signature: v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}")."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": slack_signature(secret, stamp, body),
        "Content-Type": "application/x-www-form-urlencoded",
    }


class FakeSlackHooks:
    """hooks.slack.com: records every POST to /hooks/… (the response_urls)."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.app = web.Application()
        self.app.router.add_post("/hooks/{rest:.*}", self._hook)

    async def _hook(self, request: web.Request) -> web.Response:
        await self.received.put({"path": request.path, "json": await request.json()})
        return web.Response(text="ok")

    async def next(self, timeout: float = 10.0) -> dict[str, Any]:
        return await asyncio.wait_for(self.received.get(), timeout)


class FakeSlackSocket:
    """Slack's Web API `apps.connections.open` and the Socket Mode websocket it hands out.

    Tests `push` envelopes as Slack would; the client's acknowledgements arrive in `acks`.
    """

    def __init__(self) -> None:
        self.acks: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.tokens: list[str] = []
        self.connected = asyncio.Event()
        self._socket: web.WebSocketResponse | None = None
        self.base_url = ""
        self.app = web.Application()
        self.app.router.add_post("/api/apps.connections.open", self._open)
        self.app.router.add_get("/link", self._link)

    async def _open(self, request: web.Request) -> web.Response:
        self.tokens.append(request.headers.get("Authorization", ""))
        url = self.base_url.replace("http://", "ws://") + "/link"
        return web.json_response({"ok": True, "url": url})

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._socket = socket
        await socket.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}})
        self.connected.set()
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                await self.acks.put(json.loads(message.data))
        return socket

    async def push(self, envelope: dict[str, Any]) -> None:
        assert self._socket is not None
        await self._socket.send_json(envelope)

    async def next_ack(self, timeout: float = 10.0) -> dict[str, Any]:
        return await asyncio.wait_for(self.acks.get(), timeout)


class FakeDiscordAPI:
    """discord.com/api/v10, as far as a /topic bot uses it."""

    def __init__(self) -> None:
        self.callbacks: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.registered: list[dict[str, Any]] = []
        self.refuse_login = False
        self.app = web.Application()
        route = self.app.router
        route.add_get("/api/v10/users/@me", self._me)
        route.add_get("/api/v10/oauth2/applications/@me", self._application)
        route.add_post("/api/v10/interactions/{id}/{token}/callback", self._callback)
        route.add_put("/api/v10/applications/{app}/commands", self._register)
        route.add_put("/api/v10/applications/{app}/guilds/{guild}/commands", self._register)

    async def _me(self, request: web.Request) -> web.Response:
        if self.refuse_login:
            response = discord_json({"message": "401: Unauthorized", "code": 0})
            response.set_status(401)
            return response
        return discord_json(bot_user())

    async def _application(self, request: web.Request) -> web.Response:
        return discord_json(
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

    async def _callback(self, request: web.Request) -> web.Response:
        body = await request.json()
        await self.callbacks.put(
            {
                "id": request.match_info["id"],
                "token": request.match_info["token"],
                "json": body,
                "auth": request.headers.get("Authorization"),
            }
        )
        return discord_json(
            {
                "interaction": {
                    "id": request.match_info["id"],
                    "type": 2,
                    "response_message_loading": False,
                    "response_message_ephemeral": bool((body.get("data") or {}).get("flags", 0) & 64),
                }
            }
        )

    async def _register(self, request: web.Request) -> web.Response:
        commands = await request.json()
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
        return discord_json(answer)

    async def next_callback(self, timeout: float = 10.0) -> dict[str, Any]:
        return await asyncio.wait_for(self.callbacks.get(), timeout)


def discord_json(data: Any) -> web.Response:
    """Discord answers `Content-Type: application/json` exactly, and discord.py parses JSON only then."""
    return web.Response(body=json.dumps(data).encode(), content_type="application/json")


def bot_user() -> dict[str, Any]:
    return {"id": BOT_USER_ID, "username": "pprfeed", "discriminator": "0", "avatar": None, "bot": True}


_ids = iter(range(1_200_000_000_000_000_000, 1_300_000_000_000_000_000))


def snowflake() -> str:
    return str(next(_ids))


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
    """An INTERACTION_CREATE payload for `/name query:<query>` (type 2, chat input)."""
    options = [] if query is None else [{"type": 3, "name": "query", "value": query}]
    return _interaction(2, {"id": snowflake(), "name": name, "type": 1, "options": options})


def autocomplete(name: str, typed: str) -> dict[str, Any]:
    """An INTERACTION_CREATE payload for autocomplete while typing the query option (type 4)."""
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
        "flags": 64,
        "components": components,
    }
    return _interaction(3, {"custom_id": custom_id, "component_type": 2}, message=message)


def write_article(content: Path, month: str, slug: str, title: str, topics: list[str], body: str = "") -> Path:
    folder = content / "issues" / month
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug}.md"
    front = (
        f"+++\ntitle = {json.dumps(title)}\ntopics = {json.dumps(topics)}\n"
        f'citation = "Tester, A. B., & Other, C. D. (2020). {slug}. Journal, 1(1), 1-2."\n'
        f'doi = "10.1000/{slug}"\n+++\n'
    )
    path.write_text(front + (body or "A summary.") + "\n\n## Practice Implications\n\nSome implications.\n", "utf-8")
    return path
