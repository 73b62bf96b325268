"""The compiled DATA kernel against the general path (upb + metric_value): parity, or a bail, never harm."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from google.protobuf.message import DecodeError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sparkplug import data_kernel
from sparkplug.codec_metric import metric_value
from sparkplug.data_kernel import (
    BAIL,
    DT_SHIFT,
    FLAG_HISTORICAL,
    KERNEL_TYPES,
    META_LEN,
    OUT_ROWS,
    ROW_FLAGS,
    ROW_HANDLE,
    ROW_INT,
    ROW_TS,
    Kernel,
    alias_table,
    kernel,
    py_value,
)
from sparkplug.errors import SparkplugDecodeError
from sparkplug.proto import pb
from tests.sparkplug.codec_strategies import f32

pytest.importorskip("numba")
_compiled = kernel()
if _compiled is None:
    pytest.skip("UNS_NO_JIT is set: there is no compiled kernel to test", allow_module_level=True)
K: Kernel = _compiled

PbMetric = pb.Payload.Metric
M64 = (1 << 64) - 1
RECEIVED = 1_700_000_000_123
SENTINEL = -0x5A5A5A5A5A5A5A5B  # in every int cell the kernel must not write
F_SENTINEL_BITS = 0x7FF4DEADBEEF0000  # a signalling NaN pattern in every float cell it must not write
GUARD = 16  # cells past the end of each out array, to catch a write beyond it
SLOW = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

Slots = dict[int, tuple[int, int]]
# handle, timestamp (as uint64), value key, flags
Row = tuple[int, int, tuple[str, Any], int]
Meta = tuple[int, bool, int, bool]


# -- the wire by hand, for what the generated class will not write


def varint(v: int) -> bytes:
    v &= M64
    out = bytearray()
    while v > 0x7F:
        out.append(v & 0x7F | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def tag(field: int, wire_type: int) -> bytes:
    return varint(field << 3 | wire_type)


def delimited(field: int, body: bytes) -> bytes:
    return tag(field, 2) + varint(len(body)) + body


def metric_bytes(body: bytes) -> bytes:
    return delimited(2, body)


# -- the two readers


def vkey(value: Any) -> tuple[str, Any]:
    """A value as a comparable key: its type, and a float by its 64 bits (NaN == NaN, -0.0 != 0.0)."""
    if type(value) is float:
        return ("float", struct.pack("<d", value))
    return (type(value).__name__, value)


@dataclass(slots=True)
class KernelRun:
    n: int
    rows: list[Row]
    meta: Meta | None  # None: meta left as it was (a bail)


def run_kernel(raw: bytes, slots: Slots, *, start: int = 0, cap: int | None = None) -> KernelRun:
    """Calls the kernel on sentinel-filled columns with guard cells behind them, and checks that it
    wrote nothing outside what it reports (nothing at all outside the arrays, nothing before
    `start`, and on a bail no meta)."""
    if cap is None:
        cap = start + (len(raw) >> 1) + 1  # as the host sizes it: a metric takes two bytes at least
    flat_i = np.full(OUT_ROWS * cap + GUARD, SENTINEL, np.int64)
    out_i = flat_i[: OUT_ROWS * cap].reshape(OUT_ROWS, cap)  # C-contiguous, guard right behind
    flat_f = np.full(cap + GUARD, F_SENTINEL_BITS, np.int64).view(np.float64)
    out_f = flat_f[:cap]
    meta = np.full(META_LEN, SENTINEL, np.int64)
    n = K(raw, alias_table(slots), out_i, out_f, start, RECEIVED, meta)

    assert n == BAIL or 0 <= n <= cap - start, n
    assert (flat_i[OUT_ROWS * cap :] == SENTINEL).all(), "wrote past the end of out_i"
    assert (flat_f[cap:].view(np.int64) == F_SENTINEL_BITS).all(), "wrote past the end of out_f"
    assert (out_i[:, :start] == SENTINEL).all() and (out_f[:start].view(np.int64) == F_SENTINEL_BITS).all()
    if n == BAIL:
        assert (meta == SENTINEL).all(), "a bail must commit nothing, meta included"
        return KernelRun(n, [], None)
    assert (out_i[:, start + n :] == SENTINEL).all()
    assert (out_f[start + n :].view(np.int64) == F_SENTINEL_BITS).all()
    rows: list[Row] = []
    for i in range(start, start + n):
        flags = int(out_i[ROW_FLAGS, i])
        value = py_value(flags >> DT_SHIFT, int(out_i[ROW_INT, i]), float(out_f[i]))
        rows.append((int(out_i[ROW_HANDLE, i]), int(out_i[ROW_TS, i]) & M64, vkey(value), flags))
    m = [int(x) for x in meta]
    assert m[1] in (0, 1) and m[3] in (0, 1)
    return KernelRun(n, rows, (m[0] & M64, bool(m[1]), m[2] & M64, bool(m[3])))


def reference(raw: bytes, slots: Slots) -> tuple[list[Row], Meta] | None:
    """The general path's reading, or None when it rejects the message (malformed bytes, an alias
    the birth did not give, a value that does not fit the birth's datatype)."""
    try:
        p = pb.Payload.FromString(raw)
    except DecodeError:
        return None
    fill = p.timestamp or RECEIVED
    rows: list[Row] = []
    for m in p.metrics:
        slot = slots.get(m.alias)
        if slot is None:
            return None
        handle, datatype = slot
        try:
            value = metric_value(m, datatype)
        except SparkplugDecodeError:
            return None
        flags = (FLAG_HISTORICAL if m.is_historical else 0) | datatype << DT_SHIFT
        rows.append((handle, m.timestamp or fill, vkey(value), flags))
    return rows, (p.timestamp, p.HasField("timestamp"), p.seq, p.HasField("seq"))


def check_parity(raw: bytes, slots: Slots, *, must_read: bool = False, start: int = 0) -> KernelRun:
    got = run_kernel(raw, slots, start=start)
    ref = reference(raw, slots)
    if must_read:
        assert ref is not None, "the generator made a message the general path rejects"
        assert got.n != BAIL, f"bailed on plain DATA {raw.hex()}"
    if got.n == BAIL:
        return got
    assert ref is not None, f"kernel read {got.n} metrics of a message the general path rejects: {raw.hex()}"
    assert (got.rows, got.meta) == ref, raw.hex()
    return got


# -- strategies

U32 = st.integers(0, 2**32 - 1)
U64 = st.integers(0, M64)
SIGNED_BITS = {1: 8, 2: 16, 3: 32}
UNSIGNED_MAX = {5: 0xFF, 6: 0xFFFF, 7: 0xFFFFFFFF}


def _edges(lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from([lo, hi, 0, lo + 1, hi - 1, -1 if lo < 0 else 1]), st.integers(lo, hi))


float32_any = st.one_of(
    st.floats(width=32),
    st.sampled_from([0.0, -0.0, float("inf"), float("-inf"), float("nan"), 0.1, 1e-45]),
    U32.map(lambda b: struct.unpack("<f", struct.pack("<I", b))[0]),
)
float64_any = st.one_of(
    st.floats(),
    st.sampled_from([0.0, -0.0, float("inf"), float("-inf"), float("nan"), 5e-324]),
    U64.map(lambda b: struct.unpack("<d", struct.pack("<Q", b))[0]),
)
aliases = st.one_of(st.integers(0, 50), U64)  # past 2**63 too: the table sorts 64-bit patterns
handles = st.integers(0, 2**40)
timestamps = st.one_of(st.just(0), st.integers(1, 2**45), U64)


@st.composite
def plain_value(draw: st.DrawFn, m: PbMetric, datatype: int) -> None:
    """The value of `datatype` in its usual field, as a Sparkplug peer writes it."""
    if datatype in SIGNED_BITS:
        bits = SIGNED_BITS[datatype]
        v = draw(_edges(-(1 << (bits - 1)), (1 << (bits - 1)) - 1))
        # Peers write a negative sign-extended to the uint32 field, or masked to the type's width.
        m.int_value = v & draw(st.sampled_from([0xFFFFFFFF, (1 << bits) - 1]))
    elif datatype == 4:
        m.long_value = draw(_edges(-(1 << 63), (1 << 63) - 1)) & M64
    elif datatype in UNSIGNED_MAX:
        m.int_value = draw(_edges(0, UNSIGNED_MAX[datatype]))
    elif datatype in (8, 13):
        m.long_value = draw(_edges(0, M64))
    elif datatype == 9:
        m.float_value = draw(float32_any)
    elif datatype == 10:
        m.double_value = draw(float64_any)
    elif datatype == 11:
        m.boolean_value = draw(st.booleans())
    else:  # pragma: no cover - the strategies only pass kernel types
        raise AssertionError(datatype)


@st.composite
def births(draw: st.DrawFn, datatypes: st.SearchStrategy[int], min_size: int = 1) -> Slots:
    keys = draw(st.lists(aliases, min_size=min_size, max_size=8, unique=True))
    return {a: (draw(handles), draw(datatypes)) for a in keys}


kernel_types = st.sampled_from(sorted(KERNEL_TYPES))


@st.composite
def plain_metric(draw: st.DrawFn, slots: Slots) -> bytes:
    """One plain metric of the birth (of a kernel datatype), inside its Payload.metrics tag."""
    usable = sorted(a for a, (_, dt) in slots.items() if dt in KERNEL_TYPES)
    alias = draw(st.sampled_from(usable)) if usable else draw(U64)
    m = PbMetric(alias=alias)
    if draw(st.booleans()):
        m.timestamp = draw(timestamps)
    if usable:
        draw(plain_value(m, slots[alias][1]))
    return metric_bytes(m.SerializeToString())


@st.composite
def plain_data(draw: st.DrawFn, min_metrics: int = 0) -> tuple[bytes, Slots]:
    """A plain DATA payload (alias-only metrics, each value in its usual field) and its birth."""
    slots = draw(births(kernel_types))
    p = pb.Payload()
    if draw(st.booleans()):
        p.timestamp = draw(timestamps)
    if draw(st.booleans()):
        p.seq = draw(st.one_of(st.integers(0, 255), U64))
    for _ in range(draw(st.integers(min_metrics, 12))):
        alias = draw(st.sampled_from(sorted(slots)))
        m = p.metrics.add(alias=alias)
        if draw(st.booleans()):
            m.timestamp = draw(timestamps)
        if draw(st.booleans()):
            m.is_historical = draw(st.booleans())
        draw(plain_value(m, slots[alias][1]))
    return p.SerializeToString(), slots


# Anything a peer (or a broken peer) may put in a metric.
VALUE_KINDS = [
    "none",
    "int",
    "long",
    "float",
    "double",
    "bool",
    "string",
    "bytes",
    "dataset",
    "template",
    "ext",
]


@st.composite
def any_value(draw: st.DrawFn, m: PbMetric) -> None:
    kind = draw(st.sampled_from(VALUE_KINDS))
    if kind == "int":
        m.int_value = draw(U32)
    elif kind == "long":
        m.long_value = draw(U64)
    elif kind == "float":
        m.float_value = draw(float32_any)
    elif kind == "double":
        m.double_value = draw(float64_any)
    elif kind == "bool":
        m.boolean_value = draw(st.booleans())
    elif kind == "string":
        m.string_value = draw(st.text(max_size=6))
    elif kind == "bytes":
        m.bytes_value = draw(st.binary(max_size=6))
    elif kind == "dataset":
        m.dataset_value.num_of_columns = draw(st.integers(0, 2))
    elif kind == "template":
        m.template_value.is_definition = False
    elif kind == "ext":
        m.extension_value.SetInParent()


@st.composite
def raw_field(draw: st.DrawFn, fields: st.SearchStrategy[int]) -> bytes:
    """One well-formed field of any number and wire type: unknown, a duplicate, or a known one in
    the wrong wire type."""
    f = draw(fields)
    wt = draw(st.sampled_from([0, 1, 2, 5]))
    if wt == 0:
        return tag(f, 0) + varint(draw(U64))
    if wt == 1:
        return tag(f, 1) + draw(st.binary(min_size=8, max_size=8))
    if wt == 5:
        return tag(f, 5) + draw(st.binary(min_size=4, max_size=4))
    return delimited(f, draw(st.binary(max_size=6)))


@st.composite
def any_metric(draw: st.DrawFn, known: list[int]) -> bytes:
    m = PbMetric()
    if draw(st.integers(0, 3)) == 0:
        m.name = draw(st.text(max_size=6))
    alias = draw(st.one_of(st.none(), st.sampled_from(known), st.sampled_from(known), U64) if known else U64)
    if alias is not None:
        m.alias = alias
    if draw(st.booleans()):
        m.timestamp = draw(timestamps)
    if draw(st.integers(0, 3)) == 0:
        m.datatype = draw(st.integers(0, 40))
    for flag in ("is_historical", "is_transient", "is_null"):
        if draw(st.integers(0, 3)) == 0:
            setattr(m, flag, draw(st.booleans()))
    if draw(st.integers(0, 5)) == 0:
        m.metadata.content_type = draw(st.text(max_size=4))
        m.metadata.size = draw(U64)
    if draw(st.integers(0, 5)) == 0:
        m.properties.keys.append("Quality")
        m.properties.values.add(type=3, int_value=draw(U32))
    draw(any_value(m))
    body = m.SerializeToString()
    # Extra fields after the generated ones: unknown, duplicated, or in the wrong wire type.
    extra = draw(st.lists(raw_field(st.integers(1, 70)), max_size=2)) if draw(st.integers(0, 3)) == 0 else []
    return metric_bytes(body + b"".join(extra))


# Birth datatypes beyond the kernel's: the kernel must leave those to the general path.
birth_types = st.one_of(kernel_types, st.sampled_from([0, 12, 14, 15, 17, 99]))


@st.composite
def any_data(draw: st.DrawFn) -> tuple[bytes, Slots]:
    slots = draw(births(birth_types, min_size=0))
    known = sorted(slots)
    top = pb.Payload()
    if draw(st.booleans()):
        top.timestamp = draw(timestamps)
    if draw(st.booleans()):
        top.seq = draw(U64)
    if draw(st.integers(0, 3)) == 0:
        top.uuid = draw(st.text(max_size=4))
    if draw(st.integers(0, 3)) == 0:
        top.body = draw(st.binary(max_size=4))
    metrics = draw(st.lists(st.one_of(any_metric(known), plain_metric(slots)), max_size=8))
    extra = draw(st.lists(raw_field(st.integers(1, 200)), max_size=2)) if draw(st.integers(0, 3)) == 0 else []
    parts = [top.SerializeToString(), *metrics, *extra]
    if draw(st.booleans()):
        parts = draw(st.permutations(parts))
    raw = b"".join(parts)
    if draw(st.integers(0, 5)) == 0:
        raw += raw  # protobuf merge: scalars twice (last wins), metrics repeated
    return raw, slots


# -- 1. plain DATA: always read, always as the general path reads it


@SLOW
@given(plain_data())
def test_plain_data_is_read_as_the_general_path_reads_it(case: tuple[bytes, Slots]) -> None:
    raw, slots = case
    got = check_parity(raw, slots, must_read=True)
    assert got.n == len(pb.Payload.FromString(raw).metrics)


@SLOW
@given(plain_data(), st.integers(0, 100))
def test_plain_data_at_any_start(case: tuple[bytes, Slots], start: int) -> None:
    raw, slots = case
    check_parity(raw, slots, must_read=True, start=start)


@SLOW
@given(st.lists(st.tuples(st.booleans(), U64), min_size=1, max_size=6), st.booleans())
def test_float_and_double_bit_patterns_on_the_wire(values: list[tuple[bool, int]], with_ts: bool) -> None:
    """Every IEEE bit pattern (signalling NaNs, denormals, -0.0) as it is on the wire, not as
    Python's float would write it."""
    slots: Slots = {1: (10, 9), 2: (20, 10)}
    raw = tag(1, 0) + varint(5) if with_ts else b""
    for is_float, bits in values:
        if is_float:
            raw += metric_bytes(tag(2, 0) + varint(1) + tag(12, 5) + struct.pack("<I", bits & 0xFFFFFFFF))
        else:
            raw += metric_bytes(tag(2, 0) + varint(2) + tag(13, 1) + struct.pack("<Q", bits))
    check_parity(raw, slots, must_read=True)


# -- 2. anything goes: a bail, or parity with a general path that accepted the message


@settings(SLOW, max_examples=400)
@given(any_data())
def test_any_data_bails_or_matches(case: tuple[bytes, Slots]) -> None:
    raw, slots = case
    check_parity(raw, slots)


# -- 3. broken bytes: never a crash, and a read only of what upb reads the same


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bytes, Slots]:
    raw, slots = draw(any_data() if draw(st.integers(0, 3)) == 0 else plain_data(min_metrics=1))
    b = bytearray(raw)
    # Mostly one small change, so that a fair share still reads and parity is what gets tested.
    for _ in range(draw(st.integers(1, 2))):
        op = draw(st.sampled_from(["flip", "flip", "set", "set", "insert", "delete", "truncate"]))
        i = draw(st.integers(0, len(b)))
        if op == "truncate":
            del b[i:]
        elif op == "insert":
            b[i:i] = draw(st.binary(min_size=1, max_size=11))
        elif op == "delete":
            del b[i : i + draw(st.integers(1, 4))]
        elif i < len(b):
            b[i] = b[i] ^ (1 << draw(st.integers(0, 7))) if op == "flip" else draw(st.integers(0, 255))
    return bytes(b), slots


@settings(SLOW, max_examples=400)
@given(mutated())
def test_mutated_payloads_bail_or_match(case: tuple[bytes, Slots]) -> None:
    raw, slots = case
    check_parity(raw, slots)


small_birth: Slots = {a: (100 + a, dt) for a, dt in enumerate([3, 4, 8, 9, 10, 11, 1, 7])}


@settings(SLOW, max_examples=300)
@given(st.binary(max_size=48))
def test_random_bytes_bail_or_match(raw: bytes) -> None:
    check_parity(raw, small_birth)


@SLOW
@given(plain_data(min_metrics=1))
def test_every_truncation_of_plain_data(case: tuple[bytes, Slots]) -> None:
    raw, slots = case
    for cut in range(len(raw)):
        check_parity(raw[:cut], slots)


# -- 4. capacity: columns too short mean a bail, never a write past their end


@SLOW
@given(plain_data(min_metrics=1), st.integers(8, 40), st.data())
def test_short_columns_bail(case: tuple[bytes, Slots], start: int, data: st.DataObject) -> None:
    raw, slots = case
    n = len(pb.Payload.FromString(raw).metrics)
    short = data.draw(st.integers(0, n - 1), label="room")
    assert run_kernel(raw, slots, start=start, cap=start + short).n == BAIL
    exact = run_kernel(raw, slots, start=start, cap=start + n)
    assert exact.n == n
    ref = reference(raw, slots)
    assert ref is not None and (exact.rows, exact.meta) == ref


# -- 5. hand-written vectors with the numbers spelled out


@dataclass(frozen=True, slots=True)
class Expect:
    handle: int
    ts: int
    value: Any
    historical: bool = False


def read_one(raw: bytes, slots: Slots) -> tuple[list[Expect], Meta | None]:
    got = check_parity(raw, slots, must_read=True)
    out = []
    for handle, ts, (type_name, v), flags in got.rows:
        value = struct.unpack("<d", v)[0] if type_name == "float" else v
        assert type(value).__name__ == type_name
        out.append(Expect(handle, ts, value, bool(flags & FLAG_HISTORICAL)))
    return out, got.meta


def one(alias: int, *fields: bytes) -> bytes:
    return metric_bytes(tag(2, 0) + varint(alias) + b"".join(fields))


def test_int32_negative_in_any_width_reads_the_same() -> None:
    slots: Slots = {7: (70, 3)}
    for wire in (4294966438, -858 & M64):  # sign-extended to 32 bits, and to 64 bits (10 bytes)
        rows, _ = read_one(one(7, tag(10, 0) + varint(wire)), slots)
        assert rows == [Expect(70, RECEIVED, -858)]
        assert type(rows[0].value) is int


def test_small_signed_types_masked_or_extended() -> None:
    for dt, wires, want in (
        (1, (0xFF, 0xFFFFFFFF), -1),
        (1, (0x80, 0xFFFFFF80), -128),
        (2, (0x8000, 0xFFFF8000), -32768),
        (2, (0x7FFF,), 32767),
    ):
        for wire in wires:
            rows, _ = read_one(one(1, tag(10, 0) + varint(wire)), {1: (5, dt)})
            assert [r.value for r in rows] == [want], (dt, wire)


def test_64_bit_patterns() -> None:
    slots: Slots = {1: (1, 4), 2: (2, 8), 3: (3, 13)}
    raw = (
        one(1, tag(11, 0) + varint(M64))
        + one(2, tag(11, 0) + varint(M64))
        + one(3, tag(11, 0) + varint(1 << 63))
    )
    rows, _ = read_one(raw, slots)
    assert [r.value for r in rows] == [-1, M64, 1 << 63]
    assert py_value(8, -1, 0.0) == 2**64 - 1


def test_unsigned_edges_and_out_of_range() -> None:
    rows, _ = read_one(one(1, tag(10, 0) + varint(0xFFFFFFFF)), {1: (1, 7)})
    assert rows[0].value == 4294967295
    for dt, wire in ((5, 256), (6, 65536), (7, 1 << 32)):
        raw = one(1, tag(10, 0) + varint(wire))
        assert run_kernel(raw, {1: (1, dt)}).n == BAIL, (dt, wire)


def test_float_is_float32_widened_and_double_keeps_negative_zero() -> None:
    m = PbMetric(alias=1, float_value=0.1)
    d = PbMetric(alias=2, double_value=-0.0)
    raw = pb.Payload(metrics=[m, d]).SerializeToString()
    rows, _ = read_one(raw, {1: (1, 9), 2: (2, 10)})
    assert rows[0].value == f32(0.1) == 0.10000000149011612
    assert rows[0].value != 0.1
    assert struct.pack("<d", rows[1].value) == struct.pack("<d", -0.0)


def test_boolean_is_bool_whatever_the_varint() -> None:
    raw = one(1, tag(14, 0) + varint(2)) + one(1, tag(14, 0) + varint(0))
    rows, _ = read_one(raw, {1: (9, 11)})
    assert [r.value for r in rows] == [True, False]
    assert all(type(r.value) is bool for r in rows)


def test_timestamps_metric_then_payload_then_arrival() -> None:
    slots: Slots = {1: (1, 3)}
    value = tag(10, 0) + varint(5)
    plain = one(1, value)
    stamped = one(1, tag(3, 0) + varint(42), value)
    zero = one(1, tag(3, 0) + varint(0), value)
    historical = one(1, tag(5, 0) + varint(1), value)
    rows, meta = read_one(tag(1, 0) + varint(1000) + plain + stamped + zero + historical, slots)
    assert [r.ts for r in rows] == [1000, 42, 1000, 1000]
    assert [r.historical for r in rows] == [False, False, False, True]
    assert meta == (1000, True, 0, False)
    rows, meta = read_one(tag(1, 0) + varint(0) + plain + tag(3, 0) + varint(7), slots)
    assert rows[0].ts == RECEIVED
    assert meta == (0, True, 7, True)
    got = run_kernel(plain + stamped, slots)
    assert [r[1] for r in got.rows] == [RECEIVED, 42] and got.meta == (0, False, 0, False)


def test_flags_hold_historical_and_the_birth_datatype() -> None:
    raw = one(3, tag(5, 0) + varint(1), tag(11, 0) + varint(9))
    got = run_kernel(raw, {3: (33, 13)})
    assert got.rows[0][3] == FLAG_HISTORICAL | 13 << DT_SHIFT


def test_empty_payload_and_empty_birth() -> None:
    assert run_kernel(b"", {}).n == 0
    assert run_kernel(b"", {}).meta == (0, False, 0, False)
    assert run_kernel(one(1, tag(10, 0) + varint(1)), {}).n == BAIL


# Messages the first version of the kernel read although upb rejects them or reads them otherwise.
WRONG_ONCE: list[tuple[str, bytes]] = [
    ("field number 0", b"\x00\x00" + one(1, tag(10, 0) + varint(5))),
    ("tag beyond 32 bits", varint(1 << 35) + b"\x00" + one(1, tag(10, 0) + varint(5))),
    ("field number 2**29", tag(1 << 29, 0) + b"\x00" + one(1, tag(10, 0) + varint(5))),
    ("negative tag", varint(-8) + b"\x00" + one(1, tag(10, 0) + varint(5))),
    ("extension_value after int_value", one(1, tag(10, 0) + varint(5), delimited(19, b""))),
    ("malformed metadata", one(1, tag(10, 0) + varint(5), delimited(8, b"\xff\xff"))),
    ("malformed properties", one(1, tag(10, 0) + varint(5), delimited(9, b"\x07"))),
]


@pytest.mark.parametrize(("why", "raw"), WRONG_ONCE, ids=[w for w, _ in WRONG_ONCE])
def test_messages_upb_rejects_or_reads_otherwise_bail(why: str, raw: bytes) -> None:
    slots: Slots = {1: (1, 3)}
    assert reference(raw, slots) is None, why
    assert run_kernel(raw, slots).n == BAIL, why


# Lengths that are negative or overflow as int64: the first version looped for ever or read far
# outside the message. A child process, so a hang or a crash fails this test, not the whole run.
_CHILD = """
import sys
import numpy as np
from sparkplug.data_kernel import META_LEN, OUT_ROWS, alias_table, kernel
k = kernel()
table = alias_table({1: (1, 3)})
for line in sys.stdin.read().split():
    oi = np.zeros((OUT_ROWS, 64), np.int64)
    of = np.zeros(64)
    print(k(bytes.fromhex(line), table, oi, of, 0, 1, np.zeros(META_LEN, np.int64)), flush=True)
"""


def test_hostile_lengths_bail_without_hang_or_crash() -> None:
    good = one(1, tag(10, 0) + varint(5))
    hostile = [
        good + tag(6, 2) + varint(-11),  # jumps back onto its own tag: an endless loop
        good + tag(6, 2) + varint(2**63 - 2),  # pos + length overflows: a read far before the buffer
        metric_bytes(tag(2, 0) + varint(1) + tag(20, 2) + varint(2**63 - 2)),
        metric_bytes(tag(2, 0) + varint(1) + tag(20, 2) + varint(-1)),
        tag(2, 2) + varint(-1) + good,
        tag(2, 2) + varint(2**63 - 1) + good,
    ]
    slots: Slots = {1: (1, 3)}
    assert all(reference(raw, slots) is None for raw in hostile)
    env = {k: v for k, v in os.environ.items() if k != "UNS_NO_JIT"}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD],
        input="\n".join(raw.hex() for raw in hostile),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        check=False,
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert done.stdout.split() == [str(BAIL)] * len(hostile)


# -- the module around the kernel


def test_uns_no_jit_turns_the_kernel_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNS_NO_JIT", "1")
    compile_: Callable[[], Kernel | None] = data_kernel._compile
    assert compile_() is None


def test_alias_table_sorts_64_bit_patterns() -> None:
    table = alias_table({2**64 - 1: (1, 3), 0: (2, 4), 2**63: (3, 9), 5: (4, 11)})
    assert table.dtype == np.int64 and table.shape == (3, 4)
    assert list(table[0]) == sorted(table[0])
    assert {int(a) & M64: (int(h), int(d)) for a, h, d in table.T} == {
        2**64 - 1: (1, 3),
        0: (2, 4),
        2**63: (3, 9),
        5: (4, 11),
    }
    assert alias_table({}).shape == (3, 0)


def test_py_value_types() -> None:
    assert py_value(11, 1, 1.0) is True and py_value(11, 0, 0.0) is False
    assert type(py_value(3, -5, -5.0)) is int and py_value(3, -5, -5.0) == -5
    assert py_value(13, -(2**63), 0.0) == 2**63
    assert py_value(4, -1, -1.0) == -1
    v = py_value(10, 0, -0.0)
    assert type(v) is float and struct.pack("<d", v) == struct.pack("<d", -0.0)
