"""Several flows side by side: one ingest routes a batch to every flow its tags belong to."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import numpy.typing as npt

from bridge.windows.buffers import F64, I64
from bridge.windows.checkpoint import CheckpointStore
from bridge.windows.flow import FlowSpec, WindowResult
from bridge.windows.scheduler import TumblingWindows


class FlowSet:
    """The tumbling-window flows of one bridge (e.g. production 60 s, energy 900 s).

    A tag may be in several flows (a power meter in production and energy). Samples of tags in no
    flow are counted in `unrouted` (the bridge only mirrors those). With a store, each flow resumes
    from its checkpoint; `save` writes them after the outbox commit (see `checkpoint`).
    """

    def __init__(
        self,
        specs: Sequence[FlowSpec],
        n_tags: int,
        start_ms: int,
        store: CheckpointStore | None = None,
    ) -> None:
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise ValueError("flow names must be unique (they are part of the window ids)")
        self.n_tags = n_tags
        self.store = store
        self.flows: dict[str, TumblingWindows] = {
            s.name: TumblingWindows(s, n_tags, start_ms, store.load(s.name) if store else None) for s in specs
        }
        self._flow_count: I64 = np.zeros(n_tags, np.int64)
        for s in specs:
            self._flow_count[s.tag_array] += 1
        self.unrouted = 0
        self._staged: list[tuple[I64, I64, F64]] = []
        self._staged_n = 0

    def ingest(self, tag_idx: npt.ArrayLike, ts_ms: npt.ArrayLike, values: npt.ArrayLike) -> None:
        """Route a batch; small ones are staged and routed together (see `TumblingWindows.ingest`)."""
        tag = np.asarray(tag_idx, np.int64)
        ts = np.asarray(ts_ms, np.int64)
        value = np.asarray(values, np.float64)
        if not (tag.ndim == 1 and tag.shape == ts.shape == value.shape):
            raise ValueError("tag_idx, ts_ms and values must be 1-D and of the same length")
        if tag.shape[0] < TumblingWindows.STAGE_SAMPLES // 16:
            self._staged.append((tag, ts, value))
            self._staged_n += int(tag.shape[0])
            if self._staged_n >= TumblingWindows.STAGE_SAMPLES:
                self.flush()
            return
        self.flush()
        self._route(tag, ts, value)

    def flush(self) -> None:
        """Route the staged small batches to their flows (and let each flow process them)."""
        if self._staged:
            staged, self._staged, self._staged_n = self._staged, [], 0
            self._route(*(np.concatenate([b[i] for b in staged]) for i in range(3)))
        for flow in self.flows.values():
            flow.flush()

    def _route(self, tag: I64, ts: I64, value: F64) -> None:
        known = (tag >= 0) & (tag < self.n_tags)
        routed = np.zeros(tag.shape[0], np.bool_)
        routed[known] = self._flow_count[tag[known]] > 0
        self.unrouted += int(tag.shape[0] - np.count_nonzero(routed))
        if len(self.flows) == 1:
            (only,) = self.flows.values()
            only.ingest(tag[routed], ts[routed], value[routed])
            return
        for flow in self.flows.values():
            mine = np.zeros(tag.shape[0], np.bool_)
            mine[routed] = flow.is_member(tag[routed])
            if mine.any():
                flow.ingest(tag[mine], ts[mine], value[mine])

    def iter_due(self, now_ms: int) -> Iterator[WindowResult]:
        """Due windows of all flows, one at a time, in order of window end."""
        self.flush()
        while True:
            due = [f for f in self.flows.values() if f.due(now_ms)]
            if not due:
                return
            yield min(due, key=lambda f: (f.open_end_ms, f.spec.name)).close_one()

    def save(self) -> None:
        """Checkpoint every flow (call after the outbox commit of the events of the closed windows)."""
        if self.store is None:
            raise RuntimeError("no checkpoint store")
        self.flush()
        for flow in self.flows.values():
            self.store.save(flow.checkpoint())
