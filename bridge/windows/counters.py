"""Cumulative PLC counters to produced quantities: deltas with rollover and reset detection.

A PLC counter only ever grows, except when it wraps at its register size (rollover) or when the
PLC restarts and counts from 0 again (reset). For each new value `new` after `last`:

- ``new >= last``: delta = new - last.
- ``new < last`` and the counter has a rollover R, ``last >= R * threshold`` and
  ``new < R * (1 - threshold)``: a rollover, delta = R - last + new.
- a decrease across a new session of the device that publishes the counter (a session mark: the
  first sample after a DDEATH/DBIRTH or NDEATH/NBIRTH, see `mark_sessions`) is a reset, whatever the
  values: the PLC restarted or the source went away, so no wrap can be inferred. A rollover is only
  inferred between samples of one continuous session.
- any other decrease: a reset (PLC restart), delta = new (it counted from 0 since); counted and logged.
- the very first value of a counter (no checkpoint) sets the baseline: delta 0, nothing is known
  about what it counted before the bridge first saw it.
- NaN values never reach here (the engine drops them with a counter).

Ambiguity that no algorithm can remove: a reset followed by more counts than `last` before the first
read looks like normal growth, and a reset near the rollover value looks like a wrap. Choose the
threshold and the poll rate so that neither can happen for the machine's rate.

Late samples (older than the open window) are applied at once when they are newer than the counter's
last value (their delta joins the next window's delta via `pending`, and each increment keeps its
own time in the close's steps, so rules can book it by when it was counted), and dropped when older:
a cumulative value from before `last_ts` tells nothing new. So late and store-and-forward data never
loses or doubles quantity.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from bridge.windows.buffers import F64, I32, I64

Bools = np.ndarray[tuple[int], np.dtype[np.bool_]]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class CounterState:
    """Per counter: last cumulative value and its time, running total, pending late delta, events."""

    last_value: F64
    """NaN when the counter has no baseline yet."""
    last_ts: I64
    """-1 when unknown."""
    total: F64
    pending: F64
    resets: I64
    rollovers: I64

    @classmethod
    def empty(cls, n: int) -> CounterState:
        return cls(
            np.full(n, np.nan),
            np.full(n, -1, np.int64),
            np.zeros(n, np.float64),
            np.zeros(n, np.float64),
            np.zeros(n, np.int64),
            np.zeros(n, np.int64),
        )


@dataclass(slots=True)
class CounterDeltas:
    """What one window (or one late batch) did to the counters, indexed by counter position."""

    delta: F64
    total: F64
    resets: I64
    rollovers: I64
    reset_counter: I32
    """Counter position of each reset seen, with its time and the values around it (for logs)."""
    reset_ts: I64
    reset_old: F64
    reset_new: F64
    step_counter: I32 = field(default_factory=lambda: np.empty(0, np.int32))
    """Each non-zero increment of this step (late ones absorbed since the last close included): the
    counter position, the timestamp of the sample that showed it, and the quantity. Rules attribute
    quantity by these times (an order change inside a window splits its counts)."""
    step_ts: I64 = field(default_factory=lambda: np.empty(0, np.int64))
    step_delta: F64 = field(default_factory=lambda: np.empty(0, np.float64))


class CounterBank:
    """Delta logic for a fixed set of counters, vectorized over all of them.

    `rollover[i]` is the register size of counter i (e.g. 65536, 2**32); NaN or <= 0 means the counter
    never wraps, so every decrease is a reset.
    """

    def __init__(self, rollover: F64, threshold: float = 0.9) -> None:
        if not 0.5 <= threshold < 1.0:
            raise ValueError("threshold must be in [0.5, 1)")
        r = np.asarray(rollover, np.float64)
        self.rollover: F64 = np.where(np.isfinite(r) & (r > 0), r, 0.0)
        self.threshold = threshold
        self.state = CounterState.empty(int(r.shape[0]))
        # Increments of late samples with their own times, until the next close hands them out;
        # their sum per counter is always `state.pending`.
        self._late: list[tuple[I32, I64, F64]] = []
        # Session marks: (counter, time of the first sample of a new device session) still ahead of
        # the counter's last sample. Few (one per device restart), so a broadcast compare is enough.
        self.mark_pos: I32 = np.empty(0, np.int32)
        self.mark_ts: I64 = np.empty(0, np.int64)
        self.mark_value: F64 = np.empty(0, np.float64)

    @property
    def n(self) -> int:
        return int(self.rollover.shape[0])

    def apply_sorted(self, pos: I32, ts: I64, value: F64, starts: I64, counts: I64) -> CounterDeltas:
        """Apply samples already sorted by (counter, ts); `starts`/`counts` give each counter's segment.

        Returns the deltas of this step plus any pending late delta, and clears `pending`.
        """
        res, d = self._apply(pos, ts, value, starts, counts)
        s = self.state
        res.delta = res.delta + s.pending
        s.pending = np.zeros(self.n, np.float64)
        moved = d != 0
        steps = [(pos[moved], ts[moved], d[moved]), *self._late]
        self._late = []
        if len(steps) == 1:
            res.step_counter, res.step_ts, res.step_delta = steps[0]
        else:
            res.step_counter = np.concatenate([x[0] for x in steps]).astype(np.int32, copy=False)
            res.step_ts = np.concatenate([x[1] for x in steps]).astype(np.int64, copy=False)
            res.step_delta = np.concatenate([x[2] for x in steps]).astype(np.float64, copy=False)
        return res

    def mark_sessions(self, pos: I32, ts: I64, value: F64 | None = None) -> None:
        """A new device session starts at ts for these counters: a decrease between a sample before ts
        and one at or after it is a reset, never a rollover. Marks at or before a counter's last
        sample can no longer separate two of its samples and are dropped. `value`, the first sample's
        value (NaN: unknown), also tells that very sample from an old one stamped in the same ms."""
        pos = np.asarray(pos, np.int32)
        ts = np.asarray(ts, np.int64)
        v = np.full(pos.shape[0], np.nan) if value is None else np.asarray(value, np.float64)
        self.mark_pos = np.concatenate([self.mark_pos, pos])
        self.mark_ts = np.concatenate([self.mark_ts, ts])
        self.mark_value = np.concatenate([self.mark_value, v])
        self._prune_marks()

    def _prune_marks(self) -> None:
        if self.mark_pos.shape[0] == 0:
            return
        keep = self.mark_ts >= self.state.last_ts[self.mark_pos]
        if not keep.all():
            self.mark_pos, self.mark_ts = self.mark_pos[keep], self.mark_ts[keep]
            self.mark_value = self.mark_value[keep]

    def _across_session(self, pos: I32, prev_ts: I64, ts: I64, value: F64) -> Bools:
        """Which steps (prev_ts, ts] contain a session mark of their counter, or end at the session's
        first sample itself (same time and value: an old sample stamped in the same ms precedes it)."""
        if self.mark_pos.shape[0] == 0 or pos.shape[0] == 0:
            return np.zeros(pos.shape[0], np.bool_)
        mp, mt, mv = self.mark_pos[None, :], self.mark_ts[None, :], self.mark_value[None, :]
        t, before = ts[:, None], prev_ts[:, None]
        hit = (mp == pos[:, None]) & (((mt > before) & (mt <= t)) | ((mt == t) & (mv == value[:, None])))
        return np.asarray(hit.any(axis=1), np.bool_)

    def _deltas(
        self, pos: I32, ts: I64, value: F64, starts: I64, counts: I64
    ) -> tuple[F64, Bools, Bools, F64]:
        """Increments of sorted samples against the state, without changing it: (d, wrap, reset, prev)."""
        s = self.state
        nonempty = counts > 0
        st = starts[nonempty]
        prev = np.empty_like(value)
        prev[1:] = value[:-1]
        prev[st] = s.last_value[nonempty]
        d = value - prev
        down = d < 0
        wrap = reset = np.zeros(value.shape[0], np.bool_)
        if down.any():
            r = self.rollover[pos]
            wrap = down & (r > 0) & (prev >= r * self.threshold) & (value < r * (1.0 - self.threshold))
            if wrap.any() and self.mark_pos.shape[0]:
                w = np.flatnonzero(wrap)
                prev_ts = np.empty_like(ts)
                prev_ts[1:] = ts[:-1]
                prev_ts[st] = s.last_ts[nonempty]
                wrap[w[self._across_session(pos[w], prev_ts[w], ts[w], value[w])]] = False
            reset = down & ~wrap
            d = np.where(wrap, r - prev + value, d)
            d = np.where(reset, value, d)
        # No baseline (first value ever): the sample only sets it.
        d = np.where(np.isnan(prev), 0.0, d)
        return d, wrap, reset, prev

    def _apply(self, pos: I32, ts: I64, value: F64, starts: I64, counts: I64) -> tuple[CounterDeltas, F64]:
        """The increments of sorted samples (and the state after them); pending is left alone."""
        s = self.state
        n = self.n
        step = np.zeros(n, np.float64)
        empty_i32 = np.empty(0, np.int32)
        reset_info: tuple[I32, I64, F64, F64] = (
            empty_i32,
            np.empty(0, np.int64),
            np.empty(0, np.float64),
            np.empty(0, np.float64),
        )
        resets = np.zeros(n, np.int64)
        rolls = np.zeros(n, np.int64)
        if pos.shape[0]:
            nonempty = counts > 0
            d, wrap, reset, prev = self._deltas(pos, ts, value, starts, counts)
            if wrap.any() or reset.any():
                rolls = np.bincount(pos[wrap], minlength=n).astype(np.int64)
                resets = np.bincount(pos[reset], minlength=n).astype(np.int64)
                reset_info = (pos[reset], ts[reset], prev[reset], value[reset])
            step = np.asarray(np.bincount(pos, weights=d, minlength=n), np.float64)
            en = starts[nonempty] + counts[nonempty] - 1
            s.last_value[nonempty] = value[en]
            s.last_ts[nonempty] = ts[en]
        else:
            d = np.empty(0, np.float64)
        s.total += step
        self._prune_marks()
        s.resets += resets
        s.rollovers += rolls
        if reset_info[0].shape[0]:
            log.warning(
                "counter reset (PLC restart?) on %d counter(s); first: counter %d at %d ms, %g -> %g",
                reset_info[0].shape[0],
                int(reset_info[0][0]),
                int(reset_info[1][0]),
                float(reset_info[2][0]),
                float(reset_info[3][0]),
            )
        return CounterDeltas(step, s.total.copy(), resets, rolls, *reset_info), d

    def peek(self, pos: I32, ts: I64, value: F64, starts: I64, counts: I64, until_ms: int) -> CounterDeltas:
        """What a close would hand out for these sorted samples (the open window's, up to `until_ms`) and
        the late increments stamped at or before `until_ms`, without changing anything: the steps
        (window ones first, then late ones, as a close orders them), `delta` per counter and `total`
        as the running total at the last close plus `delta`. For a final report at an order change."""
        n = self.n
        if pos.shape[0]:
            d, _, _, _ = self._deltas(pos, ts, value, starts, counts)
        else:
            d = np.empty(0, np.float64)
        moved = d != 0
        parts = [(pos[moved], ts[moved], d[moved])]
        for lp, lt, ld in self._late:
            ok = lt <= until_ms
            parts.append((lp[ok], lt[ok], ld[ok]))
        sp = np.concatenate([x[0] for x in parts]).astype(np.int32, copy=False)
        sts = np.concatenate([x[1] for x in parts]).astype(np.int64, copy=False)
        sd = np.concatenate([x[2] for x in parts]).astype(np.float64, copy=False)
        delta = np.asarray(np.bincount(sp, weights=sd, minlength=n), np.float64)
        base = self.state.total - self.state.pending
        empty = np.empty(0, np.float64)
        return CounterDeltas(
            delta, base + delta, np.zeros(n, np.int64), np.zeros(n, np.int64),
            np.empty(0, np.int32), np.empty(0, np.int64), empty, empty, sp, sts, sd,
        )  # fmt: skip

    def apply_late(self, pos: I32, ts: I64, value: F64) -> int:
        """Absorb late samples (any order) into `pending`; returns how many carried new information."""
        if pos.shape[0] == 0:
            return 0
        newer = ts > self.state.last_ts[pos]
        pos, ts, value = pos[newer], ts[newer], value[newer]
        if pos.shape[0] == 0:
            return 0
        order = np.lexsort((ts, pos))
        pos, ts, value = pos[order], ts[order], value[order]
        counts = np.bincount(pos, minlength=self.n).astype(np.int64)
        starts = np.cumsum(counts) - counts
        res, d = self._apply(pos, ts, value, starts, counts)
        self.state.pending = self.state.pending + res.delta
        moved = d != 0
        if moved.any():
            self._late.append((pos[moved], ts[moved], d[moved]))
        return int(pos.shape[0])

    def adopt_pending(self) -> None:
        """After a restore: a checkpointed pending quantity has lost its sample times; it is dated at
        the counter's last sample (the newest late value that carried it)."""
        p = np.flatnonzero(self.state.pending != 0)
        self._late = []
        if p.shape[0]:
            self._late.append(
                (p.astype(np.int32), self.state.last_ts[p].copy(), self.state.pending[p].copy())
            )
