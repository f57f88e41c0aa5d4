"""The delivery ledger: SQLite (WAL) record of every part of every delivery.

One row per (issue, target, part). A part is claimed (committed to disk)
before its request is sent and marked sent after the platform answered, so
after a crash a "claimed" row is exactly the case where the platform may or may
not have the message; `publish` resolves it by looking, never by guessing.

States:
  claimed    a request is (or was, before a crash) on its way
  sent       the platform has it; remote_id is its Slack ts / Discord message id
  failed     the platform refused or could not be reached; not posted; retried next run
  uncertain  might be posted and could not be checked; a person decides (`pprfeed status`)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

SCHEMA = """
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
"""

STATES = ("claimed", "sent", "failed", "uncertain")
SPLIT_NOTE = "split in two"
"""How the note on the first of two parts made from one refused message starts (publish/deliver.py)."""
LEGACY_FORMAT = "full"
"""The layout of every part recorded before the ledger kept one: the full text, in parts one after another."""


def add_format_column(db: sqlite3.Connection) -> None:
    """Migration: `parts.format`, the layout each delivery was posted in (publish/deliver.py LAYOUTS), so a
    correction edits a post in the layout it has, whatever the target's `format` says today."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(parts)")}
    if "format" not in columns:
        db.execute(f"ALTER TABLE parts ADD COLUMN format TEXT NOT NULL DEFAULT '{LEGACY_FORMAT}'")


# an error recorded on a split part is added to its note, never put in its place: the note is how later runs
# know that this part and the next are the halves of one rendered message
_KEEP_SPLIT_NOTE = (
    f"CASE WHEN last_error LIKE '{SPLIT_NOTE}%' "
    "THEN substr(last_error, 1, instr(last_error || ' — ', ' — ') - 1) || ' — ' || ? ELSE ? END"
)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class PartRecord:
    issue: str
    target: str
    part: int
    parts: int
    state: str
    remote_id: str | None
    nonce: str
    attempts: int
    last_error: str | None
    payload_hash: str
    claimed_at: str
    sent_at: str | None
    updated_at: str
    format: str = LEGACY_FORMAT
    """The delivery's layout (a read-only ledger written before this column existed has none: the legacy one)."""

    @property
    def claimed_epoch(self) -> float:
        return datetime.fromisoformat(self.claimed_at).timestamp()


class Ledger:
    """The ledger in one SQLite file. Every write is its own committed transaction."""

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if read_only:
            if self.path.is_file():
                self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
            else:  # nothing recorded yet: an empty in-memory ledger, so a dry run creates no file
                self.db = sqlite3.connect(":memory:", isolation_level=None)
                self.db.executescript(SCHEMA)
                add_format_column(self.db)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            # a claim must be on disk before its request leaves, whatever happens to the process or the machine
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(SCHEMA)
            add_format_column(self.db)
        self.db.row_factory = sqlite3.Row

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        if self.read_only:
            raise RuntimeError("the ledger was opened read-only (dry run)")
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # --- targets and backfill -------------------------------------------------------

    def known_targets(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT target FROM targets")}

    def add_target(self, target: str, skipped_issues: list[str]) -> None:
        """Record a newly configured target and the older issues it will never get (its backfill cut-off)."""
        stamp = now()
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO targets (target, added_at) VALUES (?, ?)", (target, stamp))
            db.executemany(
                "INSERT OR IGNORE INTO skipped (target, issue, at) VALUES (?, ?, ?)",
                [(target, issue, stamp) for issue in skipped_issues],
            )

    def skipped(self, target: str) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT issue FROM skipped WHERE target = ?", (target,))}

    def added_at(self, target: str) -> str | None:
        row = self.db.execute("SELECT added_at FROM targets WHERE target = ?", (target,)).fetchone()
        return row[0] if row else None

    # --- parts ----------------------------------------------------------------------

    def parts(self, issue: str, target: str) -> dict[int, PartRecord]:
        rows = self.db.execute(
            "SELECT * FROM parts WHERE issue = ? AND target = ? ORDER BY part", (issue, target)
        ).fetchall()
        return {row["part"]: PartRecord(**dict(row)) for row in rows}

    def records(self, target: str | None = None) -> list[PartRecord]:
        if target is None:
            rows = self.db.execute("SELECT * FROM parts ORDER BY target, issue, part").fetchall()
        else:
            rows = self.db.execute("SELECT * FROM parts WHERE target = ? ORDER BY issue, part", (target,)).fetchall()
        return [PartRecord(**dict(row)) for row in rows]

    def delivered(self, target: str) -> set[str]:
        """Issues whose every part is sent to `target`."""
        rows = self.db.execute(
            "SELECT issue, MAX(parts) AS parts, SUM(state = 'sent') AS sent, COUNT(*) AS n "
            "FROM parts WHERE target = ? GROUP BY issue",
            (target,),
        ).fetchall()
        return {row["issue"] for row in rows if row["sent"] == row["n"] and row["n"] >= row["parts"]}

    def claim(
        self,
        issue: str,
        target: str,
        part: int,
        parts: int,
        payload_hash: str,
        nonce: str,
        format: str = LEGACY_FORMAT,
        note: str | None = None,
    ) -> PartRecord:
        """Mark a part as being sent, committed before the request leaves: the heart of exactly-once.

        `format` is the delivery's layout; `note` (kept in last_error) says why the part is not as rendered."""
        stamp = now()
        with self._write() as db:
            db.execute(
                "INSERT INTO parts (issue, target, part, parts, state, nonce, attempts, payload_hash, claimed_at, "
                "updated_at, format, last_error) VALUES (?, ?, ?, ?, 'claimed', ?, 1, ?, ?, ?, ?, ?) "
                "ON CONFLICT (issue, target, part) DO UPDATE SET state = 'claimed', parts = excluded.parts, "
                "attempts = attempts + 1, payload_hash = excluded.payload_hash, claimed_at = excluded.claimed_at, "
                "updated_at = excluded.updated_at, format = excluded.format, "
                "last_error = COALESCE(excluded.last_error, last_error)",
                (issue, target, part, parts, nonce, payload_hash, stamp, stamp, format, note),
            )
        record = self.parts(issue, target)[part]
        return record

    def mark_sent(
        self,
        issue: str,
        target: str,
        part: int,
        remote_id: str | None,
        payload_hash: str | None = None,
        note: str | None = None,
    ) -> None:
        """The platform has the part; `note` (kept in last_error) says how it got there, if not plainly."""
        stamp = now()
        with self._write() as db:
            db.execute(
                "UPDATE parts SET state = 'sent', remote_id = ?, sent_at = COALESCE(sent_at, ?), updated_at = ?, "
                "last_error = ?, payload_hash = COALESCE(?, payload_hash) "
                "WHERE issue = ? AND target = ? AND part = ?",
                (remote_id, stamp, stamp, note, payload_hash, issue, target, part),
            )

    def formats(self, target: str) -> dict[str, str]:
        """The layout each issue was (partly) posted to `target` in, by issue."""
        return {record.issue: record.format for record in self.records(target)}  # a read-only ledger may be old

    def mark(self, issue: str, target: str, part: int, state: str, error: str | None) -> None:
        """Record `failed` (not posted) or `uncertain` (might be posted), with what went wrong."""
        if state not in ("failed", "uncertain"):
            raise ValueError(state)
        with self._write() as db:
            db.execute(
                f"UPDATE parts SET state = ?, last_error = {_KEEP_SPLIT_NOTE}, updated_at = ? "
                "WHERE issue = ? AND target = ? AND part = ?",
                (state, error, error, now(), issue, target, part),
            )

    def record_update(self, issue: str, target: str, part: int, payload_hash: str) -> None:
        """An already-sent part was edited in place (`publish --update`)."""
        with self._write() as db:
            db.execute(
                "UPDATE parts SET payload_hash = ?, updated_at = ?, last_error = NULL "
                "WHERE issue = ? AND target = ? AND part = ?",
                (payload_hash, now(), issue, target, part),
            )

    def note_error(self, issue: str, target: str, part: int, error: str) -> None:
        with self._write() as db:
            db.execute(
                f"UPDATE parts SET last_error = {_KEEP_SPLIT_NOTE}, updated_at = ? "
                "WHERE issue = ? AND target = ? AND part = ?",
                (error, error, now(), issue, target, part),
            )

    def forget(self, issue: str, target: str) -> int:
        """Drop every record of `issue` for `target` (an explicit resend); returns how many parts were dropped."""
        with self._write() as db:
            count = db.execute("DELETE FROM parts WHERE issue = ? AND target = ?", (issue, target)).rowcount
            db.execute("DELETE FROM skipped WHERE issue = ? AND target = ?", (issue, target))
            db.execute("INSERT OR IGNORE INTO targets (target, added_at) VALUES (?, ?)", (target, now()))
        return count

    def confirm_uncertain(self, issue: str, target: str) -> int:
        """A person checked the channel and found the uncertain parts posted: record them as sent."""
        stamp = now()
        with self._write() as db:
            return db.execute(
                "UPDATE parts SET state = 'sent', sent_at = COALESCE(sent_at, ?), updated_at = ?, "
                "last_error = 'confirmed by hand' WHERE issue = ? AND target = ? AND state IN ('uncertain', 'claimed')",
                (stamp, stamp, issue, target),
            ).rowcount
