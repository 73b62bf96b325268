"""Column buffer, tumbling windows and per-window aggregates, against hand-computed values."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from bridge.windows import ColumnBuffer, FlowSpec, TagKind, TumblingWindows
from bridge.windows.aggregates import Workspace, compute_aggregates, sort_window
from bridge.windows.buffers import Samples

T0 = 1_764_149_400_000  # a whole quarter hour: 60 s and 15 min windows start here
G, S, C = TagKind.GAUGE, TagKind.STATE, TagKind.COUNTER


def engine(
    kinds: list[TagKind],
    rollover: list[float | None] | None = None,
    tags: list[int] | None = None,
    n_tags: int | None = None,
    window_ms: int = 60_000,
    grace_ms: int = 2_000,
) -> TumblingWindows:
    tags = list(range(len(kinds))) if tags is None else tags
    spec = FlowSpec("line1", window_ms, tags=tags, kinds=kinds, rollover=rollover, grace_ms=grace_ms)
    return TumblingWindows(spec, n_tags=n_tags or (max(tags) + 1), start_ms=T0 + 5_000)


# ---------------------------------------------------------------- buffer


def test_buffer_grows_geometrically_and_keeps_order():
    b = ColumnBuffer(n_members=50, capacity=4)
    b.append(np.array([1, 2, 3], np.int32), np.array([10, 20, 30]), np.array([1.0, 2.0, 3.0]))
    assert b.capacity == 4 and b.grows == 0
    b.append(np.array([4, 5], np.int32), np.array([40, 50]), np.array([4.0, 5.0]))
    assert b.capacity == 8 and b.grows == 1
    b.append(np.arange(10, dtype=np.int32), np.arange(10) + 100, np.zeros(10))
    assert b.capacity == 16 and b.grows == 2 and len(b) == 15
    v = b.view()
    assert v.tag[:5].tolist() == [1, 2, 3, 4, 5]
    assert v.ts[5:].tolist() == list(range(100, 110))


def test_buffer_take_before_splits_and_shrinks_not_below_initial():
    b = ColumnBuffer(n_members=50, capacity=4)
    b.append(np.arange(40, dtype=np.int32), np.arange(40) * 10, np.arange(40, dtype=np.float64))
    assert b.capacity == 64
    taken = b.take_before(385)
    assert taken.ts.tolist() == list(range(0, 390, 10))
    assert len(b) == 1 and b.view().value.tolist() == [39.0]
    assert b.capacity < 64 and b.capacity >= 4
    rest = b.take_before(10_000)
    assert rest.tag.tolist() == [39] and len(b) == 0 and b.capacity == 4


def test_buffer_ranks_in_time_order_and_after_store_and_forward():
    b = ColumnBuffer(n_members=3, capacity=8)
    i32 = np.int32
    b.append(np.array([0, 1], i32), np.array([10, 10]), np.array([1.0, 2.0]))
    b.append(np.array([0, 0, 2], i32), np.array([20, 70, 30]), np.array([3.0, 4.0, 5.0]))
    out = b.take_before(60)
    assert out.ordered and out.rank is not None
    assert out.rank.tolist() == [0, 0, 1, 0] and out.counts is not None and out.counts.tolist() == [2, 1, 1]
    # Member 0 still holds ts 70 (rank 0); a store-and-forward sample at 65 arrives behind it and
    # closes first: no dense ranks for this window (sorted instead), the rest is renumbered.
    b.append(np.array([0], i32), np.array([65]), np.array([9.0]))
    out = b.take_before(68)
    assert out.rank is None and not out.ordered and out.ts.tolist() == [65]
    out = b.take_before(1_000)
    assert out.ordered and out.rank is not None and out.rank.tolist() == [0] and out.ts.tolist() == [70]
    # Out of time order within one window: ranks stay dense, but the window is not in time order.
    b.append(np.array([2, 2], i32), np.array([1_500, 1_400]), np.array([1.0, 2.0]))
    out = b.take_before(1_800)
    assert not out.ordered and out.rank is not None and out.rank.tolist() == [0, 1]
    w = sort_window(out, 3, 1_800)
    assert w.ts.tolist() == [1_400, 1_500] and w.value.tolist() == [2.0, 1.0]
    # Once the buffer is empty, time order is trusted again.
    b.append(np.array([2], i32), np.array([1_900]), np.array([1.0]))
    assert b.take_before(2_000).ordered


# ---------------------------------------------------------------- aggregates


def test_aggregates_hand_computed_with_carried_in_value():
    # Window [0, 60000). Member 0: carried-in 10 (from before), samples 20 @ 15 s and 40 @ 45 s.
    #   twa = (10*15 + 20*30 + 40*15) / 60 = (150 + 600 + 600) / 60 = 22.5
    # Member 1: no carry, samples 4 @ 30 s, 8 @ 40 s: twa = (4*10 + 8*20) / 30 = 200/30
    # Member 2: carried-in 7, no sample: twa 7, last 7, count 0, min/max/mean NaN.
    # Member 3: nothing known at all.
    s = Samples(
        np.array([1, 0, 1, 0], np.int32),
        np.array([40_000, 15_000, 30_000, 45_000], np.int64),
        np.array([8.0, 20.0, 4.0, 40.0]),
    )
    w = sort_window(s, 4, 60_000, Workspace())
    carry_v = np.array([10.0, np.nan, 7.0, np.nan])
    carry_ts = np.array([0, -1, 0, -1], np.int64)  # known (>= 0) or not (-1)
    a = compute_aggregates(w, 0, 60_000, carry_v, carry_ts)
    assert a.count.tolist() == [2, 2, 0, 0]
    assert a.sum.tolist() == [60.0, 12.0, 0.0, 0.0]
    assert a.min[:2].tolist() == [20.0, 4.0] and a.max[:2].tolist() == [40.0, 8.0]
    assert a.mean[:2].tolist() == [30.0, 6.0]
    assert a.first[:2].tolist() == [20.0, 4.0]
    assert a.last[:3].tolist() == [40.0, 8.0, 7.0]
    assert a.last_ts.tolist() == [45_000, 40_000, 0, -1]
    assert a.twa[0] == pytest.approx(22.5)
    assert a.twa[1] == pytest.approx(200 / 30)
    assert a.twa[2] == 7.0
    assert all(math.isnan(x) for x in (a.min[2], a.max[2], a.mean[2], a.first[2], a.twa[3], a.last[3]))


def test_same_timestamp_keeps_arrival_order_for_last():
    s = Samples(np.array([0, 0, 0], np.int32), np.array([5, 5, 5], np.int64), np.array([1.0, 2.0, 3.0]))
    a = compute_aggregates(sort_window(s, 1, 10), 0, 10, np.array([np.nan]), np.array([-1], np.int64))
    assert a.last[0] == 3.0 and a.first[0] == 1.0
    # Zero-length holds for the first two: only the last value covers [5, 10).
    assert a.twa[0] == 3.0


def test_out_of_order_samples_are_sorted_by_timestamp():
    s = Samples(
        np.array([0, 1, 0, 0], np.int32),
        np.array([30, 5, 10, 20], np.int64),
        np.array([3.0, 9.0, 1.0, 2.0]),
    )
    a = compute_aggregates(sort_window(s, 2, 40), 0, 40, np.full(2, np.nan), np.full(2, -1, np.int64))
    assert a.first[0] == 1.0 and a.last[0] == 3.0
    # (1*10 + 2*10 + 3*10) / 30
    assert a.twa[0] == pytest.approx(2.0)


def test_large_member_count_uses_radix_path_and_matches_reference():
    rng = np.random.default_rng(7)
    n = 70_000  # > 65535 members: two-digit radix or timsort
    tag = rng.integers(0, n, 200_000).astype(np.int32)
    ts = np.sort(rng.integers(0, 60_000, 200_000))
    val = rng.random(200_000)
    a = compute_aggregates(
        sort_window(Samples(tag, ts, val), n, 60_000), 0, 60_000, np.full(n, np.nan), np.full(n, -1, np.int64)
    )
    order = np.lexsort((np.arange(tag.shape[0]), ts, tag))
    last_idx = order[np.r_[np.flatnonzero(np.diff(tag[order])), order.shape[0] - 1]]
    assert np.array_equal(a.last[tag[last_idx]], val[last_idx])
    assert np.allclose(a.sum, np.bincount(tag, weights=val, minlength=n))


# ---------------------------------------------------------------- tumbling windows


def test_windows_align_to_wall_clock_and_close_after_grace():
    w = engine([G])
    assert w.open_start_ms == T0 and w.open_end_ms == T0 + 60_000
    w.ingest([0], [T0 + 1_000], [1.0])
    assert w.close_due(T0 + 61_999) == []
    (r,) = w.close_due(T0 + 62_000)
    assert r.window_id == f"line1:{T0}" and (r.start_ms, r.end_ms) == (T0, T0 + 60_000)
    assert r.values.count.tolist() == [1]
    # Two more windows due at once: both come out, oldest first; the value is carried through.
    rs = w.close_due(T0 + 182_000)
    assert [x.start_ms for x in rs] == [T0 + 60_000, T0 + 120_000]
    assert [x.values.twa[0] for x in rs] == [1.0, 1.0] and rs[1].values.count[0] == 0


def test_sample_in_grace_period_of_next_window_stays_for_it():
    w = engine([G])
    w.ingest([0, 0], [T0 + 59_000, T0 + 60_500], [1.0, 5.0])  # second arrives in the grace period
    (r,) = w.close_due(T0 + 62_000)
    assert r.values.count[0] == 1 and r.values.last[0] == 1.0
    (r2,) = w.close_due(T0 + 122_000)
    # carried 1.0 covers 0.5 s, 5.0 covers 59.5 s
    assert r2.values.count[0] == 1 and r2.values.twa[0] == pytest.approx((1 * 500 + 5 * 59_500) / 60_000)


def test_global_tag_indices_foreign_and_nan_are_counted_not_buffered():
    w = engine([G, C], tags=[10, 3], n_tags=20)
    w.ingest([10, 3, 4, 99, -1, 10], [T0] * 6, [1.0, 5.0, 7.0, 1.0, 1.0, float("nan")])
    assert w.stats.samples == 0  # small batches are staged until the next flush or close
    w.flush()
    assert w.stats.foreign == 3 and w.stats.nan == 1 and len(w.buffer) == 2
    (r,) = w.close_due(T0 + 62_000)
    assert sorted(r.tags.tolist()) == [3, 10]
    assert r.values.last[r.position(10)] == 1.0 and r.values.last[r.position(3)] == 5.0
    assert r.tags[r.position(3)] == 3
    with pytest.raises(KeyError):
        r.position(4)


def test_time_in_state_with_carried_in_state():
    w = engine([S, S])
    # window 1: member 0 enters state 2 at 10 s, 3 at 40 s; member 1 is 1 from 0 s
    w.ingest([0, 0, 1], [T0 + 10_000, T0 + 40_000, T0], [2, 3, 1])
    (r,) = w.close_due(T0 + 62_000)
    assert r.time_in_state(0) == {2: 30_000, 3: 20_000}  # nothing known before 10 s
    assert r.time_in_state(1) == {1: 60_000}
    # window 2: member 0 carried in 3, goes 1 at 15 s, 3 at 30 s, 1 at 50 s; member 1 no sample
    w.ingest([0, 0, 0], [T0 + 75_000, T0 + 90_000, T0 + 110_000], [1, 3, 1])
    (r2,) = w.close_due(T0 + 122_000)
    assert r2.time_in_state(0) == {1: 15_000 + 10_000, 3: 15_000 + 20_000}
    assert r2.time_in_state(1) == {1: 60_000}
    assert sum(r2.time_in_state(0).values()) == 60_000


def test_late_gauge_sample_is_counted_and_only_updates_the_carry():
    w = engine([G])
    w.ingest([0], [T0 + 30_000], [1.0])
    w.close_due(T0 + 62_000)
    w.ingest([0], [T0 + 50_000], [9.0])  # its window is closed: late, newer than the carry
    w.ingest([0], [T0 + 20_000], [4.0])  # late and older than the carry: nothing to do
    w.flush()
    assert w.stats.late == 2 and len(w.buffer) == 0
    (r,) = w.close_due(T0 + 122_000)
    assert r.late_since_last_close == 2
    assert r.values.count[0] == 0 and r.values.twa[0] == 9.0


def test_historical_samples_join_their_open_window_by_timestamp():
    w = engine([G, C], rollover=[None, None])
    w.ingest([1], [T0 + 1_000], [100.0])
    # Store-and-forward flush arrives after live data, older timestamps, same open window.
    w.ingest([0, 1], [T0 + 50_000, T0 + 55_000], [2.0, 130.0])
    w.ingest([0, 1], [T0 + 20_000, T0 + 30_000], [1.0, 110.0])
    (r,) = w.close_due(T0 + 62_000)
    g = r.position(0)
    assert r.values.first[g] == 1.0 and r.values.last[g] == 2.0
    assert r.values.twa[g] == pytest.approx((1 * 30_000 + 2 * 10_000) / 40_000)
    assert r.counter_of(1) == (30.0, 30.0)
    assert r.counter_resets.tolist() == [0]


def test_counter_in_window_with_rollover_reset_and_late_value():
    w = engine([C, C], rollover=[65536, None])
    w.ingest([0, 1], [T0 + 1_000, T0 + 1_000], [65_000.0, 500.0])
    w.ingest([0, 1], [T0 + 30_000, T0 + 30_000], [65_500.0, 20.0])  # member 1: PLC restarted
    w.ingest([0], [T0 + 50_000], [100.0])  # member 0 wrapped: 36 + 100
    (r,) = w.close_due(T0 + 62_000)
    assert r.counter_of(0) == (500.0 + 136.0, 636.0)
    assert r.counter_of(1) == (20.0, 20.0)
    assert r.counter_rollovers.tolist() == [1, 0] and r.counter_resets.tolist() == [0, 1]
    # A late cumulative value for member 1 (newer than its last, older than the open window):
    # absorbed into the next window's delta, never lost.
    w.ingest([1], [T0 + 59_000], [45.0])
    w.ingest([1], [T0 + 20_000], [10.0])  # older than the checkpointed last: no information
    w.ingest([1], [T0 + 70_000], [50.0])
    (r2,) = w.close_due(T0 + 122_000)
    assert r2.counter_of(1) == (30.0, 50.0)
    assert w.stats.late == 2 and w.stats.late_counter_applied == 1
    with pytest.raises(KeyError):
        r2.counter_of(5)


def test_flow_spec_validation():
    with pytest.raises(ValueError):
        FlowSpec("x", 60_000, tags=[1, 1], kinds=[G, G])
    with pytest.raises(ValueError):
        FlowSpec("x", 0, tags=[1], kinds=[G])
    with pytest.raises(ValueError):
        FlowSpec("x", 60_000, tags=[1], kinds=[C], rollover=[1.0, 2.0])
    spec = FlowSpec("energy", 900_000, tags=[0], kinds=[G])
    assert spec.window_start(T0 + 899_999) == T0 and spec.window_start(T0 + 900_000) == T0 + 900_000


# ---------------------------------------------------------------- against a plain reference


def reference(
    kinds: list[TagKind],
    samples: list[tuple[int, int, float]],
    start: int,
    n_windows: int,
    window_ms: int = 60_000,
) -> list[dict[int, dict[str, Any]]]:
    """Per window, per tag: the aggregates computed the obvious way, one tag at a time."""
    out = []
    carry: dict[int, float] = {}
    last_counter: dict[int, float] = {}
    for k in range(n_windows):
        s0, e0 = start + k * window_ms, start + (k + 1) * window_ms
        res: dict[int, dict[str, Any]] = {}
        for tag, kind in enumerate(kinds):
            xs = sorted(
                ((ts, seq, v) for seq, (t, ts, v) in enumerate(samples) if t == tag and s0 <= ts < e0)
            )
            vals = [v for _, _, v in xs]
            holds = [(xs[i + 1][0] if i + 1 < len(xs) else e0) - xs[i][0] for i in range(len(xs))]
            weighted = sum(v * h for v, h in zip(vals, holds, strict=True))
            covered = sum(holds)
            states: dict[int, int] = {}
            if tag in carry:
                lead = (xs[0][0] if xs else e0) - s0
                weighted += carry[tag] * lead
                covered += lead
                if kind == S and lead:
                    states[int(carry[tag])] = lead
            if kind == S:
                for v, h in zip(vals, holds, strict=True):
                    if h:
                        states[int(v)] = states.get(int(v), 0) + h
            delta = 0.0
            if kind == C:
                for v in vals:
                    if tag in last_counter:
                        d = v - last_counter[tag]
                        delta += d if d >= 0 else v
                    last_counter[tag] = v
            if vals:
                carry[tag] = vals[-1]
            res[tag] = {
                "count": len(vals),
                "sum": sum(vals),
                "min": min(vals) if vals else None,
                "max": max(vals) if vals else None,
                "last": carry.get(tag),
                "twa": weighted / covered if covered else None,
                "states": states,
                "delta": delta,
            }
        out.append(res)
    return out


@pytest.mark.parametrize("seed", range(8))
def test_engine_matches_reference_for_any_arrival_order(seed: int):
    rng = np.random.default_rng(seed)
    n = 9
    kinds = [S, S, C, C, G, G, G, G, G]
    n_windows = 4
    m = 400
    tags = rng.integers(0, n, m)
    ts = T0 + rng.integers(0, n_windows * 60_000, m)
    vals = rng.integers(0, 4, m).astype(np.float64)
    for t in (2, 3):  # counters: growing with the odd restart
        sel = tags == t
        vals[sel] = np.cumsum(rng.integers(0, 5, sel.sum())) % 23
    mode = seed % 3
    if mode == 0:
        arrival = rng.permutation(m)  # anything goes: the rank and sort fallbacks
    elif mode == 1:
        arrival = np.argsort(ts + rng.integers(0, 3_000, m), kind="stable")  # slight jitter
    else:
        arrival = np.argsort(ts, kind="stable")  # in time order: the fast path
    samples = [(int(tags[i]), int(ts[i]), float(vals[i])) for i in arrival]

    w = engine(kinds, window_ms=60_000)
    w.open_start_ms = T0
    cuts = np.sort(rng.integers(0, m, 12))
    results = []
    for part in np.split(np.arange(m), cuts):
        if part.size:
            w.ingest(*zip(*[samples[i] for i in part], strict=True))
        if mode == 2 and part.size:  # close as time goes by
            results += w.close_due(samples[int(part[-1])][1] - 60_000)
    results += w.close_due(T0 + n_windows * 60_000 + 2_000)
    assert [r.start_ms for r in results] == [T0 + k * 60_000 for k in range(n_windows)]
    assert w.stats.late == 0
    for r, ref in zip(results, reference(kinds, samples, T0, n_windows), strict=True):
        a = r.values
        for tag in range(n):
            p, e = r.position(tag), ref[tag]
            assert a.count[p] == e["count"]
            assert a.sum[p] == pytest.approx(e["sum"])
            if e["count"]:
                assert (a.min[p], a.max[p]) == (e["min"], e["max"])
            assert (math.isnan(a.last[p]) and e["last"] is None) or a.last[p] == e["last"]
            assert (math.isnan(a.twa[p]) and e["twa"] is None) or a.twa[p] == pytest.approx(e["twa"])
            if kinds[tag] == S:
                assert r.time_in_state(tag) == e["states"]
            if kinds[tag] == C:
                assert r.counter_of(tag)[0] == e["delta"]


# ---------------------------------------------------------------- several flows


def test_flowset_routes_tags_to_their_flows_and_closes_in_end_order(tmp_path):
    from bridge.windows import CheckpointStore, FlowSet

    production = FlowSpec("production", 60_000, tags=[0, 1], kinds=[C, G])
    energy = FlowSpec("energy", 900_000, tags=[1, 2], kinds=[G, C])  # tag 1 is in both
    store = CheckpointStore(tmp_path / "ckpt.db")
    fs = FlowSet([production, energy], n_tags=5, start_ms=T0, store=store)
    fs.ingest([0, 1, 2, 3, 9], [T0 + 1_000] * 5, [10.0, 5.0, 100.0, 1.0, 1.0])
    fs.ingest([0, 2], [T0 + 30_000] * 2, [12.0, 150.0])
    fs.flush()
    assert fs.unrouted == 2
    first = list(fs.iter_due(T0 + 62_000))
    assert [r.window_id for r in first] == [f"production:{T0}"]
    assert first[0].counter_of(0) == (2.0, 2.0)
    rest = list(fs.iter_due(T0 + 902_000))
    ends = [r.end_ms for r in rest]
    assert ends == sorted(ends) and len(rest) == 15
    (e,) = [r for r in rest if r.flow == "energy"]
    assert e.counter_of(2) == (50.0, 50.0) and e.values.twa[e.position(1)] == 5.0
    fs.save()
    again = FlowSet([production, energy], n_tags=5, start_ms=T0, store=CheckpointStore(tmp_path / "ckpt.db"))
    assert again.flows["energy"].open_start_ms == T0 + 900_000
    assert again.flows["production"].counters.state.total.tolist() == [2.0]
    with pytest.raises(ValueError):
        FlowSet([production, production], n_tags=5, start_ms=T0)


def test_close_due_limit_and_iterator_after_a_long_stop():
    w = engine([G])
    w.ingest([0], [T0 + 1], [3.0])
    assert len(w.close_due(T0 + 3_600_000, max_windows=10)) == 10
    rest = list(w.iter_due(T0 + 3_600_000))
    assert len(rest) == 49 and all(r.values.twa[0] == 3.0 for r in rest)


def test_restore_after_window_length_change_opens_on_the_next_boundary():
    w = engine([C])
    w.ingest([0], [T0 + 1_000], [5.0])
    w.close_due(T0 + 62_000)
    cp = w.checkpoint()
    longer = FlowSpec("line1", 900_000, tags=[0], kinds=[C])
    w2 = TumblingWindows(longer, n_tags=1, start_ms=T0, checkpoint=cp)
    assert w2.open_start_ms == T0 + 900_000
    w2.ingest([0, 0], [T0 + 120_000, T0 + 901_000], [7.0, 9.0])  # the first is late: absorbed
    (r,) = w2.close_due(T0 + 1_802_000)
    assert r.counter_of(0) == (4.0, 4.0) and w2.stats.late == 1
