"""`uns odoo bootstrap`: the plant model's master data in an empty Odoo, searched before created."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from odoo_sync.client import OdooClient
from odoo_sync.errors import OdooPermanentError
from odoo_sync.lookup import many2one_id
from uns_model.plant import Line, PlantModel
from uns_model.tags import ConsumptionTag

BOM_CODE = "uns-bootstrap"
DEMO_ORIGIN = "uns bootstrap demo"
Tracking = Literal["none", "lot", "serial"]


@dataclass(slots=True)
class BootstrapResult:
    """Ids by the plant's names, and one line per record created or found."""

    products: dict[str, int] = field(default_factory=dict)
    workcenters: dict[str, int] = field(default_factory=dict)
    equipment: dict[str, int] = field(default_factory=dict)
    boms: dict[str, int] = field(default_factory=dict)
    orders: dict[str, list[int]] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)


def _ensure(
    client: OdooClient,
    result: BootstrapResult,
    model: str,
    domain: list[Any],
    values: Callable[[], dict[str, Any]],
    label: str,
) -> int:
    found = client.search(model, domain, limit=1)
    if found:
        result.lines.append(f"found   {model:<24} {label} (id {found[0]})")
        return found[0]
    new_id = client.create(model, values())
    result.lines.append(f"created {model:<24} {label} (id {new_id})")
    return new_id


def _uom(client: OdooClient, name: str) -> int:
    found = client.search("uom.uom", [("name", "=", name)], limit=1)
    if not found:
        raise OdooPermanentError(f"find unit {name!r}", "", "no uom.uom with this name; use Odoo's name")
    return found[0]


def _partner_of(client: OdooClient, login: str) -> int:
    rows = client.search_read("res.users", [("login", "=", login)], ["partner_id"], limit=1)
    if not rows:
        raise OdooPermanentError(f"find user {login!r}", "", "no such login; create the bridge user first")
    return many2one_id(rows[0]["partner_id"]) or 0


def line_components(line: Line) -> list[str]:
    """Component codes a line reports consumption of, in file order."""
    codes: list[str] = []
    for cell in line.cells:
        for tag in cell.tags:
            if isinstance(tag, ConsumptionTag) and tag.component not in codes:
                codes.append(tag.component)
    return codes


def bootstrap(
    client: OdooClient,
    plant: PlantModel,
    *,
    tracking: Tracking = "none",
    tracking_of: dict[str, Tracking] | None = None,
    bom_components: dict[str, list[str]] | None = None,
    bridge_login: str | None = None,
    demo_orders: int = 1,
    demo_quantity: float = 10.0,
) -> BootstrapResult:
    """Create what the plant model names and Odoo lacks; running it again finds everything.

    The plant model has no BoMs: each finished product gets one on a line (in turn), with the
    components that line consumes (1 each, or every component product when the line reports none)
    and one operation per cell of the line on its work center (`bom_components` overrides the
    components of a product). Needs a user allowed to create
    products, BoMs, work centers and equipment (Manufacturing / Administrator, Maintenance, Inventory
    administrator), not the bridge's least-privilege user. `bridge_login` makes that user a follower of
    the equipment, without which Odoo's record rules hide the equipment from it.
    """
    result = BootstrapResult()
    follower = _partner_of(client, bridge_login) if bridge_login else None
    storable = client.dialect.storable_product()
    for product in plant.products:
        uom = _uom(client, product.uom)
        track = (tracking_of or {}).get(product.code) or (tracking if product.kind == "finished" else "none")
        result.products[product.code] = _ensure(
            client,
            result,
            "product.product",
            [("default_code", "=", product.code)],
            lambda p=product, u=uom, t=track: {  # type: ignore[misc]
                "name": p.name or p.code,
                "default_code": p.code,
                "uom_id": u,
                **({"uom_po_id": u} if client.dialect.major <= 18 else {}),
                "tracking": t,
                **storable,
            },
            product.code,
        )
    for _place, _line, cell in plant.iter_cells():
        if not cell.workcenter:
            continue
        code = cell.workcenter
        result.workcenters[code] = _ensure(
            client,
            result,
            "mrp.workcenter",
            [("code", "=", code)],
            lambda c=cell, k=code: {"name": c.description or k, "code": k},  # type: ignore[misc]
            code,
        )
        for eq in cell.equipment:
            result.equipment[eq.serial] = _ensure(
                client,
                result,
                "maintenance.equipment",
                [("serial_no", "=", eq.serial)],
                lambda e=eq, c=cell: {  # type: ignore[misc]
                    "name": f"{c.name} {e.name}",
                    "serial_no": e.serial,
                    "note": e.description or False,
                },
                eq.serial,
            )
            if follower:
                # A plain internal user only sees the equipment it follows (maintenance's record rule).
                client.call(
                    "maintenance.equipment",
                    "message_subscribe",
                    [result.equipment[eq.serial]],
                    {"partner_ids": [follower]},
                )
    lines = [line for _p, line in plant.iter_lines()]
    components = [p.code for p in plant.products if p.kind == "component"]
    finished = [p.code for p in plant.products if p.kind == "finished"]
    for index, code in enumerate(finished):
        line = lines[index % len(lines)]
        parts = (bom_components or {}).get(code) or line_components(line) or components
        _bom(client, result, code, line, parts)
        if demo_orders > 0:
            _demo_orders(client, result, code, demo_quantity, demo_orders)
    return result


def _bom(client: OdooClient, result: BootstrapResult, code: str, line: Line, components: list[str]) -> None:
    product_id = result.products[code]
    tmpl = many2one_id(client.read_one("product.product", product_id, ["product_tmpl_id"])["product_tmpl_id"])
    operations = [
        (
            0,
            0,
            {
                "name": cell.name,
                "workcenter_id": result.workcenters[cell.workcenter],
                "time_cycle_manual": 1.0,
            },
        )
        for cell in line.cells
        if cell.workcenter
    ]
    lines = [(0, 0, {"product_id": result.products[c], "product_qty": 1.0}) for c in components]
    result.boms[code] = _ensure(
        client,
        result,
        "mrp.bom",
        [("product_tmpl_id", "=", tmpl), ("code", "=", BOM_CODE)],
        lambda: {
            "product_tmpl_id": tmpl,
            "product_qty": 1.0,
            "code": BOM_CODE,
            "type": "normal",
            "consumption": "warning",
            "bom_line_ids": lines,
            "operation_ids": operations,
        },
        f"{code} on line {line.name}",
    )


def _demo_orders(
    client: OdooClient, result: BootstrapResult, code: str, quantity: float, wanted: int
) -> None:
    product_id = result.products[code]
    existing = client.search(
        "mrp.production",
        [("origin", "=", DEMO_ORIGIN), ("product_id", "=", product_id), ("state", "!=", "cancel")],
    )
    result.orders[code] = list(existing)
    if existing:
        result.lines.append(f"found   {'mrp.production':<24} {len(existing)} demo order(s) of {code}")
    for _ in range(wanted - len(existing)):
        mo = client.create(
            "mrp.production",
            {
                "product_id": product_id,
                "product_qty": quantity,
                "bom_id": result.boms[code],
                "origin": DEMO_ORIGIN,
            },
        )
        client.call("mrp.production", "action_confirm", [mo])
        name = client.read_one("mrp.production", mo, ["name"])["name"]
        result.orders[code].append(mo)
        result.lines.append(f"created {'mrp.production':<24} {name} ({quantity:g} {code}, confirmed)")
