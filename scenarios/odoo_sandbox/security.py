"""Access control as Odoo 18 applies it over RPC: model ACLs per group (ir.model.access), implied groups,
passwords and API keys (res.users.apikeys)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

from .errors import AccessDenied, AccessError

if TYPE_CHECKING:
    from .registry import Env

#: Groups: xml id -> (application, name, implied xml ids). From base/security/base_groups.xml,
#: base/data/ir_module_category_data.xml, mrp/security/mrp_security.xml, stock/security/stock_security.xml,
#: maintenance/security/maintenance.xml. base.group_user also implies the groups of the settings
#: "Lots & Serial Numbers" and "Work Orders" (res.config.settings implied_group): the sandbox always has lots
#: and work orders, as a database where an admin turned both on (the reference server of captures/odoo18).
GROUPS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "base.group_user": (
        "User types",
        "Internal User",
        ("stock.group_production_lot", "mrp.group_mrp_routings", "base.group_no_one"),
    ),
    "base.group_erp_manager": ("Administration", "Access Rights", ("base.group_user",)),
    "base.group_system": (
        "Administration",
        "Settings",
        ("base.group_erp_manager", "product.group_product_manager"),
    ),
    "base.group_no_one": ("Extra Rights", "Technical Features", ()),
    "stock.group_stock_user": ("Inventory", "User", ("base.group_user",)),
    "stock.group_stock_manager": ("Inventory", "Administrator", ("stock.group_stock_user",)),
    "stock.group_production_lot": ("Technical", "Manage Lots / Serial Numbers", ()),
    "mrp.group_mrp_user": ("Manufacturing", "User", ("stock.group_stock_user",)),
    "mrp.group_mrp_manager": ("Manufacturing", "Administrator", ("mrp.group_mrp_user",)),
    "mrp.group_mrp_routings": ("Technical", "Manage Work Order Operations", ()),
    "maintenance.group_equipment_manager": ("Maintenance", "Equipment Manager", ("base.group_user",)),
    "product.group_product_manager": ("Extra Rights", "Product Creation", ()),
    "base.group_partner_manager": ("Extra Rights", "Contact Creation", ()),
}

#: ir.model.access rows (model, group, read, write, create, unlink) for the sandbox's models, transcribed
#: (facts only) from the 18.0 CSVs: base/security/ir.model.access.csv, product/..., uom/..., stock/...,
#: mrp/security/ir.model.access.csv, maintenance/security/ir.model.access.csv, mail/security/...
ACL: tuple[tuple[str, str, int, int, int, int], ...] = (
    ("res.users", "base.group_user", 1, 0, 0, 0),
    ("res.users", "base.group_erp_manager", 1, 1, 1, 1),
    ("res.groups", "base.group_user", 1, 0, 0, 0),
    ("res.groups", "base.group_erp_manager", 1, 1, 1, 1),
    ("ir.module.category", "base.group_erp_manager", 1, 0, 0, 0),
    ("res.users.apikeys", "base.group_user", 1, 0, 0, 0),
    ("res.company", "base.group_user", 1, 0, 0, 0),
    ("ir.model", "base.group_user", 0, 0, 0, 0),
    ("ir.model", "base.group_erp_manager", 1, 1, 1, 1),
    ("ir.model.data", "base.group_user", 0, 0, 0, 0),
    ("ir.model.data", "base.group_erp_manager", 1, 1, 1, 1),
    ("uom.uom", "base.group_user", 1, 0, 0, 0),
    ("uom.uom", "base.group_system", 1, 1, 1, 1),
    ("uom.uom", "stock.group_stock_manager", 1, 1, 1, 1),
    ("uom.uom", "mrp.group_mrp_manager", 1, 1, 1, 1),
    ("product.template", "base.group_user", 1, 0, 0, 0),
    ("product.template", "product.group_product_manager", 1, 1, 1, 1),
    ("product.template", "stock.group_stock_manager", 1, 1, 1, 1),
    ("product.template", "mrp.group_mrp_manager", 1, 1, 1, 1),
    ("product.product", "base.group_user", 1, 0, 0, 0),
    ("product.product", "product.group_product_manager", 1, 1, 1, 1),
    ("product.product", "stock.group_stock_manager", 1, 1, 1, 1),
    ("product.product", "mrp.group_mrp_manager", 1, 1, 1, 1),
    ("stock.move", "stock.group_stock_user", 1, 1, 1, 0),
    ("stock.move", "stock.group_stock_manager", 1, 1, 1, 1),
    ("stock.move", "mrp.group_mrp_user", 1, 1, 1, 1),
    ("stock.lot", "stock.group_stock_user", 1, 1, 1, 1),
    ("stock.scrap", "stock.group_stock_user", 1, 1, 1, 0),
    ("stock.scrap", "stock.group_stock_manager", 1, 1, 1, 1),
    ("stock.location", "base.group_user", 1, 0, 0, 0),
    ("stock.location", "stock.group_stock_user", 1, 1, 0, 0),
    ("stock.location", "stock.group_stock_manager", 1, 1, 1, 1),
    ("stock.quant", "base.group_user", 1, 0, 0, 0),
    ("stock.quant", "stock.group_stock_user", 1, 1, 1, 0),
    ("stock.move.line", "base.group_user", 1, 1, 1, 1),
    ("stock.move.line", "stock.group_stock_user", 1, 1, 1, 1),
    ("procurement.group", "base.group_user", 1, 1, 1, 0),
    ("uom.category", "base.group_user", 1, 0, 0, 0),
    ("maintenance.team", "base.group_user", 1, 0, 0, 0),
    ("maintenance.team", "maintenance.group_equipment_manager", 1, 1, 1, 1),
    ("stock.scrap.reason.tag", "stock.group_stock_user", 1, 1, 1, 0),
    ("stock.scrap.reason.tag", "stock.group_stock_manager", 1, 1, 1, 1),
    ("mrp.workcenter.productivity.loss", "mrp.group_mrp_user", 1, 0, 0, 0),
    ("mrp.workcenter.productivity.loss", "mrp.group_mrp_manager", 1, 1, 1, 1),
    ("mrp.workcenter.productivity.loss.type", "mrp.group_mrp_user", 1, 0, 0, 0),
    ("mrp.workcenter.productivity", "mrp.group_mrp_user", 1, 1, 1, 1),
    ("mrp.workcenter", "mrp.group_mrp_user", 1, 0, 0, 0),
    ("mrp.workcenter", "mrp.group_mrp_manager", 1, 1, 1, 1),
    ("mrp.routing.workcenter", "mrp.group_mrp_user", 1, 0, 0, 0),
    ("mrp.routing.workcenter", "mrp.group_mrp_manager", 1, 1, 1, 1),
    ("mrp.bom", "mrp.group_mrp_user", 1, 0, 0, 0),
    ("mrp.bom", "mrp.group_mrp_manager", 1, 1, 1, 1),
    ("mrp.bom", "stock.group_stock_user", 1, 0, 0, 0),
    ("mrp.bom.line", "mrp.group_mrp_user", 1, 0, 0, 0),
    ("mrp.bom.line", "mrp.group_mrp_manager", 1, 1, 1, 1),
    ("mrp.bom.line", "stock.group_stock_user", 1, 0, 0, 0),
    ("mrp.production", "mrp.group_mrp_user", 1, 1, 1, 1),
    ("mrp.production", "stock.group_stock_user", 1, 0, 0, 0),
    ("mrp.production", "mrp.group_mrp_manager", 1, 0, 0, 0),
    ("mrp.workorder", "mrp.group_mrp_user", 1, 1, 1, 1),
    ("mrp.workorder", "stock.group_stock_user", 1, 0, 0, 0),
    ("mrp.production.backorder", "mrp.group_mrp_user", 1, 1, 1, 0),
    ("mrp.production.backorder.line", "mrp.group_mrp_user", 1, 1, 1, 0),
    ("mrp.consumption.warning", "mrp.group_mrp_user", 1, 1, 1, 0),
    ("mrp.consumption.warning.line", "mrp.group_mrp_user", 1, 1, 1, 0),
    ("maintenance.equipment", "base.group_user", 1, 0, 0, 0),
    ("maintenance.equipment", "maintenance.group_equipment_manager", 1, 1, 1, 1),
    ("maintenance.request", "base.group_user", 1, 1, 1, 1),
    ("maintenance.stage", "base.group_user", 1, 0, 0, 0),
    ("maintenance.stage", "maintenance.group_equipment_manager", 1, 1, 1, 1),
    ("mail.activity", "base.group_user", 1, 1, 1, 1),
    ("mail.message", "base.group_user", 1, 1, 1, 1),
    ("mail.followers", "base.group_user", 1, 0, 0, 0),
    ("mail.followers", "base.group_system", 1, 1, 1, 1),
    ("mail.message.subtype", "base.group_user", 1, 0, 0, 0),
    ("mail.message.subtype", "base.group_system", 1, 1, 1, 1),
    ("res.partner", "base.group_user", 1, 0, 0, 0),
    ("res.partner", "base.group_partner_manager", 1, 1, 1, 1),
    ("mail.activity.type", "base.group_user", 1, 0, 0, 0),
    ("mail.activity.type", "base.group_system", 1, 1, 1, 1),
)

MODES = {"read": 2, "write": 3, "create": 4, "unlink": 5}
ACCESS_ERROR_HEADER = {
    "read": "You are not allowed to access '{kind}' ({model}) records.",
    "write": "You are not allowed to modify '{kind}' ({model}) records.",
    "create": "You are not allowed to create '{kind}' ({model}) records.",
    "unlink": "You are not allowed to delete '{kind}' ({model}) records.",
}


def user_group_xmlids(env: Env, uid: int) -> set[str]:
    """The xml ids of the user's groups_id, implied groups included (res.users create/write add them)."""
    rows = env.cr.execute('SELECT groups_id FROM "res_users" WHERE id=?', (uid,)).fetchone()
    if rows is None or not rows[0]:
        return set()
    import json

    group_ids = json.loads(rows[0])
    if not group_ids:
        return set()
    marks = ",".join("?" * len(group_ids))
    names = env.cr.execute(
        "SELECT module || '.' || name FROM \"ir_model_data\" "
        f"WHERE model='res.groups' AND res_id IN ({marks})",
        group_ids,
    ).fetchall()
    return {str(n[0]) for n in names}


def check_model_access(env: Env, model: str, mode: str) -> None:
    """ir.model.access.check: raise Odoo's AccessError text when no group of the user grants the mode."""
    groups = user_group_xmlids(env, env.uid)
    index = MODES[mode]
    if any(row[0] == model and row[index] and row[1] in groups for row in ACL):
        return
    granting = sorted(
        {f"{GROUPS[row[1]][0]}/{GROUPS[row[1]][1]}" for row in ACL if row[0] == model and row[index]}
    )
    kind = env.registry.models[model]._description or model
    header = ACCESS_ERROR_HEADER[mode].format(kind=kind, model=model)
    if granting:
        listed = "\n".join(f"\t- {g}" for g in granting)
        group_info = f"This operation is allowed for the following groups:\n{listed}"
    else:
        group_info = "No group currently allows this operation."
    raise AccessError(
        f"{header}\n\n{group_info}\n\nContact your administrator to request access if necessary."
    )


def hash_secret(secret: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt.encode(), 20_000).hex()
    return f"{salt}${digest}"


def verify_secret(secret: str, stored: str | None) -> bool:
    if not stored or "$" not in stored:
        return False
    return _verify(secret, stored)


@functools.lru_cache(maxsize=1024)
def _verify(secret: str, stored: str) -> bool:
    """Cached like Odoo's _check_uid_passwd: a key is hashed once, not on every RPC call."""
    salt, _ = stored.split("$", 1)
    return hmac.compare_digest(hash_secret(secret, salt), stored)


def new_api_key() -> str:
    """40 hex characters like the keys Odoo generates (res.users.apikeys._generate)."""
    return secrets.token_hex(20)


def check_credentials(env: Env, uid: int, password: str, interactive: bool = False) -> None:
    """res.users._check_credentials: the password, or (not interactive) an API key; else AccessDenied."""
    if not isinstance(password, str) or not password:
        raise AccessDenied()
    row = env.cr.execute('SELECT password, active FROM "res_users" WHERE id=?', (uid,)).fetchone()
    if row is None or not row[1]:
        raise AccessDenied()
    if verify_secret(password, row[0]):
        return
    if interactive:
        raise AccessDenied()
    index = password[:8]
    for key_row in env.cr.execute(
        'SELECT key FROM "res_users_apikeys" WHERE user_id=? AND "index"=?', (uid, index)
    ):
        if verify_secret(password, key_row[0]):
            return
    raise AccessDenied()


def authenticate(env: Env, login: str, password: str, interactive: bool = False) -> int:
    """The uid for login + password (or API key when not interactive), or AccessDenied."""
    row = env.cr.execute('SELECT id FROM "res_users" WHERE login=? AND active=1', (login,)).fetchone()
    if row is None:
        raise AccessDenied()
    check_credentials(env, int(row[0]), password, interactive)
    return int(row[0])


def api_key_user(env: Env, key: str) -> int | None:
    """The user of a bearer API key (JSON-2), or None."""
    for row in env.cr.execute('SELECT user_id, key FROM "res_users_apikeys" WHERE "index"=?', (key[:8],)):
        if verify_secret(key, row[1]):
            return int(row[0])
    return None
