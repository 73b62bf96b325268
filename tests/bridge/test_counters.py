"""Counter deltas: normal growth, rollover vs reset, baseline, NaN, late values, and a property test."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.windows import CounterBank, FlowSpec, TagKind, TumblingWindows

T0 = 1_764_149_400_000


def apply(bank: CounterBank, pos, ts, value):
    pos = np.asarray(pos, np.int32)
    order = np.lexsort((np.asarray(ts), pos))
    pos = pos[order]
    counts = np.bincount(pos, minlength=bank.n).astype(np.int64)
    starts = np.cumsum(counts) - counts
    return bank.apply_sorted(
        pos, np.asarray(ts, np.int64)[order], np.asarray(value, np.float64)[order], starts, counts
    )


def test_normal_growth_and_first_value_is_only_a_baseline():
    bank = CounterBank(np.array([np.nan, np.nan]))
    d = apply(bank, [0, 0, 1], [1, 2, 1], [100.0, 130.0, 7.0])
    assert d.delta.tolist() == [30.0, 0.0]
    d = apply(bank, [0, 1], [3, 3], [131.0, 10.0])
    assert d.delta.tolist() == [1.0, 3.0] and d.total.tolist() == [31.0, 3.0]
    assert d.resets.tolist() == [0, 0]


def test_rollover_versus_reset():
    bank = CounterBank(np.array([65536.0, 65536.0, np.nan, 2.0**32]))
    apply(bank, [0, 1, 2, 3], [1] * 4, [65_000.0, 30_000.0, 65_000.0, 2.0**32 - 10])
    d = apply(bank, [0, 1, 2, 3], [2] * 4, [464.0, 12.0, 12.0, 5.0])
    # 0: near the top and small after -> wrap: 65536 - 65000 + 464 = 1000
    # 1: not near the top -> PLC restart, counted from 0: 12
    # 2: no rollover configured -> every decrease is a reset: 12
    # 3: 32-bit wrap: 10 + 5
    assert d.delta.tolist() == [1000.0, 12.0, 12.0, 15.0]
    assert d.rollovers.tolist() == [1, 0, 0, 1]
    assert d.resets.tolist() == [0, 1, 1, 0]
    assert d.reset_counter.tolist() == [1, 2] and d.reset_old.tolist() == [30_000.0, 65_000.0]
    assert bank.state.resets.tolist() == [0, 1, 1, 0]


def test_big_value_after_top_is_a_reset_not_a_wrap():
    bank = CounterBank(np.array([65536.0]))
    apply(bank, [0], [1], [65_000.0])
    d = apply(bank, [0], [2], [20_000.0])  # not "small": a restart that already counted 20000
    assert d.delta.tolist() == [20_000.0] and d.resets.tolist() == [1]


def test_reset_is_logged(caplog: pytest.LogCaptureFixture):
    bank = CounterBank(np.array([np.nan]))
    apply(bank, [0], [1], [50.0])
    with caplog.at_level(logging.WARNING, logger="bridge.windows.counters"):
        apply(bank, [0], [2], [3.0])
    assert "counter reset" in caplog.text


def test_late_values_go_to_pending_and_older_ones_are_dropped():
    bank = CounterBank(np.array([np.nan]))
    apply(bank, [0], [100], [10.0])
    assert bank.apply_late(np.array([0, 0], np.int32), np.array([150, 50]), np.array([14.0, 2.0])) == 1
    assert bank.state.pending.tolist() == [4.0] and bank.state.total.tolist() == [4.0]
    d = apply(bank, [0], [200], [15.0])
    assert d.delta.tolist() == [5.0] and d.total.tolist() == [5.0] and bank.state.pending.tolist() == [0.0]


def test_nan_counter_values_are_ignored_and_counted():
    spec = FlowSpec("p", 60_000, tags=[0], kinds=[TagKind.COUNTER])
    w = TumblingWindows(spec, n_tags=1, start_ms=T0)
    w.ingest([0, 0, 0], [T0 + 1, T0 + 2, T0 + 3], [5.0, float("nan"), 8.0])
    (r,) = w.close_due(T0 + 62_000)
    assert r.counter_of(0) == (3.0, 3.0) and w.stats.nan == 1


def test_threshold_validation():
    with pytest.raises(ValueError):
        CounterBank(np.array([10.0]), threshold=0.2)


@st.composite
def counter_run(draw):
    """One PLC counter: start value, then steps that produce, wrap at R, or restart from 0.

    Resets are only drawn where they are detectable at all (see the counters module docstring):
    the counter after restart reads less than before, and not from near the top of a wrapping one.
    """
    rollover = draw(st.one_of(st.none(), st.integers(1_000, 70_000)))
    top = rollover if rollover is not None else 10**7
    max_step = top // 10 - 1 if rollover is not None else 5_000
    value = draw(st.integers(0, top - 1))
    values = [float(value)]
    produced = 0
    for _ in range(draw(st.integers(0, 60))):
        p = draw(st.integers(0, max_step))
        restart = draw(st.booleans()) and draw(st.booleans())
        if restart and p < value and (rollover is None or value < 0.9 * rollover):
            value = p
        else:
            value += p
            if rollover is not None:
                value %= rollover
        produced += p
        values.append(float(value))
    return rollover, values, produced


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    runs=st.lists(counter_run(), min_size=1, max_size=4),
    gaps=st.lists(st.integers(1, 40_000), min_size=61, max_size=61),
    nan_at=st.sets(st.integers(0, 60), max_size=5),
    close_every=st.integers(1, 7),
    clock_ahead_ms=st.sampled_from([0, 30_000, 200_000]),
)
def test_sum_of_deltas_is_the_true_produced_quantity(runs, gaps, nan_at, close_every, clock_ahead_ms):
    """Any split into windows, NaNs, and a clock ahead of the data (so samples arrive late)."""
    n = len(runs)
    spec = FlowSpec(
        "prop", 60_000, tags=list(range(n)), kinds=[TagKind.COUNTER] * n, rollover=[r for r, _, _ in runs]
    )
    w = TumblingWindows(spec, n_tags=n, start_ms=T0)
    ts = T0 + np.cumsum(gaps)
    total = np.zeros(n)
    steps = max(len(v) for _, v, _ in runs)
    for i in range(steps):
        tags = [k for k in range(n) if i < len(runs[k][1])]
        vals = [runs[k][1][i] for k in tags]
        w.ingest(tags, [int(ts[i])] * len(tags), vals)
        if i in nan_at:
            w.ingest(tags, [int(ts[i]) + 1] * len(tags), [float("nan")] * len(tags))
        if i % close_every == 0:
            for r in w.close_due(int(ts[i]) + clock_ahead_ms):
                total += r.counter_delta
    for r in w.close_due(int(ts[steps - 1]) + clock_ahead_ms + 10 * 60_000):
        total += r.counter_delta
    expected = [p for _, _, p in runs]
    assert total.tolist() == expected
    assert w.counters.state.total.tolist() == expected
