"""Initial data of a new sandbox database (what Odoo's modules install) and helpers to add users, API keys
and a plant (products, BoMs, work centers, equipment) from a dict or a YAML file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from . import security
from .registry import Env, Registry

ADMIN_UID = 2

#: xml id -> values; from mrp/data/mrp_data.xml (productivity loss types and reasons)
LOSS_TYPES = {
    "category_availability": "availability",
    "category_performance": "performance",
    "category_quality": "quality",
    "category_productive": "productive",
}
LOSSES = (  # xml id, name, category, manual, sequence
    ("block_reason0", "Material Availability", "category_availability", True, 1),
    ("block_reason1", "Equipment Failure", "category_availability", True, 2),
    ("block_reason2", "Setup and Adjustments", "category_availability", True, 3),
    ("block_reason4", "Reduced Speed", "category_performance", False, 5),
    ("block_reason5", "Process Defect", "category_quality", True, 6),
    ("block_reason6", "Reduced Yield", "category_quality", True, 7),
    ("block_reason7", "Fully Productive Time", "category_productive", False, 0),
)
#: maintenance/data/maintenance_data.xml
STAGES = (
    ("stage_0", "New Request", 1, False),
    ("stage_1", "In Progress", 2, False),
    ("stage_3", "Repaired", 3, True),
    ("stage_4", "Scrap", 4, True),
)
#: mail/data/mail_activity_data.xml (the warning type ships archived)
ACTIVITY_TYPES = (
    ("mail_activity_data_email", "Email", 5, True),
    ("mail_activity_data_call", "Call", 10, True),
    ("mail_activity_data_meeting", "Meeting", 3, True),
    ("mail_activity_data_todo", "To-Do", 12, True),
    ("mail_activity_data_warning", "Exception", 99, False),
)
#: stock/data/stock_data.xml (the locations a manufacturing order and a scrap move between)
LOCATIONS = (
    ("stock_location_stock", "WH/Stock", "internal", False),
    ("location_production", "Virtual Locations/Production", "production", False),
    ("stock_location_scrapped", "Virtual Locations/Scrap", "inventory", True),
)
#: uom/data/uom_data.xml
UOMS = (
    ("product_uom_categ_unit", "Unit", (("product_uom_unit", "Units", 1.0, 0.01),)),
    ("product_uom_categ_kgm", "Weight", (("product_uom_kgm", "kg", 1.0, 0.01),)),
    ("product_uom_categ_vol", "Volume", (("product_uom_litre", "L", 1.0, 0.01),)),
)


def xmlid(env: Env, full: str, model: str, res_id: int) -> None:
    module, _, name = full.partition(".")
    env["ir.model.data"].create(
        {"module": module, "name": name, "model": model, "res_id": res_id, "noupdate": True}
    )


def seed_base(registry: Registry, admin_password: str) -> None:
    """Everything a fresh Odoo 18 with mrp, maintenance and mail has that the sandbox reproduces."""
    env = Env(registry, 1, su=True)
    for i, (name, model) in enumerate(
        sorted((cls._description or n, n) for n, cls in registry.models.items())
    ):
        env["ir.model"].create({"name": name, "model": model, "transient": False})
        xmlid(env, f"base.model_{model.replace('.', '_')}", "ir.model", i + 1)
    company = env["res.company"].create({"name": "My Company"})
    xmlid(env, "base.main_company", "res.company", company.id)
    group_ids = {}
    categories: dict[str, int] = {}
    for gid, (category, name, _implied) in security.GROUPS.items():
        if category not in categories:
            categories[category] = env["ir.module.category"].create({"name": category}).id
        group = env["res.groups"].create({"name": name, "category_id": categories[category]})
        group_ids[gid] = group.id
        xmlid(env, gid, "res.groups", group.id)
    for gid, (_category, _name, implied) in security.GROUPS.items():
        if implied:
            env["res.groups"].browse(group_ids[gid]).write(
                {"implied_ids": [(6, 0, [group_ids[i] for i in implied])]}
            )
    system = env["res.users"].create({"name": "OdooBot", "login": "__system__", "active": False})
    xmlid(env, "base.user_root", "res.users", system.id)
    admin = env["res.users"].create(
        {
            "name": "Administrator",
            "login": "admin",
            "password": security.hash_secret(admin_password),
            "groups_id": [(6, 0, list(group_ids.values()))],
            "company_id": company.id,
        }
    )
    assert admin.id == ADMIN_UID
    xmlid(env, "base.user_admin", "res.users", admin.id)
    for cat_xml, cat_name, units in UOMS:
        cat = env["uom.category"].create({"name": cat_name})
        xmlid(env, f"uom.{cat_xml}", "uom.category", cat.id)
        for uom_xml, name, factor, rounding in units:
            uom = env["uom.uom"].create(
                {"name": name, "category_id": cat.id, "factor": factor, "rounding": rounding}
            )
            xmlid(env, f"uom.{uom_xml}", "uom.uom", uom.id)
    loss_type_ids = {}
    for xml, kind in LOSS_TYPES.items():
        rec = env["mrp.workcenter.productivity.loss.type"].create({"loss_type": kind})
        loss_type_ids[xml] = rec.id
        xmlid(env, f"mrp.{xml}", "mrp.workcenter.productivity.loss.type", rec.id)
    for xml, name, category, manual, sequence in LOSSES:
        rec = env["mrp.workcenter.productivity.loss"].create(
            {"name": name, "loss_id": loss_type_ids[category], "manual": manual, "sequence": sequence}
        )
        xmlid(env, f"mrp.{xml}", "mrp.workcenter.productivity.loss", rec.id)
    for xml, name, sequence, done in STAGES:
        rec = env["maintenance.stage"].create({"name": name, "sequence": sequence, "done": done})
        xmlid(env, f"maintenance.{xml}", "maintenance.stage", rec.id)
    for xml, name, usage, scrap in LOCATIONS:
        loc = env["stock.location"].create(
            {"name": name.rsplit("/", 1)[-1], "complete_name": name, "usage": usage, "scrap_location": scrap}
        )
        xmlid(env, f"stock.{xml}", "stock.location", loc.id)
    team = env["maintenance.team"].create({"name": "Internal Maintenance", "company_id": company.id})
    xmlid(env, "maintenance.equipment_team_maintenance", "maintenance.team", team.id)
    subtypes = (
        ("mt_comment", "Discussions", False),
        ("mt_note", "Note", True),
        ("mt_activities", "Activities", True),
    )
    for xml, name, internal in subtypes:
        subtype = env["mail.message.subtype"].create({"name": name, "internal": internal})
        xmlid(env, f"mail.{xml}", "mail.message.subtype", subtype.id)
    for xml, name, sequence, active in ACTIVITY_TYPES:
        rec = env["mail.activity.type"].create({"name": name, "sequence": sequence, "active": active})
        xmlid(env, f"mail.{xml}", "mail.activity.type", rec.id)
    actions = (
        "mrp.action_mrp_production_backorder",
        "mrp.action_mrp_consumption_warning",
        "mrp.action_mrp_batch_produce",
    )
    for i, action in enumerate(actions):
        xmlid(env, action, "ir.actions.act_window", 900 + i)
    registry.set_meta("seeded", "1")


def add_user(env: Env, login: str, name: str, groups: list[str], password: str | None = None) -> int:
    """A user with the given groups (xml ids); returns its uid."""
    su = env.derive(su=True)
    group_ids = [su.ref(g).id for g in groups]
    user = su["res.users"].create(
        {
            "name": name,
            "login": login,
            "groups_id": [(6, 0, group_ids)],
            "password": security.hash_secret(password) if password else False,
        }
    )
    return int(user.id)


def add_api_key(env: Env, uid: int, name: str = "integration", key: str | None = None) -> str:
    """A global-scope API key for uid (as res.users.apikeys._generate(None, name)); returns the clear key."""
    key = key or security.new_api_key()
    env.derive(su=True)["res.users.apikeys"].create(
        {"name": name, "user_id": uid, "scope": False, "index": key[:8], "key": security.hash_secret(key)}
    )
    return key


def seed_plant(env: Env, plant: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Products, work centers, BoMs (with operations), equipment and users from a plain dict; returns ids by
    key. Idempotent: what exists already (same code, name or login) is kept, so a restart may seed again."""
    su = env.derive(su=True)
    ids: dict[str, dict[str, int]] = {"products": {}, "workcenters": {}, "boms": {}, "equipment": {}}
    uoms = {"Units": "uom.product_uom_unit", "kg": "uom.product_uom_kgm", "L": "uom.product_uom_litre"}

    def existing(model: str, domain: list[Any]) -> int | None:
        found = su[model].with_context(active_test=False).search(domain, limit=1)
        return int(found.id) if found else None

    for p in plant.get("products", []):
        code = p["default_code"]
        if (pid := existing("product.product", [("default_code", "=", code)])) is not None:
            ids["products"][code] = pid
            continue
        uom = su.ref(uoms[p.get("uom", "Units")]).id
        storable = p.get("is_storable", True)
        # 18 made "storable" a flag on goods; 17 had it as product type 'product'
        kind = (
            {"is_storable": storable} if env.version >= 18 else {"type": "product" if storable else "consu"}
        )
        vals = {
            "name": p["name"],
            "default_code": code,
            "tracking": p.get("tracking", "none"),
            "uom_id": uom,
            "uom_po_id": uom,
            **kind,
        }
        ids["products"][code] = pid = su["product.product"].create(vals).id
        if p.get("on_hand"):
            stock = su.ref("stock.stock_location_stock").id
            su["stock.quant"].create(
                {"product_id": pid, "quantity": float(p["on_hand"]), "location_id": stock}
            )
    for w in plant.get("workcenters", []):
        wid = existing("mrp.workcenter", [("code", "=", w["code"])])
        ids["workcenters"][w["code"]] = (
            wid or su["mrp.workcenter"].create({"name": w["name"], "code": w["code"]}).id
        )
    for b in plant.get("boms", []):
        product = su["product.product"].browse(ids["products"][b["product"]])
        if (bid := existing("mrp.bom", [("product_tmpl_id", "=", product.product_tmpl_id.id)])) is not None:
            ids["boms"][b["product"]] = bid
            continue
        lines = [
            (0, 0, {"product_id": ids["products"][ln["product"]], "product_qty": ln["quantity"]})
            for ln in b.get("lines", [])
        ]
        operations = [
            (
                0,
                0,
                {
                    "name": op["name"],
                    "workcenter_id": ids["workcenters"][op["workcenter"]],
                    "time_cycle_manual": op.get("minutes", 60.0),
                },
            )
            for op in b.get("operations", [])
        ]
        ids["boms"][b["product"]] = (
            su["mrp.bom"]
            .create(
                {
                    "product_tmpl_id": product.product_tmpl_id.id,
                    "product_qty": b.get("quantity", 1.0),
                    "consumption": b.get("consumption", "warning"),
                    "code": b.get("code", False),
                    "bom_line_ids": lines,
                    "operation_ids": operations,
                }
            )
            .id
        )
    for e in plant.get("equipment", []):
        eid = existing("maintenance.equipment", [("name", "=", e["name"])])
        ids["equipment"][e["name"]] = (
            eid
            or su["maintenance.equipment"]
            .create(
                {
                    "name": e["name"],
                    "serial_no": e.get("serial_no", False),
                    "workcenter_id": ids["workcenters"].get(e.get("workcenter", ""), False),
                }
            )
            .id
        )
    for u in plant.get("users", []):
        if existing("res.users", [("login", "=", u["login"])]) is not None:
            continue
        uid = add_user(env, u["login"], u["name"], u.get("groups", []), u.get("password"))
        if u.get("api_key"):
            add_api_key(env, uid, u.get("api_key_name", "integration"), u["api_key"])
    return ids


def load_plant_file(path: str | Path) -> dict[str, Any]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a sandbox seed file is a mapping (products, workcenters, boms, ...)")
    return data
