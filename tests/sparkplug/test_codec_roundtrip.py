"""Round trips through the Sparkplug B codec: every datatype, nesting, flags, metadata, edge values."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sparkplug.codec import decode_payload, encode_payload, metric_value, parse_payload, set_metric_value
from sparkplug.datatypes import INT_RANGES, METRIC_VALUE_FIELD, DataType
from sparkplug.payload import DataSet, Metric, Payload, PropertySet, Template, TemplateParameter
from sparkplug.proto import pb
from tests.sparkplug.codec_strategies import (
    SIMPLE_VALUES,
    datasets,
    expected_metric,
    expected_payload,
    expected_value,
    f32,
    metrics,
    payloads,
    property_sets,
    templates,
)

D = DataType
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def roundtrip(p: Payload) -> Payload:
    return decode_payload(encode_payload(p))


@SETTINGS
@given(payloads)
def test_payload_roundtrip(p: Payload) -> None:
    assert roundtrip(p) == expected_payload(p)


@SETTINGS
@given(st.sampled_from(sorted(SIMPLE_VALUES)).flatmap(lambda dt: st.tuples(st.just(dt), SIMPLE_VALUES[dt])))
def test_every_simple_datatype_on_the_pb_fast_path(case: tuple[DataType, object]) -> None:
    dt, value = case
    m = pb.Payload.Metric(name="m")
    set_metric_value(m, dt, value)
    assert m.datatype == dt
    assert m.WhichOneof("value") == METRIC_VALUE_FIELD[dt]
    again = pb.Payload.Metric.FromString(m.SerializeToString())
    assert metric_value(again) == expected_value(dt, value)


@SETTINGS
@given(datasets())
def test_dataset_roundtrip(ds: DataSet) -> None:
    p = Payload(metrics=[Metric("table", datatype=D.DataSet, value=ds)])
    assert roundtrip(p).metrics[0].value == expected_value(D.DataSet, ds)


@SETTINGS
@given(templates(depth=2))
def test_template_roundtrip(t: Template) -> None:
    p = Payload(metrics=[Metric("udt", datatype=D.Template, value=t)])
    got = roundtrip(p).metrics[0].value
    assert got == expected_value(D.Template, t)
    assert got.is_definition is t.is_definition


@SETTINGS
@given(property_sets(depth=3))
def test_nested_propertysets_roundtrip(ps: PropertySet) -> None:
    p = Payload(metrics=[Metric("m", datatype=D.Int32, value=1, properties=ps)])
    assert roundtrip(p).metrics[0] == expected_metric(p.metrics[0])


@SETTINGS
@given(metrics(depth=2))
def test_metric_flags_and_null(m: Metric) -> None:
    got = roundtrip(Payload(metrics=[m])).metrics[0]
    assert (got.is_historical, got.is_transient) == (m.is_historical, m.is_transient)
    assert got.is_null is (m.value is None)


def test_template_definition_and_instance_with_parameters() -> None:
    definition = Template(
        version="1.0",
        metrics=[
            Metric("speed", datatype=D.Float, value=0.0),
            Metric("state", datatype=D.String, value=None),
        ],
        parameters=[TemplateParameter("max_rpm", D.Int32, 12000), TemplateParameter("unit", D.String, None)],
        template_ref=None,
        is_definition=True,
    )
    instance = Template(
        version="1.0",
        metrics=[Metric("speed", datatype=D.Float, value=812.25)],
        parameters=[TemplateParameter("max_rpm", D.Int32, -5)],
        template_ref="Spindle",
        is_definition=False,
    )
    p = Payload(
        timestamp=1764150000000,
        seq=0,
        metrics=[
            Metric("Spindle", datatype=D.Template, value=definition),
            Metric("Cell 1/Spindle", alias=7, datatype=D.Template, value=instance),
        ],
    )
    got = roundtrip(p)
    assert got == expected_payload(p)
    assert got.metrics[1].value.template_ref == "Spindle"
    assert got.metrics[1].value.parameters[0].value == -5
    assert got.metrics[0].value.metrics[1].is_null


SIGNED_EDGES = [
    (D.Int8, [-128, -1, 0, 127]),
    (D.Int16, [-32768, -1, 32767]),
    (D.Int32, [-(2**31), -1, 2**31 - 1]),
    (D.Int64, [-(2**63), -1, 2**63 - 1]),
    (D.UInt8, [0, 255]),
    (D.UInt16, [0, 65535]),
    (D.UInt32, [0, 2**32 - 1]),
    (D.UInt64, [0, 2**64 - 1]),
    (D.DateTime, [0, 1764150000000, 2**64 - 1]),
]


@pytest.mark.parametrize(("dt", "values"), SIGNED_EDGES, ids=[dt.name for dt, _ in SIGNED_EDGES])
def test_integer_edges(dt: DataType, values: list[int]) -> None:
    p = Payload(metrics=[Metric(f"v{i}", datatype=dt, value=v) for i, v in enumerate(values)])
    assert [m.value for m in roundtrip(p).metrics] == values


def test_signed_values_travel_as_twos_complement_in_unsigned_fields() -> None:
    msg = parse_payload(
        encode_payload(
            Payload(
                metrics=[
                    Metric("a", datatype=D.Int8, value=-1),
                    Metric("b", datatype=D.Int32, value=-2),
                    Metric("c", datatype=D.Int64, value=-1),
                ]
            )
        )
    )
    assert msg.metrics[0].int_value == 0xFFFFFFFF
    assert msg.metrics[1].int_value == 0xFFFFFFFE
    assert msg.metrics[2].long_value == 2**64 - 1


def test_signed_values_masked_to_width_on_decode() -> None:
    # A peer that writes Int8 -1 as 0xFF (masked to 8 bits) reads the same as one writing 0xFFFFFFFF.
    for raw in (0xFF, 0xFFFFFFFF):
        assert metric_value(pb.Payload.Metric(datatype=D.Int8, int_value=raw)) == -1
    assert metric_value(pb.Payload.Metric(datatype=D.Int16, int_value=0x8000)) == -32768


def test_uint32_read_from_either_field() -> None:
    assert metric_value(pb.Payload.Metric(datatype=D.UInt32, int_value=4294967295)) == 4294967295
    assert metric_value(pb.Payload.Metric(datatype=D.UInt32, long_value=4294967295)) == 4294967295


def test_float_comes_back_float32_rounded() -> None:
    got = roundtrip(Payload(metrics=[Metric("f", datatype=D.Float, value=0.1)])).metrics[0].value
    assert got == f32(0.1) and got != 0.1


def test_non_finite_floats() -> None:
    values = [math.inf, -math.inf, math.nan]
    for dt in (D.Float, D.Double):
        got = [
            m.value
            for m in roundtrip(Payload(metrics=[Metric("x", datatype=dt, value=v) for v in values])).metrics
        ]
        assert got[0] == math.inf and got[1] == -math.inf and math.isnan(got[2])


def test_numpy_values_accepted_on_encode() -> None:
    p = Payload(
        metrics=[
            Metric("a", datatype=D.Int16Array, value=np.array([-3, 4], dtype=np.int16)),
            Metric("b", datatype=D.DoubleArray, value=np.array([1.5, -2.0])),
            Metric("c", datatype=D.BooleanArray, value=np.array([True, False, True])),
            Metric("d", datatype=D.Int32, value=np.int32(-7)),
            Metric("e", datatype=D.Double, value=np.float64(2.5)),
            Metric("f", datatype=D.Boolean, value=np.bool_(True)),
        ]
    )
    assert [m.value for m in roundtrip(p).metrics] == [
        [-3, 4],
        [1.5, -2.0],
        [True, False, True],
        -7,
        2.5,
        True,
    ]


def test_convenience_inputs() -> None:
    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    when = datetime(2025, 11, 26, 10, 0, tzinfo=UTC)
    p = Payload(
        metrics=[
            Metric("u", datatype=D.UUID, value=u),
            Metric("t", datatype=D.DateTime, value=when),
            Metric("b", datatype=D.Bytes, value=bytearray(b"\x00\x01")),
        ]
    )
    assert [m.value for m in roundtrip(p).metrics] == [str(u), 1764151200000, b"\x00\x01"]


def test_datatype_can_be_left_out_for_data_messages() -> None:
    p = Payload(seq=1, metrics=[Metric(alias=3, datatype=D.Int16, value=-2, timestamp=5)])
    raw = encode_payload(p, include_datatypes=False)
    assert not parse_payload(raw).metrics[0].HasField("datatype")
    # Without the birth's datatype the raw wire value shows; with it, the typed value.
    assert decode_payload(raw).metrics[0].value == 0xFFFFFFFE
    typed = decode_payload(raw, datatypes={3: D.Int16}).metrics[0]
    assert (typed.datatype, typed.value) == (D.Int16, -2)
    assert metric_value(parse_payload(raw).metrics[0], D.Int16) == -2


def test_set_metric_value_reuses_a_metric() -> None:
    m = pb.Payload.Metric(name="m")
    set_metric_value(m, D.Int32, 5)
    set_metric_value(m, D.Int32, None)
    assert m.is_null and m.WhichOneof("value") is None and metric_value(m) is None
    set_metric_value(m, D.DataSet, DataSet(["a"], [D.Int8], [[1]]))
    assert not m.HasField("is_null")
    assert metric_value(m) == DataSet(["a"], [D.Int8], [[1]])
    set_metric_value(m, D.Int64, -4, set_datatype=False)
    assert m.datatype == D.DataSet and metric_value(m, D.Int64) == -4


OUT_OF_RANGE = [(dt, lo - 1) for dt, (lo, _hi) in INT_RANGES.items()] + [
    (dt, hi + 1) for dt, (_lo, hi) in INT_RANGES.items()
]


@pytest.mark.parametrize(("dt", "value"), OUT_OF_RANGE, ids=[f"{dt.name}={v}" for dt, v in OUT_OF_RANGE])
def test_out_of_range_integer_refused_on_encode(dt: DataType, value: int) -> None:
    with pytest.raises(ValueError, match=rf"metric 'x'.*{value} is out of range for {dt.name}"):
        encode_payload(Payload(metrics=[Metric("x", datatype=dt, value=value)]))


@pytest.mark.parametrize(
    ("dt", "value", "message"),
    [
        (D.Float, 1e39, "out of range for Float"),
        (D.Int32, 1.5, "needs an integer"),
        (D.Int32, "7", "needs an integer"),
        (D.Double, "x", "needs a number"),
        (D.Boolean, 1, "needs a bool"),
        (D.String, b"x", "needs a str"),
        (D.Bytes, "x", "needs bytes"),
        (D.Int8Array, [1, 200], "element 1: 200 is out of range for Int8"),
        (D.StringArray, ["a\x00b"], "contains NUL"),
        (D.FloatArray, "abc", "needs a sequence"),
        (D.DataSet, [[1]], "needs a sparkplug.payload.DataSet"),
        (D.DataSet, DataSet(["a", "b"], [D.Int8], []), "2 columns but 1 types"),
        (D.DataSet, DataSet(["a"], [D.Int8], [[1, 2]]), "row 0 has 2 values for 1 columns"),
        (D.DataSet, DataSet(["a"], [D.Bytes], []), "not a basic scalar type"),
        (D.PropertySet, 1, "cannot be a metric value"),
        (D.Unknown, 1, "a datatype is needed"),
    ],
)
def test_bad_values_refused_on_encode(dt: DataType, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_payload(Payload(metrics=[Metric("x", datatype=dt, value=value)]))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (Payload(seq=-1), "payload timestamp/seq must be uint64"),
        (Payload(timestamp=2**64), "payload timestamp/seq must be uint64"),
        (Payload(metrics=[Metric("a", alias=-1, datatype=D.Int8, value=1)]), "metric 'a': alias"),
    ],
)
def test_header_fields_out_of_range(payload: Payload, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_payload(payload)
