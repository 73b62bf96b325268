"""Host Application conformance to Sparkplug B 3.0, with raw paho peers playing the edge nodes."""

from __future__ import annotations

import json
import re
import time

import pytest

from sparkplug.datatypes import DataType
from sparkplug.host import HostApplication
from sparkplug.host_registry import (
    DeviceBirth,
    DeviceDeath,
    NodeBirth,
    NodeDeath,
    RebirthRequested,
    UpdateBatch,
)
from tests.conformance.wire import WAIT, Collector, Wire, retained, sp, state_payload
from tests.support.mosquitto import Mosquitto

tck = pytest.mark.tck
I64, BOOL, DBL, I32 = DataType.Int64, DataType.Boolean, DataType.Double, DataType.Int32


def make_host(hosts, broker, uid, got: Collector, **kw) -> HostApplication:
    kw.setdefault("groups", [uid])
    h = HostApplication(
        f"{uid}-host",
        broker.url,
        on_batch=got,
        on_lifecycle=got,
        on_reject=got,
        client_id=f"{uid}-hostc",
        **kw,
    )
    hosts.append(h)
    h.start()
    assert h.wait_ready(WAIT)
    return h


def nbirth(bdseq: int = 0, *extra) -> bytes:
    return sp(
        0,
        ("bdSeq", None, I64, bdseq),
        ("Node Control/Rebirth", None, BOOL, False),
        ("temp", 1, DBL, 1.5),
        *extra,
    )


def t(uid: str, kind: str, device: str | None = None) -> str:
    return f"spBv1.0/{uid}/{kind}/e1" + (f"/{device}" if device else "")


@tck(
    "tck-id-host-topic-phid-birth-message",
    "tck-id-host-topic-phid-birth-qos",
    "tck-id-host-topic-phid-birth-retain",
    "tck-id-host-topic-phid-birth-topic",
    "tck-id-host-topic-phid-birth-sub-required",
    "tck-id-host-topic-phid-birth-required",
    "tck-id-host-topic-phid-birth-payload",
    "tck-id-host-topic-phid-birth-payload-timestamp",
    "tck-id-host-topic-phid-death-qos",
    "tck-id-host-topic-phid-death-retain",
    "tck-id-host-topic-phid-death-topic",
    "tck-id-host-topic-phid-death-required",
    "tck-id-host-topic-phid-death-payload",
    "tck-id-host-topic-phid-death-payload-timestamp-connect",
    "tck-id-message-flow-phid-sparkplug-clean-session-311",
    "tck-id-message-flow-phid-sparkplug-subscription",
    "tck-id-message-flow-phid-sparkplug-state-publish",
    "tck-id-message-flow-phid-sparkplug-state-publish-payload",
    "tck-id-message-flow-phid-sparkplug-state-publish-payload-timestamp",
    "tck-id-operational-behavior-host-application-connect-will",
    "tck-id-operational-behavior-host-application-connect-will-topic",
    "tck-id-operational-behavior-host-application-connect-will-payload",
    "tck-id-operational-behavior-host-application-connect-will-qos",
    "tck-id-operational-behavior-host-application-connect-will-retained",
    "tck-id-operational-behavior-host-application-connect-birth",
    "tck-id-operational-behavior-host-application-connect-birth-topic",
    "tck-id-operational-behavior-host-application-connect-birth-payload",
    "tck-id-operational-behavior-host-application-connect-birth-qos",
    "tck-id-operational-behavior-host-application-connect-birth-retained",
    "tck-id-operational-behavior-primary-application-state-with-multiple-servers-state",
    "tck-id-payloads-state-will-message",
    "tck-id-payloads-state-will-message-qos",
    "tck-id-payloads-state-will-message-retain",
    "tck-id-payloads-state-will-message-payload",
    "tck-id-payloads-state-subscribe",
    "tck-id-payloads-state-birth",
    "tck-id-payloads-state-birth-payload",
    "tck-id-conformance-primary-host",
    "tck-id-principles-birth-certificates-order",
)
def test_state_birth_follows_subscriptions_and_matches_the_will(tmp_path, hosts, uid):
    """The broker's debug log is the wire: CONNECT flags, the will, SUBSCRIBE before the STATE PUBLISH."""
    b = Mosquitto(workdir=tmp_path / "mq", extra="log_type all")
    b.start()
    try:
        w = Wire(b.host, b.port, topics=("spBv1.0/STATE/#",))
        h = make_host(hosts, b, uid, Collector(), groups=None)
        birth = w.wait_topic(f"spBv1.0/STATE/{uid}-host")
        state = json.loads(birth.payload)
        assert birth.qos == 1 and state == {"online": True, "timestamp": h.session_timestamp}
        assert abs(state["timestamp"] - time.time() * 1000) < 60_000
        kept = retained(b.host, b.port, f"spBv1.0/STATE/{uid}-host")
        assert [json.loads(m.payload) for m in kept] == [state] and kept[0].qos == 1
        w.close()
        log = b.log
    finally:
        b.stop()
    cid = re.escape(f"{uid}-hostc")
    assert re.search(rf"New client connected from \S+ as {cid} \(p2, c1, k\d+\)", log)
    will = re.search(
        rf"as {cid} .*\n\S+: Will message specified \((\d+) bytes\) \(r(\d), q(\d)\)\.\n\S+: \t(\S+)", log
    )
    assert will and will.groups()[1:] == ("1", "1", f"spBv1.0/STATE/{uid}-host")
    assert int(will.group(1)) == len(state_payload(False, state["timestamp"]).replace(b" ", b""))
    sub = log.index(f"Received SUBSCRIBE from {uid}-hostc")
    own = log.index(f"\tspBv1.0/STATE/{uid}-host (QoS 1)", sub)
    ns = log.index("\tspBv1.0/# (QoS 1)", sub)
    pub = log.index(f"Received PUBLISH from {uid}-hostc (d0, q1, r1, m")
    assert sub < own < pub and ns < pub
    first_pub = re.search(rf"Received PUBLISH from {cid} \(d0, q(\d), r(\d), m\d+, '([^']+)'", log)
    assert first_pub and first_pub.groups() == ("1", "1", f"spBv1.0/STATE/{uid}-host")


@tck(
    "tck-id-host-topic-phid-death-payload",
    "tck-id-host-topic-phid-death-payload-timestamp-connect",
    "tck-id-operational-behavior-host-application-death-topic",
    "tck-id-operational-behavior-host-application-death-payload",
    "tck-id-operational-behavior-host-application-death-qos",
    "tck-id-operational-behavior-host-application-death-retained",
)
def test_state_will_on_crash(broker, wire, hosts, uid):
    h = make_host(hosts, broker, uid, Collector())
    birth = wire.wait_topic(f"spBv1.0/STATE/{uid}-host")
    h._kill_connection()
    death = wire.wait_topic(f"spBv1.0/STATE/{uid}-host", after=birth.index)
    assert death.qos == 1
    assert json.loads(death.payload) == {"online": False, "timestamp": h.session_timestamp}
    kept = retained(broker.host, broker.port, f"spBv1.0/STATE/{uid}-host")
    assert [json.loads(m.payload)["online"] for m in kept] == [False]
    wire.publish(f"spBv1.0/STATE/{uid}-host", b"", retain=True)


@tck(
    "tck-id-host-topic-phid-death-payload-timestamp-disconnect-clean",
    "tck-id-operational-behavior-host-application-termination",
    "tck-id-operational-behavior-host-application-disconnect-intentional",
    "tck-id-intro-sparkplug-host-state",
    "tck-id-components-ph-state",
)
def test_clean_stop_publishes_offline_state_first(broker, wire, hosts, uid):
    h = make_host(hosts, broker, uid, Collector())
    birth = wire.wait_topic(f"spBv1.0/STATE/{uid}-host")
    assert json.loads(birth.payload)["online"] is True
    h.stop()
    death = wire.wait_topic(f"spBv1.0/STATE/{uid}-host", after=birth.index)
    state = json.loads(death.payload)
    assert (
        death.qos == 1
        and state["online"] is False
        and state["timestamp"] >= json.loads(birth.payload)["timestamp"]
    )
    assert [json.loads(m.payload)["online"] for m in retained(broker.host, broker.port, death.topic)] == [
        False
    ]
    wire.publish(death.topic, b"", retain=True)


@tck("tck-id-message-flow-hid-sparkplug-state-message-delivered")
def test_republishes_online_when_told_it_is_offline(broker, wire, hosts, uid):
    h = make_host(hosts, broker, uid, Collector())
    birth = wire.wait_topic(f"spBv1.0/STATE/{uid}-host")
    wire.publish(birth.topic, state_payload(False, h.session_timestamp or 0), retain=True)
    again = wire.wait_for(
        lambda m: m.topic == birth.topic and json.loads(m.payload)["online"], after=birth.index
    )
    assert json.loads(again.payload) == {"online": True, "timestamp": h.session_timestamp}
    assert h.stats()["state_republished"] >= 1
    h.stop()
    wire.publish(birth.topic, b"", retain=True)


@tck(
    "tck-id-operational-behavior-data-commands-ncmd-rebirth-verb",
    "tck-id-operational-behavior-data-commands-ncmd-rebirth-name",
    "tck-id-operational-behavior-data-commands-ncmd-rebirth-value",
    "tck-id-topics-ncmd-topic",
    "tck-id-topics-ncmd-mqtt",
    "tck-id-topics-ncmd-timestamp",
    "tck-id-topics-ncmd-payload",
    "tck-id-payloads-ncmd-timestamp",
    "tck-id-payloads-ncmd-seq",
    "tck-id-payloads-ncmd-qos",
    "tck-id-payloads-ncmd-retain",
    "tck-id-operational-behavior-data-commands-ncmd-verb",
    "tck-id-payloads-name-cmd-requirement",
)
def test_rebirth_request_on_data_before_birth(broker, wire, hosts, uid):
    got = Collector()
    h = make_host(hosts, broker, uid, got)
    early = sp(5, (None, 1, None, 2.5))
    wire.publish(t(uid, "NDATA"), early, qos=0)
    ncmd = wire.wait_topic(t(uid, "NCMD"))
    assert ncmd.qos == 0 and ncmd.retain is False
    p = ncmd.pb()
    assert not p.HasField("seq") and p.HasField("timestamp")
    assert len(p.metrics) == 1
    m = p.metrics[0]
    assert m.name == "Node Control/Rebirth" and not m.HasField("alias") and m.HasField("timestamp")
    assert (
        m.datatype == DataType.Boolean
        and m.WhichOneof("value") == "boolean_value"
        and m.boolean_value is True
    )
    ev = got.wait_for(lambda e: isinstance(e, RebirthRequested))
    assert (ev.group_id, ev.edge_node_id, ev.reason) == (uid, "e1", "no_birth")
    assert h.stats()["rejected"] == {"no_birth": 1}
    assert h.rejected[-1].payload == early and h.rejected[-1].topic == t(uid, "NDATA")


@tck(
    "tck-id-operational-behavior-host-reordering-param",
    "tck-id-operational-behavior-host-reordering-start",
    "tck-id-operational-behavior-host-reordering-rebirth",
    "tck-id-operational-behavior-host-reordering-success",
)
def test_seq_gap_tolerated_within_reorder_timeout_then_rebirth(broker, wire, hosts, uid):
    got = Collector()
    h = make_host(hosts, broker, uid, got, reorder_timeout=0.5)
    wire.publish(t(uid, "NBIRTH"), nbirth(), qos=0)
    for seq in (1, 3, 2, 4):  # 3 before 2: out of order, filled in time
        wire.publish(t(uid, "NDATA"), sp(seq, (None, 1, None, float(seq))), qos=0)
    got.wait_for(lambda b: isinstance(b, UpdateBatch) and b.seq == 4)
    s = h.stats()
    assert s["seq_reordered"] == 1 and s["seq_gaps"] == 0 and s["rebirths_requested"] == 0
    mark = wire.last_index()
    wire.publish(t(uid, "NDATA"), sp(6, (None, 1, None, 6.0)), qos=0)  # 5 never comes
    got.wait_for(lambda b: isinstance(b, UpdateBatch) and b.seq == 6)
    ncmd = wire.wait_topic(t(uid, "NCMD"), after=mark)
    assert ncmd.pb().metrics[0].name == "Node Control/Rebirth"
    ev = got.wait_for(lambda e: isinstance(e, RebirthRequested))
    assert ev.reason == "seq_gap"
    assert h.stats()["seq_gaps"] == 1


@tck(
    "tck-id-operational-behavior-edge-node-termination-host-action-ndeath-node-offline",
    "tck-id-operational-behavior-edge-node-termination-host-action-ndeath-node-tags-stale",
    "tck-id-operational-behavior-edge-node-termination-host-action-ndeath-devices-offline",
    "tck-id-operational-behavior-edge-node-termination-host-action-ndeath-devices-tags-stale",
    "tck-id-operational-behavior-edge-node-termination-host-action-ddeath-devices-offline",
    "tck-id-operational-behavior-edge-node-termination-host-action-ddeath-devices-tags-stale",
)
def test_deaths_match_bdseq_and_mark_metrics_stale(broker, wire, hosts, uid):
    got = Collector()
    h = make_host(hosts, broker, uid, got)
    wire.publish(t(uid, "NBIRTH"), nbirth(3), qos=0)
    wire.publish(t(uid, "DBIRTH", "d1"), sp(1, ("count", 2, I32, 5)), qos=0)
    wire.publish(t(uid, "DBIRTH", "d2"), sp(2, ("speed", 3, DBL, 1.0)), qos=0)
    born = got.wait_for(lambda e: isinstance(e, DeviceBirth) and e.device_id == "d2")
    node_birth = got.wait_for(lambda e: isinstance(e, NodeBirth))
    d1 = got.wait_for(lambda e: isinstance(e, DeviceBirth) and e.device_id == "d1")
    assert node_birth.bdseq == 3

    wire.publish(t(uid, "DDEATH", "d2"), sp(3, timestamp=1_700_000_000_123), qos=0)
    dd = got.wait_for(lambda e: isinstance(e, DeviceDeath))
    assert dd.timestamp_ms == 1_700_000_000_123 and dd.stale_handles == [m.handle for m in born.metrics]

    wire.publish(t(uid, "NDEATH"), sp(None, ("bdSeq", None, I64, 2)))  # a late will of an older session
    wire.publish(t(uid, "NDATA"), sp(4, (None, 1, None, 9.5)), qos=0)
    got.wait_for(lambda b: isinstance(b, UpdateBatch) and b.seq == 4)
    assert got.of(NodeDeath) == [] and h.stats()["stale_wills_ignored"] == 1
    assert h.nodes[(uid, "e1")].online

    before = int(time.time() * 1000)
    wire.publish(t(uid, "NDEATH"), sp(None, ("bdSeq", None, I64, 3), timestamp=1))
    nd = got.wait_for(lambda e: isinstance(e, NodeDeath))
    assert nd.bdseq == 3 and nd.timestamp_ms >= before  # the host's time of receipt, not the will's
    expected = (
        {m.handle for m in node_birth.metrics}
        | {m.handle for m in d1.metrics}
        | {m.handle for m in born.metrics}
    )
    assert set(nd.stale_handles) == expected
    node = h.nodes[(uid, "e1")]
    assert not node.online and not any(d.online for d in node.devices.values())


@tck("tck-id-operational-behavior-host-application-host-id")
def test_secondary_passive_never_publishes(tmp_path, uid):
    b = Mosquitto(workdir=tmp_path / "mq", extra="log_type all")
    b.start()
    try:
        w = Wire(b.host, b.port)
        got = Collector()
        h = HostApplication(
            f"{uid}-passive",
            b.url,
            groups=[uid],
            role="secondary_passive",
            reorder_timeout=0,
            on_batch=got,
            client_id=f"{uid}-pas",
        )
        h.start()
        assert h.wait_ready(WAIT)
        w.publish(t(uid, "NDATA"), sp(7, (None, 1, None, 1.0)), qos=0)  # would make a primary ask for rebirth
        w.publish(t(uid, "NBIRTH"), nbirth(), qos=0)
        w.publish(t(uid, "NDATA"), sp(9, (None, 1, None, 2.0)), qos=0)  # a gap
        got.wait_for(lambda b: isinstance(b, UpdateBatch) and b.seq == 9)
        w.barrier()
        h.stop()
        assert h.stats()["seq_gaps"] == 1 and h.stats()["rebirths_requested"] == 0
        assert not [
            m for m in w.messages if m.topic.endswith("/NCMD/e1") or m.topic.endswith(f"{uid}-passive")
        ]
        log = b.log
        w.close()
    finally:
        b.stop()
    assert f"Received PUBLISH from {uid}-pas" not in log
    assert not re.search(rf"as {uid}-pas .*\n\S+: Will message", log)
