"""Posting issues: `deliver.py` decides what is due and sends it exactly once, recording every part in `ledger.py`.

`slack.py` and `discord.py` are the only modules here that import slack_sdk or
discord: thin adapters from the payloads chat/ made to HTTP requests. Each turns
the SDK's outcomes into the project's own (`base.py`): a remote message id, or
PermanentError / RateLimited / TransientError / CannotTell, with every secret
redacted from the message.
"""

from __future__ import annotations

from typing import Any

from pprfeed.config import PublishSettings, Target
from pprfeed.publish.base import PartRef, Poster


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


def wire_request(target: Target, payload: dict[str, Any], ref: PartRef) -> dict[str, Any]:
    """The request that would post `payload` as part `ref` to `target`: method, endpoint and JSON body, the body
    built by the adapter that sends it (the webhook's URL, a secret, is named by its variable only)."""
    if target.platform == "slack":
        from .slack import wire_body as slack_body

        endpoint = f"webhook {target.address}" if target.kind == "webhook" else "chat.postMessage"
        return {"method": "POST", "endpoint": endpoint, "body": slack_body(target, payload, ref)}
    from .discord import wire_body as discord_body

    if target.kind == "webhook":
        endpoint = f"webhook {target.address} /webhooks/<id>/<token>?wait=true"
    else:
        endpoint = f"/channels/{target.address}/messages"
    return {"method": "POST", "endpoint": endpoint, "body": discord_body(target, payload, ref)}
