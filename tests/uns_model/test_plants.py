"""The two example plants validate and resolve both ways."""

from __future__ import annotations

from pathlib import Path

import pytest

from uns_model import PlantResolver, load_plant
from uns_model.tags import ModbusSource

PLANTS = Path(__file__).resolve().parents[2] / "scenarios" / "plants"


@pytest.mark.parametrize("name", ["cnc_shop.yaml", "batch_plant.yaml"])
def test_example_plant_validates_and_resolves(name: str) -> None:
    plant = load_plant(PLANTS / name)
    resolver = PlantResolver(plant)
    refs = resolver.tags()
    assert refs, "an example plant without tags teaches nothing"
    for ref in refs:
        a = ref.address
        assert resolver.by_sparkplug(a.group_id, a.edge_node_id, a.device_id, a.metric) is ref
        assert resolver.by_place(ref.place, ref.path) is ref
        assert resolver.by_raw_topic(ref.raw_topic) is ref


def test_cnc_shop_uses_both_sources_and_overrides() -> None:
    resolver = PlantResolver(load_plant(PLANTS / "cnc_shop.yaml"))
    nodes = {(n.group_id, n.edge_node_id): n for n in resolver.edge_nodes()}
    assert set(nodes) == {("toolworks", "line1"), ("toolworks", "line2-gateway")}
    lathe = resolver.device("toolworks", "line2-gateway", "lathe-201")
    assert lathe is not None and lathe.place.path == "acme/toolworks/machining/line2/cnc-201"
    good = resolver.by_sparkplug("toolworks", "line2-gateway", "lathe-201", "counters/good")
    assert good is not None and good.role == "good_count" and good.workcenter == "CNC-201"
    assert good.raw_topic == "acme/toolworks/machining/line2/cnc-201/_raw/counters/good"


def test_batch_plant_has_the_process_roles() -> None:
    resolver = PlantResolver(load_plant(PLANTS / "batch_plant.yaml"))
    roles = {r.role for r in resolver.tags()}
    assert {"consumption", "process_value", "lot", "order", "good_count", "alarm", "runtime_hours"} <= roles
    assert resolver.groups() == ["acme-blending"]


def test_role_details_resolve() -> None:
    resolver = PlantResolver(load_plant(PLANTS / "cnc_shop.yaml"))
    alarm = resolver.by_place("acme/toolworks/machining/line2/cnc-202", "spindle/overtemp_alarm")
    assert alarm is not None
    equipment = resolver.equipment_of(alarm)
    assert equipment is not None and equipment.serial == "SP-202-0001"
    conn = resolver.connection_of(alarm)
    assert conn.kind == "modbus" and conn.port == 5020
    state = resolver.by_place("acme/toolworks/machining/line1/cnc-101", "state")
    assert state is not None
    table = resolver.state_table_of(state)
    assert table is not None
    entry = table.lookup(4)
    assert entry is not None and entry.reason == "Tool breakage" and entry.is_stop
    assert entry.odoo_loss == "Equipment Failure" and entry.effective_loss_type == "availability"
    assert table.lookup(40000) is None  # the cnc table is exact, no UMH blocks
    bar = resolver.by_place("acme/toolworks/machining/line1/cnc-101", "material/bar_stock_kg")
    assert bar is not None
    product = resolver.product_of(bar)
    assert product is not None and product.uom == "kg"
    assert resolver.equipment_of(bar) is None and resolver.state_table_of(bar) is None


def test_umh_table_falls_back_to_its_block() -> None:
    plant = load_plant(PLANTS / "batch_plant.yaml")
    umh = plant.state_table("umh")
    assert umh is not None
    running, failure, sub = umh.lookup(10000), umh.lookup(180000), umh.lookup(180003)
    assert running is not None and running.state == "running" and not running.is_stop
    assert failure is not None and sub == failure and failure.state == "unplanned_stop"
    changeover = umh.lookup(100010)
    assert changeover is not None and changeover.state == "planned_stop"
    assert umh.lookup(5) is None and umh.lookup(230000) is None


def test_modbus_register_counts() -> None:
    resolver = PlantResolver(load_plant(PLANTS / "cnc_shop.yaml"))
    good = resolver.by_place("acme/toolworks/machining/line2/cnc-201", "counters/good")
    assert good is not None
    src = good.tag.source
    assert isinstance(src, ModbusSource)
    assert src.register_count == 2 and src.word_order == "little"


def test_umh_table_covers_every_block_and_losses_agree() -> None:
    from uns_model.states import ODOO_DEFAULT_LOSSES, UMH_STATES

    umh = load_plant(PLANTS / "batch_plant.yaml").state_table("umh")
    assert umh is not None
    for block in range(10000, 230000, 10000):
        assert umh.lookup(block + 7) is not None, block
    for entry in UMH_STATES.values():
        if entry.odoo_loss is not None:
            assert entry.effective_loss_type == ODOO_DEFAULT_LOSSES[entry.odoo_loss]
