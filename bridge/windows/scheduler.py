"""Tumbling windows of one flow: bulk ingest, placement by timestamp, close after the grace period.

Windows are aligned to the wall clock (`FlowSpec.window_start`) and close when
``now >= end + grace_ms``. A sample is placed by its own timestamp, never by arrival, so
store-and-forward (historical) data whose window is still open simply joins it. A sample older than
the open window is late: it is counted; for counters it still counts (see `counters`), for other tags
it only updates the value carried into the next window when it is the newest known.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bridge.windows.aggregates import Workspace, compute_aggregates, compute_state_times, sort_window
from bridge.windows.buffers import F64, I32, I64, ColumnBuffer
from bridge.windows.checkpoint import FlowCheckpoint, members_sha
from bridge.windows.counters import CounterBank, CounterState
from bridge.windows.flow import FlowSpec, WindowResult

log = logging.getLogger(__name__)


@dataclass(slots=True)
class WindowStats:
    """Counters for observability; they only grow."""

    samples: int = 0
    foreign: int = 0
    """Samples for tags that are not members of this flow (or out of the index range)."""
    nan: int = 0
    late: int = 0
    late_counter_applied: int = 0
    windows_closed: int = 0


def _last_max(ts: I64) -> int:
    """Position of the last occurrence of the maximum."""
    return int(ts.shape[0] - 1 - np.argmax(ts[::-1]))


class TumblingWindows:
    """The window engine of one flow.

    Call `ingest` per batch, `close_due(now)` (or `iter_due`) on a timer, and `checkpoint()` after the
    outbox commit of each closed window's events.

    `n_tags` is the size of the bridge's global tag index space (lookups are arrays of that size).
    `start_ms` is where the first window opens when there is no checkpoint (usually now); a
    checkpoint, when given, wins, so a restarted bridge resumes exactly after its last saved window.
    """

    STAGE_SAMPLES = 1 << 16

    def __init__(
        self,
        spec: FlowSpec,
        n_tags: int,
        start_ms: int,
        checkpoint: FlowCheckpoint | None = None,
        capacity: int | None = None,
    ) -> None:
        self.spec = spec
        n = spec.n_members
        if n and int(spec.tag_array.max()) >= n_tags:
            raise ValueError("a member tag index is >= n_tags")
        self._n_tags = n_tags
        # Member positions are grouped by kind (states, counters, gauges; spec order within a kind), so
        # the samples of each kind are one contiguous slice of a sorted window: no masks on the close.
        group = np.array([2, 0, 1], np.int8)[spec.kind_array]
        perm = np.argsort(group, kind="stable")
        self.tags: I32 = spec.tag_array[perm]
        self.keys: tuple[str, ...] = tuple(spec.keys[i] for i in perm.tolist())
        self.n_state = int(np.count_nonzero(group == 0))
        self.n_counter = int(np.count_nonzero(group == 1))
        self._local: I32 = np.full(n_tags, -1, np.int32)
        self._local[self.tags] = np.arange(n, dtype=np.int32)
        self._counter_slice = slice(self.n_state, self.n_state + self.n_counter)
        self._counter_pos: I32 = np.full(n, -1, np.int32)
        self._counter_pos[self._counter_slice] = np.arange(self.n_counter, dtype=np.int32)
        self._counter_keys = self.keys[self._counter_slice]
        self.counters = CounterBank(spec.rollover_array[perm][self._counter_slice], spec.rollover_threshold)
        self.carry_value: F64 = np.full(n, np.nan)
        self.carry_ts: I64 = np.full(n, -1, np.int64)
        # Room for about ten samples per member before the first growth.
        self.buffer = ColumnBuffer(n, capacity or max(1024, 10 * n))
        self._workspace = Workspace()
        self.stats = WindowStats()
        self._late_in_window = 0
        self._staged: list[tuple[I64, I64, F64]] = []
        self._staged_n = 0
        self.open_start_ms = spec.window_start(start_ms)
        self.last_window_id: str | None = None
        if checkpoint is not None:
            self._restore(checkpoint)

    def is_member(self, tag_idx: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Which of these (in-range) global tag indices are members of this flow."""
        return self._local[tag_idx] >= 0

    @property
    def open_end_ms(self) -> int:
        return self.open_start_ms + self.spec.window_ms

    def ingest(self, tag_idx: npt.ArrayLike, ts_ms: npt.ArrayLike, values: npt.ArrayLike) -> None:
        """Take a batch of samples by global tag index; vectorized, any order, any timestamps.

        Small batches (a DDATA carries a few metrics) are staged and processed together at the next
        `flush` (called by every close and checkpoint, and when STAGE_SAMPLES are waiting): per-call
        numpy overhead would otherwise dominate. Nothing changes meaning: the open window only moves
        at a close, which flushes first.
        """
        tag = np.asarray(tag_idx, np.int64)
        ts = np.asarray(ts_ms, np.int64)
        value = np.asarray(values, np.float64)
        if not (tag.ndim == 1 and tag.shape == ts.shape == value.shape):
            raise ValueError("tag_idx, ts_ms and values must be 1-D and of the same length")
        m = int(tag.shape[0])
        if m == 0:
            return
        if m < self.STAGE_SAMPLES // 16:
            self._staged.append((tag, ts, value))
            self._staged_n += m
            if self._staged_n >= self.STAGE_SAMPLES:
                self.flush()
            return
        self.flush()
        self._ingest_now(tag, ts, value)

    def flush(self) -> None:
        """Process staged small batches (in arrival order)."""
        if not self._staged:
            return
        staged, self._staged, self._staged_n = self._staged, [], 0
        if len(staged) == 1:
            self._ingest_now(*staged[0])
            return
        self._ingest_now(
            np.concatenate([b[0] for b in staged]),
            np.concatenate([b[1] for b in staged]),
            np.concatenate([b[2] for b in staged]),
        )

    def _ingest_now(self, tag: I64, ts: I64, value: F64) -> None:
        m = int(tag.shape[0])
        self.stats.samples += m
        in_range = (tag >= 0) & (tag < self._n_tags)
        local = np.full(m, -1, np.int32)
        local[in_range] = self._local[tag[in_range]]
        member = local >= 0
        finite = np.isfinite(value)
        ok = member & finite
        self.stats.foreign += m - int(np.count_nonzero(member))
        self.stats.nan += int(np.count_nonzero(member & ~finite))
        late = ok & (ts < self.open_start_ms)
        if late.any():
            self._ingest_late(local[late], ts[late], value[late])
            ok &= ~late
        if ok.all():
            self.buffer.append(local, ts, value)
        else:
            self.buffer.append(local[ok], ts[ok], value[ok])

    def _ingest_late(self, local: I32, ts: I64, value: F64) -> None:
        k = int(local.shape[0])
        self.stats.late += k
        self._late_in_window += k
        # The newest late value per member becomes the carried-in value if it beats what we had.
        order = np.lexsort((ts, local))
        local_s, ts_s, value_s = local[order], ts[order], value[order]
        last = np.ones(k, np.bool_)
        last[:-1] = local_s[1:] != local_s[:-1]
        lm, lt, lv = local_s[last], ts_s[last], value_s[last]
        newer = lt >= self.carry_ts[lm]
        self.carry_value[lm[newer]] = lv[newer]
        self.carry_ts[lm[newer]] = lt[newer]
        cpos = self._counter_pos[local]
        is_counter = cpos >= 0
        if is_counter.any():
            self.stats.late_counter_applied += self.counters.apply_late(
                cpos[is_counter], ts[is_counter], value[is_counter]
            )

    def last_at_or_before(self, tag_idx: list[int], t_ms: int) -> dict[int, tuple[int, float]]:
        """Global tag -> (ts, value) of its newest sample at or before t_ms still in the open windows
        (not yet closed, so not in any checkpoint). Scans the buffer: for rare calls (order changes)."""
        self.flush()
        view = self.buffer.view()
        out: dict[int, tuple[int, float]] = {}
        if len(view) == 0:
            return out
        for tag in tag_idx:
            pos = int(self._local[tag]) if 0 <= tag < self._n_tags else -1
            if pos < 0:
                continue
            hit = np.flatnonzero((view.tag == pos) & (view.ts <= t_ms))
            if hit.shape[0]:
                # Newest by time; among equal times the last received.
                best = hit[_last_max(view.ts[hit])]
                out[tag] = (int(view.ts[best]), float(view.value[best]))
        return out

    def mark_sessions(self, tag_idx: npt.ArrayLike, ts_ms: npt.ArrayLike, values: npt.ArrayLike) -> int:
        """New device sessions of member counters (global tag, time of the session's first sample):
        a decrease across one is a reset, not a rollover (see `counters`). Returns how many were kept."""
        tag = np.asarray(tag_idx, np.int64)
        ts = np.asarray(ts_ms, np.int64)
        value = np.asarray(values, np.float64)
        ok = (tag >= 0) & (tag < self._n_tags)
        local = np.full(tag.shape[0], -1, np.int32)
        local[ok] = self._local[tag[ok]]
        cpos = np.where(local >= 0, self._counter_pos[np.maximum(local, 0)], -1)
        mine = cpos >= 0
        if not mine.any():
            return 0
        # Staged samples first: they came before the birth that opened the session.
        self.flush()
        before = int(self.counters.mark_pos.shape[0])
        self.counters.mark_sessions(cpos[mine].astype(np.int32), ts[mine], value[mine])
        return int(self.counters.mark_pos.shape[0]) - before

    def session_marks(self) -> list[tuple[int, int]]:
        """The session marks not yet passed by their counter's last sample: (global tag, ts)."""
        glob = self.tags[self._counter_slice]
        c = self.counters
        return [(int(glob[p]), int(t)) for p, t in zip(c.mark_pos.tolist(), c.mark_ts.tolist(), strict=True)]

    def counter_steps_until(
        self, t_ms: int
    ) -> tuple[dict[int, tuple[I64, F64]], dict[int, tuple[float, float]]]:
        """What the close of the open window would book for the counters, counting only the samples
        stamped at or before t_ms (and the late increments up to t_ms), without changing anything:
        (global tag -> (times, quantities) of its increments, global tag -> (delta, running total)),
        in the shape a close hands the rules. For the final report of an order at its change."""
        self.flush()
        view = self.buffer.view()
        cpos = self._counter_pos[view.tag] if len(view) else np.empty(0, np.int32)
        sel = (cpos >= 0) & (view.ts <= t_ms) if len(view) else np.empty(0, np.bool_)
        pos, ts, value = cpos[sel], view.ts[sel], view.value[sel]
        order = np.lexsort((ts, pos))  # stable: equal times keep arrival order, as a close sorts them
        pos, ts, value = pos[order].astype(np.int32), ts[order], value[order]
        counts = np.bincount(pos, minlength=self.n_counter).astype(np.int64)
        starts = np.cumsum(counts) - counts
        res = self.counters.peek(pos, ts, value, starts, counts, t_ms)
        glob = self.tags[self._counter_slice]
        totals = {int(glob[i]): (float(res.delta[i]), float(res.total[i])) for i in range(self.n_counter)}
        steps: dict[int, tuple[I64, F64]] = {}
        for i in np.unique(res.step_counter).tolist():
            mine = res.step_counter == i
            steps[int(glob[i])] = (res.step_ts[mine], res.step_delta[mine])
        return steps, totals

    def due(self, now_ms: int) -> bool:
        """True when the open window's end + grace has passed."""
        return self.open_end_ms + self.spec.grace_ms <= now_ms

    def close_due(self, now_ms: int, max_windows: int | None = None) -> list[WindowResult]:
        """Close every window whose end + grace has passed (at most `max_windows`), oldest first.

        After a long stop there can be many: call with a limit (or use `iter_due`) so the results of
        a day of 1-minute windows at 100k tags are not all held at once.
        """
        out: list[WindowResult] = []
        while self.due(now_ms) and (max_windows is None or len(out) < max_windows):
            out.append(self.close_one())
        return out

    def iter_due(self, now_ms: int) -> Iterator[WindowResult]:
        """Close due windows one at a time: handle (outbox, checkpoint) each before the next closes."""
        while self.due(now_ms):
            yield self.close_one()

    def close_one(self) -> WindowResult:
        """Close the open window now, whatever the clock says (used by close_due and at shutdown)."""
        self.flush()
        spec = self.spec
        start, end = self.open_start_ms, self.open_end_ms
        samples = self.buffer.take_before(end)
        n = spec.n_members
        w = sort_window(samples, n, end, self._workspace)
        agg = compute_aggregates(w, start, end, self.carry_value, self.carry_ts)
        states = compute_state_times(w, self.n_state, start, end, self.carry_value, self.carry_ts)

        if self.n_counter:
            cs = self._counter_slice
            lo, hi = int(w.starts[cs.start]), int(w.ends[cs.stop - 1])
            c_counts = w.counts[cs]
            c_pos = np.repeat(np.arange(self.n_counter, dtype=np.int32), c_counts)
            deltas = self.counters.apply_sorted(
                c_pos, w.ts[lo:hi], w.value[lo:hi], w.starts[cs] - lo, c_counts
            )
            c_delta, c_total, c_resets, c_rolls = (
                deltas.delta,
                deltas.total,
                deltas.resets,
                deltas.rollovers,
            )
            steps = (deltas.step_counter, deltas.step_ts, deltas.step_delta)
        else:
            c_delta = c_total = np.empty(0, np.float64)
            c_resets = c_rolls = np.empty(0, np.int64)
            steps = (np.empty(0, np.int32), np.empty(0, np.int64), np.empty(0, np.float64))

        self.carry_value = agg.last.copy()
        self.carry_ts = agg.last_ts.copy()
        window_id = spec.window_id(start)
        result = WindowResult(
            flow=spec.name,
            window_id=window_id,
            start_ms=start,
            end_ms=end,
            tags=self.tags,
            values=agg,
            states=states,
            counter_members=np.arange(self.n_state, self.n_state + self.n_counter, dtype=np.int32),
            counter_delta=c_delta,
            counter_total=c_total,
            counter_resets=c_resets,
            counter_rollovers=c_rolls,
            samples=len(samples),
            late_since_last_close=self._late_in_window,
            local=self._local,
            step_counter=steps[0],
            step_ts=steps[1],
            step_delta=steps[2],
        )
        self._late_in_window = 0
        self.open_start_ms = end
        self.last_window_id = window_id
        self.stats.windows_closed += 1
        return result

    def checkpoint(self) -> FlowCheckpoint:
        """The state to save once the events of the closed windows are in the outbox."""
        self.flush()
        c = self.counters.state
        return FlowCheckpoint(
            flow=self.spec.name,
            window_id=self.last_window_id or self.spec.window_id(self.open_start_ms - self.spec.window_ms),
            closed_until_ms=self.open_start_ms,
            members_sha=members_sha(self.keys),
            carry_value=self.carry_value.copy(),
            carry_ts=self.carry_ts.copy(),
            counter_keys=self._counter_keys,
            counters=CounterState(
                c.last_value.copy(),
                c.last_ts.copy(),
                c.total.copy(),
                c.pending.copy(),
                c.resets.copy(),
                c.rollovers.copy(),
            ),
        )

    def _restore(self, cp: FlowCheckpoint) -> None:
        start = self.spec.window_start(cp.closed_until_ms)
        if start != cp.closed_until_ms:
            # The window length or offset changed since: open at the next boundary, never overlap
            # what was already closed (samples in between are late, counters still absorb them).
            start += self.spec.window_ms
            log.warning("flow %s: checkpoint end %d is off the new window grid", cp.flow, cp.closed_until_ms)
        self.open_start_ms = start
        self.last_window_id = cp.window_id
        n = self.spec.n_members
        if cp.members_sha == members_sha(self.keys) and cp.carry_value.shape[0] == n:
            self.carry_value = cp.carry_value.copy()
            self.carry_ts = cp.carry_ts.copy()
        else:
            log.warning("flow %s: members changed since the checkpoint; carried values start empty", cp.flow)
        # Counters are matched by their stable key, so adding or removing tags keeps the others.
        saved = {k: i for i, k in enumerate(cp.counter_keys)}
        mine = np.array([saved.get(k, -1) for k in self._counter_keys], np.int64)
        have = mine >= 0
        src = mine[have]
        st = self.counters.state
        st.last_value[have] = cp.counters.last_value[src]
        st.last_ts[have] = cp.counters.last_ts[src]
        st.total[have] = cp.counters.total[src]
        st.pending[have] = cp.counters.pending[src]
        st.resets[have] = cp.counters.resets[src]
        st.rollovers[have] = cp.counters.rollovers[src]
        self.counters.adopt_pending()
