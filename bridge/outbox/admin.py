"""Operator views and actions on an outbox file: status, listings, dead letters, retry, replay, purge."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field
from typing import Any

from bridge.outbox.schema import PENDING
from bridge.outbox.store import OutboxStore
from uns_model.delivery import DeliveryState

STATES: tuple[DeliveryState, ...] = ("queued", "in_flight", "delivered", "dead")


@dataclass(frozen=True, slots=True)
class OutboxStatus:
    """The outbox at a glance, read from the file (so the same for the bridge and the CLI)."""

    depth: int  # events not delivered yet: queued + in flight
    counts: dict[str, int]  # by state
    by_contract: dict[str, dict[str, int]]  # contract -> state -> count
    oldest_pending_created_unix_ms: int | None
    oldest_pending_age_s: float | None
    backing_off: int  # pending events that failed at least once and wait for their next try
    failed_tries: int  # tries that did not deliver, over the events the file holds
    dead_letters: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class EventRow:
    seq: int
    event_id: str
    contract: str
    version: int
    ordering_key: str
    created_unix_ms: int
    state: str
    attempts: int
    next_attempt_at: int
    last_error: str | None
    receipt: dict[str, Any] | None
    delivered_at: int | None
    payload: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    event_id: str
    contract: str | None
    ordering_key: str | None
    reason: str
    remote_error: str | None
    raw_event: str
    attempts: int
    parked_unix_ms: int


class OutboxError(Exception):
    """An operator action that cannot be done as asked (unknown id, wrong state)."""


def status(store: OutboxStore, now_ms: int) -> OutboxStatus:
    with store.snapshot() as conn:
        counts: dict[str, int] = dict.fromkeys(STATES, 0)
        by_contract: dict[str, dict[str, int]] = {}
        for contract, state, n in conn.execute(
            "SELECT contract, state, COUNT(*) FROM events GROUP BY contract, state"
        ):
            counts[state] = counts.get(state, 0) + n
            by_contract.setdefault(contract, dict.fromkeys(STATES, 0))[state] = n
        oldest, backing_off = conn.execute(
            f"SELECT MIN(created_unix_ms), COALESCE(SUM(attempts > 0), 0) FROM events WHERE {PENDING}"
        ).fetchone()
        (tries,) = conn.execute(
            "SELECT COALESCE(SUM(CASE WHEN state = 'delivered' THEN attempts - 1 ELSE attempts END), 0)"
            " FROM events"
        ).fetchone()
        (dead_letters,) = conn.execute("SELECT COUNT(*) FROM dead_letters").fetchone()
    return OutboxStatus(
        depth=counts["queued"] + counts["in_flight"],
        counts=counts,
        by_contract=by_contract,
        oldest_pending_created_unix_ms=oldest,
        oldest_pending_age_s=None if oldest is None else max(0.0, (now_ms - oldest) / 1000),
        backing_off=int(backing_off),
        failed_tries=int(tries),
        dead_letters=int(dead_letters),
    )


def list_events(
    store: OutboxStore, state: str | None = None, limit: int = 50, since_ms: int | None = None
) -> list[EventRow]:
    """Events in queue order (oldest first), optionally of one state and created since a time."""
    where: list[str] = ["1"]
    params: list[Any] = []
    if state is not None:
        if state not in STATES:
            raise OutboxError(f"unknown state {state!r}: one of {', '.join(STATES)}")
        where.append("state = ?")
        params.append(state)
    if since_ms is not None:
        where.append("created_unix_ms >= ?")
        params.append(since_ms)
    with store.snapshot() as conn:
        rows = conn.execute(
            "SELECT seq, event_id, contract, version, ordering_key, created_unix_ms, state, attempts,"
            " next_attempt_at, last_error, receipt, delivered_at, payload"
            f" FROM events WHERE {' AND '.join(where)}"
            " ORDER BY seq LIMIT ?",
            (*params, limit),
        ).fetchall()
    return [_event_row(row) for row in rows]


def _event_row(row: tuple[Any, ...]) -> EventRow:
    return EventRow(
        seq=row[0],
        event_id=row[1],
        contract=row[2],
        version=row[3],
        ordering_key=row[4],
        created_unix_ms=row[5],
        state=row[6],
        attempts=row[7],
        next_attempt_at=row[8],
        last_error=row[9],
        receipt=json.loads(row[10]) if row[10] else None,
        delivered_at=row[11],
        payload=json.loads(row[12]),
    )


def dead_letters(store: OutboxStore, limit: int = 100) -> list[DeadLetter]:
    with store.snapshot() as conn:
        rows = conn.execute(
            "SELECT d.event_id, e.contract, e.ordering_key, d.reason, d.remote_error, d.raw_event,"
            " d.attempts, d.parked_unix_ms FROM dead_letters d LEFT JOIN events e ON e.event_id = d.event_id"
            " ORDER BY d.parked_unix_ms, d.event_id LIMIT ?",
            (limit,),
        ).fetchall()
    return [DeadLetter(*row) for row in rows]


def retry(store: OutboxStore, event_id: str, now_ms: int) -> str:
    """Put a dead event back in the queue (its tries start again from zero); returns its contract."""
    with store.transaction() as conn:
        row = conn.execute("SELECT state, contract FROM events WHERE event_id = ?", (event_id,)).fetchone()
        if row is None:
            raise OutboxError(f"no event {event_id!r} in the outbox")
        if row[0] != "dead":
            hint = " (use replay to deliver a delivered event again)" if row[0] == "delivered" else ""
            raise OutboxError(f"event {event_id!r} is {row[0]}, not dead{hint}")
        _requeue(conn, "event_id = ?", (event_id,), now_ms)
        return str(row[1])


def replay(store: OutboxStore, since_ms: int, now_ms: int) -> int:
    """Queue again the delivered and dead events created since `since_ms`; returns how many.

    Sinks are idempotent by event id, so a replay leaves the target as it was: it is the way to
    prove that, or to refill a target that was restored from an older backup.
    """
    with store.transaction() as conn:
        return _requeue(conn, "state IN ('delivered', 'dead') AND created_unix_ms >= ?", (since_ms,), now_ms)


def purge_dead(store: OutboxStore, event_id: str) -> None:
    """Forget a dead event for good (the operator handled it by hand)."""
    with store.transaction() as conn:
        row = conn.execute("SELECT state FROM events WHERE event_id = ?", (event_id,)).fetchone()
        if row is None or row[0] != "dead":
            raise OutboxError(f"no dead event {event_id!r} in the outbox")
        conn.execute("DELETE FROM events WHERE event_id = ?", (event_id,))


def _requeue(conn: sqlite3.Connection, where: str, params: tuple[Any, ...], now_ms: int) -> int:
    conn.execute(
        f"DELETE FROM dead_letters WHERE event_id IN (SELECT event_id FROM events WHERE {where})", params
    )
    return conn.execute(
        "UPDATE events SET state = 'queued', attempts = 0, next_attempt_at = ?, last_error = NULL,"
        f" receipt = NULL, delivered_at = NULL WHERE {where}",
        (now_ms, *params),
    ).rowcount
