"""The host's DATA hot path gives what the general path and the codec's reference decoder give."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sparkplug.codec import metric_value
from sparkplug.datatypes import DataType
from sparkplug.errors import SparkplugDecodeError
from sparkplug.host import HostApplication
from sparkplug.host_registry import DeviceBirth, UpdateBatch
from sparkplug.proto import pb
from tests.conformance.wire import WAIT, Collector, Wire, sp

TS = 1_700_000_000_000
# One metric per scalar datatype, alias = its index + 1.
TYPES = [
    DataType.Int8,
    DataType.Int16,
    DataType.Int32,
    DataType.Int64,
    DataType.UInt8,
    DataType.UInt16,
    DataType.UInt32,
    DataType.UInt64,
    DataType.Float,
    DataType.Double,
    DataType.Boolean,
    DataType.String,
    DataType.DateTime,
    DataType.Text,
    DataType.UUID,
]
FIELD = {
    DataType.Int8: "int_value",
    DataType.Int16: "int_value",
    DataType.Int32: "int_value",
    DataType.UInt8: "int_value",
    DataType.UInt16: "int_value",
    DataType.UInt32: "int_value",
    DataType.Int64: "long_value",
    DataType.UInt64: "long_value",
    DataType.DateTime: "long_value",
    DataType.Float: "float_value",
    DataType.Double: "double_value",
    DataType.Boolean: "boolean_value",
    DataType.String: "string_value",
    DataType.Text: "string_value",
    DataType.UUID: "string_value",
}
# Wire values per field: zero (present, falsy), small, sign bit set (two's complement in either
# width), maximum; strings and floats their own.
WIRE: dict[str, list[Any]] = {
    "int_value": [0, 1, 127, 128, 255, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF],
    "long_value": [0, 1, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000, 0xFFFFFFFFFFFFFFFF, 1_700_000_000_123],
    "float_value": [0.0, -0.0, 1.5, -2.25],
    "double_value": [0.0, -0.0, 20.5, -1e300],
    "boolean_value": [False, True],
    "string_value": ["", "x", "héllo"],
}


@pytest.fixture
def wire(broker) -> Iterator[Wire]:
    w = Wire(broker.host, broker.port)
    yield w
    w.close()


@pytest.fixture
def host(broker, uid) -> Iterator[tuple[HostApplication, Collector]]:
    got = Collector()
    h = HostApplication(
        f"{uid}-host", broker.url, groups=[uid], on_batch=got, on_lifecycle=got, on_reject=got
    )
    h.start()
    assert h.wait_ready(WAIT)
    yield h, got
    h.stop()


def _data(fill: list[tuple[int, str | None, Any]], historical: frozenset[int] = frozenset()) -> Any:
    """A DDATA of alias-only metrics: (alias, value field or None for none, wire value or None for null)."""
    p = pb.Payload(timestamp=TS + 500)
    for i, (alias, field, value) in enumerate(fill):
        m = p.metrics.add(alias=alias)
        if i % 3:
            m.timestamp = TS + i  # the others take the payload's
        if i in historical:
            m.is_historical = True
        if field is None:
            m.is_null = value is None
        else:
            setattr(m, field, value)
    return p


def _expected(p: Any) -> tuple[list[Any], list[int], list[bool]]:
    """The reference: the codec's metric_value with each metric's birth datatype."""
    values: list[Any] = []
    for m in p.metrics:
        try:
            values.append(metric_value(m, int(TYPES[m.alias - 1])))
        except SparkplugDecodeError:
            values.append(REJECTED)
    return values, [m.timestamp or p.timestamp for m in p.metrics], [m.is_historical for m in p.metrics]


REJECTED = object()


def _signature(v: Any) -> tuple[str, str]:
    return type(v).__name__, repr(v)


def _messages() -> list[Any]:
    messages = []
    for k in range(max(len(v) for v in WIRE.values())):
        fill: list[tuple[int, str | None, Any]] = []
        for i, dt in enumerate(TYPES):
            vals = WIRE[FIELD[dt]]
            fill.append((i + 1, FIELD[dt], vals[k % len(vals)]))
        messages.append(_data(fill, frozenset({k % len(TYPES)}) if k % 2 else frozenset()))
    # No value at all, null, an UInt32 in long_value (accepted), a value in a wrong field (rejected,
    # the rest of the message still comes), a 0x28 byte that is no is_historical tag (Int32 40).
    messages.append(_data([(3, None, 0), (10, None, None), (7, "long_value", 5), (1, "double_value", 1.0)]))
    messages.append(_data([(3, "int_value", 40), (11, "boolean_value", True), (11, "boolean_value", False)]))
    return messages


def test_every_scalar_datatype_decodes_as_the_codec_does_on_both_paths(broker, wire, host, uid):
    """Each DDATA goes to d1, where every message after the first takes the hot path, and to a device
    born just before, whose first message takes the general path."""
    h, got = host
    wire.publish(f"spBv1.0/{uid}/NBIRTH/e1", sp(0, ("bdSeq", None, DataType.Int64, 0)), qos=0)
    birth_metrics = [(f"m{i}", i + 1, dt, None) for i, dt in enumerate(TYPES)]
    seq = 0

    def send(topic: str, payload: bytes) -> int:
        nonlocal seq
        seq = (seq + 1) & 0xFF
        p = pb.Payload.FromString(payload)
        p.seq = seq
        wire.publish(topic, p.SerializeToString(), qos=0)
        return seq

    send(f"spBv1.0/{uid}/DBIRTH/e1/d1", sp(None, *birth_metrics))
    got.wait_for(lambda e: isinstance(e, DeviceBirth) and e.device_id == "d1")
    send(f"spBv1.0/{uid}/DDATA/e1/d1", _messages()[0].SerializeToString())  # d1's general-path message

    rejecting = 0
    for k, p in enumerate(_messages()):
        send(f"spBv1.0/{uid}/DBIRTH/e1/g{k}", sp(None, *birth_metrics))
        got.wait_for(lambda e, d=f"g{k}": isinstance(e, DeviceBirth) and e.device_id == d)
        values, stamps, hist = _expected(p)
        kept = [i for i, v in enumerate(values) if v is not REJECTED]
        rejecting += 2 if len(kept) < len(values) else 0
        for device in (f"g{k}", "d1"):
            s = send(f"spBv1.0/{uid}/DDATA/e1/{device}", p.SerializeToString())
            b = got.wait_for(lambda b, s=s: isinstance(b, UpdateBatch) and b.seq == s)
            assert [_signature(v) for v in b.values] == [_signature(values[i]) for i in kept], device
            assert b.timestamps_ms == [stamps[i] for i in kept]
            assert b.historical == [hist[i] for i in kept]
            assert [h.registry[x].name for x in b.handles] == [f"m{p.metrics[i].alias - 1}" for i in kept]
    stats = h.stats()
    assert stats["seq_gaps"] == 0 and rejecting > 0
    assert stats["rejected"] == {"type_mismatch": rejecting}
