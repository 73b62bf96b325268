"""Numpy time windows of the bridge: column buffers, tumbling windows, aggregates, counters, on-change.

Knows tags only by the bridge's global integer index. Typical wiring::

    flows = FlowSet([FlowSpec("line1.production", 60_000, tags, kinds, rollover, tag_keys=paths)],
                    n_tags, start_ms=now_ms, store=CheckpointStore("windows.db"))
    flows.ingest(tag_idx, ts_ms, values)          # per UpdateBatch (numeric values only)
    for result in flows.iter_due(now_ms):         # on a timer
        ...rules -> events (ids from result.window_id) -> outbox commit...
        flows.save()                              # checkpoint only after the outbox commit

Near-real-time flows use ChangeDetector / AlarmDetector / LimitMonitor on each batch.
"""

from bridge.windows.aggregates import Aggregates, StateTimes
from bridge.windows.buffers import ColumnBuffer, Samples
from bridge.windows.checkpoint import CheckpointStore, FlowCheckpoint
from bridge.windows.counters import CounterBank, CounterDeltas, CounterState
from bridge.windows.flow import FlowSpec, TagKind, WindowResult
from bridge.windows.flowset import FlowSet
from bridge.windows.onchange import (
    AlarmDetector,
    AlarmEdge,
    ChangeDetector,
    LimitCrossing,
    LimitMonitor,
    StateChange,
)
from bridge.windows.scheduler import TumblingWindows, WindowStats

__all__ = [
    "Aggregates",
    "AlarmDetector",
    "AlarmEdge",
    "ChangeDetector",
    "CheckpointStore",
    "ColumnBuffer",
    "CounterBank",
    "CounterDeltas",
    "CounterState",
    "FlowCheckpoint",
    "FlowSet",
    "FlowSpec",
    "LimitCrossing",
    "LimitMonitor",
    "Samples",
    "StateChange",
    "StateTimes",
    "TagKind",
    "TumblingWindows",
    "WindowResult",
    "WindowStats",
]
