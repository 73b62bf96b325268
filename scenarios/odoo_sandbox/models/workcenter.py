"""Work centers, their productivity log (block, unblock), loss reasons, operations and work orders."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from ..errors import UserError
from ..fields import (
    Boolean,
    Char,
    Datetime,
    Float,
    Integer,
    Many2one,
    One2many,
    Selection,
    Text,
    now_string,
    parse_datetime,
)
from ..orm import Model, api_multi
from .mail import MailThread

LOSS_TYPES = [
    ("availability", "Availability"),
    ("performance", "Performance"),
    ("quality", "Quality"),
    ("productive", "Productive"),
]


class MrpWorkcenter(MailThread):
    _name = "mrp.workcenter"
    _description = "Work Center"
    _order = "sequence, id"
    name = Char("Work Center", required=True)
    code = Char("Code")
    active = Boolean("Active", default=True)
    sequence = Integer("Sequence", default=1)
    company_id = Many2one("res.company", "Company")
    default_capacity = Float("Capacity", default=1.0)
    time_efficiency = Float("Time Efficiency", default=100.0)
    oee_target = Float("OEE Target", default=90.0)
    time_ids = One2many("mrp.workcenter.productivity", "workcenter_id", "Time Logs")
    order_ids = One2many("mrp.workorder", "workcenter_id", "Orders")
    equipment_ids = One2many("maintenance.equipment", "workcenter_id", "Maintenance Equipment")
    working_state = Selection(
        [("normal", "Normal"), ("blocked", "Blocked"), ("done", "In Progress")],
        "Workcenter Status",
        compute="_compute_working_state",
        store=True,  # stored in Odoo (recomputed on every read here); unblock of a missing id: MissingError
        readonly=True,
    )

    def _compute_working_state(self) -> str:
        """mrp_workcenter.py _compute_working_state: the newest open time log decides."""
        log = (
            self.env["mrp.workcenter.productivity"]
            .sudo()
            .search([("workcenter_id", "=", self.id), ("date_end", "=", False)], limit=1)
        )
        if not log:
            return "normal"
        return "done" if log.loss_type in ("productive", "performance") else "blocked"

    @api_multi
    def unblock(self) -> bool:
        self.ensure_one()
        if self.working_state != "blocked":
            raise UserError("It has already been unblocked.")
        times = self.env["mrp.workcenter.productivity"].search(
            [("workcenter_id", "=", self.id), ("date_end", "=", False)]
        )
        times.write({"date_end": now_string()})
        return True


class MrpWorkcenterProductivityLossType(Model):
    _name = "mrp.workcenter.productivity.loss.type"
    _description = "MRP Workorder productivity losses"
    _rec_name = "loss_type"
    loss_type = Selection(LOSS_TYPES, "Category", required=True, default="availability")


class MrpWorkcenterProductivityLoss(Model):
    _name = "mrp.workcenter.productivity.loss"
    _description = "Workcenter Productivity Losses"
    _order = "sequence, id"
    name = Char("Blocking Reason", required=True)
    sequence = Integer("Sequence", default=1)
    manual = Boolean("Is a Blocking Reason", default=True)
    loss_id = Many2one("mrp.workcenter.productivity.loss.type", "Category")
    loss_type = Selection(LOSS_TYPES, "Effectiveness Category", related="loss_id.loss_type")


class MrpWorkcenterProductivity(Model):
    _name = "mrp.workcenter.productivity"
    _description = "Workcenter Productivity Log"
    _order = "id desc"
    _rec_name = "loss_id"
    workcenter_id = Many2one("mrp.workcenter", "Work Center", required=True)
    company_id = Many2one("res.company", "Company")
    workorder_id = Many2one("mrp.workorder", "Work Order")
    production_id = Many2one("mrp.production", "Manufacturing Order", related="workorder_id.production_id")
    user_id = Many2one("res.users", "User", default=lambda rec: rec.env.uid)
    loss_id = Many2one("mrp.workcenter.productivity.loss", "Loss Reason", required=True)
    loss_type = Selection(LOSS_TYPES, "Effectiveness", related="loss_id.loss_type")
    description = Text("Description")
    date_start = Datetime("Start Date", required=True, default=lambda rec: now_string())
    date_end = Datetime("End Date")
    duration = Float("Duration", compute="_compute_duration", store=False)

    def _compute_duration(self) -> float:
        """Minutes between start and end (loss._convert_to_duration without a work calendar)."""
        if not self.date_start or not self.date_end:
            return 0.0
        delta = parse_datetime(self.date_end) - parse_datetime(self.date_start)
        return round(delta.total_seconds() / 60.0, 2)

    def _compute_display_name(self) -> str:
        return str(self.loss_id.sudo().name or "")

    @api_multi
    def button_block(self) -> bool:
        self.ensure_one()
        self.workcenter_id.order_ids.filtered(lambda wo: wo.state == "progress").end_all()
        return True


class MrpRoutingWorkcenter(Model):
    _name = "mrp.routing.workcenter"
    _description = "Work Center Usage"
    _order = "bom_id, sequence, id"
    name = Char("Operation", required=True)
    workcenter_id = Many2one("mrp.workcenter", "Work Center", required=True)
    bom_id = Many2one("mrp.bom", "Bill of Material", required=True)
    sequence = Integer("Sequence", default=100)
    time_mode = Selection(
        [("auto", "Compute based on tracked time"), ("manual", "Set duration manually")],
        "Duration Computation",
        default="manual",
    )
    time_cycle_manual = Float("Manual Duration", default=60.0)
    active = Boolean("Active", default=True)


class MrpWorkorder(Model):
    _name = "mrp.workorder"
    _description = "Work Order"
    _order = "sequence, date_start, id"
    name = Char("Work Order", required=True)
    sequence = Integer("Sequence", default=100)
    workcenter_id = Many2one("mrp.workcenter", "Work Center", required=True)
    production_id = Many2one("mrp.production", "Manufacturing Order", required=True)
    operation_id = Many2one("mrp.routing.workcenter", "Operation")
    product_id = Many2one("product.product", "Product", related="production_id.product_id")
    state = Selection(
        [
            ("pending", "Waiting for another WO"),
            ("waiting", "Waiting for components"),
            ("ready", "Ready"),
            ("progress", "In Progress"),
            ("done", "Finished"),
            ("cancel", "Cancelled"),
        ],
        "Status",
        default="pending",
        readonly=True,
    )
    qty_production = Float("Original Production Quantity", related="production_id.product_qty")
    qty_producing = Float("Currently Produced Quantity", related="production_id.qty_producing")
    qty_remaining = Float("Quantity To Be Produced", compute="_compute_qty_remaining", store=False)
    qty_produced = Float("Quantity", default=0.0)
    duration_expected = Float("Expected Duration", compute="_compute_duration_expected", store=False)
    duration = Float("Real Duration", compute="_compute_duration", store=False)
    date_start = Datetime("Start")
    date_finished = Datetime("End")
    time_ids = One2many("mrp.workcenter.productivity", "workorder_id", "Time Logs")
    working_state = Selection(
        [("normal", "Normal"), ("blocked", "Blocked"), ("done", "In Progress")],
        "Workcenter Status",
        related="workcenter_id.working_state",
    )

    def _compute_qty_remaining(self) -> float:
        return float(max(self.production_id.product_qty - self.qty_produced, 0.0))

    def _compute_duration_expected(self) -> float:
        """_get_duration_expected without setup/cleanup: cycles of the operation for the quantity at hand."""
        production = self.production_id.sudo()
        qty = production.qty_producing or production.product_qty
        capacity = self.workcenter_id.sudo().default_capacity or 1.0
        cycle = self.operation_id.sudo().time_cycle_manual if self.operation_id else 60.0
        efficiency = (self.workcenter_id.sudo().time_efficiency or 100.0) / 100.0
        return float(round(math.ceil(qty / capacity) * cycle / efficiency, 2))

    def _compute_duration(self) -> float:
        total = 0.0
        for log in self.time_ids.sudo():
            end = parse_datetime(log.date_end) if log.date_end else datetime.utcnow()
            total += (end - parse_datetime(log.date_start)).total_seconds() / 60.0
        return float(round(total, 2))

    def _close_time_logs(self, only_user: bool) -> None:
        domain: list[Any] = [("workorder_id", "in", self.ids), ("date_end", "=", False)]
        if only_user:
            domain.append(("user_id", "=", self.env.uid))
        self.env["mrp.workcenter.productivity"].search(domain).write({"date_end": now_string()})

    @api_multi
    def button_start(self, raise_on_invalid_state: bool = False) -> None:
        """Starts the timer (a productive time log) and, from zero, produces the remaining quantity."""
        if any(wo.working_state == "blocked" for wo in self):
            raise UserError("Please unblock the work center to start the work order.")
        productive = (
            self.env["mrp.workcenter.productivity.loss"]
            .sudo()
            .search([("loss_type", "=", "productive")], limit=1)
        )
        for wo in self:
            if wo.time_ids.filtered(lambda t: not t.date_end and t.user_id.id == self.env.uid):
                continue
            if wo.state in ("done", "cancel"):
                if raise_on_invalid_state:
                    continue
                raise UserError("You cannot start a work order that is already done or cancelled")
            production = wo.production_id
            if not production.qty_producing:
                production.write({"qty_producing": wo.qty_remaining})
                production._set_qty_producing()
            self.env["mrp.workcenter.productivity"].create(
                {
                    "workcenter_id": wo.workcenter_id.id,
                    "workorder_id": wo.id,
                    "loss_id": productive.id,
                    "description": f"Time Tracking: {self.env.user.sudo().name}",
                    "user_id": self.env.uid,
                }
            )
            wo.write({"state": "progress", "date_start": wo.date_start or now_string()})
            if production.state == "confirmed":
                production.write({"date_start": now_string()})
            production._recompute_state()

    @api_multi
    def button_pending(self) -> None:
        """Pause: close the caller's open time logs."""
        self._close_time_logs(only_user=True)

    @api_multi
    def button_finish(self) -> bool:
        for wo in self:
            if wo.state in ("done", "cancel"):
                continue
            wo._close_time_logs(only_user=False)
            wo.write(
                {
                    "state": "done",
                    "date_finished": now_string(),
                    "qty_produced": wo.production_id.qty_producing or wo.production_id.product_qty,
                }
            )
        return True

    @api_multi
    def end_all(self) -> bool:
        self._close_time_logs(only_user=False)
        return True

    def _compute_display_name(self) -> str:
        return f"{self.production_id.sudo().name} - {self.name}"

    def _post_write(self, vals: dict[str, Any]) -> None:
        if "state" in vals:
            for production in self.mapped("production_id"):
                production._recompute_state()
