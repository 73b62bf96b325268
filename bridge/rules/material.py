"""material_consumed: component totalizer windows booked on the cell's order, cumulative per component."""

from __future__ import annotations

from bridge.ingest import TagInfo
from bridge.rules.base import RuleContext
from bridge.rules.segments import Segments
from bridge.windows.flow import TagKind, WindowResult
from uns_model.events import MaterialConsumed
from uns_model.tags import ConsumptionTag

CONTRACT = "material_consumed"


class MaterialRule:
    """At each window close: per cell and component, the quantity consumed for the current order so far."""

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

    def on_window(self, r: WindowResult, counters: dict[int, tuple[float, float]]) -> None:
        ctx = self.ctx
        end = r.end_ms
        for cell, tags in self.cells.items():
            before: dict[str, float] = {}
            after: dict[str, float] = {}
            moved: list[TagInfo] = []
            for tag in tags:
                if tag.idx not in counters:
                    continue
                delta, total = counters[tag.idx]
                before[tag.key], after[tag.key] = total - delta, total
                if delta != 0:
                    moved.append(tag)
            if not after:
                continue
            order = ctx.timeline.at(ctx.order_tag(cell), end - 1)
            adv = Segments(ctx.state, f"seg:{CONTRACT}:order:{cell}").advance(order, end, before, after)
            if not moved:
                continue
            if adv.current is None or adv.quantity is None:
                ctx.metrics.events_unattributed.inc(rule=CONTRACT)
                ctx.log_once(cell, "no_order_material", "consumed material while no order is known")
                continue
            for tag in moved:
                spec = tag.ref.tag
                assert isinstance(spec, ConsumptionTag)
                qty = max(0.0, round(adv.quantity.get(tag.key, 0.0), 9))
                workcenter = tag.ref.workcenter or ""
                ctx.emit(
                    MaterialConsumed,
                    end,
                    tag.key,
                    place=cell,
                    workcenter=workcenter,
                    external_work_order_id=adv.current,
                    component=spec.component,
                    quantity=qty,
                    unit=spec.unit,
                    window_start_unix_ms=r.start_ms,
                    window_end_unix_ms=end,
                )
