"""`uns odoo check`: what the bridge's user may do in this Odoo, and what the plant needs that is missing."""

from __future__ import annotations

from dataclasses import dataclass, field

from odoo_sync.client import OdooClient
from odoo_sync.errors import OdooError
from uns_model.plant import PlantModel
from uns_model.tags import MachineStateTag

#: Groups the bridge's user needs (xml id, why) and groups it should not have.
NEEDED_GROUPS: tuple[tuple[str, str], ...] = (
    ("mrp.group_mrp_user", "read and write manufacturing orders, work orders, moves, scrap, time logs"),
    ("mrp.group_mrp_routings", "work orders: operations on work centers (Manufacturing settings)"),
)
TOO_MUCH: tuple[tuple[str, str], ...] = (
    ("base.group_system", "Settings administrator"),
    ("base.group_erp_manager", "Access rights administrator"),
    ("mrp.group_mrp_manager", "Manufacturing administrator"),
)
BOOTSTRAP_FIX = "run `uns odoo bootstrap PLANT.yaml` with an administrator's key, or create it in Odoo"


@dataclass(slots=True)
class CheckItem:
    kind: str
    name: str
    ok: bool
    fix: str = ""


@dataclass(slots=True)
class CheckReport:
    version: str
    flavour: str
    login: str
    uid: int
    groups: list[str] = field(default_factory=list)
    items: list[CheckItem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[CheckItem]:
        return [i for i in self.items if not i.ok]


#: Full names of the groups above, for servers where res.users.has_group cannot be called.
GROUP_NAMES: dict[str, str] = {
    "mrp.group_mrp_user": "Manufacturing / User",
    "mrp.group_mrp_routings": "Technical / Manage Work Order Operations",
    "base.group_system": "Administration / Settings",
    "base.group_erp_manager": "Administration / Access Rights",
    "mrp.group_mrp_manager": "Manufacturing / Administrator",
}


def _has_group(client: OdooClient, xmlid: str, names: list[str]) -> bool:
    try:
        return bool(client.call("res.users", "has_group", [client.uid], {"group_ext_id": xmlid}))
    except OdooError:
        return GROUP_NAMES.get(xmlid, xmlid) in names


def _group_names(client: OdooClient) -> list[str]:
    for field_name in ("groups_id", "group_ids"):  # 19 renamed groups_id
        try:
            ids = client.read_one("res.users", client.uid, [field_name])[field_name]
        except OdooError:
            continue
        for label in ("full_name", "name"):
            try:
                rows = client.read("res.groups", ids, [label])
            except OdooError:
                continue
            return sorted(str(r[label]) for r in rows)
    return []


def loss_names(plant: PlantModel) -> list[str]:
    """Productivity loss names the plant's machine state tables map stops to."""
    tables = {
        tag.state_table
        for _p, _l, cell in plant.iter_cells()
        for tag in cell.tags
        if isinstance(tag, MachineStateTag)
    }
    names: list[str] = []
    for table_name in sorted(t for t in tables if t):
        table = plant.state_table(table_name)
        for entry in table.codes.values() if table else ():
            if entry.is_stop and entry.odoo_loss and entry.odoo_loss not in names:
                names.append(entry.odoo_loss)
    return names


def check(client: OdooClient, login: str, plant: PlantModel | None = None) -> CheckReport:
    report = CheckReport(client.version, client.flavour, login, client.uid, _group_names(client))
    for xmlid, why in NEEDED_GROUPS:
        ok = _has_group(client, xmlid, report.groups)
        report.items.append(CheckItem("group", xmlid, ok, "" if ok else f"give {login} this group ({why})"))
    for xmlid, label in TOO_MUCH:
        if _has_group(client, xmlid, report.groups):
            report.warnings.append(f"{login} is {label} ({xmlid}): more rights than the bridge needs")
    quality = client.search_count("mrp.workcenter.productivity.loss", [("loss_type", "=", "quality")])
    report.items.append(
        CheckItem(
            "loss reason",
            "(any of type quality)",
            quality > 0,
            ""
            if quality
            else "add a loss reason of type Quality (Manufacturing > Configuration > Loss Reasons)",
        )
    )
    if plant is None:
        return report
    for _place, _line, cell in plant.iter_cells():
        if cell.workcenter:
            found = client.search_count("mrp.workcenter", [("code", "=", cell.workcenter)])
            report.items.append(
                CheckItem("work center", cell.workcenter, found > 0, "" if found else BOOTSTRAP_FIX)
            )
        for eq in cell.equipment:
            found = client.search_count("maintenance.equipment", [("serial_no", "=", eq.serial)])
            fix = (
                f"{BOOTSTRAP_FIX} (with --bridge-user {login}); an existing one is hidden from {login} "
                "until it follows the equipment (Maintenance's record rule for plain users)"
            )
            report.items.append(CheckItem("equipment", eq.serial, found > 0, "" if found else fix))
    for name in loss_names(plant):
        found = client.search_count("mrp.workcenter.productivity.loss", [("name", "=", name)])
        fix = (
            f"add the loss reason {name!r} (Manufacturing > Configuration > Loss Reasons) "
            "or rename it in the plant's state table"
        )
        report.items.append(CheckItem("loss reason", name, found > 0, "" if found else fix))
    for product in plant.products:
        found = client.search_count("product.product", [("default_code", "=", product.code)])
        report.items.append(CheckItem("product", product.code, found > 0, "" if found else BOOTSTRAP_FIX))
    return report
