"""What a flow's window engine is given (FlowSpec) and what each window close hands back (WindowResult)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from bridge.windows.aggregates import Aggregates, StateTimes
from bridge.windows.buffers import F64, I32, I64

U8 = np.ndarray[tuple[int], np.dtype[np.uint8]]


class TagKind(enum.IntEnum):
    """How a member's values are read: all get value aggregates, the kind adds the rest."""

    GAUGE = 0
    STATE = 1
    """Integer state codes (machine state, mode): adds time in each state."""
    COUNTER = 2
    """Cumulative PLC counter: adds deltas with rollover/reset handling and a running total."""


@dataclass(frozen=True, slots=True, eq=False)
class FlowSpec:
    """One tag group with one tumbling window length (e.g. production 60 s, energy 900 s).

    `tags` are global tag indices (the bridge's numbering); `tag_keys` are stable names for the
    checkpoint (default: the index as text; give the tag path so a model edit keeps counters).
    `rollover` per member: register size of a counter, None for no wrap (every decrease is a reset).
    """

    name: str
    window_ms: int
    tags: Sequence[int] | npt.NDArray[np.integer[Any]]
    kinds: Sequence[TagKind | int] | npt.NDArray[np.integer[Any]]
    rollover: Sequence[float | None] | npt.NDArray[np.floating[Any]] | None = None
    grace_ms: int = 2000
    offset_ms: int = 0
    tag_keys: Sequence[str] | None = None
    rollover_threshold: float = 0.9
    tag_array: I32 = field(init=False, repr=False, compare=False)
    kind_array: U8 = field(init=False, repr=False, compare=False)
    rollover_array: F64 = field(init=False, repr=False, compare=False)
    keys: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        tags = np.asarray(self.tags, np.int32)
        kinds = np.asarray(self.kinds, np.uint8)
        if tags.ndim != 1 or kinds.shape != tags.shape:
            raise ValueError("tags and kinds must be 1-D and of equal length")
        if np.unique(tags).shape[0] != tags.shape[0]:
            raise ValueError(f"flow {self.name!r}: a tag is listed twice")
        if kinds.shape[0] and int(kinds.max()) > max(TagKind):
            raise ValueError(f"flow {self.name!r}: unknown tag kind {int(kinds.max())}")
        if tags.shape[0] and int(tags.min()) < 0:
            raise ValueError("tag indices must be >= 0")
        if self.window_ms <= 0 or self.grace_ms < 0:
            raise ValueError("window_ms must be > 0 and grace_ms >= 0")
        if self.rollover is None:
            roll = np.full(tags.shape[0], np.nan)
        else:
            roll = np.array([np.nan if r is None else r for r in self.rollover], np.float64)
            if roll.shape != tags.shape:
                raise ValueError("rollover must have one entry per tag")
        keys = tuple(str(t) for t in tags.tolist()) if self.tag_keys is None else tuple(self.tag_keys)
        if len(keys) != tags.shape[0]:
            raise ValueError("tag_keys must have one entry per tag")
        object.__setattr__(self, "tag_array", tags)
        object.__setattr__(self, "kind_array", kinds)
        object.__setattr__(self, "rollover_array", roll)
        object.__setattr__(self, "keys", keys)

    @property
    def n_members(self) -> int:
        return int(self.tag_array.shape[0])

    def window_start(self, ts_ms: int) -> int:
        """Start of the wall-clock aligned window holding ts_ms (60 s windows start at :00)."""
        return (ts_ms - self.offset_ms) // self.window_ms * self.window_ms + self.offset_ms

    def window_id(self, start_ms: int) -> str:
        """Deterministic id of a window: the same flow and start always give the same id."""
        return f"{self.name}:{start_ms}"


@dataclass(slots=True)
class WindowResult:
    """Everything one window close computed, as arrays by member position.

    Position i is global tag `tags[i]`; positions are grouped by kind (STATE members first, then
    COUNTER, then GAUGE). Use `position(tag_idx)` or the accessors to look one tag up.
    """

    flow: str
    window_id: str
    """Deterministic: `<flow>:<window start ms>`; derive event ids from it."""
    start_ms: int
    end_ms: int
    tags: I32
    values: Aggregates
    states: StateTimes
    """Time in state of the STATE members (by member position)."""
    counter_members: I32
    """Member positions of the COUNTER members; the counter arrays below are in this order."""
    counter_delta: F64
    """Quantity counted in this window (plus late values absorbed since the last close)."""
    counter_total: F64
    """Running total since the counter was first seen; survives restarts through the checkpoint."""
    counter_resets: I64
    counter_rollovers: I64
    samples: int
    late_since_last_close: int
    local: I32 = field(repr=False)
    """Global tag index -> member position (-1: not a member); shared with the engine, read only."""
    step_counter: I32 = field(default_factory=lambda: np.empty(0, np.int32), repr=False)
    """Every non-zero counter increment of this close (late ones included), as three aligned columns:
    the index into `counter_members`, the timestamp of the sample that showed it, its quantity."""
    step_ts: I64 = field(default_factory=lambda: np.empty(0, np.int64), repr=False)
    step_delta: F64 = field(default_factory=lambda: np.empty(0, np.float64), repr=False)

    def position(self, tag_idx: int) -> int:
        """Member position of a global tag index; KeyError when the tag is not in this flow."""
        pos = int(self.local[tag_idx]) if 0 <= tag_idx < self.local.shape[0] else -1
        if pos < 0:
            raise KeyError(f"tag {tag_idx} is not a member of flow {self.flow!r}")
        return pos

    def time_in_state(self, tag_idx: int) -> dict[int, int]:
        """State code -> ms in this window for one STATE tag."""
        return self.states.of(self.position(tag_idx))

    def counter_of(self, tag_idx: int) -> tuple[float, float]:
        """(delta in this window, running total) of one COUNTER tag."""
        pos = self.position(tag_idx)
        i = pos - int(self.counter_members[0]) if self.counter_members.shape[0] else -1
        if not 0 <= i < self.counter_members.shape[0]:
            raise KeyError(f"tag {tag_idx} is not a counter")
        return float(self.counter_delta[i]), float(self.counter_total[i])

    def counter_steps(self) -> dict[int, tuple[I64, F64]]:
        """Global tag index -> (timestamps, quantities) of its non-zero increments in this close."""
        if self.step_counter.shape[0] == 0:
            return {}
        order = np.argsort(self.step_counter, kind="stable")
        which = self.step_counter[order]
        ts, delta = self.step_ts[order], self.step_delta[order]
        cuts = np.flatnonzero(which[1:] != which[:-1]) + 1
        starts = np.concatenate(([0], cuts)).tolist()
        ends = np.concatenate((cuts, [which.shape[0]])).tolist()
        tags = self.tags[self.counter_members[which[starts]]].tolist()
        return {int(t): (ts[a:b], delta[a:b]) for t, a, b in zip(tags, starts, ends, strict=True)}
