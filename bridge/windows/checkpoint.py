"""SQLite checkpoint of the window engines: per-counter last value, running total, per-flow watermark.

Protocol with the outbox (a different SQLite file, so no shared transaction):

1. ``results = windows.close_due(now_ms)`` advances the engine in memory only.
2. The rules turn the results into ERP events whose ids derive from the window id
   (``<flow>:<window start ms>``, deterministic) and commit them to the outbox.
3. Only then ``store.save(windows.checkpoint())`` writes the engine state, in one transaction.

A crash between 2 and 3 leaves the outbox ahead of the checkpoint. On restart the engine resumes
from the checkpoint (the watermark of the last checkpointed window, counter last values and totals,
carried-in values) and re-closes the same windows from the replayed input (store-and-forward,
persistent session): same input, same state, so same aggregates and the same event ids, which the
outbox drops as duplicates. Input older than the checkpoint is late: for counters it is dropped when
older than the counter's last value, so nothing is counted twice. If input is not replayed, the next
window's counter delta absorbs the quantity (values are cumulative), so nothing is lost; only its
attribution to a window moves, and the running total stays exact (which is why events carry it).
Crash before 2: nothing was emitted, the replay recomputes it all.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bridge.windows.buffers import F64, I64
from bridge.windows.counters import CounterState

_SCHEMA = """
CREATE TABLE IF NOT EXISTS flow_checkpoint (
    flow TEXT PRIMARY KEY,
    window_id TEXT NOT NULL,
    closed_until_ms INTEGER NOT NULL,
    members_sha TEXT NOT NULL,
    carry_value BLOB NOT NULL,
    carry_ts BLOB NOT NULL,
    updated_unix_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS counter_checkpoint (
    flow TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    last_value REAL,
    last_ts_ms INTEGER NOT NULL,
    running_total REAL NOT NULL,
    pending REAL NOT NULL,
    resets INTEGER NOT NULL,
    rollovers INTEGER NOT NULL,
    window_id TEXT NOT NULL,
    PRIMARY KEY (flow, tag_key)
);
"""


def members_sha(keys: tuple[str, ...]) -> str:
    """Fingerprint of a flow's member list: carried values are only reused for the same members."""
    return hashlib.sha256("\x1f".join(keys).encode()).hexdigest()


@dataclass(slots=True)
class FlowCheckpoint:
    """The engine state of one flow after its last closed window."""

    flow: str
    window_id: str
    closed_until_ms: int
    members_sha: str
    carry_value: F64
    carry_ts: I64
    counter_keys: tuple[str, ...]
    counters: CounterState


class CheckpointStore:
    """A SQLite file in WAL mode; each save is one transaction (all or nothing)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def save(self, cp: FlowCheckpoint) -> None:
        c = cp.counters
        last_value = [None if np.isnan(v) else v for v in c.last_value.tolist()]
        rows = zip(
            [cp.flow] * len(cp.counter_keys),
            cp.counter_keys,
            last_value,
            c.last_ts.tolist(),
            c.total.tolist(),
            c.pending.tolist(),
            c.resets.tolist(),
            c.rollovers.tolist(),
            [cp.window_id] * len(cp.counter_keys),
            strict=True,
        )
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(
                "INSERT OR REPLACE INTO flow_checkpoint VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    cp.flow,
                    cp.window_id,
                    cp.closed_until_ms,
                    cp.members_sha,
                    cp.carry_value.astype("<f8").tobytes(),
                    cp.carry_ts.astype("<i8").tobytes(),
                    int(time.time() * 1000),
                ),
            )
            db.executemany("INSERT OR REPLACE INTO counter_checkpoint VALUES (?,?,?,?,?,?,?,?,?)", rows)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def load(self, flow: str) -> FlowCheckpoint | None:
        row = self._db.execute(
            "SELECT window_id, closed_until_ms, members_sha, carry_value, carry_ts "
            "FROM flow_checkpoint WHERE flow = ?",
            (flow,),
        ).fetchone()
        if row is None:
            return None
        crow = self._db.execute(
            "SELECT tag_key, last_value, last_ts_ms, running_total, pending, resets, rollovers "
            "FROM counter_checkpoint WHERE flow = ? ORDER BY tag_key",
            (flow,),
        ).fetchall()
        state = CounterState(
            np.array([np.nan if r[1] is None else r[1] for r in crow], np.float64),
            np.array([r[2] for r in crow], np.int64),
            np.array([r[3] for r in crow], np.float64),
            np.array([r[4] for r in crow], np.float64),
            np.array([r[5] for r in crow], np.int64),
            np.array([r[6] for r in crow], np.int64),
        )
        return FlowCheckpoint(
            flow=flow,
            window_id=row[0],
            closed_until_ms=int(row[1]),
            members_sha=row[2],
            carry_value=np.frombuffer(row[3], "<f8").astype(np.float64),
            carry_ts=np.frombuffer(row[4], "<i8").astype(np.int64),
            counter_keys=tuple(r[0] for r in crow),
            counters=state,
        )
