"""The delivery ledger: states, what counts as delivered, backfill records, read-only use for dry runs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pprfeed.publish.ledger import Ledger


def test_a_part_goes_from_claimed_to_sent_and_the_issue_counts_as_delivered(tmp_path: Path) -> None:
    with Ledger(tmp_path / "state.sqlite3") as ledger:
        assert ledger.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        claimed = ledger.claim("2018-11", "slack:C1", 1, 2, "hash1", "nonce1")
        assert claimed.state == "claimed"
        assert claimed.attempts == 1
        assert claimed.nonce == "nonce1"
        ledger.mark_sent("2018-11", "slack:C1", 1, "1700000000.000100")
        assert ledger.delivered("slack:C1") == set()  # part 2 of 2 is missing
        ledger.claim("2018-11", "slack:C1", 2, 2, "hash2", "nonce2")
        ledger.mark("2018-11", "slack:C1", 2, "failed", "slack:C1: Slack answered internal_error")
        again = ledger.claim("2018-11", "slack:C1", 2, 2, "hash2", "other-nonce")
        assert again.attempts == 2
        assert again.nonce == "nonce2"  # the first nonce is kept for every retry
        ledger.mark_sent("2018-11", "slack:C1", 2, "1700000000.000200")
        assert ledger.delivered("slack:C1") == {"2018-11"}
        assert [r.remote_id for r in ledger.records("slack:C1")] == ["1700000000.000100", "1700000000.000200"]


def test_claims_survive_the_connection(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    ledger = Ledger(path)
    ledger.claim("2018-11", "discord:1", 1, 1, "h", "n")
    ledger.db.close()  # like a killed process: nothing more is written
    with Ledger(path) as reopened:
        (record,) = reopened.records()
        assert record.state == "claimed"


def test_backfill_and_uncertain_records(tmp_path: Path) -> None:
    with Ledger(tmp_path / "state.sqlite3") as ledger:
        ledger.add_target("discord:1", ["2018-01", "2018-03"])
        assert ledger.known_targets() == {"discord:1"}
        assert ledger.skipped("discord:1") == {"2018-01", "2018-03"}
        ledger.claim("2018-03", "discord:1", 1, 1, "h", "n")
        ledger.mark("2018-03", "discord:1", 1, "uncertain", "may or may not have been posted")
        assert ledger.confirm_uncertain("2018-03", "discord:1") == 1
        assert ledger.delivered("discord:1") == {"2018-03"}
        assert ledger.forget("2018-03", "discord:1") == 0  # a resend keeps what is known to be posted
        assert ledger.forget("2018-03", "discord:1", sent_too=True) == 1
        assert "2018-03" not in ledger.skipped("discord:1")
        assert ledger.records() == []
        with pytest.raises(ValueError):
            ledger.mark("2018-03", "discord:1", 1, "sent", None)


def test_read_only_ledger_never_writes(tmp_path: Path) -> None:
    missing = tmp_path / "nothing-yet.sqlite3"
    with Ledger(missing, read_only=True) as ledger:
        assert ledger.records() == []
        assert ledger.known_targets() == set()
    assert not missing.exists()
    path = tmp_path / "state.sqlite3"
    with Ledger(path) as ledger:
        ledger.add_target("slack:C1", [])
    with Ledger(path, read_only=True) as ledger:
        assert ledger.known_targets() == {"slack:C1"}
        with pytest.raises((RuntimeError, sqlite3.OperationalError)):
            ledger.add_target("slack:C2", [])
