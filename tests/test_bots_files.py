"""bots/: the Slack manifests, the Discord set-up notes and the systemd units agree with the code."""

from __future__ import annotations

import configparser
import shlex

import yaml

from conftest import ROOT
from pprfeed.cli import build_parser
from pprfeed.config import BotSettings

BOTS = ROOT / "bots"


def manifest(name: str) -> dict:
    return yaml.safe_load((BOTS / "slack" / name).read_text(encoding="utf-8"))


def test_slack_manifests_ask_for_the_configured_command_and_one_scope():
    http, socket = manifest("manifest.yml"), manifest("manifest-socket.yml")
    for app in (http, socket):
        (command,) = app["features"]["slash_commands"]
        assert command["command"] == BotSettings().slack_command != "/topic"
        assert app["oauth_config"]["scopes"] == {"bot": ["commands"]}
        assert app["settings"]["interactivity"]["is_enabled"] is True
    assert http["settings"]["socket_mode_enabled"] is False
    assert http["features"]["slash_commands"][0]["url"].endswith("/slack/commands")
    assert http["settings"]["interactivity"]["request_url"].endswith("/slack/interactions")
    assert socket["settings"]["socket_mode_enabled"] is True
    assert "url" not in socket["features"]["slash_commands"][0]
    assert "request_url" not in socket["settings"]["interactivity"]


def test_discord_notes_give_the_invite_with_minimal_permissions():
    notes = (BOTS / "discord" / "README.md").read_text(encoding="utf-8")
    assert "scope=bot+applications.commands&permissions=0" in notes
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
