"""[slack] client_id, client_secret_env and redirect_uri: checked with the rest of [slack]; the front door's
"Add to Slack" link."""

from __future__ import annotations

from pathlib import Path

from conftest import ROOT
from feedkit import NOW, build
from pprfeed.config import load_publish_settings, load_settings

REDIRECT = "https://bot.example.org/slack/oauth_redirect"


def settings_from(tmp_path: Path, slack: str):
    path = tmp_path / "pprfeed.toml"
    path.write_text(f'[site]\nbase_url = "https://feeds.example.org/"\n\n[slack]\n{slack}\n', "utf-8")
    settings, diagnostics = load_settings(path)
    assert settings is not None, diagnostics
    return settings


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "pprfeed.toml"
    path.write_text(text, "utf-8")
    settings, _ = load_settings(path)
    assert settings is not None
    return [str(d) for d in load_publish_settings(settings, None, {}, need_secrets=False)[1]]


def test_client_id_is_read(tmp_path):
    settings = settings_from(tmp_path, 'client_id = "1.2"')
    publishing, _ = load_publish_settings(settings, None, {}, need_secrets=False)
    assert publishing is not None and publishing.slack.client_id == "1.2"


def test_the_client_secret_s_variable_defaults_to_slack_client_secret(tmp_path):
    publishing, _ = load_publish_settings(settings_from(tmp_path, 'client_id = "1.2"'), None, {}, need_secrets=False)
    assert publishing is not None and publishing.slack.client_secret_env == "SLACK_CLIENT_SECRET"


def test_a_client_secret_pasted_in_place_of_its_variable_s_name_is_refused_unshown(tmp_path):
    found = problems(tmp_path, '[slack]\nclient_id = "1.2"\nclient_secret_env = "abc-123 secret"\n')
    assert [("client_secret_env" in p, "abc-123 secret" in p) for p in found] == [(True, False)]


def test_a_redirect_uri_that_is_not_https_is_refused_with_its_line(tmp_path):
    found = problems(
        tmp_path, '[slack]\nclient_id = "1.2"\nredirect_uri = "http://bot.example.org/slack/oauth_redirect"\n'
    )
    assert [p.split(": ")[0].endswith(":3") for p in found] == [True]


def test_client_id_under_discord_is_refused(tmp_path):
    found = problems(tmp_path, '[discord]\nclient_id = "1.2"\n')
    assert any("[discord] client_id is for Slack's install flow only" in p for p in found)


def test_the_front_door_links_to_the_install_when_client_id_is_set(tmp_path):
    settings = settings_from(tmp_path, f'client_id = "1.2"\nredirect_uri = "{REDIRECT}"')
    build(ROOT / "content", tmp_path / "out", settings.site, NOW)
    assert 'href="https://bot.example.org/slack/install">Add to Slack</a>' in (tmp_path / "out/index.html").read_text()


def test_the_front_door_has_no_install_link_without_client_id(tmp_path):
    settings = settings_from(tmp_path, f'redirect_uri = "{REDIRECT}"')
    build(ROOT / "content", tmp_path / "out", settings.site, NOW)
    assert "Add to Slack" not in (tmp_path / "out/index.html").read_text()
