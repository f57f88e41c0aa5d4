"""`pprfeed publish`, `pprfeed status` and `pprfeed check --config` end to end, including a process killed
with SIGKILL between the platform accepting a message and the ledger recording it."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import CONTENT, ROOT, read_only
from fakes.discord_api import TOKEN as DISCORD_TOKEN
from fakes.discord_api import FakeDiscord
from fakes.slack_api import TOKEN as SLACK_TOKEN
from fakes.slack_api import FakeSlack
from pprfeed.cli import main
from pprfeed.model import Archive
from pprfeed.publish import deliver as publish_module
from pprfeed.publish.deliver import Tuning
from pprfeed.publish.ledger import Ledger
from test_publish import HoldLedger

SLACK_CHANNEL = "C0000AAAA"
DISCORD_CHANNEL = "200000000000000001"
HOOK_SECRET = "T000/B000/practice"
FAST = Tuning(concurrency=8, timeout=2.0, max_attempts=3, backoff_base=0.01, backoff_max=0.05)


@pytest.fixture
def fakes() -> Iterator[tuple[FakeSlack, FakeDiscord]]:
    with FakeSlack([SLACK_CHANNEL]) as slack, FakeDiscord([DISCORD_CHANNEL]) as discord:
        yield slack, discord


def write_config(tmp_path: Path, slack: FakeSlack, discord: FakeDiscord, extra: str = "", webhook: bool = True) -> Path:
    config = tmp_path / "pprfeed.toml"
    hook = '[[slack.webhooks]]\nurl_env = "SLACK_WEBHOOK_PRACTICE"' if webhook else ""
    config.write_text(
        f"""
[state]
path = "state.sqlite3"

[slack]
api_base_url = "{slack.base_url}"
[[slack.channels]]
id = "{SLACK_CHANNEL}"
backfill = 2
{hook}

[discord]
api_base_url = "{discord.base_url}"
[[discord.channels]]
id = "{DISCORD_CHANNEL}"
backfill = 2
{extra}""",
        encoding="utf-8",
    )
    return config


def environment(slack: FakeSlack) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "DISCORD_BOT_TOKEN": DISCORD_TOKEN,
        "SLACK_WEBHOOK_PRACTICE": slack.webhook_url("practice"),
    }


@pytest.fixture
def env(fakes: tuple[FakeSlack, FakeDiscord], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = environment(fakes[0])
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def run(*argv: str) -> int:
    return main(list(argv))


def test_publish_then_status_then_nothing_more(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeDiscord], env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    slack, discord = fakes
    config = write_config(tmp_path, slack, discord)
    assert run("publish", "--config", str(config), "--content", str(CONTENT)) == 0
    out = capsys.readouterr().out
    assert f"slack:{SLACK_CHANNEL}: posted 2018-08 (1 message), 2018-11 (1 message)" in out
    assert (tmp_path / "state.sqlite3").is_file()
    assert len(slack.messages[SLACK_CHANNEL]) == 2
    assert len(discord.messages[DISCORD_CHANNEL]) == 2
    assert len(slack.webhooks["practice"]) == 1

    assert run("publish", "--config", str(config), "--content", str(CONTENT)) == 0
    assert "Nothing to publish" in capsys.readouterr().out

    assert run("status", "--config", str(config), "--content", str(CONTENT)) == 0
    status = capsys.readouterr().out
    assert f"slack:{SLACK_CHANNEL}" in status
    assert "2018-11  SENT" in status
    assert "slack-webhook:SLACK_WEBHOOK_PRACTICE" in status
    assert "older issues skipped (backfill)" in status
    assert HOOK_SECRET not in status


def test_status_names_slack_s_answer_on_a_part_sent_in_two_halves(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeDiscord], env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    slack, discord = fakes
    config = write_config(tmp_path, slack, discord, webhook=False)
    slack.fail(
        lambda m, p: p == "/api/chat.postMessage", status=200, body={"ok": False, "error": "msg_blocks_too_long"}
    )
    assert run("publish", "--config", str(config), "--content", str(CONTENT)) == 0
    capsys.readouterr()
    assert run("status", "--config", str(config), "--content", str(CONTENT)) == 0
    status = capsys.readouterr().out
    assert "part 1: sent; split in two: Slack answered msg_blocks_too_long" in status
    assert "  digest  ids: " in status


def test_failures_name_the_target_exit_non_zero_and_never_show_secrets(
    tmp_path: Path,
    fakes: tuple[FakeSlack, FakeDiscord],
    env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slack, discord = fakes
    config = write_config(
        tmp_path, slack, discord, extra='[[discord.webhooks]]\nurl_env = "DISCORD_WEBHOOK_COMMUNITY"\n'
    )
    discord_hook = discord.webhook_url("300000000000000001", DISCORD_CHANNEL)
    monkeypatch.setenv("DISCORD_WEBHOOK_COMMUNITY", discord_hook)
    slack.webhook_status["practice"] = (404, "no_service")
    slack.channel_errors[SLACK_CHANNEL] = "not_in_channel"
    caplog.set_level(logging.DEBUG)
    assert run("--debug", "publish", "--config", str(config), "--content", str(CONTENT)) == 1
    captured = capsys.readouterr()
    assert "slack-webhook:SLACK_WEBHOOK_PRACTICE" in captured.err
    assert "create a new incoming webhook" in captured.err
    assert f"slack:{SLACK_CHANNEL}" in captured.err
    assert "/invite" in captured.err
    assert len(discord.messages[DISCORD_CHANNEL]) == 3  # the other targets carried on (2 issues + the webhook's 1)
    webhook_token = discord_hook.rsplit("/", 1)[1]
    for secret in (env["SLACK_WEBHOOK_PRACTICE"], HOOK_SECRET, SLACK_TOKEN, DISCORD_TOKEN, webhook_token):
        assert secret not in captured.out
        assert secret not in captured.err
        assert secret not in caplog.text
    assert "slack_sdk" in caplog.text
    assert "discord" in caplog.text  # the SDKs did log: redacted, not silenced
    assert "[DISCORD_WEBHOOK_COMMUNITY]" in caplog.text or "Webhook ID" in caplog.text
    # the next run retries what failed, and only that
    slack.webhook_status.clear()
    slack.channel_errors.clear()
    assert run("publish", "--config", str(config), "--content", str(CONTENT)) == 0
    assert len(slack.messages[SLACK_CHANNEL]) == 2
    assert len(discord.messages[DISCORD_CHANNEL]) == 3


def test_dry_run_previews_without_network_or_ledger(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeDiscord], capsys: pytest.CaptureFixture[str]
) -> None:
    slack, discord = fakes
    config = write_config(tmp_path, slack, discord)
    # no environment variables needed to preview
    assert run("publish", "--dry-run", "--config", str(config), "--content", str(CONTENT)) == 0
    out = capsys.readouterr().out
    assert f"would post to slack:{SLACK_CHANNEL}: August 2018" in out
    assert "limits OK" in out
    # readable by default: the header and the article title as the channel shows them, no JSON
    assert "# PPRNet research digest — August 2018" in out
    assert "How Reliable is the Association" in out
    assert '"blocks"' not in out
    assert run("publish", "--dry-run", "--json", "--config", str(config), "--content", str(CONTENT)) == 0
    out = capsys.readouterr().out
    assert '"allowed_mentions": {' in out
    assert '"unfurl_links": false' in out
    documents = json.loads(out)  # one JSON document on standard output, the notes on standard error
    assert {d["target"] for d in documents} >= {f"slack:{SLACK_CHANNEL}"}
    # what goes on the wire: the endpoint, and the body with the channel, metadata, nonce and flags
    slack_post = next(d["request"] for d in documents if d["target"] == f"slack:{SLACK_CHANNEL}")
    assert slack_post["endpoint"] == "chat.postMessage"
    assert slack_post["body"]["channel"] == SLACK_CHANNEL
    assert slack_post["body"]["link_names"] is False
    assert len(slack_post["body"]["metadata"]["event_payload"]["nonce"]) == 25
    discord_post = next(d["request"] for d in documents if d["target"] == f"discord:{DISCORD_CHANNEL}")
    assert discord_post["endpoint"] == f"/channels/{DISCORD_CHANNEL}/messages"
    assert discord_post["body"]["enforce_nonce"] is True
    assert discord_post["body"]["allowed_mentions"] == {"parse": []}
    hook_post = next(d["request"] for d in documents if d["target"] == "slack-webhook:SLACK_WEBHOOK_PRACTICE")
    assert "metadata" not in hook_post["body"]
    assert HOOK_SECRET not in json.dumps(hook_post)  # the webhook's URL is a secret: named by its variable only
    assert not (tmp_path / "state.sqlite3").exists()
    assert slack.requests == []
    assert discord.requests == []


def test_dry_run_without_any_config_previews_sample_targets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("publish", "--dry-run", "--content", str(CONTENT)) == 0
    out = capsys.readouterr().out
    assert "would post to slack:" in out
    assert "would post to discord:" in out
    assert "November 2018" in out
    assert not (tmp_path / ".pprfeed").exists()


def test_configuration_problems_stop_everything_and_check_reports_them(
    tmp_path: Path,
    fakes: tuple[FakeSlack, FakeDiscord],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    slack, discord = fakes
    monkeypatch.delenv("DISCORD_BOT_TOKEN", raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", SLACK_TOKEN)
    monkeypatch.setenv("SLACK_WEBHOOK_PRACTICE", slack.webhook_url("practice"))
    config = write_config(
        tmp_path,
        slack,
        discord,
        extra='[[discord.channels]]\nid = "200000000000000009"\ntopics = ["trauma-ptsd"]\nbakfill = 3\n',
    )
    assert run("publish", "--config", str(config), "--content", str(CONTENT)) == 1
    err = capsys.readouterr().err
    assert 'unknown key "bakfill"' in err
    assert 'did you mean "backfill"?' in err
    assert 'topic filter "trauma-ptsd" names no known topic' in err
    assert "did you mean" in err
    assert "DISCORD_BOT_TOKEN is not set" in err
    assert "pprfeed.toml:2" in err  # file and line of each problem
    assert "nothing was sent" in err
    assert slack.requests == []
    assert discord.requests == []

    assert run("check", "--config", str(config), "--content", str(CONTENT)) == 1
    check = capsys.readouterr()
    assert 'unknown key "bakfill"' in check.err
    assert "DISCORD_BOT_TOKEN is not set" in check.err


def test_check_config_accepts_a_good_file(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeDiscord], env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, *fakes)
    assert run("check", "--config", str(config), "--content", str(CONTENT)) == 0
    assert "3 publishing targets" in capsys.readouterr().out


def test_example_config_is_valid(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("SLACK_BOT_TOKEN", "DISCORD_BOT_TOKEN"):
        monkeypatch.setenv(name, "token")
    monkeypatch.setenv("SLACK_WEBHOOK_PRACTICE", "https://hooks.slack.com/services/T/B/x")
    monkeypatch.setenv("DISCORD_WEBHOOK_COMMUNITY", "https://discord.com/api/webhooks/123456789012345678/" + "x" * 68)
    assert run("check", "--config", str(ROOT / "pprfeed.example.toml"), "--content", str(CONTENT)) == 0


def test_resend_and_mark_sent(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeDiscord], env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    slack, discord = fakes
    config = write_config(tmp_path, slack, discord)
    base = ("--config", str(config), "--content", str(CONTENT))
    assert run("publish", *base) == 0
    capsys.readouterr()
    assert run("publish", "--resend", "2018-11", "--target", f"slack:{SLACK_CHANNEL}", *base) == 2
    assert "every part of 2018-11 is recorded as posted" in capsys.readouterr().err
    assert len(slack.messages[SLACK_CHANNEL]) == 2
    assert run("publish", "--resend", "2018-11", "--target", f"slack:{SLACK_CHANNEL}", "--all-parts", *base) == 0
    assert len(slack.messages[SLACK_CHANNEL]) == 3
    assert len(discord.messages[DISCORD_CHANNEL]) == 2
    assert run("publish", "--resend", "2018-11", "--target", "slack:C9", *base) == 2
    assert "no target slack:C9" in capsys.readouterr().err
    assert run("publish", "--mark-sent", "2018-11", "--target", f"slack:{SLACK_CHANNEL}", *base) == 0
    assert "0 parts" in capsys.readouterr().out


def _publish_process(config: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pprfeed", "publish", "--config", str(config), "--content", str(CONTENT)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("platform", ["slack", "discord"])
@pytest.mark.slow
def test_sigkill_between_accept_and_record_neither_duplicates_nor_loses(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeDiscord], platform: str
) -> None:
    slack, discord = fakes
    # no webhook here: a webhook request in flight at the kill is rightly "uncertain" (tested in test_publish)
    config = write_config(tmp_path, slack, discord, webhook=False)
    env = environment(slack)
    process = _publish_process(config, env)
    # the platform stores the message, then the publisher dies before it can record it
    if platform == "slack":
        slack.fail(lambda m, p: p == "/api/chat.postMessage", accept_then=True, kill_pid=process.pid)
    else:
        discord.fail(lambda m, p: m == "POST" and p.endswith("/messages"), accept_then=True, kill_pid=process.pid)
    process.communicate(timeout=60)
    assert process.returncode == -9
    killed = slack.messages[SLACK_CHANNEL] if platform == "slack" else discord.messages[DISCORD_CHANNEL]
    assert len(killed) == 1

    rerun = _publish_process(config, env)
    out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, err
    assert "found already posted" in out
    for messages in (slack.messages[SLACK_CHANNEL], discord.messages[DISCORD_CHANNEL]):
        assert len(messages) == 2  # both issues, each exactly once
    slack_issues = [m["metadata"]["event_payload"]["issue"] for m in slack.messages[SLACK_CHANNEL]]
    assert sorted(slack_issues) == ["2018-08", "2018-11"]
    discord_headings = [m["content"] for m in discord.messages[DISCORD_CHANNEL]]
    assert len(set(discord_headings)) == 2


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_discord_fails_only_discord_and_leaves_no_claims(
    tmp_path: Path,
    fakes: tuple[FakeSlack, FakeDiscord],
    env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slack, discord = fakes
    monkeypatch.setattr(publish_module, "Tuning", lambda: FAST)  # the CLI imports it when it delivers
    monkeypatch.setenv("DISCORD_WEBHOOK_COMMUNITY", discord.webhook_url("300000000000000001", DISCORD_CHANNEL))
    config = write_config(
        tmp_path, slack, discord, extra='[[discord.webhooks]]\nurl_env = "DISCORD_WEBHOOK_COMMUNITY"\n'
    )
    dead = f"http://127.0.0.1:{_closed_port()}/api/v10"
    config.write_text(config.read_text().replace(discord.base_url, dead))
    base = ("--config", str(config), "--content", str(CONTENT))
    assert run("publish", *base) == 1
    captured = capsys.readouterr()
    assert f"slack:{SLACK_CHANNEL}: posted 2018-08 (1 message), 2018-11 (1 message)" in captured.out
    assert "slack-webhook:SLACK_WEBHOOK_PRACTICE: posted 2018-11" in captured.out
    assert f"discord:{DISCORD_CHANNEL}" in captured.err
    assert "cannot connect to Discord" in captured.err
    assert "discord-webhook:DISCORD_WEBHOOK_COMMUNITY" in captured.err
    assert "internal error" not in captured.err
    assert len(slack.messages[SLACK_CHANNEL]) == 2
    assert len(slack.webhooks["practice"]) == 1

    with Ledger(tmp_path / "state.sqlite3", read_only=True) as ledger:
        states = {(r.target, r.issue): r.state for r in ledger.records()}
    assert {state for (target, _), state in states.items() if target.startswith("slack")} == {"sent"}
    assert {state for (target, _), state in states.items() if target.startswith("discord")} <= {"failed"}

    # the next run sends nothing twice and finds nothing uncertain
    assert run("publish", *base) == 1
    captured = capsys.readouterr()
    assert "UNCERTAIN" not in captured.err
    assert "may or may not" not in captured.err
    assert len(slack.messages[SLACK_CHANNEL]) == 2
    assert len(slack.webhooks["practice"]) == 1
    assert run("status", *base) == 1
    status = capsys.readouterr().out
    assert "UNCERTAIN" not in status
    assert "CLAIMED" not in status
    assert "FAILED" in status


def test_a_correction_to_a_posted_issue_is_flagged_on_every_run_and_in_status(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeDiscord], env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    slack, discord = fakes
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    config = write_config(tmp_path, slack, discord, webhook=False)
    base = ("--config", str(config), "--content", str(content))
    assert run("publish", *base) == 0
    capsys.readouterr()
    (article,) = (content / "issues" / "2018-11").glob("*.md")
    corrected = article.read_text(encoding="utf-8").replace(
        "## Practice Implications\n\n", "## Practice Implications\n\nA correction: Flückiger et al. "
    )
    article.write_text(corrected, encoding="utf-8")

    assert run("publish", *base) == 0  # a correction alone is not a failure: cron stays quiet
    out = capsys.readouterr().out
    assert "Nothing to publish" in out
    for key in (f"slack:{SLACK_CHANNEL}", f"discord:{DISCORD_CHANNEL}"):
        assert f"2018-11 changed since it was posted to {key}: run pprfeed publish --update" in out
    assert "2018-08 changed" not in out
    assert run("status", *base) == 0
    assert f"2018-11 changed since it was posted to slack:{SLACK_CHANNEL}" in capsys.readouterr().out

    assert run("publish", "--update", *base) == 0
    assert "changed since" not in capsys.readouterr().out
    assert run("publish", *base) == 0
    assert "changed since" not in capsys.readouterr().out
    assert len(slack.messages[SLACK_CHANNEL]) == 2
    assert "A correction" in json.dumps(slack.messages[SLACK_CHANNEL])


def test_an_overlapping_run_does_nothing_and_exits_0(
    tmp_path: Path,
    fakes: tuple[FakeSlack, FakeDiscord],
    env: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    slack, discord = fakes
    config = write_config(tmp_path, slack, discord)
    with open(tmp_path / "state.sqlite3.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a run still waiting out a rate limit holds it
        assert run("publish", "--config", str(config), "--content", str(CONTENT)) == 0
    assert "another `pprfeed publish` is running" in caplog.text
    assert "does nothing" in caplog.text
    assert slack.requests == []
    assert discord.requests == []


@pytest.mark.parametrize("option", ["--resend", "--mark-sent"])
def test_dry_run_refuses_resend_and_mark_sent(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeDiscord], capsys: pytest.CaptureFixture[str], option: str
) -> None:
    config = write_config(tmp_path, *fakes)
    argv = ("publish", "--dry-run", option, "2018-11", "--target", f"slack:{SLACK_CHANNEL}", "--config", str(config))
    assert run(*argv, "--content", str(CONTENT)) == 2
    assert f"--dry-run cannot preview {option}" in capsys.readouterr().err
    assert not (tmp_path / "state.sqlite3").exists()


def test_a_ledger_path_that_cannot_hold_the_ledger_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("W", "https://hooks.slack.com/services/T0/B0/x")
    folder = tmp_path / "a.toml"
    folder.write_text(f'[state]\npath = "{tmp_path}"\n[[slack.webhooks]]\nurl_env = "W"\n')
    assert run("check", "--content", str(CONTENT), "--config", str(folder)) == 1
    assert f"{folder}:2: [state] path {tmp_path} is a folder, not a file" in capsys.readouterr().err
    unusable = tmp_path / "b.toml"
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    unusable.write_text(f'[state]\npath = "{blocker}/state.sqlite3"\n[[slack.webhooks]]\nurl_env = "W"\n')
    assert run("publish", "--content", str(CONTENT), "--config", str(unusable)) == 2
    err = capsys.readouterr().err
    assert "cannot be used" in err
    assert "[state] path" in err
    assert "internal error" not in err


def test_options_that_would_be_ignored_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("publish", "--target", "slack:C0123456789", "--content", str(CONTENT)) == 2
    assert "--target goes with --resend or --mark-sent" in capsys.readouterr().err
    assert run("publish", "--json", "--content", str(CONTENT)) == 2
    assert "--json goes with --dry-run" in capsys.readouterr().err
    assert run("publish", "--all-parts", "--content", str(CONTENT)) == 2
    assert "--all-parts goes with --resend" in capsys.readouterr().err


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Another program holding the ledger so that nobody else may even read it."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def ledger_problem(problem: str, command: str, path: Path) -> str:
    """The pattern of the whole line `pprfeed status`, `publish --dry-run` or `publish` prints for a ledger with
    `problem` at `path`; SQLITE stands for SQLite's own wording."""
    # status and dry runs only read; publish may meet a read-only folder first when it reads or when it writes
    doing = {"status": "read", "dry-run": "read"}.get(command, "written" if problem == "read-only file" else "DOING")
    access = (
        f"cannot be {doing} (SQLITE) — the user running pprfeed needs write access to it and to its folder "
        f"{path.parent} (SQLite keeps {path.name}-wal and {path.name}-shm beside it, even to read), or set [state] "
        "path to a file in a folder it may write"
    )
    what = {
        "damaged": "is damaged (file is not a database) — restore it from a backup; without one, move it aside and "
        "check with `pprfeed publish --dry-run` what a fresh ledger would post before publishing",
        "read-only file": access,
        "read-only folder": access,
        "locked": f"is locked by another program (waited 0.2 s) — let it finish or stop it (`fuser {path}` names "
        "it), then run pprfeed again",
    }[problem]
    line = f"pprfeed {command.replace('dry-run', 'publish')}: the delivery ledger {path} {what}"
    return re.escape(line).replace("SQLITE", "[^()]+").replace("DOING", "(?:read|written)")


LEDGER_PROBLEMS = ["damaged", "read-only file", "read-only folder", "locked"]


@pytest.mark.parametrize("command", ["status", "dry-run", "publish"])
@pytest.mark.parametrize("problem", LEDGER_PROBLEMS)
def test_a_ledger_that_cannot_be_used_is_one_clear_line(
    tmp_path: Path,
    fakes: tuple[FakeSlack, FakeDiscord],
    env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    problem: str,
    command: str,
) -> None:
    monkeypatch.setattr(publish_module, "Tuning", lambda: replace(FAST, ledger_timeout=0.2))
    config = write_config(tmp_path, *fakes)
    folder = tmp_path / "ledger"
    folder.mkdir()
    config.write_text(config.read_text().replace('path = "state.sqlite3"', 'path = "ledger/state.sqlite3"'))
    path = folder / "state.sqlite3"
    with Ledger(path) as ledger:
        ledger.add_target(f"slack:{SLACK_CHANNEL}", [])
    (folder / "state.sqlite3.lock").write_text("")  # as an earlier publish left it
    if problem == "damaged":
        path.write_bytes(b"\x00garbage" * 512)
    argv = {"status": ["status"], "dry-run": ["publish", "--dry-run"], "publish": ["publish"]}[command]
    condition = {"read-only file": read_only(path), "read-only folder": read_only(folder), "locked": _locked(path)}
    with condition.get(problem, nullcontext()):
        code = run(*argv, "--config", str(config), "--content", str(CONTENT))
    captured = capsys.readouterr()
    if problem == "read-only file" and command != "publish":
        assert code == 0, captured.err  # reading needs no write access to the file itself
        return
    assert code == 1
    (line,) = captured.err.strip().splitlines()
    assert re.fullmatch(ledger_problem(problem, command, path), line), line
    assert fakes[0].posts() == []


SECRETS_IN_THE_WRONG_PLACE = {
    "token pasted as token_env": (
        '[slack]\ntoken_env = "xoxb-111-222-SUPERSECRETVALUE"\n[[slack.channels]]\nid = "C0000AAAA"\n',
        "SUPERSECRETVALUE",
        "token_env",
    ),
    "token_env not a string": (
        '[discord]\ntoken_env = ["MTAx.SECRETLIST.value"]\n[[discord.channels]]\nid = "200000000000000001"\n',
        "SECRETLIST",
        "token_env",
    ),
    "token as a channel id": ('[[slack.channels]]\nid = "xoxb-333-SECRETINID"\n', "SECRETINID", "id"),
    "webhook URL in a table as url_env": (
        '[[slack.webhooks]]\nurl_env = { url = "https://hooks.slack.com/services/T/B/SECRETHOOK" }\n',
        "SECRETHOOK",
        "url_env",
    ),
    "password in a malformed api_base_url": (
        '[slack]\napi_base_url = "https://bot:SECRETPASS@proxy example.org/api/"\n',
        "SECRETPASS",
        "api_base_url",
    ),
    "password in api_base_url": (
        '[discord]\napi_base_url = "https://bot:SECRETWORD@proxy.example.org/api/"\n',
        "SECRETWORD",
        "api_base_url",
    ),
}


@pytest.mark.parametrize("command", ["check", "publish"])
@pytest.mark.parametrize("case", list(SECRETS_IN_THE_WRONG_PLACE))
def test_a_secret_in_the_wrong_place_is_named_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], case: str, command: str
) -> None:
    text, secret, key = SECRETS_IN_THE_WRONG_PLACE[case]
    monkeypatch.setenv("SLACK_BOT_TOKEN", SLACK_TOKEN)
    monkeypatch.setenv("DISCORD_BOT_TOKEN", DISCORD_TOKEN)
    config = tmp_path / "pprfeed.toml"
    config.write_text(f'[state]\npath = "state.sqlite3"\n{text}', encoding="utf-8")
    assert run(command, "--config", str(config), "--content", str(CONTENT)) == 1
    captured = capsys.readouterr()
    assert secret not in captured.out + captured.err
    assert f"{config}:" in captured.err
    assert key in captured.err


def test_a_ledger_held_by_another_program_stops_publish_with_one_clear_line_and_nothing_is_posted_twice(
    tmp_path: Path,
    fakes: tuple[FakeSlack, FakeDiscord],
    env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slack, discord = fakes
    monkeypatch.setattr(publish_module, "Tuning", lambda: replace(FAST, ledger_timeout=0.3))
    config = write_config(tmp_path, slack, discord, webhook=False)
    path = tmp_path / "state.sqlite3"
    hold = HoldLedger(path, lambda m, p: m == "POST" and p == "/api/chat.postMessage", seconds=0.9)
    slack.fail(hold)
    base = ("--config", str(config), "--content", str(CONTENT))
    assert run("publish", *base) == 1
    err = capsys.readouterr().err
    assert f"pprfeed publish: the delivery ledger {path} is locked by another program" in err
    assert "bug in pprfeed" not in err
    assert "internal error" not in err
    assert hold.released.wait(5)
    assert run("publish", *base) == 0
    slack_issues = [m["metadata"]["event_payload"]["issue"] for m in slack.messages[SLACK_CHANNEL]]
    assert sorted(slack_issues) == ["2018-08", "2018-11"]
    discord_headings = [m["content"] for m in discord.messages[DISCORD_CHANNEL]]
    assert len(discord_headings) == len(set(discord_headings)) == 2


def test_status_says_when_each_target_was_first_seen_and_what_it_skipped(
    tmp_path: Path,
    fakes: tuple[FakeSlack, FakeDiscord],
    env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    archive: Archive,
) -> None:
    slack, discord = fakes
    config = write_config(tmp_path, slack, discord, webhook=False)
    before = datetime.now(UTC).replace(second=0, microsecond=0)
    assert run("publish", "--config", str(config), "--content", str(CONTENT)) == 0
    after = datetime.now(UTC)
    capsys.readouterr()
    assert run("status", "--config", str(config), "--content", str(CONTENT)) == 0
    headings = [line for line in capsys.readouterr().out.splitlines() if line.startswith("slack:")]
    skipped = len(archive.issues) - 2
    (heading,) = headings
    seen = re.fullmatch(
        rf"slack:{SLACK_CHANNEL}  — first seen (\d{{4}}-\d\d-\d\d \d\d:\d\d) UTC; "
        rf"{skipped} older issues skipped \(backfill\)",
        heading,
    )
    assert seen, heading
    assert before <= datetime.fromisoformat(seen[1] + "+00:00") <= after
