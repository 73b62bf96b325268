"""The demo's Odoo: the sandbox (or a real Odoo), the plant's master data by `uns odoo bootstrap`, and
the shift's manufacturing orders, confirmed, so that the bridge publishes them and the MES runs them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from odoo_sync.bootstrap import bootstrap
from odoo_sync.client import OdooClient
from odoo_sync.lookup import many2one_id
from odoo_sync.transport import OdooSettings
from uns_model.plant import PlantModel

BRIDGE_LOGIN = "uns-bridge"
BRIDGE_GROUPS = ["mrp.group_mrp_user", "maintenance.group_equipment_manager"]
DEMO_ORIGIN = "uns demo"


@dataclass(slots=True)
class OdooTarget:
    """Where the demo's Odoo is: the bridge's least-privilege login and a planner login (admin)."""

    bridge: OdooSettings
    planner: OdooSettings
    sandbox: Any = None  # scenarios.odoo_sandbox.SandboxServer when the demo runs its own

    def stop(self) -> None:
        if self.sandbox is not None:
            self.sandbox.stop()


def start_sandbox(db_path: Path, version: str = "18.0") -> OdooTarget:
    from scenarios.odoo_sandbox import SandboxServer

    server = SandboxServer(port=0, db_path=db_path, version=version).start()
    uid = server.add_user(BRIDGE_LOGIN, "UNS Bridge", BRIDGE_GROUPS)
    key = server.add_api_key(uid, BRIDGE_LOGIN)
    bridge = OdooSettings(url=server.url, db=server.db_name, user=BRIDGE_LOGIN, key=SecretStr(key))
    admin_key = server.add_api_key(2, "admin") if server.major >= 19 else "admin"
    planner = OdooSettings(url=server.url, db=server.db_name, user="admin", key=SecretStr(admin_key))
    return OdooTarget(bridge, planner, server)


@dataclass(slots=True)
class PlannedOrder:
    ref: str
    odoo_id: int
    product: str
    quantity: float
    workcenters: list[str]


@dataclass(slots=True)
class Plan:
    orders: list[PlannedOrder] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def _cell_bom(client: OdooClient, product_id: int, workcenter_id: int, code: str, parts: list[int]) -> int:
    """A one-operation routing on one work center: the order's count is that cell's count."""
    tmpl = many2one_id(client.read_one("product.product", product_id, ["product_tmpl_id"])["product_tmpl_id"])
    bom_code = f"uns-demo-{code}"
    found = client.search("mrp.bom", [("product_tmpl_id", "=", tmpl), ("code", "=", bom_code)], limit=1)
    if found:
        return found[0]
    return client.create(
        "mrp.bom",
        {
            "product_tmpl_id": tmpl,
            "product_qty": 1.0,
            "code": bom_code,
            "type": "normal",
            "consumption": "flexible",
            "bom_line_ids": [(0, 0, {"product_id": p, "product_qty": 1.0}) for p in parts],
            "operation_ids": [
                (0, 0, {"name": code, "workcenter_id": workcenter_id, "time_cycle_manual": 1.0})
            ],
        },
    )


def _order(client: OdooClient, product_id: int, bom_id: int, qty: float) -> tuple[int, str]:
    mo = client.create(
        "mrp.production",
        {"product_id": product_id, "product_qty": qty, "bom_id": bom_id, "origin": DEMO_ORIGIN},
    )
    client.call("mrp.production", "action_confirm", [mo])
    return mo, str(client.read_one("mrp.production", mo, ["name"])["name"])


def plan_shift(target: OdooTarget, plant: PlantModel, quantities: list[float]) -> Plan:
    """Bootstrap the plant's master data, then the shift's orders.

    Batch lines (cells with a `lot` tag) get the bootstrap's line BoM (one operation per cell) and
    lot-tracked finished goods; each order in `quantities` runs on the line. Discrete cells that can
    show an order (an `order` tag) each get a one-operation BoM on their work center and one order per
    entry of `quantities`, finished products taken in turn. Cells without an order tag get none: the
    bridge could not book their parts on an order.
    """
    client = OdooClient.connect(target.planner)
    plan = Plan()
    try:
        batch = any(t.role == "lot" for _p, _l, c in plant.iter_cells() for t in c.tags)
        boot = bootstrap(
            client, plant, tracking="lot" if batch else "none", bridge_login=target.bridge.user, demo_orders=0
        )
        plan.lines += boot.lines
        finished = [p.code for p in plant.products if p.kind == "finished"]
        k = 0
        for _place, _line, cell in plant.iter_cells():
            roles = {t.role for t in cell.tags}
            if "lot" in roles or "order" not in roles or not cell.workcenter or "good_count" not in roles:
                continue
            product = finished[k % len(finished)]
            k += 1
            parts = [boot.products[t.component] for t in cell.tags if t.role == "consumption" and t.component]
            bom = _cell_bom(
                client, boot.products[product], boot.workcenters[cell.workcenter], cell.workcenter, parts
            )
            for qty in quantities:
                mo, name = _order(client, boot.products[product], bom, qty)
                plan.orders.append(PlannedOrder(name, mo, product, qty, [cell.workcenter]))
        if batch:
            # The example batch plant has one line and one finished product, on the bootstrap's line BoM.
            product = finished[0]
            centres = [c.workcenter for _p, _l, c in plant.iter_cells() if c.workcenter]
            for qty in quantities:
                mo, name = _order(client, boot.products[product], boot.boms[product], qty)
                plan.orders.append(PlannedOrder(name, mo, product, qty, centres))
        for o in plan.orders:
            plan.lines.append(f"order   {o.ref} {o.quantity:g} {o.product} on {', '.join(o.workcenters)}")
    finally:
        client.close()
    return plan
