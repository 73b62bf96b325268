"""Chatter and activities: mail.message (message_post), followers (message_subscribe), activity types,
mail.activity and activity_schedule (mail/models/mail_thread.py, mail_activity.py, mail_activity_mixin.py)."""

from __future__ import annotations

import html
from typing import Any

from ..fields import (
    Boolean,
    Char,
    Date,
    Datetime,
    Html,
    Integer,
    Many2one,
    Many2oneReference,
    Selection,
    now_string,
    today_string,
)
from ..orm import Model, api_multi, returns_id

MESSAGE_TYPES = [
    ("email", "Incoming Email"),
    ("comment", "Comment"),
    ("email_outgoing", "Outgoing Email"),
    ("notification", "System notification"),
    ("auto_comment", "Automated Targeted Notification"),
    ("user_notification", "User Specific Notification"),
]


def escape(text: str) -> str:
    """A plain-text body as Odoo 18 stores it: escaped, then sanitized, which leaves & < > as entities
    and quotes as they were (checked on a real 18.0)."""
    return html.escape(text, quote=False)


class MailMessageSubtype(Model):
    _name = "mail.message.subtype"
    _description = "Message subtypes"
    _order = "sequence, id"
    name = Char("Message Type", required=True)
    internal = Boolean("Internal Only")
    sequence = Integer("Sequence", default=1)
    default = Boolean("Default", default=True)


class MailMessage(Model):
    _name = "mail.message"
    _description = "Message"
    _order = "id desc"
    _rec_name = "record_name"
    body = Html("Contents", default="")
    subject = Char("Subject")
    date = Datetime("Date", default=lambda rec: now_string())
    model = Char("Related Document Model")
    res_id = Many2oneReference("Related Document ID", model_field="model")
    record_name = Char("Message Record Name")
    message_type = Selection(MESSAGE_TYPES, "Type", default="comment", required=True)
    subtype_id = Many2one("mail.message.subtype", "Subtype")
    author_id = Many2one("res.partner", "Author")


class MailFollowers(Model):
    _name = "mail.followers"
    _description = "Document Followers"
    _rec_name = "partner_id"
    res_model = Char("Related Document Model Name", required=True)
    res_id = Integer("Related Document ID")
    partner_id = Many2one("res.partner", "Related Partner", required=True)


class MailThread(Model):
    """mail.thread: the chatter of a document."""

    @api_multi
    @returns_id
    def message_post(
        self,
        *,
        body: str = "",
        subject: str | None = None,
        message_type: str = "notification",
        subtype_xmlid: str | None = None,
        subtype_id: int | bool = False,
        partner_ids: list[int] | None = None,
        body_is_html: bool = False,
        **kwargs: Any,
    ) -> Model:
        """A message on the record's chatter; plain text is escaped as Odoo does (body_is_html keeps HTML)."""
        self.ensure_one()
        su = self.env.derive(su=True)
        if subtype_xmlid:
            subtype_id = su.ref(subtype_xmlid if "." in subtype_xmlid else f"mail.{subtype_xmlid}").id
        if not subtype_id:
            subtype_id = su.ref("mail.mt_note").id
        text = body if body_is_html else f"<p>{escape(body)}</p>" if body else ""
        message: Model = self.env["mail.message"].create(
            {
                "body": text,
                "subject": subject or False,
                "message_type": message_type,
                "subtype_id": subtype_id,
                "model": self._name,
                "res_id": self.id,
                "record_name": self.display_name,
                "author_id": self.env.user.sudo().partner_id.id,
            }
        )
        return message

    @api_multi
    def message_subscribe(
        self, partner_ids: list[int] | None = None, subtype_ids: list[int] | None = None
    ) -> bool:
        if not self or not partner_ids:
            return False
        followers = self.env["mail.followers"].sudo()
        for record in self:
            for partner in partner_ids:
                domain = [
                    ("res_model", "=", self._name),
                    ("res_id", "=", record.id),
                    ("partner_id", "=", partner),
                ]
                if not followers.search(domain, limit=1):
                    followers.create({"res_model": self._name, "res_id": record.id, "partner_id": partner})
        return True

    @api_multi
    def message_unsubscribe(self, partner_ids: list[int] | None = None) -> bool:
        domain = [
            ("res_model", "=", self._name),
            ("res_id", "in", self.ids),
            ("partner_id", "in", partner_ids or []),
        ]
        self.env["mail.followers"].sudo().search(domain).unlink()
        return True


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
    res_id = Many2oneReference("Related Document ID", model_field="res_model")
    res_name = Char("Document Name", compute="_compute_res_name", store=False)
    activity_type_id = Many2one("mail.activity.type", "Activity Type")
    summary = Char("Summary")
    note = Html("Note")
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

    def action_feedback(self, feedback: str = "", attachment_ids: list[int] | None = None) -> Any:
        """Mark done (_action_done): a message on the document says so, the activity goes; returns the id
        of the first message, as Odoo 18 does."""
        messages: list[int] = []
        for activity in self.sudo():
            record = self.env[activity.res_model].browse(activity.res_id)
            kind = activity.activity_type_id.name or "Activity"
            body = f"<p>{escape(kind)} done{': ' + escape(activity.summary) if activity.summary else ''}</p>"
            if feedback:
                body += f"<p>Feedback: {escape(feedback)}</p>"
            message = (
                self.env["mail.message"]
                .sudo()
                .create(
                    {
                        "body": body,
                        "message_type": "notification",
                        "model": activity.res_model,
                        "res_id": activity.res_id,
                        "record_name": record.sudo().display_name,
                        "subtype_id": self.env.derive(su=True).ref("mail.mt_activities").id,
                        "author_id": self.env.user.sudo().partner_id.id,
                    }
                )
            )
            messages.append(message.id)
        self.unlink()
        return messages[0] if messages else False

    action_feedback._rpc = "multi"  # type: ignore[attr-defined]

    @api_multi
    def action_done(self) -> Any:
        return self.filtered(lambda r: r.active).action_feedback()


class ActivityMixin(MailThread):
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
