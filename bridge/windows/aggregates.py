"""Vectorized per-tag aggregates of one closed window: count .. time-weighted mean, time in state."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bridge.windows.buffers import F64, I32, I64, Samples


@dataclass(slots=True)
class SortedWindow:
    """The window's samples ordered by (member, ts), with each member's segment [starts, ends)."""

    ts: I64
    value: F64
    hold: I64
    """How long each sample's value holds: until the member's next sample or the window end."""
    counts: I64
    starts: I64
    ends: I64
    scratch: F64


def _stable_argsort_members(tag: I32, n_members: int) -> I64:
    """Stable argsort of member positions; LSD radix on 16-bit digits when timsort would be slow.

    Arrival order is usually ts order, so a stable sort by member alone gives (member, ts) order.
    Timsort is quick when arrival makes long runs (few devices); radix is flat O(n) otherwise.
    """
    m = int(tag.shape[0])
    if n_members <= 0xFFFF and m >= 4096:
        return np.argsort(tag.astype(np.uint16), kind="stable").astype(np.int64, copy=False)
    if m < 4096 or int(np.count_nonzero(tag[1:] < tag[:-1])) < m // 64:
        return np.argsort(tag, kind="stable").astype(np.int64, copy=False)
    order = np.argsort((tag & 0xFFFF).astype(np.uint16), kind="stable")
    high = (tag[order] >> 16).astype(np.uint16)
    return order[np.argsort(high, kind="stable")].astype(np.int64, copy=False)


class Workspace:
    """Scratch columns reused from one window close to the next (fresh pages cost page faults)."""

    def __init__(self) -> None:
        self.ts: I64 = np.empty(0, np.int64)
        self.value: F64 = np.empty(0, np.float64)
        self.hold: I64 = np.empty(0, np.int64)
        self.product: F64 = np.empty(0, np.float64)
        self.dest: I64 = np.empty(0, np.int64)

    def ensure(self, m: int) -> None:
        if self.ts.shape[0] < m or self.ts.shape[0] > 4 * max(m, 1 << 16):
            cap = max(m, 1 << 10)
            self.ts = np.empty(cap, np.int64)
            self.value = np.empty(cap, np.float64)
            self.hold = np.empty(cap, np.int64)
            self.product = np.empty(cap, np.float64)
            self.dest = np.empty(cap, np.int64)


def sort_window(samples: Samples, n_members: int, end_ms: int, ws: Workspace | None = None) -> SortedWindow:
    """Order samples by (member, ts); ties in ts keep arrival order (so `last` is the last received).

    With a workspace the sorted columns are views into it, valid until its next use.
    """
    ws = ws or Workspace()
    m = len(samples)
    ws.ensure(m)
    counts = samples.counts
    if counts is None:
        counts = np.bincount(samples.tag, minlength=n_members).astype(np.int64)
    ends = np.cumsum(counts)
    starts = ends - counts
    ts = ws.ts[:m]
    value = ws.value[:m]
    if samples.rank is not None:
        # Dense arrival ranks: each sample's place is its member's start + its rank (no sort).
        dest = np.take(starts, samples.tag, out=ws.dest[:m])
        dest += samples.rank
        ts[dest] = samples.ts
        value[dest] = samples.value
    else:
        order = _stable_argsort_members(samples.tag, n_members)
        np.take(samples.ts, order, out=ts)
        np.take(samples.value, order, out=value)
    if m > 1 and not (samples.ordered and samples.rank is not None):
        back = ts[1:] < ts[:-1]
        if back.any():
            # Out-of-order arrival within a member (store-and-forward): a segment start may go back in
            # time legitimately, anything else needs the full (member, ts) sort.
            first = np.zeros(m, np.bool_)
            first[starts[counts > 0]] = True
            if (back & ~first[1:]).any():
                # Grouped by member already: one stable sort of (member, ts) as a single int64 key
                # keeps arrival order for equal timestamps and is ~10x quicker than lexsort.
                member = np.repeat(np.arange(n_members, dtype=np.int64), counts)
                lo = int(ts.min())
                span = int(ts.max()) - lo + 1
                if n_members * span < 1 << 62:
                    order = np.argsort(member * span + (ts - lo), kind="stable")
                else:
                    order = np.lexsort((ts, member))
                ts[:] = ts[order]
                value[:] = value[order]
    hold = ws.hold[:m]
    if m:
        np.subtract(ts[1:], ts[:-1], out=hold[:-1])
        last = ends[counts > 0] - 1
        hold[last] = end_ms - ts[last]
    return SortedWindow(ts, value, hold, counts, starts, ends, ws.product[:m])


@dataclass(slots=True)
class Aggregates:
    """Per-member aggregates; NaN where a member had no sample (see `twa` and `last` for carry)."""

    count: I64
    sum: F64
    min: F64
    max: F64
    mean: F64
    first: F64
    last: F64
    """Value held at window end: the last sample, or the carried-in value when there was none."""
    twa: F64
    """Time-weighted mean: each value holds until the next sample or the window end; the carried-in
    value covers the window start. NaN when nothing was ever known for the member."""
    last_ts: I64
    """Timestamp of `last` (-1 when unknown)."""


def compute_aggregates(
    w: SortedWindow, start_ms: int, end_ms: int, carry_value: F64, carry_ts: I64
) -> Aggregates:
    """All value aggregates for every member in one pass of vector operations (no loop over tags).

    `carry_value`/`carry_ts` hold each member's last value before the window (`carry_ts` < 0: none).
    """
    n = int(w.counts.shape[0])
    nonempty = w.counts > 0
    st = w.starts[nonempty]
    en = w.ends[nonempty] - 1
    has_carry = carry_ts >= 0

    total = np.zeros(n, np.float64)
    vmin = np.full(n, np.nan)
    vmax = np.full(n, np.nan)
    first = np.full(n, np.nan)
    last = np.where(has_carry, carry_value, np.nan)
    last_ts = np.where(has_carry, carry_ts, -1).astype(np.int64)
    twa = last.copy()
    if st.shape[0]:
        total[nonempty] = np.add.reduceat(w.value, st)
        vmin[nonempty] = np.minimum.reduceat(w.value, st)
        vmax[nonempty] = np.maximum.reduceat(w.value, st)
        first[nonempty] = w.value[st]
        last[nonempty] = w.value[en]
        last_ts[nonempty] = w.ts[en]

        weighted = np.zeros(n, np.float64)
        weighted[nonempty] = np.add.reduceat(np.multiply(w.value, w.hold, out=w.scratch), st)
        first_ts = w.ts[st]
        covered = (end_ms - first_ts).astype(np.float64)
        lead = np.where(has_carry[nonempty], first_ts - start_ms, 0).astype(np.float64)
        weighted_ne = weighted[nonempty] + np.where(lead > 0, carry_value[nonempty] * lead, 0.0)
        twa[nonempty] = weighted_ne / (covered + lead)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(nonempty, total / np.maximum(w.counts, 1), np.nan)
    return Aggregates(w.counts, total, vmin, vmax, mean, first, last, twa, last_ts)


@dataclass(slots=True)
class StateTimes:
    """Time in each state, as sorted (member, state) triples: state_ms[i] ms of member in state."""

    member: I32
    state: I64
    ms: I64

    def of(self, member: int) -> dict[int, int]:
        lo, hi = np.searchsorted(self.member, [member, member + 1])
        return {int(s): int(t) for s, t in zip(self.state[lo:hi], self.ms[lo:hi], strict=True)}


def compute_state_times(
    w: SortedWindow, n_state: int, start_ms: int, end_ms: int, carry_value: F64, carry_ts: I64
) -> StateTimes:
    """Time in each state of the state members, which are the first `n_state` member positions.

    Vectorized over (member, state) pairs; the carried-in state covers the window start.
    """
    if n_state == 0:
        return StateTimes(np.empty(0, np.int32), np.empty(0, np.int64), np.empty(0, np.int64))
    counts = w.counts[:n_state]
    hi = int(w.ends[n_state - 1])
    tag = np.repeat(np.arange(n_state, dtype=np.int32), counts)
    code = w.value[:hi].astype(np.int64)
    dur = w.hold[:hi]

    nonempty = counts > 0
    lead = np.full(n_state, end_ms - start_ms, np.int64)
    lead[nonempty] = w.ts[w.starts[:n_state][nonempty]] - start_ms
    c_members = np.flatnonzero(carry_ts[:n_state] >= 0).astype(np.int32)
    c_code = np.nan_to_num(carry_value[c_members]).astype(np.int64)
    c_dur = lead[c_members]

    all_tag = np.concatenate([c_members, tag])
    all_code = np.concatenate([c_code, code])
    all_dur = np.concatenate([c_dur, dur])
    pos = all_dur > 0
    all_tag, all_code, all_dur = all_tag[pos], all_code[pos], all_dur[pos]
    if all_tag.shape[0] == 0:
        return StateTimes(np.empty(0, np.int32), np.empty(0, np.int64), np.empty(0, np.int64))
    lo = int(all_code.min())
    span = int(all_code.max()) - lo + 1
    key = all_tag.astype(np.int64) * span + (all_code - lo)
    if n_state * span <= max(1 << 22, 8 * key.shape[0]):
        # Few distinct codes (the usual machine states): a dense histogram beats a sort.
        dense = np.bincount(key, weights=all_dur, minlength=n_state * span)
        hit = np.bincount(key, minlength=n_state * span) > 0
        uniq = np.flatnonzero(hit)
        ms = dense[uniq].astype(np.int64)
    else:
        uniq, inverse = np.unique(key, return_inverse=True)
        ms = np.bincount(inverse, weights=all_dur).astype(np.int64)
    return StateTimes((uniq // span).astype(np.int32), uniq % span + lo, ms)
