"""Manufacturing orders: BoM explosion, confirm, production state, mark done with backorders and consumption
checks (addons/mrp/models/mrp_production.py of Odoo 18)."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Any

from ..errors import UserError, ValidationError
from ..fields import (
    DATETIME_FORMAT,
    Boolean,
    Char,
    Datetime,
    Float,
    Integer,
    Many2many,
    Many2one,
    One2many,
    Selection,
    now_string,
    parse_datetime,
)
from ..orm import Model, api_multi
from .mail import ActivityMixin
from .mrp_bom import CONSUMPTION

SIZE_BACK_ORDER_NUMERING = 3
STATES = [
    ("draft", "Draft"),
    ("confirmed", "Confirmed"),
    ("progress", "In Progress"),
    ("to_close", "To Close"),
    ("done", "Done"),
    ("cancel", "Cancelled"),
]
EPS = 1e-6


def backorder_name(name: str, sequence: int) -> str:
    """_get_name_backorder: suffix -001, -002... replacing an existing numeric suffix after the first."""
    if not sequence:
        return name
    seq_back = "-" + "0" * (SIZE_BACK_ORDER_NUMERING - 1 - int(math.log10(sequence))) + str(sequence)
    if re.search(r"-\d+$", name) and sequence > 1:
        return re.sub(r"-\d+$", seq_back, name)
    return name + seq_back


def _loc(rec: Model, which: str) -> Any:
    xmlid = "stock.stock_location_stock" if which == "stock" else "stock.location_production"
    return rec.env.derive(su=True).ref(xmlid).id


def _lots(mo: Model) -> Model:
    lots: Model = mo.lot_producing_ids if "lot_producing_ids" in mo._fields else mo.lot_producing_id
    return lots


def is_manual_consumption(bom_line: Model) -> bool:
    """stock.move._determine_is_manual_consumption: the BoM line says so, or an operation consumes it."""
    return bool(bom_line) and bool(bom_line.manual_consumption or bom_line.operation_id)


class MrpProduction(ActivityMixin, Model):
    _name = "mrp.production"
    _description = "Manufacturing Order"
    _order = "priority desc, date_start asc,id"
    name = Char("Reference", default="New", copy=False)
    priority = Selection([("0", "Normal"), ("1", "Urgent")], "Priority", default="0")
    origin = Char("Source")
    product_id = Many2one("product.product", "Product", required=True)
    product_tmpl_id = Many2one("product.template", "Product Template", related="product_id.product_tmpl_id")
    product_tracking = Selection(
        [("serial", "By Unique Serial Number"), ("lot", "By Lots"), ("none", "By Quantity")],
        "Product Tracking",
        related="product_id.tracking",
    )
    product_qty = Float("Quantity To Produce", default=1.0, required=True)
    product_uom_qty = Float("Total Quantity", related="product_qty")
    product_uom_id = Many2one("uom.uom", "Product Unit of Measure", required=True)
    bom_id = Many2one("mrp.bom", "Bill of Material")
    consumption = Selection(CONSUMPTION, "Consumption", default="flexible", required=True)
    state = Selection(STATES, "State", default="draft", readonly=True)
    qty_producing = Float("Quantity Producing", default=0.0)
    qty_produced = Float("Quantity Produced", compute="_compute_qty_produced", store=False)
    date_start = Datetime("Start", default=lambda rec: now_string(), required=True)
    date_finished = Datetime("End")
    date_deadline = Datetime("Deadline")
    is_locked = Boolean("Is Locked", default=False)
    user_id = Many2one("res.users", "Responsible", default=lambda rec: rec.env.uid)
    company_id = Many2one("res.company", "Company", default=lambda rec: rec.env.user.sudo().company_id.id)
    lot_producing_id = Many2one("stock.lot", "Lot/Serial Number", until=19)
    lot_producing_ids = Many2many("stock.lot", "Lot/Serial Numbers", since=19)
    backorder_sequence = Integer("Backorder Sequence", default=0)
    procurement_group_id = Many2one("procurement.group", "Procurement Group")
    location_src_id = Many2one(
        "stock.location", "Components Location", default=lambda rec: _loc(rec, "stock")
    )
    location_dest_id = Many2one(
        "stock.location", "Finished Products Location", default=lambda rec: _loc(rec, "stock")
    )
    production_location_id = Many2one(
        "stock.location", "Production Location", default=lambda rec: _loc(rec, "production")
    )
    move_raw_ids = One2many(
        "stock.move", "raw_material_production_id", "Components", domain=[("scrapped", "=", False)]
    )
    move_finished_ids = One2many(
        "stock.move", "production_id", "Finished Products", domain=[("scrapped", "=", False)]
    )
    workorder_ids = One2many("mrp.workorder", "production_id", "Work Orders")
    scrap_ids = One2many("stock.scrap", "production_id", "Scraps")
    scrap_count = Integer("Scrap Move", compute="_compute_scrap_count", store=False)
    workcenter_id = Many2one("mrp.workcenter", "Work Center", compute="_compute_workcenter_id", store=False)
    reservation_state = Selection(
        [("confirmed", "Waiting"), ("assigned", "Ready"), ("waiting", "Waiting Another Operation")],
        "MO Readiness",
        compute="_compute_reservation_state",
        store=False,
    )
    activity_ids = One2many(
        "mail.activity", "res_id", "Activities", domain=[("res_model", "=", "mrp.production")]
    )

    # ---- computes --------------------------------------------------------------------------
    def _compute_qty_produced(self) -> float:
        done = self.move_finished_ids.filtered(
            lambda m: m.state == "done" and m.product_id.id == self.product_id.id
        )
        return float(sum(done.mapped("quantity")))

    def _compute_scrap_count(self) -> int:
        return len(self.scrap_ids)

    def _compute_workcenter_id(self) -> Any:
        return self.workorder_ids.browse(self.workorder_ids.ids[:1]).workcenter_id.id or False

    def _compute_reservation_state(self) -> Any:
        if self.state in ("draft", "done", "cancel"):
            return False
        states = [m.state for m in self.move_raw_ids if m.state not in ("done", "cancel")]
        if all(s == "assigned" for s in states):
            return "assigned"
        return "confirmed"

    def _check_constraints(self) -> None:
        if self.product_qty <= 0:  # SQL constraint qty_positive, reported as Odoo's retrying() does
            raise ValidationError(
                "The operation cannot be completed: The quantity to produce must be positive!"
            )

    def _pre_unlink(self) -> None:
        """_unlink_except_done, then cancel and drop the order's moves and work orders."""
        if any(mo.state == "done" for mo in self):
            raise UserError("Cannot delete a manufacturing order in done state.")
        self.action_cancel()
        for mo in self.sudo():
            (mo.move_raw_ids | mo.move_finished_ids).unlink()
            mo.workorder_ids.unlink()

    def _recompute_state(self) -> None:
        """_compute_state: the rules that move an order between confirmed, progress and to_close. A new
        state is written with write_date (models.py _write_multi); other changes of its moves or work
        orders leave the order's write_date alone, as the real Odoo 18 does."""
        for mo in self.sudo():
            if mo.state in ("draft", "cancel", "done"):
                continue
            wo_states = mo.workorder_ids.mapped("state")
            if (wo_states and all(s in ("done", "cancel") for s in wo_states)) or (
                not wo_states and mo.qty_producing >= mo.product_qty - EPS
            ):
                new = "to_close"
            elif (
                any(s in ("progress", "done") for s in wo_states)
                or abs(mo.qty_producing) > EPS
                or any(mo.move_raw_ids.mapped("picked"))
            ):
                new = "progress"
            else:
                new = "confirmed"
            if new != mo.state:
                mo.env.cr.execute(
                    'UPDATE "mrp_production" SET state=?, write_date=?, write_uid=? WHERE id=?',
                    (new, now_string(), self.env.uid, mo.id),
                )
                mo.env.invalidate(self._name)

    # ---- create / write --------------------------------------------------------------------
    def _prepare_create(self, vals: dict[str, Any]) -> dict[str, Any]:
        product = self.env["product.product"].sudo().browse(vals.get("product_id") or ())
        if not vals.get("name") or vals["name"] == "New":
            vals["name"] = f"WH/MO/{self.env.registry.next_by_code('mrp.production'):05d}"
        if product and not vals.get("product_uom_id"):
            vals["product_uom_id"] = product.uom_id.id
        if product and "bom_id" not in vals:
            vals["bom_id"] = self.env["mrp.bom"]._bom_find(product).id or False
        if vals.get("bom_id") and "consumption" not in vals:
            vals["consumption"] = self.env["mrp.bom"].sudo().browse(vals["bom_id"]).consumption
        if not vals.get("procurement_group_id"):
            vals["procurement_group_id"] = (
                self.env["procurement.group"].sudo().create({"name": vals["name"]}).id
            )
        return vals

    def _post_create(self, vals: dict[str, Any]) -> None:
        if not vals.get("move_raw_ids") and not self.env.context.get("skip_moves"):
            self._generate_moves()
        if not vals.get("date_finished"):
            self.sudo()._plan_date_finished()

    def _plan_date_finished(self) -> None:
        """_compute_date_finished: start + the work orders' expected minutes, or one hour."""
        minutes = sum(wo.duration_expected for wo in self.workorder_ids) or 60.0
        start = parse_datetime(self.date_start)
        Model.write(self, {"date_finished": (start + timedelta(minutes=minutes)).strftime(DATETIME_FORMAT)})

    def _set_qty_producing(self, pick_manual_consumption_moves: bool = True) -> None:
        """_set_qty_producing: components follow qty_producing through their unit factor and are picked,
        except moves a person (or the bridge) set: manual and picked; manual moves are picked only when
        asked (the public set_qty_producing does not); a serial-tracked order produces one unit at a time."""
        if self.product_id.tracking == "serial" and abs(self.qty_producing - 1.0) > EPS:
            Model.write(self, {"qty_producing": 1.0})
        remaining = (self.product_qty - self.qty_produced) or 1.0
        for move in self.move_raw_ids:
            if move.state in ("done", "cancel") or (move.manual_consumption and move.picked):
                continue
            if abs(move.product_uom_qty) < EPS:  # _should_bypass_set_qty_producing: extra products
                continue
            unit_factor = move.product_uom_qty / remaining
            values: dict[str, Any] = {
                "quantity": round((self.qty_producing - self.qty_produced) * unit_factor, 6)
            }
            if not move.manual_consumption or pick_manual_consumption_moves:
                values["picked"] = True
            move.write(values)

    @api_multi
    def set_qty_producing(self) -> None:
        """Public in Odoo 18: runs the qty_producing onchange server side; returns None (no 'result')."""
        for mo in self:
            mo._set_qty_producing(False)
        self._recompute_state()

    def _generate_moves(self) -> None:
        """_compute_move_raw_ids / _compute_move_finished_ids / _compute_workorder_ids from the BoM."""
        moves = self.env["stock.move"].sudo()
        state = "draft" if self.state == "draft" else "confirmed"
        bom = self.bom_id.sudo()
        if bom:
            factor = self.product_qty / (bom.product_qty or 1.0)
            for line in bom.bom_line_ids:
                moves.create(
                    {
                        "name": self.name,
                        "origin": self.name,
                        "product_id": line.product_id.id,
                        "product_uom_qty": line.product_qty * factor,
                        "product_uom": line.product_uom_id.id,
                        "raw_material_production_id": self.id,
                        "bom_line_id": line.id,
                        "state": state,
                        "manual_consumption": is_manual_consumption(line),
                    }
                )
            for op in bom.operation_ids:
                self.env["mrp.workorder"].sudo().create(
                    {
                        "name": op.name,
                        "workcenter_id": op.workcenter_id.id,
                        "production_id": self.id,
                        "operation_id": op.id,
                        "sequence": op.sequence,
                        "state": "pending" if state == "draft" else "ready",
                    }
                )
        moves.create(
            {
                "name": self.name,
                "origin": self.name,
                "product_id": self.product_id.id,
                "product_uom_qty": self.product_qty,
                "product_uom": self.product_uom_id.id,
                "production_id": self.id,
                "state": state,
            }
        )

    def write(self, vals: dict[str, Any]) -> bool:
        self._check_access("write")
        self._check_field_names(vals)
        result = super().write(vals)
        for mo in self.sudo():
            if {"move_raw_ids", "move_finished_ids"} & set(vals) and mo.state not in (
                "draft",
                "done",
                "cancel",
            ):
                mo._autoconfirm_production()
            if mo.state == "done" and {"lot_producing_id", "lot_producing_ids", "qty_producing"} & set(vals):
                # a done order still takes a corrected lot or quantity: its finished move follows
                finished = mo.move_finished_ids.filtered(
                    lambda m, mo=mo: m.product_id.id == mo.product_id.id and m.state == "done"
                )
                if "qty_producing" in vals:
                    finished.write({"quantity": vals["qty_producing"]})
                if {"lot_producing_id", "lot_producing_ids"} & set(vals):
                    finished.write({"lot_ids": [(6, 0, _lots(mo).ids)]})
        if {"qty_producing", "product_qty"} & set(vals):
            self._recompute_state()
        return bool(result)

    def _autoconfirm_production(self) -> None:
        """Moves added to a confirmed order (a component outside the BoM) are confirmed on the spot."""
        for move in (self.move_raw_ids | self.move_finished_ids).filtered(lambda m: m.state == "draft"):
            state = "assigned" if move.quantity >= move.product_uom_qty - EPS else "confirmed"
            move.write({"state": state, "additional": True})

    @api_multi
    def action_generate_serial(self) -> None:
        """Creates the lot to produce (sequence stock.lot.serial) and sets it on the order; returns None."""
        self.ensure_one()
        lot = self.env["stock.lot"].create(
            {
                "name": f"{self.env.registry.next_by_code('stock.lot.serial'):07d}",
                "product_id": self.product_id.id,
                "company_id": self.company_id.id,
            }
        )
        field = "lot_producing_ids" if "lot_producing_ids" in self._fields else "lot_producing_id"
        self.write({field: [(6, 0, lot.ids)] if field == "lot_producing_ids" else lot.id})
        if self.product_id.tracking == "serial":
            self._set_qty_producing()

    write._rpc = "multi"  # type: ignore[attr-defined]

    # ---- actions ---------------------------------------------------------------------------
    @api_multi
    def action_confirm(self) -> bool:
        for mo in self:
            if mo.state != "draft":
                continue
            moves = mo.move_raw_ids | mo.move_finished_ids
            moves.filtered(lambda m: m.state == "draft").write({"state": "confirmed"})
            mo.workorder_ids.filtered(lambda w: w.state == "pending").write({"state": "ready"})
            super(MrpProduction, mo).write({"state": "confirmed"})
            mo.move_raw_ids._reserve()
            mo._recompute_state()
        return True

    @api_multi
    def action_cancel(self) -> bool:
        for mo in self:
            if mo.state == "done":
                continue
            (mo.move_raw_ids | mo.move_finished_ids).filtered(lambda m: m.state != "done").write(
                {"state": "cancel"}
            )
            mo.workorder_ids.filtered(lambda w: w.state != "done").write({"state": "cancel"})
            super(MrpProduction, mo).write({"state": "cancel", "is_locked": True})
        return True

    @api_multi
    def button_mark_done(self) -> Any:
        from .mrp_done import mark_done

        return mark_done(self)

    @api_multi
    def pre_button_mark_done(self) -> Any:
        from .mrp_done import pre_mark_done

        return pre_mark_done(self)

    @api_multi
    def button_scrap(self) -> dict[str, Any]:
        self.ensure_one()
        return {
            "name": "Scrap Products",
            "view_mode": "form",
            "res_model": "stock.scrap",
            "views": [[False, "form"]],
            "type": "ir.actions.act_window",
            "context": {
                "default_production_id": self.id,
                "product_ids": (
                    self.move_raw_ids.filtered(lambda m: m.state not in ("done", "cancel"))
                    | self.move_finished_ids.filtered(lambda m: m.state == "done")
                )
                .mapped("product_id")
                .ids,
                "default_company_id": self.company_id.id,
            },
            "target": "new",
        }

    def _consumption_action(self, issues: list[tuple[Model, Model, float, float]]) -> dict[str, Any]:
        from .mrp_done import consumption_action

        return consumption_action(self, issues)

    def _backorder_action(self, issues: list[Model]) -> dict[str, Any]:
        from .mrp_done import backorder_action

        return backorder_action(self, issues)
