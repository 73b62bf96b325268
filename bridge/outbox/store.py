"""The outbox's durable queue: enqueue, claim in order per key, record receipts, retries and dead letters."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.outbox.schema import PENDING, Synchronous, connect
from uns_model.delivery import DeliveryReceipt, OutboundEvent

log = logging.getLogger(__name__)

# next_attempt_at of a claimed event: far in the future, so that the key of an event in flight
# counts as "not due" in the same index that holds keys backing off, and no later event of that key
# can be claimed before the worker has settled this one.
IN_FLIGHT_HOLD_MS = 1 << 62

_EVENT_COLUMNS = "seq, event_id, contract, version, ordering_key, payload, created_unix_ms, attempts"


@dataclass(frozen=True, slots=True)
class ClaimedEvent:
    """An event the worker took for delivery, with its place in the queue and its tries so far."""

    seq: int
    event: OutboundEvent
    attempts: int


@dataclass(slots=True)
class EnqueueResult:
    """What one enqueue call did: the events it added, and the ids it already held."""

    inserted: list[OutboundEvent] = field(default_factory=list)
    duplicates: int = 0
    # Ids already held with a different contract, key or payload: the first one is kept (the id is
    # the identity), and the difference is logged because it points at a non-deterministic id.
    conflicts: list[str] = field(default_factory=list)
    # Events whose payload is not valid JSON (NaN, infinity): kept, straight as dead letters.
    rejected: list[tuple[OutboundEvent, str]] = field(default_factory=list)


def dump_json(value: Any) -> str:
    # Sorted keys: the same facts give the same text, so a re-enqueue compares equal.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False, sort_keys=True)


def _dump_raw(value: Any) -> str:
    # Only for data that failed strict JSON: Python's json keeps NaN/Infinity as bare tokens, so the
    # raw value survives for the operator rather than being lost.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=True)


class OutboxStore:
    """The SQLite file behind the outbox. Thread-safe: one connection, one lock, short transactions.

    The sink is never called under the lock; only the bookkeeping around a delivery is.
    """

    def __init__(self, path: Path | str, *, synchronous: Synchronous = "FULL", busy_timeout_ms: int = 10_000):
        self.path = Path(path)
        self._conn = connect(self.path, synchronous=synchronous, busy_timeout_ms=busy_timeout_ms)
        self._lock = threading.RLock()
        self._closed = False

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE) under the store's lock; rolled back on error."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction under the store's lock."""
        with self._lock:
            # One read transaction, so that figures read by several queries agree with each other.
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                self._conn.execute("COMMIT")

    # -- producer side ---------------------------------------------------------------------------

    def enqueue(self, events: Iterable[OutboundEvent], now_ms: int) -> EnqueueResult:
        """Commit events in one transaction (durable when this returns); a known event_id is a no-op."""
        result = EnqueueResult()
        with self.transaction() as conn:
            for ev in events:
                try:
                    payload, state, error = dump_json(ev.payload), "queued", None
                except ValueError as exc:
                    payload, state, error = _dump_raw(ev.payload), "dead", f"payload is not valid JSON: {exc}"
                cur = conn.execute(
                    "INSERT INTO events (event_id, contract, version, ordering_key, payload, created_unix_ms,"
                    " enqueued_unix_ms, state, next_attempt_at, last_error) VALUES (?,?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT(event_id) DO NOTHING",
                    (
                        ev.event_id, ev.contract, ev.version, ev.ordering_key, payload,
                        ev.created_unix_ms, now_ms, state, now_ms, error,
                    ),
                )  # fmt: skip
                if cur.rowcount == 1:
                    if error is None:
                        result.inserted.append(ev)
                    else:
                        self._insert_dead_letter(conn, ev.event_id, error, None, 0, now_ms)
                        result.rejected.append((ev, error))
                    continue
                result.duplicates += 1
                held = conn.execute(
                    "SELECT contract, version, ordering_key, payload FROM events WHERE event_id = ?",
                    (ev.event_id,),
                ).fetchone()
                if held != (ev.contract, ev.version, ev.ordering_key, payload):
                    result.conflicts.append(ev.event_id)
        return result

    # -- worker side -----------------------------------------------------------------------------

    def recover_in_flight(self, now_ms: int) -> int:
        """Put back events that were in flight when the last worker died: they are delivered again
        (the sink is idempotent by event id, so the target still holds each once)."""
        with self.transaction() as conn:
            cur = conn.execute(
                "UPDATE events SET state = 'queued', next_attempt_at = ? WHERE state = 'in_flight'", (now_ms,)
            )
            return cur.rowcount

    def claim(self, now_ms: int, limit: int) -> list[ClaimedEvent]:
        """Take up to `limit` events in queue order whose keys are due, and mark them in flight.

        A key is due when none of its undelivered events is backing off or in flight. Taking the
        oldest events of due keys by seq means every event taken has all undelivered predecessors
        of its key taken before it in the same list: the worker delivers the list in order and
        stops a key at its first failure.
        """
        with self.transaction() as conn:
            rows = conn.execute(
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE {PENDING} AND ordering_key NOT IN"
                f" (SELECT ordering_key FROM events WHERE {PENDING} AND next_attempt_at > ?)"
                " ORDER BY seq LIMIT ?",
                (now_ms, limit),
            ).fetchall()
            claimed: list[ClaimedEvent] = []
            for row in rows:
                try:
                    claimed.append(ClaimedEvent(seq=row[0], event=_event_of(row), attempts=int(row[7])))
                except ValueError as exc:
                    # A row no event can be made of (edited by hand, written by a buggy version)
                    # must not stall the worker: park it, with the reason, and go on.
                    reason = f"stored event unreadable: {exc}".replace("\n", " ")[:2000]
                    log.error("outbox %s: event %s parked: %s", self.path, row[1], reason)
                    conn.execute(
                        "UPDATE events SET state = 'dead', next_attempt_at = 0, last_error = ? WHERE seq = ?",
                        (reason, row[0]),
                    )
                    self._insert_dead_letter(conn, str(row[1]), reason, None, int(row[7]), now_ms)
            conn.executemany(
                "UPDATE events SET state = 'in_flight', next_attempt_at = ? WHERE seq = ?",
                [(IN_FLIGHT_HOLD_MS, c.seq) for c in claimed],
            )
        return claimed

    def next_due_ms(self, now_ms: int) -> int | None:
        """When the earliest backing-off event becomes due (None when none is backing off)."""
        with self._lock:
            row = self._conn.execute(
                f"SELECT MIN(next_attempt_at) FROM events WHERE {PENDING}"
                " AND next_attempt_at > ? AND next_attempt_at < ?",
                (now_ms, IN_FLIGHT_HOLD_MS),
            ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def get(self, event_id: str) -> OutboundEvent | None:
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE event_id = ?", (event_id,)
            ).fetchone()
        return None if row is None else _event_of(row)

    def mark_delivered(self, seq: int, receipt: DeliveryReceipt, now_ms: int) -> None:
        # delivered_at is the outbox's own clock (retention counts on it), not the sink's stamp.
        with self.transaction() as conn:
            conn.execute(
                "UPDATE events SET state = 'delivered', attempts = attempts + 1, next_attempt_at = 0,"
                " last_error = NULL, receipt = ?, delivered_at = ? WHERE seq = ?",
                (receipt.model_dump_json(), now_ms, seq),
            )

    def mark_retry(self, seq: int, attempts: int, next_attempt_at: int, error: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE events SET state = 'queued', attempts = ?, next_attempt_at = ?, last_error = ?"
                " WHERE seq = ?",
                (attempts, next_attempt_at, error, seq),
            )

    def release(self, seqs: Iterable[int], now_ms: int) -> None:
        """Hand back claimed events not tried (shutdown, or an earlier event of their key failed)."""
        with self.transaction() as conn:
            conn.executemany(
                "UPDATE events SET state = 'queued', next_attempt_at = ?"
                " WHERE seq = ? AND state = 'in_flight'",
                [(now_ms, seq) for seq in seqs],
            )

    def park(self, seq: int, attempts: int, reason: str, remote_error: str | None, now_ms: int) -> None:
        """Move an event to the dead letters, with why; later events of its key go on."""
        with self.transaction() as conn:
            row = conn.execute(
                "UPDATE events SET state = 'dead', attempts = ?, next_attempt_at = 0, last_error = ?"
                " WHERE seq = ? RETURNING event_id",
                (attempts, reason, seq),
            ).fetchone()
            if row is not None:
                self._insert_dead_letter(conn, str(row[0]), reason, remote_error, attempts, now_ms)

    @staticmethod
    def _insert_dead_letter(
        conn: sqlite3.Connection,
        event_id: str,
        reason: str,
        remote_error: str | None,
        attempts: int,
        now_ms: int,
    ) -> None:
        # The raw event is the whole row as the bridge produced it, so that the dead letter stands
        # on its own even once the operator has purged or replayed the event.
        raw = conn.execute(
            "SELECT json_object('event_id', event_id, 'contract', contract, 'version', version,"
            " 'ordering_key', ordering_key, 'created_unix_ms', created_unix_ms,"
            # An object when the payload is JSON; the raw text when it is not (NaN at enqueue).
            " 'payload', CASE WHEN json_valid(payload) THEN json(payload) ELSE payload END)"
            " FROM events WHERE event_id = ?",
            (event_id,),
        ).fetchone()
        conn.execute(
            "INSERT OR REPLACE INTO dead_letters"
            " (event_id, reason, remote_error, raw_event, attempts, parked_unix_ms) VALUES (?,?,?,?,?,?)",
            (event_id, reason, remote_error, raw[0] if raw else "", attempts, now_ms),
        )

    # -- housekeeping ----------------------------------------------------------------------------

    def prune_delivered(self, before_ms: int) -> int:
        """Delete delivered events delivered before `before_ms`; dead letters stay until retried or purged."""
        with self.transaction() as conn:
            return conn.execute(
                "DELETE FROM events WHERE state = 'delivered' AND delivered_at < ?", (before_ms,)
            ).rowcount

    def checkpoint(self) -> None:
        """Fold the WAL back into the database file, so that a copy of the .sqlite3 alone is complete."""
        with self._lock:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:  # another process holds a reader: its last close folds the WAL
                log.info("outbox %s: WAL checkpoint at close skipped: %s", self.path, exc)
            self._conn.close()

    @property
    def closed(self) -> bool:
        return self._closed


def _event_of(row: tuple[Any, ...]) -> OutboundEvent:
    return OutboundEvent(
        event_id=row[1],
        contract=row[2],
        version=row[3],
        ordering_key=row[4],
        payload=json.loads(row[5]),
        created_unix_ms=row[6],
    )
