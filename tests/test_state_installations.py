"""Slack installations and OAuth states in the state file: tokens at rest, single-use states, uninstalls."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from pprfeed.state import UNINSTALLED, State, StateError

TOKEN = "xoxb-team-one-secret"


def stored_token(path, team_id="T1") -> str:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT bot_token FROM installations WHERE team_id = ?", (team_id,)).fetchone()[0]


def test_a_saved_installation_gives_its_token_back(tmp_path):
    with State(tmp_path / "s.db", secret_key="") as state:
        state.save_installation("T1", TOKEN)
        assert state.bot_token("T1") == TOKEN


def test_an_unknown_workspace_has_no_token(tmp_path):
    with State(tmp_path / "s.db", secret_key="") as state:
        assert state.bot_token("T9") is None


def test_with_a_key_the_token_is_not_stored_in_clear(tmp_path):
    with State(tmp_path / "s.db", secret_key=Fernet.generate_key().decode()) as state:
        state.save_installation("T1", TOKEN)
    assert TOKEN not in stored_token(tmp_path / "s.db")


def test_with_a_key_the_token_reads_back(tmp_path):
    key = Fernet.generate_key().decode()
    with State(tmp_path / "s.db", secret_key=key) as state:
        state.save_installation("T1", TOKEN)
    with State(tmp_path / "s.db", secret_key=key) as state:
        assert state.bot_token("T1") == TOKEN


def test_an_old_key_after_the_new_one_still_reads_tokens(tmp_path):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with State(tmp_path / "s.db", secret_key=old) as state:
        state.save_installation("T1", TOKEN)
    with State(tmp_path / "s.db", secret_key=f"{new},{old}") as state:
        assert state.bot_token("T1") == TOKEN


def test_reencrypting_lets_the_new_key_alone_read_tokens(tmp_path):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with State(tmp_path / "s.db", secret_key=old) as state:
        state.save_installation("T1", TOKEN)
    with State(tmp_path / "s.db", secret_key=f"{new},{old}") as state:
        state.reencrypt_tokens()
    with State(tmp_path / "s.db", secret_key=new) as state:
        assert state.bot_token("T1") == TOKEN


def test_an_encrypted_token_without_the_key_is_a_clear_error_without_the_token(tmp_path):
    with State(tmp_path / "s.db", secret_key=Fernet.generate_key().decode()) as state:
        state.save_installation("T1", TOKEN)
    with State(tmp_path / "s.db", secret_key="") as state, pytest.raises(StateError, match="PPRFEED_SECRET_KEY"):
        state.bot_token("T1")


def test_a_malformed_key_is_a_clear_error_that_does_not_echo_it(tmp_path):
    with State(tmp_path / "s.db", secret_key="not-a-key-at-all") as state, pytest.raises(StateError) as raised:
        state.save_installation("T1", TOKEN)
    assert "not-a-key-at-all" not in str(raised.value)


def test_deleting_an_installation_forgets_its_token(tmp_path):
    with State(tmp_path / "s.db", secret_key="") as state:
        state.save_installation("T1", TOKEN)
        state.delete_installation("T1")
        assert state.bot_token("T1") is None


def test_deleting_an_installation_pauses_that_workspace_only(tmp_path):
    with State(tmp_path / "s.db", secret_key="") as state:
        state.subscribe("slack", "T1", "C1")
        state.subscribe("slack", "T2", "C2")
        state.delete_installation("T1")
        assert [s.paused for s in state.subscriptions()] == [UNINSTALLED, None]


def test_uninstalled_subscriptions_are_removed_after_30_days(tmp_path):
    with State(tmp_path / "s.db", secret_key="") as state:
        state.subscribe("slack", "T1", "C1")
        state.delete_installation("T1")
        state.remove_uninstalled(now=datetime.now(UTC) + timedelta(days=31))
        assert state.subscriptions() == []


def test_uninstalled_subscriptions_are_kept_for_30_days(tmp_path):
    with State(tmp_path / "s.db", secret_key="") as state:
        state.subscribe("slack", "T1", "C1")
        state.delete_installation("T1")
        state.remove_uninstalled(now=datetime.now(UTC) + timedelta(days=29))
        assert len(state.subscriptions()) == 1


def test_an_issued_state_is_good_once(tmp_path):
    with State(tmp_path / "s.db", secret_key="") as state:
        issued = state.issue_state()
        assert [state.consume_state(issued), state.consume_state(issued)] == [True, False]


def test_a_state_never_issued_is_refused(tmp_path):
    with State(tmp_path / "s.db", secret_key="") as state:
        assert state.consume_state("forged") is False


def test_an_expired_state_is_refused(tmp_path):
    with State(tmp_path / "s.db", secret_key="") as state:
        assert state.consume_state(state.issue_state(lifetime=-1)) is False


def test_reinstalling_resumes_the_subscriptions_an_uninstall_paused(tmp_path):
    with State(tmp_path / "s.db", secret_key="") as state:
        state.subscribe("slack", "T1", "C1")
        state.delete_installation("T1")
        state.save_installation("T1", TOKEN)
        assert [s.paused for s in state.subscriptions()] == [None]


def test_an_uninstall_also_marks_subscriptions_paused_for_another_reason(tmp_path):
    with State(tmp_path / "s.db", secret_key="") as state:
        state.subscribe("slack", "T1", "C1")
        state.pause("slack", "C1", "the channel was archived (is_archived)")
        state.delete_installation("T1")
        assert [s.paused for s in state.subscriptions()] == [UNINSTALLED]


def test_past_the_cap_the_oldest_state_is_dropped(tmp_path, monkeypatch):
    monkeypatch.setattr("pprfeed.state.MAX_STATES", 2)
    with State(tmp_path / "s.db", secret_key="") as state:
        oldest = state.issue_state(lifetime=100)
        kept = [state.issue_state(lifetime=200), state.issue_state(lifetime=300)]
        assert [state.consume_state(oldest), *map(state.consume_state, kept)] == [False, True, True]
