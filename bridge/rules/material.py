"""material_consumed: component totalizer windows booked on the cell's order, cumulative per component."""

from __future__ import annotations

import numpy as np

from bridge.ingest import TagInfo
from bridge.rules.base import RuleContext
from bridge.rules.segments import F64, I64, Segments
from bridge.windows.flow import TagKind, WindowResult
from uns_model.events import MaterialConsumed
from uns_model.tags import ConsumptionTag

CONTRACT = "material_consumed"


class MaterialRule:
    """At each window close: per cell, order and component, the quantity consumed for that order so far."""

    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx
        self.cells: dict[str, list[TagInfo]] = {}
        for tag in ctx.index.of_role("consumption"):
            if tag.ref.workcenter is not None:
                self.cells.setdefault(tag.cell, []).append(tag)

    def members(self) -> list[tuple[TagInfo, TagKind, float | None]]:
        out: list[tuple[TagInfo, TagKind, float | None]] = []
        for tags in self.cells.values():
            for t in tags:
                assert isinstance(t.ref.tag, ConsumptionTag)
                out.append((t, TagKind.COUNTER, t.ref.tag.rollover))
        return out

    def on_window(
        self,
        r: WindowResult,
        counters: dict[int, tuple[float, float]],
        steps: dict[int, tuple[I64, F64]],
    ) -> None:
        """Quantities are booked on the order current when each totalizer sample was taken."""
        ctx = self.ctx
        empty: tuple[I64, F64] = (np.empty(0, np.int64), np.empty(0, np.float64))
        for cell, tags in self.cells.items():
            mine = {t.key: steps.get(t.idx, empty) for t in tags if t.idx in counters}
            if not mine:
                continue
            totals = {t.key: counters[t.idx] for t in tags if t.idx in counters}
            orders = Segments(ctx.state, f"seg:{CONTRACT}:order:{cell}", ctx.timeline, ctx.order_tag(cell))
            runs = orders.advance(r.end_ms, mine, totals)
            for run in runs or []:
                if not run.moved:
                    continue
                if run.value is None or run.total is None:
                    ctx.metrics.events_unattributed.inc(rule=CONTRACT)
                    ctx.log_once(cell, "no_order_material", "consumed material while no order is known")
                    continue
                for tag in tags:
                    if run.quantity.get(tag.key, 0.0) == 0:
                        continue
                    spec = tag.ref.tag
                    assert isinstance(spec, ConsumptionTag)
                    ctx.emit(
                        MaterialConsumed,
                        r.end_ms,
                        tag.key,
                        place=cell,
                        workcenter=tag.ref.workcenter or "",
                        external_work_order_id=run.value,
                        component=spec.component,
                        quantity=max(0.0, round(run.total.get(tag.key, 0.0), 9)),
                        unit=spec.unit,
                        window_start_unix_ms=r.start_ms,
                        window_end_unix_ms=r.end_ms,
                    )
