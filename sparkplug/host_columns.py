"""The host's columnar output: plain DATA read by the compiled kernel, many messages per batch."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
    alias_table,
    kernel,
    py_value,
)

if TYPE_CHECKING:
    from sparkplug.host_lifecycle import HostStats
    from sparkplug.host_registry import MetricScope, NodeSession

log = logging.getLogger("sparkplug.host")
_time_ns = time.time_ns

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

    def value(self, i: int) -> Any:
        """The Python value of entry i, as the general path gives it (bool, int or float)."""
        return py_value(int(self.flags[i]) >> DT_SHIFT, int(self.ival[i]), float(self.fval[i]))

    def values(self) -> list[Any]:
        return [self.value(i) for i in range(len(self))]

    def slice(self, a: int, b: int) -> ColumnBatch:
        """Entries a..b-1. The message count goes with the slice that starts at 0, so that the counts
        of a run's slices add up to the run's."""
        messages = self.messages if a == 0 else 0
        return ColumnBatch(
            self.handle[a:b], self.ts[a:b], self.ival[a:b], self.fval[a:b], self.flags[a:b], messages
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
        self.errors = 0  # reader failures (bugs), each message then read in Python

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


class ColumnarData:
    """The host ingest's columnar mode (mixed into Ingest): plain DATA to columns, order kept."""

    stats: HostStats
    columns: ColumnBuffer | None
    _emit_batch: Callable[[Any], None]
    _emit: Callable[[Any], None]
    _on_reject: Callable[[Any], None]

    def _check_seq_values(self, node: NodeSession, has_seq: bool, seq: int, topic: str) -> None:
        raise NotImplementedError

    def _init_columns(self, on_columns: ColumnsHandler) -> None:
        """With the compiled kernel, plain DATA goes to columns; everything else the consumer gets
        first pushes the columns so far out, so that it sees arrival order. Without numba: no-op."""
        compiled = kernel()
        if compiled is None:
            return
        self.columns = ColumnBuffer(compiled)
        self._emit_columns = on_columns
        self._emit_batch = self._columns_first(self._emit_batch)
        self._emit = self._columns_first(self._emit)
        self._on_reject = self._columns_first(self._on_reject)

    def _to_columns(
        self, cols: ColumnBuffer, node: NodeSession, scope: MetricScope, raw: bytes, topic: str
    ) -> bool:
        """Plain DATA through the compiled kernel into the columns; False when it bails (the Python
        path then reads the message from scratch: the kernel committed nothing)."""
        table = scope.table
        if table is None:
            table = scope.table = alias_table({a: (s[0], s[1]) for a, s in scope.by_alias.items()})
        need = (len(raw) >> 1) + 1  # a metric takes at least two bytes
        if cols.n + need > cols.cap:
            if cols.n >= HANDOVER_METRICS:
                self.flush_columns()
            if cols.n + need > cols.cap:
                cols.grow(need)
        start = cols.n
        try:
            n = cols.kernel(raw, table, cols.out_i, cols.out_f, start, _time_ns() // 1_000_000, cols.meta)
        except IndexError:
            # A bug of the reader (it checks its bounds): the Python path takes this message.
            cols.errors += 1
            self.stats.data_reader_errors += 1
            if cols.errors == 1 or cols.errors % 10_000 == 0:
                log.exception(
                    "compiled DATA reader failed on %s (%d times so far); read in Python instead",
                    topic,
                    cols.errors,
                )
            return False
        if n < 0:
            return False
        cols.n = start + n
        cols.messages += 1
        stats = self.stats
        stats.data_compiled += 1
        if n:
            stats.metrics_in += n
            stats.batches += 1
        _pts, _has_pts, seq, has_seq = cols.meta.tolist()
        tracker = node.seq
        if seq and tracker.front is not None and seq == (tracker.front + 1) & 0xFF:
            tracker.front = seq
        else:
            # After this message's values: a gap's rebirth request comes after the data it follows.
            self._check_seq_values(node, bool(has_seq), seq if seq >= 0 else seq + (1 << 64), topic)
        return True

    def flush_columns(self) -> None:
        """Hand the columns so far to the consumer (the host calls this under its lock)."""
        cols = self.columns
        if cols is not None and cols.n:
            batch = cols.take()
            if batch is not None:
                try:
                    self._emit_columns(batch)
                except Exception:
                    log.exception("on_columns callback failed")

    def _columns_first(self, emit: Callable[[Any], None]) -> Callable[[Any], None]:
        def emit_after_columns(item: Any) -> None:
            cols = self.columns
            if cols is not None and cols.n:
                self.flush_columns()
            emit(item)

        return emit_after_columns
