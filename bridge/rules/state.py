"""Durable state of the rules (open downtimes, order segments, limit monitors): SQLite key-value."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rule_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_unix_ms INTEGER NOT NULL
);
"""


class RuleState:
    """JSON values by key ('<rule>:<tag or cell key>'), kept in memory and saved when dirty.

    The rules write their state after the events it produced are in the outbox, so a crash
    between the two replays facts whose events the outbox already holds (same ids: no-ops).
    """

    def __init__(self, path: Path | str | None) -> None:
        self._db: sqlite3.Connection | None = None
        self._data: dict[str, Any] = {}
        self._dirty: set[str] = set()
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            for key, value in self._db.execute("SELECT key, value FROM rule_state"):
                self._data[key] = json.loads(value)

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self._data[key] = value
        self._dirty.add(key)

    def keys(self, prefix: str) -> list[str]:
        return [k for k in self._data if k.startswith(prefix)]

    @property
    def dirty(self) -> bool:
        return bool(self._dirty)

    def save(self) -> int:
        """Write the changed keys in one transaction; returns how many."""
        if not self._dirty:
            return 0
        keys, self._dirty = self._dirty, set()
        if self._db is None:
            return len(keys)
        now = int(time.time() * 1000)
        rows = [(k, json.dumps(self._data[k], separators=(",", ":")), now) for k in keys]
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("INSERT OR REPLACE INTO rule_state VALUES (?, ?, ?)", rows)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            self._dirty |= keys
            raise
        return len(rows)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
