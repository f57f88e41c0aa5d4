"""Where issues are posted, as delivery sees it at run time.

The targets, platform settings and secrets are read and checked with the rest
of pprfeed.toml in config.py; this module adds what publishing needs on top:
keeping every secret out of the log while it runs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from pprfeed.config import Secrets, Target
from pprfeed.model import Archive
from pprfeed.state import State, Subscription, pause_reason

if TYPE_CHECKING:
    from pprfeed.publish.deliver import TargetReport
    from pprfeed.publish.ledger import Ledger


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


def skip_while_away(
    archive: Archive, configured: Sequence[Target], subscriptions: Sequence[Subscription], ledger: Ledger, today: date
) -> None:
    """A channel that unsubscribed (or was paused) and subscribes again is a target the ledger already knows, so
    by itself it would get every issue published while it was away. As for a new target, it gets only its
    `backfill` newest matching issues published before it subscribed: the older ones it never had are recorded
    as skipped (the same every run: `since` is fixed). Issues with any part recorded are left as they are."""
    keys = {target.key for target in configured}
    published = archive.published(today).issues
    for subscription in subscriptions:
        target = subscription.target
        added = ledger.added_at(target.key)
        if subscription.paused is not None or target.key in keys or added is None:
            continue  # a new target gets its backfill from plan_deliveries itself
        since = datetime.fromisoformat(subscription.since)
        if datetime.fromisoformat(added) >= since:
            continue  # the ledger first saw it under this subscription: nothing was missed
        before = [issue for issue in published if issue.published <= since.date()]
        matching = [issue for issue in before if any(target.wants(a.topics) for a in issue.articles)]
        keep = {issue.month for issue in matching[: target.backfill]}
        begun = set(ledger.formats(target.key))
        skip = [issue.month for issue in before if issue.month not in keep and issue.month not in begun]
        if skip:
            ledger.add_target(target.key, skip)


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
