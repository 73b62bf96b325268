"""The host's columnar mode on a real broker: same values as the per-message path, arrival order kept."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from sparkplug import host_columns
from sparkplug.datatypes import DataType
from sparkplug.host import HostApplication
from sparkplug.host_columns import ColumnBatch
from sparkplug.host_registry import DeviceBirth, DeviceDeath, RebirthRequested, UpdateBatch
from sparkplug.proto import pb
from tests.conformance.wire import WAIT, Collector, Wire, sp
from tests.sparkplug.test_host_data_paths import REJECTED, TYPES, _expected, _messages, _signature

pytest.importorskip("numba")


@pytest.fixture
def wire(broker) -> Iterator[Wire]:
    w = Wire(broker.host, broker.port)
    yield w
    w.close()


def _host(broker: Any, uid: str, got: Collector) -> HostApplication:
    h = HostApplication(
        f"{uid}-host",
        broker.url,
        groups=[uid],
        on_batch=got,
        on_lifecycle=got,
        on_reject=got,
        on_columns=got,
    )
    h.start()
    assert h.wait_ready(WAIT)
    return h


@pytest.fixture
def columnar(broker, uid) -> Iterator[tuple[HostApplication, Collector]]:
    got = Collector()
    h = _host(broker, uid, got)
    assert h.columnar
    yield h, got
    h.stop()


def _until(h: HostApplication, got: Collector, pred: Callable[[], bool]) -> None:
    """Flush the columns (as the bridge does each turn) until `pred` holds."""
    deadline = time.monotonic() + WAIT
    while not pred():
        assert time.monotonic() < deadline, f"not within {WAIT}s; have {got.items[-8:]}"
        h.flush_columns()
        time.sleep(0.01)


def _flat(items: list[Any], device_handles: set[int]) -> list[tuple[int, Any, int, bool]]:
    """(handle, value, ts, historical) of every DATA value of the given handles, in hand-over order."""
    out: list[tuple[int, Any, int, bool]] = []
    for it in items:
        if isinstance(it, ColumnBatch):
            for i, v in enumerate(it.values()):
                out.append((int(it.handle[i]), v, int(it.ts[i]), bool(it.historical[i])))
        elif isinstance(it, UpdateBatch) and it.message_type == "DDATA":
            out.extend(zip(it.handles, it.values, it.timestamps_ms, it.historical, strict=True))
    return [x for x in out if x[0] in device_handles]


def test_columns_carry_what_the_codec_decodes_for_every_scalar_datatype(broker, wire, columnar, uid):
    """The data-paths test's messages (every scalar datatype, edge values, nulls, wrong fields): plain
    ones come as columns, the rest as UpdateBatch; together they are the codec's reference."""
    h, got = columnar
    wire.publish(f"spBv1.0/{uid}/NBIRTH/e1", sp(0, ("bdSeq", None, DataType.Int64, 0)), qos=0)
    birth = [(f"m{i}", i + 1, dt, None) for i, dt in enumerate(TYPES)]
    wire.publish(f"spBv1.0/{uid}/DBIRTH/e1/d1", sp(1, *birth), qos=0)
    born = got.wait_for(lambda e: isinstance(e, DeviceBirth) and e.device_id == "d1")
    handles = {m.handle for m in born.metrics}
    expected: list[tuple[str, str]] = []
    messages = _messages()
    for k, p in enumerate(messages):
        p.seq = (k + 2) & 0xFF
        wire.publish(f"spBv1.0/{uid}/DDATA/e1/d1", p.SerializeToString(), qos=0)
        values, _stamps, _hist = _expected(p)
        expected += [_signature(v) for v in values if v is not REJECTED]
    _until(h, got, lambda: len(_flat(got.items, handles)) >= len(expected))
    flat = _flat(got.items, handles)
    assert [_signature(v) for _, v, _, _ in flat] == expected
    assert got.of(ColumnBatch), "no message took the columnar path"
    assert h.stats()["seq_gaps"] == 0


def test_columns_come_before_what_followed_them(broker, wire, columnar, uid):
    """Plain DATA, a DATA with a string (per-message path), plain DATA, a death: in that order. (A
    topic's first DATA always takes the general path, which learns the route.)"""
    _h, got = columnar
    wire.publish(f"spBv1.0/{uid}/NBIRTH/e1", sp(0, ("bdSeq", None, DataType.Int64, 0)), qos=0)
    wire.publish(
        f"spBv1.0/{uid}/DBIRTH/e1/d1",
        sp(1, ("n", 1, DataType.Int32, 0), ("s", 2, DataType.String, "a")),
        qos=0,
    )
    got.wait_for(lambda e: isinstance(e, DeviceBirth))
    topic = f"spBv1.0/{uid}/DDATA/e1/d1"
    wire.publish(topic, sp(2, (None, 1, None, 10)), qos=0)
    wire.publish(topic, sp(3, (None, 1, None, 11)), qos=0)
    wire.publish(topic, sp(4, (None, 2, None, "b")), qos=0)
    wire.publish(topic, sp(5, (None, 1, None, -12)), qos=0)
    wire.publish(f"spBv1.0/{uid}/DDEATH/e1/d1", sp(6), qos=0)
    got.wait_for(lambda e: isinstance(e, DeviceDeath))
    data = [
        it
        for it in got.items
        if isinstance(it, ColumnBatch | DeviceDeath)
        or (isinstance(it, UpdateBatch) and it.message_type == "DDATA")
    ]
    kinds = [type(it).__name__ for it in data]
    assert kinds == ["UpdateBatch", "ColumnBatch", "UpdateBatch", "ColumnBatch", "DeviceDeath"]
    values = [
        it.values() if isinstance(it, ColumnBatch) else it.values
        for it in data
        if not isinstance(it, DeviceDeath)
    ]
    assert values == [[10], [11], ["b"], [-12]]
    assert _h.stats()["data_compiled"] == 2  # the string message and the route's first went the Python way


def test_a_seq_gap_in_columns_requests_a_rebirth_after_the_values(broker, wire, columnar, uid):
    h, got = columnar
    wire.publish(f"spBv1.0/{uid}/NBIRTH/e1", sp(0, ("bdSeq", None, DataType.Int64, 0)), qos=0)
    wire.publish(f"spBv1.0/{uid}/DBIRTH/e1/d1", sp(1, ("n", 1, DataType.Double, 0.0)), qos=0)
    got.wait_for(lambda e: isinstance(e, DeviceBirth))
    topic = f"spBv1.0/{uid}/DDATA/e1/d1"
    wire.publish(topic, sp(2, (None, 1, None, 0.5)), qos=0)  # learns the route
    wire.publish(topic, sp(3, (None, 1, None, 1.5)), qos=0)
    wire.publish(topic, sp(8, (None, 1, None, 2.5)), qos=0)  # 4..7 missing: taken, then a gap
    got.wait_for(lambda e: isinstance(e, RebirthRequested))
    assert h.stats()["seq_gaps"] == 1
    order = [it for it in got.items if isinstance(it, ColumnBatch | RebirthRequested)]
    assert isinstance(order[0], ColumnBatch) and order[0].values() == [1.5, 2.5]
    assert isinstance(order[1], RebirthRequested)


def test_without_the_kernel_the_host_hands_over_per_message_batches(broker, wire, uid, monkeypatch):
    """No numba (or UNS_NO_JIT): on_columns is never called and every DATA is an UpdateBatch."""
    monkeypatch.setattr(host_columns, "kernel", lambda: None)
    got = Collector()
    h = _host(broker, uid, got)
    try:
        assert not h.columnar
        wire.publish(f"spBv1.0/{uid}/NBIRTH/e1", sp(0, ("bdSeq", None, DataType.Int64, 0)), qos=0)
        wire.publish(f"spBv1.0/{uid}/DBIRTH/e1/d1", sp(1, ("n", 1, DataType.Int16, 0)), qos=0)
        for k in range(3):
            p = pb.Payload.FromString(sp(2 + k, (None, 1, None, 0)))
            p.metrics[0].int_value = 0xFFFF - k  # -1, -2, -3 as 16-bit two's complement
            wire.publish(f"spBv1.0/{uid}/DDATA/e1/d1", p.SerializeToString(), qos=0)
        got.wait_for(lambda b: isinstance(b, UpdateBatch) and b.seq == 4)
        assert not got.of(ColumnBatch)
        assert [b.values for b in got.of(UpdateBatch) if b.message_type == "DDATA"] == [[-1], [-2], [-3]]
    finally:
        h.stop()


def test_a_reader_failure_leaves_the_message_to_the_python_path(broker, wire, columnar, uid, caplog):
    """The compiled reader checks its bounds: an IndexError (here forced by a column block too short
    for its float column) is logged, and the message still arrives, read in Python."""
    h, got = columnar
    wire.publish(f"spBv1.0/{uid}/NBIRTH/e1", sp(0, ("bdSeq", None, DataType.Int64, 0)), qos=0)
    wire.publish(f"spBv1.0/{uid}/DBIRTH/e1/d1", sp(1, ("n", 1, DataType.Int32, 0)), qos=0)
    got.wait_for(lambda e: isinstance(e, DeviceBirth))
    topic = f"spBv1.0/{uid}/DDATA/e1/d1"
    wire.publish(topic, sp(2, (None, 1, None, 5)), qos=0)  # learns the route
    wire.publish(topic, sp(3, (None, 1, None, 6)), qos=0)  # columns
    _until(h, got, lambda: bool(got.of(ColumnBatch)))
    cols = h._ingest.columns
    assert cols is not None
    with h._lock:
        cols.out_i = np.zeros((4, 0), np.int64)  # out_f keeps its size: only the bounds check stops it
    wire.publish(topic, sp(4, (None, 1, None, -7)), qos=0)
    batch = got.wait_for(lambda b: isinstance(b, UpdateBatch) and b.seq == 4)
    assert batch.values == [-7]
    assert cols.errors == 1
    assert h.stats()["data_reader_errors"] == 1
    assert "compiled DATA reader failed" in caplog.text
