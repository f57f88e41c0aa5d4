"""Posting issues: `deliver.py` decides what is due and sends it exactly once, recording every part in `ledger.py`.

`slack.py` and `discord.py` are the only modules here that import slack_sdk or
discord: thin adapters from the payloads chat/ made to HTTP requests. Each turns
the SDK's outcomes into the project's own (`base.py`): a remote message id, or
PermanentError / RateLimited / TransientError / CannotTell, with every secret
redacted from the message.
"""

from __future__ import annotations

from pprfeed.publish.base import Poster
from pprfeed.publish.targets import PublishSettings


def open_posters(settings: PublishSettings, timeout: float) -> dict[str, Poster]:
    """One adapter per platform the targets use (imported only then: a Slack-only setup never loads discord)."""
    posters: dict[str, Poster] = {}
    platforms = {target.platform for target in settings.targets}
    if "slack" in platforms:
        from .slack import SlackPoster

        posters["slack"] = SlackPoster(settings.slack, settings.secrets, timeout)
    if "discord" in platforms:
        from .discord import DiscordPoster

        posters["discord"] = DiscordPoster(settings.discord, settings.secrets, timeout)
    return posters
