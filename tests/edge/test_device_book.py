"""Devices as their feeds come and go, through a real EdgeNode on a real broker: a cell read through two
connections is born only when both answer, dies when either goes; values batch per source timestamp."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from edge.devices import DeviceBook
from edge.points import Point, Sample
from sparkplug.edge_node import EdgeNode
from tests.conformance.wire import WAIT, Wire
from tests.edge.support import Births
from uns_model.tags import ModbusSource, OpcUaSource

UA = OpcUaSource(connection="plc", node_id="ns=2;s=X")
MB = ModbusSource(connection="gw", table="holding", address=0)
TEMP = Point("cell", "temp", "Float", UA, deadband=0.5)
COUNT = Point("cell", "count", "UInt16", MB)
MODE = Point("cell", "mode", "String", UA)


@pytest.fixture
def setup(broker, uid) -> Iterator[tuple[DeviceBook, Wire, str]]:
    wire = Wire(broker.host, broker.port)
    node = EdgeNode(uid, "gw", broker.url, [])
    book = DeviceBook(
        node, [TEMP, COUNT, MODE], {("cell", "temp"): "ua", ("cell", "count"): "mb", ("cell", "mode"): "ua"}
    )
    node.start()
    assert node.wait_online(WAIT)
    yield book, wire, f"spBv1.0/{uid}/{{}}/gw/cell"
    node.stop()
    wire.close()


def test_two_feeds_one_device(setup):
    book, wire, topic = setup
    births = Births()
    book.feed_up("ua", [Sample(TEMP, 20.0, 1000), Sample(MODE, "auto", 1000)])
    mark = wire.barrier()
    assert not [m for m in wire.since(-1) if m.topic == topic.format("DBIRTH")]  # Modbus not there yet
    book.feed_up("mb", [Sample(COUNT, 7.0, 1000)])
    b = wire.wait_topic(topic.format("DBIRTH"), after=mark.index)
    assert {k: v for k, (v, _t) in births.birth(b).items()} == {"temp": 20.0, "count": 7, "mode": "auto"}

    # One burst: two source timestamps -> two DDATA, each metric with its own time; 20.2 is in the deadband.
    book.feed_samples(
        "ua", [Sample(TEMP, 20.2, 2000), Sample(MODE, "manual", 2000), Sample(TEMP, 21.0, 3000)]
    )
    d1 = wire.wait_topic(topic.format("DDATA"), after=b.index)
    d2 = wire.wait_topic(topic.format("DDATA"), after=d1.index)
    assert births.data(d1) == {"mode": ("manual", 2000)}
    assert births.data(d2) == {"temp": (21.0, 3000)}

    # A value that cannot be the datatype goes null (bad), and back.
    book.feed_samples("mb", [Sample(COUNT, -5, 4000)])
    d3 = wire.wait_topic(topic.format("DDATA"), after=d2.index)
    assert births.data(d3) == {"count": (None, 4000)}
    assert book.stats["bad_values"] == 1

    # Either feed going away kills the device; values keep coming in while it is dead and the next
    # birth carries them.
    book.feed_down("mb", "test")
    x = wire.wait_topic(topic.format("DDEATH"), after=d3.index)
    book.feed_samples("ua", [Sample(TEMP, 30.0, 5000)])
    book.feed_up("mb", [Sample(COUNT, 9, 6000)])
    r = wire.wait_topic(topic.format("DBIRTH"), after=x.index)
    assert {k: v for k, (v, _t) in births.birth(r).items()} == {"temp": 30.0, "count": 9, "mode": "manual"}
    between = [m.topic for m in wire.since(x.index) if m.index < r.index]
    assert topic.format("DDATA") not in between
    assert (book.stats["births"], book.stats["deaths"]) == (2, 1)
