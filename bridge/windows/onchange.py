"""On-change evaluation for near-real-time flows: state changes, alarm edges, debounced limit crossings.

Each detector keeps one small state array per tag (global tag index) and evaluates a whole batch
with vector operations; only the changes found become Python objects. Samples older than the tag's
last evaluated sample are stale here (a near-real-time view cannot rewrite the past): they are
counted and skipped. NaN values are skipped and counted too. The changes are plain facts (tag, time,
old, new); the rules layer decides what they mean for the ERP.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bridge.windows.buffers import F64, I64

BoolArr = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class StateChange:
    """A tag's value changed at ts_ms (old -> new); lists of these come in time order."""

    tag_idx: int
    ts_ms: int
    old: float
    new: float


@dataclass(frozen=True, slots=True)
class AlarmEdge:
    tag_idx: int
    ts_ms: int
    rising: bool
    """True: the alarm came (0 -> 1); False: it went (1 -> 0)."""


@dataclass(frozen=True, slots=True)
class LimitCrossing:
    """An excursion outside [low, high] that lasted at least the debounce time.

    Reported twice: once when confirmed (`end_ms` None, still outside) and once when the value is
    back inside (`end_ms` set). `start_ms` is the first sample outside, `above` whether it was above.
    """

    tag_idx: int
    start_ms: int
    end_ms: int | None
    above: bool


@dataclass(slots=True)
class _Batch:
    tag: I64
    ts: I64
    value: F64
    first: BoolArr
    """True where a tag's segment starts in the sorted batch."""


class _Evaluator:
    """Common part: the batch filter and sort, and each tag's last evaluated time."""

    def __init__(self, n_tags: int) -> None:
        self.n_tags = n_tags
        self.last_ts: I64 = np.full(n_tags, -1, np.int64)
        self.stale = 0
        self.rejected = 0

    def _prepare(self, tag_idx: npt.ArrayLike, ts_ms: npt.ArrayLike, values: npt.ArrayLike) -> _Batch:
        tag = np.asarray(tag_idx, np.int64)
        ts = np.asarray(ts_ms, np.int64)
        value = np.asarray(values, np.float64)
        if not (tag.shape == ts.shape == value.shape):
            raise ValueError("tag_idx, ts_ms and values must have the same length")
        ok = (tag >= 0) & (tag < self.n_tags) & np.isfinite(value)
        self.rejected += int(ok.shape[0] - np.count_nonzero(ok))
        tag, ts, value = tag[ok], ts[ok], value[ok]
        fresh = ts >= self.last_ts[tag]
        self.stale += int(fresh.shape[0] - np.count_nonzero(fresh))
        tag, ts, value = tag[fresh], ts[fresh], value[fresh]
        order = np.lexsort((ts, tag))
        tag, ts, value = tag[order], ts[order], value[order]
        first = np.ones(tag.shape[0], np.bool_)
        first[1:] = tag[1:] != tag[:-1]
        return _Batch(tag, ts, value, first)

    @staticmethod
    def _seg_last(b: _Batch) -> BoolArr:
        last = np.ones(b.tag.shape[0], np.bool_)
        last[:-1] = b.first[1:]
        return last


class ChangeDetector(_Evaluator):
    """Reports every change of value per tag (state codes, modes); the first value sets a baseline."""

    def __init__(self, n_tags: int) -> None:
        super().__init__(n_tags)
        self.last_value: F64 = np.full(n_tags, np.nan)

    def _changes(self, b: _Batch) -> tuple[BoolArr, F64]:
        prev = np.empty_like(b.value)
        prev[1:] = b.value[:-1]
        prev[b.first] = self.last_value[b.tag[b.first]]
        changed = (b.value != prev) & ~np.isnan(prev)
        last = self._seg_last(b)
        self.last_value[b.tag[last]] = b.value[last]
        self.last_ts[b.tag[last]] = b.ts[last]
        return changed, prev

    def update(
        self, tag_idx: npt.ArrayLike, ts_ms: npt.ArrayLike, values: npt.ArrayLike
    ) -> list[StateChange]:
        b = self._prepare(tag_idx, ts_ms, values)
        changed, prev = self._changes(b)
        idx = np.flatnonzero(changed)
        idx = idx[np.argsort(b.ts[idx], kind="stable")]  # in time order, tag order within a ms
        return [
            StateChange(t, s, o, n)
            for t, s, o, n in zip(
                b.tag[idx].tolist(),
                b.ts[idx].tolist(),
                prev[idx].tolist(),
                b.value[idx].tolist(),
                strict=True,
            )
        ]


class AlarmDetector(ChangeDetector):
    """Rising and falling edges of boolean alarm tags (any non-zero value is active)."""

    def edges(self, tag_idx: npt.ArrayLike, ts_ms: npt.ArrayLike, values: npt.ArrayLike) -> list[AlarmEdge]:
        v = np.asarray(values, np.float64)
        active = np.where(np.isnan(v), np.nan, (v != 0).astype(np.float64))
        return [AlarmEdge(c.tag_idx, c.ts_ms, c.new == 1.0) for c in self.update(tag_idx, ts_ms, active)]


class LimitMonitor(_Evaluator):
    """Debounced limit crossings: outside [low, high] for at least `debounce_ms` counts, blips do not.

    `low`/`high` per tag (NaN: no such limit). Call `update` per batch and `tick(now_ms)` now and then,
    so an excursion is confirmed even when the tag sends nothing more (report by exception).
    """

    def __init__(
        self, n_tags: int, low: npt.ArrayLike, high: npt.ArrayLike, debounce_ms: npt.ArrayLike
    ) -> None:
        super().__init__(n_tags)
        self.low: F64 = np.broadcast_to(np.asarray(low, np.float64), (n_tags,)).copy()
        self.high: F64 = np.broadcast_to(np.asarray(high, np.float64), (n_tags,)).copy()
        self.debounce: I64 = np.broadcast_to(np.asarray(debounce_ms, np.int64), (n_tags,)).copy()
        self.out_since: I64 = np.full(n_tags, -1, np.int64)
        self.above: BoolArr = np.zeros(n_tags, np.bool_)
        self.confirmed: BoolArr = np.zeros(n_tags, np.bool_)

    def update(
        self, tag_idx: npt.ArrayLike, ts_ms: npt.ArrayLike, values: npt.ArrayLike
    ) -> list[LimitCrossing]:
        b = self._prepare(tag_idx, ts_ms, values)
        m = int(b.tag.shape[0])
        if m == 0:
            return []
        tag, ts, v = b.tag, b.ts, b.value
        out = (v < self.low[tag]) | (v > self.high[tag])
        prev_out = np.empty(m, np.bool_)
        prev_out[1:] = out[:-1]
        prev_out[b.first] = self.out_since[tag[b.first]] >= 0
        rise = out & ~prev_out
        fall = ~out & prev_out
        # Each sample's run: the latest rise, or the tag's segment start (a run carried in from before).
        marker = np.where(rise | b.first, np.arange(m), -1)
        run = np.maximum.accumulate(marker)
        carried = ~rise[run]
        run_start = np.where(carried, self.out_since[tag], ts[run])
        run_above = np.where(carried, self.above[tag], v[run] > self.high[tag])
        carried_confirmed = carried & self.confirmed[tag]
        long_enough = (ts - run_start) >= self.debounce[tag]

        # A run is confirmed at its first sample (inside the run or the one ending it) that is late
        # enough; runs confirmed before this batch were already reported.
        cand = np.flatnonzero((out | fall) & long_enough & ~carried_confirmed)
        _, first_idx = np.unique(run[cand], return_index=True)
        start_at = cand[first_idx]
        end_at = np.flatnonzero(fall & (long_enough | carried_confirmed))

        events: list[tuple[int, int, LimitCrossing]] = []
        for i in start_at.tolist():
            events.append(
                (int(ts[i]), 0, LimitCrossing(int(tag[i]), int(run_start[i]), None, bool(run_above[i])))
            )
        for i in end_at.tolist():
            events.append(
                (int(ts[i]), 1, LimitCrossing(int(tag[i]), int(run_start[i]), int(ts[i]), bool(run_above[i])))
            )
        events.sort(key=lambda e: (e[0], e[1]))

        last = self._seg_last(b)
        lt = tag[last]
        still_out = out[last]
        self.out_since[lt] = np.where(still_out, run_start[last], -1)
        self.above[lt] = still_out & run_above[last]
        self.confirmed[lt] = still_out & (long_enough[last] | carried_confirmed[last])
        self.last_ts[lt] = ts[last]
        return [e[2] for e in events]

    def tick(self, now_ms: int) -> list[LimitCrossing]:
        """Confirm excursions that have lasted long enough without a new sample."""
        due = (self.out_since >= 0) & ~self.confirmed & (now_ms - self.out_since >= self.debounce)
        idx = np.flatnonzero(due)
        self.confirmed[idx] = True
        return [
            LimitCrossing(t, s, None, a)
            for t, s, a in zip(
                idx.tolist(), self.out_since[idx].tolist(), self.above[idx].tolist(), strict=True
            )
        ]
