"""Slack through slack_sdk: chat.postMessage / chat.update / conversations.history for bot channels,
incoming webhooks with AsyncWebhookClient. The SDK's own retries are off: publish decides what is retried,
so a request that may have arrived is never blindly repeated.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

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

METADATA_EVENT = "pprfeed_post"
HISTORY_PAGES = 20
CLOCK_SLACK = 600.0
"""Seconds looked back before a claim when searching history, for clock differences with Slack."""

_TOKEN_ERRORS = {"invalid_auth", "token_revoked", "not_authed", "account_inactive", "token_expired"}


def wire_body(target: Target, payload: dict[str, Any], ref: PartRef) -> dict[str, Any]:
    """The JSON body of the request that posts this part: chat.postMessage's (slack_sdk sends these arguments as
    they are), or an incoming webhook's. `publish --dry-run --json` prints it."""
    if target.kind == "webhook":
        return dict(payload)
    body = {
        "channel": target.address,
        **payload,
        "metadata": {
            "event_type": METADATA_EVENT,
            "event_payload": {"issue": ref.issue, "part": ref.part, "parts": ref.parts, "nonce": ref.nonce},
        },
        "link_names": False,
    }
    if ref.thread:
        body["thread_ts"] = ref.thread
    return body


class SlackPoster:
    def __init__(self, settings: PlatformSettings, secrets: Secrets, timeout: float = 30.0) -> None:
        self.settings = settings
        self.secrets = secrets
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._clients: dict[str, AsyncWebClient] = {}
        """By the name of the secret holding the token: one client for each workspace's own token."""

    def _session_for_requests(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    def _token_name(self, target: Target) -> str:
        """A subscribed channel of an installed workspace posts with that workspace's token, others with token_env."""
        return self.settings.channel_tokens.get(target.address, self.settings.token_env)

    def _web(self, target: Target) -> AsyncWebClient:
        name = self._token_name(target)
        if name not in self._clients:
            self._clients[name] = AsyncWebClient(
                token=self.secrets.get(name),
                base_url=self.settings.api_base_url,
                timeout=int(max(1, self.timeout)),
                session=self._session_for_requests(),
                retry_handlers=[],
            )
        return self._clients[name]

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def post(self, target: Target, payload: dict[str, Any], ref: PartRef) -> str | None:
        if target.kind == "webhook":
            await self._webhook(target, wire_body(target, payload, ref))
            return None
        response = await self._call(target, "chat_postMessage", **wire_body(target, payload, ref))
        return str(response["ts"])

    async def edit(self, target: Target, remote_id: str, payload: dict[str, Any], ref: PartRef) -> None:
        if target.kind == "webhook":
            raise PermanentError(
                f"{target.key}: Slack incoming webhooks cannot edit a message they posted; "
                f"use `pprfeed publish --resend {ref.issue} --target {target.key} --all-parts` to post the corrected "
                "issue",
                "webhook_cannot_edit",
            )
        fields = {key: value for key, value in payload.items() if key in ("text", "blocks")}
        await self._call(target, "chat_update", channel=target.address, ts=remote_id, **fields)

    async def find(self, target: Target, ref: PartRef, since: float) -> str | None:
        if target.kind == "webhook":
            raise CannotTell(f"{target.key}: Slack incoming webhooks keep no history pprfeed could search")
        cursor = None
        # a reply is not in the channel's history, only in its thread's
        method, thread = ("conversations_replies", {"ts": ref.thread}) if ref.thread else ("conversations_history", {})
        for _ in range(HISTORY_PAGES):
            try:
                response = await self._call(
                    target,
                    method,
                    channel=target.address,
                    oldest=f"{since - CLOCK_SLACK:.6f}",
                    include_all_metadata=True,
                    limit=200,
                    **thread,
                    **({"cursor": cursor} if cursor else {}),
                )
            except PermanentError as exc:
                raise CannotTell(f"cannot read the channel's history to check ({exc})") from None
            for message in response.get("messages", []):
                metadata = message.get("metadata") or {}
                event = metadata.get("event_payload") or {}
                if metadata.get("event_type") == METADATA_EVENT and event.get("nonce") == ref.nonce:
                    return str(message["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None  # every message since the claim was seen: it did not arrive
        raise CannotTell(f"{target.key}: too many messages since the claim to search them all")

    async def _call(self, target: Target, method: str, **kwargs: Any) -> Any:
        try:
            return await getattr(self._web(target), method)(**kwargs)
        except SlackApiError as exc:
            raise self._api_error(target, exc) from None
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc, target.key, "Slack", self._safe) from None

    def _api_error(self, target: Target, exc: SlackApiError) -> DeliveryError:
        response = exc.response
        status = response.status_code
        data = response.data if isinstance(response.data, dict) else {}
        code = data.get("error")
        error = str(code or f"HTTP {status}")
        if status == 429 or error == "ratelimited":
            return RateLimited(f"{target.key}: rate limited by Slack", (response.headers or {}).get("Retry-After"))
        if status >= 500 or error in ("internal_error", "fatal_error", "service_unavailable", "request_timeout"):
            # a gateway error or fatal_error can come after Slack stored the message: look before sending again
            answered = f"{error} (HTTP {status})" if code else error  # a gateway's page has no error code
            return TransientError(f"{target.key}: Slack answered {answered}", maybe_sent=True)
        fix = _slack_fix(target, error, data, self.settings, self._token_name(target))
        return PermanentError(self._safe(f"{target.key}: Slack refused: {error} — {fix}"), error)

    async def _webhook(self, target: Target, payload: dict[str, Any]) -> None:
        client = AsyncWebhookClient(
            self.secrets.get(target.address),
            timeout=int(max(1, self.timeout)),
            session=self._session_for_requests(),
            retry_handlers=[],
        )
        try:
            response = await client.send_dict(body=payload)
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc, target.key, "the webhook", self._safe) from None
        status = response.status_code
        if 200 <= status < 300:
            return
        body = self._safe(str(response.body or "")[:200])
        if status == 429:
            raise RateLimited(f"{target.key}: rate limited by Slack", (response.headers or {}).get("Retry-After"))
        if status >= 500:
            # the message may be in the channel already, and a webhook's channel cannot be searched
            raise TransientError(f"{target.key}: Slack webhook answered HTTP {status}", maybe_sent=True)
        fixes = {
            404: f"the webhook no longer exists: create a new incoming webhook and put its URL in {target.address}",
            410: f"the webhook's channel is archived: unarchive it or point {target.address} at a new webhook",
            403: f"Slack forbids posting through this webhook: check the app's installation, then {target.address}",
        }
        fix = fixes.get(status, "the payload was refused; this is a bug in pprfeed, please report it")
        raise PermanentError(f"{target.key}: Slack webhook refused: {body or status} (HTTP {status}) — {fix}", body)

    def _safe(self, text: str) -> str:
        return self.secrets.redact(text)


def _slack_fix(target: Target, error: str, data: dict[str, Any], settings: PlatformSettings, token_name: str) -> str:
    if error == "channel_not_found":
        return "check the id in [[slack.channels]]; a private channel must invite the bot before it can be found"
    if error == "not_in_channel":
        return f"invite the bot into {target.address} (type /invite @<your app> in the channel)"
    if error == "is_archived":
        return f"the channel is archived: unarchive it, or remove {target.address} from pprfeed.toml"
    if error in _TOKEN_ERRORS and token_name != settings.token_env:
        return "the workspace's installation is no longer valid: someone there adds the app again (Add to Slack)"
    if error in _TOKEN_ERRORS:
        return (
            f"the token in {settings.token_env} is not valid any more: "
            "reinstall the Slack app and export the new bot token"
        )
    if error == "missing_scope":
        needed = data.get("needed") or "chat:write"
        return f"the Slack app lacks the {needed} scope: add it under OAuth & Permissions and reinstall the app"
    return "see https://api.slack.com/methods for what this error means"
