"""Column buffer of raw samples (tag, timestamp, value) for the open windows of one flow."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass(slots=True)
class Samples:
    """A set of samples as three aligned columns; `tag` is the flow-local member position."""

    tag: I32
    ts: I64
    value: F64
    rank: I32 | None = None
    """Arrival rank of each sample among its member's samples (0, 1, ...), when known and dense."""
    counts: npt.NDArray[np.int64] | None = None
    """Samples per member, when the producer already counted them."""
    ordered: bool = False
    """True when each member's samples arrived in timestamp order (so rank order is time order)."""

    def __len__(self) -> int:
        return int(self.tag.shape[0])


class ColumnBuffer:
    """Preallocated columns (member, ts, value, rank) that grow x2 when full, shrink never below `capacity`.

    One shared set of arrays serves every member of the flow: a window close needs all of them at
    once, and flat arrays are what `reduceat` wants. Appends are bulk copies, never per sample. The
    rank column (each sample's arrival number within its member) lets the close place samples in
    (member, arrival) order by a scatter instead of an argsort.
    """

    def __init__(self, n_members: int, capacity: int = 1 << 16) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self._n = n_members
        self._initial = capacity
        self._tag: I32 = np.empty(capacity, np.int32)
        self._ts: I64 = np.empty(capacity, np.int64)
        self._value: F64 = np.empty(capacity, np.float64)
        self._rank: I32 = np.empty(capacity, np.int32)
        self._count: I64 = np.zeros(n_members, np.int64)
        self._mark: I32 = np.empty(n_members, np.int32)
        # Newest timestamp appended per member: a sample behind it arrived out of time order.
        self._max_ts: I64 = np.full(n_members, np.iinfo(np.int64).min, np.int64)
        self._disordered = False
        self._size = 0
        self.grows = 0
        # Where take_before puts the closing window's samples: reused, so a window close does not
        # fault fresh pages in for every window.
        self._out_tag: I32 = np.empty(0, np.int32)
        self._out_ts: I64 = np.empty(0, np.int64)
        self._out_value: F64 = np.empty(0, np.float64)
        self._out_rank: I32 = np.empty(0, np.int32)

    @property
    def size(self) -> int:
        return self._size

    @property
    def capacity(self) -> int:
        return int(self._tag.shape[0])

    def __len__(self) -> int:
        return self._size

    def view(self) -> Samples:
        """The filled part, as views (valid until the next append or take)."""
        n = self._size
        return Samples(self._tag[:n], self._ts[:n], self._value[:n])

    def append(self, tag: I32, ts: I64, value: F64) -> None:
        """Copy aligned columns in at the end; grows geometrically when they do not fit."""
        m = int(tag.shape[0])
        if m == 0:
            return
        need = self._size + m
        if need > self.capacity:
            cap = self.capacity
            while cap < need:
                cap *= 2
            self._resize(cap)
            self.grows += 1
        s = self._size
        self._tag[s:need] = tag
        self._ts[s:need] = ts
        self._value[s:need] = value
        self._rank[s:need] = self._next_ranks(self._tag[s:need], self._ts[s:need])
        self._size = need

    def _next_ranks(self, tag: I32, ts: I64) -> npt.NDArray[np.int64]:
        m = int(tag.shape[0])
        seq = np.arange(m, dtype=np.int32)
        self._mark[tag] = seq
        if (self._mark[tag] == seq).all():
            # Each member at most once in the batch (the usual DDATA).
            before = self._max_ts[tag]
            if not self._disordered and bool((ts < before).any()):
                self._disordered = True
            self._max_ts[tag] = np.maximum(before, ts)
            rank = self._count[tag]
            self._count[tag] = rank + 1
            return rank
        order = np.argsort(tag, kind="stable")
        if not self._disordered:
            st, sts = tag[order], ts[order]
            prev = np.empty_like(sts)
            prev[1:] = sts[:-1]
            first = np.ones(m, np.bool_)
            first[1:] = st[1:] != st[:-1]
            prev[first] = self._max_ts[st[first]]
            self._disordered = bool((sts < prev).any())
        np.maximum.at(self._max_ts, tag, ts)
        return self._ranks_from(tag, self._count, order)

    def _ranks_from(
        self, tag: I32, base: I64, order: npt.NDArray[np.intp] | None = None
    ) -> npt.NDArray[np.int64]:
        """Arrival ranks continuing from `base` per member; `base` is advanced past them."""
        if order is None:
            order = np.argsort(tag, kind="stable")
        st = tag[order]
        first = np.ones(st.shape[0], np.bool_)
        first[1:] = st[1:] != st[:-1]
        seq = np.arange(st.shape[0])
        within = seq - np.maximum.accumulate(np.where(first, seq, 0))
        rank = np.empty(st.shape[0], np.int64)
        rank[order] = base[st] + within
        np.add.at(base, tag, 1)
        return rank

    def take_before(self, end_ms: int) -> Samples:
        """Remove every sample with ts < end_ms and return them; the rest keep arrival order.

        The returned arrays are reused by the next take_before: use them before calling it again.
        """
        n = self._size
        ts = self._ts[:n]
        keep = ts >= end_ms
        kept = int(np.count_nonzero(keep))
        m = n - kept
        if self._out_tag.shape[0] < m or self._out_tag.shape[0] > 4 * max(m, self._initial):
            # Grow for a bigger window, give memory back after a burst.
            cap = max(m, 16)
            self._out_tag = np.empty(cap, np.int32)
            self._out_ts = np.empty(cap, np.int64)
            self._out_value = np.empty(cap, np.float64)
            self._out_rank = np.empty(cap, np.int32)
        rank = self._out_rank[:m]
        out = Samples(self._out_tag[:m], self._out_ts[:m], self._out_value[:m], rank)
        if kept == 0:
            out.tag[:] = self._tag[:n]
            out.ts[:] = ts
            out.value[:] = self._value[:n]
            rank[:] = self._rank[:n]
        else:
            take = ~keep
            np.compress(take, self._tag[:n], out=out.tag)
            np.compress(take, ts, out=out.ts)
            np.compress(take, self._value[:n], out=out.value)
            np.compress(take, self._rank[:n], out=rank)
            # Boolean indexing copies first, so writing back into the same arrays is safe.
            self._tag[:kept] = self._tag[:n][keep]
            self._value[:kept] = self._value[:n][keep]
            self._rank[:kept] = self._rank[:n][keep]
            self._ts[:kept] = ts[keep]
        self._size = kept

        counts = np.bincount(out.tag, minlength=self._n).astype(np.int64)
        out.counts = counts
        # In time order per member, the closing samples of a member all arrived before the ones that
        # stay, so the ranks stay dense; otherwise check.
        out.ordered = not self._disordered
        if out.ordered or bool((rank < counts[out.tag]).all()):
            self._count -= counts
            self._rank[:kept] -= counts[self._tag[:kept]].astype(np.int32)
        else:
            # A sample for a later window arrived before one for this window (store-and-forward):
            # number the rest afresh, and let the close sort this window the slow way.
            out.rank = None
            self._count[:] = 0
            if kept:
                self._rank[:kept] = self._ranks_from(self._tag[:kept], self._count)
        if self._disordered:
            self._disordered = kept > 0 and self._kept_disordered()
        self._maybe_shrink()
        return out

    def _kept_disordered(self) -> bool:
        tag, ts = self._tag[: self._size], self._ts[: self._size]
        order = np.argsort(tag, kind="stable")
        st, sts = tag[order], ts[order]
        return bool(((sts[1:] < sts[:-1]) & (st[1:] == st[:-1])).any())

    def _maybe_shrink(self) -> None:
        # Give memory back after a burst (e.g. a store-and-forward flush), but keep head room.
        cap = self.capacity
        if cap > self._initial and self._size < cap // 4:
            new = max(self._initial, cap // 2)
            while new > self._initial and self._size < new // 4:
                new //= 2
            self._resize(max(new, self._initial))

    def _resize(self, cap: int) -> None:
        n = self._size
        tag = np.empty(cap, np.int32)
        ts = np.empty(cap, np.int64)
        value = np.empty(cap, np.float64)
        rank = np.empty(cap, np.int32)
        tag[:n] = self._tag[:n]
        ts[:n] = self._ts[:n]
        value[:n] = self._value[:n]
        rank[:n] = self._rank[:n]
        self._tag, self._ts, self._value, self._rank = tag, ts, value, rank
