"""OdooReader: polls orders and quality holds (write_date cursor with overlap) into ERP-to-plant contracts."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from odoo_sync.client import OdooClient
from odoo_sync.errors import OdooError
from odoo_sync.lookup import many2one_id, root_name
from odoo_sync.reader_holds import HoldReader
from uns_model.erp import ErpToPlant, ProductRef, WorkOrderClosed, WorkOrderReleased, WorkOrderUpdated
from uns_model.plant import PlantModel
from uns_model.topics import Place

log = logging.getLogger(__name__)

ODOO_FMT = "%Y-%m-%d %H:%M:%S"
ACTIVE_STATES = ("confirmed", "progress", "to_close")
CLOSED = {"done": "done", "cancel": "cancelled"}
MO_READ = ("name", "state", "product_id", "product_qty", "qty_producing", "qty_produced", "product_uom_id")


@dataclass(frozen=True, slots=True)
class Retire:
    """Clear a retained order or hold topic (empty retained payload): the record is gone from there."""

    kind: Literal["orders", "holds"]
    line: str
    ref: str
    reason: str


Change = ErpToPlant | Retire


@dataclass(frozen=True, slots=True)
class RetainedRef:
    """An order or hold topic the broker holds retained now (from an earlier run of the bridge)."""

    kind: Literal["orders", "holds"]
    line: str
    ref: str


def parse_odoo_time(text: str | bool | None) -> datetime | None:
    if not text or not isinstance(text, str):
        return None
    return datetime.strptime(text[:19], ODOO_FMT).replace(tzinfo=UTC)


def unix_ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None


def workcenter_lines(plant: PlantModel) -> dict[str, Place]:
    """Work center code -> the line its cell belongs to."""
    return {
        cell.workcenter: place.up_to("line") for place, _line, cell in plant.iter_cells() if cell.workcenter
    }


class OdooReader:
    """Reads released, changed and closed manufacturing orders and quality holds of one plant.

    `poll()` returns the changes since the last poll: WorkOrderReleased / WorkOrderUpdated /
    WorkOrderClosed, QualityHoldRaised / QualityHoldReleased, and Retire for topics to clear (a
    closed order, a released hold, the old name of an order Odoo renamed when it split it). The first
    poll lists every open order and hold. Later polls ask for records written since the cursor minus
    `overlap_s` (Odoo's write_date has whole seconds and a transaction commits after it stamps them),
    and skip the (id, write_date) pairs already seen. An order belongs to the lines of its work
    orders' work centers (found in the plant model); orders elsewhere go to `default_line`, or are
    skipped when it is None. Information only: nothing here commands a machine.
    """

    def __init__(
        self,
        client: OdooClient,
        plant: PlantModel,
        *,
        overlap_s: float = 10.0,
        default_line: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.plant = plant
        self.overlap = timedelta(seconds=overlap_s)
        self.default_line = Place.parse(default_line) if default_line else None
        self._clock = clock
        self._lines = workcenter_lines(plant)
        self._cursor: datetime | None = None
        self._started = False
        # mrp.production id -> (its write_date, its work orders' write_dates) already handled
        self._seen: dict[int, tuple[Any, ...]] = {}
        self._published: dict[int, tuple[str, tuple[str, ...]]] = {}  # id -> (name, lines)
        self._wc_codes: dict[int, str | None] = {}
        self._products: dict[int, tuple[str | None, str | None]] = {}
        self._retired_roots: set[str] = set()
        self.holds = HoldReader(client, self._lines)
        self._wake = threading.Event()
        self.counters: dict[str, int] = {"polls": 0, "errors": 0, "unplaced": 0}

    # --- polling -----------------------------------------------------------------------------------

    def poll(self) -> list[Change]:
        first = not self._started
        since = self._since()
        if first:
            orders = self.client.search_read(
                "mrp.production", [("state", "in", list(ACTIVE_STATES))], ["write_date"], order="id"
            )
            ids = [int(o["id"]) for o in orders]
            self._advance(orders)
        else:
            ids = self._changed_order_ids(since)
        changes = self._orders(ids)
        changes.extend(self.holds.poll(since))
        self._advance(self.holds.last_rows)
        if first:
            # Start from now (the first poll listed everything open); later, Odoo's own write_dates
            # move the cursor, so a clock of ours that runs ahead of Odoo's loses nothing but the
            # first poll's window, which the overlap covers for clocks in step within overlap_s.
            now = self._clock()
            self._cursor = max(self._cursor, now) if self._cursor else now
        self._started = True
        self.counters["polls"] += 1
        return changes

    def _advance(self, rows: Sequence[dict[str, Any]]) -> None:
        for row in rows:
            moment = parse_odoo_time(row.get("write_date"))
            if moment and (self._cursor is None or moment > self._cursor):
                self._cursor = moment

    def _since(self) -> str | None:
        if self._cursor is None or not self._started:
            return None
        return (self._cursor - self.overlap).strftime(ODOO_FMT)

    def _changed_order_ids(self, since: str | None) -> list[int]:
        rows = self.client.search_read("mrp.production", [("write_date", ">=", since)], ["write_date"])
        self._advance(rows)
        # Everything written in the window is read again: write_date has whole seconds, so a second
        # change in the same second keeps the same write_date; the content fingerprint tells them apart.
        ids = {int(r["id"]) for r in rows}
        # Starting or finishing a work order does not always touch its order's write_date.
        wos = self.client.search_read(
            "mrp.workorder", [("write_date", ">=", since)], ["production_id", "write_date"]
        )
        self._advance(wos)
        ids.update(i for w in wos if (i := many2one_id(w["production_id"])))
        return sorted(ids)

    def _orders(self, ids: Sequence[int]) -> list[Change]:
        if not ids:
            return []
        fields = [*MO_READ, "write_date", "workorder_ids", "backorder_sequence", "date_finished"]
        fields += [self.client.dialect.mo_date_start, self.client.dialect.mo_date_finished]
        rows = self.client.read("mrp.production", ids, sorted(set(fields)))
        wo_ids = [w for r in rows for w in r["workorder_ids"]]
        workorders = {
            int(w["id"]): w
            for w in self.client.read(
                "mrp.workorder", wo_ids, ["workcenter_id", "state", "date_start", "write_date"]
            )
        }
        self._learn_workcenters(workorders.values())
        self._learn_products({many2one_id(r["product_id"]) for r in rows} - set(self._products) - {None})
        changes: list[Change] = []
        for row in rows:
            mine = [workorders[w] for w in row["workorder_ids"] if w in workorders]
            fingerprint = (
                *(str(row.get(f)) for f in sorted(row)),
                *((w["id"], w["state"], str(w["write_date"])) for w in mine),
            )
            if self._seen.get(int(row["id"])) == fingerprint:
                continue  # seen in an earlier poll's overlap window
            changes.extend(self._order_changes(row, mine))
            self._seen[int(row["id"])] = fingerprint
        return changes

    def _learn_products(self, ids: set[int | None]) -> None:
        if ids:
            for p in self.client.read(
                "product.product", sorted(i for i in ids if i), ["default_code", "name"]
            ):
                self._products[int(p["id"])] = (p["default_code"] or None, p["name"] or None)

    def _learn_workcenters(self, workorders: Any) -> None:
        missing = {many2one_id(w["workcenter_id"]) for w in workorders} - set(self._wc_codes) - {None}
        if missing:
            for wc in self.client.read("mrp.workcenter", sorted(i for i in missing if i), ["code"]):
                self._wc_codes[int(wc["id"])] = wc["code"] or None

    def _order_changes(self, row: dict[str, Any], workorders: list[dict[str, Any]]) -> list[Change]:
        mo_id, name, state = int(row["id"]), str(row["name"]), str(row["state"])
        codes = [c for w in workorders if (c := self._wc_codes.get(many2one_id(w["workcenter_id"]) or 0))]
        lines = tuple(dict.fromkeys(self._lines[c].path for c in codes if c in self._lines))
        if not lines and self.default_line is not None:
            lines = (self.default_line.path,)
        before = self._published.get(mo_id)
        changes: list[Change] = []
        # A split renames the order: the topics under its old name (and its root name) are cleared.
        if before and before[0] != name:
            changes.extend(Retire("orders", ln, before[0], f"renamed {name}") for ln in before[1])
        root = root_name(name)
        if root != name and lines and root not in self._retired_roots:
            changes.extend(Retire("orders", ln, root, f"split into {name}") for ln in lines)
            self._retired_roots.add(root)
        if not lines:
            self.counters["unplaced"] += 1
            log.debug("odoo reader: %s has no work center of this plant; not published", name)
            return changes
        if state in CLOSED:
            closed = parse_odoo_time(row.get("date_finished")) or parse_odoo_time(row["write_date"])
            for ln in lines:
                changes.append(
                    WorkOrderClosed(
                        place=ln,
                        external_work_order_id=name,
                        odoo_id=mo_id,
                        reason="done" if state == "done" else "cancelled",
                        quantity_produced=float(row["qty_produced"]),
                        closed_unix_ms=unix_ms(closed) or 0,
                    )
                )
            self._published.pop(mo_id, None)
            return changes
        if state not in ACTIVE_STATES:
            return changes
        cls = WorkOrderUpdated if before else WorkOrderReleased
        for ln in lines:
            changes.append(cls(place=ln, **self._order_body(row, workorders, codes)))
        self._published[mo_id] = (name, lines)
        return changes

    def _order_body(
        self, row: dict[str, Any], workorders: list[dict[str, Any]], codes: list[str]
    ) -> dict[str, Any]:
        product_id = many2one_id(row["product_id"]) or 0
        code, label = self._products.get(product_id, (None, None))
        dialect = self.client.dialect
        state = str(row["state"])
        started = state == "progress" or any(w["state"] == "progress" for w in workorders)
        return {
            "external_work_order_id": row["name"],
            "odoo_id": int(row["id"]),
            "product": ProductRef(external_product_id=code or str(product_id), name=label),
            "quantity": float(row["product_qty"]),
            "quantity_produced": float(row["qty_producing"] or row["qty_produced"] or 0.0),
            "uom": (row["product_uom_id"] or [0, "Units"])[1],
            "status": 1 if started else 0,
            "odoo_state": state,
            "start_time_unix_ms": unix_ms(parse_odoo_time(row.get(dialect.mo_date_start))),
            "end_time_unix_ms": unix_ms(parse_odoo_time(row.get(dialect.mo_date_finished))),
            "workcenters": list(dict.fromkeys(codes)),
            "updated_unix_ms": unix_ms(parse_odoo_time(row["write_date"])) or 0,
        }

    def reconcile(self, retained: Iterable[RetainedRef]) -> list[Retire]:
        """Retire every retained order or hold topic that is not active in Odoo any more.

        After a restart the reader does not know what an earlier run published: an order closed (or a
        hold released) while the bridge was down would stay retained for ever. Called after the first
        poll, which listed every active order and hold: a retained ref it did not publish on that line
        is cleared. `retained` comes from the broker (the bridge reads its retained _erp topics)."""
        if not self._started:
            raise RuntimeError("reconcile after the first poll: it knows what is active")
        orders = {(ln, name) for name, lines in self._published.values() for ln in lines}
        holds = set(self.holds.published.values())
        out: list[Retire] = []
        for item in dict.fromkeys(retained):
            active = orders if item.kind == "orders" else holds
            if (Place.parse(item.line).up_to("line").path, item.ref) not in active:
                out.append(Retire(item.kind, item.line, item.ref, "not active in Odoo"))
        self.counters["reconciled"] = self.counters.get("reconciled", 0) + len(out)
        return out

    # --- running -----------------------------------------------------------------------------------

    def wake(self) -> None:
        """Poll now (a webhook from Odoo said something changed)."""
        self._wake.set()

    def run(
        self,
        on_changes: Callable[[list[Change]], None],
        stop: threading.Event,
        interval_s: float = 2.0,
        max_backoff_s: float = 60.0,
        retained: Callable[[], Iterable[RetainedRef]] | None = None,
    ) -> None:
        """Poll until `stop` is set; errors are logged and counted, and the loop backs off and goes on.

        `retained`, when given, lists the order and hold topics retained on the broker; after the first
        poll the ones not active in Odoo are retired with it (reconcile), until that succeeds once."""
        pause = interval_s
        pending = retained
        while not stop.is_set():
            try:
                changes = self.poll()
                if pending is not None:
                    try:
                        changes.extend(self.reconcile(pending()))
                        pending = None
                    except Exception:  # the broker's side: try again at the next poll
                        self.counters["errors"] += 1
                        log.exception("odoo reader: could not list the retained order and hold topics")
                if changes:
                    on_changes(changes)
                pause = interval_s
            except OdooError as exc:
                self.counters["errors"] += 1
                pause = min(max_backoff_s, pause * 2)
                log.warning("odoo reader: poll failed (%s); next try in %.0f s", exc, pause)
            self._wake.wait(pause)
            self._wake.clear()
