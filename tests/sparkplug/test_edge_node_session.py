"""EdgeNode sessions on a real Mosquitto: threads, errors, bdSeq across restarts, broker loss, commands."""

from __future__ import annotations

import threading
import time

import pytest

from sparkplug.datatypes import DataType
from sparkplug.edge_node import EdgeNode
from sparkplug.edge_node_model import MetricDef
from sparkplug.errors import SparkplugError
from sparkplug.host import HostApplication
from sparkplug.host_registry import NodeBirth, RebirthRequested, UpdateBatch
from sparkplug.proto import pb
from tests.conformance.wire import WAIT, Collector, Wire, metrics_by_name, state_payload


def node_for(broker_url: str, uid: str, cleanup, **kw) -> EdgeNode:
    node = EdgeNode(
        uid, "gw", broker_url, [MetricDef("temp", DataType.Double, 0.0)], client_id=f"{uid}-gw", **kw
    )
    node.add_device("cell1", [MetricDef("count", DataType.Int64, 0), MetricDef("mode", DataType.String, "a")])
    cleanup.append(node)
    return node


def wait_until(cond, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def test_concurrent_publishers_keep_one_gapless_seq(broker, wire, cleanup, uid):
    node = node_for(broker.url, uid, cleanup)
    node.start()
    assert node.wait_online(WAIT)
    nbirth = wire.wait_topic(f"spBv1.0/{uid}/NBIRTH/gw")

    def worker(k: int) -> None:
        for i in range(150):
            if k % 2:
                node.publish_device_data("cell1", {"count": k * 1000 + i})
            else:
                node.publish_node_data({"temp": float(k * 1000 + i)})

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    node.stop()
    wire.wait_topic(f"spBv1.0/{uid}/NDEATH/gw", after=nbirth.index)
    ours = [
        m
        for m in wire.since(nbirth.index - 1)
        if m.topic.startswith(f"spBv1.0/{uid}/") and m.kind != "NDEATH"
    ]
    assert len(ours) == 2 + 600
    assert [m.pb().seq for m in ours] == [i % 256 for i in range(602)]
    assert node.stats()["data_published"] == 600


def test_caller_errors_are_raised_at_once(broker, cleanup, uid):
    node = node_for(broker.url, uid, cleanup)
    with pytest.raises(SparkplugError, match="not in the birth"):
        node.publish_node_data({"nope": 1.0})
    with pytest.raises(SparkplugError, match="count"):
        node.publish_device_data("cell1", {"count": "many"})
    with pytest.raises(SparkplugError, match="unknown device"):
        node.publish_device_data("cell9", {"count": 1})
    with pytest.raises(SparkplugError, match="reserved"):
        EdgeNode(uid, "x", broker.url, [MetricDef("bdSeq", DataType.Int64, 0)])
    with pytest.raises(SparkplugError, match="invalid"):
        EdgeNode(uid, "a/b", broker.url)
    node.device_death("cell1")
    with pytest.raises(SparkplugError, match="dead"):
        node.publish_device_data("cell1", {"count": 1})
    node.add_device("cell1", [MetricDef("count", DataType.Int64, 0)])
    node.publish_device_data("cell1", {"count": 1})  # buffered: not started
    assert node.stats()["buffered"] == 1


def test_bdseq_continues_across_a_restart_when_persisted(broker, wire, cleanup, uid, tmp_path):
    path = tmp_path / "bdseq"
    first = node_for(broker.url, uid, cleanup, bdseq_path=path)
    first.start()
    assert first.wait_online(WAIT)
    b1 = wire.wait_topic(f"spBv1.0/{uid}/NBIRTH/gw")
    first.stop()
    second = node_for(broker.url, uid, cleanup, bdseq_path=path)
    second.start()
    assert second.wait_online(WAIT)
    b2 = wire.wait_topic(f"spBv1.0/{uid}/NBIRTH/gw", after=b1.index)
    assert metrics_by_name(b1.pb())["bdSeq"].long_value == 0
    assert metrics_by_name(b2.pb())["bdSeq"].long_value == 1


def test_broker_loss_buffers_then_reconnects_with_next_bdseq(own_broker, cleanup, uid, tmp_path):
    host = f"{uid}-h"
    node = node_for(own_broker.url, uid, cleanup, primary_host_id=host, store_forward_path=tmp_path / "sf.db")
    w = Wire(own_broker.host, own_broker.port)
    t0 = int(time.time() * 1000)
    w.publish(f"spBv1.0/STATE/{host}", state_payload(True, t0), retain=True)
    node.start()
    assert node.wait_online(WAIT)
    # The host goes away for good before the broker does, so the broker comes back with STATE offline.
    w.publish(f"spBv1.0/STATE/{host}", state_payload(False, t0 + 1), retain=True)
    wait_until(lambda: node.stats()["connects"] == 2)
    w.close()
    own_broker.stop()
    wait_until(lambda: not node.is_connected)
    for i in range(3):
        node.publish_device_data("cell1", {"count": i}, timestamp=1_700_000_000_000 + i)
    assert node.stats()["pending"] == 3
    own_broker.start()
    wait_until(lambda: node.stats()["connects"] == 3)
    w = Wire(own_broker.host, own_broker.port)
    w.publish(f"spBv1.0/STATE/{host}", state_payload(True, t0 + 2), retain=True)
    assert node.wait_online(WAIT)
    nbirth = w.wait_topic(f"spBv1.0/{uid}/NBIRTH/gw")
    assert metrics_by_name(nbirth.pb())["bdSeq"].long_value == 2
    last = w.wait_for(lambda m: m.kind == "DDATA" and m.pb().metrics[0].long_value == 2)
    flushed = [
        m.pb().metrics[0] for m in w.since(nbirth.index) if m.kind == "DDATA" and m.index <= last.index
    ]
    assert [(m.long_value, m.timestamp, m.is_historical) for m in flushed] == [
        (i, 1_700_000_000_000 + i, True) for i in range(3)
    ]
    w.close()


def test_buffer_bound_drops_oldest(broker, wire, cleanup, uid):
    host = f"{uid}-h"
    node = node_for(broker.url, uid, cleanup, primary_host_id=host, store_forward_max=2)
    node.start()
    assert node.wait_subscribed(WAIT)
    for i in range(5):
        node.publish_device_data("cell1", {"count": i})
    s = node.stats()
    assert (s["buffered"], s["pending"], s["dropped"]) == (5, 2, 3)
    wire.publish(f"spBv1.0/STATE/{host}", state_payload(True, int(time.time() * 1000)))
    assert node.wait_online(WAIT)
    nbirth = wire.wait_topic(f"spBv1.0/{uid}/NBIRTH/gw")
    last = wire.wait_for(
        lambda m: m.kind == "DDATA" and m.pb().metrics[0].long_value == 4, after=nbirth.index
    )
    values = [
        m.pb().metrics[0].long_value
        for m in wire.since(nbirth.index)
        if m.kind == "DDATA" and m.index <= last.index
    ]
    assert values == [3, 4]


def test_commands_reach_the_handler_by_alias_and_name(broker, wire, cleanup, uid):
    got = Collector()
    node = node_for(broker.url, uid, cleanup, on_command=got)
    node.start()
    assert node.wait_online(WAIT)
    dbirth = wire.wait_topic(f"spBv1.0/{uid}/DBIRTH/gw/cell1")
    alias = metrics_by_name(dbirth.pb())["mode"].alias
    cmd = pb.Payload(timestamp=1)
    m = cmd.metrics.add(alias=alias)
    m.string_value = "b"
    wire.publish(f"spBv1.0/{uid}/DCMD/gw/cell1", cmd.SerializeToString(), qos=0)
    cmd = pb.Payload(timestamp=2)
    m = cmd.metrics.add(name="temp", datatype=DataType.Double)
    m.double_value = 3.5
    wire.publish(f"spBv1.0/{uid}/NCMD/gw", cmd.SerializeToString(), qos=0)
    assert got.wait_for(lambda c: c == ("cell1", {"mode": "b"}))
    assert got.wait_for(lambda c: c == (None, {"temp": 3.5}))


def test_host_that_comes_late_gets_a_rebirth(broker, cleanup, uid):
    """A host that missed the births asks for a rebirth on the first DATA; the edge node answers it."""
    node = node_for(broker.url, uid, cleanup)
    node.start()
    assert node.wait_online(WAIT)
    got = Collector()
    host = HostApplication(f"{uid}-host", broker.url, groups=[uid], on_batch=got, on_lifecycle=got)
    cleanup.append(host)
    host.start()
    assert host.wait_ready(WAIT)
    node.publish_device_data("cell1", {"count": 5})
    got.wait_for(lambda e: isinstance(e, RebirthRequested) and e.reason == "no_birth")
    birth = got.wait_for(lambda e: isinstance(e, NodeBirth))
    assert birth.bdseq == 0 and node.stats()["rebirth_requests"] == 1
    node.publish_device_data("cell1", {"count": 6})
    b = got.wait_for(lambda e: isinstance(e, UpdateBatch) and e.message_type == "DDATA" and e.values == [6])
    assert host.registry[b.handles[0]].name == "count" and host.registry[b.handles[0]].device_id == "cell1"
