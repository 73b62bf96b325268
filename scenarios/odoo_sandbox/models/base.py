"""Base models: users, groups, company, API keys, ir.model, ir.model.data (xml ids), mail activities."""

from __future__ import annotations

from typing import Any

from ..errors import PyValueError, ValidationError
from ..fields import Boolean, Char, Date, Integer, Many2many, Many2one, Selection, Text, today_string
from ..orm import Model, api_model, api_multi


class ResCompany(Model):
    _name = "res.company"
    _description = "Companies"
    name = Char("Company Name", required=True)


class ResGroups(Model):
    _name = "res.groups"
    _description = "Access Groups"
    name = Char("Name", required=True)
    category = Char("Application")

    def _compute_display_name(self) -> str:
        return f"{self.category} / {self.name}" if self.category else str(self.name)


def _current_company(rec: Model) -> Any:
    ids = rec.env["res.company"].sudo()._all_ids()
    return ids[0] if ids else False


class ResUsers(Model):
    _name = "res.users"
    _description = "User"
    _order = "name, login"
    name = Char("Name", required=True)
    login = Char("Login", required=True)
    password = Char("Password", copy=False)
    active = Boolean("Active", default=True)
    groups_id = Many2many("res.groups", "Groups")
    company_id = Many2one("res.company", "Company", default=_current_company)
    lang = Char("Language", default="en_US")
    tz = Char("Timezone", default=False)
    share = Boolean("Share User", compute="_compute_share", store=False)

    def _compute_share(self) -> bool:
        return False

    def _check_constraints(self) -> None:
        """SQL constraint login_key (UNIQUE company_id, login), reported as retrying() words it."""
        same = self.sudo().with_context(active_test=False).search([("login", "=", self.login)])
        if len(same) > 1:
            raise ValidationError(
                "The operation cannot be completed: You can not have two users with the same login!"
            )

    def _read_value(self, f: Any, load: str) -> Any:
        if f.name == "password":  # write-only, as in Odoo
            return ""
        return super()._read_value(f, load)

    def has_group(self, xmlid: str) -> bool:
        from ..security import user_group_xmlids

        return xmlid in user_group_xmlids(self.env, self.ensure_one().id)

    @api_model
    def context_get(self) -> dict[str, Any]:
        user = self.env.user.sudo()
        return {"lang": user.lang or "en_US", "tz": user.tz or False, "uid": self.env.uid}


class ResUsersApikeys(Model):
    _name = "res.users.apikeys"
    _description = "Users API Keys"
    name = Char("Description", required=True)
    user_id = Many2one("res.users", "User", required=True)
    scope = Char("Scope")
    index = Char("Index")
    key = Char("Key Hash")

    def _read_value(self, f: Any, load: str) -> Any:
        if f.name == "key":
            return False
        return super()._read_value(f, load)


class IrModel(Model):
    _name = "ir.model"
    _description = "Models"
    _order = "model"
    _rec_name = "name"
    name = Char("Model Description", required=True)
    model = Char("Model", required=True)
    state = Selection([("manual", "Custom Object"), ("base", "Base Object")], "Type", default="base")
    transient = Boolean("Transient Model")


class IrModelData(Model):
    _name = "ir.model.data"
    _description = "Model Data"
    _order = "module, model, name"
    name = Char("External Identifier", required=True)
    module = Char("Module", required=True)
    model = Char("Model Name", required=True)
    res_id = Integer("Record ID")
    noupdate = Boolean("Non Updatable")

    def _compute_display_name(self) -> str:
        return f"{self.module}.{self.name}"

    @api_model
    def check_object_reference(
        self, module: str, xml_id: str, raise_on_access_error: bool = False
    ) -> list[Any]:
        """(model, res_id) of an xml id; the record must be readable by the caller."""
        row = self.env.cr.execute(
            'SELECT model, res_id FROM "ir_model_data" WHERE module=? AND name=?', (module, xml_id)
        ).fetchone()
        if row is None:
            raise PyValueError(f"External ID not found in the system: {module}.{xml_id}")
        model, res_id = str(row[0]), int(row[1])
        from ..errors import AccessError
        from ..security import check_model_access

        if not self.env.su:
            try:
                check_model_access(self.env, model, "read")
            except AccessError:
                if raise_on_access_error:
                    raise
                return [model, False]
        return [model, res_id]


class MailActivityType(Model):
    _name = "mail.activity.type"
    _description = "Activity Type"
    _order = "sequence, id"
    name = Char("Name", required=True)
    summary = Char("Default Summary")
    sequence = Integer("Sequence", default=10)
    active = Boolean("Active", default=True)
    delay_count = Integer("Schedule", default=0)
    category = Selection(
        [("default", "None"), ("upload_file", "Upload Document"), ("phonecall", "Phonecall")],
        "Action",
        default="default",
    )
    res_model = Char("Model")
    icon = Char("Icon")
    decoration_type = Selection([("warning", "Alert"), ("danger", "Error")], "Decoration Type")


class MailActivity(Model):
    _name = "mail.activity"
    _description = "Activity"
    _order = "date_deadline ASC, id ASC"
    _rec_name = "summary"
    res_model_id = Many2one("ir.model", "Document Model", required=True)
    res_model = Char("Related Document Model", compute="_compute_res_model", store=False)
    res_id = Integer("Related Document ID")
    res_name = Char("Document Name", compute="_compute_res_name", store=False)
    activity_type_id = Many2one("mail.activity.type", "Activity Type")
    summary = Char("Summary")
    note = Text("Note")
    date_deadline = Date("Due Date", required=True, default=lambda rec: today_string())
    user_id = Many2one("res.users", "Assigned to", default=lambda rec: rec.env.uid)
    active = Boolean("Active", default=True)
    state = Selection(
        [("overdue", "Overdue"), ("today", "Today"), ("planned", "Planned"), ("done", "Done")],
        "State",
        compute="_compute_state",
        store=False,
    )

    def _compute_res_model(self) -> Any:
        return self.res_model_id.sudo().model or False

    def _compute_res_name(self) -> Any:
        model = self.res_model
        if not model or model not in self.env:
            return False
        return self.env[model].sudo().browse(self.res_id).display_name

    def _compute_state(self) -> str:
        if not self.active:
            return "done"
        today = today_string()
        return (
            "overdue" if self.date_deadline < today else "today" if self.date_deadline == today else "planned"
        )

    def _compute_display_name(self) -> str:
        return str(self.summary or self.activity_type_id.sudo().name or "")

    def _check_constraints(self) -> None:
        model = self.res_model
        if model and model in self.env and not self.env[model].sudo().browse(self.res_id).exists():
            from ..errors import MissingError

            raise MissingError(
                "Record does not exist or has been deleted.\n"
                f"(Record: {model}({self.res_id},), User: {self.env.uid})"
            )

    def action_feedback(self, feedback: str = "", attachment_ids: list[int] | None = None) -> bool:
        """Mark done: Odoo archives done activities (keep_done) or deletes them; the sandbox archives."""
        self.sudo().write({"active": False, "note": feedback or self.note})
        return True

    action_feedback._rpc = "multi"  # type: ignore[attr-defined]

    @api_multi
    def action_done(self) -> bool:
        return self.action_feedback()


class ActivityMixin(Model):
    """mail.activity.mixin: activity_schedule on documents (manufacturing orders, requests, equipment)."""

    @api_multi
    def activity_schedule(
        self,
        act_type_xmlid: str = "",
        date_deadline: str | None = None,
        summary: str = "",
        note: str = "",
        **act_values: Any,
    ) -> Model:
        """Create one activity per record; the caller gets the mail.activity recordset (as str over RPC)."""
        su = self.env.derive(su=True)
        activity_type = (
            su.ref(act_type_xmlid)
            if act_type_xmlid
            else su["mail.activity.type"].browse(
                act_values.pop("activity_type_id", None) or su.ref("mail.mail_activity_data_todo").id
            )
        )
        model_id = su["ir.model"].search([("model", "=", self._name)], limit=1).id
        activities = self.env["mail.activity"].browse(())
        for record in self:
            vals = {
                "res_model_id": model_id,
                "res_id": record.id,
                "activity_type_id": activity_type.id,
                "summary": summary or activity_type.summary or False,
                "note": note or False,
                "date_deadline": date_deadline or today_string(),
                **act_values,
            }
            activities |= self.env["mail.activity"].create(vals)
        return activities
