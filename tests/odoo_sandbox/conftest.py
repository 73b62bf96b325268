"""Fixtures: one sandbox server per test module, seeded with a small plant, users and API keys."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import odoorpc
import pytest

from scenarios.odoo_sandbox import SandboxServer

PLANT = {
    "products": [
        {"default_code": "GEAR-01", "name": "Gear", "tracking": "lot"},
        {"default_code": "SHAFT-01", "name": "Shaft"},
        {"default_code": "STEEL", "name": "Steel bar", "uom": "kg", "on_hand": 1000},
        {"default_code": "BOLT", "name": "Bolt", "on_hand": 5000},
        {"default_code": "PUMP", "name": "Pump"},
        {"default_code": "IMPELLER", "name": "Impeller", "on_hand": 100},
        {"default_code": "SENSOR", "name": "Sensor", "tracking": "serial"},
    ],
    "workcenters": [{"code": "CNC1", "name": "CNC Mill 1"}, {"code": "ASM1", "name": "Assembly 1"}],
    "boms": [
        {
            "product": "GEAR-01",
            "quantity": 1,
            "consumption": "warning",
            "lines": [{"product": "STEEL", "quantity": 0.5}, {"product": "BOLT", "quantity": 2}],
            "operations": [{"name": "Milling", "workcenter": "CNC1", "minutes": 12}],
        },
        {
            "product": "SHAFT-01",
            "quantity": 2,
            "consumption": "flexible",
            "lines": [{"product": "STEEL", "quantity": 1}],
        },
        {
            "product": "PUMP",
            "quantity": 1,
            "consumption": "strict",
            "lines": [{"product": "IMPELLER", "quantity": 1}],
        },
    ],
    "equipment": [{"name": "CNC Mill 1 spindle", "serial_no": "SP-0001", "workcenter": "CNC1"}],
}


@dataclass
class Sandbox:
    server: SandboxServer
    ids: dict[str, dict[str, int]]
    integration_uid: int
    integration_key: str
    nogroup_key: str

    @property
    def url(self) -> str:
        return self.server.url

    def odoo(self, login: str = "integration", key: str | None = None) -> odoorpc.ODOO:
        client = odoorpc.ODOO("127.0.0.1", port=self.server.port)
        client.login(self.server.db_name, login, key or self.integration_key)
        return client


def make_sandbox(tmp: Path, version: str) -> Iterator[Sandbox]:
    server = SandboxServer(port=0, db_path=tmp / "odoo.sqlite", version=version).start()
    try:
        ids = server.seed_plant(PLANT)
        uid = server.add_user(
            "integration", "UNS Bridge", ["mrp.group_mrp_user", "maintenance.group_equipment_manager"]
        )
        key = server.add_api_key(uid, "uns-bridge")
        viewer = server.add_user("viewer", "Viewer", ["base.group_user"])
        yield Sandbox(server, ids, uid, key, server.add_api_key(viewer, "viewer"))
    finally:
        server.stop()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    yield from make_sandbox(tmp_path_factory.mktemp("odoo18"), "18.0")


@pytest.fixture(scope="module")
def odoo(sandbox: Sandbox) -> odoorpc.ODOO:
    return sandbox.odoo()
