"""Where issues are posted, as delivery sees it at run time.

The targets, platform settings and secrets are read and checked with the rest
of pprfeed.toml in config.py; this module adds what publishing needs on top:
keeping every secret out of the log while it runs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pprfeed.config import PlatformSettings, PublishSettings, Secrets, Target
from pprfeed.state import State, Subscription, pause_reason

if TYPE_CHECKING:
    from pprfeed.publish.deliver import TargetReport

__all__ = [
    "PlatformSettings",
    "PublishSettings",
    "RedactingFilter",
    "Secrets",
    "Target",
    "pause_gone_channels",
    "with_subscriptions",
]


class RedactingFilter(logging.Filter):
    """Installed on the log handlers while publishing: no token or webhook URL reaches a log line."""

    def __init__(self, secrets: Secrets) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg = self.secrets.redact(message)
        record.args = ()
        return True


def with_subscriptions(configured: Sequence[Target], subscriptions: Sequence[Subscription]) -> tuple[Target, ...]:
    """The configured targets, then each active subscription's channel not configured already: a channel both
    configured and subscribed is one target (the configured one, with its settings), so it gets one post."""
    keys = {target.key for target in configured}
    added: dict[str, Target] = {}
    for subscription in subscriptions:
        target = subscription.target
        if subscription.paused is None and target.key not in keys:
            added.setdefault(target.key, target)
    return (*configured, *added.values())


def pause_gone_channels(reports: Sequence[TargetReport], state: State) -> list[tuple[str, str]]:
    """Pause the subscription of every channel whose delivery was refused because the channel is gone or closed
    (archived, deleted, the app removed, permissions taken away); returns (target key, reason) for each."""
    paused = []
    for report in reports:
        reason = pause_reason(report.target.platform, report.error_code)
        if reason is None or report.target.kind != "channel":
            continue
        if state.pause(report.target.platform, report.target.address, reason):
            paused.append((report.target.key, reason))
    return paused
