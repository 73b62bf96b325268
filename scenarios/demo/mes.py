"""A tiny MES: reads the released orders the bridge retains under `_erp/orders` and dispatches each to a
cell (or a batch line) of the simulated plant, as an MES or an operator does; Odoo never commands machines."""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from uns_model.plant import PlantModel

log = logging.getLogger(__name__)
_BACKORDER = re.compile(r"^(.+)-\d{3}$")


@dataclass(frozen=True, slots=True)
class Dispatch:
    """Run order `ref` for `qty` units on `target` (a cell name, or a batch line name)."""

    ref: str
    qty: float
    target: str


def targets(plant: PlantModel) -> tuple[dict[str, str], set[str]]:
    """Work center code -> cell name for cells that can show an order (an `order` tag), and the
    names of batch lines (lines with a `lot` tag), which take orders as a whole."""
    cells: dict[str, str] = {}
    batch_lines: set[str] = set()
    for _place, line, cell in plant.iter_cells():
        roles = {t.role for t in cell.tags}
        if "lot" in roles:
            batch_lines.add(line.name)
        if cell.workcenter and "order" in roles:
            cells[cell.workcenter] = cell.name
    return cells, batch_lines


def dispatch_of(
    payload: dict[str, Any], line: str, cells: dict[str, str], batch_lines: set[str]
) -> Dispatch | None:
    """Where a released order runs: its batch line, or the cell of its last work center."""
    if payload.get("contract") not in ("work_order_released", "work_order_updated"):
        return None
    if payload.get("status") == 2 or payload.get("odoo_state") in ("done", "cancel"):
        return None
    ref, qty = str(payload["external_work_order_id"]), float(payload["quantity"])
    if line in batch_lines:
        return Dispatch(ref, qty, line)
    for code in reversed(payload.get("workcenters") or []):
        if code in cells:
            return Dispatch(ref, qty, cells[code])
    return None


def backorder_of(ref: str) -> str | None:
    """The order a backorder was split from ('WH/MO/00001-002' -> 'WH/MO/00001'), None for an order."""
    m = _BACKORDER.match(ref)
    return m.group(1) if m else None


class Mes:
    """Subscribes to every line's `_erp/orders/#`; each new order becomes one Dispatch in `queue`."""

    def __init__(
        self, plant: PlantModel, host: str, port: int, user: str | None, password: str | None
    ) -> None:
        self.cells, self.batch_lines = targets(plant)
        self.queue: queue.Queue[Dispatch] = queue.Queue()
        self.seen: set[str] = set()
        self._lock = threading.Lock()
        prefix = f"{plant.enterprise}/{plant.site}"
        self.topic = f"{prefix}/+/+/_erp/orders/#"
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"uns-demo-mes-{plant.site}")
        if user:
            self.client.username_pw_set(user, password)
        self.born: set[str] = set()
        # Births tell the MES the edge gateways are reading the PLCs: the shift starts after them.
        self.client.on_connect = lambda c, *_: c.subscribe([(self.topic, 1), ("spBv1.0/+/DBIRTH/#", 0)])
        self.client.on_message = self._on_message
        self.client.connect_async(host, port)
        self.client.loop_start()

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.topic.startswith("spBv1.0/"):
            with self._lock:
                self.born.add(msg.topic.split("/", 3)[3])
            return
        if not msg.payload:
            return
        try:
            payload = json.loads(msg.payload)
        except ValueError:
            log.warning("MES: %s is not JSON; ignored", msg.topic)
            return
        line = msg.topic.split("/_erp/", 1)[0].rsplit("/", 1)[-1]
        d = dispatch_of(payload, line, self.cells, self.batch_lines)
        if d is None:
            return
        with self._lock:
            if d.ref in self.seen:
                return
            self.seen.add(d.ref)
            base = backorder_of(d.ref)
            if base is not None and base in self.seen:
                # Odoo split an order the line already works through (a lot booked before its last):
                # the backorder is the same work, not more of it.
                log.info("MES: %s is a backorder of %s, already dispatched; not run again", d.ref, base)
                return
        log.info("MES: order %s (%g) to %s", d.ref, d.qty, d.target)
        self.queue.put(d)

    def drain(self) -> list[Dispatch]:
        """Every dispatch received so far, in the order it came."""
        out: list[Dispatch] = []
        while True:
            try:
                out.append(self.queue.get_nowait())
            except queue.Empty:
                return out

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
