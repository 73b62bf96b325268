"""The outbox under concurrent producers and random failure patterns: order per key, each event once."""

from __future__ import annotations

import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.outbox import Backoff, Outbox, admin
from uns_model.delivery import DeliveryReceipt, OutboundEvent, PermanentDeliveryError, TransientDeliveryError

TINY = Backoff(base_s=0.0005, cap_s=0.002)


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.002)


def ev(key: str, i: int) -> OutboundEvent:
    return OutboundEvent(
        event_id=f"{key}:{i}", contract="production_report", version=1, ordering_key=key,
        payload={"i": i}, created_unix_ms=i,
    )  # fmt: skip


class ScriptedSink:
    """Answers each try of each event as a script says: 't' transient, 'p' permanent, 'k' ok."""

    name = "scripted"

    def __init__(self, script: dict[str, str]) -> None:
        self.script = script
        self.tries: dict[str, int] = defaultdict(int)
        self.accepted: list[str] = []
        self.lock = threading.Lock()

    def deliver(self, event: OutboundEvent) -> DeliveryReceipt:
        with self.lock:
            n = self.tries[event.event_id]
            self.tries[event.event_id] += 1
            answers = self.script.get(event.event_id, "")
            answer = answers[n] if n < len(answers) else "k"
            if answer == "t":
                raise TransientDeliveryError(f"try {n + 1}")
            if answer == "p":
                raise PermanentDeliveryError("refused")
            self.accepted.append(event.event_id)
        return DeliveryReceipt(event_id=event.event_id, target="scripted", delivered_unix_ms=0)


def test_concurrent_producers_keep_order_per_key_and_states_in_order(tmp_path: Path) -> None:
    updates: list[tuple[str, str]] = []
    sink = ScriptedSink({"k1:3": "tt", "k2:0": "t", "k3:7": "p"})
    keys_per_thread = {0: ("k0", "k1"), 1: ("k2", "k3"), 2: ("k4", "k5")}
    per_key = 30
    with Outbox(
        tmp_path / "o.sqlite3", sink, backoff=TINY, batch_size=8, synchronous="NORMAL",
        on_update=lambda u: updates.append((u.event.event_id, u.state)),
    ) as ob:  # fmt: skip
        ob.start()  # the worker runs while the producers enqueue

        def produce(keys: tuple[str, ...]) -> None:
            for i in range(0, per_key, 3):
                ob.enqueue([ev(k, j) for j in range(i, i + 3) for k in keys])

        threads = [threading.Thread(target=produce, args=(keys,)) for keys in keys_per_thread.values()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wait_for(
            lambda: ob.status().depth == 0 and ob.stats().counters.delivered == 6 * per_key - 1, "delivery"
        )
    by_key: dict[str, list[int]] = defaultdict(list)
    for eid in sink.accepted:
        key, i = eid.split(":")
        by_key[key].append(int(i))
    for key in ("k0", "k1", "k2", "k4", "k5"):
        assert by_key[key] == list(range(per_key)), key
    assert by_key["k3"] == [i for i in range(per_key) if i != 7]
    # A state never goes out before the one it follows: "queued" first, then the outcome.
    first: dict[str, str] = {}
    for eid, state in updates:
        first.setdefault(eid, state)
    assert set(first.values()) == {"queued"} and len(first) == 6 * per_key


@settings(max_examples=12, deadline=None)
@given(
    events_per_key=st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=4),
    scripts=st.lists(st.text(alphabet="tpk", max_size=3), min_size=24, max_size=24),
    batch_size=st.integers(min_value=1, max_value=5),
)
def test_any_failure_pattern_keeps_order_and_delivers_each_event_once(
    events_per_key: list[int], scripts: list[str], batch_size: int
) -> None:
    events = [ev(f"k{k}", i) for k, n in enumerate(events_per_key) for i in range(n)]
    script = {e.event_id: scripts[i % len(scripts)] for i, e in enumerate(events)}
    sink = ScriptedSink(script)
    with tempfile.TemporaryDirectory() as tmp, Outbox(
        Path(tmp) / "o.sqlite3", sink, backoff=TINY, batch_size=batch_size, synchronous="NORMAL"
    ) as ob:  # fmt: skip
        ob.enqueue(events)
        ob.start()
        wait_for(lambda: ob.stats().depth == 0, "the queue to drain")
        dead = {d.event_id for d in admin.dead_letters(ob.store)}
        rows = {r.event_id: r for r in admin.list_events(ob.store, limit=1000)}
    # The model: an event is dead exactly when its script reaches 'p' before 'k' (or the end).
    expected_dead = set()
    for eid, answers in script.items():
        outcome = next((a for a in answers if a != "t"), "k")
        if outcome == "p":
            expected_dead.add(eid)
    assert dead == expected_dead
    assert len(sink.accepted) == len(set(sink.accepted)) == len(events) - len(dead)
    for k, n in enumerate(events_per_key):
        got = [int(e.split(":")[1]) for e in sink.accepted if e.startswith(f"k{k}:")]
        assert got == [i for i in range(n) if f"k{k}:{i}" not in dead]
    for eid, row in rows.items():
        assert row.state == ("dead" if eid in dead else "delivered")
        assert row.attempts == sink.tries[eid]
