"""quality_deviation: a process value outside its spec limits for longer than its debounce time."""

from __future__ import annotations

import numpy as np

from bridge.ingest import TagInfo
from bridge.rules.base import RuleContext
from bridge.windows.buffers import F64, I32, I64
from bridge.windows.onchange import LimitCrossing, LimitMonitor
from uns_model.events import QualityDeviation
from uns_model.tags import ProcessValueTag


class QualityRule:
    """Debounced limit crossings (vectorized in LimitMonitor); each confirmed excursion is one event,
    identified by where and when it began, with the most extreme value seen and the lot and order
    current at its start. The monitor's per-tag state survives restarts (rule state)."""

    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx
        n = ctx.index.n
        self.tags: dict[int, TagInfo] = {}
        low = np.full(n, np.nan)
        high = np.full(n, np.nan)
        debounce = np.zeros(n, np.int64)
        for t in ctx.index.of_role("process_value"):
            spec = t.ref.tag
            assert isinstance(spec, ProcessValueTag)
            self.tags[t.idx] = t
            low[t.idx] = np.nan if spec.low is None else spec.low
            high[t.idx] = np.nan if spec.high is None else spec.high
            debounce[t.idx] = int(spec.debounce_s * 1000)
        # NaN limits never compare true, so a tag without a low (or high) limit never crosses it.
        self.monitor = LimitMonitor(n, low, high, debounce)
        self.peak = np.full(n, np.nan)
        m = self.monitor
        for idx, t in self.tags.items():
            saved = ctx.state.get(f"pv:{t.key}")
            if saved is not None:
                m.out_since[idx] = int(saved["out_since"])
                m.above[idx] = bool(saved["above"])
                m.confirmed[idx] = bool(saved["confirmed"])
                m.last_ts[idx] = int(saved["last_ts"])
                self.peak[idx] = np.nan if saved.get("peak") is None else float(saved["peak"])

    def on_samples(self, tag: I32, ts: I64, value: F64) -> None:
        if tag.shape[0] == 0:
            return
        m = self.monitor
        fresh = ts >= m.last_ts[tag]
        above = fresh & (value > m.high[tag])
        below = fresh & (value < m.low[tag])
        # The most extreme value of an excursion, for the event (the id does not depend on it).
        if above.any():
            np.fmax.at(self.peak, tag[above], value[above])
        if below.any():
            np.fmin.at(self.peak, tag[below], value[below])
        self._report(m.update(tag, ts, value))
        self._save(np.unique(tag).tolist())

    def tick(self, now_ms: int) -> None:
        crossings = self.monitor.tick(now_ms)
        self._report(crossings)
        self._save([c.tag_idx for c in crossings])

    def _report(self, crossings: list[LimitCrossing]) -> None:
        ctx = self.ctx
        for c in crossings:
            info = self.tags.get(c.tag_idx)
            if info is None:
                continue
            if c.end_ms is not None:
                self.peak[c.tag_idx] = np.nan
                continue
            spec = info.ref.tag
            assert isinstance(spec, ProcessValueTag)
            bound = spec.high if c.above else spec.low
            peak = float(self.peak[c.tag_idx])
            value = peak if np.isfinite(peak) else float(bound or 0.0)
            ctx.emit(
                QualityDeviation,
                c.start_ms,
                info.key,
                place=info.cell,
                workcenter=info.ref.workcenter,
                tag_path=info.ref.path,
                value=value,
                low=spec.low,
                high=spec.high,
                limit="high" if c.above else "low",
                unit=spec.unit,
                detected_unix_ms=c.start_ms,
                lot=ctx.timeline.at(ctx.lot_tag(info.cell), c.start_ms),
                external_work_order_id=ctx.timeline.at(ctx.order_tag(info.cell), c.start_ms),
            )

    def _save(self, idxs: list[int]) -> None:
        # Saved when an excursion starts, is confirmed or ends: not on every sample (last_ts only
        # filters stale samples, and a restart that forgot the newest one loses nothing).
        m = self.monitor
        for idx in idxs:
            info = self.tags.get(idx)
            if info is None:
                continue
            if m.out_since[idx] < 0:
                self.peak[idx] = np.nan
            key = f"pv:{info.key}"
            saved = self.ctx.state.get(key)
            now = (int(m.out_since[idx]), bool(m.above[idx]), bool(m.confirmed[idx]))
            if saved is not None and (saved["out_since"], saved["above"], saved["confirmed"]) == now:
                continue
            if saved is None and now == (-1, False, False):
                continue
            peak = float(self.peak[idx])
            self.ctx.state.set(
                key,
                {
                    "out_since": now[0],
                    "above": now[1],
                    "confirmed": now[2],
                    "last_ts": int(m.last_ts[idx]),
                    "peak": peak if np.isfinite(peak) else None,
                },
            )
