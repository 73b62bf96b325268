"""Outbox figures: durable enqueue (batches of 1 and 100) and delivery to a no-op sink, against raw SQLite."""

from __future__ import annotations

import functools
import json
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.results import Figure
from bridge.outbox import Outbox
from bridge.outbox.schema import Synchronous, connect
from uns_model.delivery import DeliveryReceipt, OutboundEvent

T0 = 1_764_150_000_000
KEYS = 10


def events(n: int, start: int = 0) -> list[OutboundEvent]:
    """Production reports as the rules emit them: ten work centers, a realistic payload."""
    return [
        OutboundEvent(
            event_id=f"production_report:line-1:wc-{i % KEYS}:{i}",
            contract="production_report",
            version=1,
            ordering_key=f"wc-{i % KEYS}",
            payload={
                "external_work_order_id": f"WH/MO/{i // 50:05d}",
                "work_center": f"wc-{i % KEYS}",
                "qty_produced": float(i),
                "qty_scrapped": 0.0,
                "window_start_unix_ms": T0 + i * 1000,
                "window_end_unix_ms": T0 + i * 1000 + 1000,
            },
            created_unix_ms=T0 + i,
        )
        for i in range(start, start + n)
    ]


class NoopSink:
    name = "noop"

    def deliver(self, event: OutboundEvent) -> DeliveryReceipt:
        return DeliveryReceipt(event_id=event.event_id, target="noop", delivered_unix_ms=T0)


def _rows(evs: list[OutboundEvent]) -> list[tuple[Any, ...]]:
    return [
        (e.event_id, e.contract, e.version, e.ordering_key, json.dumps(e.payload), e.created_unix_ms, T0, T0)
        for e in evs
    ]


def outbox_enqueue_rate(workdir: Path, n: int, batch: int, synchronous: Synchronous) -> float:
    evs = events(n)
    with Outbox(workdir / f"enq-{batch}-{synchronous}.sqlite3", NoopSink(), synchronous=synchronous) as ob:
        t0 = time.perf_counter()
        for i in range(0, n, batch):
            ob.enqueue(evs[i : i + batch])
        return n / (time.perf_counter() - t0)


def raw_insert_rate(workdir: Path, n: int, batch: int, synchronous: Synchronous) -> float:
    """The same rows into the same table with the same pragmas, pre-serialized, one commit per batch."""
    rows = _rows(events(n))
    conn = connect(workdir / f"raw-{batch}-{synchronous}.sqlite3", synchronous=synchronous)
    try:
        t0 = time.perf_counter()
        for i in range(0, n, batch):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO events (event_id, contract, version, ordering_key, payload, created_unix_ms,"
                " enqueued_unix_ms, next_attempt_at) VALUES (?,?,?,?,?,?,?,?)",
                rows[i : i + batch],
            )
            conn.execute("COMMIT")
        return n / (time.perf_counter() - t0)
    finally:
        conn.close()


def outbox_deliver_rate(workdir: Path, n: int) -> float:
    done = threading.Event()
    delivered = [0]

    def on_state(_eid: str, _contract: str, state: str, _detail: object) -> None:
        if state == "delivered":
            delivered[0] += 1
            if delivered[0] == n:
                done.set()

    with Outbox(workdir / "deliver.sqlite3", NoopSink(), on_state=on_state) as ob:
        for i in range(0, n, 500):
            ob.enqueue(events(500, i))
        t0 = time.perf_counter()
        ob.start()
        if not done.wait(300):
            raise RuntimeError(f"delivered {delivered[0]} of {n} in 300 s")
        return n / (time.perf_counter() - t0)


def raw_update_rate(workdir: Path, n: int) -> float:
    """The least durable bookkeeping a delivery needs: one committed UPDATE per event, nothing else."""
    conn = connect(workdir / "raw-deliver.sqlite3")
    try:
        rows = _rows(events(n))
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO events (event_id, contract, version, ordering_key, payload, created_unix_ms,"
            " enqueued_unix_ms, next_attempt_at) VALUES (?,?,?,?,?,?,?,?)",
            rows,
        )
        conn.execute("COMMIT")
        t0 = time.perf_counter()
        for seq in range(1, n + 1):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE events SET state = 'delivered', delivered_at = ? WHERE seq = ?", (T0, seq))
            conn.execute("COMMIT")
        return n / (time.perf_counter() - t0)
    finally:
        conn.close()


def best_of(
    rounds: int, value: Callable[[Path], float], baseline: Callable[[Path], float]
) -> tuple[float, float]:
    """Best of alternating rounds, each in fresh files: fsync times on a shared disk vary a lot
    from one second to the next, and alternating keeps both sides under the same weather."""
    best_value = best_baseline = 0.0
    with tempfile.TemporaryDirectory(prefix="bench-outbox-") as tmp:
        for r in range(rounds):
            work = Path(tmp) / str(r)
            work.mkdir()
            best_value = max(best_value, value(work))
            best_baseline = max(best_baseline, baseline(work))
    return best_value, best_baseline


def run(scale: float = 1.0, rounds: int = 3) -> list[dict[str, object]]:
    """Figures as dicts: name, value, unit, baseline_name, baseline_value, ratio (and a note)."""
    n1, n100, nd = max(1, int(1000 * scale)), max(100, int(20000 * scale)), max(1, int(2000 * scale))
    figures: list[Figure] = []
    for batch, n in ((1, n1), (100, n100)):
        value, baseline = best_of(
            rounds,
            functools.partial(outbox_enqueue_rate, n=n, batch=batch, synchronous="FULL"),
            functools.partial(raw_insert_rate, n=n, batch=batch, synchronous="FULL"),
        )
        figures.append(
            Figure(
                name=f"outbox enqueue, batches of {batch}",
                value=value,
                unit="events/s",
                baseline_name=f"raw sqlite insert, batches of {batch}",
                baseline_value=baseline,
                note="same rows, table and pragmas (WAL, synchronous=FULL)",
            )
        )
    value, baseline = best_of(
        rounds,
        lambda w: outbox_enqueue_rate(w, n1, 1, "FULL"),
        lambda w: outbox_enqueue_rate(w, n1, 1, "NORMAL"),
    )
    figures.append(
        Figure(
            name="outbox enqueue 1, synchronous=FULL",
            value=value,
            unit="events/s",
            baseline_name="outbox enqueue 1, synchronous=NORMAL",
            baseline_value=baseline,
            note="the price of surviving a power cut, not only a crash",
        )
    )
    value, baseline = best_of(rounds, lambda w: outbox_deliver_rate(w, nd), lambda w: raw_update_rate(w, nd))
    figures.append(
        Figure(
            name="outbox deliver to a no-op sink",
            value=value,
            unit="events/s",
            baseline_name="raw sqlite 1 UPDATE+commit/event",
            baseline_value=baseline,
            note=f"{KEYS} ordering keys, batch 64, synchronous=FULL",
        )
    )
    return [f.as_json() for f in figures]


if __name__ == "__main__":
    for fig in run():
        print(fig)
