"""The sandbox's ORM (domains, orders, x2many commands, defaults), its persistence across restarts, the
session-cookie routes and the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from scenarios.odoo_sandbox import SandboxServer
from scenarios.odoo_sandbox.errors import PyValueError

from .conftest import Sandbox


def search(sandbox: Sandbox, model: str, domain: list[Any], **kw: Any) -> list[int]:
    return sandbox.server.registry.transaction(lambda: sandbox.server.env()[model].search(domain, **kw).ids)


def codes(sandbox: Sandbox, ids: list[int]) -> list[str]:
    env = sandbox.server.env()
    return [env["product.product"].browse(i).default_code for i in ids]


def test_domain_operators(sandbox: Sandbox) -> None:
    p = sandbox.ids["products"]
    assert codes(
        sandbox, search(sandbox, "product.product", [("default_code", "=like", "S%")], order="id")
    ) == ["SHAFT-01", "STEEL", "SENSOR"]
    assert codes(sandbox, search(sandbox, "product.product", [("name", "ilike", "bar")])) == ["STEEL"]
    assert codes(
        sandbox,
        search(
            sandbox,
            "product.product",
            ["|", ("default_code", "=", "BOLT"), "!", ("tracking", "=", "none")],
            order="default_code",
        ),
    ) == ["BOLT", "GEAR-01", "SENSOR"]
    assert search(
        sandbox, "product.product", [("id", "in", [p["BOLT"], p["PUMP"]]), ("id", "not in", [p["PUMP"]])]
    ) == [p["BOLT"]]
    assert search(sandbox, "product.product", [("product_tmpl_id.name", "=", "Gear")]) == [p["GEAR-01"]]
    assert search(sandbox, "mrp.bom", [("product_tmpl_id", "ilike", "pump")]) == [sandbox.ids["boms"]["PUMP"]]
    assert search(sandbox, "mrp.bom", [("bom_line_ids.product_id", "=", p["STEEL"])], order="id") == [
        sandbox.ids["boms"]["GEAR-01"],
        sandbox.ids["boms"]["SHAFT-01"],
    ]
    assert (
        search(
            sandbox, "product.product", [("default_code", "!=", False)], limit=2, offset=1, order="id desc"
        )
        == sorted(p.values(), reverse=True)[1:3]
    )
    with pytest.raises(PyValueError):
        search(sandbox, "product.product", [("no_field", "=", 1)])


def test_xmlids_defaults_and_x2many_commands(sandbox: Sandbox) -> None:
    server = sandbox.server

    def run() -> dict[str, Any]:
        env = server.env()
        loss = env.ref("mrp.block_reason0")
        wc = env["mrp.workcenter"].create({"name": "Tmp", "code": "TMP"})
        eq = env["maintenance.equipment"].create({"name": "Tmp eq"})
        wc.write({"equipment_ids": [(4, eq.id)]})
        linked = wc.equipment_ids.ids
        wc.write({"equipment_ids": [(3, eq.id)]})
        return {
            "loss": (loss.name, loss.loss_type),
            "linked": linked,
            "after": wc.equipment_ids.ids,
            "eq": eq.id,
            "defaults": env["mrp.production"].default_get(["product_qty", "state", "name"]),
        }

    out = server.registry.transaction(run)
    assert out["loss"] == ("Material Availability", "availability")
    assert out["linked"] == [out["eq"]] and out["after"] == []
    assert out["defaults"] == {"product_qty": 1.0, "state": "draft", "name": "New"}


def test_state_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "persist.sqlite"
    with SandboxServer(port=0, db_path=db) as server:
        server.seed_plant({"products": [{"default_code": "P1", "name": "Part"}]})
        env = server.env()
        mo = server.registry.transaction(
            lambda: env["mrp.production"].create({"product_id": env["product.product"].search([])[0].id}).name
        )
    with SandboxServer(port=0, db_path=db) as again:
        env = again.env()
        names = again.registry.transaction(lambda: env["mrp.production"].search([]).mapped("name"))
        second = again.registry.transaction(
            lambda: env["mrp.production"].create({"product_id": env["product.product"].search([])[0].id}).name
        )
    assert names == [mo] == ["WH/MO/00001"] and second == "WH/MO/00002"


def test_session_routes(sandbox: Sandbox) -> None:
    from scenarios.odoo_sandbox import security

    def set_password() -> None:
        env = sandbox.server.env()
        env["res.users"].browse(sandbox.integration_uid).write({"password": security.hash_secret("pw")})

    sandbox.server.registry.transaction(set_password)
    with httpx.Client(base_url=sandbox.url) as http:
        rpc = {"jsonrpc": "2.0", "method": "call", "id": 1}
        expired = http.post(
            "/web/dataset/call_kw/mrp.production/search",
            json={
                **rpc,
                "params": {"model": "mrp.production", "method": "search", "args": [[]], "kwargs": {}},
            },
        ).json()
        assert expired["error"]["code"] == 100 and expired["error"]["message"] == "Odoo Session Expired"
        login = http.post(
            "/web/session/authenticate",
            json={**rpc, "params": {"db": "sandbox", "login": "integration", "password": "pw"}},
        ).json()
        assert login["result"]["uid"] == sandbox.integration_uid
        found = http.post(
            "/web/dataset/call_kw/mrp.workcenter/search_read",
            json={
                **rpc,
                "params": {
                    "model": "mrp.workcenter",
                    "method": "search_read",
                    "args": [[]],
                    "kwargs": {"fields": ["code"], "order": "id"},
                },
            },
        ).json()
        assert [r["code"] for r in found["result"]][:2] == ["CNC1", "ASM1"]


def test_command_line_serves_until_terminated(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scenarios.odoo_sandbox",
            "--port",
            "0",
            "--db",
            str(tmp_path / "cli.sqlite"),
            "--version",
            "19.0",
            "--seed",
            "scenarios/odoo_sandbox/seed_example.yaml",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = line.split(" on ", 1)[1].split()[0]
        info = httpx.post(f"{url}/web/webclient/version_info", json={"jsonrpc": "2.0", "params": {}}).json()
        assert info["result"]["server_version_info"][:2] == [19, 0]
        key = "0123456789abcdef0123456789abcdef01234567"
        found = httpx.post(
            f"{url}/json/2/mrp.bom/search_read",
            json={"fields": ["display_name"]},
            headers={"Authorization": f"bearer {key}"},
        )
        assert found.json() == [{"id": 1, "display_name": "[GEAR-01] Gear"}], found.json()["message"]
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_odoo_17_products_and_no_json_route(tmp_path: Path) -> None:
    """17 marks storable products by type 'product' (18 added is_storable) and has no /json/ route."""
    with SandboxServer(port=0, db_path=tmp_path / "v17.sqlite", version="17.0") as server:
        ids = server.seed_plant({"products": [{"default_code": "S", "name": "Steel", "on_hand": 3}]})
        env = server.env()
        product = env["product.product"].browse(ids["products"]["S"])
        assert server.registry.transaction(lambda: (product.type, "is_storable" in product._fields)) == (
            "product",
            False,
        )
        assert httpx.post(f"{server.url}/json/2/product.product/search", json={}).status_code == 404


def test_odoo_17_detailed_type_drives_type(tmp_path: Path) -> None:
    """17.0's product.template: detailed_type (stock adds 'product') sets type, a type alone sets
    detailed_type, a mismatch is refused (_sanitize_vals, _constrains_detailed_type); 18 has no
    detailed_type. Real 16/17 clients create storable products with detailed_type='product'."""

    def call(server: SandboxServer, model: str, method: str, args: list[Any]) -> Any:
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {
                "service": "object",
                "method": "execute_kw",
                "args": [server.db_name, 2, "admin", model, method, args],
            },
            "id": 1,
        }
        answer = httpx.post(f"{server.url}/jsonrpc", json=body).json()
        return (
            answer["result"]
            if "result" in answer
            else (answer["error"]["data"]["name"], answer["error"]["data"]["message"])
        )

    def types(server: SandboxServer, model: str, rid: int) -> tuple[str, str]:
        row = call(server, model, "read", [[rid], ["type", "detailed_type"]])[0]
        return row["type"], row["detailed_type"]

    with SandboxServer(port=0, db_path=tmp_path / "v17.sqlite", version="17.0") as server:
        storable = call(server, "product.product", "create", [{"name": "Bar", "detailed_type": "product"}])
        assert types(server, "product.product", storable) == ("product", "product")
        by_type = call(server, "product.product", "create", [{"name": "Bolt", "type": "product"}])
        assert types(server, "product.product", by_type) == ("product", "product")
        plain = call(server, "product.product", "create", [{"name": "Oil"}])
        assert types(server, "product.product", plain) == ("consu", "consu")
        assert call(
            server, "product.product", "create", [{"name": "X", "type": "consu", "detailed_type": "product"}]
        ) == ("odoo.exceptions.ValidationError", "The Type of this product doesn't match the Detailed Type")
        tmpl = call(server, "product.template", "create", [{"name": "Svc", "detailed_type": "service"}])
        assert call(server, "product.template", "write", [[tmpl], {"detailed_type": "product"}]) is True
        assert types(server, "product.template", tmpl) == ("product", "product")
        assert call(server, "product.template", "write", [[tmpl], {"type": "consu"}]) is True
        assert types(server, "product.template", tmpl) == ("consu", "consu")
        meta = call(server, "product.product", "fields_get", [["detailed_type"]])
        assert ["product", "Storable Product"] in meta["detailed_type"]["selection"]
        # and the stock side (reservation, quants) takes it as storable
        env = server.env()
        assert server.registry.transaction(lambda: env["product.product"].browse(storable)._storable())
    with SandboxServer(port=0, db_path=tmp_path / "v18.sqlite", version="18.0") as server:
        assert call(server, "product.product", "fields_get", [["detailed_type"]]) == {}
        assert call(server, "product.product", "create", [{"name": "Bar", "detailed_type": "product"}]) == (
            "builtins.ValueError",
            "Invalid field 'detailed_type' on model 'product.product'",
        )
