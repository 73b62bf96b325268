"""Rejected Sparkplug input kept with its raw bytes: a small SQLite table in the bridge's data directory."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

DB_NAME = "rejected.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rejected_input (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_unix_ms INTEGER NOT NULL,
    topic TEXT NOT NULL,
    reason TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS rejected_input_time ON rejected_input(received_unix_ms);
"""


@dataclass(frozen=True, slots=True)
class RejectedRow:
    id: int
    received_unix_ms: int
    topic: str
    reason: str
    payload: bytes


class RejectedStore:
    """Append-only, bounded: beyond `max_rows` the oldest rows go (a flood of garbage must not fill
    the disk). Written by the bridge thread; read by `uns rejected`."""

    def __init__(self, path: Path | str, max_rows: int = 100_000) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_rows = max_rows
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._added = 0

    def add_many(self, rows: Iterable[tuple[int, str, str, bytes]]) -> int:
        """(received_unix_ms, topic, reason, payload) rows, in one transaction."""
        rows = list(rows)
        if not rows:
            return 0
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    "INSERT INTO rejected_input (received_unix_ms, topic, reason, payload) VALUES (?,?,?,?)",
                    rows,
                )
                self._added += len(rows)
                if self._added >= 1000:
                    self._added = 0
                    db.execute(
                        "DELETE FROM rejected_input WHERE id <= (SELECT MAX(id) FROM rejected_input) - ?",
                        (self.max_rows,),
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return len(rows)

    def list(self, limit: int = 50, reason: str | None = None) -> list[RejectedRow]:
        sql = "SELECT id, received_unix_ms, topic, reason, payload FROM rejected_input"
        args: tuple[object, ...] = ()
        if reason:
            sql += " WHERE reason = ?"
            args = (reason,)
        sql += " ORDER BY id DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(sql, (*args, limit)).fetchall()
        return [RejectedRow(int(r[0]), int(r[1]), str(r[2]), str(r[3]), bytes(r[4])) for r in rows]

    def get(self, row_id: int) -> RejectedRow | None:
        with self._lock:
            r = self._db.execute(
                "SELECT id, received_unix_ms, topic, reason, payload FROM rejected_input WHERE id = ?",
                (row_id,),
            ).fetchone()
        return None if r is None else RejectedRow(int(r[0]), int(r[1]), str(r[2]), str(r[3]), bytes(r[4]))

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {
                str(r): int(n)
                for r, n in self._db.execute("SELECT reason, COUNT(*) FROM rejected_input GROUP BY 1")
            }

    def close(self) -> None:
        with self._lock:
            self._db.close()
