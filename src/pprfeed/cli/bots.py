"""`pprfeed slack serve|socket` and `pprfeed discord run|sync`: the /topic bots."""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pprfeed.bots.errors import CannotListen, RegistrationRefused, ServiceUnreachable, TokenRefused
from pprfeed.cli.common import UsageError, add_config_option, add_content_option, print_diagnostics
from pprfeed.config import (
    BotSettings,
    PublishSettings,
    Settings,
    load_bot_settings,
    load_publish_settings,
    load_settings,
)

if TYPE_CHECKING:  # imported by the commands that run a bot: other commands start faster
    from pprfeed.bots.live import LiveArchive
    from pprfeed.state import State

log = logging.getLogger(__name__)

SLACK_SECRET_HELP = "copy it from your Slack app's Basic Information page (Signing Secret)"
SLACK_APP_TOKEN_HELP = "create an app-level token with the connections:write scope (Basic Information page, xapp-…)"
SLACK_CLIENT_SECRET_HELP = "copy it from your Slack app's Basic Information page (Client Secret)"
DISCORD_TOKEN_HELP = "copy it from the Discord developer portal: your application, Bot, Reset Token"


def register(commands: argparse._SubParsersAction) -> None:
    slack = commands.add_parser(
        "slack",
        help="run the Slack bot: /ppr (topic, subscribe, …) and /ppr-topic, over HTTP or Socket Mode",
        description="Answer the Slack slash command (default /ppr-topic, see [bots] slack_command) from the archive.",
    )
    slack_commands = slack.add_subparsers(
        dest="slack_command", metavar="MODE", required=True, help="serve (HTTP endpoint) or socket (Socket Mode)"
    )
    serve = slack_commands.add_parser(
        "serve",
        help="serve POST /slack/commands, POST /slack/interactions and GET /healthz over HTTP",
        description="HTTP endpoint for Slack. Needs SLACK_SIGNING_SECRET in the environment. "
        "Put it behind HTTPS and give Slack https://<host>/slack/commands and /slack/interactions.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=3000, help="port to listen on (default: 3000)")
    socket = slack_commands.add_parser(
        "socket",
        help="connect to Slack over Socket Mode (no public URL needed)",
        description="Socket Mode client. Needs SLACK_APP_TOKEN (xapp-…, connections:write) in the environment.",
    )
    for parser in (serve, socket):
        add_content_option(parser)
        add_config_option(parser)
        parser.set_defaults(handler=run_slack)

    discord = commands.add_parser(
        "discord",
        help="run the Discord bot (/topic, /subscribe, …), or register its commands",
        description="The Discord bot: /topic (see [bots] discord_command), /subscribe, /unsubscribe, /subscriptions. "
        "Needs DISCORD_BOT_TOKEN in the environment.",
    )
    discord_commands = discord.add_subparsers(
        dest="discord_command",
        metavar="ACTION",
        required=True,
        help="run (answer the commands) or sync (register them)",
    )
    run = discord_commands.add_parser(
        "run",
        help="connect to the gateway and answer /topic and the subscription commands",
        description="Connect to Discord and answer /topic, /subscribe, /unsubscribe and /subscriptions. "
        "Register the commands once first with `pprfeed discord sync`.",
    )
    add_content_option(run)
    add_config_option(run)
    run.set_defaults(handler=run_discord)
    sync = discord_commands.add_parser(
        "sync",
        help="register the commands with Discord (once, and after upgrading pprfeed)",
        description="Register the slash command globally (can take up to an hour to appear) "
        "or, with --guild, in one server at once.",
    )
    sync.add_argument("--guild", type=int, metavar="ID", help="register in this server only (its numeric id)")
    add_config_option(sync)
    sync.set_defaults(handler=run_discord_sync)


def _settings(args: argparse.Namespace) -> tuple[Settings, BotSettings]:
    settings, diagnostics = load_settings(args.config)
    print_diagnostics(diagnostics)
    if settings is None:
        raise UsageError("fix the settings file and try again")
    bot_settings, bot_diagnostics = load_bot_settings(settings)
    print_diagnostics(bot_diagnostics)
    if bot_settings is None:
        raise UsageError("fix the [bots] section and try again")
    return settings, bot_settings


def _secret(name: str, where: str) -> str:
    """The value of environment variable `name` (never logged or printed); a usage error naming it if unset."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise UsageError(f"environment variable {name} is not set: {where}")
    return value


def _live(args: argparse.Namespace, settings: Settings, bots: BotSettings, command: str) -> LiveArchive:
    """The bot's archive, loaded; a usage error listing the problems when the content has any."""
    from pprfeed.bots.live import ArchiveUnavailable, LiveArchive

    live = LiveArchive(args.content, site=settings.site, command=command, check_every=bots.reload_seconds)
    try:
        live.load()
    except ArchiveUnavailable as exc:
        print_diagnostics(exc.diagnostics)
        raise UsageError(f"{args.content} has problems; fix them (see `pprfeed check`) and start again") from None
    return live


def _publishing(settings: Settings) -> PublishSettings:
    """[state], [slack] and [discord]: where subscriptions are kept, the bot tokens' names, who may subscribe."""
    publishing, diagnostics = load_publish_settings(settings, None, os.environ, need_secrets=False)
    print_diagnostics(diagnostics)
    if publishing is None:
        raise UsageError("fix the [state], [slack] or [discord] section and try again")
    return publishing


def _state(path: Path) -> State:
    from pprfeed.state import State

    try:
        return State(path)
    except (OSError, sqlite3.Error) as exc:
        raise UsageError(
            f"the state file {path} cannot be opened ({exc}); set [state] path to a file in a folder you may write"
        ) from None


def _reencrypt(state: State) -> None:
    """Every installed workspace's token under PPRFEED_SECRET_KEY's first key: a rotation is done by a restart."""
    from pprfeed.state import StateError

    try:
        count = state.reencrypt_tokens()
    except StateError as exc:
        raise UsageError(str(exc)) from None
    if count:
        log.info("%s encrypted with the first key of PPRFEED_SECRET_KEY", count)


def _port(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1 to 65535)")
    return int(text)


def run_slack(args: argparse.Namespace) -> int:
    settings, bots = _settings(args)
    serve = args.slack_command == "serve"
    secret = _secret("SLACK_SIGNING_SECRET", SLACK_SECRET_HELP) if serve else ""
    token = "" if serve else _secret("SLACK_APP_TOKEN", SLACK_APP_TOKEN_HELP)

    from pprfeed.bots.slack import SlackBot, SlackOAuth, run_socket_mode, serve_http, web_client

    publishing = _publishing(settings)
    installs = bool(publishing.slack.client_id)
    oauth = None
    if installs and serve:
        oauth = SlackOAuth(
            publishing.slack.client_id,
            _secret(publishing.slack.client_secret_env, SLACK_CLIENT_SECRET_HELP),
            publishing.slack.redirect_uri or None,
            api_base_url=publishing.slack.api_base_url,
        )
    bot_token = os.environ.get(publishing.slack.token_env, "").strip()
    web = None
    if bot_token and not installs:  # installed workspaces each answer with their own token instead
        web = web_client(bot_token, publishing.slack.api_base_url)
    elif not installs:
        log.warning("%s is not set: /ppr subscribe will say subscriptions are not set up", publishing.slack.token_env)
    state = _state(publishing.state_path) if web or installs else None
    if state is not None and installs:
        _reencrypt(state)
    bot = SlackBot(
        _live(args, settings, bots, bots.slack_command),
        # without a bot token there are no subscriptions: the bot then writes nothing where it runs
        state=state,
        web=web,
        subscribe_mode=publishing.slack.subscribe,
        per_workspace=installs,
        api_base_url=publishing.slack.api_base_url,
    )
    if serve:
        print(
            f"pprfeed slack serve: {bot.live.snapshot.articles} articles; answering {bots.slack_command} "
            f"on http://{args.host}:{args.port}/slack/commands",
            file=sys.stderr,
        )
        try:
            serve_http(bot, secret, args.host, args.port, oauth)
        except CannotListen as exc:
            raise UsageError(f"{exc}; check --host, or pick another --port") from None
        return 0
    print(f"pprfeed slack socket: {bot.live.snapshot.articles} articles; connecting to Slack", file=sys.stderr)
    try:
        return _run_async(run_socket_mode(bot, token))
    except TokenRefused as exc:
        raise UsageError(f"Slack refused SLACK_APP_TOKEN ({exc}): {SLACK_APP_TOKEN_HELP}") from None
    except ServiceUnreachable as exc:
        raise UsageError(f"could not reach Slack ({exc}); check the network and try again") from None


def run_discord(args: argparse.Namespace) -> int:
    settings, bots = _settings(args)
    token = _secret("DISCORD_BOT_TOKEN", DISCORD_TOKEN_HELP)

    from pprfeed.bots.discord import TopicBot, run

    live = _live(args, settings, bots, f"/{bots.discord_command}")
    print(f"pprfeed discord run: {live.snapshot.articles} articles; connecting to Discord", file=sys.stderr)
    bot = TopicBot(live, bots.discord_command, state=_state(_publishing(settings).state_path))
    try:
        return _run_async(run(bot, token))
    except TokenRefused:
        raise UsageError("Discord refused DISCORD_BOT_TOKEN: " + DISCORD_TOKEN_HELP) from None
    except ServiceUnreachable as exc:
        raise UsageError(f"could not reach Discord ({exc}); check the network and try again") from None


def run_discord_sync(args: argparse.Namespace) -> int:
    from pprfeed.bots.discord import sync_commands

    _, bots = _settings(args)
    token = _secret("DISCORD_BOT_TOKEN", DISCORD_TOKEN_HELP)
    try:
        import asyncio

        names = asyncio.run(sync_commands(token, bots.discord_command, args.guild))
    except TokenRefused:
        raise UsageError("Discord refused DISCORD_BOT_TOKEN: " + DISCORD_TOKEN_HELP) from None
    except RegistrationRefused as exc:
        raise UsageError(f"Discord refused the command registration: {exc}") from None
    except ServiceUnreachable as exc:
        raise UsageError(f"could not reach Discord ({exc}); check the network and try again") from None
    where = f"server {args.guild}" if args.guild else "every server the bot is in (may take up to an hour)"
    print(f"registered {', '.join('/' + name for name in names) or 'no commands'} in {where}")
    return 0


def _run_async(coroutine: Any) -> int:
    import asyncio

    try:
        asyncio.run(coroutine)
    except KeyboardInterrupt:
        return 0
    return 0
