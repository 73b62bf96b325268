"""On-change evaluation: state changes, alarm edges, debounced limit crossings, stale and NaN input."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.windows import AlarmDetector, AlarmEdge, ChangeDetector, LimitCrossing, LimitMonitor, StateChange

NAN = float("nan")


def test_state_changes_across_batches_first_value_is_baseline():
    d = ChangeDetector(n_tags=4)
    assert d.update([1, 2], [100, 100], [3, 7]) == []
    # Out-of-order within a batch: evaluated in time order per tag.
    got = d.update([1, 1, 1, 2], [300, 200, 400, 150], [5, 5, 3, 7])
    assert got == [StateChange(1, 200, 3.0, 5.0), StateChange(1, 400, 5.0, 3.0)]
    assert d.update([2], [160], [9]) == [StateChange(2, 160, 7.0, 9.0)]


def test_stale_nan_and_unknown_tags_are_skipped_and_counted():
    d = ChangeDetector(n_tags=2)
    d.update([0], [1000], [1])
    assert d.update([0, 0, 5, -1], [500, 1100, 1100, 1100], [9, NAN, 2, 2]) == []
    assert d.stale == 1 and d.rejected == 3
    assert d.update([0], [1200], [2]) == [StateChange(0, 1200, 1.0, 2.0)]


def test_alarm_rising_and_falling_edges():
    a = AlarmDetector(n_tags=3)
    a.edges([0, 1], [0, 0], [0, 1])
    got = a.edges([0, 0, 1, 0], [10, 20, 15, 30], [1, 1, 0, 0.0])
    assert got == [AlarmEdge(0, 10, True), AlarmEdge(1, 15, False), AlarmEdge(0, 30, False)]


def test_limit_blip_shorter_than_debounce_is_not_reported():
    m = LimitMonitor(n_tags=1, low=10.0, high=20.0, debounce_ms=5_000)
    assert m.update([0, 0, 0], [0, 1_000, 4_000], [15, 25, 15]) == []
    assert m.tick(100_000) == []


def test_limit_excursion_confirmed_by_a_sample_then_ended():
    m = LimitMonitor(n_tags=2, low=[10.0, 0.0], high=[20.0, 1.0], debounce_ms=5_000)
    got = m.update([0, 0, 0, 0, 1], [0, 2_000, 4_000, 7_000, 0], [15, 21, 25, 22, 0.5])
    assert got == [LimitCrossing(0, 2_000, None, True)]
    # Still outside in the next batch: nothing new; then back inside at 9 s.
    assert m.update([0], [8_000], [30]) == []
    assert m.update([0], [9_000], [19]) == [LimitCrossing(0, 2_000, 9_000, True)]


def test_limit_excursion_confirmed_by_tick_and_when_only_the_end_shows_it():
    m = LimitMonitor(n_tags=2, low=10.0, high=20.0, debounce_ms=5_000)
    m.update([0, 1], [0, 0], [15, 15])
    m.update([0, 1], [1_000, 1_000], [5, 5])  # both below low from 1 s
    assert m.tick(5_999) == []
    assert m.tick(6_000) == [LimitCrossing(0, 1_000, None, False), LimitCrossing(1, 1_000, None, False)]
    assert m.tick(7_000) == []
    # Tag 0 returns at 8 s. Tag 1's return comes in one batch with a new blip (too short).
    assert m.update([0], [8_000], [12]) == [LimitCrossing(0, 1_000, 8_000, False)]
    got = m.update([1, 1, 1], [9_000, 10_000, 11_000], [15, 30, 15])
    assert got == [LimitCrossing(1, 1_000, 9_000, False)]
    # An excursion seen only by its end sample (no tick in between) is reported start and end.
    m2 = LimitMonitor(n_tags=1, low=10.0, high=20.0, debounce_ms=5_000)
    got = m2.update([0, 0, 0], [0, 1_000, 10_000], [15, 40, 15])
    assert got == [LimitCrossing(0, 1_000, None, True), LimitCrossing(0, 1_000, 10_000, True)]


def test_limit_runs_in_one_batch_for_many_tags():
    m = LimitMonitor(n_tags=3, low=0.0, high=[1.0, 2.0, float("nan")], debounce_ms=[10, 10, 10])
    tags = [0, 1, 2, 0, 1, 2, 0, 1, 2]
    ts = [0, 0, 0, 20, 20, 20, 40, 40, 40]
    vals = [5, 5, 99, 5, 1, 99, 0.5, 1, 99]
    got = m.update(tags, ts, vals)
    # Tag 0 outside 0..40, tag 1 outside 0..20, tag 2 has no high limit.
    assert got == [
        LimitCrossing(0, 0, None, True),
        LimitCrossing(1, 0, None, True),
        LimitCrossing(1, 0, 20, True),
        LimitCrossing(0, 0, 40, True),
    ]


class SequentialLimit:
    """The obvious one-sample-at-a-time state machine the vectorized LimitMonitor must match."""

    def __init__(self, n: int, low: float, high: float, debounce: int) -> None:
        self.low, self.high, self.debounce = low, high, debounce
        self.out_since = [-1] * n
        self.above = [False] * n
        self.confirmed = [False] * n

    def sample(self, tag: int, ts: int, v: float) -> list[LimitCrossing]:
        got = []
        outside = v < self.low or v > self.high
        if outside and self.out_since[tag] < 0:
            self.out_since[tag], self.above[tag], self.confirmed[tag] = ts, v > self.high, False
        if self.out_since[tag] >= 0:
            if not self.confirmed[tag] and ts - self.out_since[tag] >= self.debounce:
                got.append(LimitCrossing(tag, self.out_since[tag], None, self.above[tag]))
                self.confirmed[tag] = True
            if not outside:
                if self.confirmed[tag]:
                    got.append(LimitCrossing(tag, self.out_since[tag], ts, self.above[tag]))
                self.out_since[tag], self.confirmed[tag] = -1, False
        return got

    def tick(self, now: int) -> list[LimitCrossing]:
        got = []
        for tag, since in enumerate(self.out_since):
            if since >= 0 and not self.confirmed[tag] and now - since >= self.debounce:
                got.append(LimitCrossing(tag, since, None, self.above[tag]))
                self.confirmed[tag] = True
        return got


@settings(max_examples=150, deadline=None)
@given(
    data=st.lists(
        st.tuples(
            st.integers(0, 2),
            st.sampled_from([0, 500, 1_000, 1_500]),
            st.sampled_from([0.0, 5.0, 10.0, 15.0, 20.0, 25.0]),
        ),
        max_size=80,
    ),
    cuts=st.lists(st.integers(0, 80), max_size=6),
    tick_after=st.lists(st.sampled_from([0, 500, 1_000, 2_000, 3_000]), min_size=8, max_size=8),
)
def test_limit_monitor_matches_the_sequential_state_machine(data, cuts, tick_after):
    ts = 0
    samples = []
    for tag, gap, v in data:
        ts += gap
        samples.append((tag, ts, v))
    vec = LimitMonitor(n_tags=3, low=5.0, high=20.0, debounce_ms=2_000)
    seq = SequentialLimit(3, 5.0, 20.0, 2_000)
    bounds = sorted({0, len(samples), *[min(c, len(samples)) for c in cuts]})
    for k, (a, b) in enumerate(pairwise(bounds)):
        part = samples[a:b]
        got = vec.update([p[0] for p in part], [p[1] for p in part], [p[2] for p in part])
        want = [e for p in part for e in seq.sample(*p)]
        key = lambda e: (e.tag_idx, e.start_ms, e.end_ms is not None)  # noqa: E731
        assert sorted(got, key=key) == sorted(want, key=key)
        now = part[-1][1] + tick_after[k % 8]
        assert vec.tick(now) == seq.tick(now)
