"""Edge node conformance to Sparkplug B 3.0, observed on the wire through a real Mosquitto."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from sparkplug.datatypes import DataType
from sparkplug.edge_node import EdgeNode
from sparkplug.edge_node_model import MetricDef
from sparkplug.errors import SparkplugError
from sparkplug.proto import pb
from tests.conformance.wire import WAIT, metrics_by_name, retained, state_payload

tck = pytest.mark.tck


def make_node(nodes, broker, uid, **kw) -> EdgeNode:
    node = EdgeNode(
        uid,
        "edge1",
        broker.url,
        [MetricDef("temp", DataType.Double, 20.5), MetricDef("state", DataType.String, "idle")],
        client_id=f"{uid}-edge1",
        **kw,
    )
    node.add_device(
        "cell1", [MetricDef("count", DataType.Int32, -1), MetricDef("ok", DataType.Boolean, None)]
    )
    nodes.append(node)
    return node


def topic(uid: str, kind: str, device: str | None = None) -> str:
    return f"spBv1.0/{uid}/{kind}/edge1" + (f"/{device}" if device else "")


@tck(
    "tck-id-topic-structure",
    "tck-id-topic-structure-namespace-a",
    "tck-id-topics-nbirth-topic",
    "tck-id-topics-nbirth-mqtt",
    "tck-id-topics-nbirth-seq-num",
    "tck-id-topics-nbirth-timestamp",
    "tck-id-topics-nbirth-metric-reqs",
    "tck-id-topics-nbirth-metrics",
    "tck-id-topics-nbirth-bdseq-included",
    "tck-id-topics-nbirth-rebirth-metric",
    "tck-id-payloads-nbirth-timestamp",
    "tck-id-payloads-nbirth-seq",
    "tck-id-payloads-nbirth-bdseq",
    "tck-id-payloads-nbirth-rebirth-req",
    "tck-id-payloads-nbirth-qos",
    "tck-id-payloads-nbirth-retain",
    "tck-id-payloads-sequence-num-req-nbirth",
    "tck-id-payloads-alias-birth-requirement",
    "tck-id-payloads-alias-uniqueness",
    "tck-id-payloads-metric-datatype-req",
    "tck-id-payloads-name-birth-data-requirement",
    "tck-id-message-flow-edge-node-birth-publish-nbirth-topic",
    "tck-id-message-flow-edge-node-birth-publish-nbirth-payload",
    "tck-id-message-flow-edge-node-birth-publish-nbirth-payload-bdSeq",
    "tck-id-message-flow-edge-node-birth-publish-nbirth-qos",
    "tck-id-message-flow-edge-node-birth-publish-nbirth-retained",
    "tck-id-message-flow-edge-node-birth-publish-nbirth-payload-seq",
    "tck-id-operational-behavior-data-commands-rebirth-name",
    "tck-id-operational-behavior-data-commands-rebirth-name-aliases",
    "tck-id-operational-behavior-data-commands-rebirth-datatype",
    "tck-id-operational-behavior-data-commands-rebirth-value",
    "tck-id-operational-behavior-data-publish-nbirth-values",
    "tck-id-operational-behavior-data-publish-dbirth-values",
    "tck-id-topics-dbirth-topic",
    "tck-id-topics-dbirth-mqtt",
    "tck-id-topics-dbirth-seq",
    "tck-id-topics-dbirth-timestamp",
    "tck-id-topics-dbirth-metrics",
    "tck-id-payloads-dbirth-timestamp",
    "tck-id-payloads-dbirth-seq",
    "tck-id-payloads-dbirth-seq-inc",
    "tck-id-payloads-dbirth-order",
    "tck-id-payloads-dbirth-qos",
    "tck-id-payloads-dbirth-retain",
    "tck-id-message-flow-device-birth-publish-nbirth-wait",
    "tck-id-message-flow-device-birth-publish-dbirth-topic",
    "tck-id-message-flow-device-birth-publish-dbirth-match-edge-node-topic",
    "tck-id-message-flow-device-birth-publish-dbirth-payload",
    "tck-id-message-flow-device-birth-publish-dbirth-qos",
    "tck-id-message-flow-device-birth-publish-dbirth-retained",
    "tck-id-message-flow-device-birth-publish-dbirth-payload-seq",
    "tck-id-topics-dbirth-metric-reqs",
    "tck-id-operational-behavior-data-publish-nbirth",
    "tck-id-operational-behavior-data-publish-dbirth",
    "tck-id-payloads-timestamp-in-UTC",
    "tck-id-payloads-metric-timestamp-in-UTC",
)
def test_births_on_the_wire(broker, wire, nodes, uid):
    node = make_node(nodes, broker, uid)
    node.start()
    assert node.wait_online(WAIT)
    nbirth = wire.wait_topic(topic(uid, "NBIRTH"))
    dbirth = wire.wait_topic(topic(uid, "DBIRTH", "cell1"), after=nbirth.index)
    assert (nbirth.qos, nbirth.retain, dbirth.qos, dbirth.retain) == (0, False, 0, False)
    assert [m.index for m in wire.since(nbirth.index - 1) if m.topic.startswith(f"spBv1.0/{uid}/")][:2] == [
        nbirth.index,
        dbirth.index,
    ]

    p = nbirth.pb()
    assert p.HasField("seq") and p.seq == 0
    assert p.HasField("timestamp") and abs(p.timestamp - time.time() * 1000) < 60_000
    ms = metrics_by_name(p)
    assert set(ms) == {"bdSeq", "Node Control/Rebirth", "temp", "state"}
    bd = ms["bdSeq"]
    assert bd.datatype == DataType.Int64 and bd.WhichOneof("value") == "long_value" and bd.long_value == 0
    rb = ms["Node Control/Rebirth"]
    assert rb.datatype == DataType.Boolean and rb.boolean_value is False and not rb.HasField("alias")
    assert ms["temp"].datatype == DataType.Double and ms["temp"].double_value == 20.5
    assert ms["state"].datatype == DataType.String and ms["state"].string_value == "idle"
    now = time.time() * 1000  # UTC milliseconds since the epoch
    for m in p.metrics:
        assert m.HasField("timestamp") and abs(m.timestamp - now) < 60_000

    d = dbirth.pb()
    assert d.seq == 1 and d.HasField("timestamp") and abs(d.timestamp - now) < 60_000
    dm = metrics_by_name(d)
    assert set(dm) == {"count", "ok"}
    # Every metric the node will report is in its birth: anything else is refused, never published.
    with pytest.raises(SparkplugError):
        node.publish_node_data({"not-born": 1.0})
    with pytest.raises(SparkplugError):
        node.publish_device_data("cell1", {"not-born": 1})
    assert dm["count"].datatype == DataType.Int32 and dm["count"].int_value == 0xFFFFFFFF  # -1 as uint32
    assert dm["ok"].datatype == DataType.Boolean and dm["ok"].is_null and dm["ok"].WhichOneof("value") is None

    aliases = [m.alias for m in [*p.metrics, *d.metrics] if m.HasField("alias")]
    assert len(aliases) == 4 and len(set(aliases)) == 4
    for m in [*d.metrics, ms["temp"], ms["state"]]:
        assert m.name and m.HasField("alias") and m.HasField("datatype") and m.HasField("timestamp")


@tck(
    "tck-id-message-flow-edge-node-birth-publish-connect",
    "tck-id-message-flow-edge-node-ncmd-subscribe",
    "tck-id-message-flow-device-dcmd-subscribe",
    "tck-id-message-flow-edge-node-birth-publish-will-message",
    "tck-id-message-flow-edge-node-birth-publish-will-message-qos",
    "tck-id-message-flow-edge-node-birth-publish-will-message-will-retained",
    "tck-id-payloads-ndeath-will-message",
    "tck-id-payloads-ndeath-will-message-qos",
    "tck-id-payloads-ndeath-will-message-retain",
    "tck-id-principles-persistence-clean-session-311",
    "tck-id-principles-birth-certificates-order",
)
def test_connect_packet_and_subscriptions(tmp_path, nodes, uid):
    """Seen from the broker's own debug log: MQTT 3.1.1, clean session, the will, NCMD/DCMD at QoS 1."""
    from tests.support.mosquitto import Mosquitto

    b = Mosquitto(workdir=tmp_path / "mq", extra="log_type all")
    b.start()
    try:
        node = make_node(nodes, b, uid)
        node.start()
        assert node.wait_online(WAIT)
        node.stop()
        log = b.log
    finally:
        b.stop()
    cid = re.escape(f"{uid}-edge1")
    # p2 = MQTT 3.1.1, c1 = clean session (tck-id-message-flow-phid-sparkplug-clean-session-311 for hosts).
    assert re.search(rf"New client connected from \S+ as {cid} \(p2, c1, k\d+\)", log)
    will = re.search(r"Will message specified \(\d+ bytes\) \(r(\d), q(\d)\)\.\n\S+: \t(\S+)", log)
    assert will and will.groups() == ("0", "1", f"spBv1.0/{uid}/NDEATH/edge1")
    sub_at = log.index(f"\tspBv1.0/{uid}/NCMD/edge1 (QoS 1)")
    assert f"\tspBv1.0/{uid}/DCMD/edge1/+ (QoS 1)" in log
    birth_at = log.index(f"'spBv1.0/{uid}/NBIRTH/edge1'")
    assert sub_at < birth_at
    first_pub = re.search(rf"Received PUBLISH from {cid} \(d0, q(\d), r(\d), m\d+, '([^']+)'", log)
    assert first_pub and first_pub.groups() == ("0", "0", f"spBv1.0/{uid}/NBIRTH/edge1")


@tck(
    "tck-id-topics-ndeath-topic",
    "tck-id-topics-ndeath-payload",
    "tck-id-topics-ndeath-seq",
    "tck-id-payloads-ndeath-seq",
    "tck-id-payloads-ndeath-bdseq",
    "tck-id-payloads-ndeath-will-message",
    "tck-id-payloads-ndeath-will-message-qos",
    "tck-id-payloads-ndeath-will-message-retain",
    "tck-id-topics-nbirth-bdseq-matching",
    "tck-id-payloads-nbirth-bdseq-repeat",
    "tck-id-message-flow-edge-node-birth-publish-will-message-topic",
    "tck-id-message-flow-edge-node-birth-publish-will-message-payload",
    "tck-id-message-flow-edge-node-birth-publish-will-message-payload-bdSeq",
    "tck-id-message-flow-edge-node-birth-publish-will-message-qos",
    "tck-id-message-flow-edge-node-birth-publish-will-message-will-retained",
)
def test_will_is_ndeath_with_the_births_bdseq(broker, wire, nodes, uid):
    node = make_node(nodes, broker, uid)
    node.start()
    assert node.wait_online(WAIT)
    nbirth = wire.wait_topic(topic(uid, "NBIRTH"))
    node._kill_connection()  # TCP closed without DISCONNECT: the broker publishes the will
    death = wire.wait_topic(topic(uid, "NDEATH"), after=nbirth.index)
    assert death.qos == 1 and death.retain is False
    p = death.pb()
    assert not p.HasField("seq")
    assert [m.name for m in p.metrics] == ["bdSeq"]
    assert p.metrics[0].datatype == DataType.Int64
    assert p.metrics[0].long_value == metrics_by_name(nbirth.pb())["bdSeq"].long_value
    assert retained(broker.host, broker.port, topic(uid, "NDEATH")) == []


@tck(
    "tck-id-operational-behavior-edge-node-intentional-disconnect-ndeath",
    "tck-id-operational-behavior-edge-node-intentional-disconnect-packet",
    "tck-id-payloads-ndeath-will-message-publisher",
    "tck-id-payloads-ndeath-will-message-publisher-disconnect-mqtt311",
)
def test_stop_publishes_ndeath_before_disconnect(broker, wire, nodes, uid):
    node = make_node(nodes, broker, uid)
    node.start()
    assert node.wait_online(WAIT)
    nbirth = wire.wait_topic(topic(uid, "NBIRTH"))
    node.stop()
    death = wire.wait_topic(topic(uid, "NDEATH"), after=nbirth.index)
    assert death.pb().metrics[0].long_value == metrics_by_name(nbirth.pb())["bdSeq"].long_value
    wire.barrier()
    assert [m.topic for m in wire.since(nbirth.index)].count(topic(uid, "NDEATH")) == 1


@tck(
    "tck-id-payloads-sequence-num-always-included",
    "tck-id-payloads-sequence-num-incrementing",
    "tck-id-topics-ndata-topic",
    "tck-id-topics-ndata-mqtt",
    "tck-id-topics-ndata-seq-num",
    "tck-id-topics-ndata-timestamp",
    "tck-id-topics-ndata-payload",
    "tck-id-topics-ddata-topic",
    "tck-id-topics-ddata-mqtt",
    "tck-id-topics-ddata-seq-num",
    "tck-id-topics-ddata-timestamp",
    "tck-id-topics-ddata-payload",
    "tck-id-topics-ddeath-topic",
    "tck-id-topics-ddeath-mqtt",
    "tck-id-topics-ddeath-seq-num",
    "tck-id-payloads-ndata-timestamp",
    "tck-id-payloads-ndata-seq",
    "tck-id-payloads-ndata-seq-inc",
    "tck-id-payloads-ndata-order",
    "tck-id-payloads-ndata-qos",
    "tck-id-payloads-ndata-retain",
    "tck-id-payloads-ddata-timestamp",
    "tck-id-payloads-ddata-seq",
    "tck-id-payloads-ddata-seq-inc",
    "tck-id-payloads-ddata-order",
    "tck-id-payloads-ddata-qos",
    "tck-id-payloads-ddata-retain",
    "tck-id-payloads-ddeath-timestamp",
    "tck-id-payloads-ddeath-seq",
    "tck-id-payloads-ddeath-seq-inc",
    "tck-id-payloads-ddeath-seq-number",
    "tck-id-payloads-alias-data-cmd-requirement",
    "tck-id-payloads-name-requirement",
    "tck-id-payloads-metric-datatype-not-req",
    "tck-id-operational-behavior-device-ddeath",
)
def test_seq_runs_across_all_message_types_and_wraps(broker, wire, nodes, uid):
    node = make_node(nodes, broker, uid)
    node.start()
    assert node.wait_online(WAIT)
    nbirth = wire.wait_topic(topic(uid, "NBIRTH"))
    for i in range(300):
        if i % 2:
            node.publish_node_data({"temp": float(i)})
        else:
            node.publish_device_data("cell1", {"count": i, "ok": i % 4 == 0})
        if i == 150:
            node.add_device("cell2", [MetricDef("speed", DataType.Float, 1.0)])
    node.device_death("cell1")
    ddeath = wire.wait_topic(topic(uid, "DDEATH", "cell1"), after=nbirth.index)
    ours = [m for m in wire.since(nbirth.index - 1) if m.topic.startswith(f"spBv1.0/{uid}/")]
    ours = ours[: ours.index(ddeath) + 1]
    assert len(ours) == 1 + 1 + 300 + 1 + 1  # NBIRTH, DBIRTH, data, DBIRTH cell2, DDEATH
    seqs = [m.pb().seq for m in ours]
    assert seqs == [i % 256 for i in range(len(ours))]
    assert all(m.qos == 0 and not m.retain for m in ours)
    assert topic(uid, "DBIRTH", "cell2") in [m.topic for m in ours[150:156]]
    for m in ours:
        p = m.pb()
        assert p.HasField("timestamp") and p.HasField("seq")
        if m.kind in ("NDATA", "DDATA"):
            assert p.metrics
            for metric in p.metrics:
                assert not metric.HasField("name") and metric.HasField("alias")
                assert not metric.HasField("datatype") and metric.HasField("timestamp")
    assert ddeath.pb().HasField("timestamp")


@tck(
    "tck-id-message-flow-edge-node-ncmd-subscribe",
    "tck-id-operational-behavior-data-commands-rebirth-action-1",
    "tck-id-operational-behavior-data-commands-rebirth-action-2",
    "tck-id-operational-behavior-data-commands-rebirth-action-3",
    "tck-id-payloads-dbirth-order",
)
def test_rebirth_on_ncmd(broker, wire, nodes, uid):
    node = make_node(nodes, broker, uid)
    node.start()
    assert node.wait_online(WAIT)
    first = wire.wait_topic(topic(uid, "NBIRTH"))
    node.publish_device_data("cell1", {"count": 42})
    node.publish_node_data({"temp": 99.5})
    wire.wait_topic(topic(uid, "NDATA"), after=first.index)

    cmd = pb.Payload(timestamp=int(time.time() * 1000))
    m = cmd.metrics.add(name="Node Control/Rebirth", datatype=DataType.Boolean)
    m.boolean_value = True
    wire.publish(topic(uid, "NCMD"), cmd.SerializeToString(), qos=0)
    again = wire.wait_topic(topic(uid, "NBIRTH"), after=first.index)
    dbirth = wire.wait_topic(topic(uid, "DBIRTH", "cell1"), after=again.index)
    p, d = again.pb(), dbirth.pb()
    assert p.seq == 0 and d.seq == 1
    assert metrics_by_name(p)["bdSeq"].long_value == metrics_by_name(first.pb())["bdSeq"].long_value
    assert metrics_by_name(p)["temp"].double_value == 99.5
    assert metrics_by_name(d)["count"].int_value == 42
    # Nothing else of this node between the NBIRTH and its DBIRTH; DATA resumes with seq 2.
    between = [
        x for x in wire.since(again.index) if x.topic.startswith(f"spBv1.0/{uid}/") and x.index < dbirth.index
    ]
    assert between == []
    node.publish_node_data({"temp": 1.0})
    after = wire.wait_topic(topic(uid, "NDATA"), after=dbirth.index)
    assert after.pb().seq == 2
    assert node.stats()["rebirth_requests"] == 1


@tck(
    "tck-id-message-flow-edge-node-birth-publish-phid-wait",
    "tck-id-message-flow-edge-node-birth-publish-phid-wait-id",
    "tck-id-message-flow-edge-node-birth-publish-phid-wait-online",
    "tck-id-message-flow-edge-node-birth-publish-phid-wait-timestamp",
    "tck-id-operational-behavior-edge-node-birth-sequence-wait",
    "tck-id-operational-behavior-primary-application-state-with-multiple-servers-state-subs",
)
def test_waits_for_primary_host_online(broker, wire, nodes, uid):
    host = f"{uid}-host"
    node = make_node(nodes, broker, uid, primary_host_id=host)
    node.start()
    assert node.wait_subscribed(WAIT)  # so that the STATE messages below reach it
    t0 = int(time.time() * 1000)
    wire.publish(f"spBv1.0/STATE/{uid}-other", state_payload(True, t0))  # another host: not ours
    wire.publish(f"spBv1.0/STATE/{host}", state_payload(False, t0))  # ours, offline
    wire.publish(f"spBv1.0/STATE/{host}", b"not json")  # unreadable: ignored
    online_state = state_payload(True, t0 + 1)
    wire.publish(f"spBv1.0/STATE/{host}", online_state)
    online = wire.wait_for(lambda m: m.topic == f"spBv1.0/STATE/{host}" and m.payload == online_state)
    nbirth = wire.wait_topic(topic(uid, "NBIRTH"))
    assert nbirth.index > online.index
    assert node.wait_online(WAIT)


def _online_after_host_state(broker, wire, nodes, uid, **kw) -> tuple[EdgeNode, str, int]:
    host = f"{uid}-host"
    node = make_node(nodes, broker, uid, primary_host_id=host, **kw)
    node.start()
    assert node.wait_subscribed(WAIT)
    t0 = int(time.time() * 1000)
    wire.publish(f"spBv1.0/STATE/{host}", state_payload(True, t0), retain=True)
    assert node.wait_online(WAIT)
    return node, host, t0


@tck(
    "tck-id-message-flow-edge-node-birth-publish-phid-offline",
    "tck-id-operational-behavior-edge-node-termination-host-offline",
    "tck-id-operational-behavior-edge-node-termination-host-offline-reconnect",
    "tck-id-operational-behavior-edge-node-termination-host-offline-timestamp",
    "tck-id-operational-behavior-primary-application-state-with-multiple-servers-walk",
    "tck-id-topics-nbirth-bdseq-increment",
    "tck-id-message-flow-edge-node-birth-publish-will-message-payload-bdSeq",
)
def test_primary_host_offline_ndeath_reconnect_and_new_bdseq(broker, wire, nodes, uid):
    node, host, t0 = _online_after_host_state(broker, wire, nodes, uid)
    first = wire.wait_topic(topic(uid, "NBIRTH"))
    assert metrics_by_name(first.pb())["bdSeq"].long_value == 0

    # An offline STATE older than the last online one is a late will of an old host session: ignored.
    wire.publish(f"spBv1.0/STATE/{host}", state_payload(False, t0 - 1000))
    node.publish_node_data({"temp": 1.5})
    ndata = wire.wait_topic(topic(uid, "NDATA"), after=first.index)
    assert topic(uid, "NDEATH") not in [m.topic for m in wire.since(first.index) if m.index < ndata.index]
    assert node.is_online

    # A current offline STATE: NDEATH (same bdSeq), disconnect, reconnect, wait for online again.
    wire.publish(f"spBv1.0/STATE/{host}", state_payload(False, t0), retain=True)
    death = wire.wait_topic(topic(uid, "NDEATH"), after=ndata.index)
    assert death.pb().metrics[0].long_value == 0
    assert node.stats()["host_offline_disconnects"] == 1
    deadline = time.monotonic() + WAIT
    while node.stats()["connects"] < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert node.stats()["connects"] == 2 and node.session_bdseq == 1
    wire.publish(f"spBv1.0/STATE/{host}", state_payload(True, t0 + 5), retain=True)
    second = wire.wait_topic(topic(uid, "NBIRTH"), after=death.index)
    p = second.pb()
    assert p.seq == 0 and metrics_by_name(p)["bdSeq"].long_value == 1
    wire.publish(f"spBv1.0/STATE/{host}", b"", retain=True)


@tck(
    "tck-id-operational-behavior-data-publish-nbirth-values",
    "tck-id-payloads-ndata-order",
    "tck-id-payloads-ddata-order",
)
def test_store_and_forward_flushes_historical_after_births(broker, wire, nodes, uid, tmp_path: Path):
    host = f"{uid}-host"
    node = make_node(nodes, broker, uid, primary_host_id=host, store_forward_path=tmp_path / "sf.db")
    node.start()
    assert node.wait_connected(WAIT)
    stamps = [1_700_000_000_000 + i for i in range(5)]
    for i, ts in enumerate(stamps):
        node.publish_device_data("cell1", {"count": i}, timestamp=ts)
    node.publish_node_data({"temp": 7.25}, timestamp=stamps[-1] + 1)
    assert node.stats()["buffered"] == 6 and node.stats()["pending"] == 6
    wire.publish(f"spBv1.0/STATE/{host}", state_payload(True, int(time.time() * 1000)), retain=True)
    assert node.wait_online(WAIT)
    node.publish_device_data("cell1", {"count": 100})
    nbirth = wire.wait_topic(topic(uid, "NBIRTH"))
    live = wire.wait_for(
        lambda m: m.topic == topic(uid, "DDATA", "cell1") and m.pb().metrics[0].int_value == 100,
        after=nbirth.index,
    )
    ours = [
        m
        for m in wire.since(nbirth.index - 1)
        if m.topic.startswith(f"spBv1.0/{uid}/") and m.index <= live.index
    ]
    assert [m.kind for m in ours] == ["NBIRTH", "DBIRTH"] + ["DDATA"] * 5 + ["NDATA", "DDATA"]
    assert [m.pb().seq for m in ours] == list(range(9))
    hist = [m.pb().metrics[0] for m in ours[2:8]]
    assert all(h.is_historical for h in hist)
    assert [h.timestamp for h in hist] == [*stamps, stamps[-1] + 1]
    assert [h.int_value for h in hist[:5]] == [0, 1, 2, 3, 4]
    assert not ours[-1].pb().metrics[0].is_historical
    # The births carry the newest values, taken while buffering.
    assert metrics_by_name(ours[1].pb())["count"].int_value == 4
    assert node.stats()["flushed"] == 6 and node.stats()["pending"] == 0
    wire.publish(f"spBv1.0/STATE/{host}", b"", retain=True)


@tck(
    "tck-id-intro-group-id-string",
    "tck-id-intro-group-id-chars",
    "tck-id-intro-edge-node-id-string",
    "tck-id-intro-edge-node-id-chars",
    "tck-id-intro-device-id-string",
    "tck-id-intro-device-id-chars",
    "tck-id-topic-structure-namespace-valid-group-id",
    "tck-id-topic-structure-namespace-valid-edge-node-id",
    "tck-id-topic-structure-namespace-valid-device-id",
)
def test_ids_are_utf8_without_topic_reserved_characters(broker, wire, nodes, uid):
    for group, edge in ((f"a+{uid}", "e"), (f"a/{uid}", "e"), (uid, "e#"), ("", "e"), (uid, "x/y")):
        with pytest.raises(SparkplugError):
            EdgeNode(group, edge, broker.url)
    node = EdgeNode(f"Werk-Köln-{uid}", "Linie-Ä", broker.url, client_id=f"{uid}-utf8")
    nodes.append(node)
    for device in ("d+1", "d/1", "d#", ""):
        with pytest.raises(SparkplugError):
            node.add_device(device, [])
    node.add_device("Zelle-ß", [MetricDef("Temperatur °C", DataType.Float, 21.5)])
    node.start()
    assert node.wait_online(WAIT)
    dbirth = wire.wait_topic(f"spBv1.0/Werk-Köln-{uid}/DBIRTH/Linie-Ä/Zelle-ß")
    assert dbirth.pb().metrics[0].name == "Temperatur °C"
