"""The delivery ledger: states, what counts as delivered, backfill records, read-only use for dry runs, the schema's
version and its migration, and a damaged file as a LedgerError."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pprfeed.publish.ledger import SCHEMA_VERSION, Ledger, LedgerError


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


UNVERSIONED_SCHEMA = """
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS targets (
    target     TEXT PRIMARY KEY,
    added_at   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS skipped (
    target     TEXT NOT NULL,
    issue      TEXT NOT NULL,
    at         TEXT NOT NULL,
    PRIMARY KEY (target, issue)
);
CREATE TABLE IF NOT EXISTS parts (
    issue        TEXT NOT NULL,
    target       TEXT NOT NULL,
    part         INTEGER NOT NULL,
    parts        INTEGER NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('claimed', 'sent', 'failed', 'uncertain')),
    remote_id    TEXT,
    nonce        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    payload_hash TEXT NOT NULL,
    claimed_at   TEXT NOT NULL,
    sent_at      TEXT,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (issue, target, part)
);
INSERT INTO targets VALUES ('slack:C1', '2026-11-01T00:00:00.000000+00:00');
INSERT INTO skipped VALUES ('slack:C1', '2018-08', '2026-11-01T00:00:00.000000+00:00');
INSERT INTO parts VALUES ('2018-11', 'slack:C1', 1, 2, 'sent', '1700000000.000100', 'nonce1', 1, NULL, 'hash1',
    '2026-11-01T00:00:01.000000+00:00', '2026-11-01T00:00:02.000000+00:00', '2026-11-01T00:00:02.000000+00:00');
INSERT INTO parts VALUES ('2018-11', 'slack:C1', 2, 2, 'uncertain', NULL, 'nonce2', 1, 'may or may not', 'hash2',
    '2026-11-01T00:00:03.000000+00:00', NULL, '2026-11-01T00:00:04.000000+00:00');
"""
"""The ledger as pprfeed wrote it before its schema carried a version (PRAGMA user_version 0)."""


def _unversioned_ledger(path: Path) -> None:
    db = sqlite3.connect(path)
    db.executescript(UNVERSIONED_SCHEMA)
    db.close()


def test_a_ledger_written_before_the_schema_was_versioned_is_migrated_with_its_records(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    _unversioned_ledger(path)
    with Ledger(path) as ledger:
        assert ledger.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert ledger.known_targets() == {"slack:C1"}
        assert ledger.skipped("slack:C1") == {"2018-08"}
        sent, uncertain = ledger.records("slack:C1")
        assert (sent.state, sent.remote_id, sent.nonce) == ("sent", "1700000000.000100", "nonce1")
        assert (uncertain.state, uncertain.last_error) == ("uncertain", "may or may not")
        assert ledger.confirm_uncertain("2018-11", "slack:C1") == 1  # and it can be written as before
        assert ledger.delivered("slack:C1") == {"2018-11"}


def test_a_dry_run_reads_an_unversioned_ledger_without_changing_it(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    _unversioned_ledger(path)
    with Ledger(path, read_only=True) as ledger:
        assert len(ledger.records()) == 2
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 0


def test_a_new_ledger_carries_the_schema_version(tmp_path: Path) -> None:
    with Ledger(tmp_path / "state.sqlite3") as ledger:
        assert ledger.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


@pytest.mark.parametrize("read_only", [False, True], ids=["write", "read"])
def test_a_ledger_from_a_newer_pprfeed_is_refused(tmp_path: Path, read_only: bool) -> None:
    path = tmp_path / "state.sqlite3"
    Ledger(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(LedgerError, match=f"written by a newer pprfeed \\(schema {SCHEMA_VERSION + 1}"):
        Ledger(path, read_only=read_only)


def test_a_damaged_ledger_is_a_ledger_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    path.write_bytes(b"not a database " * 100)
    with pytest.raises(LedgerError, match=f"{path} is damaged"):
        Ledger(path)


def test_a_resend_forgets_only_the_parts_found_missing(tmp_path: Path) -> None:
    with Ledger(tmp_path / "state.sqlite3") as ledger:
        for part, state in enumerate(("sent", "failed", "uncertain", "claimed"), start=1):
            ledger.claim("2018-11", "slack:C1", part, 4, "h", f"n{part}")
            if state == "sent":
                ledger.mark_sent("2018-11", "slack:C1", part, "1.0")
            elif state != "claimed":
                ledger.mark("2018-11", "slack:C1", part, state, "why")
        assert ledger.forget("2018-11", "slack:C1") == 2
        # kept: the posted part, and the interrupted one, which the resend looks for before sending
        assert [(r.part, r.state) for r in ledger.records()] == [(1, "sent"), (4, "claimed")]


def test_a_ledger_from_before_formats_gains_the_column_and_its_posts_are_the_full_text(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    _unversioned_ledger(path)  # the schema as it was: no format column
    with Ledger(path, read_only=True) as before:  # a dry run reads it without changing it
        assert before.formats("slack:C1") == {"2018-11": "full"}
    with Ledger(path) as migrated:
        assert migrated.formats("slack:C1") == {"2018-11": "full"}
        migrated.claim("2019-01", "slack:C1", 1, 1, "h2", "n2", "digest")
        assert migrated.formats("slack:C1") == {"2018-11": "full", "2019-01": "digest"}
    with Ledger(path) as reopened:  # the migration runs once; opening again changes nothing
        assert reopened.formats("slack:C1") == {"2018-11": "full", "2019-01": "digest"}


def test_a_split_note_survives_the_errors_recorded_after_it(tmp_path: Path) -> None:
    with Ledger(tmp_path / "state.sqlite3") as ledger:
        ledger.claim("2018-11", "slack:C1", 1, 2, "h", "n", "digest", note="split in two: Slack answered x")
        ledger.note_error("2018-11", "slack:C1", 1, "HTTP 500")
        ledger.mark("2018-11", "slack:C1", 1, "failed", "gave up")
        (record,) = ledger.records()
        assert record.last_error == "split in two: Slack answered x — gave up"


def test_a_version_1_ledger_gains_the_format_column(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    _unversioned_ledger(path)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 1")
    with Ledger(path) as ledger:
        assert ledger.db.execute("PRAGMA user_version").fetchone()[0] == 2
        columns = {row[1] for row in ledger.db.execute("PRAGMA table_info(parts)")}
        assert "format" in columns
