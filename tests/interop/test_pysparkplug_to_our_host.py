"""pysparkplug 0.6.1 as an edge node feeding our HostApplication, and reading our host's STATE."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sparkplug.datatypes import DataType
from sparkplug.host_registry import DeviceBirth, DeviceDeath, NodeBirth, NodeDeath
from tests.interop.hostrec import RecordingHost
from tests.interop.peers import PysparkplugHost, needs_pysparkplug, run_pysparkplug_edge
from tests.support.mosquitto import Mosquitto

pytestmark = [pytest.mark.interop, needs_pysparkplug]

NBIRTH = [
    {"name": "Node Control/Rebirth", "type": "BOOLEAN", "value": False},
    {"name": "Properties/Vendor", "type": "STRING", "value": "acme"},
]
DBIRTH = [
    {"name": "Spindle/Speed", "alias": 1, "type": "DOUBLE", "value": 0.0},
    {"name": "Counters/Good", "alias": 2, "type": "INT32", "value": 0},
    {"name": "Running", "alias": 3, "type": "BOOLEAN", "value": False},
    {"name": "Offset", "alias": 4, "type": "INT8", "value": -1},
    {"name": "Counters/Total", "alias": 5, "type": "UINT64", "value": 2**64 - 1},
]
DATA: list[dict[str, Any]] = [
    {"device": "cell1", "metrics": [{"name": "Spindle/Speed", "alias": 1, "type": "DOUBLE", "value": 99.5}]},
    {
        "device": "cell1",
        "metrics": [
            {"name": "Counters/Good", "alias": 2, "type": "INT32", "value": -7},
            {"name": "Offset", "alias": 4, "type": "INT8", "value": -128},
            {"name": "Running", "alias": 3, "type": "BOOLEAN", "value": True},
        ],
    },
]


@pytest.fixture
def host(broker: Mosquitto, uid: str) -> Iterator[RecordingHost]:
    h = RecordingHost(broker.url, uid, f"{uid}-host", rebirth_min_interval=0.0)
    yield h
    h.stop()


def test_pysparkplug_births_and_data_reach_our_host(broker: Mosquitto, uid: str, host: RecordingHost) -> None:
    # Abrupt end: the broker delivers pysparkplug's will, whose bdSeq matches its NBIRTH.
    plan = {
        "nbirth": NBIRTH,
        "dbirths": {"cell1": DBIRTH},
        "data": DATA,
        "deregister": ["cell1"],
        "end": "abrupt",
        "linger_ms": 100,
    }
    run_pysparkplug_edge(broker.port, uid, "line1", plan)
    host.wait(lambda: len(host.events_of(NodeDeath)) == 1, what="will NDEATH")

    [nbirth] = host.events_of(NodeBirth)
    assert nbirth.bdseq == 0
    assert {m.name: m.datatype for m in nbirth.metrics}["bdSeq"] == DataType.Int64
    [dbirth] = host.events_of(DeviceBirth)
    assert {m.name: (m.alias, m.datatype) for m in dbirth.metrics} == {
        "Spindle/Speed": (1, DataType.Double),
        "Counters/Good": (2, DataType.Int32),
        "Running": (3, DataType.Boolean),
        "Offset": (4, DataType.Int8),
        "Counters/Total": (5, DataType.UInt64),
    }
    # pysparkplug writes negative Int8 as 8-bit two's complement (255 for -1): we read both forms.
    assert host.values("DBIRTH") == [
        {
            "Spindle/Speed": 0.0,
            "Counters/Good": 0,
            "Running": False,
            "Offset": -1,
            "Counters/Total": 2**64 - 1,
        }
    ]
    # Its DATA carries names and datatypes next to the aliases (P-NAMES-IN-DATA): we still take it.
    assert host.values("DDATA") == [
        {"Spindle/Speed": 99.5},
        {"Counters/Good": -7, "Offset": -128, "Running": True},
    ]
    [ddeath] = host.events_of(DeviceDeath)  # its deregister(): DDEATH with seq
    assert ddeath.device_id == "cell1"
    assert host.events_of(NodeDeath)[0].bdseq == 0
    assert host.rejects == [] and host.app.stats()["seq_gaps"] == 0


@pytest.mark.parametrize("lenient", [False, True])
def test_pysparkplug_clean_ndeath_carries_the_next_bdseq(broker: Mosquitto, uid: str, lenient: bool) -> None:
    # pysparkplug's disconnect() publishes NDEATH with the bdSeq of its *next* connection (NBIRTH 0,
    # NDEATH 1: P-NDEATH-BDSEQ). By the spec that NDEATH belongs to no session of ours: strict mode
    # ignores it as a stale will and the node stays online until its real will or a new birth;
    # lenient mode takes bdSeq+1 as this session's death, since no later session can have died yet.
    host = RecordingHost(broker.url, uid, f"{uid}-host", lenient=lenient)
    try:
        plan = {"nbirth": NBIRTH, "dbirths": {"cell1": DBIRTH}, "data": DATA[:1], "end": "clean"}
        run_pysparkplug_edge(broker.port, uid, "line1", plan)
        if lenient:
            host.wait(lambda: bool(host.events_of(NodeDeath)), what="the clean NDEATH as a death")
            assert host.events_of(NodeDeath)[0].bdseq == 1
            assert not host.app.nodes[(uid, "line1")].online
            assert host.app.stats()["stale_wills_ignored"] == 0
        else:
            host.wait(lambda: host.app.stats()["stale_wills_ignored"] == 1, what="the clean NDEATH")
            assert host.events_of(NodeDeath) == []
            assert host.app.nodes[(uid, "line1")].online
        assert host.events_of(NodeBirth)[0].bdseq == 0
    finally:
        host.stop()


def test_pysparkplug_reads_our_state_birth_and_death(broker: Mosquitto, uid: str) -> None:
    host_id = f"{uid}-host"
    peer = PysparkplugHost(broker.port, uid, state_host_id=host_id)
    ours = RecordingHost(broker.url, uid, host_id)
    try:
        online = peer.wait_for(lambda e: e.get("type") == "STATE" and e["online"] is True)
        ours.stop()
        offline = peer.wait_for(lambda e: e.get("type") == "STATE" and e["online"] is False)
    finally:
        peer.close()
    assert online["topic"] == f"spBv1.0/STATE/{host_id}"
    assert online["timestamp"] == ours.app.session_timestamp
    assert offline["timestamp"] >= online["timestamp"]
