"""maintenance_requested: an alarm raised (rising edge), or runtime hours past each threshold interval."""

from __future__ import annotations

import math

import numpy as np

from bridge.ingest import TagInfo, last_per_tag
from bridge.rules.base import RuleContext
from bridge.windows.buffers import F64, I32, I64
from bridge.windows.onchange import AlarmDetector
from uns_model.events import MaintenanceRequested
from uns_model.tags import AlarmTag, RuntimeHoursTag


class MaintenanceRule:
    """Alarms: each rising edge is a request (an alarm never seen before counts as inactive, so one
    active at first sight is raised). Runtime hours: each new multiple of threshold_h is a request;
    the first value ever seen only sets the baseline (intervals already past were handled before the
    bridge existed). Last alarm value and last interval are rule state."""

    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx
        self.serials: dict[tuple[str, str], str] = {}
        for place, _line, cell in ctx.index.plant.iter_cells():
            for eq in cell.equipment:
                self.serials[(place.path, eq.name)] = eq.serial
        self.alarms = {t.idx: t for t in ctx.index.of_role("alarm")}
        self.runtime = {t.idx: t for t in ctx.index.of_role("runtime_hours")}
        self.detector = AlarmDetector(ctx.index.n)
        for idx, t in self.alarms.items():
            saved = ctx.state.get(f"alarm:{t.key}")
            self.detector.last_value[idx] = 0.0 if saved is None else float(saved["active"])
            if saved is not None:
                self.detector.last_ts[idx] = int(saved["ts"])
        self.raw_last = np.full(ctx.index.n, np.nan)
        self.threshold = np.full(ctx.index.n, np.inf)
        self.last_n = np.full(ctx.index.n, np.nan)
        for idx, t in self.runtime.items():
            spec = t.ref.tag
            assert isinstance(spec, RuntimeHoursTag)
            self.threshold[idx] = spec.threshold_h
            saved = ctx.state.get(f"runtime:{t.key}")
            if saved is not None:
                self.last_n[idx] = float(saved["n"])

    def on_alarm_samples(self, tag: I32, ts: I64, value: F64) -> None:
        if tag.shape[0] == 0:
            return
        uniq, last = last_per_tag(tag)
        self.raw_last[uniq] = value[last]
        for edge in self.detector.edges(tag, ts, value):
            info = self.alarms.get(edge.tag_idx)
            if info is None or not edge.rising:
                continue
            spec = info.ref.tag
            assert isinstance(spec, AlarmTag)
            raw = float(self.raw_last[edge.tag_idx])
            alarm_value: int | bool = True if spec.datatype == "Boolean" or math.isnan(raw) else int(raw)
            self._request(info, spec.equipment, spec.priority, edge.ts_ms, "alarm", alarm_value=alarm_value)
        for idx in uniq.tolist():
            info = self.alarms.get(idx)
            if info is None:
                continue
            key = f"alarm:{info.key}"
            active = float(self.detector.last_value[idx])
            saved = self.ctx.state.get(key)
            if saved is None or saved["active"] != active:
                self.ctx.state.set(key, {"active": active, "ts": int(self.detector.last_ts[idx])})

    def on_runtime_samples(self, tag: I32, ts: I64, value: F64) -> None:
        if tag.shape[0] == 0:
            return
        # Vectorized screen: only tags whose interval count moved go through the loop below.
        n = np.floor(value / self.threshold[tag])
        moved = np.isfinite(n) & (value >= 0) & (n != self.last_n[tag])
        if not moved.any():
            return
        sel = np.isin(tag, np.unique(tag[moved]))
        tag, ts, value, n = tag[sel], ts[sel], value[sel], n[sel]
        order = np.lexsort((ts, tag))
        for idx, t, v, k_now in zip(
            tag[order].tolist(), ts[order].tolist(), value[order].tolist(), n[order].tolist(), strict=True
        ):
            info = self.runtime.get(idx)
            if info is None or not math.isfinite(v) or v < 0:
                continue
            spec = info.ref.tag
            assert isinstance(spec, RuntimeHoursTag)
            key = f"runtime:{info.key}"
            saved = self.ctx.state.get(key)
            k = int(k_now)
            if saved is None:
                self.ctx.state.set(key, {"n": k, "ts": t})
                self.last_n[idx] = k
                continue
            last_n = int(saved["n"])
            if t < int(saved["ts"]) or k == last_n:
                continue
            for j in range(last_n + 1, k + 1):
                self._request(
                    info, spec.equipment, "normal", t, "runtime_threshold",
                    runtime_hours=v, threshold_h=spec.threshold_h, threshold_count=j,
                )  # fmt: skip
            # A runtime counter reset (new equipment) keeps the count: its intervals were requested.
            kept = max(k, last_n)
            self.ctx.state.set(key, {"n": kept, "ts": t})
            self.last_n[idx] = kept

    def _request(
        self,
        info: TagInfo,
        equipment: str,
        priority: str,
        at: int,
        trigger: str,
        **extra: float | int | bool,
    ) -> None:
        serial = self.serials.get((info.cell, equipment))
        if serial is None:
            self.ctx.log_once(info.key, "unknown_equipment", f"equipment {equipment!r} is not in the cell")
            return
        self.ctx.emit(
            MaintenanceRequested,
            at,
            info.key,
            place=info.cell,
            equipment=equipment,
            equipment_serial=serial,
            trigger=trigger,
            tag_path=info.ref.path,
            priority=priority,
            raised_unix_ms=at,
            **extra,
        )
