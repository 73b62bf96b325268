"""Outbox on real SQLite files, real worker thread: enqueue, order per key, retries, dead letters."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bridge.outbox import (
    Backoff,
    DeliveryUpdate,
    JsonlFileSink,
    Outbox,
    OutboxBusyError,
    OutboxError,
    OutboxSchemaError,
    OutboxStore,
    admin,
)
from bridge.outbox.schema import Synchronous
from uns_model.delivery import (
    DeliveryReceipt,
    OutboundEvent,
    PermanentDeliveryError,
    TransientDeliveryError,
)

TINY = Backoff(base_s=0.001, cap_s=0.005)
# For tests about order and retries rather than durability: no fsync per commit, so that a disk
# loaded by the rest of the suite does not slow hundreds of tiny retries to a crawl.
NO_FSYNC: Synchronous = "NORMAL"


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.002)


def event(i: int, key: str = "wc-1", contract: str = "production_report", **payload: Any) -> OutboundEvent:
    return OutboundEvent(
        event_id=f"{key}:{i}",
        contract=contract,
        version=1,
        ordering_key=key,
        payload={"seq": i, **payload},
        created_unix_ms=1_764_150_000_000 + i,
    )


class RecordingSink:
    """A sink double of our own interface: records deliveries; a rule may fail an event first."""

    name = "test"

    def __init__(self, rule: Callable[[OutboundEvent, int], None] | None = None) -> None:
        self.rule = rule
        self.calls: dict[str, int] = defaultdict(int)
        self.delivered: list[OutboundEvent] = []
        self.lock = threading.Lock()

    def deliver(self, ev: OutboundEvent) -> DeliveryReceipt:
        with self.lock:
            self.calls[ev.event_id] += 1
            n = self.calls[ev.event_id]
        if self.rule is not None:
            self.rule(ev, n)
        with self.lock:
            self.delivered.append(ev)
            record_id = len(self.delivered)
        return DeliveryReceipt(
            event_id=ev.event_id, target="test", record_model="mrp.production", record_ids=[record_id],
            delivered_unix_ms=int(time.time() * 1000),
        )  # fmt: skip

    def by_key(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        with self.lock:
            for ev in self.delivered:
                out[ev.ordering_key].append(ev.event_id)
        return out

    def count(self) -> int:
        with self.lock:
            return len(self.delivered)


def test_enqueue_is_idempotent_on_event_id_and_durable_across_reopen(tmp_path: Path) -> None:
    db = tmp_path / "outbox.sqlite3"
    events = [event(i) for i in range(5)]
    with Outbox(db, RecordingSink()) as ob:
        assert ob.enqueue(events) == 5
        assert ob.enqueue([*events, event(5), event(6)]) == 2
        assert ob.enqueue([]) == 0
        c = ob.stats().counters
        assert (c.enqueued, c.duplicates, c.conflicts) == (7, 5, 0)
        # Same id, different body: still a no-op, but counted as a conflict; the first body stays.
        assert ob.enqueue([event(0, extra=1)]) == 0
        assert ob.stats().counters.conflicts == 1
    with Outbox(db, RecordingSink()) as ob:
        assert ob.enqueue(events) == 0
        rows = admin.list_events(ob.store, limit=100)
        assert [r.event_id for r in rows] == [f"wc-1:{i}" for i in range(7)]
        assert rows[0].payload == {"seq": 0}
        assert {r.state for r in rows} == {"queued"}
        assert ob.stats().depth == 7


def test_order_per_key_holds_under_transient_failures_and_keys_are_independent(tmp_path: Path) -> None:
    gate = threading.Event()

    def rule(ev: OutboundEvent, call: int) -> None:
        if ev.ordering_key == "wc-a" and not gate.is_set():
            raise TransientDeliveryError("connection refused")
        if ev.ordering_key == "wc-c" and call <= 2:
            raise TransientDeliveryError("HTTP 503")

    sink = RecordingSink(rule)
    states: list[tuple[str, str]] = []
    events = [event(i, key) for i in range(12) for key in ("wc-a", "wc-b", "wc-c")]
    updates: list[DeliveryUpdate] = []
    db = tmp_path / "o.sqlite3"
    with Outbox(
        db,
        sink,
        backoff=TINY,
        batch_size=7,
        on_update=updates.append,
        on_state=lambda eid, _c, st, _d: states.append((eid, st)),
        synchronous=NO_FSYNC,
    ) as ob:
        ob.enqueue(events)
        ob.start()
        # wc-a keeps failing, and meanwhile wc-b and wc-c get through completely.
        wait_for(
            lambda: len(sink.by_key()["wc-b"]) == 12 and len(sink.by_key()["wc-c"]) == 12, "keys b and c"
        )
        assert sink.by_key()["wc-a"] == []
        # While its head fails, no later event of wc-a was even tried.
        assert {eid for eid in sink.calls if eid.startswith("wc-a")} == {"wc-a:0"}
        assert sink.calls["wc-a:0"] >= 2
        gate.set()
        wait_for(lambda: ob.stats().counters.delivered == 36, "all events recorded as delivered")
        st = ob.stats()
        assert st.depth == 0
        assert st.counters.delivered == 36
        assert st.counters.retries == sink.calls["wc-a:0"] - 1 + 12 * 2
    for key in ("wc-a", "wc-b", "wc-c"):
        assert sink.by_key()[key] == [f"{key}:{i}" for i in range(12)]
    assert ("wc-c:0", "retrying") in states and ("wc-c:0", "delivered") in states
    c5 = [u for u in updates if u.event.event_id == "wc-c:5"]
    assert [(u.state, u.attempts) for u in c5] == [
        ("queued", 0),
        ("retrying", 1),
        ("retrying", 2),
        ("delivered", 3),
    ]
    assert c5[1].reason == "TransientDeliveryError: HTTP 503" and c5[1].next_attempt_unix_ms is not None
    assert c5[3].receipt is not None and c5[3].receipt.record_model == "mrp.production"
    assert c5[3].event.payload == {"seq": 5} and c5[3].event.ordering_key == "wc-c"
    with Outbox(db, RecordingSink()) as ob:
        rows = {r.event_id: r for r in admin.list_events(ob.store, limit=100)}
        assert all(r.state == "delivered" for r in rows.values())
        assert rows["wc-c:5"].attempts == 3
        assert (
            rows["wc-c:5"].receipt is not None and rows["wc-c:5"].receipt["record_model"] == "mrp.production"
        )
        assert rows["wc-b:0"].attempts == 1


def test_permanent_failure_parks_a_dead_letter_and_the_key_goes_on(tmp_path: Path) -> None:
    refuse = {"wc-1:2"}

    def rule(ev: OutboundEvent, _call: int) -> None:
        if ev.event_id in refuse:
            raise PermanentDeliveryError(
                "mrp.production: quantity must be positive", remote_error="ValidationError: Invalid quantity"
            )

    sink = RecordingSink(rule)
    hooks: list[tuple[str, str, Any]] = []
    updates: list[DeliveryUpdate] = []
    with Outbox(
        tmp_path / "o.sqlite3",
        sink,
        backoff=TINY,
        on_update=updates.append,
        on_state=lambda eid, _c, st, d: hooks.append((eid, st, d)),
        synchronous=NO_FSYNC,
    ) as ob:
        ob.enqueue([event(i) for i in range(5)])
        ob.start()
        wait_for(lambda: sink.count() == 4, "the four good events")
        assert [e.event_id for e in sink.delivered] == ["wc-1:0", "wc-1:1", "wc-1:3", "wc-1:4"]
        assert sink.calls["wc-1:2"] == 1  # permanent: not retried
        (dead,) = admin.dead_letters(ob.store)
        assert dead.event_id == "wc-1:2"
        assert dead.reason == "mrp.production: quantity must be positive"
        assert dead.remote_error == "ValidationError: Invalid quantity"
        raw = json.loads(dead.raw_event)
        assert raw["ordering_key"] == "wc-1" and raw["payload"] == {"seq": 2}
        wait_for(lambda: ("wc-1:4", "delivered") in [(h[0], h[1]) for h in hooks], "hook for the last event")
        assert ("wc-1:2", "dead", "mrp.production: quantity must be positive") in hooks
        (dead_update,) = [u for u in updates if u.state == "dead"]
        assert dead_update.remote_error == "ValidationError: Invalid quantity" and dead_update.attempts == 1
        delivered = [h for h in hooks if h[1] == "delivered"]
        assert all(isinstance(h[2], DeliveryReceipt) and h[2].record_ids for h in delivered)
        st = ob.status()
        assert st.counts["dead"] == 1 and st.counts["delivered"] == 4 and st.dead_letters == 1
        # The operator fixed the cause in Odoo: retry delivers it, and its dead letter is gone.
        refuse.clear()
        ob.retry("wc-1:2")
        wait_for(lambda: sink.count() == 5, "the retried event")
        assert ("wc-1:2", "queued", None) in hooks
        assert admin.dead_letters(ob.store) == []
        with pytest.raises(OutboxError, match="delivered, not dead"):
            ob.retry("wc-1:2")
        with pytest.raises(OutboxError, match="no event"):
            ob.retry("nope")


def test_unclassified_sink_errors_are_retried_and_max_attempts_parks(tmp_path: Path) -> None:
    def rule(ev: OutboundEvent, call: int) -> None:
        if ev.event_id == "k:0" and call == 1:
            raise KeyError("product_id")
        if ev.event_id == "k:1":
            raise TimeoutError("read timed out")

    sink = RecordingSink(rule)
    with Outbox(tmp_path / "o.sqlite3", sink, backoff=TINY, max_attempts=3, synchronous=NO_FSYNC) as ob:
        ob.enqueue([event(i, "k") for i in range(3)])
        ob.start()
        wait_for(lambda: sink.count() == 2, "events 0 and 2")
        assert [e.event_id for e in sink.delivered] == ["k:0", "k:2"]
        assert sink.calls["k:0"] == 2 and sink.calls["k:1"] == 3
        (dead,) = admin.dead_letters(ob.store)
        assert dead.event_id == "k:1" and dead.attempts == 3
        assert dead.reason == "gave up after 3 tries: TimeoutError: read timed out"


def test_invalid_json_payload_becomes_a_dead_letter_at_enqueue(tmp_path: Path) -> None:
    sink = RecordingSink()
    with Outbox(tmp_path / "o.sqlite3", sink) as ob:
        assert ob.enqueue([event(0), event(1, qty=float("nan")), event(2)]) == 2
        (dead,) = admin.dead_letters(ob.store)
        assert dead.event_id == "wc-1:1" and "not valid JSON" in dead.reason
        assert "NaN" in dead.raw_event
        assert ob.stats().counters.rejected == 1
        ob.start()
        wait_for(lambda: sink.count() == 2, "the valid events")


def test_a_failing_state_hook_does_not_stop_delivery(tmp_path: Path) -> None:
    def hook(*_args: Any) -> None:
        raise RuntimeError("mqtt down")

    sink = RecordingSink()
    with Outbox(tmp_path / "o.sqlite3", sink, on_state=hook) as ob:
        ob.enqueue([event(i) for i in range(3)])
        ob.start()
        wait_for(lambda: sink.count() == 3, "deliveries")
        wait_for(lambda: ob.stats().counters.hook_errors == 6, "hook errors counted")


def test_events_in_flight_at_a_crash_are_delivered_again_and_once_at_an_idempotent_sink(
    tmp_path: Path,
) -> None:
    db, out = tmp_path / "o.sqlite3", tmp_path / "out.jsonl"
    store = OutboxStore(db)
    store.enqueue([event(i) for i in range(3)], now_ms=1)
    # A worker claimed two events, wrote the first to the file, and died before recording it.
    claimed = store.claim(now_ms=2, limit=2)
    assert [c.event.event_id for c in claimed] == ["wc-1:0", "wc-1:1"]
    first = JsonlFileSink(out)
    first.deliver(claimed[0].event)
    first.close()
    store.close()
    sink = JsonlFileSink(out)
    with Outbox(db, sink) as ob:
        ob.start()
        wait_for(lambda: ob.stats().depth == 0, "delivery")
        assert ob.stats().counters.recovered == 2
    lines = [json.loads(line)["event_id"] for line in out.read_text().splitlines()]
    assert lines == ["wc-1:0", "wc-1:1", "wc-1:2"]


def test_jsonl_sink_writes_each_event_id_once_and_cuts_a_torn_line(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    sink = JsonlFileSink(out)
    r1 = sink.deliver(event(0))
    r2 = sink.deliver(event(0))
    assert r1.record_ids == r2.record_ids == [1] and "already written" in (r2.detail or "")
    sink.deliver(event(1))
    sink.close()
    with open(out, "ab") as f:
        f.write(b'{"event_id":"wc-1:2","contr')  # a crash in the middle of a write
    again = JsonlFileSink(out)
    assert "wc-1:1" in again and "wc-1:2" not in again and len(again) == 2
    assert again.deliver(event(1)).record_ids == [2]
    assert again.deliver(event(2)).record_ids == [3]
    again.close()
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [ln["event_id"] for ln in lines] == ["wc-1:0", "wc-1:1", "wc-1:2"]
    assert lines[2]["payload"] == {"seq": 2}


def test_retention_prunes_delivered_events_and_keeps_dead_letters(tmp_path: Path) -> None:
    now = [int(time.time() * 1000)]

    def rule(ev: OutboundEvent, _call: int) -> None:
        if ev.event_id == "wc-1:0":
            raise PermanentDeliveryError("refused")

    sink = RecordingSink(rule)
    with Outbox(tmp_path / "o.sqlite3", sink, retention_days=2, clock_ms=lambda: now[0]) as ob:
        ob.enqueue([event(i) for i in range(4)])
        ob.start()
        wait_for(lambda: ob.stats().depth == 0, "delivery")
        assert ob.prune() == 0
        now[0] += 3 * 86_400_000
        assert ob.prune() == 3
        st = ob.status()
        assert st.counts["delivered"] == 0 and st.counts["dead"] == 1 and st.dead_letters == 1


def test_one_worker_per_file_and_close_folds_the_wal(tmp_path: Path) -> None:
    db = tmp_path / "o.sqlite3"
    first = Outbox(db, RecordingSink())
    first.start()
    second = Outbox(db, RecordingSink())
    with pytest.raises(OutboxBusyError, match="already delivered by another process"):
        second.start()
    second.close()
    first.enqueue([event(0)])
    first.close()
    wal = db.with_name(db.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    third = Outbox(db, RecordingSink())  # the lock went with the first worker
    third.start()
    third.close()


def test_a_file_from_a_newer_bridge_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "o.sqlite3"
    OutboxStore(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE schema_version SET version = 99")
    conn.close()
    with pytest.raises(OutboxSchemaError, match="newer than this bridge"):
        OutboxStore(db)


def test_backoff_is_exponential_capped_and_jittered() -> None:
    b = Backoff(base_s=0.5, cap_s=4.0)
    assert [b.ceiling_s(n) for n in (1, 2, 3, 4, 5, 500)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    delays = [b.delay_s(3) for _ in range(200)]
    assert all(0.0 <= d <= 2.0 for d in delays)
    assert len(set(delays)) > 100


def test_a_locked_database_pauses_the_worker_and_it_resumes_without_losing_order(tmp_path: Path) -> None:
    db = tmp_path / "o.sqlite3"
    entered, release = threading.Event(), threading.Event()

    def rule(ev: OutboundEvent, call: int) -> None:
        if ev.event_id == "wc-1:0" and call == 1:
            entered.set()
            release.wait(10)

    sink = RecordingSink(rule)
    with Outbox(db, sink, busy_timeout_ms=20, idle_poll_s=0.01) as ob:
        ob.enqueue([event(i) for i in range(4)])
        ob.start()
        assert entered.wait(10)
        # An operator's long transaction holds the write lock while the sink answers: the worker
        # cannot record the receipt.
        blocker = sqlite3.connect(db, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        release.set()
        wait_for(lambda: ob.stats().counters.worker_errors >= 1, "the worker to hit the lock")
        blocker.execute("COMMIT")
        blocker.close()
        wait_for(lambda: ob.status().counts["delivered"] == 4, "delivery after the lock")
    ids = [e.event_id for e in sink.delivered]
    # The first event reached the sink twice (its receipt could not be recorded): idempotent
    # sinks absorb that; the order per key holds.
    assert ids == ["wc-1:0", "wc-1:0", "wc-1:1", "wc-1:2", "wc-1:3"]


def test_a_row_damaged_by_hand_is_parked_and_the_worker_goes_on(tmp_path: Path) -> None:
    db = tmp_path / "o.sqlite3"
    store = OutboxStore(db)
    store.enqueue([event(i) for i in range(3)], now_ms=1)
    store.close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE events SET payload = '{broken' WHERE event_id = 'wc-1:1'")
    conn.close()
    sink = RecordingSink()
    with Outbox(db, sink) as ob:
        ob.start()
        wait_for(lambda: ob.stats().depth == 0, "the queue to drain")
        assert [e.event_id for e in sink.delivered] == ["wc-1:0", "wc-1:2"]
        (dead,) = admin.dead_letters(ob.store)
        assert dead.event_id == "wc-1:1" and dead.reason.startswith("stored event unreadable")
        assert "{broken" in dead.raw_event
