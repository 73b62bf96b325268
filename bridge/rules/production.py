"""production_reported and goods_finished: good/scrap counter windows booked on the cell's order and lot."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.ingest import TagInfo
from bridge.rules.base import RuleContext, Source
from bridge.rules.segments import Segments
from bridge.windows.flow import TagKind, WindowResult
from uns_model.events import GoodsFinished, ProductionReported
from uns_model.tags import CounterTag

CONTRACT = "production_reported"


@dataclass(frozen=True, slots=True)
class _Cell:
    path: str
    workcenter: str
    good: TagInfo | None
    scrap: TagInfo | None
    order: Source
    lot: TagInfo | None


class ProductionRule:
    """At each window close: per cell, the good and scrap counted for its current order, cumulative.

    An event goes out only for a window that counted something. When the order changes (or the
    lot, on cells that have a lot tag), the finished one becomes a goods_finished event with its
    good quantity.
    """

    def __init__(self, ctx: RuleContext, *, goods_finished: bool = True) -> None:
        self.ctx = ctx
        self.goods_finished = goods_finished
        cells: dict[str, _Cell] = {}
        for tag in ctx.index.tags:
            if tag.role not in ("good_count", "scrap_count") or tag.ref.workcenter is None:
                continue
            cell = tag.cell
            cells[cell] = _Cell(
                cell,
                tag.ref.workcenter,
                ctx.index.cell_tag(cell, "good_count"),
                ctx.index.cell_tag(cell, "scrap_count"),
                ctx.order_tag(cell),
                ctx.lot_tag(cell),
            )
        self.cells = list(cells.values())

    def members(self) -> list[tuple[TagInfo, TagKind, float | None]]:
        out: list[tuple[TagInfo, TagKind, float | None]] = []
        for c in self.cells:
            for t in (c.good, c.scrap):
                if t is not None and isinstance(t.ref.tag, CounterTag):
                    out.append((t, TagKind.COUNTER, float(t.ref.tag.rollover)))
        return out

    def on_window(self, r: WindowResult, counters: dict[int, tuple[float, float]]) -> None:
        """`counters`: tag index -> (delta in the window, running total after it)."""
        ctx = self.ctx
        end = r.end_ms
        for c in self.cells:
            before: dict[str, float] = {}
            after: dict[str, float] = {}
            moved = False
            for name, tag in (("good", c.good), ("scrap", c.scrap)):
                if tag is None or tag.idx not in counters:
                    continue
                delta, total = counters[tag.idx]
                before[name], after[name] = total - delta, total
                moved = moved or delta != 0
            if not after:
                continue
            order = ctx.timeline.at(c.order, end - 1)
            adv = Segments(ctx.state, f"seg:{CONTRACT}:order:{c.path}").advance(order, end, before, after)
            if self.goods_finished:
                if c.lot is not None and "good" in after:
                    lot = ctx.timeline.at(c.lot, end - 1)
                    lots = Segments(ctx.state, f"seg:goods_finished:lot:{c.path}")
                    ladv = lots.advance(lot, end, {"good": before["good"]}, {"good": after["good"]})
                    if ladv.finished is not None and ladv.finished_quantity is not None:
                        lot_order = ctx.timeline.at(c.order, r.start_ms - 1) or adv.finished or adv.current
                        self._finished(c, lot_order, ladv.finished, ladv.finished_quantity, r.start_ms)
                elif adv.finished is not None and adv.finished_quantity is not None:
                    self._finished(c, adv.finished, None, adv.finished_quantity, r.start_ms)
            if not moved:
                continue
            if adv.current is None or adv.quantity is None:
                ctx.metrics.events_unattributed.inc(rule=CONTRACT)
                ctx.log_once(c.path, "no_order", "counted parts while no order is known; not reported")
                continue
            qty = adv.quantity
            unit = c.good.ref.tag.unit if c.good is not None else None
            ctx.emit(
                ProductionReported,
                end,
                c.path,
                place=c.path,
                workcenter=c.workcenter,
                external_work_order_id=adv.current,
                good_quantity=round(qty.get("good", 0.0), 9),
                scrap_quantity=round(qty.get("scrap", 0.0), 9),
                unit=unit,
                window_start_unix_ms=r.start_ms,
                window_end_unix_ms=end,
            )

    def _finished(self, c: _Cell, order: str | None, lot: str | None, qty: dict[str, float], at: int) -> None:
        good = round(qty.get("good", 0.0), 9)
        if good <= 0:
            return
        if order is None:
            self.ctx.metrics.events_unattributed.inc(rule="goods_finished")
            self.ctx.log_once(c.path, "no_order_finished", f"lot {lot} finished without a known order")
            return
        unit = c.good.ref.tag.unit if c.good is not None else None
        self.ctx.emit(
            GoodsFinished,
            at,
            c.path,
            place=c.path,
            workcenter=c.workcenter,
            external_work_order_id=order,
            quantity=good,
            unit=unit,
            lot=lot,
            finished_unix_ms=at,
        )
