"""The host's columnar output: plain DATA read by the compiled kernel, many messages per batch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sparkplug.data_kernel import (
    DT_SHIFT,
    F64,
    FLAG_HISTORICAL,
    I64,
    META_LEN,
    OUT_ROWS,
    ROW_FLAGS,
    ROW_HANDLE,
    ROW_INT,
    ROW_TS,
    Kernel,
    py_value,
)

ColumnsHandler = Callable[["ColumnBatch"], None]
# The paho thread hands a run over once it holds this many metrics, whether or not the consumer
# has asked: a consumer that stalls costs it one queue item per run, never an unbounded buffer.
HANDOVER_METRICS = 1 << 16


@dataclass(slots=True)
class ColumnBatch:
    """The metrics of consecutive DATA messages (any devices) in arrival order, as columns.

    The columnar counterpart of a run of UpdateBatch: `handle` as in the registry, `ts` the
    metric's timestamp (else the payload's, else arrival), `ival`/`fval` the value as an integer
    (two's complement; UInt64 and DateTime as their 64-bit pattern) and as a float, `flags` the
    is_historical bit and the birth's datatype (flags >> 8).
    """

    handle: I64
    ts: I64
    ival: I64
    fval: F64
    flags: I64
    messages: int

    def __len__(self) -> int:
        return int(self.handle.shape[0])

    @property
    def historical(self) -> np.ndarray[tuple[int], np.dtype[np.bool_]]:
        out: np.ndarray[tuple[int], np.dtype[np.bool_]] = (self.flags & FLAG_HISTORICAL) != 0
        return out

    @property
    def datatype(self) -> I64:
        return self.flags >> DT_SHIFT

    def value(self, i: int) -> Any:
        """The Python value of entry i, as the general path gives it (bool, int or float)."""
        return py_value(int(self.flags[i]) >> DT_SHIFT, int(self.ival[i]), float(self.fval[i]))

    def values(self) -> list[Any]:
        return [self.value(i) for i in range(len(self))]

    def slice(self, a: int, b: int) -> ColumnBatch:
        return ColumnBatch(
            self.handle[a:b], self.ts[a:b], self.ival[a:b], self.fval[a:b], self.flags[a:b], self.messages
        )


class ColumnBuffer:
    """Where the kernel writes: preallocated columns, grown geometrically, handed over as a copy."""

    def __init__(self, kernel: Kernel, capacity: int = 8192) -> None:
        self.kernel = kernel
        self.cap = capacity
        self.out_i: I64 = np.zeros((OUT_ROWS, capacity), np.int64)
        self.out_f: F64 = np.zeros(capacity, np.float64)
        self.meta: I64 = np.zeros(META_LEN, np.int64)
        self.n = 0
        self.messages = 0

    def grow(self, need: int) -> None:
        cap = self.cap
        while cap < self.n + need:
            cap *= 2
        out_i = np.zeros((OUT_ROWS, cap), np.int64)
        out_f = np.zeros(cap, np.float64)
        out_i[:, : self.n] = self.out_i[:, : self.n]
        out_f[: self.n] = self.out_f[: self.n]
        self.out_i, self.out_f, self.cap = out_i, out_f, cap

    def take(self) -> ColumnBatch | None:
        """The columns so far (copied: the buffer is written again at once), or None when empty."""
        n = self.n
        if not n:
            return None
        i = self.out_i
        batch = ColumnBatch(
            i[ROW_HANDLE, :n].copy(),
            i[ROW_TS, :n].copy(),
            i[ROW_INT, :n].copy(),
            self.out_f[:n].copy(),
            i[ROW_FLAGS, :n].copy(),
            self.messages,
        )
        self.n = 0
        self.messages = 0
        return batch
