"""The two example plants validate and resolve both ways."""

from __future__ import annotations

from pathlib import Path

import pytest

from uns_model import PlantResolver, load_plant

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
