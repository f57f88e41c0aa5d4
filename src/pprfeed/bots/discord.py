"""The Discord `/topic` bot: an app_commands tree with autocomplete, and buttons that survive restarts.

- `/topic query:<text>` answers with an ephemeral embed (a page of 5 entries),
  with Previous / Next / Share buttons. Autocomplete offers topics matching what
  has been typed (at most 25, as Discord allows).
- The buttons are `discord.ui.DynamicItem`s: their custom_id carries the action,
  page and query (`ppr:n:1:alliance`), so a click is answered by whichever
  process is running, even one started after the message was sent.
- Only the (unprivileged) guilds intent: slash commands and clicks arrive as interactions.
  Nothing the bot sends may ping anyone (`allowed_mentions` none everywhere).
- `sync_commands` registers the command with Discord (`pprfeed discord sync`);
  `run` does not, since re-registering on every start is rate-limited.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import aiohttp
import discord
from discord import app_commands

from pprfeed.bots.errors import RegistrationRefused, ServiceUnreachable, TokenRefused
from pprfeed.bots.live import LiveArchive
from pprfeed.chat import discord as chat
from pprfeed.chat.answers import Action, ButtonState, ask

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()


class TopicBot(discord.Client):
    """A gateway client whose only job is the `/topic` command and its buttons."""

    def __init__(self, live: LiveArchive | None, command_name: str = "topic", **options: Any) -> None:
        super().__init__(intents=discord.Intents(guilds=True), allowed_mentions=NO_PINGS, **options)
        self.live = live
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(topic_command(command_name))
        self._watcher: asyncio.Task[None] | None = None

    async def setup_hook(self) -> None:
        self.add_dynamic_items(ResultButton)
        if self.live is not None:
            self._watcher = asyncio.create_task(self.live.watch())

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
        await super().close()

    def answer(self, query: str, page: int = 0, shared: bool = False) -> chat.DiscordAnswer:
        if self.live is None:
            raise RuntimeError("this client was built to register commands, not to answer them")
        snapshot = self.live.snapshot
        return chat.answer(ask(snapshot.engine, query), page, snapshot.context, shared=shared)


def topic_command(name: str) -> app_commands.Command[Any, ..., None]:
    @app_commands.command(name=name, description="PPRNet research summaries on a topic (or mentioning some words)")
    @app_commands.describe(query="a topic, e.g. alliance; or words to look for; leave empty for the topic list")
    async def topic(interaction: discord.Interaction, query: str | None = None) -> None:
        bot = _bot(interaction)
        message = bot.answer(query or "")
        await interaction.response.send_message(
            embed=discord.Embed.from_dict(message.embed),
            view=_view(message),
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )

    @topic.autocomplete("query")
    async def complete(interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
        bot = _bot(interaction)
        if bot.live is None:
            return []
        engine = bot.live.snapshot.engine
        choices = chat.choices(engine.complete(typed), engine.counts)
        return [app_commands.Choice(name=choice["name"], value=choice["value"]) for choice in choices]

    return topic


class ResultButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=re.compile(chat.CUSTOM_ID_PATTERN, re.S)):
    """Previous / Next / Share, rebuilt from the custom_id of whatever message was clicked."""

    def __init__(self, custom_id: str, label: str, style: discord.ButtonStyle) -> None:
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=custom_id))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ResultButton:
        button = item if isinstance(item, discord.ui.Button) else None
        label = (button.label if button else None) or "…"
        style = button.style if button else discord.ButtonStyle.secondary
        return cls(match.group(0), label, style)

    async def callback(self, interaction: discord.Interaction) -> None:
        state: ButtonState | None = chat.parse_custom_id(self.item.custom_id or "")
        if state is None:
            return
        bot = _bot(interaction)
        if state.action is Action.SHARE:
            message = bot.answer(state.query, state.page, shared=True)
            await interaction.response.send_message(
                embed=discord.Embed.from_dict(message.embed), allowed_mentions=NO_PINGS
            )
            return
        message = bot.answer(state.query, state.page)
        await interaction.response.edit_message(
            embed=discord.Embed.from_dict(message.embed), view=_view(message), allowed_mentions=NO_PINGS
        )


def _bot(interaction: discord.Interaction) -> TopicBot:
    client = interaction.client
    if not isinstance(client, TopicBot):
        raise RuntimeError("the /topic command runs only on a TopicBot")
    return client


def _view(message: chat.DiscordAnswer) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for button in message.buttons:
        view.add_item(ResultButton(button.custom_id, button.label, getattr(discord.ButtonStyle, button.style)))
    return view


async def run(bot: TopicBot, token: str) -> None:
    try:
        async with bot:
            await bot.start(token)
    except discord.LoginFailure:
        raise TokenRefused("Discord refused the token") from None
    except (discord.HTTPException, discord.GatewayNotFound) as exc:  # a 5xx at login, no gateway to be had
        raise ServiceUnreachable(str(exc)) from None
    except (OSError, aiohttp.ClientError) as exc:
        raise ServiceUnreachable(str(exc)) from None


async def sync_commands(token: str, command_name: str, guild_id: int | None = None) -> list[str]:
    """Register the command globally (may take up to an hour to show) or in one guild (at once)."""
    bot = TopicBot(None, command_name)
    try:
        async with bot:
            await bot.login(token)
            if guild_id is None:
                synced = await bot.tree.sync()
            else:
                guild = discord.Object(id=guild_id)
                bot.tree.copy_global_to(guild=guild)
                synced = await bot.tree.sync(guild=guild)
    except discord.LoginFailure:
        raise TokenRefused("Discord refused the token") from None
    except discord.HTTPException as exc:
        raise RegistrationRefused(str(exc)) from None
    except (OSError, aiohttp.ClientError) as exc:
        raise ServiceUnreachable(str(exc)) from None
    return [command.name for command in synced]
