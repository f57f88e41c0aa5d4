"""Discord through discord.py: its HTTP client for bot channels (no gateway needed to post), discord.Webhook
for editing webhook messages. Every request carries allowed_mentions none; bot posts carry a nonce with
enforce_nonce, so a repeated request within Discord's nonce window returns the first message instead of posting
twice: that makes the repeats discord.py's HTTP client makes by itself (a 500, 502, 504 or 524, a 429 it waits
out) safe, and deliver.py's own retries handle everything else. Webhook posts go out as one plain aiohttp
request: discord.py's webhook adapter repeats a POST that got a 5xx by itself, and a webhook message cannot be
looked for afterwards, so a repeat could post twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp
import discord
from discord.http import HTTPClient, MultipartParameters, Route

from pprfeed.config import DISCORD_WEBHOOK_URL as _WEBHOOK_URL
from pprfeed.config import PlatformSettings, Secrets, Target
from pprfeed.publish.base import (
    TRANSPORT_ERRORS,
    CannotTell,
    DeliveryError,
    PartRef,
    PermanentError,
    RateLimited,
    TransientError,
    transport_error,
)

log = logging.getLogger(__name__)

HISTORY_PAGES = 10
PAGE = 100
NONCE_WINDOW = 60.0
"""Seconds after a claim during which a resend under the same nonce is deduplicated by Discord
("the past few minutes" in Discord's documentation; one minute to be safe)."""
CLOCK_SLACK = 600.0
"""Seconds looked back before a claim when searching a channel, for clock differences with Discord."""
GLOBAL_RATE = 50
"""Requests per second Discord allows one bot across every route (its global rate limit). discord.py only
waits once a 429 says it went past it: every request then in flight is refused too, and they all start again
together when the wait is over, past it again. Bot requests are spaced to stay just under it instead."""
REQUEST_SPACING = 1 / (GLOBAL_RATE * 0.96)
"""Seconds between the starts of two bot requests: a little slower than the limit, for the jitter between when
a request starts here and when Discord counts it."""

_FIXES = {
    10003: "unknown channel: check the id in [[discord.channels]] (Developer Mode → right-click the channel → Copy ID)",
    10008: "the message is gone (deleted in Discord); use --resend with --all-parts to post the issue again",
    10015: "unknown webhook: it was deleted; create a new webhook and put its URL in {env}",
    50001: "missing access: add the bot to the server and let it View Channel in {channel}",
    50013: "missing permissions: give the bot Send Messages, Embed Links and Read Message History in {channel}",
}


def wire_body(target: Target, payload: dict[str, Any], ref: PartRef) -> dict[str, Any]:
    """The JSON body of the request that posts this part: a bot's POST /channels/<id>/messages, or a webhook's
    POST /webhooks/<id>/<token>?wait=true. `publish --dry-run --json` prints it."""
    if target.kind == "webhook":
        body = {key: value for key, value in payload.items() if key in ("content", "embeds")}
        return dict(body, allowed_mentions={"parse": []})
    return dict(payload, nonce=ref.nonce, enforce_nonce=True, allowed_mentions={"parse": []})


class DiscordPoster:
    def __init__(self, settings: PlatformSettings, secrets: Secrets, timeout: float = 30.0) -> None:
        self.settings = settings
        self.secrets = secrets
        self.timeout = timeout
        # discord.py builds every URL from this class attribute; one process speaks to one Discord API
        Route.BASE = settings.api_base_url.rstrip("/")
        self._http: HTTPClient | None = None
        self._me: str | None = None
        self._login_error: DeliveryError | None = None
        self._login_lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None
        self._pacing = asyncio.Lock()
        self._next_start = 0.0
        """When (event loop clock) the next bot request may start."""

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self._session is not None:
            await self._session.close()

    async def _bot(self, target: Target) -> HTTPClient:
        async with self._login_lock:
            if self._login_error is not None:
                raise self._login_error
            if self._http is None:
                http = HTTPClient(asyncio.get_running_loop())
                try:
                    try:
                        me = await http.static_login(self.secrets.get(self.settings.token_env))
                    except BaseException:
                        await http.close()
                        raise
                except discord.LoginFailure:
                    self._login_error = PermanentError(
                        f"{target.key}: Discord rejected the bot token (HTTP 401) — the token in "
                        f"{self.settings.token_env} is wrong or was reset: copy the bot token from the Developer "
                        "Portal and export it",
                        "401",
                    )
                    raise self._login_error from None
                except discord.HTTPException as exc:
                    raise self._http_error(target, exc) from None
                except TRANSPORT_ERRORS as exc:  # nothing was sent yet: the next attempt (or run) may log in
                    failed = transport_error(exc, f"{target.key}: logging in", "Discord", self._safe)
                    raise TransientError(str(failed), maybe_sent=False) from None
                self._http, self._me = http, str(me["id"])
            return self._http

    def _requests(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    async def _execute_webhook(self, target: Target, payload: dict[str, Any], ref: PartRef) -> str:
        """One POST, never repeated here: a 5xx or a lost answer may mean Discord has the message already."""
        match = self._webhook_url(target)
        url = f"{self.settings.api_base_url.rstrip('/')}/webhooks/{match['id']}/{match['token']}"
        body = wire_body(target, payload, ref)
        log.debug("%s: POST %s", target.key, self._safe(url))
        try:
            async with self._requests().post(url, json=body, params={"wait": "true"}) as response:
                text = await response.text()
                status, headers = response.status, response.headers
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc, target.key, "Discord", self._safe) from None
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            data = {}
        data = data if isinstance(data, dict) else {}
        if 200 <= status < 300 and "id" in data:
            return str(data["id"])
        if 200 <= status < 300:
            raise TransientError(f"{target.key}: Discord accepted the webhook post without a message", maybe_sent=True)
        code = data.get("code", 0)
        raise self._error_for(
            target,
            status,
            code if isinstance(code, int) else 0,
            str(data.get("message") or text),
            headers.get("Retry-After"),
        )

    def _webhook_url(self, target: Target) -> re.Match[str]:
        """The webhook's `id` and `token`, from the URL in the target's secret."""
        match = _WEBHOOK_URL.search(self.secrets.get(target.address))
        if match is None:
            raise PermanentError(
                f"{target.key}: {target.address} does not hold a Discord webhook URL — "
                "set it to https://discord.com/api/webhooks/<id>/<token>",
                "bad_webhook_url",
            )
        return match

    async def post(self, target: Target, payload: dict[str, Any], ref: PartRef) -> str | None:
        if target.kind == "webhook":
            return await self._execute_webhook(target, payload, ref)
        http = await self._bot(target)
        body = wire_body(target, payload, ref)
        data = await self._guard(
            target, http.send_message(target.address, params=MultipartParameters(body, None, None))
        )
        return str(data["id"])

    async def edit(self, target: Target, remote_id: str, payload: dict[str, Any], ref: PartRef) -> None:
        if target.kind == "webhook":
            match = self._webhook_url(target)
            webhook = discord.Webhook.partial(int(match["id"]), match["token"], session=self._requests())
            await self._guard(
                target,
                webhook.edit_message(
                    int(remote_id),
                    content=payload.get("content"),
                    embeds=[discord.Embed.from_dict(embed) for embed in payload.get("embeds", [])],
                    allowed_mentions=discord.AllowedMentions.none(),
                ),
            )
            return
        http = await self._bot(target)
        body = {
            "content": payload.get("content"),
            "embeds": payload.get("embeds", []),
            "allowed_mentions": {"parse": []},
        }
        await self._guard(
            target, http.edit_message(target.address, remote_id, params=MultipartParameters(body, None, None))
        )

    async def find(self, target: Target, ref: PartRef, since: float) -> str | None:
        if target.kind == "webhook":
            raise CannotTell(f"{target.key}: a webhook cannot read its channel, so pprfeed cannot check")
        http = await self._bot(target)
        after = discord.utils.time_snowflake(datetime.fromtimestamp(since - CLOCK_SLACK, tz=UTC))
        for _ in range(HISTORY_PAGES):
            try:
                messages = await self._guard(target, http.logs_from(target.address, PAGE, after=after))
            except PermanentError as exc:
                if time.time() - since < NONCE_WINDOW:
                    # cannot look, but Discord itself dedupes: the same nonce with enforce_nonce returns the
                    # message already created instead of posting another
                    log.info("%s: cannot read history (%s); resending under the same nonce", target.key, exc)
                    return None
                raise CannotTell(f"cannot read the channel's messages to check ({exc})") from None
            for message in messages:
                mine = str(message.get("author", {}).get("id")) == self._me
                if mine and _same_part(message, ref):
                    return str(message["id"])
            if len(messages) < PAGE:
                return None  # every message since the claim was seen: it did not arrive
            after = max(int(message["id"]) for message in messages)
        raise CannotTell(f"{target.key}: too many messages since the claim to search them all")

    async def _guard(self, target: Target, call: Any) -> Any:
        """Await a discord.py call, turning its exceptions into the project's outcomes (secrets redacted)."""
        loop = asyncio.get_running_loop()
        async with self._pacing:
            now = loop.time()
            if self._next_start > now:
                await asyncio.sleep(self._next_start - now)
            # from the later of the planned start and now: a start held up by a busy loop is not made up for
            # with a burst
            self._next_start = max(self._next_start, now) + REQUEST_SPACING
        try:
            return await call
        except discord.HTTPException as exc:
            raise self._http_error(target, exc) from None
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc, target.key, "Discord", self._safe) from None

    def _http_error(self, target: Target, exc: discord.HTTPException) -> DeliveryError:
        retry = exc.response.headers.get("Retry-After") if exc.response is not None else None
        return self._error_for(target, exc.status, exc.code, exc.text or "", retry)

    def _error_for(self, target: Target, status: int, code: int, text: str, retry: str | None) -> DeliveryError:
        text = self._safe(text)[:200]
        if status == 429:
            return RateLimited(f"{target.key}: rate limited by Discord", retry)
        if status >= 500:
            # a gateway error can come after Discord stored the message: look before sending again
            return TransientError(f"{target.key}: Discord answered HTTP {status}", maybe_sent=True)
        if status == 401:
            fix = (
                f"the token in {self.settings.token_env} is wrong or was reset: copy the bot token from the "
                "Developer Portal and export it"
                if target.kind == "channel"
                else f"the webhook's token is invalid: create a new webhook and put its URL in {target.address}"
            )
            return PermanentError(f"{target.key}: Discord refused (HTTP 401) — {fix}", "401")
        fix = _FIXES.get(code, "see https://discord.com/developers/docs/topics/opcodes-and-status-codes")
        fix = fix.format(env=target.address, channel=f"channel {target.address}")
        return PermanentError(
            f"{target.key}: Discord refused: {text or status} (code {code}, HTTP {status}) — {fix}", str(code)
        )

    def _safe(self, text: str) -> str:
        return self.secrets.redact(text)


def _same_part(message: dict[str, Any], ref: PartRef) -> bool:
    """Our message for this part: the same nonce where Discord echoes it, else the same heading line."""
    if message.get("nonce") is not None:
        return str(message["nonce"]) == ref.nonce
    return bool(ref.marker) and (message.get("content") or "").split("\n", 1)[0] == ref.marker
