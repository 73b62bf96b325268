"""Stock moves of manufacturing orders, lots/serial numbers and scrap orders (Odoo 18 stock + mrp)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..errors import UserError, ValidationError
from ..fields import (
    Boolean,
    Char,
    Datetime,
    Float,
    Html,
    Many2many,
    Many2one,
    One2many,
    Selection,
    now_string,
)
from ..orm import Model, api_multi
from .mail import ActivityMixin, MailThread
from .stock_quant import location, on_hand, sync_move_line, update_quant

MOVE_STATES = [
    ("draft", "New"),
    ("waiting", "Waiting Another Move"),
    ("confirmed", "Waiting Availability"),
    ("partially_available", "Partially Available"),
    ("assigned", "Available"),
    ("done", "Done"),
    ("cancel", "Cancelled"),
]


#: id of stock.stock_warn_insufficient_qty_scrap_form_view in the sandbox (a view record Odoo would have)
INSUFFICIENT_SCRAP_VIEW_ID = 659


class StockMove(Model):
    _name = "stock.move"
    _description = "Stock Move"
    _order = "sequence, id"
    name = Char("Description", required=True)
    sequence = Char("Sequence")
    origin = Char("Source Document")
    reference = Char("Reference", compute="_compute_reference", store=False)
    product_id = Many2one("product.product", "Product", required=True)
    product_uom_qty = Float("Demand", default=0.0, required=True)
    product_uom = Many2one("uom.uom", "UoM", required=True)
    product_qty = Float("Real Quantity", related="product_uom_qty")
    quantity = Float("Quantity", default=0.0, since=17)
    quantity_done = Float("Quantity Done", default=0.0, until=17)
    picked = Boolean("Picked", default=False, since=17)
    state = Selection(MOVE_STATES, "Status", default="draft", readonly=True)
    date = Datetime("Date Scheduled", default=lambda rec: now_string())
    raw_material_production_id = Many2one("mrp.production", "Production Order for components")
    production_id = Many2one("mrp.production", "Production Order for finished products")
    bom_line_id = Many2one("mrp.bom.line", "BoM Line")
    workorder_id = Many2one("mrp.workorder", "Work Order To Consume")
    manual_consumption = Boolean("Manual Consumption", default=False)
    additional = Boolean("Whether the move was added after the production order was confirmed", default=False)
    scrapped = Boolean("Scrapped", default=False)
    scrap_id = Many2one("stock.scrap", "Scrap operation")
    lot_ids = Many2many("stock.lot", "Serial Numbers")
    company_id = Many2one("res.company", "Company")
    location_id = Many2one("stock.location", "Source Location")
    location_dest_id = Many2one("stock.location", "Destination Location")
    move_line_ids = One2many("stock.move.line", "move_id", "Operations")

    def _compute_reference(self) -> Any:
        return self.name

    def _prepare_create(self, vals: dict[str, Any]) -> dict[str, Any]:
        if self.env.context.get("force_manual_consumption"):  # mrp stock_move.create
            vals["manual_consumption"] = True
        self._from_production(vals)
        if vals.get("product_id") and not vals.get("product_uom"):
            vals["product_uom"] = self.env["product.product"].sudo().browse(vals["product_id"]).uom_id.id
        stock, production = "stock.stock_location_stock", "stock.location_production"
        if vals.get("raw_material_production_id"):
            source, dest = stock, production
        elif vals.get("scrapped"):
            source, dest = stock, "stock.stock_location_scrapped"
        else:
            source, dest = production, stock
        vals.setdefault("location_id", location(self.env, source).id)
        vals.setdefault("location_dest_id", location(self.env, dest).id)
        return vals

    def _from_production(self, vals: dict[str, Any]) -> None:
        """mrp stock_move.create: a move of an order takes its name, origin and locations from the order;
        a component added while the order is in progress with a quantity producing comes picked."""
        mo_id = vals.get("raw_material_production_id") or vals.get("production_id")
        if not mo_id or vals.get("scrapped"):
            return
        mo = self.env["mrp.production"].sudo().browse(mo_id)
        vals["name"] = mo.name
        vals["origin"] = mo.origin or mo.name
        if vals.get("raw_material_production_id"):
            vals["location_dest_id"] = mo.production_location_id.id
            vals.setdefault("location_id", mo.location_src_id.id)
            if mo.state in ("progress", "to_close") and mo.qty_producing > 0:
                vals["picked"] = True
        else:
            vals["location_id"] = mo.production_location_id.id
            vals.setdefault("location_dest_id", mo.location_dest_id.id)

    def _post_create(self, vals: dict[str, Any]) -> None:
        if self.state == "done":
            self._apply_done()
        if self.quantity:
            sync_move_line(self)

    def _reserve(self) -> None:
        """_action_assign: consumables fully, storable products up to what is on hand."""
        for move in self:
            if move.state in ("done", "cancel", "draft"):
                continue
            demand = move.product_uom_qty
            available = (
                demand if not move.product_id._storable() else max(min(demand, on_hand(move.product_id)), 0)
            )
            state = (
                "assigned"
                if available >= demand - 1e-9
                else "partially_available"
                if available
                else "confirmed"
            )
            Model.write(move, {"quantity": available, "state": state})
            sync_move_line(move)

    def _apply_done(self) -> None:
        lot = self.lot_ids.browse(self.lot_ids.ids[:1]) or None
        update_quant(self.product_id, self.location_id, -self.quantity, lot)
        update_quant(self.product_id, self.location_dest_id, self.quantity, lot)

    def write(self, vals: dict[str, Any]) -> bool:
        if self.env.context.get("force_manual_consumption"):  # mrp stock_move.write: the user's own figure
            vals = {**vals, "manual_consumption": True}
        self._check_access("write")
        self._check_field_names(vals)
        # stock_move.py write: a cancelled move is final; a done one takes a corrected quantity
        if "quantity" in vals and any(move.state == "cancel" for move in self):
            raise UserError("You cannot change a cancelled stock move, create a new line instead.")
        if "product_uom" in vals and any(move.state == "done" for move in self):
            raise UserError("You cannot change the UoM for a stock move that has been set to 'Done'.")
        was_done = {m.id: m.quantity for m in self if m.state == "done"}
        result = super().write(vals)
        for move in self:
            if move.id in was_done and move.state == "done" and move.quantity != was_done[move.id]:
                delta = move.quantity - was_done[move.id]
                lot = move.lot_ids.browse(move.lot_ids.ids[:1]) or None
                update_quant(move.product_id, move.location_id, -delta, lot)
                update_quant(move.product_id, move.location_dest_id, delta, lot)
        if "quantity" in vals:
            for move in self:
                if move.state in ("assigned", "partially_available", "confirmed"):
                    full = move.quantity >= move.product_uom_qty - 1e-9
                    state = (
                        "assigned" if full else "partially_available" if move.quantity > 0 else "confirmed"
                    )
                    Model.write(move, {"state": state})
        for move in self:
            if move.state == "done" and move.id not in was_done:
                move._apply_done()
            if {"quantity", "picked", "state", "lot_ids"} & set(vals):
                sync_move_line(move)
        if {"quantity", "picked", "state", "quantity_done"} & set(vals):
            self.mapped("raw_material_production_id")._recompute_state()
        return bool(result)

    write._rpc = "multi"  # type: ignore[attr-defined]


class StockLot(ActivityMixin):
    _name = "stock.lot"
    _description = "Lot/Serial"
    _order = "name, id"
    name = Char("Lot/Serial Number", required=True)
    ref = Char("Internal Reference")
    product_id = Many2one("product.product", "Product", required=True)
    product_uom_id = Many2one("uom.uom", "Unit of Measure", related="product_id.uom_id")
    company_id = Many2one("res.company", "Company")
    note = Html("Description")
    expiration_date = Datetime("Expiration Date")

    def _check_constraints(self) -> None:
        """stock_lot.py _check_unique_lot: one name per product within a company (or across no-company)."""
        lots = self.sudo().search([("product_id", "=", self.product_id.id), ("name", "=", self.name)])
        counts = Counter(lot.company_id.id for lot in lots)
        no_company = counts.get(False, 0)
        dup = any(count > 1 for count in counts.values()) or (no_company and len(lots) > no_company)
        if dup:
            raise ValidationError(
                "The combination of lot/serial number and product must be unique within a company "
                "including when no company is defined.\nThe following combinations contain duplicates:\n"
                f" - Product: {self.product_id.sudo().display_name}, Lot/Serial Number: {self.name}"
            )


class StockScrap(MailThread):
    _name = "stock.scrap"
    _description = "Scrap"
    _order = "id desc"
    name = Char("Reference", default="New", required=True, readonly=True)
    origin = Char("Source Document")
    product_id = Many2one("product.product", "Product", required=True)
    product_uom_id = Many2one("uom.uom", "Unit of Measure", required=True)
    tracking = Selection(
        [("serial", "By Unique Serial Number"), ("lot", "By Lots"), ("none", "By Quantity")],
        "Product Tracking",
        related="product_id.tracking",
    )
    lot_id = Many2one("stock.lot", "Lot/Serial")
    scrap_qty = Float("Quantity", default=1.0, required=True)
    state = Selection([("draft", "Draft"), ("done", "Done")], "Status", default="draft", readonly=True)
    date_done = Datetime("Date")
    production_id = Many2one("mrp.production", "Manufacturing Order")
    workorder_id = Many2one("mrp.workorder", "Work Order")
    move_ids = Many2many("stock.move", "Scrap Moves")
    company_id = Many2one("res.company", "Company", default=lambda rec: rec.env.user.sudo().company_id.id)
    scrap_reason_tag_ids = Many2many("stock.scrap.reason.tag", "Scrap Reason")
    should_replenish = Boolean("Replenish Quantities", default=False)
    location_id = Many2one(
        "stock.location",
        "Source Location",
        default=lambda rec: location(rec.env, "stock.stock_location_stock").id,
    )
    scrap_location_id = Many2one(
        "stock.location",
        "Scrap Location",
        default=lambda rec: location(rec.env, "stock.stock_location_scrapped").id,
    )

    def _prepare_create(self, vals: dict[str, Any]) -> dict[str, Any]:
        if vals.get("product_id") and not vals.get("product_uom_id"):
            vals["product_uom_id"] = self.env["product.product"].sudo().browse(vals["product_id"]).uom_id.id
        return vals

    @api_multi
    def action_validate(self) -> Any:
        """action_validate: refuse zero, then do_scrap (no stock kept: quantity is always available)."""
        self.ensure_one()
        if abs(self.scrap_qty) < 1e-9:
            raise UserError("You can only enter positive quantities.")
        available = on_hand(self.product_id, self.location_id)
        if not self.product_id._storable() or available >= self.scrap_qty - 1e-9:
            return self.do_scrap()
        ctx = dict(self.env.context)
        ctx.update(
            {
                "default_product_id": self.product_id.id,
                "default_location_id": self.location_id.id,
                "default_scrap_id": self.id,
                "default_quantity": self.scrap_qty,
                "default_product_uom_name": self.product_id.uom_id.name,
            }
        )
        return {
            "name": f"{self.product_id.display_name}: Insufficient Quantity To Scrap",
            "view_mode": "form",
            "res_model": "stock.warn.insufficient.qty.scrap",
            "view_id": INSUFFICIENT_SCRAP_VIEW_ID,
            "type": "ir.actions.act_window",
            "context": ctx,
            "target": "new",
        }

    @api_multi
    def do_scrap(self) -> bool:
        for scrap in self:
            if scrap.state == "done":
                continue
            name = f"SP/{self.env.registry.next_by_code('stock.scrap'):05d}"
            if scrap.tracking in ("lot", "serial") and not scrap.lot_id:
                raise UserError(
                    f"You need to supply a Lot/Serial Number for product:\n- {scrap.product_id.display_name}"
                )
            links: dict[str, Any] = {}
            if scrap.production_id:
                finished = scrap.production_id.move_finished_ids.mapped("product_id").ids
                key = "production_id" if scrap.product_id.id in finished else "raw_material_production_id"
                links[key] = scrap.production_id.id
            move = self.env["stock.move"].create(
                {
                    **links,
                    "name": name,
                    "origin": scrap.origin or scrap.production_id.name or name,
                    "product_id": scrap.product_id.id,
                    "product_uom_qty": scrap.scrap_qty,
                    "product_uom": scrap.product_uom_id.id,
                    "quantity": scrap.scrap_qty,
                    "picked": True,
                    "state": "done",
                    "scrapped": True,
                    "scrap_id": scrap.id,
                    "lot_ids": [(6, 0, scrap.lot_id.ids)],
                }
            )
            scrap.write(
                {"name": name, "state": "done", "date_done": now_string(), "move_ids": [(4, move.id)]}
            )
        return True


class StockScrapReasonTag(Model):
    _name = "stock.scrap.reason.tag"
    _description = "Scrap Reason Tag"
    _order = "sequence, id"
    name = Char("Name", required=True)
    sequence = Char("Sequence")
