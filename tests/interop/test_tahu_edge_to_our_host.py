"""Eclipse Tahu's sparkplug-client (npm) as an edge node, feeding our HostApplication on a real Mosquitto."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sparkplug.datatypes import DataType
from sparkplug.host_registry import DeviceBirth, DeviceDeath, NodeBirth, NodeDeath, RebirthRequested
from tests.interop.hostrec import RecordingHost
from tests.interop.peers import needs_tahu, run_tahu_edge
from tests.support.mosquitto import Mosquitto

pytestmark = [pytest.mark.interop, needs_tahu]

NBIRTH = [
    {"name": "Node Control/Rebirth", "type": "Boolean", "value": False},
    {"name": "Properties/Hardware", "type": "String", "value": "rpi4", "alias": 1},
]
DBIRTH = [
    {"name": "Spindle/Speed", "alias": 10, "type": "Double", "value": 0.0},
    {"name": "Counters/Good", "alias": 11, "type": "Int32", "value": -1},
    {"name": "Running", "alias": 12, "type": "Boolean", "value": False},
    {"name": "Program", "alias": 13, "type": "String", "value": "O0001"},
    {"name": "Counters/Total", "alias": 14, "type": "Int64", "value": "9007199254740993"},
    {"name": "Counters/Cycles", "alias": 15, "type": "UInt32", "value": 4000000000},
    {"name": "Axis/Load", "alias": 16, "type": "Float", "value": 0.25},
]
EXPECTED_TYPES = {
    "Spindle/Speed": DataType.Double,
    "Counters/Good": DataType.Int32,
    "Running": DataType.Boolean,
    "Program": DataType.String,
    "Counters/Total": DataType.Int64,
    "Counters/Cycles": DataType.UInt32,
    "Axis/Load": DataType.Float,
}
DDATA: list[dict[str, Any]] = [
    {"device": "cell1", "metrics": [{"alias": 10, "type": "Double", "value": 1200.5}]},
    {
        "device": "cell1",
        "metrics": [
            {"alias": 11, "type": "Int32", "value": -42},
            {"alias": 12, "type": "Boolean", "value": True},
            {"alias": 14, "type": "Int64", "value": "-9007199254740993"},
            {"alias": 15, "type": "UInt32", "value": 4000000001},
        ],
    },
    {"device": "cell1", "metrics": [{"alias": 13, "type": "String", "value": "O1234"}]},
]


@pytest.fixture
def host(broker: Mosquitto, uid: str) -> Iterator[RecordingHost]:
    h = RecordingHost(broker.url, uid, f"{uid}-host", rebirth_min_interval=0.0)
    yield h
    h.stop()


def test_tahu_births_and_alias_only_data_reach_our_host(
    broker: Mosquitto, uid: str, host: RecordingHost
) -> None:
    plan = {"nbirth": NBIRTH, "dbirths": {"cell1": DBIRTH}, "data": DDATA}
    events = run_tahu_edge(broker.url, uid, "line1", plan)
    assert [e["type"] for e in events if e["event"] == "publish"] == [
        "NBIRTH",
        "DBIRTH",
        "DDATA",
        "DDATA",
        "DDATA",
    ]
    host.wait(lambda: len(host.events_of(NodeDeath)) == 1, what="NDEATH")

    [nbirth] = host.events_of(NodeBirth)
    assert (nbirth.edge_node_id, nbirth.bdseq) == ("line1", 0)  # Tahu's bdSeq: UInt64 0 (T-BDSEQ-TYPE)
    assert {m.name: m.datatype for m in nbirth.metrics} == {
        "Node Control/Rebirth": DataType.Boolean,
        "Properties/Hardware": DataType.String,
        "bdSeq": DataType.UInt64,
    }
    [dbirth] = host.events_of(DeviceBirth)
    assert dbirth.device_id == "cell1"
    assert {m.name: m.datatype for m in dbirth.metrics} == EXPECTED_TYPES
    assert {m.name: m.alias for m in dbirth.metrics} == {m["name"]: m["alias"] for m in DBIRTH}

    assert host.values("DBIRTH") == [
        {
            "Spindle/Speed": 0.0,
            "Counters/Good": -1,
            "Running": False,
            "Program": "O0001",
            "Counters/Total": 9007199254740993,
            "Counters/Cycles": 4000000000,
            "Axis/Load": 0.25,
        }
    ]
    # Aliases resolved through the DBIRTH, values in the birth's datatypes, big integers exact.
    assert host.values("DDATA") == [
        {"Spindle/Speed": 1200.5},
        {
            "Counters/Good": -42,
            "Running": True,
            "Counters/Total": -9007199254740993,
            "Counters/Cycles": 4000000001,
        },
        {"Program": "O1234"},
    ]
    assert [b.seq for b in host.batches if b.message_type == "DDATA"] == [2, 3, 4]
    # Tahu's clean stop: NDEATH with bdSeq 0 and no seq, matched to the NBIRTH.
    [death] = host.events_of(NodeDeath)
    assert death.bdseq == 0
    assert set(death.stale_handles) == {m.handle for m in nbirth.metrics + dbirth.metrics}
    stats = host.app.stats()
    assert stats["seq_gaps"] == 0 and stats["rejected"] == {} and host.rejects == []


def test_tahu_will_ndeath_at_qos0_marks_the_node_dead(
    broker: Mosquitto, uid: str, host: RecordingHost
) -> None:
    # No DISCONNECT: the broker delivers Tahu's will (QoS 0, T-WILL-QOS); the host must still take it.
    plan = {"nbirth": NBIRTH, "dbirths": {"cell1": DBIRTH}, "end": "abrupt"}
    run_tahu_edge(broker.url, uid, "line1", plan)
    host.wait(lambda: len(host.events_of(NodeDeath)) == 1, what="will NDEATH")
    assert host.events_of(NodeDeath)[0].bdseq == 0
    assert not host.app.nodes[(uid, "line1")].online


def test_tahu_seq_wraps_after_255_without_a_gap(broker: Mosquitto, uid: str, host: RecordingHost) -> None:
    data = [
        {"device": "cell1", "metrics": [{"alias": 10, "type": "Double", "value": float(i)}]}
        for i in range(300)
    ]
    plan = {"nbirth": NBIRTH, "dbirths": {"cell1": DBIRTH}, "data": data}
    run_tahu_edge(broker.url, uid, "line1", plan)
    host.wait(lambda: len(host.events_of(NodeDeath)) == 1, what="NDEATH")
    speeds = [v["Spindle/Speed"] for v in host.values("DDATA")]
    assert speeds == [float(i) for i in range(300)]
    seqs = [b.seq for b in host.batches if b.message_type == "DDATA"]
    assert seqs[253:256] == [255, 0, 1]
    assert host.app.stats()["seq_gaps"] == 0


def test_our_rebirth_request_makes_tahu_publish_its_births_again(
    broker: Mosquitto, uid: str, host: RecordingHost
) -> None:
    # Tahu sends DDATA for a device whose DBIRTH we never saw: our host asks for a rebirth by NCMD,
    # the Tahu application answers with NBIRTH + DBIRTH, and the data after it resolves.
    plan = {
        "nbirth": NBIRTH,
        "dbirths": {"cell1": DBIRTH},
        "initial_dbirth": False,
        "data": [DDATA[0]],
        "data_after_rebirth": [DDATA[2]],
        "rebirths_expected": 1,
        "wait_ms": 8000,
    }
    events = run_tahu_edge(broker.url, uid, "line1", plan)
    [ncmd] = [e for e in events if e["event"] == "ncmd"]
    assert ncmd["payload"]["metrics"] == [
        {**ncmd["payload"]["metrics"][0], "name": "Node Control/Rebirth", "type": "Boolean", "value": True}
    ]
    assert "seq" not in ncmd["payload"]
    host.wait(lambda: len(host.events_of(DeviceBirth)) == 1, what="DBIRTH after the rebirth")
    host.wait(lambda: host.values("DDATA") == [{"Program": "O1234"}], what="DDATA after the rebirth")
    [requested] = host.events_of(RebirthRequested)
    assert requested.reason == "unknown_device"
    assert [reason for _, _, reason in host.rejects] == ["unknown_device"]
    assert len(host.events_of(NodeBirth)) == 2


def test_tahu_ndata_and_ddeath_reach_our_host(broker: Mosquitto, uid: str, host: RecordingHost) -> None:
    plan = {
        "nbirth": NBIRTH,
        "dbirths": {"cell1": DBIRTH},
        "data": [{"device": None, "metrics": [{"alias": 1, "type": "String", "value": "rpi5"}]}, DDATA[0]],
        "ddeaths": ["cell1"],
    }
    events = run_tahu_edge(broker.url, uid, "line1", plan)
    assert [e["type"] for e in events if e["event"] == "publish"] == [
        "NBIRTH",
        "DBIRTH",
        "NDATA",
        "DDATA",
        "DDEATH",
    ]
    host.wait(lambda: len(host.events_of(NodeDeath)) == 1, what="NDEATH")
    assert host.values("NDATA") == [{"Properties/Hardware": "rpi5"}]
    assert host.values("DDATA") == [{"Spindle/Speed": 1200.5}]
    [ddeath] = host.events_of(DeviceDeath)
    [dbirth] = host.events_of(DeviceBirth)
    assert ddeath.device_id == "cell1"
    assert set(ddeath.stale_handles) == {m.handle for m in dbirth.metrics}
    assert host.app.stats()["seq_gaps"] == 0 and host.rejects == []
