"""Channels that subscribed themselves (`/ppr subscribe`, Discord `/subscribe`): the one door to that state.

Bots write subscriptions while `pprfeed publish` reads them, in the `[state]` SQLite file the delivery ledger
also lives in (WAL: readers never wait for a writer). Everything about subscriptions goes through `State`, a
narrow interface (subscribe, unsubscribe, subscriptions, pause, remove, backup; for Slack's OAuth install
save_installation, bot_token, delete_installation, issue_state, consume_state), so that another backend
(PostgreSQL for several machines) can take its place without touching the bots or the publisher.

The tables are its own and created idempotently here; the ledger's tables and schema version are the ledger's.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from pprfeed.config import DEFAULT_BACKFILL, Target

SCHEMA = """
CREATE TABLE IF NOT EXISTS subscriptions (
    id           INTEGER PRIMARY KEY,
    platform     TEXT NOT NULL CHECK (platform IN ('slack', 'discord')),
    workspace    TEXT NOT NULL,
    channel      TEXT NOT NULL,
    topics       TEXT NOT NULL DEFAULT '',
    since        TEXT NOT NULL,
    added_by     TEXT NOT NULL DEFAULT '',
    paused       TEXT,
    paused_at    TEXT,
    UNIQUE (platform, channel)
);
CREATE TABLE IF NOT EXISTS installations (
    team_id      TEXT PRIMARY KEY,
    team_name    TEXT NOT NULL DEFAULT '',
    bot_user_id  TEXT NOT NULL DEFAULT '',
    bot_token    TEXT NOT NULL,
    installed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS oauth_states (
    state        TEXT PRIMARY KEY,
    expires_at   REAL NOT NULL
);
"""
SECRET_KEY_ENV = "PPRFEED_SECRET_KEY"
"""Fernet keys, comma-separated, newest first: tokens are encrypted with the first and read with any (rotation)."""
STATE_LIFETIME = 10 * 60
"""Seconds an OAuth state is good for: Slack's authorize page is a few clicks."""
MAX_STATES = 10_000
"""OAuth states kept at most: far more installs than can be under way at once."""
UNINSTALLED = "the app was uninstalled from the workspace"
"""The pause reason of a workspace's subscriptions after app_uninstalled or tokens_revoked."""
UNINSTALLED_KEPT_DAYS = 30
_ENCRYPTED = "fernet:"
PAUSE_CODES = {
    "slack": {
        "is_archived": "the channel was archived",
        "channel_not_found": "the channel was deleted, or the app cannot see it",
        "not_in_channel": "the app was removed from the channel",
    },
    "discord": {
        "10003": "Unknown Channel: the channel was deleted",
        "50001": "Missing Access: the bot can no longer see the channel",
        "50013": "Missing Permissions: the bot may not post in the channel",
    },
}
"""Delivery errors that mean the channel is gone or closed to us: its subscription pauses instead of failing
every run, until someone subscribes again."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Subscription:
    id: int
    platform: str
    workspace: str
    """The Slack team id or the Discord guild id."""
    channel: str
    topics: tuple[str, ...]
    """Topic slugs; empty means every article."""
    since: str
    added_by: str
    paused: str | None
    """Why deliveries stopped, or None while active."""
    paused_at: str | None

    @property
    def target(self) -> Target:
        """What the publisher delivers to: the same key as a configured channel, so a channel both configured and
        subscribed is one target in the ledger and gets one post."""
        return Target(self.platform, "channel", self.channel, self.topics, DEFAULT_BACKFILL, "digest")

    @property
    def state(self) -> str:
        return f"paused: {self.paused}" if self.paused else "active"


class State:
    """The subscriptions in one SQLite file (the `[state]` path). Every write is its own committed transaction."""

    def __init__(
        self, path: str | Path, *, read_only: bool = False, secret_key: str | None = None, timeout: float = 5.0
    ) -> None:
        """`timeout`: how long a read-only reader waits for a writer to finish (the publisher passes the ledger's
        wait: the two share the file)."""
        self.path = Path(path)
        self._secret_key = os.environ.get(SECRET_KEY_ENV, "") if secret_key is None else secret_key
        if read_only:  # the publisher reading who is subscribed: no write access needed, nothing created
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            self.db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=timeout)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            # created 0600: the file names every channel and who subscribed it
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        self.path.chmod(0o600)  # also when the ledger made the file first
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def subscribe(
        self, platform: str, workspace: str, channel: str, topics: Iterable[str] = (), added_by: str = ""
    ) -> Subscription:
        """Subscribe `channel`, or widen its subscription: `topics` are added to its topics; none means every
        article (as does an existing subscription to every article, which topics then narrow to them).
        Subscribing again resumes a paused subscription, from now (`since`)."""
        wanted = tuple(dict.fromkeys(topics))
        with self._write() as db:
            row = db.execute(
                "SELECT topics FROM subscriptions WHERE platform = ? AND channel = ?", (platform, channel)
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO subscriptions (platform, workspace, channel, topics, since, added_by) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (platform, workspace, channel, " ".join(wanted), _now(), added_by),
                )
            else:
                merged = merged_topics(tuple(row[0].split()), wanted)
                # a paused subscription starts afresh: like a new one, it does not get what it missed meanwhile
                db.execute(
                    "UPDATE subscriptions SET topics = ?, workspace = ?, "
                    "since = CASE WHEN paused IS NULL THEN since ELSE ? END, paused = NULL, paused_at = NULL "
                    "WHERE platform = ? AND channel = ?",
                    (" ".join(merged), workspace, _now(), platform, channel),
                )
        found = self.subscription(platform, channel)
        assert found is not None
        return found

    def unsubscribe(self, platform: str, channel: str, topics: Iterable[str] = ()) -> Subscription | None:
        """Drop `topics` from the channel's subscription, or (none given, or none left) the subscription itself.
        Returns what remains, None when nothing does."""
        dropped = set(topics)
        with self._write() as db:
            row = db.execute(
                "SELECT topics FROM subscriptions WHERE platform = ? AND channel = ?", (platform, channel)
            ).fetchone()
            if row is None:
                return None
            left = [slug for slug in row[0].split() if slug not in dropped]
            if not dropped or not left or not row[0]:
                # an every-article subscription less some topics is not expressible: it ends
                db.execute("DELETE FROM subscriptions WHERE platform = ? AND channel = ?", (platform, channel))
                return None
            db.execute(
                "UPDATE subscriptions SET topics = ? WHERE platform = ? AND channel = ?",
                (" ".join(left), platform, channel),
            )
        return self.subscription(platform, channel)

    def subscription(self, platform: str, channel: str) -> Subscription | None:
        found = self.subscriptions(platform, channel=channel)
        return found[0] if found else None

    def subscriptions(
        self, platform: str | None = None, workspace: str | None = None, channel: str | None = None
    ) -> list[Subscription]:
        """Every subscription matching the filters given, oldest first."""
        clauses, values = [], []
        for column, value in (("platform", platform), ("workspace", workspace), ("channel", channel)):
            if value is not None:
                clauses.append(f"{column} = ?")
                values.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        if not self._has_table("subscriptions"):
            return []  # a state file only the ledger has written (read-only opens create nothing)
        rows = self.db.execute(
            "SELECT id, platform, workspace, channel, topics, since, added_by, paused, paused_at "
            f"FROM subscriptions{where} ORDER BY id",
            values,
        ).fetchall()
        return [Subscription(r[0], r[1], r[2], r[3], tuple(r[4].split()), r[5], r[6], r[7], r[8]) for r in rows]

    def pause(self, platform: str, channel: str | None, reason: str, workspace: str | None = None) -> int:
        """Stop delivering to one channel (or every channel of `workspace`) until someone subscribes again;
        returns how many subscriptions were paused."""
        if channel is None and workspace is None:
            raise ValueError("pause needs a channel or a workspace")
        column, value = ("channel", channel) if channel is not None else ("workspace", workspace)
        with self._write() as db:
            return db.execute(
                f"UPDATE subscriptions SET paused = ?, paused_at = ? WHERE platform = ? AND {column} = ? "
                "AND paused IS NULL",
                (reason, _now(), platform, value),
            ).rowcount

    def remove(self, subscription_id: int) -> Subscription | None:
        """Delete one subscription by its id (`pprfeed subscriptions --remove`); the removed one, or None."""
        found = next((s for s in self.subscriptions() if s.id == subscription_id), None)
        if found is not None:
            with self._write() as db:
                db.execute("DELETE FROM subscriptions WHERE id = ?", (subscription_id,))
        return found

    # --- Slack installations (OAuth v2) and the single-use states of the install flow ---------------------------

    def save_installation(self, team_id: str, bot_token: str, team_name: str = "", bot_user_id: str = "") -> None:
        """Record (or replace, on a reinstall) a workspace's bot token: encrypted when PPRFEED_SECRET_KEY is set.
        Subscriptions paused by the workspace's uninstall resume."""
        keys = _fernet(self._secret_key)
        stored = _ENCRYPTED + keys.encrypt(bot_token.encode()).decode() if keys else bot_token
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO installations (team_id, team_name, bot_user_id, bot_token, installed_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (team_id, team_name, bot_user_id, stored, _now()),
            )
            # a workspace back within the 30 days gets its channels' subscriptions back, from now on
            db.execute(
                "UPDATE subscriptions SET paused = NULL, paused_at = NULL, since = ? "
                "WHERE platform = 'slack' AND workspace = ? AND paused = ?",
                (_now(), team_id, UNINSTALLED),
            )

    def bot_token(self, team_id: str) -> str | None:
        """The workspace's bot token, or None when it has not installed the app (or its token cannot be read)."""
        if not self._has_table("installations"):
            return None
        row = self.db.execute("SELECT bot_token FROM installations WHERE team_id = ?", (team_id,)).fetchone()
        if row is None:
            return None
        stored: str = row[0]
        if not stored.startswith(_ENCRYPTED):
            return stored
        keys = _fernet(self._secret_key)
        if keys is None:
            raise StateError(f"the Slack tokens are encrypted: set {SECRET_KEY_ENV} to the key they were saved with")
        try:
            return keys.decrypt(stored[len(_ENCRYPTED) :].encode()).decode()
        except InvalidToken:
            raise StateError(
                f"a Slack token cannot be decrypted with {SECRET_KEY_ENV}: keep the old key after the new one "
                "(new,old) until every workspace has been re-encrypted"
            ) from None

    def reencrypt_tokens(self) -> int:
        """Encrypt every token with the first key of PPRFEED_SECRET_KEY (after a rotation, or once a key is set);
        how many were rewritten."""
        keys = _fernet(self._secret_key)
        if keys is None or not self._has_table("installations"):
            return 0
        rows = self.db.execute("SELECT team_id, bot_token FROM installations").fetchall()
        changed = []
        for team_id, stored in rows:
            if stored.startswith(_ENCRYPTED):
                try:
                    fresh = keys.rotate(stored[len(_ENCRYPTED) :].encode()).decode()
                except InvalidToken:
                    raise StateError(f"a Slack token cannot be decrypted with any key in {SECRET_KEY_ENV}") from None
            else:
                fresh = keys.encrypt(stored.encode()).decode()
            changed.append((_ENCRYPTED + fresh, team_id))
        with self._write() as db:
            db.executemany("UPDATE installations SET bot_token = ? WHERE team_id = ?", changed)
        return len(changed)

    def delete_installation(self, team_id: str) -> bool:
        """Forget the workspace's token and pause its Slack subscriptions; whether it had an installation."""
        with self._write() as db:
            deleted = db.execute("DELETE FROM installations WHERE team_id = ?", (team_id,)).rowcount
            # also those paused for another reason: every one of them goes in 30 days
            db.execute(
                "UPDATE subscriptions SET paused = ?, paused_at = ? WHERE platform = 'slack' AND workspace = ? "
                "AND paused IS NOT ?",
                (UNINSTALLED, _now(), team_id, UNINSTALLED),
            )
        return bool(deleted)

    def remove_uninstalled(self, days: int = UNINSTALLED_KEPT_DAYS, now: datetime | None = None) -> list[Subscription]:
        """Delete the subscriptions paused by an uninstall more than `days` ago; those deleted."""
        cutoff = ((now or datetime.now(UTC)) - timedelta(days=days)).isoformat(timespec="microseconds")
        gone = [s for s in self.subscriptions("slack") if s.paused == UNINSTALLED and (s.paused_at or "") < cutoff]
        with self._write() as db:
            db.executemany("DELETE FROM subscriptions WHERE id = ?", [(s.id,) for s in gone])
        return gone

    def issue_state(self, lifetime: float = STATE_LIFETIME) -> str:
        """A new OAuth state value, good once within `lifetime` seconds."""
        state = secrets.token_urlsafe(32)
        now = time.time()
        with self._write() as db:
            db.execute("DELETE FROM oauth_states WHERE expires_at < ?", (now,))
            # anyone may GET /slack/install: past the cap the oldest states go, so the table stays small
            db.execute(
                "DELETE FROM oauth_states WHERE state IN "
                "(SELECT state FROM oauth_states ORDER BY expires_at DESC LIMIT -1 OFFSET ?)",
                (MAX_STATES - 1,),
            )
            db.execute("INSERT INTO oauth_states (state, expires_at) VALUES (?, ?)", (state, now + lifetime))
        return state

    def consume_state(self, state: str) -> bool:
        """Whether `state` was issued here, unused and unexpired; it is spent either way."""
        with self._write() as db:
            row = db.execute("SELECT expires_at FROM oauth_states WHERE state = ?", (state,)).fetchone()
            db.execute("DELETE FROM oauth_states WHERE state = ?", (state,))
        return row is not None and row[0] >= time.time()

    def _has_table(self, name: str) -> bool:
        found = self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
        return found is not None

    def backup(self, path: str | Path) -> None:
        """A consistent copy of the whole state file (ledger included), taken while others write (SQLite's
        online backup API), with the same 0600 mode."""
        target = Path(path)
        if target.exists():
            target.unlink()
        os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o600))
        copy = sqlite3.connect(target)
        try:
            self.db.backup(copy)
        finally:
            copy.close()


class StateError(Exception):
    """The state file cannot give what was asked (an encrypted token without its key): the message says what to do."""


def _fernet(keys: str) -> MultiFernet | None:
    """The keys of PPRFEED_SECRET_KEY, or None without any. A malformed key is a StateError, never echoed.

    Read each time a token is, so that a malformed key never stops what does not touch tokens."""
    parts = [key.strip() for key in keys.split(",") if key.strip()]
    if not parts:
        return None
    try:
        return MultiFernet([Fernet(key) for key in parts])
    except (ValueError, TypeError):
        raise StateError(
            f"{SECRET_KEY_ENV} holds something that is not a Fernet key: make one with "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
        ) from None


def merged_topics(held: tuple[str, ...], wanted: tuple[str, ...]) -> tuple[str, ...]:
    """A subscription's topics after subscribing again with `wanted`: added to `held`, or (either empty, which
    means every article) `wanted` alone."""
    return tuple(dict.fromkeys(held + wanted)) if held and wanted else wanted


def pause_reason(platform: str, code: str) -> str | None:
    """Why a subscription pauses after a delivery refused with `code`, or None when it should not."""
    reason = PAUSE_CODES.get(platform, {}).get(code)
    return None if reason is None else f"{reason} ({code})"
