"""The outbox's figures for dashboards and the bridge's health topic: depth, age, counters."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bridge.outbox.schema import PENDING
from bridge.outbox.store import OutboxStore


@dataclass(slots=True)
class OutboxCounters:
    """What this process did since it opened the outbox (the file's totals are in OutboxStatus)."""

    enqueued: int = 0
    duplicates: int = 0  # the same event_id enqueued again: a no-op, as designed for replays
    conflicts: int = 0  # the same event_id with a different body: the first is kept
    rejected: int = 0  # events that were not valid JSON: dead letters at once
    delivered: int = 0
    retries: int = 0  # transient failures, each followed by a backoff
    dead: int = 0
    recovered: int = 0  # events found in flight at start (the last run died during delivery)
    pruned: int = 0
    worker_errors: int = 0  # the worker's own failures (database), retried after a pause
    hook_errors: int = 0


@dataclass(frozen=True, slots=True)
class OutboxStats:
    """Figures cheap enough to publish every few seconds (they read only the undelivered events)."""

    depth: int
    in_flight: int
    backing_off: int
    oldest_pending_age_s: float | None
    pending_by_contract: dict[str, int]
    dead_letters: int
    counters: OutboxCounters = field(default_factory=OutboxCounters)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_stats(store: OutboxStore, now_ms: int, counters: OutboxCounters) -> OutboxStats:
    """Read only the undelivered events (an index range) and the dead letters, never the history."""
    with store.snapshot() as conn:
        by_contract: dict[str, int] = dict(
            conn.execute(f"SELECT contract, COUNT(*) FROM events WHERE {PENDING} GROUP BY 1").fetchall()
        )
        in_flight, backing_off, oldest = conn.execute(
            "SELECT COALESCE(SUM(state = 'in_flight'), 0), COALESCE(SUM(attempts > 0), 0),"
            f" MIN(created_unix_ms) FROM events WHERE {PENDING}"
        ).fetchone()
        (dead,) = conn.execute("SELECT COUNT(*) FROM dead_letters").fetchone()
    return OutboxStats(
        depth=sum(by_contract.values()),
        in_flight=int(in_flight),
        backing_off=int(backing_off),
        oldest_pending_age_s=None if oldest is None else max(0.0, (now_ms - oldest) / 1000),
        pending_by_contract=by_contract,
        dead_letters=int(dead),
        counters=counters,
    )
