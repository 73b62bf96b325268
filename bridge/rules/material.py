"""material_consumed: component totalizer windows booked on the cell's order, cumulative per component."""

from __future__ import annotations

import numpy as np

from bridge.ingest import TagInfo
from bridge.rules.base import RuleContext
from bridge.rules.segments import F64, I64, KEEP, Segments
from bridge.windows.flow import TagKind, WindowResult
from uns_model.events import MaterialConsumed
from uns_model.tags import ConsumptionTag

CONTRACT = "material_consumed"
FINAL = f"fin:{CONTRACT}:"  # rule state: per cell, the orders reported at their change, with the quantities
SAME = 1e-6  # a total equal to the one reported at the change up to float rounding is that report


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
        for cell, tags in self.cells.items():
            mine, totals = self._mine(tags, counters, steps)
            if not mine:
                continue
            orders = Segments(ctx.state, f"seg:{CONTRACT}:order:{cell}", ctx.timeline, ctx.order_tag(cell))
            runs = orders.advance(r.end_ms, mine, totals)
            finals: dict[str, dict[str, object]] = dict(ctx.state.get(f"{FINAL}{cell}") or {})
            for run in runs or []:
                if not run.moved:
                    continue
                if run.value is None or run.total is None:
                    ctx.metrics.events_unattributed.inc(rule=CONTRACT)
                    ctx.log_once(cell, "no_order_material", "consumed material while no order is known")
                    continue
                final = finals.get(run.value)
                reported: dict[str, float] = final["q"] if final else {}  # type: ignore[assignment]
                for tag in tags:
                    if run.quantity.get(tag.key, 0.0) == 0:
                        continue
                    total = run.total.get(tag.key, 0.0)
                    if tag.key in reported and abs(reported[tag.key] - total) <= SAME:
                        continue  # reported at the order's change with these very samples (same event)
                    self._emit(tag, cell, run.value, total, r.start_ms, r.end_ms)
            done = [o for o, f in finals.items() if int(f["t"]) < r.end_ms]  # type: ignore[call-overload]
            if done:
                for o in done:
                    del finals[o]
                ctx.state.set(f"{FINAL}{cell}", finals)

    def final_at(
        self,
        cell: str,
        order: str,
        t_ms: int,
        window_start_ms: int,
        counters: dict[int, tuple[float, float]],
        steps: dict[int, tuple[I64, F64]],
    ) -> int:
        """At an order's change (before its goods_finished): its cumulative consumption up to t_ms, from
        the open window's samples stamped at or before t_ms. Odoo refuses consumption on a done order,
        so it must be in the outbox before the completion. The quantity is what this window's close
        will book for the order (same samples), so the close's report is the same event and is not
        made again. Returns how many reports were made."""
        tags = self.cells.get(cell)
        if not tags:
            return 0
        mine, totals = self._mine(tags, counters, steps)
        if not mine:
            return 0
        ctx = self.ctx
        orders = Segments(ctx.state, f"seg:{CONTRACT}:order:{cell}", ctx.timeline, ctx.order_tag(cell))
        runs = orders.peek(t_ms + 1, mine, totals)
        if not runs:
            return 0  # the window holding the change is closed: its reports are in the outbox already
        moved: dict[str, float] = {}
        total: dict[str, float] = {}
        for run in runs:
            if run.value == order and run.total is not None:
                for k, q in run.quantity.items():
                    moved[k] = moved.get(k, 0.0) + q
                total = run.total
        made = 0
        reported: dict[str, float] = {}
        for tag in tags:
            if moved.get(tag.key, 0.0) == 0:
                continue  # nothing since its last report: that report is its final one
            reported[tag.key] = total.get(tag.key, 0.0)
            self._emit(tag, cell, order, reported[tag.key], min(window_start_ms, t_ms), t_ms)
            made += 1
        if reported:
            finals = dict(ctx.state.get(f"{FINAL}{cell}") or {})
            finals.pop(order, None)
            finals[order] = {"t": t_ms, "q": reported}
            while len(finals) > KEEP:
                del finals[next(iter(finals))]
            ctx.state.set(f"{FINAL}{cell}", finals)
        return made

    @staticmethod
    def _mine(
        tags: list[TagInfo], counters: dict[int, tuple[float, float]], steps: dict[int, tuple[I64, F64]]
    ) -> tuple[dict[str, tuple[I64, F64]], dict[str, tuple[float, float]]]:
        empty: tuple[I64, F64] = (np.empty(0, np.int64), np.empty(0, np.float64))
        mine = {t.key: steps.get(t.idx, empty) for t in tags if t.idx in counters}
        totals = {t.key: counters[t.idx] for t in tags if t.idx in counters}
        return mine, totals

    def _emit(self, tag: TagInfo, cell: str, order: str, total: float, start_ms: int, end_ms: int) -> None:
        spec = tag.ref.tag
        assert isinstance(spec, ConsumptionTag)
        self.ctx.emit(
            MaterialConsumed,
            end_ms,
            tag.key,
            place=cell,
            workcenter=tag.ref.workcenter or "",
            external_work_order_id=order,
            component=spec.component,
            quantity=max(0.0, round(total, 9)),
            unit=spec.unit,
            window_start_unix_ms=start_ms,
            window_end_unix_ms=end_ms,
        )
