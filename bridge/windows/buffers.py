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

    def __len__(self) -> int:
        return int(self.tag.shape[0])


class ColumnBuffer:
    """Three preallocated columns that grow x2 when full and shrink back, never below `capacity`.

    One shared set of arrays serves every tag of the flow: a window close needs all tags at once,
    and one flat array is what `argsort`/`reduceat` want. Appends are bulk copies, never per sample.
    """

    def __init__(self, capacity: int = 1 << 16) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self._initial = capacity
        self._tag: I32 = np.empty(capacity, np.int32)
        self._ts: I64 = np.empty(capacity, np.int64)
        self._value: F64 = np.empty(capacity, np.float64)
        self._size = 0
        self.grows = 0
        # Where take_before puts the closing window's samples: reused, so a window close does not
        # fault fresh pages in for every window.
        self._out_tag: I32 = np.empty(0, np.int32)
        self._out_ts: I64 = np.empty(0, np.int64)
        self._out_value: F64 = np.empty(0, np.float64)

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
        self._size = need

    def take_before(self, end_ms: int) -> Samples:
        """Remove every sample with ts < end_ms and return them; the rest keep arrival order.

        The returned arrays are reused by the next take_before: use them before calling it again.
        """
        n = self._size
        ts = self._ts[:n]
        keep = ts >= end_ms
        kept = int(np.count_nonzero(keep))
        m = n - kept
        if self._out_tag.shape[0] < m:
            cap = max(m, 2 * self._out_tag.shape[0])
            self._out_tag = np.empty(cap, np.int32)
            self._out_ts = np.empty(cap, np.int64)
            self._out_value = np.empty(cap, np.float64)
        out = Samples(self._out_tag[:m], self._out_ts[:m], self._out_value[:m])
        if kept == 0:
            out.tag[:] = self._tag[:n]
            out.ts[:] = ts
            out.value[:] = self._value[:n]
        else:
            take = ~keep
            np.compress(take, self._tag[:n], out=out.tag)
            np.compress(take, ts, out=out.ts)
            np.compress(take, self._value[:n], out=out.value)
            # Boolean indexing copies first, so writing back into the same arrays is safe.
            self._tag[:kept] = self._tag[:n][keep]
            self._value[:kept] = self._value[:n][keep]
            self._ts[:kept] = ts[keep]
        self._size = kept
        self._maybe_shrink()
        if self._out_tag.shape[0] > 4 * max(m, self._initial):
            # Give the closing arrays back after a burst too.
            self._out_tag = self._out_tag[:m].copy()
            self._out_ts = self._out_ts[:m].copy()
            self._out_value = self._out_value[:m].copy()
            out = Samples(self._out_tag, self._out_ts, self._out_value)
        return out

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
        tag[:n] = self._tag[:n]
        ts[:n] = self._ts[:n]
        value[:n] = self._value[:n]
        self._tag, self._ts, self._value = tag, ts, value
