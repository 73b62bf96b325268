"""Base models: users, groups, company, API keys, ir.model, ir.model.data (xml ids), mail activities."""

from __future__ import annotations

from typing import Any

from ..errors import AccessError, PyValueError, ValidationError
from ..fields import Boolean, Char, Integer, Many2many, Many2one, Selection
from ..orm import Model, api_model, api_multi


class ResCompany(Model):
    _name = "res.company"
    _description = "Companies"
    name = Char("Company Name", required=True)


class ResPartner(Model):
    _name = "res.partner"
    _description = "Contact"
    _order = "complete_name ASC, id DESC"
    name = Char("Name")
    complete_name = Char("Complete Name")
    email = Char("Email")
    active = Boolean("Active", default=True)
    company_id = Many2one("res.company", "Company")

    def _prepare_create(self, vals: dict[str, Any]) -> dict[str, Any]:
        vals.setdefault("complete_name", vals.get("name") or False)
        return vals


class IrModuleCategory(Model):
    _name = "ir.module.category"
    _description = "Application"
    _order = "name, id"
    name = Char("Name", required=True)


class ResGroups(Model):
    _name = "res.groups"
    _description = "Access Groups"
    _order = "name, id"
    _rec_name = "full_name"
    name = Char("Name", required=True)
    category_id = Many2one("ir.module.category", "Application")
    full_name = Char("Group Name", compute="_compute_full_name", store=False)
    implied_ids = Many2many("res.groups", "Inherits")
    trans_implied_ids = Many2many(
        "res.groups", "Transitively inherits", compute="_compute_trans_implied_ids", store=False
    )

    def _compute_trans_implied_ids(self) -> Model:
        seen: list[int] = []
        todo = list(self.implied_ids.ids)
        while todo:
            gid = todo.pop(0)
            if gid not in seen:
                seen.append(gid)
                todo.extend(self.browse(gid).implied_ids.ids)
        return self.browse(seen)

    def _post_write(self, vals: dict[str, Any]) -> None:
        """GroupsImplied.write: a new implication reaches every user of the group."""
        if vals.get("implied_ids"):
            users = self.env["res.users"].sudo().with_context(active_test=False).search([])
            users.filtered(lambda u: bool(set(u.groups_id.ids) & set(self.ids)))._add_implied_groups()

    def _compute_full_name(self) -> str:
        """res_users.py Groups._compute_full_name: 'Application / Name', or the name alone."""
        category = self.sudo().category_id
        return f"{category.name} / {self.name}" if category else str(self.name)

    def _compute_display_name(self) -> str:
        return str(self.full_name)


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
    partner_id = Many2one("res.partner", "Related Partner", required=True)
    email = Char("Email", related="partner_id.email")
    lang = Char("Language", default="en_US")
    tz = Char("Timezone", default=False)
    share = Boolean("Share User", compute="_compute_share", store=False)

    def _prepare_create(self, vals: dict[str, Any]) -> dict[str, Any]:
        """_inherits res.partner: a user comes with its contact."""
        if not vals.get("partner_id"):
            partner = (
                self.env["res.partner"]
                .sudo()
                .create({"name": vals.get("name"), "active": vals.get("active", True)})
            )
            vals["partner_id"] = partner.id
        return vals

    def _compute_share(self) -> bool:
        return False

    def _post_create(self, vals: dict[str, Any]) -> None:
        if "groups_id" in vals:
            self._add_implied_groups()

    def _post_write(self, vals: dict[str, Any]) -> None:
        if vals.get("groups_id"):
            self._add_implied_groups()

    def _add_implied_groups(self) -> None:
        """UsersImplied.create/write: groups_id also holds every group the user's groups imply,
        transitively; removing a group later leaves the implied ones (as Odoo)."""
        for user in self.sudo():
            groups = user.groups_id
            missing = [g for g in groups.mapped("trans_implied_ids").ids if g not in groups.ids]
            if missing:
                user.write({"groups_id": [(4, g) for g in missing]})

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

    @api_multi
    def has_group(self, group_ext_id: str) -> bool:
        """res_users.py has_group: a public record method; other users' groups only for internal users."""
        self.ensure_one()
        if not (self.env.su or self.id == self.env.uid or self.env.user.sudo()._has_group("base.group_user")):
            raise AccessError("You can ony call user.has_group() with your current user.")
        # base.group_no_one counts in debug mode only, which an RPC call is never in
        return self._has_group(group_ext_id) and group_ext_id != "base.group_no_one"

    @api_multi
    def has_groups(self, group_spec: str) -> bool:
        """Comma-separated xml ids, '!' for groups the user must not have; '.' is never satisfied."""
        if group_spec == ".":
            return False
        specs = [g.strip() for g in group_spec.split(",")]
        negatives = [g[1:] for g in specs if g.startswith("!")]
        positives = [g for g in specs if not g.startswith("!")]
        if any(self.has_group(g) for g in negatives):
            return False
        return any(self.has_group(g) for g in positives) or not positives

    def _has_group(self, group_ext_id: str) -> bool:
        from ..security import user_group_xmlids

        return group_ext_id in user_group_xmlids(self.env, self.ensure_one().id)

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
