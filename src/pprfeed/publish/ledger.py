"""The delivery ledger: SQLite (WAL) record of every part of every delivery.

One row per (issue, target, part). A part is claimed (committed to disk)
before its request is sent and marked sent after the platform answered, so
after a crash a "claimed" row is exactly the case where the platform may or may
not have the message; `publish` resolves it by looking, never by guessing.

States:
  claimed    a request is (or was, before a crash or a ledger that could not be written) on its way
  sent       the platform has it; remote_id is its Slack ts / Discord message id
  failed     the platform refused or could not be reached; not posted; retried next run
  uncertain  might be posted and could not be checked; a person decides (`pprfeed status`)

A part that may have reached the platform is never `failed`. The schema's version is kept in
`PRAGMA user_version` and older ledgers are migrated when opened for writing (MIGRATIONS).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 2
"""Kept in `PRAGMA user_version`. A ledger without one (0) is either a new file or one written before the
schema was versioned: both are brought up to date by the same steps."""

MIGRATIONS: dict[int, tuple[str, ...]] = {
    # version 1: the tables as they were before versioning (IF NOT EXISTS leaves such a ledger as it is)
    1: (
        """CREATE TABLE IF NOT EXISTS targets (
            target     TEXT PRIMARY KEY,
            added_at   TEXT NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS skipped (
            target     TEXT NOT NULL,
            issue      TEXT NOT NULL,
            at         TEXT NOT NULL,
            PRIMARY KEY (target, issue)
        )""",
        """CREATE TABLE IF NOT EXISTS parts (
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
        )""",
    ),
    # version 2: the layout each delivery was posted in (publish/deliver.py LAYOUTS), so a correction edits a
    # post in the layout it has, whatever the target's `format` says today; earlier posts were the full text
    2: ("ALTER TABLE parts ADD COLUMN format TEXT NOT NULL DEFAULT 'full'",),
}
"""The statements that take a ledger from the version before to the key's version, run in one transaction.
A read-only open (dry run, status) cannot migrate, so it reads an older ledger as it is: a step that changes
what the queries below read must also teach the read-only open to cope (or to say so)."""

DEFAULT_TIMEOUT = 30.0
"""Seconds to wait for another connection's write before giving up on the ledger."""


class LedgerError(Exception):
    """The ledger file cannot be read or written; the message names the file and what to do (one line)."""


STATES = ("claimed", "sent", "failed", "uncertain")
SPLIT_NOTE = "split in two"
"""How the note on the first of two parts made from one refused message starts (publish/deliver.py)."""
LEGACY_FORMAT = "full"
"""The layout of every part recorded before the ledger kept one: the full text, in parts one after another."""


# an error recorded on a split part is added to its note, never put in its place: the note is how later runs
# know that this part and the next are the halves of one rendered message
_KEEP_SPLIT_NOTE = (
    f"CASE WHEN last_error LIKE '{SPLIT_NOTE}%' "
    "THEN substr(last_error, 1, instr(last_error || ' — ', ' — ') - 1) || ' — ' || ? ELSE ? END"
)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


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
    """The ledger in one SQLite file. Every write is its own committed transaction.

    Every SQLite error becomes a LedgerError saying which file and what to do: a damaged, read-only or locked
    ledger is the operator's to fix, not a crash."""

    def __init__(self, path: str | Path, *, read_only: bool = False, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.timeout = timeout
        try:
            self._open()
        except LedgerError:
            if hasattr(self, "db"):
                self.db.close()
            raise
        self.db.row_factory = sqlite3.Row

    def _open(self) -> None:
        with self._guard(writing=not self.read_only):
            if self.read_only:
                if self.path.is_file():
                    uri = f"{self.path.resolve().as_uri()}?mode=ro"
                    self.db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=self.timeout)
                    self._check_version(self._version())
                    if self._has_parts():
                        return
                    # the state file holds only what a bot wrote (subscriptions): nothing delivered yet
                    self.db.close()
                # nothing recorded yet: an empty in-memory ledger, so a dry run creates no file
                self.db = sqlite3.connect(":memory:", isolation_level=None)
                self._migrate()
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.db = sqlite3.connect(self.path, isolation_level=None, timeout=self.timeout)
                self.db.execute("PRAGMA journal_mode=WAL")
                # a claim must be on disk before its request leaves, whatever happens to the process or the machine
                self.db.execute("PRAGMA synchronous=FULL")
                self._migrate()

    def _has_parts(self) -> bool:
        found = self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'parts'").fetchone()
        return found is not None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the file -------------------------------------------------------------------

    def _version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise LedgerError(
                f"the delivery ledger {self.path} was written by a newer pprfeed (schema {version}; this one knows "
                f"up to {SCHEMA_VERSION}) — run that newer pprfeed, or upgrade this one"
            )

    def _migrate(self) -> None:
        if self._version() == SCHEMA_VERSION:
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            version = self._version()  # again, inside the transaction: another process may have migrated it
            self._check_version(version)
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[step]:
                    self.db.execute(statement)
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    @contextmanager
    def _guard(self, *, writing: bool) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise LedgerError(self._explain(exc, writing)) from None
        except OSError as exc:  # the folder cannot be created
            raise LedgerError(
                f"the delivery ledger's folder {self.path.parent} cannot be created ({exc.strerror}) — "
                "set [state] path to a file in a folder you may write"
            ) from None

    def _explain(self, exc: sqlite3.Error, writing: bool) -> str:
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF  # the primary result code
        where = f"the delivery ledger {self.path}"
        if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            return (
                f"{where} is locked by another program (waited {self.timeout:g} s) — let it finish or stop it "
                f"(`fuser {self.path}` names it), then run pprfeed again"
            )
        if code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
            return (
                f"{where} is damaged ({exc}) — restore it from a backup; without one, move it aside and check with "
                "`pprfeed publish --dry-run` what a fresh ledger would post before publishing"
            )
        if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH):
            return (
                f"{where} cannot be {'written' if writing else 'read'} ({exc}) — the user running pprfeed needs "
                f"write access to it and to its folder {self.path.parent} (SQLite keeps {self.path.name}-wal and "
                f"{self.path.name}-shm beside it, even to read), or set [state] path to a file in a folder it may "
                "write"
            )
        return f"{where} cannot be {'written' if writing else 'read'} ({exc}) — check the disk and the file"

    def _read(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._guard(writing=False):
            return self.db.execute(sql, parameters).fetchall()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        if self.read_only:
            raise RuntimeError("the ledger was opened read-only (dry run)")
        with self._guard(writing=True):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
                self.db.execute("COMMIT")
            except BaseException:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise

    # --- targets and backfill -------------------------------------------------------

    def known_targets(self) -> set[str]:
        return {row[0] for row in self._read("SELECT target FROM targets")}

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
        return {row[0] for row in self._read("SELECT issue FROM skipped WHERE target = ?", (target,))}

    def added_at(self, target: str) -> str | None:
        rows = self._read("SELECT added_at FROM targets WHERE target = ?", (target,))
        return rows[0][0] if rows else None

    # --- parts ----------------------------------------------------------------------

    def parts(self, issue: str, target: str) -> dict[int, PartRecord]:
        rows = self._read("SELECT * FROM parts WHERE issue = ? AND target = ? ORDER BY part", (issue, target))
        return {row["part"]: PartRecord(**dict(row)) for row in rows}

    def records(self, target: str | None = None) -> list[PartRecord]:
        if target is None:
            rows = self._read("SELECT * FROM parts ORDER BY target, issue, part")
        else:
            rows = self._read("SELECT * FROM parts WHERE target = ? ORDER BY issue, part", (target,))
        return [PartRecord(**dict(row)) for row in rows]

    def delivered(self, target: str) -> set[str]:
        """Issues whose every part is sent to `target`."""
        rows = self._read(
            "SELECT issue, MAX(parts) AS parts, SUM(state = 'sent') AS sent, COUNT(*) AS n "
            "FROM parts WHERE target = ? GROUP BY issue",
            (target,),
        )
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

    def forget(self, issue: str, target: str, *, sent_too: bool = False) -> int:
        """An explicit resend: drop the records of `issue`'s parts for `target` that a person found missing
        (failed, uncertain), so they are sent anew; with `sent_too`, every part (the whole issue is posted again).
        A claimed part is kept: the resend looks for it first, as any run does. Returns how many were dropped."""
        keep = "" if sent_too else " AND state IN ('failed', 'uncertain')"
        with self._write() as db:
            count = db.execute(f"DELETE FROM parts WHERE issue = ? AND target = ?{keep}", (issue, target)).rowcount
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
