"""What every platform adapter speaks: part references and the outcomes of a request (no SDK here)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from pprfeed.config import Target


@dataclass(frozen=True)
class PartRef:
    """Which part of which issue a request carries; `nonce` is fixed when the part is first claimed."""

    issue: str
    part: int
    parts: int
    nonce: str
    marker: str = ""
    """A line that identifies this part's message where the platform keeps no metadata (Discord's heading)."""
    thread: str | None = None
    """The remote id of the message this part replies to in its thread (Slack `thread_ts`), if it is a reply."""


class DeliveryError(Exception):
    """A request did not succeed; the message is safe to show (no secrets) and names what to do."""


class PermanentError(DeliveryError):
    """Retrying will not help until a person changes something (token, channel, permissions)."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class RateLimited(DeliveryError):
    def __init__(self, message: str, retry_after: str | float | None) -> None:
        """`retry_after`: the Retry-After header's value; missing or not a number, one second."""
        super().__init__(message)
        try:
            self.retry_after = max(0.0, float(retry_after if retry_after is not None else 1))
        except (TypeError, ValueError):
            self.retry_after = 1.0


class TransientError(DeliveryError):
    """Worth retrying. `maybe_sent`: the request may have reached the platform (timeout, dropped connection)."""

    def __init__(self, message: str, *, maybe_sent: bool) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


class CannotTell(DeliveryError):
    """Whether a message arrived cannot be checked (webhooks, missing history permission)."""


class Poster(Protocol):
    """One platform's adapter. Payloads are the plain data chat/slack.py or chat/discord.py made."""

    async def post(self, target: Target, payload: dict[str, Any], ref: PartRef) -> str | None:
        """Send one part; returns the remote message id (None where the platform gives none)."""

    async def edit(self, target: Target, remote_id: str, payload: dict[str, Any], ref: PartRef) -> None:
        """Replace an already-posted part's text in place."""

    async def find(self, target: Target, ref: PartRef, since: float) -> str | None:
        """The id of this part's message if the platform has it; None when it is safe to send it (again).

        Raises CannotTell when neither can be established.
        """

    async def close(self) -> None: ...


TRANSPORT_ERRORS = (asyncio.TimeoutError, aiohttp.ClientError, OSError)
"""What a request can fail with below HTTP: no connection, no answer, a dropped connection."""


def transport_error(exc: BaseException, where: str, service: str, redact: Callable[[str], str]) -> TransientError:
    """A refused connection cannot have delivered anything; a request lost after it left may have."""
    if isinstance(exc, (aiohttp.ClientConnectorError, ConnectionRefusedError)):
        return TransientError(redact(f"{where}: cannot connect to {service} ({exc})"), maybe_sent=False)
    return TransientError(redact(f"{where}: no answer from {service} ({type(exc).__name__})"), maybe_sent=True)
