"""Property tests of the Sparkplug <-> ISA-95 mapping over generated plants."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from uns_model import PlantModel, PlantResolver
from uns_model.topics import parse_topic

names = st.builds(lambda a, b: a + b, st.sampled_from("abcxyz"), st.text(alphabet="abc0123-", max_size=5))
tag_paths = st.lists(names, min_size=1, max_size=3).map("/".join)


@st.composite
def plants(draw: st.DrawFn) -> dict[str, Any]:
    line_no = 0
    areas = []
    for area in draw(st.lists(names, min_size=1, max_size=3, unique=True)):
        lines = []
        for _ in range(draw(st.integers(1, 3))):
            line_no += 1
            line: dict[str, Any] = {
                "name": f"L{line_no}",
                "connections": [{"name": "plc", "kind": "opcua", "endpoint": "opc.tcp://127.0.0.1:4840"}],
                "cells": [],
            }
            if draw(st.booleans()):
                line["group_id"] = draw(st.sampled_from(["g1", "g2"]))
            if draw(st.booleans()):
                line["edge_node_id"] = f"gw-{line_no}"
            for cell_name in draw(st.lists(names, min_size=1, max_size=3, unique=True)):
                cell: dict[str, Any] = {"name": cell_name, "tags": []}
                if draw(st.booleans()):
                    cell["device_id"] = f"dev {cell_name}"  # Sparkplug ids may hold spaces
                for path in draw(st.lists(tag_paths, min_size=1, max_size=4, unique=True)):
                    cell["tags"].append(
                        {
                            "path": path,
                            "datatype": "Float",
                            "source": {"connection": "plc", "node_id": f"ns=2;s={path}"},
                        }
                    )
                line["cells"].append(cell)
            lines.append(line)
        areas.append({"name": area, "lines": lines})
    return {"enterprise": draw(names), "site": draw(names), "areas": areas}


@settings(max_examples=60, deadline=None)
@given(plants())
def test_mapping_is_a_bijection_both_ways(data: dict[str, Any]) -> None:
    plant = PlantModel.model_validate(data)
    resolver = PlantResolver(plant)
    refs = resolver.tags()
    assert len(refs) == sum(len(c.tags) for _, _, c in plant.iter_cells())
    assert len({r.address for r in refs}) == len(refs)
    for ref in refs:
        a = ref.address
        assert resolver.by_sparkplug(a.group_id, a.edge_node_id, a.device_id, a.metric) is ref
        assert resolver.by_place(ref.place.path, ref.path) is ref
        topic = parse_topic(ref.raw_topic)
        assert (topic.place, topic.tag_path) == (ref.place, a.metric)
        device = resolver.cell(ref.place)
        coords = (a.group_id, a.edge_node_id, a.device_id)
        assert device is not None and (device.group_id, device.edge_node_id, device.device_id) == coords
        assert resolver.device(*coords) is device


@settings(max_examples=40, deadline=None)
@given(plants())
def test_defaults_are_site_line_cell(data: dict[str, Any]) -> None:
    plant = PlantModel.model_validate(data)
    for ref in PlantResolver(plant).tags():
        line = next(ln for area in data["areas"] for ln in area["lines"] if ln["name"] == ref.place.line)
        cell = next(c for c in line["cells"] if c["name"] == ref.place.cell)
        assert ref.address.group_id == line.get("group_id", data["site"])
        assert ref.address.edge_node_id == line.get("edge_node_id", line["name"])
        assert ref.address.device_id == cell.get("device_id", cell["name"])


def test_unknown_coordinates_resolve_to_none() -> None:
    data = {
        "enterprise": "e",
        "site": "s",
        "areas": [
            {
                "name": "a",
                "lines": [
                    {
                        "name": "l",
                        "connections": [{"name": "p", "kind": "opcua", "endpoint": "opc.tcp://h:1"}],
                        "cells": [
                            {
                                "name": "c",
                                "tags": [
                                    {
                                        "path": "t",
                                        "datatype": "Float",
                                        "source": {"connection": "p", "node_id": "i=5"},
                                    }
                                ],
                            }
                        ],
                    }
                ],
            }
        ],
    }
    resolver = PlantResolver(PlantModel.model_validate(data))
    assert resolver.by_sparkplug("s", "l", "c", "t") is not None
    assert resolver.by_sparkplug("s", "l", "c", "Node Control/Rebirth") is None
    assert resolver.by_sparkplug("s", "l", "other", "t") is None
    assert resolver.device("s", "l", "c") is not None and resolver.edge_node("s", "l") is not None
