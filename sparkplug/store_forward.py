"""Store-and-forward: a bounded SQLite queue of DATA payloads kept while the edge node cannot publish."""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS buffered (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT,
    timestamp_ms INTEGER NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class BufferedMessage:
    """One DATA payload as it was built when it could not be sent (seq not set yet)."""

    id: int
    device_id: str | None
    timestamp_ms: int
    payload: bytes


class StoreForward:
    """A FIFO of encoded DATA payloads, bounded by count: when full, the oldest is dropped and counted.

    With `path=None` the queue lives in memory (lost on restart, still bounded). A file survives a
    restart of the edge node, so data taken while the broker or primary host was away is not lost.
    """

    def __init__(self, path: str | Path | None = None, *, max_messages: int = 100_000) -> None:
        if max_messages < 1:
            raise ValueError("max_messages must be at least 1")
        self.max_messages = max_messages
        self._lock = threading.Lock()
        target = ":memory:"
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            target = str(path)
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        if path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        row = self._db.execute("SELECT COUNT(*) FROM buffered").fetchone()
        self._count = int(row[0])
        row = self._db.execute("SELECT value FROM counters WHERE name='dropped'").fetchone()
        self._dropped = int(row[0]) if row else 0

    def __len__(self) -> int:
        return self._count

    @property
    def dropped(self) -> int:
        """Messages dropped because the buffer was full, over the life of the buffer file."""
        return self._dropped

    def append(self, device_id: str | None, timestamp_ms: int, payload: bytes) -> int:
        """Queue one payload; returns how many of the oldest were dropped to make room (0 normally)."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.execute(
                    "INSERT INTO buffered (device_id, timestamp_ms, payload) VALUES (?, ?, ?)",
                    (device_id, timestamp_ms, payload),
                )
                self._count += 1
                excess = self._count - self.max_messages
                if excess > 0:
                    self._db.execute(
                        "DELETE FROM buffered WHERE id IN (SELECT id FROM buffered ORDER BY id LIMIT ?)",
                        (excess,),
                    )
                    self._count -= excess
                    self._dropped += excess
                    self._db.execute(
                        "INSERT INTO counters (name, value) VALUES ('dropped', ?) "
                        "ON CONFLICT(name) DO UPDATE SET value=excluded.value",
                        (self._dropped,),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                self._count = int(self._db.execute("SELECT COUNT(*) FROM buffered").fetchone()[0])
                raise
        if excess > 0:
            log.warning("store-and-forward buffer full (%d): dropped %d oldest", self.max_messages, excess)
            return excess
        return 0

    def peek(self, limit: int = 500) -> list[BufferedMessage]:
        """The oldest `limit` payloads, in the order they were queued."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, device_id, timestamp_ms, payload FROM buffered ORDER BY id LIMIT ?", (limit,)
            ).fetchall()
        return [BufferedMessage(int(r[0]), r[1], int(r[2]), bytes(r[3])) for r in rows]

    def remove_through(self, last_id: int) -> None:
        """Forget every payload up to and including `last_id` (they have been sent)."""
        with self._lock:
            cur = self._db.execute("DELETE FROM buffered WHERE id <= ?", (last_id,))
            self._count -= max(cur.rowcount, 0)

    def close(self) -> None:
        with self._lock:
            self._db.close()
