"""Counter increments with their own times (window and late ones), and the samples left in an open window."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bridge.windows import CheckpointStore, FlowSpec, TagKind, TumblingWindows, WindowResult

T0 = 1_764_149_400_000
G, C = TagKind.GAUGE, TagKind.COUNTER


def engine(store: CheckpointStore | None = None) -> TumblingWindows:
    # Tag 0 is a gauge, tags 1 and 2 are counters (tag 2 wraps at 100).
    spec = FlowSpec(
        "p", 60_000, tags=[0, 1, 2], kinds=[G, C, C], rollover=[None, None, 100], tag_keys=["g", "a", "b"]
    )
    return TumblingWindows(spec, n_tags=3, start_ms=T0, checkpoint=store.load("p") if store else None)


def ingest(w: TumblingWindows, rows: list[tuple[int, int, float]]) -> None:
    w.ingest(
        np.array([r[0] for r in rows]), np.array([T0 + r[1] for r in rows]), np.array([r[2] for r in rows])
    )


def steps(r: WindowResult) -> dict[int, list[tuple[int, float]]]:
    return {
        t: list(zip((ts - T0).tolist(), d.tolist(), strict=True)) for t, (ts, d) in r.counter_steps().items()
    }


def test_steps_carry_each_increments_time_and_add_up_to_the_delta() -> None:
    w = engine()
    ingest(w, [(1, 1000, 10.0), (2, 1000, 90.0), (0, 1500, 3.0), (1, 5000, 12.0), (1, 7000, 12.0)])
    ingest(w, [(2, 9000, 5.0), (1, 8000, 15.0)])  # tag 2 wraps (90 -> 5: 15 counted)
    (r,) = w.close_due(T0 + 62_000)
    assert steps(r) == {1: [(5000, 2.0), (8000, 3.0)], 2: [(9000, 15.0)]}
    assert r.counter_of(1) == (5.0, 5.0) and r.counter_of(2) == (15.0, 15.0)


def test_late_increments_keep_their_own_times_until_the_next_close() -> None:
    w = engine()
    ingest(w, [(1, 1000, 10.0)])
    w.close_due(T0 + 62_000)
    ingest(w, [(1, 30_000, 14.0), (1, 65_000, 20.0), (1, 20_000, 11.0)])  # two late (one older)
    (r,) = w.close_due(T0 + 122_000)
    assert sorted(steps(r)[1]) == [(20_000, 1.0), (30_000, 3.0), (65_000, 6.0)]
    assert r.counter_of(1)[0] == 10.0


def test_a_checkpointed_pending_quantity_is_dated_at_the_counters_last_sample(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "w.sqlite3")
    w = engine()
    ingest(w, [(1, 1000, 10.0)])
    w.close_due(T0 + 62_000)
    ingest(w, [(1, 40_000, 13.0)])  # late, absorbed as pending before the checkpoint
    store.save(w.checkpoint())
    w2 = engine(store)
    (r,) = w2.close_due(T0 + 122_000)
    assert steps(r) == {1: [(40_000, 3.0)]}
    store.close()


def test_last_sample_at_or_before_a_time_in_the_open_window() -> None:
    w = engine()
    ingest(w, [(1, 1000, 10.0), (1, 4000, 12.0), (1, 4000, 13.0), (1, 6000, 15.0), (0, 2000, 1.0)])
    assert w.last_at_or_before([1, 2], T0 + 4000) == {1: (T0 + 4000, 13.0)}
    assert w.last_at_or_before([1], T0 + 500) == {}
