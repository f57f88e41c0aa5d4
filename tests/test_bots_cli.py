"""`pprfeed slack …` / `pprfeed discord …`: settings, missing secrets, and the real command started as a process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest

from conftest import CONTENT
from fakes.discord_api import FakeDiscord, discord_py_at
from fakes.slack_api import signed_headers
from pprfeed.cli import build_parser, main
from pprfeed.config import BotSettings, load_bot_settings, load_settings

SECRETS = ("SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "DISCORD_BOT_TOKEN")


@pytest.fixture(autouse=True)
def no_secrets(monkeypatch):
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)


def settings_from(tmp_path: Path, text: str):
    path = tmp_path / "pprfeed.toml"
    path.write_text(text, encoding="utf-8")
    settings, diagnostics = load_settings(path)
    assert settings is not None, diagnostics
    return load_bot_settings(settings)


def test_bots_section_defaults_and_values(tmp_path):
    assert settings_from(tmp_path, "[site]\ntitle = 'x'\n") == (BotSettings(), [])
    bots, problems = settings_from(
        tmp_path, '[bots]\nslack_command = "/pprnet"\ndiscord_command = "ppr"\nreload_seconds = 1\n'
    )
    assert problems == []
    assert bots == BotSettings(slack_command="/pprnet", discord_command="ppr", reload_seconds=1.0)


def test_the_removed_cache_dir_is_a_warning_to_remove_it(tmp_path):
    bots, problems = settings_from(tmp_path, '[bots]\nreload_seconds = 1\ncache_dir = ".pprfeed/cache"\n')
    assert bots == BotSettings(reload_seconds=1.0)
    (problem,) = problems
    assert problem.severity == "warning"
    assert problem.line == 3
    assert problem.message == "[bots] cache_dir is no longer used"
    assert problem.fix.startswith("remove it")


def test_check_config_accepts_the_removed_cache_dir_with_a_note(tmp_path, capsys):
    config = tmp_path / "pprfeed.toml"
    config.write_text("[bots]\ncache_dir = 3\n", encoding="utf-8")
    assert main(["check", "--content", str(CONTENT), "--config", str(config)]) == 0
    captured = capsys.readouterr()
    assert f"{config}:2: warning: [bots] cache_dir is no longer used" in captured.err
    assert f"{config}: OK" in captured.out


@pytest.mark.parametrize(
    ("line", "message", "fix"),
    [
        ('slack_command = "/topic"', "Slack reserves /topic", "/ppr-topic"),
        ('slack_command = "ppr topic"', "is not a Slack command name", "a slash"),
        ('discord_command = "/Topic"', "is not a Discord command name", "without the slash"),
        ("reload_seconds = 0", "out of range", "0.1 to 3600"),
        ("reload_seconds = true", "out of range", "0.1 to 3600"),
        ("reload_secs = 3", 'unknown key "reload_secs"', "reload_seconds"),
    ],
)
def test_bad_bots_settings_name_file_line_and_fix(tmp_path, line, message, fix):
    bots, problems = settings_from(tmp_path, f"[site]\ntitle = 'x'\n\n[bots]\n{line}\n")
    assert bots is None
    (problem,) = problems
    assert problem.line == 5 and problem.path.endswith("pprfeed.toml")
    assert message in problem.message and fix in problem.fix


@pytest.mark.parametrize(
    ("argv", "variable"),
    [
        (["slack", "serve"], "SLACK_SIGNING_SECRET"),
        (["slack", "socket"], "SLACK_APP_TOKEN"),
        (["discord", "run"], "DISCORD_BOT_TOKEN"),
        (["discord", "sync"], "DISCORD_BOT_TOKEN"),
    ],
)
def test_a_missing_secret_is_a_clear_error_naming_the_variable(argv, variable, capsys):
    assert main([*argv, "--content", str(CONTENT)] if argv[1] != "sync" else argv) == 2
    err = capsys.readouterr().err
    assert f"environment variable {variable} is not set" in err
    assert "Traceback" not in err


def test_broken_content_stops_the_bot_with_the_diagnostics(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s3cret-value")
    (tmp_path / "topics.toml").write_text("not toml [", encoding="utf-8")
    (tmp_path / "issues").mkdir()
    assert main(["slack", "serve", "--content", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "topics.toml:1: TOML syntax error" in err and "fix them" in err
    assert "s3cret-value" not in err


def test_every_bot_subcommand_has_help():
    parser = build_parser()
    for command in ("slack", "discord"):
        sub = parser._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr]
        assert sub.description
        for name, action in sub._subparsers._group_actions[0].choices.items():  # type: ignore[union-attr]
            assert action.description, name
            for option in action._actions:
                assert option.help, (name, option.dest)


def test_discord_sync_from_the_command_line_never_prints_the_token(monkeypatch, capsys):
    token = "MTAx.fake.token-value"
    monkeypatch.setenv("DISCORD_BOT_TOKEN", token)
    # on a loop of its own: the command runs asyncio.run() itself
    with FakeDiscord(token=token) as api, discord_py_at(api.base_url):
        assert main(["discord", "sync", "--guild", "42"]) == 0
    out, err = capsys.readouterr()
    assert "registered /topic in server 42" in out
    assert token not in out + err
    assert api.registered[0]["auth"] == f"Bot {token}"


def test_a_token_discord_refuses_is_a_clear_error(monkeypatch, capsys):
    token = "MTAx.revoked.token"
    monkeypatch.setenv("DISCORD_BOT_TOKEN", token)
    # this Discord accepts only another token: the one in the environment was reset
    with FakeDiscord(token="the-current-token") as api, discord_py_at(api.base_url):
        assert main(["discord", "run", "--content", str(CONTENT)]) == 2
        assert main(["discord", "sync"]) == 2
    err = capsys.readouterr().err
    assert err.count("Discord refused DISCORD_BOT_TOKEN") == 2 and "Reset Token" in err
    assert token not in err and "Traceback" not in err


def test_unreachable_discord_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setenv("DISCORD_BOT_TOKEN", "x")
    with discord_py_at(f"http://127.0.0.1:{free_port()}/api/v10"):  # nothing listens there
        assert main(["discord", "sync"]) == 2
    assert "could not reach Discord" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_busy_port_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["slack", "serve", "--port", str(port), "--content", str(CONTENT)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_a_port_out_of_range_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["slack", "serve", "--port", "99999", "--content", str(CONTENT)])
    assert exited.value.code == 2 and "not a port number (1 to 65535)" in capsys.readouterr().err


def test_slack_serve_runs_as_a_real_process(tmp_path):
    """The installed command, started the way systemd starts it, answers a signed request."""
    port = free_port()
    secret = "process-secret"
    env = {**os.environ, "SLACK_SIGNING_SECRET": secret}
    process = subprocess.Popen(
        [sys.executable, "-m", "pprfeed", "slack", "serve", "--port", str(port), "--content", str(CONTENT)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    assert json.load(response)["articles"] == 6
                    break
            except OSError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "slack serve did not start"
                time.sleep(0.05)
        body = urlencode({"command": "/ppr-topic", "text": "alliance", "user_id": "U1"}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/slack/commands", data=body, headers=signed_headers(secret, body)
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            answer = json.load(response)
        assert answer["response_type"] == "ephemeral"
        assert "Alliance and Therapeutic Relationship — 4 articles" in json.dumps(answer, ensure_ascii=False)
    finally:
        process.terminate()
        out, err = process.communicate(timeout=10)
    assert secret not in out + err
    assert "answering /ppr-topic on http://127.0.0.1" in err
    assert list(tmp_path.iterdir()) == []  # the bot writes nothing where it runs
