"""HostApplication on a real Mosquitto: bad input, lenient mode, batches, handles, throttling, broker loss."""

from __future__ import annotations

import json
import logging
import time

import pytest

from sparkplug.datatypes import DataType
from sparkplug.host import HostApplication
from sparkplug.host_registry import HostDisconnected, NodeBirth, NodeDeath, RebirthRequested, UpdateBatch
from sparkplug.proto import pb
from tests.conformance.wire import WAIT, Collector, Wire, sp

I64, BOOL, DBL, I32, STR = DataType.Int64, DataType.Boolean, DataType.Double, DataType.Int32, DataType.String


def start_host(hosts, url, uid, got, **kw) -> HostApplication:
    kw.setdefault("reorder_timeout", 0)
    h = HostApplication(f"{uid}-host", url, groups=[uid], on_batch=got, on_lifecycle=got, on_reject=got, **kw)
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
        ("count", 2, I32, -4),
        ("label", 3, STR, None),
        *extra,
        timestamp=1_700_000_000_000,
    )


def batch_with_seq(seq: int):
    return lambda b: isinstance(b, UpdateBatch) and b.seq == seq


def test_births_and_data_become_columnar_batches(broker, wire, hosts, uid):
    got = Collector()
    h = start_host(hosts, broker.url, uid, got)
    wire.publish(f"spBv1.0/{uid}/NBIRTH/e1", nbirth(), qos=0)
    birth = got.wait_for(lambda e: isinstance(e, NodeBirth))
    first = got.wait_for(lambda b: isinstance(b, UpdateBatch) and b.message_type == "NBIRTH")
    names = [h.registry[x].name for x in first.handles]
    assert names == ["bdSeq", "Node Control/Rebirth", "temp", "count", "label"]
    assert first.values == [0, False, 1.5, -4, None]  # null delivered as None
    assert first.timestamps_ms == [1_700_000_000_000] * 5  # no metric timestamps: the payload's
    assert [m.alias for m in birth.metrics] == [None, None, 1, 2, 3]
    assert h.registry[first.handles[3]].datatype == DataType.Int32

    data = pb.Payload(timestamp=1_700_000_000_500, seq=1)
    m = data.metrics.add(alias=2, timestamp=1_700_000_000_400, is_historical=True)
    m.int_value = 7
    m = data.metrics.add(alias=3)
    m.string_value = "x"
    wire.publish(f"spBv1.0/{uid}/NDATA/e1", data.SerializeToString(), qos=0)
    b = got.wait_for(batch_with_seq(1))
    assert (b.group_id, b.edge_node_id, b.device_id, b.message_type) == (uid, "e1", None, "NDATA")
    assert b.handles == [first.handles[3], first.handles[4]]
    assert b.values == [7, "x"]
    assert b.timestamps_ms == [1_700_000_000_400, 1_700_000_000_500]
    assert b.historical == [True, False]
    s = h.stats()
    assert s["metrics_in"] == 7 and s["nbirths"] == 1 and s["nodes_online"] == 1


def test_handles_stay_stable_across_rebirths(broker, wire, hosts, uid):
    got = Collector()
    h = start_host(hosts, broker.url, uid, got)
    wire.publish(f"spBv1.0/{uid}/NBIRTH/e1", nbirth(), qos=0)
    first = got.wait_for(lambda e: isinstance(e, NodeBirth))
    wire.publish(f"spBv1.0/{uid}/NBIRTH/e1", nbirth(0, ("new", 9, DBL, 0.0)), qos=0)
    got.wait_for(lambda e: isinstance(e, NodeBirth) and len(e.metrics) == 6)
    again = got.of(NodeBirth)[-1]
    assert [m.handle for m in again.metrics[:5]] == [m.handle for m in first.metrics]
    info = h.registry.lookup(uid, "e1", None, "new")
    assert info is not None and info.alias == 9


@pytest.mark.parametrize(
    ("topic_tail", "payload", "reason"),
    [
        ("NDATA/e1", b"\x0a\xff\xff not protobuf", "malformed"),
        ("NDATA/e1", sp(1, (None, 2, None, 2.5)), "type_mismatch"),  # count is Int32: a double is wrong
        ("DBIRTH/e1/d1", sp(1, ("odd", 7, 99, 1)), "unknown_datatype"),
        (
            "NDATA/e1",
            sp(1, (None, 1, None, 1.0), *[(f"m{i}", None, STR, "x" * 50) for i in range(5)]),
            "oversized",
        ),
        ("NFOO/e1", sp(1), "bad_topic"),
        ("NDATA/e1/extra", sp(1), "bad_topic"),
    ],
)
def test_bad_input_is_counted_kept_and_the_stream_goes_on(
    broker, wire, hosts, uid, topic_tail, payload, reason
):
    got = Collector()
    h = start_host(hosts, broker.url, uid, got, max_payload_bytes=200)
    wire.publish(f"spBv1.0/{uid}/NBIRTH/e1", nbirth(), qos=0)
    got.wait_for(lambda e: isinstance(e, NodeBirth))
    topic = f"spBv1.0/{uid}/{topic_tail}"
    wire.publish(topic, payload, qos=0)
    wire.publish(f"spBv1.0/{uid}/NDATA/e1", sp(2, (None, 1, None, 9.5)), qos=0)
    b = got.wait_for(lambda x: isinstance(x, UpdateBatch) and x.values == [9.5])
    assert h.registry[b.handles[0]].name == "temp"
    assert h.stats()["rejected"] == {reason: 1}
    kept = h.rejected[-1]
    assert (kept.topic, kept.payload, kept.reason) == (topic, payload, reason) and kept.detail
    assert got.wait_for(lambda x: x == (topic, payload, reason))


def test_each_reason_is_logged_once_per_edge_node(broker, wire, hosts, uid, caplog):
    caplog.set_level(logging.WARNING, logger="sparkplug.host")
    got = Collector()
    h = start_host(hosts, broker.url, uid, got)
    for _ in range(3):
        wire.publish(f"spBv1.0/{uid}/NDATA/e1", b"\xff garbage", qos=0)
    wire.publish(f"spBv1.0/{uid}/NDATA/e2", b"\xff garbage", qos=0)
    wire.publish(f"spBv1.0/{uid}/NBIRTH/e1", nbirth(), qos=0)
    got.wait_for(lambda e: isinstance(e, NodeBirth))
    assert h.stats()["rejected"] == {"malformed": 4}
    lines = [r.getMessage() for r in caplog.records if "malformed" in r.getMessage()]
    assert len(lines) == 2 and any(f"{uid}/e1" in x for x in lines) and any(f"{uid}/e2" in x for x in lines)


def test_unknown_alias_delivers_the_rest_and_asks_for_rebirth(broker, wire, hosts, uid):
    got = Collector()
    h = start_host(hosts, broker.url, uid, got)
    wire.publish(f"spBv1.0/{uid}/NBIRTH/e1", nbirth(), qos=0)
    got.wait_for(lambda e: isinstance(e, NodeBirth))
    wire.publish(f"spBv1.0/{uid}/NDATA/e1", sp(1, (None, 1, None, 3.0), (None, 42, None, 1.0)), qos=0)
    b = got.wait_for(batch_with_seq(1))
    assert b.values == [3.0]
    ev = got.wait_for(lambda e: isinstance(e, RebirthRequested))
    assert ev.reason == "unknown_alias" and h.stats()["rejected"] == {"unknown_alias": 1}
    ncmd = wire.wait_topic(f"spBv1.0/{uid}/NCMD/e1")
    assert ncmd.pb().metrics[0].boolean_value is True


def test_rebirth_requests_are_throttled_per_node(broker, wire, hosts, uid):
    got = Collector()
    h = start_host(hosts, broker.url, uid, got, rebirth_min_interval=60)
    for seq in range(3):
        wire.publish(f"spBv1.0/{uid}/NDATA/e1", sp(seq, (None, 1, None, 1.0)), qos=0)
    wire.publish(f"spBv1.0/{uid}/NDATA/e2", sp(0, (None, 1, None, 1.0)), qos=0)
    wire.publish(f"spBv1.0/{uid}/NBIRTH/e3", nbirth(), qos=0)
    got.wait_for(lambda e: isinstance(e, NodeBirth))
    s = h.stats()
    assert s["rebirths_requested"] == 2 and s["rebirths_throttled"] == 2
    assert sorted(e.edge_node_id for e in got.of(RebirthRequested)) == ["e1", "e2"]


def test_lenient_mode_accepts_known_peer_deviations(broker, wire, hosts, uid):
    strict_got, lenient_got = Collector(), Collector()
    strict = start_host(hosts, broker.url, uid, strict_got)
    lenient = HostApplication(
        f"{uid}-lenient", broker.url, groups=[uid], role="secondary_passive", lenient=True,
        on_batch=lenient_got, on_lifecycle=lenient_got, reorder_timeout=0,
    )  # fmt: skip
    hosts.append(lenient)
    lenient.start()
    assert lenient.wait_ready(WAIT)
    wire.publish(f"spBv1.0/{uid}/NBIRTH/e1", nbirth(), qos=0)
    wrong_field = pb.Payload(timestamp=1, seq=1)
    wrong_field.metrics.add(alias=2).long_value = 5  # Int32 sent in the 64-bit field
    wire.publish(f"spBv1.0/{uid}/NDATA/e1", wrong_field.SerializeToString(), qos=0)
    wire.publish(f"spBv1.0/{uid}/NDATA/e1", sp(None, (None, 1, None, 4.5)), qos=0)  # no seq
    wire.publish(f"spBv1.0/{uid}/NDEATH/e1", sp(None), qos=1)  # no bdSeq
    lenient_got.wait_for(lambda e: isinstance(e, NodeDeath))
    assert [b.values for b in lenient_got.of(UpdateBatch)][1:] == [[5], [4.5]]
    ls = lenient.stats()
    assert ls["rejected"] == {} and ls["seq_gaps"] == 0 and ls["ndeaths"] == 1
    strict_got.wait_for(lambda b: isinstance(b, UpdateBatch) and b.values == [4.5])
    deadline = time.monotonic() + WAIT
    while strict.stats()["stale_wills_ignored"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    ss = strict.stats()
    assert ss["rejected"] == {"type_mismatch": 1} and ss["seq_gaps"] == 1
    assert ss["ndeaths"] == 0 and ss["stale_wills_ignored"] == 1


def test_broker_loss_marks_everything_stale_and_the_host_comes_back(own_broker, hosts, uid):
    got = Collector()
    h = start_host(hosts, own_broker.url, uid, got)
    w = Wire(own_broker.host, own_broker.port)
    w.publish(f"spBv1.0/{uid}/NBIRTH/e1", nbirth(), qos=0)
    birth = got.wait_for(lambda e: isinstance(e, NodeBirth))
    w.close()
    own_broker.stop()
    lost = got.wait_for(lambda e: isinstance(e, HostDisconnected))
    assert sorted(lost.stale_handles) == sorted(m.handle for m in birth.metrics)
    own_broker.start()
    assert h.wait_ready(WAIT)
    w = Wire(own_broker.host, own_broker.port, topics=(f"spBv1.0/STATE/{uid}-host",))
    now = {"online": True, "timestamp": h.session_timestamp}
    w.wait_for(lambda m: json.loads(m.payload) == now)  # a new session: a new timestamp
    assert h.stats()["nodes_online"] == 0 and h.stats()["connected"]
    w.close()


def test_legacy_state_strings(broker, hosts, uid):
    w = Wire(broker.host, broker.port, topics=(f"STATE/{uid}-host",))
    h = start_host(hosts, broker.url, uid, Collector(), legacy_state=True)
    online = w.wait_topic(f"STATE/{uid}-host")
    assert online.payload == b"ONLINE" and online.qos == 1
    h.stop()
    offline = w.wait_topic(f"STATE/{uid}-host", after=online.index)
    assert offline.payload == b"OFFLINE"
    w.publish(f"STATE/{uid}-host", b"", retain=True)
    w.publish(f"spBv1.0/STATE/{uid}-host", b"", retain=True)
    w.close()


def test_device_messages_without_their_births_ask_for_rebirth(broker, wire, hosts, uid):
    got = Collector()
    h = start_host(hosts, broker.url, uid, got, rebirth_min_interval=0)
    dbirth = sp(1, ("count", 5, I32, 1))
    wire.publish(f"spBv1.0/{uid}/DBIRTH/e1/d1", dbirth, qos=0)  # before any NBIRTH
    wire.publish(f"spBv1.0/{uid}/NBIRTH/e1", nbirth(), qos=0)
    wire.publish(f"spBv1.0/{uid}/DDATA/e1/d9", sp(1, (None, 5, None, 2)), qos=0)  # d9 never born
    wire.publish(f"spBv1.0/{uid}/DBIRTH/e1/d1", sp(2, ("count", 5, I32, 1)), qos=0)
    wire.publish(f"spBv1.0/{uid}/DDATA/e1/d1", sp(3, (None, 5, None, 2)), qos=0)
    b = got.wait_for(lambda x: isinstance(x, UpdateBatch) and x.message_type == "DDATA")
    assert b.device_id == "d1" and b.values == [2] and h.registry[b.handles[0]].name == "count"
    reasons = [e.reason for e in got.of(RebirthRequested)]
    assert reasons == ["no_birth", "unknown_device"]
    assert h.stats()["rejected"] == {"no_birth": 1, "unknown_device": 1}
    assert h.rejected[0].payload == dbirth


def test_alias_zero_and_names_in_data_resolve_right(broker, wire, hosts, uid):
    """An absent alias reads as 0 on the wire: with a birth using alias 0, names must still win."""
    got = Collector()
    h = start_host(hosts, broker.url, uid, got)
    birth = sp(0, ("bdSeq", None, I64, 0), ("a", 0, DBL, 1.0), ("b", 1, DBL, 2.0))
    wire.publish(f"spBv1.0/{uid}/NBIRTH/e1", birth, qos=0)
    got.wait_for(lambda e: isinstance(e, NodeBirth))
    wire.publish(f"spBv1.0/{uid}/NDATA/e1", sp(1, ("b", None, None, 5.0), (None, 0, None, 6.0)), qos=0)
    b = got.wait_for(batch_with_seq(1))
    assert [h.registry[x].name for x in b.handles] == ["b", "a"] and b.values == [5.0, 6.0]
