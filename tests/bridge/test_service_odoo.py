"""`uns run --odoo` against the Odoo sandbox: plant traffic from our edge node ends up as Odoo records
(production on the order, a downtime, a maintenance request), the delivery status names them, and
Odoo's open order comes back as retained JSON under the line's _erp/orders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridge.config import load_settings
from bridge.service import BridgeService
from odoo_sync.bootstrap import bootstrap
from odoo_sync.client import OdooClient
from sparkplug.datatypes import DataType
from sparkplug.edge_node_model import MetricDef
from tests.bridge.service_support import Watcher, edge_node, wait_for, write_plant
from tests.contract.sandbox import start_sandbox
from tests.support.mosquitto import Mosquitto
from uns_model.loader import load_plant


def test_events_become_odoo_records_and_orders_come_back(broker: Mosquitto, uid: str, tmp_path: Path) -> None:
    plant_file = write_plant(tmp_path, uid)
    (tmp_path / "odoo").mkdir()
    with start_sandbox(tmp_path / "odoo") as (bridge_user, admin):
        admin_client = OdooClient.connect(admin)
        boot = bootstrap(
            admin_client, load_plant(plant_file), bridge_login=bridge_user.user, demo_quantity=100
        )
        mo_id = boot.orders["FG-1"][0]
        mo_name = admin_client.read_one("mrp.production", mo_id, ["name"])["name"]
        settings = load_settings(
            plant=plant_file,
            broker=broker.url,
            host_id=f"h-{uid}",
            data_dir=tmp_path / "data",
            window_s=1.0,
            grace_ms=300,
            metrics_port=0,  # a free port: 9108 may be taken by another bridge
            odoo_url=bridge_user.url,
            odoo_db=bridge_user.db,
            odoo_user=bridge_user.user,
            odoo_api_key=bridge_user.key,
            odoo_poll_s=0.5,
            sink="odoo",
            outbox_backoff_base_s=0.05,
            outbox_backoff_cap_s=0.2,
        )
        watcher = Watcher(broker.port, f"acme/{uid}/#")
        service = BridgeService(settings)
        service.start()
        node = edge_node(broker.url, uid, settings.host_id, tmp_path, {"order": mo_name, "lot": "LOT-1"})
        node.add_device("cell2", [MetricDef("counters/good", DataType.UInt32, 0)])
        try:
            assert service.wait_ready(10)
            node.start()
            assert node.wait_online(10)
            for good in range(1, 13):
                node.publish_device_data("cell1", {"counters/good": good})
            node.publish_device_data("cell1", {"state": 4})
            node.publish_device_data("cell1", {"state": 1, "alarm": True})

            def delivered(contract: str) -> list[dict[str, Any]]:
                return [
                    m
                    for m in watcher.on("")
                    if m.get("contract") == "delivery_status"
                    and m["event_contract"] == contract
                    and m["state"] == "delivered"
                ]

            wait_for(lambda: delivered("downtime_ended"), 30, "downtime delivered")
            wait_for(lambda: delivered("maintenance_requested"), 30, "maintenance delivered")
            prod = wait_for(
                lambda: [
                    s
                    for s in delivered("production_reported")
                    if admin_client.read_one("mrp.production", mo_id, ["qty_producing"])["qty_producing"]
                    == 12
                ],
                30,
                "qty_producing 12 on the order",
            )
            assert prod[-1]["record_model"] == "mrp.production" and mo_id in prod[-1]["record_ids"]
            dead = [
                m for m in watcher.on("") if m.get("contract") == "delivery_status" and m["state"] == "dead"
            ]
            assert dead == []

            wc = boot.workcenters["WC-1"]
            stops = admin_client.search_read(
                "mrp.workcenter.productivity", [("workcenter_id", "=", wc)], ["date_end", "loss_id"]
            )
            assert len(stops) == 1 and stops[0]["date_end"]
            requests = admin_client.search_read(
                "maintenance.request", [("equipment_id", "=", boot.equipment["SP-1"])], ["name"]
            )
            assert len(requests) == 1

            # Odoo's open order, published back for the line (retained JSON, information only).
            orders = wait_for(
                lambda: watcher.on_prefix(f"acme/{uid}/hall/line1/_erp/orders/"), 20, "order back"
            )
            assert orders[-1]["external_work_order_id"] == mo_name

            # cell2's PLC knows no order: once its work order is started in Odoo, its counts book there.
            wc2 = boot.workcenters["WC-2"]
            (wo,) = admin_client.search_read(
                "mrp.workorder", [("production_id", "=", mo_id), ("workcenter_id", "=", wc2)], ["state"]
            )
            wo_id = int(wo["id"])
            admin_client.call("mrp.workorder", "button_start", [wo_id])
            cell2 = f"acme/{uid}/hall/line1/cell2"
            wait_for(
                lambda: service.pipeline.timeline.latest(f"erp-order:{cell2}") == mo_name, 20, "erp order"
            )
            for good in range(1, 6):
                node.publish_device_data("cell2", {"counters/good": good})

            def produced() -> float:
                return float(admin_client.read_one("mrp.workorder", wo_id, ["qty_produced"])["qty_produced"])

            wait_for(lambda: produced() == 5, 30, "qty_produced 5 on cell2's work order")
        finally:
            node.stop()
            service.stop()
            watcher.stop()
            admin_client.close()
