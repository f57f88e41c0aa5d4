"""The delivery ledger: states, what counts as delivered, backfill records, read-only use for dry runs, the schema's
version and its migration, and a damaged file as a LedgerError."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import read_only
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


def _moment(stamp: str | None) -> datetime:
    assert stamp is not None
    return datetime.fromisoformat(stamp)


def test_a_read_only_ledger_refuses_every_write_with_its_own_message(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    with Ledger(path) as ledger:
        ledger.claim("2018-11", "slack:C1", 1, 1, "h", "n")
    writes = [
        lambda ledger: ledger.add_target("slack:C2", []),
        lambda ledger: ledger.claim("2018-11", "slack:C1", 1, 1, "h", "n"),
        lambda ledger: ledger.mark_sent("2018-11", "slack:C1", 1, "1.1"),
        lambda ledger: ledger.mark("2018-11", "slack:C1", 1, "failed", "no"),
        lambda ledger: ledger.record_update("2018-11", "slack:C1", 1, "h2"),
        lambda ledger: ledger.note_error("2018-11", "slack:C1", 1, "no"),
        lambda ledger: ledger.forget("2018-11", "slack:C1"),
        lambda ledger: ledger.confirm_uncertain("2018-11", "slack:C1"),
    ]
    for write in writes:
        with (
            Ledger(path, read_only=True) as ledger,
            pytest.raises(RuntimeError, match=r"^the ledger was opened read-only \(dry run\)$"),
        ):
            write(ledger)
    with Ledger(path, read_only=True) as ledger:
        (record,) = ledger.records()
    assert (record.state, record.attempts) == ("claimed", 1)


def test_a_dry_run_without_a_ledger_leaves_no_file_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with Ledger(tmp_path / "state" / "nothing-yet.sqlite3", read_only=True) as ledger:
        assert ledger.delivered("slack:C1") == set()
    assert list(tmp_path.iterdir()) == []


def test_a_dry_run_without_a_ledger_sees_an_empty_one(tmp_path: Path) -> None:
    with Ledger(tmp_path / "nothing-yet.sqlite3", read_only=True) as ledger:
        assert (ledger.known_targets(), ledger.records(), ledger.parts("2018-11", "slack:C1")) == (set(), [], {})


def test_a_ledger_in_a_folder_that_does_not_exist_yet_creates_the_folder(tmp_path: Path) -> None:
    path = tmp_path / "var" / "lib" / "pprfeed" / "state.sqlite3"
    with Ledger(path) as ledger:
        ledger.add_target("slack:C1", [])
    with Ledger(path, read_only=True) as reopened:
        assert reopened.known_targets() == {"slack:C1"}


def test_a_read_only_ledger_reads_what_was_written(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    with Ledger(path) as ledger:
        ledger.claim("2018-11", "slack:C1", 1, 1, "h", "n")
        ledger.mark_sent("2018-11", "slack:C1", 1, "1.1")
    with Ledger(path, read_only=True) as ledger:
        assert ledger.delivered("slack:C1") == {"2018-11"}


def test_a_target_remembers_when_it_was_first_seen(tmp_path: Path) -> None:
    before = datetime.now(UTC)
    with Ledger(tmp_path / "state.sqlite3") as ledger:
        ledger.add_target("slack:C1", [])
        first = ledger.added_at("slack:C1")
        ledger.add_target("slack:C1", ["2018-01"])
        assert ledger.added_at("slack:C1") == first
        assert ledger.added_at("slack:C2") is None
    assert before <= _moment(first) <= datetime.now(UTC)


def test_a_target_seen_again_keeps_its_first_backfill(tmp_path: Path) -> None:
    with Ledger(tmp_path / "state.sqlite3") as ledger:
        ledger.add_target("slack:C1", ["2018-01"])
        ledger.add_target("slack:C1", ["2018-03"])
        assert ledger.skipped("slack:C1") == {"2018-01", "2018-03"}
        assert ledger.skipped("slack:C2") == set()


def test_a_claim_records_everything_about_the_part(tmp_path: Path) -> None:
    before = datetime.now(UTC)
    with Ledger(tmp_path / "state.sqlite3") as ledger:
        claimed = ledger.claim("2018-11", "slack:C1", 2, 3, "hash", "nonce")
    after = datetime.now(UTC)
    assert (claimed.issue, claimed.target, claimed.part, claimed.parts) == ("2018-11", "slack:C1", 2, 3)
    assert (claimed.remote_id, claimed.last_error, claimed.payload_hash, claimed.sent_at) == (None, None, "hash", None)
    assert before <= _moment(claimed.claimed_at) <= after
    assert claimed.updated_at == claimed.claimed_at
    assert before.timestamp() <= claimed.claimed_epoch <= after.timestamp()


def test_a_second_claim_takes_the_new_payload_and_part_count(tmp_path: Path) -> None:
    with Ledger(tmp_path / "state.sqlite3") as ledger:
        first = ledger.claim("2018-11", "slack:C1", 1, 1, "old", "n")
        ledger.mark("2018-11", "slack:C1", 1, "failed", "timed out")
        again = ledger.claim("2018-11", "slack:C1", 1, 2, "new", "n2")
    assert (again.state, again.parts, again.payload_hash) == ("claimed", 2, "new")
    assert again.claimed_at > first.claimed_at


def test_marking_sent_clears_the_error_and_keeps_the_first_sent_time(tmp_path: Path) -> None:
    with Ledger(tmp_path / "state.sqlite3") as ledger:
        ledger.claim("2018-11", "slack:C1", 1, 1, "h", "n")
        ledger.note_error("2018-11", "slack:C1", 1, "rate limited")
        ledger.mark_sent("2018-11", "slack:C1", 1, "1.1")
        (first,) = ledger.records()
        ledger.mark_sent("2018-11", "slack:C1", 1, "1.2", payload_hash="h2")
        (second,) = ledger.records()
    assert (first.state, first.remote_id, first.last_error, first.payload_hash) == ("sent", "1.1", None, "h")
    assert first.sent_at is not None
    assert second.sent_at == first.sent_at
    assert (second.remote_id, second.payload_hash) == ("1.2", "h2")
    assert second.updated_at > first.updated_at


def test_marking_one_part_leaves_the_others_alone(tmp_path: Path) -> None:
    with Ledger(tmp_path / "state.sqlite3") as ledger:
        for issue, target, part in [("2018-11", "slack:C1", 1), ("2018-11", "slack:C1", 2), ("2018-08", "slack:C1", 1)]:
            ledger.claim(issue, target, part, 2, "h", "n")
        ledger.claim("2018-11", "slack:C2", 1, 2, "h", "n")
        ledger.mark_sent("2018-11", "slack:C1", 1, "1.1")
        ledger.mark("2018-11", "slack:C1", 2, "uncertain", "timed out")
        ledger.note_error("2018-08", "slack:C1", 1, "rate limited")
        ledger.record_update("2018-11", "slack:C2", 1, "h2")
        states = {(r.target, r.issue, r.part): (r.state, r.last_error, r.payload_hash) for r in ledger.records()}
    assert states == {
        ("slack:C1", "2018-08", 1): ("claimed", "rate limited", "h"),
        ("slack:C1", "2018-11", 1): ("sent", None, "h"),
        ("slack:C1", "2018-11", 2): ("uncertain", "timed out", "h"),
        ("slack:C2", "2018-11", 1): ("claimed", None, "h2"),
    }


def test_an_edit_in_place_records_the_new_payload_and_clears_the_error(tmp_path: Path) -> None:
    with Ledger(tmp_path / "state.sqlite3") as ledger:
        ledger.claim("2018-11", "slack:C1", 1, 1, "h", "n")
        ledger.mark_sent("2018-11", "slack:C1", 1, "1.1")
        ledger.note_error("2018-11", "slack:C1", 1, "could not edit")
        (before,) = ledger.records()
        ledger.record_update("2018-11", "slack:C1", 1, "h2")
        (after,) = ledger.records()
    assert (after.state, after.payload_hash, after.last_error) == ("sent", "h2", None)
    assert after.updated_at > before.updated_at


@pytest.mark.parametrize("state", ["failed", "uncertain"])
def test_mark_records_a_state_and_why(tmp_path: Path, state: str) -> None:
    with Ledger(tmp_path / "state.sqlite3") as ledger:
        claimed = ledger.claim("2018-11", "slack:C1", 1, 1, "h", "n")
        ledger.mark("2018-11", "slack:C1", 1, state, "Slack answered internal_error")
        (record,) = ledger.records()
    assert (record.state, record.last_error) == (state, "Slack answered internal_error")
    assert record.updated_at > claimed.updated_at


@pytest.mark.parametrize("state", ["sent", "claimed", "lost"])
def test_mark_refuses_any_other_state(tmp_path: Path, state: str) -> None:
    with Ledger(tmp_path / "state.sqlite3") as ledger, pytest.raises(ValueError, match=f"^{state}$"):
        ledger.mark("2018-11", "slack:C1", 1, state, None)


def test_records_of_one_target_or_all_in_order(tmp_path: Path) -> None:
    with Ledger(tmp_path / "state.sqlite3") as ledger:
        for target, issue, part in [("b", "2018-11", 2), ("a", "2018-11", 1), ("b", "2018-08", 1), ("b", "2018-11", 1)]:
            ledger.claim(issue, target, part, 2, "h", "n")
        everything = [(r.target, r.issue, r.part) for r in ledger.records()]
        of_b = [(r.issue, r.part) for r in ledger.records("b")]
        parts = list(ledger.parts("2018-11", "b"))
    assert everything == [("a", "2018-11", 1), ("b", "2018-08", 1), ("b", "2018-11", 1), ("b", "2018-11", 2)]
    assert of_b == [("2018-08", 1), ("2018-11", 1), ("2018-11", 2)]
    assert parts == [1, 2]


def test_an_issue_is_delivered_only_when_every_part_is_sent(tmp_path: Path) -> None:
    with Ledger(tmp_path / "state.sqlite3") as ledger:
        for part in (1, 2):
            ledger.claim("2018-11", "slack:C1", part, 2, "h", "n")
        ledger.mark_sent("2018-11", "slack:C1", 2, "1.2")
        assert ledger.delivered("slack:C1") == set()
        ledger.mark_sent("2018-11", "slack:C1", 1, "1.1")
        assert ledger.delivered("slack:C1") == {"2018-11"}
        assert ledger.delivered("slack:C2") == set()


def test_forget_drops_only_that_issue_for_that_target(tmp_path: Path) -> None:
    with Ledger(tmp_path / "state.sqlite3") as ledger:
        ledger.add_target("slack:C1", ["2018-01", "2018-03"])
        ledger.add_target("slack:C2", ["2018-01"])
        for issue, target in [("2018-01", "slack:C1"), ("2018-03", "slack:C1"), ("2018-01", "slack:C2")]:
            ledger.claim(issue, target, 1, 1, "h", "n")
        ledger.claim("2018-01", "slack:C1", 2, 2, "h", "n")
        assert ledger.forget("2018-01", "slack:C1", sent_too=True) == 2
        remaining = {(r.issue, r.target) for r in ledger.records()}
        assert (ledger.skipped("slack:C1"), ledger.skipped("slack:C2")) == ({"2018-03"}, {"2018-01"})
    assert remaining == {("2018-03", "slack:C1"), ("2018-01", "slack:C2")}


def test_forget_makes_an_unseen_target_known_so_it_gets_no_backfill(tmp_path: Path) -> None:
    with Ledger(tmp_path / "state.sqlite3") as ledger:
        assert ledger.forget("2018-11", "slack:C9") == 0
        assert ledger.known_targets() == {"slack:C9"}
        assert ledger.added_at("slack:C9") is not None


def test_confirming_by_hand_marks_claimed_and_uncertain_parts_sent(tmp_path: Path) -> None:
    with Ledger(tmp_path / "state.sqlite3") as ledger:
        for part in (1, 2, 3):
            ledger.claim("2018-11", "slack:C1", part, 3, "h", "n")
        ledger.mark("2018-11", "slack:C1", 2, "uncertain", "timed out")
        ledger.mark("2018-11", "slack:C1", 3, "failed", "refused")
        ledger.claim("2018-11", "slack:C2", 1, 1, "h", "n")
        assert ledger.confirm_uncertain("2018-11", "slack:C1") == 2
        states = {(r.target, r.part): (r.state, r.last_error) for r in ledger.records()}
        (confirmed, *_) = ledger.records("slack:C1")
    assert states == {
        ("slack:C1", 1): ("sent", "confirmed by hand"),
        ("slack:C1", 2): ("sent", "confirmed by hand"),
        ("slack:C1", 3): ("failed", "refused"),
        ("slack:C2", 1): ("claimed", None),
    }
    assert confirmed.sent_at is not None
    assert confirmed.updated_at == confirmed.sent_at


def test_a_failed_write_is_rolled_back_whole(tmp_path: Path) -> None:
    """No public write can fail half-way short of a full disk, so this fails one through the transaction itself."""
    with Ledger(tmp_path / "state.sqlite3") as ledger:
        with pytest.raises(LedgerError, match="UNIQUE constraint failed"), ledger._write() as db:
            db.execute("INSERT INTO targets (target, added_at) VALUES ('slack:C1', 'now')")
            db.execute("INSERT INTO targets (target, added_at) VALUES ('slack:C1', 'again')")
        assert ledger.known_targets() == set()
        ledger.add_target("slack:C2", [])
        assert ledger.known_targets() == {"slack:C2"}


def test_every_commit_is_synced_and_a_busy_ledger_is_waited_for(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    with Ledger(path) as ledger:
        assert ledger.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert ledger.db.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000


def test_an_sqlite_error_without_a_result_code_is_still_a_ledger_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    ledger = Ledger(path)
    ledger.close()  # Python's own sqlite3 errors (here: a closed connection) carry no SQLite result code
    with pytest.raises(LedgerError) as raised:
        ledger.known_targets()
    assert str(raised.value) == (
        f"the delivery ledger {path} cannot be read (Cannot operate on a closed database.) — check the disk and "
        "the file"
    )


def test_a_write_failing_without_a_result_code_says_the_ledger_cannot_be_written(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    ledger = Ledger(path)
    ledger.close()
    with pytest.raises(LedgerError) as raised:
        ledger.add_target("slack:C1", [])
    assert str(raised.value) == (
        f"the delivery ledger {path} cannot be written (Cannot operate on a closed database.) — check the disk and "
        "the file"
    )


def test_the_layout_of_an_issue_is_the_one_it_was_posted_in_to_that_target(tmp_path: Path) -> None:
    with Ledger(tmp_path / "state.sqlite3") as ledger:
        ledger.claim("2018-11", "slack:C1", 1, 1, "h", "n", format="digest")
        ledger.claim("2018-11", "discord:1", 1, 1, "h", "n", format="full")
        assert ledger.formats("discord:1") == {"2018-11": "full"}


def open_files(path: Path) -> list[str]:
    """The files of this process's open descriptors that are `path` (Linux)."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target == str(path):
            found.append(target)
    return found


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_a_ledger_that_cannot_be_opened_does_not_keep_the_file_open(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    Ledger(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(LedgerError) as raised:
        Ledger(path)
    # the failed Ledger is still alive here, through the traceback that `raised` holds
    assert "written by a newer pprfeed" in str(raised.value)
    assert open_files(path) == []


def test_a_read_only_ledger_waits_as_long_as_it_is_told_for_a_busy_file(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    Ledger(path).close()
    with Ledger(path, read_only=True, timeout=7) as ledger:
        assert ledger.db.execute("PRAGMA busy_timeout").fetchone()[0] == 7_000


def test_a_new_ledger_in_a_folder_it_may_not_write_cannot_be_written(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    path = folder / "state.sqlite3"
    with read_only(folder), pytest.raises(LedgerError) as raised:
        Ledger(path)
    assert str(raised.value) == (
        f"the delivery ledger {path} cannot be written (unable to open database file) — the user running pprfeed "
        f"needs write access to it and to its folder {folder} (SQLite keeps state.sqlite3-wal and state.sqlite3-shm "
        "beside it, even to read), or set [state] path to a file in a folder it may write"
    )
