"""The bridge's core without MQTT: samples in, windows and detectors, rules, events out, commit in order."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bridge.ingest import Chunk, TagIndex, TagInfo
from bridge.metrics import BridgeMetrics
from bridge.rules.base import ERP_ORDER, RuleContext, TextTimeline
from bridge.rules.changeover import Changeovers
from bridge.rules.downtime import DowntimeRule
from bridge.rules.maintenance import MaintenanceRule
from bridge.rules.material import MaterialRule
from bridge.rules.production import ProductionRule
from bridge.rules.quality import QualityRule
from bridge.rules.sessions import CounterSessions
from bridge.rules.state import RuleState
from bridge.windows.buffers import F64, I64
from bridge.windows.checkpoint import CheckpointStore
from bridge.windows.flow import FlowSpec, WindowResult
from bridge.windows.scheduler import TumblingWindows
from uns_model.delivery import OutboundEvent
from uns_model.plant import PlantModel

log = logging.getLogger(__name__)

MIN_WINDOW_MS = 1000
Enqueue = Callable[[Sequence[OutboundEvent]], int]
WindowRule = ProductionRule | MaterialRule


@dataclass(slots=True)
class _Flow:
    engine: TumblingWindows
    rule: WindowRule
    members: list[TagInfo]
    is_member: np.ndarray[tuple[int], np.dtype[np.bool_]]


class Pipeline:
    """Windows per batch flow (production, material), on-change rules for the near-real-time ones.

    Single-threaded: the service's bridge thread calls `ingest`, `tick` and `commit`. The commit
    order is the durability protocol: events into the outbox (one transaction), then rule state,
    then window checkpoints. A crash anywhere replays facts whose events are already held (same
    deterministic ids, so no-ops) and never acknowledges a window whose events are not durable.
    """

    def __init__(
        self,
        plant: PlantModel,
        *,
        metrics: BridgeMetrics | None = None,
        state_path: Path | str | None = None,
        checkpoint_path: Path | str | None = None,
        window_s: float | None = None,
        grace_ms: int = 2000,
        now_ms: int | None = None,
        index: TagIndex | None = None,
    ) -> None:
        self.plant = plant
        self.index = index or TagIndex(plant)
        self.metrics = metrics or BridgeMetrics()
        self.state = RuleState(state_path)
        self.timeline = TextTimeline(self.index, self.state)
        self.ctx = RuleContext(self.index, self.state, self.metrics, self.timeline)
        self.checkpoints = CheckpointStore(checkpoint_path) if checkpoint_path is not None else None
        start = int(time.time() * 1000) if now_ms is None else now_ms
        n = self.index.n
        self.flows: list[_Flow] = []
        for contract, rule in (
            (
                "production_reported",
                ProductionRule(self.ctx, goods_finished=plant.flow("goods_finished").enabled),
            ),
            ("material_consumed", MaterialRule(self.ctx)),
        ):
            flow = plant.flow(contract)
            members = rule.members()
            if not flow.enabled or not members:
                continue
            seconds = window_s if window_s is not None else flow.window_s
            spec = FlowSpec(
                name=contract,
                window_ms=max(MIN_WINDOW_MS, int(seconds * 1000)),
                tags=[t.idx for t, _, _ in members],
                kinds=[k for _, k, _ in members],
                rollover=[r for _, _, r in members],
                grace_ms=grace_ms,
                tag_keys=[t.key for t, _, _ in members],
            )
            cp = self.checkpoints.load(contract) if self.checkpoints is not None else None
            mask = np.zeros(n, np.bool_)
            mask[spec.tag_array] = True
            engine = TumblingWindows(spec, n, start, checkpoint=cp)
            self.flows.append(_Flow(engine, rule, [t for t, _, _ in members], mask))
            if cp is not None:
                log.info("flow %s resumes after window %s", contract, cp.window_id)
        for f in self.flows:
            if isinstance(f.rule, ProductionRule):
                f.rule.before_finished = self._final_consumption
        cells: dict[str, list[TagInfo]] = {}
        for f in self.flows:
            for t in f.members:
                cells.setdefault(t.cell, []).append(t)
        self.changeovers = Changeovers(self.ctx, cells)
        self.changeovers.restore(self._inject)
        self.sessions = CounterSessions(self.ctx, [t for f in self.flows for t in f.members])
        self._mark_sessions(*self.sessions.restore())
        self.downtime = DowntimeRule(self.ctx) if self._enabled("downtime_started") else None
        self.quality = QualityRule(self.ctx) if self._enabled("quality_deviation") else None
        self.maintenance = MaintenanceRule(self.ctx) if self._enabled("maintenance_requested") else None
        self.is_state = self.index.mask("machine_state")
        self.is_pv = self.index.mask("process_value")
        self.is_alarm = self.index.mask("alarm")
        self.is_runtime = self.index.mask("runtime_hours")
        self.last_value = np.full(n, np.nan)
        self.last_ts = np.full(n, -1, np.int64)
        self._closed: list[WindowResult] = []
        self._missing_logged: set[int] = set()
        self.samples = 0

    def _enabled(self, contract: str) -> bool:
        return self.plant.flow(contract).enabled

    # -- input -----------------------------------------------------------------------------------------

    def ingest(self, chunk: Chunk) -> None:
        """Take a chunk of samples: numbers to windows and detectors, text to the timeline."""
        if len(chunk) == 0:
            return
        tag, ts, value = chunk.tag, chunk.ts, chunk.value
        self.samples += len(chunk)
        if chunk.birth is not None:
            self._mark_sessions(*self.sessions.on_samples(tag, ts, value, chunk.birth))
        text = self.index.is_text[tag]
        changes: list[tuple[str, int, str | None]] = []
        if text.any():
            for i in np.flatnonzero(text).tolist():
                info = self.index.tags[int(tag[i])]
                if self.timeline.add(info, int(ts[i]), chunk.raw[i]) and self.changeovers.watches(info.key):
                    changes.append((info.key, int(ts[i]), self.timeline.at(info, int(ts[i]))))
        missing = ~text & np.isnan(value)
        numeric = ~text & ~missing
        if missing.any():
            self._count_missing(tag[missing], chunk, np.flatnonzero(missing))
        if not numeric.all():
            tag, ts, value = tag[numeric], ts[numeric], value[numeric]
        if tag.shape[0] == 0:
            self._changeovers(changes)
            return
        newer = ts >= self.last_ts[tag]
        self.last_value[tag[newer]] = value[newer]
        self.last_ts[tag[newer]] = ts[newer]
        for flow in self.flows:
            sel = flow.is_member[tag]
            if sel.any():
                flow.engine.ingest(tag[sel], ts[sel], value[sel])
        self.changeovers.on_samples(tag, ts, value)
        self._changeovers(changes)
        for mask, handler in (
            (self.is_state, self.downtime.on_samples if self.downtime else None),
            (self.is_pv, self.quality.on_samples if self.quality else None),
            (self.is_alarm, self.maintenance.on_alarm_samples if self.maintenance else None),
            (self.is_runtime, self.maintenance.on_runtime_samples if self.maintenance else None),
        ):
            if handler is None:
                continue
            sel = mask[tag]
            if sel.any():
                handler(tag[sel], ts[sel], value[sel])

    def _changeovers(self, changes: list[tuple[str, int, str | None]]) -> None:
        for key, t, value in changes:
            self.changeovers.on_change(key, t, value, self._last_at)

    def _last_at(self, tags: list[int], t_ms: int) -> dict[int, tuple[int, float]]:
        found: dict[int, tuple[int, float]] = {}
        for flow in self.flows:
            found.update(flow.engine.last_at_or_before(tags, t_ms))
        return found

    def _mark_sessions(self, tags: I64, ts: I64, values: F64) -> None:
        """Session marks (first samples after a device's death and birth) to the engines."""
        if tags.shape[0]:
            for flow in self.flows:
                flow.engine.mark_sessions(tags, ts, values)

    def on_death(self, tags: np.ndarray[tuple[int], np.dtype[np.int32]], node: str, ts_ms: int) -> int:
        """A DDEATH, or an NDEATH (`tags`: its stale metrics' plant tags, -1 for others; `node`: the edge
        node's group/id). The counters' next birth values open a new session: a decrease across it is
        a reset (the PLC restarted or the source went away), never a rollover."""
        return self.sessions.on_death(tags, node, ts_ms)

    def on_node_birth(self, node: str, bdseq: int | None, ts_ms: int) -> None:
        """An NBIRTH: with an unchanged bdSeq a rebirth, whose device deaths (at its time) are none."""
        self.sessions.on_node_birth(node, bdseq, ts_ms)

    def _final_consumption(self, cell: str, order: str, t_ms: int) -> None:
        """Before an order's goods_finished: its consumption up to the change, from the open window of
        the material flow (longer than production's, so it has not closed yet); same transaction,
        same ordering key (`order:<ref>`), queued ahead of the completion."""
        for flow in self.flows:
            if isinstance(flow.rule, MaterialRule) and cell in flow.rule.cells:
                steps, counters = flow.engine.counter_steps_until(t_ms)
                flow.rule.final_at(cell, order, t_ms, flow.engine.open_start_ms, counters, steps)

    def _inject(self, tag: int, ts: int, value: float) -> None:
        """A noted counter sample back to the engines whose open window it belongs to (at start)."""
        for flow in self.flows:
            if flow.is_member[tag] and ts >= flow.engine.open_start_ms:
                flow.engine.ingest(np.array([tag]), np.array([ts]), np.array([value]))

    def _count_missing(
        self,
        tags: np.ndarray[tuple[int], np.dtype[np.int32]],
        chunk: Chunk,
        pos: np.ndarray[tuple[int], np.dtype[np.intp]],
    ) -> None:
        """Null, NaN or text values of numeric tags: skipped by every rule, counted, logged once per tag."""
        self.metrics.bad_values.inc(int(tags.shape[0]), reason="null_or_nan")
        for idx in np.unique(tags).tolist():
            if idx in self._missing_logged:
                continue
            self._missing_logged.add(idx)
            first = next(chunk.raw[i] for i in pos.tolist() if int(chunk.tag[i]) == idx)
            log.warning(
                "tag %s: value %r is not a number; skipped (counted, logged once per tag)",
                self.index.tags[idx].key,
                first,
            )

    def set_erp_order(self, cell: str, order: str | None, ts_ms: int) -> bool:
        """The order Odoo has in progress on a cell's work center (None: none any more). Used only by
        cells without an order tag; False when the cell has one (its PLC knows better)."""
        if self.index.cell_tag(cell, "order") is not None:
            return False
        key = f"{ERP_ORDER}{cell}"
        if not self.timeline.add(key, ts_ms, order):
            return False
        if self.changeovers.watches(key):
            self._changeovers([(key, ts_ms, self.timeline.at(key, ts_ms))])
        return True

    # -- time ------------------------------------------------------------------------------------------

    def tick(self, now_ms: int) -> int:
        """Close the windows that are due and run their rules; confirm debounced excursions."""
        closed = 0
        for flow in self.flows:
            for r in flow.engine.close_due(now_ms):
                t0 = time.perf_counter()
                counters: dict[int, tuple[float, float]] = {}
                for i, member in enumerate(r.counter_members.tolist()):
                    counters[int(r.tags[member])] = (float(r.counter_delta[i]), float(r.counter_total[i]))
                    if r.counter_resets[i]:
                        self.metrics.counter_resets.inc(
                            float(r.counter_resets[i]), tag=self.index.tags[int(r.tags[member])].key
                        )
                    if r.counter_rollovers[i]:
                        self.metrics.counter_rollovers.inc(
                            float(r.counter_rollovers[i]), tag=self.index.tags[int(r.tags[member])].key
                        )
                flow.rule.on_window(r, counters, r.counter_steps())
                self.metrics.windows_closed.inc(flow=r.flow)
                if r.late_since_last_close:
                    self.metrics.late_samples.inc(r.late_since_last_close, flow=r.flow)
                self.metrics.window_close_s.observe(time.perf_counter() - t0, flow=r.flow)
                self._closed.append(r)
                closed += 1
        if closed and self.flows:
            self.changeovers.prune(min(f.engine.open_start_ms for f in self.flows))
            self.sessions.prune({m for f in self.flows for m in f.engine.session_marks()})
        if self.quality is not None:
            self.quality.tick(now_ms)
        return closed

    @property
    def pending_events(self) -> int:
        return len(self.ctx.out)

    # -- durability ------------------------------------------------------------------------------------

    def commit(self, enqueue: Enqueue) -> list[OutboundEvent]:
        """Events to the outbox, then rule state, then window checkpoints (in that order, always)."""
        events = self.ctx.take()
        closed, self._closed = self._closed, []
        if not events and not self.state.dirty and not closed:
            return []
        t0 = time.perf_counter()
        try:
            if events:
                enqueue(events)
            self.state.save()
            if closed and self.checkpoints is not None:
                for flow in self.flows:
                    if any(r.flow == flow.engine.spec.name for r in closed):
                        self.checkpoints.save(flow.engine.checkpoint())
        except BaseException:
            # Nothing is acknowledged: keep the events for the next try (the outbox drops repeats).
            self.ctx.out[:0] = events
            self._closed[:0] = closed
            raise
        self.metrics.commit_s.observe(time.perf_counter() - t0)
        return events

    def close(self) -> None:
        self.state.close()
        if self.checkpoints is not None:
            self.checkpoints.close()
