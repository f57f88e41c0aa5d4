"""state.py: subscriptions in the [state] SQLite file, shared by the bots (writing) and the publisher (reading)."""

from __future__ import annotations

import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from pprfeed.cli import main
from pprfeed.publish.ledger import Ledger
from pprfeed.publish.targets import with_subscriptions
from pprfeed.state import State


@pytest.fixture
def state(tmp_path: Path):
    with State(tmp_path / "state.sqlite3") as opened:
        yield opened


def test_the_file_is_readable_only_by_its_owner(tmp_path):
    State(tmp_path / "state.sqlite3").close()
    assert stat.S_IMODE((tmp_path / "state.sqlite3").stat().st_mode) == 0o600


def test_a_ledger_made_file_becomes_owner_only_too(tmp_path):
    Ledger(tmp_path / "state.sqlite3").close()
    State(tmp_path / "state.sqlite3").close()
    assert stat.S_IMODE((tmp_path / "state.sqlite3").stat().st_mode) == 0o600


def test_the_ledger_and_the_subscriptions_share_one_file(tmp_path):
    with State(tmp_path / "state.sqlite3") as state:
        state.subscribe("slack", "T1", "C1")
    with Ledger(tmp_path / "state.sqlite3") as ledger:
        ledger.add_target("slack:C1", [])
    with State(tmp_path / "state.sqlite3") as state:
        assert [s.channel for s in state.subscriptions()] == ["C1"]


def test_subscribing_again_adds_topics(state):
    state.subscribe("slack", "T1", "C1", ["cbt"])
    assert state.subscribe("slack", "T1", "C1", ["empathy", "cbt"]).topics == ("cbt", "empathy")


def test_no_topics_means_every_article(state):
    state.subscribe("slack", "T1", "C1", ["cbt"])
    assert state.subscribe("slack", "T1", "C1").topics == ()


def test_unsubscribing_the_last_topic_ends_the_subscription(state):
    state.subscribe("slack", "T1", "C1", ["cbt"])
    state.unsubscribe("slack", "C1", ["cbt"])
    assert state.subscriptions() == []


def test_unsubscribing_a_topic_of_an_every_article_subscription_ends_it(state):
    # "every article except cbt" is not a filter pprfeed has: it must not silently stay "every article"
    state.subscribe("slack", "T1", "C1")
    state.unsubscribe("slack", "C1", ["cbt"])
    assert state.subscriptions() == []


def test_the_same_channel_id_on_two_platforms_is_two_subscriptions(state):
    state.subscribe("slack", "T1", "123456789012345678")
    state.subscribe("discord", "9", "123456789012345678")
    assert len(state.subscriptions()) == 2


def test_pausing_a_workspace_pauses_each_of_its_channels(state):
    state.subscribe("discord", "G1", "111111111111111111")
    state.subscribe("discord", "G1", "222222222222222222")
    state.subscribe("discord", "G2", "333333333333333333")
    assert state.pause("discord", None, "the bot was removed from the server", workspace="G1") == 2


def test_subscribing_again_resumes(state):
    state.subscribe("slack", "T1", "C1")
    state.pause("slack", "C1", "the channel was archived (is_archived)")
    assert state.subscribe("slack", "T1", "C1").paused is None


def test_a_paused_subscription_is_no_target(state):
    state.subscribe("slack", "T1", "C1")
    state.pause("slack", "C1", "gone")
    assert with_subscriptions((), state.subscriptions()) == ()


def test_a_subscription_is_a_digest_target_keyed_like_a_configured_channel(state):
    target = state.subscribe("slack", "T1", "C0123ABCD", ["cbt"]).target
    assert (target.key, target.topics, target.format, target.backfill) == ("slack:C0123ABCD", ("cbt",), "digest", 1)


def test_backup_is_a_consistent_copy(state, tmp_path):
    state.subscribe("slack", "T1", "C1", ["cbt"])
    state.backup(tmp_path / "copy.sqlite3")
    with State(tmp_path / "copy.sqlite3") as copy:
        assert [(s.channel, s.topics) for s in copy.subscriptions()] == [("C1", ("cbt",))]


def test_backup_is_readable_only_by_its_owner(state, tmp_path):
    state.backup(tmp_path / "copy.sqlite3")
    assert stat.S_IMODE((tmp_path / "copy.sqlite3").stat().st_mode) == 0o600


def test_a_bot_writing_while_a_publisher_reads(tmp_path):
    """Two processes' worth of connections: one subscribing and unsubscribing, one reading as publish does."""
    path = tmp_path / "state.sqlite3"
    State(path).close()
    errors: list[BaseException] = []
    done = threading.Event()

    def bot() -> None:
        try:
            with State(path) as writer:
                for number in range(300):
                    writer.subscribe("slack", "T1", f"C{number % 20:07d}", ["cbt"])
                    if number % 3 == 0:
                        writer.unsubscribe("slack", f"C{(number + 7) % 20:07d}")
        except BaseException as exc:  # noqa: BLE001 - reported by the assert below
            errors.append(exc)
        finally:
            done.set()

    reads = 0
    thread = threading.Thread(target=bot)
    thread.start()
    try:
        with State(path) as reader:
            while not done.is_set():
                targets = with_subscriptions((), reader.subscriptions())
                assert all(target.topics == ("cbt",) for target in targets)
                reads += 1
    except sqlite3.OperationalError as exc:
        errors.append(exc)
    thread.join()
    assert (errors, reads > 0) == ([], True)


def test_cli_lists_and_removes_subscriptions(tmp_path, capsys):
    config = tmp_path / "pprfeed.toml"
    config.write_text('[state]\npath = "state.sqlite3"\n', "utf-8")
    with State(tmp_path / "state.sqlite3") as state:
        kept = state.subscribe("slack", "T1", "C0123ABCD", ["cbt"])
    assert main(["subscriptions", "--config", str(config)]) == 0
    assert "C0123ABCD" in capsys.readouterr().out
    assert main(["subscriptions", "--config", str(config), "--remove", str(kept.id)]) == 0
    with State(tmp_path / "state.sqlite3") as state:
        assert state.subscriptions() == []


def test_cli_refuses_to_remove_an_unknown_id(tmp_path, capsys):
    config = tmp_path / "pprfeed.toml"
    config.write_text('[state]\npath = "state.sqlite3"\n', "utf-8")
    State(tmp_path / "state.sqlite3").close()
    assert main(["subscriptions", "--config", str(config), "--remove", "42"]) == 2
    assert "no subscription 42" in capsys.readouterr().err


def test_cli_state_backup_writes_a_copy(tmp_path):
    config = tmp_path / "pprfeed.toml"
    config.write_text('[state]\npath = "state.sqlite3"\n', "utf-8")
    with State(tmp_path / "state.sqlite3") as state:
        state.subscribe("slack", "T1", "C0123ABCD")
    assert main(["state", "backup", str(tmp_path / "backup.sqlite3"), "--config", str(config)]) == 0
    with State(tmp_path / "backup.sqlite3") as copy:
        assert [s.channel for s in copy.subscriptions()] == ["C0123ABCD"]


def test_slack_subscribe_accepts_only_known_modes(tmp_path, capsys):
    config = tmp_path / "pprfeed.toml"
    config.write_text('[slack]\nsubscribe = "everyone"\n', "utf-8")
    assert main(["subscriptions", "--config", str(config)]) == 2
    assert 'pprfeed.toml:2: [slack] subscribe = "everyone" is not a choice pprfeed knows' in capsys.readouterr().err
