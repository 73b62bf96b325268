"""Numpy time windows of the bridge: column buffers, tumbling windows, aggregates, counters, on-change."""

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
