"""One bridge-like scenario over raw JSON-RPC, normalised (ids, dates, sequence numbers) into a transcript.
The sandbox's transcript must equal the recorded one below; with ODOO_URL, ODOO_DB, ODOO_USER, ODOO_KEY,
ODOO_ADMIN_LOGIN and ODOO_ADMIN_PASSWORD set, a real Odoo 18 must produce the same transcript."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from scenarios.odoo_sandbox import SandboxServer

DATE = re.compile(r"^\d{4}-\d\d-\d\d( \d\d:\d\d:\d\d)?$")
SEQ = re.compile(r"\d{4,}")


class Wire:
    """execute_kw over /jsonrpc; each answer is ('ok', result), ('none',) or ('error', name, message)."""

    def __init__(self, url: str, db: str, login: str, secret: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=60)
        self.db, self.secret = db, secret
        self.uid = self.rpc("common", "login", [db, login, secret])[1]
        assert isinstance(self.uid, int), f"login {login} failed"

    def rpc(self, service: str, method: str, args: list[Any]) -> tuple[Any, ...]:
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": args},
            "id": 1,
        }
        answer = self.http.post("/jsonrpc", json=body).json()
        if "error" in answer:
            data = answer["error"]["data"]
            return ("error", data["name"], data["message"])
        return ("ok", answer["result"]) if "result" in answer else ("none",)

    def __call__(self, model: str, method: str, args: list[Any], kw: dict[str, Any] | None = None) -> Any:
        return self.rpc(
            "object", "execute_kw", [self.db, self.uid, self.secret, model, method, args, kw or {}]
        )

    def ok(self, model: str, method: str, args: list[Any], kw: dict[str, Any] | None = None) -> Any:
        answer = self(model, method, args, kw)
        assert answer[0] == "ok", answer
        return answer[1]


def norm(value: Any, key: str = "") -> Any:
    """Ids, dates and sequence numbers out; states, quantities, names and shapes kept."""
    if isinstance(value, dict):
        return {k: norm(v, k) for k, v in sorted(value.items()) if k not in ("id", "debug")}
    if isinstance(value, list | tuple):
        if key.endswith("_id") and len(value) == 2 and isinstance(value[0], int):
            return ["ID", norm(value[1])]
        if key.endswith("_ids") or key == "ids":
            return f"{len(value)} ids"
        return [norm(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int) and (key.endswith("_id") or key in ("res_id", "id", "")):
        return "ID"
    if isinstance(value, str):
        if DATE.match(value):
            return "DATE"
        value = re.sub(r"User: \d+", "User: ID", re.sub(r"\(\d+,\)", "(ID,)", value))
        return SEQ.sub("#", value)
    return value


#: fields the bridge reads or writes, whose type, relation and selection values must be Odoo's
FIELDS = {
    "mrp.production": [
        "state",
        "product_id",
        "product_qty",
        "product_uom_id",
        "qty_producing",
        "qty_produced",
        "backorder_sequence",
        "lot_producing_id",
        "move_raw_ids",
        "workorder_ids",
        "origin",
        "production_location_id",
        "reservation_state",
        "date_start",
        "date_finished",
    ],
    "stock.move": [
        "state",
        "quantity",
        "picked",
        "product_uom_qty",
        "raw_material_production_id",
        "manual_consumption",
    ],
    "mrp.workorder": ["state", "workcenter_id", "production_id", "qty_produced", "date_start"],
    "mrp.workcenter": ["working_state", "code"],
    "mrp.workcenter.productivity": [
        "loss_type",
        "loss_id",
        "date_start",
        "date_end",
        "duration",
        "description",
    ],
    "maintenance.request": ["maintenance_type", "priority", "stage_id", "equipment_id", "kanban_state"],
    "stock.scrap": ["state", "scrap_qty", "origin", "production_id", "location_id"],
    "mail.activity": ["res_model", "res_id", "activity_type_id", "note", "date_deadline", "state"],
}


def scenario(admin: Wire, bridge: Wire) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    tag = time.strftime("%H%M%S")

    def log(label: str, value: Any) -> None:
        out.append((label, norm(value)))

    def product(code: str, **vals: Any) -> int:
        return int(
            admin.ok(
                "product.product",
                "create",
                [
                    {
                        "name": f"Diff {code}",
                        "default_code": f"D{code}{tag}",
                        "type": "consu",
                        "is_storable": True,
                        **vals,
                    }
                ],
            )
        )

    comp_a, comp_b, fin = product("A"), product("B"), product("F", tracking="lot")
    wc = admin.ok("mrp.workcenter", "create", [{"name": f"Diff WC {tag}", "code": f"DW{tag}"}])
    tmpl = admin.ok("product.product", "read", [[fin], ["product_tmpl_id"]])[0]["product_tmpl_id"][0]
    admin.ok(
        "mrp.bom",
        "create",
        [
            {
                "product_tmpl_id": tmpl,
                "product_qty": 1,
                "consumption": "warning",
                "bom_line_ids": [
                    [0, 0, {"product_id": comp_a, "product_qty": 2}],
                    [0, 0, {"product_id": comp_b, "product_qty": 1}],
                ],
                "operation_ids": [[0, 0, {"name": "Op", "workcenter_id": wc, "time_cycle_manual": 10}]],
            }
        ],
    )
    mo_fields = [
        "name",
        "state",
        "product_qty",
        "qty_producing",
        "qty_produced",
        "reservation_state",
        "backorder_sequence",
        "lot_producing_id",
        "origin",
    ]
    move_fields = ["product_uom_qty", "quantity", "picked", "state"]
    mo = bridge.ok(
        "mrp.production", "create", [{"product_id": fin, "product_qty": 5, "origin": f"DIFF-{tag}"}]
    )
    log("read draft", bridge("mrp.production", "read", [[mo], mo_fields]))
    log("confirm", bridge("mrp.production", "action_confirm", [[mo]]))
    log("read confirmed", bridge("mrp.production", "read", [[mo], mo_fields]))
    moves = bridge.ok("mrp.production", "read", [[mo], ["move_raw_ids"]])[0]["move_raw_ids"]
    log("moves confirmed", bridge("stock.move", "read", [moves, move_fields]))
    log("write qty_producing", bridge("mrp.production", "write", [[mo], {"qty_producing": 3}]))
    log("state producing", bridge("mrp.production", "read", [[mo], ["state"]]))
    log("set_qty_producing", bridge("mrp.production", "set_qty_producing", [[mo]]))
    log("moves producing", bridge("stock.move", "read", [moves, move_fields]))
    manual = {"context": {"force_manual_consumption": True}}
    log("write consumed", bridge("stock.move", "write", [moves[:1], {"quantity": 5, "picked": True}], manual))
    lot = bridge.ok("stock.lot", "create", [{"name": f"DL{tag}", "product_id": fin}])
    log("duplicate lot", bridge("stock.lot", "create", [{"name": f"DL{tag}", "product_id": fin}]))
    bridge.ok("mrp.production", "write", [[mo], {"lot_producing_id": lot}])
    log("mark done: consumption", bridge("mrp.production", "button_mark_done", [[mo]]))
    log(
        "mark done: backorder",
        bridge("mrp.production", "button_mark_done", [[mo]], {"context": {"skip_consumption": True}}),
    )
    log(
        "mark done: split",
        bridge(
            "mrp.production",
            "button_mark_done",
            [[mo]],
            {"context": {"skip_consumption": True, "skip_backorder": True, "mo_ids_to_backorder": [mo]}},
        ),
    )
    chain = bridge.ok("mrp.production", "search", [[("origin", "=", f"DIFF-{tag}")]], {"order": "id"})
    log("chain", bridge("mrp.production", "read", [chain, mo_fields]))
    # A backorder's moves take manual_consumption from the BoM line again, not from the split move.
    back_moves = bridge.ok("mrp.production", "read", [[chain[1]], ["move_raw_ids"]])[0]["move_raw_ids"]
    back_fields = [*move_fields, "manual_consumption"]
    log("backorder moves", bridge("stock.move", "read", [back_moves, back_fields]))
    wos = bridge.ok("mrp.workorder", "search", [[("production_id", "=", chain[1])]])
    log("start work order", bridge("mrp.workorder", "button_start", [wos]))
    log("after start", bridge("mrp.production", "read", [[chain[1]], ["state", "qty_producing"]]))
    log("backorder moves started", bridge("stock.move", "read", [back_moves, back_fields]))
    log(
        "timer",
        bridge(
            "mrp.workcenter.productivity",
            "search_read",
            [[("workorder_id", "in", wos)]],
            {"fields": ["loss_type", "date_end", "workcenter_id"]},
        ),
    )
    log("working state", bridge("mrp.workcenter", "read", [[wc], ["working_state"]]))
    log("pause", bridge("mrp.workorder", "button_pending", [wos]))
    log("working state paused", bridge("mrp.workcenter", "read", [[wc], ["working_state"]]))
    loss = bridge.ok("mrp.workcenter.productivity.loss", "search", [[("name", "=", "Equipment Failure")]])
    block = bridge.ok(
        "mrp.workcenter.productivity",
        "create",
        [{"workcenter_id": wc, "loss_id": loss[0], "description": "down"}],
    )
    log("blocked", bridge("mrp.workcenter", "read", [[wc], ["working_state"]]))
    log(
        "unblock",
        bridge("mrp.workcenter.productivity", "write", [[block], {"date_end": "2030-01-01 00:00:00"}]),
    )
    log("unblocked", bridge("mrp.workcenter", "read", [[wc], ["working_state"]]))
    scrap = bridge.ok(
        "stock.scrap", "create", [{"product_id": comp_a, "scrap_qty": 1, "production_id": chain[1]}]
    )
    log("scrap draft", bridge("stock.scrap", "read", [[scrap], ["name", "state", "location_id", "origin"]]))
    log("scrap validate", bridge("stock.scrap", "action_validate", [[scrap]]))
    log("do_scrap", bridge("stock.scrap", "do_scrap", [[scrap]]))
    log("scrap done", bridge("stock.scrap", "read", [[scrap], ["name", "state"]]))
    log(
        "note",
        bridge(
            "mrp.production",
            "message_post",
            [[mo]],
            {"body": "a <b> 'c'", "message_type": "comment", "subtype_xmlid": "mail.mt_note"},
        ),
    )
    log(
        "note body",
        bridge(
            "mail.message",
            "search_read",
            [[("model", "=", "mrp.production"), ("res_id", "=", mo), ("body", "ilike", "&lt;b&gt;")]],
            {"fields": ["body", "message_type", "subtype_id"]},
        ),
    )
    log(
        "activity",
        bridge(
            "mrp.production",
            "activity_schedule",
            [[mo]],
            {"act_type_xmlid": "mail.mail_activity_data_warning", "summary": "hold"},
        ),
    )
    activity = bridge.ok(
        "mail.activity", "search", [[("res_model", "=", "mrp.production"), ("res_id", "=", mo)]]
    )
    log(
        "activity read",
        bridge(
            "mail.activity",
            "read",
            [activity, ["summary", "activity_type_id", "state", "res_model", "res_name", "user_id"]],
        ),
    )
    log("activity feedback", bridge("mail.activity", "action_feedback", [activity], {"feedback": "ok"}))
    log("activity gone", bridge("mail.activity", "search_count", [[("id", "in", activity)]]))
    log("finish work order", bridge("mrp.workorder", "button_finish", [wos]))
    log("backorder to close", bridge("mrp.production", "read", [[chain[1]], ["state", "qty_producing"]]))
    bridge.ok("mrp.production", "write", [[chain[1]], {"lot_producing_id": lot}])
    # A component the plant reported nothing of on the backorder: 0, picked, manual -> cancelled at done.
    bridge.ok("stock.move", "write", [back_moves[:1], {"quantity": 0, "picked": True}], manual)
    log(
        "backorder done",
        bridge("mrp.production", "button_mark_done", [[chain[1]]], {"context": {"skip_consumption": True}}),
    )
    log("chain done", bridge("mrp.production", "read", [chain, mo_fields]))
    log("backorder moves done", bridge("stock.move", "read", [back_moves, back_fields]))
    equipment = admin.ok(
        "maintenance.equipment", "create", [{"name": f"Diff EQ {tag}", "serial_no": f"S{tag}"}]
    )
    request = bridge.ok(
        "maintenance.request",
        "create",
        [{"name": "vibration", "equipment_id": equipment, "maintenance_type": "corrective", "priority": "2"}],
    )
    log(
        "request",
        bridge(
            "maintenance.request",
            "read",
            [
                [request],
                [
                    "stage_id",
                    "maintenance_type",
                    "priority",
                    "request_date",
                    "close_date",
                    "kanban_state",
                    "equipment_id",
                    "archive",
                ],
            ],
        ),
    )
    for model, names in FIELDS.items():
        meta = bridge.ok(model, "fields_get", [names], {"attributes": ["type", "relation", "selection"]})
        out.append((f"fields {model}", norm(meta)))
    log("unknown field", bridge("mrp.production", "write", [[mo], {"nope": 1}]))
    log("read missing", bridge("mrp.production", "read", [[10**8], ["name"]]))
    log("unlink done", bridge("mrp.production", "unlink", [[mo]]))
    log("write workcenter", bridge("mrp.workcenter", "write", [[wc], {"name": "x"}]))
    return out


def edge_scenario(admin: Wire, bridge: Wire) -> list[tuple[str, Any]]:
    """Corners: strict consumption, serials, closed moves, bad values, domains, name_search, constraints."""
    out: list[tuple[str, Any]] = []
    tag = time.strftime("%H%M%S") + str(os.getpid())[-3:]

    def log(label: str, value: Any) -> None:
        out.append((label, norm(value)))

    def product(code: str, **vals: Any) -> int:
        return int(
            admin.ok(
                "product.product",
                "create",
                [
                    {
                        "name": f"Edge {code}",
                        "default_code": f"E{code}{tag}",
                        "type": "consu",
                        "is_storable": True,
                        **vals,
                    }
                ],
            )
        )

    a, f, s = product("A"), product("F"), product("S", tracking="serial")
    tmpl = admin.ok("product.product", "read", [[f], ["product_tmpl_id"]])[0]["product_tmpl_id"][0]
    stmpl = admin.ok("product.product", "read", [[s], ["product_tmpl_id"]])[0]["product_tmpl_id"][0]
    admin.ok(
        "mrp.bom",
        "create",
        [
            {
                "product_tmpl_id": tmpl,
                "product_qty": 1,
                "consumption": "strict",
                "bom_line_ids": [[0, 0, {"product_id": a, "product_qty": 1}]],
            }
        ],
    )
    admin.ok(
        "mrp.bom",
        "create",
        [
            {
                "product_tmpl_id": stmpl,
                "product_qty": 1,
                "consumption": "flexible",
                "bom_line_ids": [[0, 0, {"product_id": a, "product_qty": 1}]],
            }
        ],
    )
    wc = admin.ok("mrp.workcenter", "create", [{"name": f"Edge WC {tag}", "code": f"EW{tag}"}])
    mo = bridge.ok("mrp.production", "create", [{"product_id": f, "product_qty": 2, "origin": f"EDGE-{tag}"}])
    bridge.ok("mrp.production", "action_confirm", [[mo]])
    log("strict from zero", bridge("mrp.production", "button_mark_done", [[mo]]))
    log("state", bridge("mrp.production", "read", [[mo], ["state", "qty_producing"]]))
    mo2 = bridge.ok(
        "mrp.production", "create", [{"product_id": f, "product_qty": 2, "origin": f"EDGE-{tag}"}]
    )
    bridge.ok("mrp.production", "action_confirm", [[mo2]])
    bridge.ok("mrp.production", "write", [[mo2], {"qty_producing": 2}])
    log("strict wizard", bridge("mrp.production", "button_mark_done", [[mo2]]))
    log(
        "strict skip",
        bridge("mrp.production", "button_mark_done", [[mo2]], {"context": {"skip_consumption": True}}),
    )
    log(
        "done move write",
        bridge(
            "stock.move",
            "write",
            [
                bridge.ok("mrp.production", "read", [[mo2], ["move_raw_ids"]])[0]["move_raw_ids"],
                {"quantity": 9, "picked": True},
            ],
        ),
    )
    smo = bridge.ok("mrp.production", "create", [{"product_id": s, "product_qty": 3}])
    bridge.ok("mrp.production", "action_confirm", [[smo]])
    log("serial batch", bridge("mrp.production", "button_mark_done", [[smo]]))
    log("generate serial", bridge("mrp.production", "action_generate_serial", [[smo]]))
    log("serial after gen", bridge("mrp.production", "read", [[smo], ["qty_producing", "state"]]))
    log("bad fk", bridge("mrp.production", "write", [[mo], {"lot_producing_id": 10**8}]))
    log(
        "bad date",
        bridge(
            "mrp.workcenter.productivity",
            "create",
            [{"workcenter_id": wc, "loss_id": 1, "date_start": "2026-11-26T16:03:44Z"}],
        ),
    )
    log("bad domain field", bridge("mrp.production", "search", [[("nope", "=", 1)]]))
    log("bad operator", bridge("mrp.production", "search", [[("name", "~", "x")]]))
    log("bad selection", bridge("mrp.production", "write", [[mo], {"priority": "9"}]))
    log("unblock not blocked", bridge("mrp.workcenter", "unblock", [[wc]]))
    log("unblock missing", bridge("mrp.workcenter", "unblock", [[10**8]]))
    log("exists", bridge("mrp.production", "exists", [[mo, 10**8]]))
    log("search like", bridge("mrp.production", "search_count", [[("origin", "=like", f"EDGE-{tag[:3]}%")]]))
    log(
        "search dotted",
        bridge("stock.move", "search_count", [[("raw_material_production_id.origin", "=", f"EDGE-{tag}")]]),
    )
    log(
        "search not in",
        bridge(
            "mrp.production",
            "search_count",
            [[("origin", "=", f"EDGE-{tag}"), ("state", "not in", ["done"])]],
        ),
    )
    log(
        "search false",
        bridge(
            "mrp.production",
            "search_count",
            [[("origin", "=", f"EDGE-{tag}"), ("lot_producing_id", "=", False)]],
        ),
    )
    log("name_search product", bridge("product.product", "name_search", [], {"name": f"EF{tag}"}))
    log("scrap zero", bridge("stock.scrap", "create", [{"product_id": a, "scrap_qty": 0}]))
    log("cancel", bridge("mrp.production", "action_cancel", [[smo]]))
    log("unlink cancelled", bridge("mrp.production", "unlink", [[smo]]))
    log("qty negative", bridge("mrp.production", "create", [{"product_id": f, "product_qty": -1}]))
    log("missing required", bridge("mrp.production", "create", [{"product_qty": 1}]))
    log("read no ids", bridge("mrp.production", "read", [[], ["name"]]))
    log(
        "17's detailed_type on 18",
        admin("product.product", "create", [{"name": "x", "detailed_type": "product"}]),
    )
    log(
        "search_read order",
        [
            r["origin"]
            for r in bridge.ok(
                "mrp.production",
                "search_read",
                [[("origin", "=", f"EDGE-{tag}")]],
                {"fields": ["origin"], "order": "id desc", "limit": 1, "offset": 1},
            )
        ],
    )
    return out


def groups_scenario(admin: Wire, bridge: Wire) -> list[tuple[str, Any]]:
    """What `uns odoo check` asks about the bridge's user: its groups, their names, has_group."""
    out: list[tuple[str, Any]] = []

    def log(label: str, value: Any) -> None:
        out.append((label, norm(value)))

    out.append(
        (
            "fields res.groups",
            norm(
                bridge.ok(
                    "res.groups",
                    "fields_get",
                    [["name", "full_name", "category_id"]],
                    {"attributes": ["type", "relation", "store", "readonly", "searchable"]},
                )
            ),
        )
    )
    log(
        "group by full name",
        bridge(
            "res.groups",
            "search_read",
            [[("full_name", "=", "Manufacturing / User")]],
            {"fields": ["full_name", "name", "category_id", "display_name"]},
        ),
    )
    me = [bridge.uid]

    def group_names(uid: int, wire: Wire) -> list[str]:
        ids = wire.ok("res.users", "read", [[uid], ["groups_id"]])[0]["groups_id"]
        return [r["full_name"] for r in wire.ok("res.groups", "read", [ids, ["full_name"]])]

    log("own groups, implied ones in, by name", group_names(bridge.uid, bridge))

    def group(full_name: str) -> int:
        return int(admin.ok("res.groups", "search", [[("full_name", "=", full_name)]])[0])

    login = f"diff-{time.strftime('%H%M%S')}{os.getpid() % 1000}"
    user = admin.ok(
        "res.users",
        "create",
        [{"name": login, "login": login, "groups_id": [(6, 0, [group("Inventory / User")])]}],
    )
    log("created user groups", group_names(user, admin))
    admin.ok("res.users", "write", [[user], {"groups_id": [(4, group("Manufacturing / User"))]}])
    log("after adding a group", group_names(user, admin))
    admin.ok("res.users", "write", [[user], {"groups_id": [(3, group("Manufacturing / User"))]}])
    log("after removing it", group_names(user, admin))
    admin.ok("res.users", "write", [[user], {"active": False}])
    for xmlid in ("mrp.group_mrp_user", "stock.group_stock_user", "base.group_user", "mrp.group_mrp_manager"):
        log(f"has_group {xmlid}", bridge("res.users", "has_group", [me, xmlid]))
    log("has_group no_one", bridge("res.users", "has_group", [me, "base.group_no_one"]))
    log("has_group unknown", bridge("res.users", "has_group", [me, "nope.group_x"]))
    log("has_group keyword", bridge("res.users", "has_group", [me], {"group_ext_id": "base.group_system"}))
    log("has_group of admin", bridge("res.users", "has_group", [[admin.uid], "base.group_system"]))
    log("has_group no ids", bridge("res.users", "has_group", [[], "base.group_user"]))
    log("has_groups", bridge("res.users", "has_groups", [me, "mrp.group_mrp_user,!base.group_system"]))
    return out


def real_wires() -> tuple[Wire, Wire] | None:
    names = ("ODOO_URL", "ODOO_DB", "ODOO_USER", "ODOO_KEY", "ODOO_ADMIN_LOGIN", "ODOO_ADMIN_PASSWORD")
    if not all(os.environ.get(n) for n in names):
        return None
    env = {n: os.environ[n] for n in names}
    return (
        Wire(env["ODOO_URL"], env["ODOO_DB"], env["ODOO_ADMIN_LOGIN"], env["ODOO_ADMIN_PASSWORD"]),
        Wire(env["ODOO_URL"], env["ODOO_DB"], env["ODOO_USER"], env["ODOO_KEY"]),
    )


@pytest.fixture(scope="module")
def sandbox_transcript(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[tuple[str, Any]]]:
    with SandboxServer(port=0, db_path=tmp_path_factory.mktemp("diff") / "odoo.sqlite") as server:
        uid = server.add_user("uns-bridge", "UNS Bridge", ["mrp.group_mrp_user"])
        key = server.add_api_key(uid)
        admin = Wire(server.url, server.db_name, "admin", "admin")
        bridge = Wire(server.url, server.db_name, "uns-bridge", key)
        yield scenario(admin, bridge) + edge_scenario(admin, bridge) + groups_scenario(admin, bridge)


def test_sandbox_transcript_is_stable(sandbox_transcript: list[tuple[str, Any]]) -> None:
    labels = dict(sandbox_transcript)
    assert labels["confirm"] == ["ok", True] and labels["set_qty_producing"] == ["none"]
    assert labels["mark done: consumption"][1]["res_model"] == "mrp.consumption.warning"
    assert labels["mark done: backorder"][1]["res_model"] == "mrp.production.backorder"
    assert [r["name"] for r in labels["chain"][1]] == ["WH/MO/#-001", "WH/MO/#-002"]
    assert labels["scrap validate"][1]["res_model"] == "stock.warn.insufficient.qty.scrap"
    assert labels["duplicate lot"][:2] == ["error", "odoo.exceptions.ValidationError"]
    assert labels["serial batch"][1]["res_model"] == "mrp.batch.produce"
    assert labels["bad fk"][:2] == ["error", "odoo.exceptions.MissingError"]
    assert labels["group by full name"][1][0]["full_name"] == "Manufacturing / User"
    assert labels["unblock missing"][:2] == ["error", "odoo.exceptions.MissingError"]
    assert labels["has_group stock.group_stock_user"] == ["ok", True]
    assert labels["has_group keyword"] == ["ok", False]
    assert labels["own groups, implied ones in, by name"] == [
        "User types / Internal User",
        "Technical / Manage Lots / Serial Numbers",
        "Technical / Manage Work Order Operations",
        "Extra Rights / Technical Features",
        "Inventory / User",
        "Manufacturing / User",
    ]
    assert labels["fields res.groups"]["full_name"] == {
        "readonly": True,
        "searchable": True,
        "store": False,
        "type": "char",
    }


@pytest.mark.odoo_real
def test_real_odoo_gives_the_same_transcript(sandbox_transcript: list[tuple[str, Any]]) -> None:
    wires = real_wires()
    if wires is None:
        pytest.skip(
            "real Odoo: set ODOO_URL, ODOO_DB, ODOO_USER, ODOO_KEY, ODOO_ADMIN_LOGIN, ODOO_ADMIN_PASSWORD"
        )
    real = scenario(*wires) + edge_scenario(*wires) + groups_scenario(*wires)
    for (label, ours), (_, theirs) in zip(sandbox_transcript, real, strict=True):
        assert ours == theirs, label
