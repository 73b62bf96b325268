"""Our EdgeNode on a real Mosquitto, read by pysparkplug's client and by Tahu's sparkplug-payload."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sparkplug.datatypes import DataType
from sparkplug.edge_node import EdgeNode
from sparkplug.edge_node_model import MetricDef
from tests.interop.capture import Capture
from tests.interop.peers import PysparkplugHost, needs_pysparkplug, needs_tahu, tahu_decode
from tests.support.mosquitto import Mosquitto

pytestmark = pytest.mark.interop

NODE_METRICS = [
    MetricDef("Uptime", DataType.Int64, 0),
    MetricDef("Properties/Firmware", DataType.String, "1.2.3"),
]
CELL_METRICS = [
    MetricDef("Spindle/Speed", DataType.Double, 0.0),
    MetricDef("Counters/Good", DataType.Int32, 0),
    MetricDef("Running", DataType.Boolean, False),
    MetricDef("Program", DataType.String, ""),
    MetricDef("Counters/Total", DataType.UInt64, 0),
    MetricDef("Axis/Load", DataType.Float, 0.0),
]
DATA: list[dict[str, Any]] = [
    {"Spindle/Speed": 1200.5, "Counters/Good": 1, "Running": True},
    {"Spindle/Speed": 1210.25, "Counters/Good": 2, "Program": "O1234", "Counters/Total": 2**63 + 5},
    {"Axis/Load": 0.5, "Running": False},
]


@pytest.fixture
def edge(broker: Mosquitto, uid: str) -> Iterator[EdgeNode]:
    node = EdgeNode(uid, "line1", broker.url, NODE_METRICS, client_id=f"{uid}-edge")
    node.add_device("cell1", CELL_METRICS)
    yield node
    node.stop()


@needs_pysparkplug
def test_pysparkplug_reads_our_births_data_and_death(broker: Mosquitto, uid: str, edge: EdgeNode) -> None:
    host = PysparkplugHost(broker.port, uid)
    try:
        edge.start()
        assert edge.wait_online(10)
        for values in DATA:
            edge.publish_device_data("cell1", values)
        host.wait_for(lambda e: e.get("type") == "DDATA" and e["seq"] == 4)  # NBIRTH 0, DBIRTH 1, DDATA 2..4
        edge.stop()
        ndeath = host.wait_for(lambda e: e.get("type") == "NDEATH")
    finally:
        host.close()
    assert not [e for e in host.seen if e.get("event") == "error"], host.seen

    [nbirth] = host.messages("NBIRTH")
    by_name = {m["name"]: m for m in nbirth["metrics"]}
    assert by_name["bdSeq"]["datatype"] == DataType.Int64
    assert by_name["Node Control/Rebirth"] == {
        **by_name["Node Control/Rebirth"],
        "datatype": 11,
        "value": False,
    }
    assert by_name["Node Control/Rebirth"]["alias"] is None
    assert by_name["Properties/Firmware"]["value"] == "1.2.3"
    assert ndeath["metrics"][0]["name"] == "bdSeq"
    assert ndeath["metrics"][0]["value"] == by_name["bdSeq"]["value"]
    # Our NDEATH has a timestamp; pysparkplug's decoder drops it (P-NDEATH-TIMESTAMP in the docs).
    assert ndeath["timestamp"] is None

    [dbirth] = host.messages("DBIRTH")
    birth_types = {m["name"]: m["datatype"] for m in dbirth["metrics"]}
    assert birth_types == {d.name: int(d.datatype) for d in CELL_METRICS}
    assert len({m["alias"] for m in dbirth["metrics"]}) == len(CELL_METRICS)

    ddata = host.messages("DDATA")
    assert [d["seq"] for d in ddata] == [2, 3, 4]
    for sent, got in zip(DATA, ddata, strict=True):
        # pysparkplug resolved our alias-only metrics to names and datatypes through the DBIRTH.
        assert all(m["alias"] is not None for m in got["metrics"])
        values = {m["name"]: m["value"] for m in got["metrics"]}
        assert values == sent
        assert {m["name"]: m["datatype"] for m in got["metrics"]} == {n: birth_types[n] for n in sent}


@needs_pysparkplug
def test_pysparkplug_cannot_read_our_negative_int8(broker: Mosquitto, uid: str) -> None:
    # We write Int8 -1 sign-extended in the uint32 field (as Tahu Java/JS and the TCK do); pysparkplug
    # only accepts the 8-bit two's complement (255) and raises. Deviation P-SIGNED in the docs.
    node = EdgeNode(uid, "line1", broker.url, client_id=f"{uid}-edge")
    node.add_device("cell1", [MetricDef("Offset", DataType.Int8, 0)])
    host = PysparkplugHost(broker.port, uid)
    try:
        node.start()
        assert node.wait_online(10)
        node.publish_device_data("cell1", {"Offset": -1})
        error = host.wait_for(lambda e: e.get("event") == "error")
    finally:
        node.stop()
        host.close()
    assert error["topic"].endswith("/DDATA/line1/cell1")
    assert "OverflowError" in error["error"], error


@needs_tahu
def test_tahu_reads_our_live_births_data_and_death(broker: Mosquitto, uid: str, edge: EdgeNode) -> None:
    capture = Capture(broker.host, broker.port, f"spBv1.0/{uid}/#")
    try:
        edge.start()
        assert edge.wait_online(10)
        for values in DATA:
            edge.publish_device_data("cell1", values)
        capture.wait_for("/DDATA/", 3)
        edge.stop()
        capture.wait_for("/NDEATH/")
    finally:
        capture.close()
    msgs = capture.messages
    assert [m.topic.split("/")[2] for m in msgs] == ["NBIRTH", "DBIRTH", "DDATA", "DDATA", "DDATA", "NDEATH"]
    # Births and data at QoS 0, not retained; our clean NDEATH at QoS 1, like the will it stands for.
    assert [(m.qos, m.retain) for m in msgs[:-1]] == [(0, False)] * 5
    assert (msgs[-1].qos, msgs[-1].retain) == (1, False)

    decoded = tahu_decode([m.payload for m in msgs])
    assert all(d["ok"] for d in decoded), decoded
    nbirth, dbirth, *ddata, ndeath = (d["payload"] for d in decoded)
    assert [p.get("seq") for p in (nbirth, dbirth, *ddata)] == [0, 1, 2, 3, 4]
    assert "seq" not in ndeath
    nb = {m["name"]: m for m in nbirth["metrics"]}
    assert nb["bdSeq"]["type"] == "Int64" and nb["Node Control/Rebirth"]["value"] is False
    assert nb["Uptime"]["type"] == "Int64" and nb["Properties/Firmware"]["value"] == "1.2.3"
    assert ndeath["metrics"] == [{**ndeath["metrics"][0], "name": "bdSeq", "type": "Int64"}]
    assert ndeath["metrics"][0]["value"] == nb["bdSeq"]["value"]

    alias_of = {m["name"]: m["alias"] for m in dbirth["metrics"]}
    assert {m["name"]: m["type"] for m in dbirth["metrics"]} == {
        d.name: d.datatype.name for d in CELL_METRICS
    }
    for sent, got in zip(DATA, ddata, strict=True):
        # Alias only and no datatype on the wire, as the spec asks; Tahu can show the aliases but,
        # reading values by the datatype field, no values (deviation T-DATATYPE-IN-DATA).
        assert sorted(m["alias"] for m in got["metrics"]) == sorted(alias_of[n] for n in sent)
        assert all("name" not in m and m["value"] is None for m in got["metrics"])
