"""Locations, on-hand quantities (stock.quant) and move lines: just enough stock for reservation, consumption
and the scrap availability check."""

from __future__ import annotations

from typing import Any

from ..fields import Boolean, Char, Float, Many2one, Selection
from ..orm import Model

USAGES = [
    ("supplier", "Vendor"),
    ("view", "Virtual"),
    ("internal", "Internal"),
    ("customer", "Customer"),
    ("inventory", "Inventory Loss"),
    ("production", "Production"),
    ("transit", "Transit"),
]


class StockLocation(Model):
    _name = "stock.location"
    _description = "Inventory Locations"
    _order = "complete_name, id"
    _rec_name = "complete_name"
    name = Char("Location Name", required=True)
    complete_name = Char("Full Location Name")
    usage = Selection(USAGES, "Location Type", default="internal", required=True)
    scrap_location = Boolean("Is a Scrap Location?")
    active = Boolean("Active", default=True)


class StockQuant(Model):
    _name = "stock.quant"
    _description = "Quants"
    product_id = Many2one("product.product", "Product", required=True)
    location_id = Many2one("stock.location", "Location", required=True)
    lot_id = Many2one("stock.lot", "Lot/Serial Number")
    quantity = Float("Quantity", default=0.0)


class StockMoveLine(Model):
    _name = "stock.move.line"
    _description = "Product Moves (Stock Move Line)"
    _order = "id"
    _rec_name = "product_id"
    move_id = Many2one("stock.move", "Stock Operation")
    product_id = Many2one("product.product", "Product", required=True)
    quantity = Float("Quantity", default=0.0)
    picked = Boolean("Picked")
    lot_id = Many2one("stock.lot", "Lot/Serial Number")
    location_id = Many2one("stock.location", "From")
    location_dest_id = Many2one("stock.location", "To")
    state = Selection(
        [("draft", "New"), ("assigned", "Available"), ("done", "Done"), ("cancel", "Cancelled")],
        "Status",
        default="assigned",
    )


def location(env: Any, xmlid: str) -> Model:
    loc: Model = env.derive(su=True).ref(xmlid)
    return loc


def on_hand(product: Model, loc: Model | None = None) -> float:
    """Quantity of the product in internal locations (qty_available), or in one location."""
    quants = product.env["stock.quant"].sudo().search([("product_id", "=", product.id)])
    if loc is not None:
        return float(sum(q.quantity for q in quants if q.location_id.id == loc.id))
    return float(sum(q.quantity for q in quants if q.location_id.usage == "internal"))


def update_quant(product: Model, loc: Model, delta: float, lot: Model | None = None) -> None:
    if not loc or loc.usage != "internal" or not delta:
        return
    quants = product.env["stock.quant"].sudo()
    domain = [
        ("product_id", "=", product.id),
        ("location_id", "=", loc.id),
        ("lot_id", "=", lot.id if lot else False),
    ]
    quant = quants.search(domain, limit=1)
    if quant:
        quant.write({"quantity": quant.quantity + delta})
    else:
        quants.create(
            {
                "product_id": product.id,
                "location_id": loc.id,
                "lot_id": lot.id if lot else False,
                "quantity": delta,
            }
        )


def sync_move_line(move: Model) -> None:
    """One move line per move mirroring its quantity, lot and picked flag (Odoo splits per lot/package)."""
    lines = move.env["stock.move.line"].sudo().search([("move_id", "=", move.id)])
    lot = move.lot_ids.browse(move.lot_ids.ids[:1])
    if move.quantity <= 0 and move.state != "done":
        lines.unlink()
        return
    vals = {
        "quantity": move.quantity,
        "picked": move.picked,
        "lot_id": lot.id or False,
        "state": "done" if move.state == "done" else "cancel" if move.state == "cancel" else "assigned",
    }
    if lines:
        lines.write(vals)
    else:
        lines.create(
            {
                **vals,
                "move_id": move.id,
                "product_id": move.product_id.id,
                "location_id": move.location_id.id,
                "location_dest_id": move.location_dest_id.id,
            }
        )
