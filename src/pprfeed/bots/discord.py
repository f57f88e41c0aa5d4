"""The Discord `/topic` bot: an app_commands tree with autocomplete, and buttons that survive restarts.

- `/topic query:<text>` answers with an ephemeral embed (a page of 5 entries),
  with Previous / Next / Share buttons. Autocomplete offers topics matching what
  has been typed (at most 25, as Discord allows).
- The buttons are `discord.ui.DynamicItem`s: their custom_id carries the action,
  page and query (`ppr:n:1:alliance`), so a click is answered by whichever
  process is running, even one started after the message was sent.
- Only the (unprivileged) guilds intent: slash commands and clicks arrive as interactions.
  Nothing the bot sends may ping anyone (`allowed_mentions` none everywhere).
- `/subscribe [topics] [channel]`, `/unsubscribe [topics] [channel]`, `/subscriptions`: the server's channels
  subscribe themselves to the digest (kept in state.py, delivered by `pprfeed publish`). Manage Channels is
  needed by default (`default_permissions`); a server can change that in its integration settings, and the bot
  does not second-guess it. Leaving a server (`on_guild_remove`) pauses its subscriptions.
- `sync_commands` registers the commands with Discord (`pprfeed discord sync`);
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
from pprfeed.chat import answers
from pprfeed.chat import discord as chat
from pprfeed.chat.answers import Action, ButtonState, ask, choose_topics
from pprfeed.state import State, merged_topics

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()


class TopicBot(discord.Client):
    """A gateway client whose only job is the `/topic` command and its buttons."""

    def __init__(
        self, live: LiveArchive | None, command_name: str = "topic", state: State | None = None, **options: Any
    ) -> None:
        super().__init__(intents=discord.Intents(guilds=True), allowed_mentions=NO_PINGS, **options)
        self.live = live
        self.state = state
        """Where subscriptions are kept; None: /subscribe says subscriptions are not set up."""
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(topic_command(command_name))
        for command in subscription_commands():
            self.tree.add_command(command)
        self._watcher: asyncio.Task[None] | None = None

    async def on_guild_remove(self, guild: discord.abc.Snowflake) -> None:
        """Removed from a server (kicked, or the server deleted): its channels get nothing until re-subscribed."""
        if self.state is not None:
            paused = self.state.pause("discord", None, "the bot was removed from the server", workspace=str(guild.id))
            log.info("removed from server %s: %d subscriptions paused", guild.id, paused)

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


def subscription_commands() -> list[app_commands.Command[Any, ..., None]]:
    """/subscribe, /unsubscribe and /subscriptions: in servers only, for members who may manage channels."""

    @app_commands.command(name="subscribe", description="Post each new PPRNet research digest in this channel")
    @app_commands.describe(
        topics="topics, separated by commas (start typing to pick); leave empty for every article",
        channel="the channel to post in (default: this one)",
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_channels=True)
    async def subscribe(
        interaction: discord.Interaction,
        topics: str | None = None,
        channel: app_commands.AppCommandChannel | None = None,
    ) -> None:
        await _private(interaction, await _subscribe(interaction, topics or "", channel))

    @app_commands.command(name="unsubscribe", description="Stop the PPRNet digest in this channel (or some topics)")
    @app_commands.describe(
        topics="topics to drop, separated by commas; leave empty to stop entirely",
        channel="the subscribed channel (default: this one)",
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_channels=True)
    async def unsubscribe(
        interaction: discord.Interaction,
        topics: str | None = None,
        channel: app_commands.AppCommandChannel | None = None,
    ) -> None:
        await _private(interaction, _unsubscribe(interaction, topics or "", channel))

    @app_commands.command(name="subscriptions", description="This server's channels that get the PPRNet digest")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_channels=True)
    async def subscriptions(interaction: discord.Interaction) -> None:
        await _private(interaction, _subscriptions(interaction))

    async def complete(interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
        bot = _bot(interaction)
        if bot.live is None:
            return []
        engine = bot.live.snapshot.engine
        found = chat.topic_choices(typed, engine.complete(typed.rpartition(",")[2].strip()), engine.counts)
        return [app_commands.Choice(name=choice["name"], value=choice["value"]) for choice in found]

    subscribe.autocomplete("topics")(complete)
    unsubscribe.autocomplete("topics")(complete)
    return [subscribe, unsubscribe, subscriptions]


NOT_SET_UP = "Subscriptions are not set up here: the bot runs without a [state] file. Ask whoever runs PPRNet's bot."


async def _private(interaction: discord.Interaction, content: str) -> None:
    await interaction.response.send_message(content, ephemeral=True, allowed_mentions=NO_PINGS)


async def _subscribe(
    interaction: discord.Interaction, text: str, channel: app_commands.AppCommandChannel | None
) -> str:
    bot = _bot(interaction)
    if bot.state is None or bot.live is None or interaction.guild_id is None:
        return chat.notice(NOT_SET_UP)
    snapshot = bot.live.snapshot
    choice = choose_topics(snapshot.engine, text)
    if choice.unknown:
        return chat.notice(f"{answers.unknown_line(choice)} Nothing changed.")
    channel_id = _channel_of(interaction, channel)
    if channel_id is None:
        return chat.notice("Name the channel to subscribe (the channel option).")
    if channel is not None and not channel.permissions.send_messages:
        # nobody makes the bot post where they could not post themselves
        return f"You may not post in <#{channel_id}> yourself, so you cannot subscribe it."
    held = bot.state.subscription("discord", channel_id)
    topics = merged_topics(held.topics if held else (), tuple(topic.slug for topic in choice.topics))
    names = snapshot.context.topic_names
    # the public line first: a channel the bot may not post in cannot get the digest either
    try:
        await bot.get_partial_messageable(int(channel_id)).send(
            chat.notice(answers.subscribed_public(topics, names)), allowed_mentions=NO_PINGS
        )
    except (discord.Forbidden, discord.NotFound):
        return (
            f"PPRNet may not post in <#{channel_id}>: give it the View Channel and Send Messages permissions "
            "there first, then subscribe again."
        )
    except discord.HTTPException as exc:
        log.warning("could not post in %s: %s", channel_id, exc)
        return chat.notice(f"Discord refused to let PPRNet post there ({exc.status}); nothing changed.")
    bot.state.subscribe("discord", str(interaction.guild_id), channel_id, topics, str(interaction.user.id))
    return chat.notice(answers.subscribed_private(topics, names, "/unsubscribe"))


def _unsubscribe(interaction: discord.Interaction, text: str, channel: app_commands.AppCommandChannel | None) -> str:
    bot = _bot(interaction)
    if bot.state is None or bot.live is None:
        return chat.notice(NOT_SET_UP)
    snapshot = bot.live.snapshot
    choice = choose_topics(snapshot.engine, text)
    if choice.unknown:
        return chat.notice(f"{answers.unknown_line(choice)} Nothing changed.")
    channel_id = _channel_of(interaction, channel)
    held = bot.state.subscription("discord", channel_id) if channel_id else None
    if channel_id is None or held is None or held.workspace != str(interaction.guild_id):
        return chat.notice(answers.not_subscribed("/subscribe"))
    left = bot.state.unsubscribe("discord", channel_id, [topic.slug for topic in choice.topics])
    return chat.notice(
        answers.unsubscribed_private(left.topics if left else None, snapshot.context.topic_names, "/subscribe")
    )


def _channel_of(interaction: discord.Interaction, channel: app_commands.AppCommandChannel | None) -> str | None:
    """The channel option's id, else the id of the channel the command was used in."""
    found = channel.id if channel is not None else interaction.channel_id
    return None if found is None else str(found)


def _subscriptions(interaction: discord.Interaction) -> str:
    bot = _bot(interaction)
    if bot.state is None or bot.live is None:
        return chat.notice(NOT_SET_UP)
    names = bot.live.snapshot.context.topic_names
    here = bot.state.subscription("discord", str(interaction.channel_id))
    lines = [
        (
            s.channel,
            f"{answers.topic_names_line(s.topics, names)} · since {s.since[:10]} · "
            f"{answers.subscription_state(s.paused)}",
        )
        for s in bot.state.subscriptions("discord", workspace=str(interaction.guild_id))
    ]
    summary = None
    if here is not None and here.workspace == str(interaction.guild_id):
        summary = f"{answers.topic_names_line(here.topics, names)} ({answers.subscription_state(here.paused)})"
    return chat.subscriptions_list(summary, lines)


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
    # a 5xx at login, no gateway to be had, no network
    except (discord.HTTPException, discord.GatewayNotFound, OSError, aiohttp.ClientError) as exc:
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
