"""Maintenance: stages, teams, equipment (linked to work centers as mrp_maintenance does) and requests."""

from __future__ import annotations

from typing import Any

from ..fields import (
    Boolean,
    Char,
    Date,
    Datetime,
    Html,
    Integer,
    Many2one,
    One2many,
    Selection,
    today_string,
)
from ..orm import Model
from .mail import ActivityMixin


class MaintenanceStage(Model):
    _name = "maintenance.stage"
    _description = "Maintenance Stage"
    _order = "sequence, id"
    name = Char("Name", required=True)
    sequence = Integer("Sequence", default=20)
    fold = Boolean("Folded in Maintenance Pipe")
    done = Boolean("Request Done")


class MaintenanceTeam(Model):
    _name = "maintenance.team"
    _description = "Maintenance Teams"
    name = Char("Team Name", required=True)
    active = Boolean("Active", default=True)
    company_id = Many2one("res.company", "Company")


class MaintenanceEquipment(ActivityMixin):
    _name = "maintenance.equipment"
    _description = "Maintenance Equipment"
    name = Char("Equipment Name", required=True)
    active = Boolean("Active", default=True)
    serial_no = Char("Serial Number")
    model = Char("Model")
    note = Html("Note")
    technician_user_id = Many2one("res.users", "Technician")
    maintenance_team_id = Many2one("maintenance.team", "Maintenance Team")
    company_id = Many2one("res.company", "Company")
    workcenter_id = Many2one("mrp.workcenter", "Work Center")
    maintenance_ids = One2many("maintenance.request", "equipment_id", "Maintenance Requests")
    maintenance_count = Integer("Maintenance Count", compute="_compute_maintenance_count", store=False)
    maintenance_open_count = Integer("Current Maintenance", compute="_compute_open_count", store=False)

    def _compute_display_name(self) -> str:
        return f"{self.name}/{self.serial_no}" if self.serial_no else str(self.name)

    def _compute_maintenance_count(self) -> int:
        return len(self.maintenance_ids)

    def _compute_open_count(self) -> int:
        return len(self.maintenance_ids.filtered(lambda r: not r.stage_id.done and not r.archive))


def _default_stage(rec: Model) -> Any:
    stages = rec.env["maintenance.stage"].sudo().search([], limit=1)
    return stages.id or False


def _default_team(rec: Model) -> Any:
    teams = rec.env["maintenance.team"].sudo().search([], limit=1)
    return teams.id or False


class MaintenanceRequest(ActivityMixin):
    _name = "maintenance.request"
    _description = "Maintenance Request"
    _order = "id desc"
    name = Char("Subjects", required=True)
    description = Html("Description")
    request_date = Date("Request Date", default=lambda rec: today_string())
    owner_user_id = Many2one("res.users", "Created by User", default=lambda rec: rec.env.uid)
    equipment_id = Many2one("maintenance.equipment", "Equipment")
    user_id = Many2one("res.users", "Technician")
    stage_id = Many2one("maintenance.stage", "Stage", default=_default_stage)
    priority = Selection([("0", "Very Low"), ("1", "Low"), ("2", "Normal"), ("3", "High")], "Priority")
    close_date = Date("Close Date")
    kanban_state = Selection(
        [("normal", "In Progress"), ("blocked", "Blocked"), ("done", "Ready for next stage")],
        "Kanban State",
        default="normal",
        required=True,
    )
    archive = Boolean("Archive", default=False)
    maintenance_type = Selection(
        [("corrective", "Corrective"), ("preventive", "Preventive")], "Maintenance Type", default="corrective"
    )
    schedule_date = Datetime("Scheduled Date")
    maintenance_team_id = Many2one("maintenance.team", "Team", required=True, default=_default_team)
    duration = Char("Duration")
    company_id = Many2one("res.company", "Company")
    production_id = Many2one("mrp.production", "Manufacturing Order")
    workorder_id = Many2one("mrp.workorder", "Work Order")
    workcenter_id = Many2one("mrp.workcenter", "Work Center", related="equipment_id.workcenter_id")
    done = Boolean("Request Done", related="stage_id.done")

    def _prepare_create(self, vals: dict[str, Any]) -> dict[str, Any]:
        equipment = self.env["maintenance.equipment"].sudo().browse(vals.get("equipment_id") or ())
        if equipment and not vals.get("user_id"):
            vals["user_id"] = equipment.technician_user_id.id or False
        if equipment and equipment.maintenance_team_id and "maintenance_team_id" not in vals:
            vals["maintenance_team_id"] = equipment.maintenance_team_id.id
        stage = self.env["maintenance.stage"].sudo().browse(vals.get("stage_id") or ())
        if stage and stage.done:
            vals["close_date"] = today_string()
        return vals

    def _post_write(self, vals: dict[str, Any]) -> None:
        """maintenance.py write: entering a done stage sets close_date, leaving it clears it."""
        if "stage_id" in vals:
            for request in self.sudo():
                close = today_string() if request.stage_id.done else False
                Model.write(request, {"close_date": close})
