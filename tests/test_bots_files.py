"""bots/: the Slack manifests (the /ppr-topic bot's and the publisher's), the Discord set-up notes and the systemd
units agree with the code."""

from __future__ import annotations

import configparser
import shlex

import yaml

from conftest import ROOT
from pprfeed.bots.slack import INSTALL_SCOPES, SUBSCRIBE_COMMAND
from pprfeed.cli import build_parser
from pprfeed.config import BotSettings

BOTS = ROOT / "bots"


def manifest(name: str) -> dict:
    return yaml.safe_load((BOTS / "slack" / name).read_text(encoding="utf-8"))


def test_slack_manifests_ask_for_the_configured_command_and_ppr():
    http, socket = manifest("manifest.yml"), manifest("manifest-socket.yml")
    for app in (http, socket):
        command, subcommands = app["features"]["slash_commands"]
        assert command["command"] == BotSettings().slack_command != "/topic"
        assert subcommands["command"] == SUBSCRIBE_COMMAND
        assert app["oauth_config"]["scopes"] == {
            "bot": ["commands", "chat:write", "users:read", "channels:history", "groups:history"]
        }
        assert app["settings"]["interactivity"]["is_enabled"] is True
    assert http["settings"]["socket_mode_enabled"] is False
    assert http["features"]["slash_commands"][0]["url"].endswith("/slack/commands")
    assert http["settings"]["interactivity"]["request_url"].endswith("/slack/interactions")
    assert socket["settings"]["socket_mode_enabled"] is True
    assert all("url" not in command for command in socket["features"]["slash_commands"])
    assert "request_url" not in socket["settings"]["interactivity"]


def test_an_install_asks_for_the_manifest_s_scopes_and_no_more():
    assert manifest("manifest.yml")["oauth_config"]["scopes"]["bot"] == list(INSTALL_SCOPES)


def test_the_http_manifest_redirects_installs_to_the_oauth_route():
    assert manifest("manifest.yml")["oauth_config"]["redirect_urls"][0].endswith("/slack/oauth_redirect")


def test_the_http_manifest_sends_events_to_the_events_route():
    assert manifest("manifest.yml")["settings"]["event_subscriptions"]["request_url"].endswith("/slack/events")


def test_both_bot_manifests_subscribe_to_uninstalls_and_revoked_tokens_only():
    assert [
        manifest(name)["settings"]["event_subscriptions"]["bot_events"]
        for name in ("manifest.yml", "manifest-socket.yml")
    ] == [["app_uninstalled", "tokens_revoked"]] * 2


def test_the_publisher_manifest_asks_for_posting_and_reading_back_only():
    app = manifest("manifest-publisher.yml")
    assert app["oauth_config"]["scopes"] == {"bot": ["chat:write", "channels:history", "groups:history"]}
    assert "slash_commands" not in app["features"]
    assert "interactivity" not in app["settings"]
    assert app["features"]["bot_user"]["display_name"]


def test_every_manifest_in_bots_slack_is_tested():
    assert sorted(path.name for path in (BOTS / "slack").glob("*.yml")) == [
        "manifest-publisher.yml",
        "manifest-socket.yml",
        "manifest.yml",
    ]


def test_discord_notes_give_the_invite_with_minimal_permissions():
    notes = (BOTS / "discord" / "README.md").read_text(encoding="utf-8")
    assert "scope=bot+applications.commands&permissions=84992" in notes
    assert "pprfeed discord sync" in notes and "DISCORD_BOT_TOKEN" in notes


def test_service_units_run_real_commands_and_keep_secrets_in_environment_files():
    parser = build_parser()
    units = [BOTS / "systemd" / name for name in ("pprfeed-slack.service", "pprfeed-discord.service")]
    for unit in units:
        config = configparser.ConfigParser(strict=False, interpolation=None)
        config.read_string(unit.read_text(encoding="utf-8"))
        service = config["Service"]
        program, *arguments = shlex.split(service["ExecStart"])
        assert program.endswith("/pprfeed")
        parser.parse_args(arguments)  # exits on an unknown subcommand or option
        assert service["EnvironmentFile"].startswith("/etc/pprfeed/")
        assert "environment" not in service  # no inline Environment= line that could hold a secret
