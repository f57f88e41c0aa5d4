"""WebSub (W3C Recommendation): tell the hub a feed changed, so subscribed readers fetch it within seconds.

A ping is a form POST of `hub.mode=publish` and `hub.url=<feed>` (the publish request
most hubs take: Google's, Superfeedr, WebSubHub). A hub that is down or refuses costs
readers only the wait for their next poll, so a failed ping is a warning, never an error.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class PingResult:
    feed: str
    error: str | None = None
    """None when the hub accepted the ping (2xx); else what went wrong."""


def ping_hub(hub: str, feeds: Iterable[str], timeout: float = TIMEOUT_SECONDS) -> list[PingResult]:
    """One publish ping per feed URL; every failure is logged as a warning and returned, never raised."""
    import urllib.error  # here: a build without a hub need not import the HTTP client
    import urllib.parse
    import urllib.request

    results = []
    for feed in feeds:
        body = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": feed}).encode("ascii")
        request = urllib.request.Request(
            hub, data=body, method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        error = None
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            error = f"the hub answered {exc.code} {exc.reason}"
        except (urllib.error.URLError, OSError) as exc:
            error = f"the hub could not be reached ({getattr(exc, 'reason', exc)})"
        if error:
            log.warning("WebSub ping of %s for %s failed: %s", hub, feed, error)
        results.append(PingResult(feed, error))
    return results
