"""Contract suite support: an Odoo target (sandbox or real) with fresh master data, events, replays."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from odoo_sync.bootstrap import BootstrapResult, bootstrap
from odoo_sync.client import OdooClient
from odoo_sync.transport import OdooSettings
from odoo_sync.writer import OdooWriter
from uns_model.contract_base import Event
from uns_model.delivery import DeliveryReceipt, OutboundEvent
from uns_model.plant import PlantModel

REAL_ENV = ("ODOO_URL", "ODOO_DB", "ODOO_USER", "ODOO_KEY")


def real_settings() -> tuple[OdooSettings, OdooSettings | None] | None:
    """Bridge and admin settings of a real Odoo from the environment, or None when not given."""
    if not all(os.environ.get(k) for k in REAL_ENV):
        return None
    url, db = os.environ["ODOO_URL"], os.environ["ODOO_DB"]
    bridge = OdooSettings(url=url, db=db, user=os.environ["ODOO_USER"], key=SecretStr(os.environ["ODOO_KEY"]))
    admin_login = os.environ.get("ODOO_ADMIN_LOGIN")
    admin_secret = os.environ.get("ODOO_ADMIN_KEY") or os.environ.get("ODOO_ADMIN_PASSWORD")
    if not admin_login or not admin_secret:
        return bridge, None
    return bridge, OdooSettings(url=url, db=db, user=admin_login, key=SecretStr(admin_secret))


def plant_dict(run: str) -> dict[str, Any]:
    return {
        "plant_model": 1,
        "enterprise": "acme",
        "site": f"s{run}",
        "products": [
            {"code": f"FG-{run}", "kind": "finished", "name": f"Bracket {run}"},
            {"code": f"FGL-{run}", "kind": "finished", "name": f"Flange {run} (lot-tracked)"},
            {"code": f"RM-{run}-A", "kind": "component", "uom": "kg", "name": f"Bar stock {run}"},
            {"code": f"RM-{run}-B", "kind": "component", "name": f"Insert {run}"},
            {"code": f"RM-{run}-X", "kind": "component", "name": f"Shim {run} (not in the BoM)"},
        ],
        "areas": [
            {
                "name": "area1",
                "lines": [
                    {
                        "name": "line1",
                        "cells": [
                            {
                                "name": "cell-a",
                                "workcenter": f"WA{run}",
                                "equipment": [{"name": "spindle", "serial": f"SP-{run}-A"}],
                            },
                            {"name": "cell-b", "workcenter": f"WB{run}"},
                        ],
                    }
                ],
            }
        ],
    }


@dataclass
class Target:
    """One Odoo with this run's master data, the bridge's client and writer, and an admin client."""

    name: str
    run: str
    bridge: OdooSettings
    client: OdooClient
    admin: OdooClient
    plant: PlantModel
    data: BootstrapResult
    writer: OdooWriter = field(init=False)

    def __post_init__(self) -> None:
        self.writer = OdooWriter(self.client)

    @property
    def line(self) -> str:
        return f"acme/s{self.run}/area1/line1"

    def cell(self, name: str = "cell-a") -> str:
        return f"{self.line}/{name}"

    @property
    def wc_a(self) -> str:
        return f"WA{self.run}"

    @property
    def wc_b(self) -> str:
        return f"WB{self.run}"

    def code(self, short: str) -> str:
        """'FG' -> 'FG-<run>', 'A' -> 'RM-<run>-A'."""
        return f"{short}-{self.run}" if short.startswith("FG") else f"RM-{self.run}-{short}"

    def new_order(self, product: str = "FG", quantity: float = 10.0) -> tuple[int, str]:
        """A confirmed manufacturing order made by a planner (the admin), as Odoo users do."""
        code = self.code(product)
        mo = self.admin.create(
            "mrp.production",
            {
                "product_id": self.data.products[code],
                "product_qty": quantity,
                "bom_id": self.data.boms[code],
                "origin": f"contract {self.run}",
            },
        )
        self.admin.call("mrp.production", "action_confirm", [mo])
        return mo, self.admin.read_one("mrp.production", mo, ["name"])["name"]

    def mo(self, mo_id: int, *fields: str) -> dict[str, Any]:
        return self.admin.read_one("mrp.production", mo_id, list(fields) or ["name", "state"])

    def deliver(self, event: Event) -> DeliveryReceipt:
        return self.writer.deliver(outbound(event))

    def deliver_twice(self, event: Event, *watch: tuple[str, list[Any]]) -> DeliveryReceipt:
        """Deliver, look at Odoo, deliver again (the outbox's at-least-once): the second is a no-op."""
        first = self.deliver(event)
        before = self.snapshot(*watch)
        second = self.deliver(event)
        after = self.snapshot(*watch)
        assert second.record_model == first.record_model
        assert set(second.record_ids) <= set(first.record_ids) or second.record_ids == first.record_ids[-1:]
        assert after == before, f"replay of {event.CONTRACT} changed Odoo"
        assert self.writer.counters["unchanged"] >= 1
        return first

    def snapshot(self, *watch: tuple[str, list[Any]]) -> dict[str, Any]:
        """Counts and states Odoo holds for this run: records a replay must not add or change."""
        mos = self.admin.search_read(
            "mrp.production",
            [("origin", "=", f"contract {self.run}")],
            ["name", "state", "qty_producing", "qty_produced", "product_qty"],
        )
        ids = [m["id"] for m in mos]
        snap: dict[str, Any] = {
            "orders": sorted((m["id"], m["name"], m["state"], m["qty_producing"]) for m in mos),
            "moves": sorted(
                (m["id"], m["quantity"], m["state"])
                for m in self.admin.search_read(
                    "stock.move", [("raw_material_production_id", "in", ids)], ["quantity", "state"]
                )
            ),
            "scraps": self.admin.search_count("stock.scrap", [("production_id", "in", ids)]),
            "messages": self.admin.search_count(
                "mail.message", [("model", "=", "mrp.production"), ("res_id", "in", ids)]
            ),
            "activities": self.admin.search_count(
                "mail.activity", [("res_model", "=", "mrp.production"), ("res_id", "in", ids)]
            ),
            "lots": self.admin.search_count(
                "stock.lot", [("product_id", "in", list(self.data.products.values()))]
            ),
        }
        for model, domain in watch:
            snap[model] = sorted(
                tuple(sorted((k, str(v)) for k, v in r.items()))
                for r in self.admin.search_read(model, domain, ["write_date"])
            )
        return snap


def outbound(event: Event) -> OutboundEvent:
    return OutboundEvent(
        event_id=event.event_id,
        contract=event.CONTRACT,
        version=event.VERSION,
        ordering_key=event.ordering_key,
        payload=event.model_dump(mode="json"),
        created_unix_ms=int(time.time() * 1000),
    )


def new_run() -> str:
    return uuid.uuid4().hex[:6].upper()


def prepare(name: str, bridge: OdooSettings, admin: OdooSettings) -> Target:
    run = new_run()
    plant = PlantModel.model_validate(plant_dict(run))
    admin_client = OdooClient.connect(admin)
    data = bootstrap(
        admin_client,
        plant,
        demo_orders=0,
        tracking_of={f"FGL-{run}": "lot"},
        bridge_login=bridge.user,
        bom_components={
            f"FG-{run}": [f"RM-{run}-A", f"RM-{run}-B"],
            f"FGL-{run}": [f"RM-{run}-A"],
        },
    )
    return Target(name, run, bridge, OdooClient.connect(bridge), admin_client, plant, data)


@contextmanager
def sandbox_target(tmp: Path, version: str = "18.0") -> Iterator[Target]:
    """The Odoo sandbox (scenarios/odoo_sandbox) with a least-privilege bridge user; 19.0 speaks JSON-2."""
    from tests.contract.sandbox import start_sandbox

    with start_sandbox(tmp, version) as (bridge, admin):
        yield prepare(f"sandbox {version}", bridge, admin)
