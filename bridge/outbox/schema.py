"""The outbox's SQLite file: opening it (WAL, durability pragmas), its tables and their upgrades."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

Synchronous = Literal["FULL", "NORMAL"]

# The file name the outbox uses inside the bridge's data directory.
DEFAULT_DB_NAME = "outbox.sqlite3"

# States are stored as text so that an operator reading the file with the sqlite3 shell sees words.
# The partial indexes below repeat the exact `state IN (...)` term the queries use: SQLite only
# picks a partial index when the query's WHERE clause contains the index's term as written.
PENDING = "state IN ('queued', 'in_flight')"

# Each entry upgrades the file from version i to i+1 (index 0 creates version 1). Never edit a
# released entry: append a new one, so files written by older bridges upgrade step by step.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE events (
            seq              INTEGER PRIMARY KEY AUTOINCREMENT,
            event_id         TEXT    NOT NULL UNIQUE,
            contract         TEXT    NOT NULL,
            version          INTEGER NOT NULL,
            ordering_key     TEXT    NOT NULL,
            payload          TEXT    NOT NULL,
            created_unix_ms  INTEGER NOT NULL,
            enqueued_unix_ms INTEGER NOT NULL,
            state            TEXT    NOT NULL DEFAULT 'queued'
                             CHECK (state IN ('queued', 'in_flight', 'delivered', 'dead')),
            attempts         INTEGER NOT NULL DEFAULT 0,
            next_attempt_at  INTEGER NOT NULL DEFAULT 0,
            last_error       TEXT,
            receipt          TEXT,
            delivered_at     INTEGER
        )""",
        # The worker's scan: pending events in seq order, with what it filters on, without touching
        # the (much larger) set of delivered rows.
        f"CREATE INDEX events_pending ON events(seq, ordering_key, next_attempt_at) WHERE {PENDING}",
        # Keys backing off: the few pending events whose next try lies in the future.
        f"CREATE INDEX events_backoff ON events(next_attempt_at, ordering_key) WHERE {PENDING}",
        "CREATE INDEX events_created ON events(created_unix_ms)",
        "CREATE INDEX events_delivered_at ON events(delivered_at) WHERE state = 'delivered'",
        """CREATE TABLE dead_letters (
            event_id        TEXT    PRIMARY KEY REFERENCES events(event_id) ON DELETE CASCADE,
            reason          TEXT    NOT NULL,
            remote_error    TEXT,
            raw_event       TEXT    NOT NULL,
            attempts        INTEGER NOT NULL,
            parked_unix_ms  INTEGER NOT NULL
        )""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


class OutboxSchemaError(RuntimeError):
    """The file is not an outbox this bridge can use (written by a newer bridge, or not an outbox)."""


def connect(
    path: Path, synchronous: Synchronous = "FULL", busy_timeout_ms: int = 10_000
) -> sqlite3.Connection:
    """Open (creating if need be) the outbox file in WAL mode and bring its schema up to date.

    synchronous=FULL fsyncs the WAL at every commit, so an enqueued event survives a power cut,
    not only a crash of the bridge (NORMAL in WAL mode survives SIGKILL but may lose the last
    commits on power loss). The bench measures the price of that choice.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, so a writer takes the lock up front
    # and never fails half way through on a lock upgrade against another process (the CLI).
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_ms / 1000
    )
    try:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise OutboxSchemaError(f"{path}: could not switch to WAL journal mode (got {mode!r})")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        _migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _version(conn: sqlite3.Connection, path: Path) -> int:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "schema_version" not in tables:
        foreign = sorted(tables - {"sqlite_sequence"})
        if foreign:
            # Someone pointed us at another application's database: do not add our tables to it.
            raise OutboxSchemaError(f"{path}: not an outbox file (it has tables {', '.join(foreign[:5])})")
        return 0
    row = conn.execute("SELECT version FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    if _version(conn, path) == SCHEMA_VERSION:
        return  # the usual case: no write lock needed just to open the file
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = _version(conn, path)  # again under the lock: another process may have upgraded it
        if current > SCHEMA_VERSION:
            raise OutboxSchemaError(
                f"{path}: outbox schema version {current} is newer than this bridge knows ({SCHEMA_VERSION});"
                " run the newer bridge or restore a matching backup"
            )
        if current == 0:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        for version in range(current, SCHEMA_VERSION):
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            log.info("outbox %s: schema upgraded to version %d", path, version + 1)
        conn.execute("DELETE FROM schema_version")
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
