"""Which order each cell without an order tag is running, as Odoo says: in-progress orders by work center."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from bridge.ingest import TagIndex
from uns_model.erp import WorkOrderClosed, WorkOrderReleased, WorkOrderUpdated


@dataclass(frozen=True, slots=True)
class ErpOrder:
    """A cell's current order changed in Odoo (None: no order in progress any more)."""

    cell: str
    order: str | None
    ts_ms: int


class ErpOrderFollower:
    """Turns the Odoo reader's order messages into ErpOrder items for the cells whose PLC has no
    order tag. An order in progress (status 1) is current on every such cell of its work centers;
    when it leaves progress or closes, those cells have none. The cell's work order itself is not
    looked at: an order with several operations is current on all their cells at once."""

    def __init__(self, index: TagIndex) -> None:
        self._cells: dict[str, list[str]] = {}
        for place, _line, cell in index.plant.iter_cells():
            if cell.workcenter and index.cell_tag(place.path, "order") is None:
                self._cells.setdefault(cell.workcenter, []).append(place.path)
        self._current: dict[str, str] = {}

    @property
    def needed(self) -> bool:
        return bool(self._cells)

    def follow(self, changes: Iterable[object]) -> list[ErpOrder]:
        now = time.time_ns() // 1_000_000
        out: list[ErpOrder] = []
        for change in changes:
            if isinstance(change, WorkOrderReleased | WorkOrderUpdated):
                ref = change.external_work_order_id
                cells = [c for wc in change.workcenters for c in self._cells.get(wc, [])]
                if change.status == 1:
                    for cell in cells:
                        if self._current.get(cell) != ref:
                            self._current[cell] = ref
                            out.append(ErpOrder(cell, ref, now))
                else:
                    out.extend(self._clear(ref, now))
            elif isinstance(change, WorkOrderClosed):
                out.extend(self._clear(change.external_work_order_id, now))
        return out

    def _clear(self, ref: str, now: int) -> list[ErpOrder]:
        done = [cell for cell, current in self._current.items() if current == ref]
        for cell in done:
            del self._current[cell]
        return [ErpOrder(cell, None, now) for cell in done]
