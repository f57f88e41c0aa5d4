"""The [state]/[slack]/[discord] configuration: every problem named with file, line and fix; secrets never shown."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pprfeed.config import DISCORD_WEBHOOK_URL, load_publish_settings, load_settings
from pprfeed.model import Archive

CONFIG = """\
[state]
path = "ledger/state.sqlite3"

[slack]
token_env = "MY_SLACK_TOKEN"
[[slack.channels]]
id = "C0123456789"
topics = ["PTSD", "alliance and therapeutic relationship"]

[[slack.channels]]
id = "#general"

[[slack.webhooks]]
url_env = "HOOK_A"
backfill = -1

[discord]
[[discord.channels]]
id = "123456789012345678"
topics = ["alliance-ruptures-typo"]
[[discord.webhooks]]
url_env = "DISCORD_HOOK"
[[discord.webhooks]]
url_env = "DISCORD_HOOK"
"""


def diagnostics_for(tmp_path: Path, archive: Archive, text: str, environ: dict[str, str]) -> list[str]:
    file = tmp_path / "pprfeed.toml"
    file.write_text(text, encoding="utf-8")
    settings, problems = load_settings(file)
    assert settings is not None, problems
    publishing, problems = load_publish_settings(settings, archive, environ)
    return [str(d).replace(str(tmp_path) + "/", "") for d in problems]


def test_every_problem_has_its_line_and_a_fix(tmp_path: Path, archive: Archive) -> None:
    secret = "https://example.com/not-a-discord-hook/SECRET-VALUE-123456"
    problems = diagnostics_for(tmp_path, archive, CONFIG, {"DISCORD_HOOK": secret, "HOOK_A": "https://hooks.x/y"})
    text = "\n".join(problems)
    assert 'pprfeed.toml:11: [[slack.channels]] id "#general" is not a channel id' in text
    assert "pprfeed.toml:15: backfill must be 0 or more" in text
    assert 'pprfeed.toml:20: [[discord.channels]] topic filter "alliance-ruptures-typo" names no known topic' in text
    assert "pprfeed.toml:5: environment variable MY_SLACK_TOKEN is not set" in text
    assert "DISCORD_BOT_TOKEN is not set" in text
    assert "pprfeed.toml:22: environment variable DISCORD_HOOK does not hold the Discord webhook URL" in text
    assert "target discord-webhook:DISCORD_HOOK is configured 2 times" in text
    assert "SECRET-VALUE" not in text
    assert all(" — " in line for line in problems)  # every one says how to fix it


def test_a_good_configuration(tmp_path: Path, archive: Archive) -> None:
    text = CONFIG.replace('"#general"', '"C0000AAAA"').replace("backfill = -1", "backfill = 0")
    text = text.replace("alliance-ruptures-typo", "ruptures").rsplit("[[discord.webhooks]]", 1)[0]
    hook = "https://discord.com/api/webhooks/123456789012345678/" + "t" * 68
    environ = {
        "MY_SLACK_TOKEN": "xoxb-1-2-3",
        "DISCORD_BOT_TOKEN": "discord-token-1",
        "HOOK_A": "https://hooks.slack.com/services/T/B/x",
    }
    file = tmp_path / "pprfeed.toml"
    file.write_text(text, encoding="utf-8")
    settings, _ = load_settings(file)
    assert settings is not None
    publishing, problems = load_publish_settings(settings, archive, {**environ, "DISCORD_HOOK": hook})
    assert problems == [] and publishing is not None
    assert publishing.state_path == tmp_path / "ledger" / "state.sqlite3"
    keys = [t.key for t in publishing.targets]
    assert keys == [
        "slack:C0123456789",
        "slack:C0000AAAA",
        "slack-webhook:HOOK_A",
        "discord:123456789012345678",
        "discord-webhook:DISCORD_HOOK",
    ]
    first = publishing.targets[0]
    assert first.topics == ("trauma-and-or-ptsd", "alliance-and-therapeutic-relationship")  # names/aliases → slugs
    assert publishing.targets[2].backfill == 0 and first.backfill == 1
    assert publishing.secrets.redact(f"failed: {hook}") == "failed: [DISCORD_HOOK]"
    assert "t" * 68 not in publishing.secrets.redact(f"POST http://127.0.0.1/api/v10/webhooks/1/{'t' * 68}")


def test_no_sections_means_no_targets(tmp_path: Path, archive: Archive) -> None:
    assert diagnostics_for(tmp_path, archive, '[site]\ntitle = "x"\n', {}) == []


def test_a_key_repeated_across_sections_is_reported_at_its_own_line(tmp_path: Path, archive: Archive) -> None:
    text = """\
[site]
base_url = "https://example.org/pprnet/"

[slack]
token_env = "SLACK_BOT_TOKEN"
api_base_url = "https://slack.com/api/"
[[slack.channels]]
id = "C0123456789"

[discord]
token_env = 5
api_base_url = "discord.com"
chanels = []
[[discord.channels]]
id = "123456789012345678"
backfill = "two"
"""
    problems = diagnostics_for(tmp_path, archive, text, {"SLACK_BOT_TOKEN": "x"})
    joined = "\n".join(problems)
    assert "pprfeed.toml:11: [discord] token_env must be a string, not 5" in joined
    assert 'pprfeed.toml:12: [discord] api_base_url "discord.com" is not an http(s) URL' in joined
    assert 'pprfeed.toml:13: unknown key "chanels" in [discord]' in joined
    assert 'pprfeed.toml:16: [[discord.channels]] backfill must be an integer, not "two"' in joined
    assert "must be a int" not in joined
    lines = [int(line.split(":")[1]) for line in problems if line.startswith("pprfeed.toml:")]
    assert lines == sorted(lines)


def test_one_discord_webhook_pattern_reads_the_id_and_token_with_or_without_an_api_version() -> None:
    token = "t" * 68
    for url in (
        f"https://discord.com/api/webhooks/123456789012345678/{token}",
        f"https://discord.com/api/v10/webhooks/123456789012345678/{token}",
        f"https://discordapp.com/api/webhooks/123456789012345678/{token}?wait=true",
    ):
        match = DISCORD_WEBHOOK_URL.search(url)
        assert match is not None, url
        assert (match["id"], match["token"]) == ("123456789012345678", token)
    assert DISCORD_WEBHOOK_URL.search(f"https://discord.com/api/webhooks/12345/{token}") is None


def test_the_publishing_settings_live_in_config_and_import_nothing_of_publish() -> None:
    code = (
        "import sys, pprfeed.config; print(sorted(m for m in sys.modules if m.startswith(('pprfeed.p', 'pprfeed.b'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
