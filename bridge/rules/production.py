"""production_reported and goods_finished: good/scrap counter windows booked on the cell's order and lot."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bridge.ingest import TagInfo
from bridge.rules.base import RuleContext, Source
from bridge.rules.segments import F64, I64, KEEP, Run, Segments
from bridge.windows.flow import TagKind, WindowResult
from uns_model.events import GoodsFinishedV2, ProductionReported
from uns_model.tags import CounterTag

CONTRACT = "production_reported"
BeforeFinished = Callable[[str, str, int], None]
_NONE: tuple[I64, F64] = (np.empty(0, np.int64), np.empty(0, np.float64))


@dataclass(frozen=True, slots=True)
class _Cell:
    path: str
    workcenter: str
    good: TagInfo | None
    scrap: TagInfo | None
    order: Source
    lot: TagInfo | None


class ProductionRule:
    """At each window close: per cell and order, the good and scrap counted for it so far, cumulative.

    Counts belong to the order current when they were made (see `Segments`), so a window in which
    the order changes reports both orders. An event goes out per order that counted something in the
    close. When the order ends (or the lot, on cells that have a lot tag), the finished one becomes a
    goods_finished event with its good quantity, dated at the change, after its last production report.
    """

    def __init__(self, ctx: RuleContext, *, goods_finished: bool = True) -> None:
        self.ctx = ctx
        self.goods_finished = goods_finished
        self.before_finished: BeforeFinished | None = None
        """Called with (cell, order, change time) right before a goods_finished is made: the pipeline
        reports the order's consumption up to the change there, ahead of the completion."""
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

    def on_window(
        self,
        r: WindowResult,
        counters: dict[int, tuple[float, float]],
        steps: dict[int, tuple[I64, F64]],
    ) -> None:
        """`counters`: tag index -> (delta in the window, running total after it); `steps`: tag index ->
        (times, quantities) of its increments in this close, which are booked by their own times."""
        ctx = self.ctx
        for c in self.cells:
            mine: dict[str, tuple[I64, F64]] = {}
            totals: dict[str, tuple[float, float]] = {}
            for name, tag in (("good", c.good), ("scrap", c.scrap)):
                if tag is None or tag.idx not in counters:
                    continue
                totals[name] = counters[tag.idx]
                mine[name] = steps.get(tag.idx, _NONE)
            if not totals:
                continue
            orders = Segments(ctx.state, f"seg:{CONTRACT}:order:{c.path}", ctx.timeline, c.order)
            runs = orders.advance(r.end_ms, mine, totals)
            if runs is None:
                continue  # this window was applied before a restart; its events are in the outbox
            finishes: list[tuple[str | None, str | None, float, int]] = []
            for run in runs:
                if run.moved:
                    self._report(c, r, run)
                if run.late and run.moved and run.value is not None:
                    ctx.log_once(c.path, "late_after_end", f"counts for {run.value} came after it ended")
                if self.goods_finished and c.lot is None and run.completion and run.ended_ms is not None:
                    self._finished(c, run.value, None, run.completion.get("good", 0.0), run.ended_ms)
            if self.goods_finished and c.lot is not None and "good" in mine:
                lots = Segments(ctx.state, f"seg:goods_finished:lot:{c.path}", ctx.timeline, c.lot)
                lot_runs = lots.advance(r.end_ms, {"good": mine["good"]}, {"good": totals["good"]})
                for run in lot_runs or []:
                    if run.completion is not None and run.ended_ms is not None:
                        order = ctx.timeline.at(c.order, run.ended_ms - 1)
                        finishes.append((order, run.value, run.completion.get("good", 0.0), run.ended_ms))
            for order, lot, good, at in finishes:
                self._finished(c, order, lot, good, at)

    def _report(self, c: _Cell, r: WindowResult, run: Run) -> None:
        ctx = self.ctx
        if run.value is None or run.total is None:
            ctx.metrics.events_unattributed.inc(rule=CONTRACT)
            ctx.log_once(c.path, "no_order", "counted parts while no order is known; not reported")
            return
        unit = c.good.ref.tag.unit if c.good is not None else None
        ctx.emit(
            ProductionReported,
            r.end_ms,
            c.path,
            place=c.path,
            workcenter=c.workcenter,
            external_work_order_id=run.value,
            good_quantity=round(run.total.get("good", 0.0), 9),
            scrap_quantity=round(run.total.get("scrap", 0.0), 9),
            unit=unit,
            window_start_unix_ms=r.start_ms,
            window_end_unix_ms=r.end_ms,
        )

    def _finished(self, c: _Cell, order: str | None, lot: str | None, good: float, at: int) -> None:
        """One completion: the order's (or lot's) good quantity since its previous end, at the change."""
        good = round(good, 9)
        if good <= 0:
            return
        if order is None:
            self.ctx.metrics.events_unattributed.inc(rule="goods_finished")
            self.ctx.log_once(c.path, "no_order_finished", f"lot {lot} finished without a known order")
            return
        if self.before_finished is not None:
            self.before_finished(c.path, order, at)
        # The order's finished total on this cell makes a second equal completion a new fact (v2 id).
        key = f"fin:goods_finished:{c.path}"
        done: dict[str, float] = dict(self.ctx.state.get(key) or {})
        total = round(done.pop(order, 0.0) + good, 9)
        done[order] = total
        while len(done) > KEEP:
            del done[next(iter(done))]
        self.ctx.state.set(key, done)
        unit = c.good.ref.tag.unit if c.good is not None else None
        self.ctx.emit(
            GoodsFinishedV2,
            at,
            c.path,
            place=c.path,
            workcenter=c.workcenter,
            external_work_order_id=order,
            quantity=good,
            unit=unit,
            lot=lot,
            finished_unix_ms=max(0, at),
            finished_total=total,
        )
