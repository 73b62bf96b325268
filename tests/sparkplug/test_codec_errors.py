"""Bad input to the decoder: every failure is a SparkplugDecodeError with a reason a host can count."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sparkplug.codec import decode_payload, encode_payload, metric_value, parse_payload
from sparkplug.datatypes import DataType
from sparkplug.errors import SparkplugDecodeError, SparkplugError
from sparkplug.payload import DataSet, Metric, Payload, PropertySet, PropertyValue, Template
from sparkplug.proto import pb

D = DataType
P = pb.Payload


def wire(*metrics: pb.Payload.Metric) -> bytes:
    return P(timestamp=1, seq=0, metrics=list(metrics)).SerializeToString()


def reason_of(data: bytes, **kw: object) -> str:
    with pytest.raises(SparkplugDecodeError) as info:
        decode_payload(data, **kw)  # type: ignore[arg-type]
    assert isinstance(info.value, SparkplugError) and isinstance(info.value, ValueError)
    return info.value.reason


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_escape_as_another_exception(data: bytes) -> None:
    try:
        decode_payload(data)
    except SparkplugDecodeError as exc:
        assert exc.reason in ("malformed", "type_mismatch", "unknown_datatype")


@pytest.mark.parametrize(
    "data", [b"\xff\xff\xff", b"\x12\x05\x0a", b"\x0a", b"\x08\x80", b"not protobuf at all"]
)
def test_non_protobuf_is_malformed(data: bytes) -> None:
    with pytest.raises(SparkplugDecodeError, match="not a Sparkplug B payload") as info:
        decode_payload(data)
    assert info.value.reason == "malformed"


def test_every_truncation_of_a_real_payload_is_handled() -> None:
    full = encode_payload(
        Payload(
            timestamp=1,
            seq=3,
            metrics=[
                Metric("a", datatype=D.String, value="hello world"),
                Metric("t", datatype=D.DataSet, value=DataSet(["c"], [D.Int64], [[-5]])),
            ],
        )
    )
    reasons = set()
    for cut in range(1, len(full)):
        try:
            decode_payload(full[:cut])
        except SparkplugDecodeError as exc:
            reasons.add(exc.reason)
    assert "malformed" in reasons


def test_oversized() -> None:
    data = encode_payload(Payload(metrics=[Metric("b", datatype=D.Bytes, value=b"x" * 100)]))
    with pytest.raises(SparkplugDecodeError, match=r"larger than the limit of 50 bytes") as info:
        decode_payload(data, max_size=50)
    assert info.value.reason == "oversized"
    assert decode_payload(data, max_size=len(data)).metrics[0].value == b"x" * 100


def test_type_mismatch_names_metric_and_datatype() -> None:
    data = wire(P.Metric(name="Line/Speed", datatype=D.Int32, string_value="fast"))
    with pytest.raises(
        SparkplugDecodeError, match=r"metric 'Line/Speed': datatype Int32.*string_value"
    ) as info:
        decode_payload(data)
    assert (info.value.reason, info.value.metric, info.value.datatype) == ("type_mismatch", "Line/Speed", 3)


@pytest.mark.parametrize(
    "metric",
    [
        P.Metric(name="m", datatype=D.String, int_value=1),
        P.Metric(name="m", datatype=D.Int64, int_value=1),
        P.Metric(name="m", datatype=D.Boolean, double_value=1.0),
        P.Metric(name="m", datatype=D.Bytes, string_value="x"),
        P.Metric(name="m", datatype=D.DataSet, bytes_value=b"x"),
        P.Metric(name="m", datatype=D.Template, dataset_value=P.DataSet()),
        P.Metric(name="m", datatype=D.UInt8, int_value=256),
        P.Metric(name="m", datatype=D.UInt16, int_value=70000),
        P.Metric(name="m", datatype=D.Int32Array, bytes_value=b"\x01\x02\x03"),
        P.Metric(name="m", datatype=D.BooleanArray, bytes_value=b"\x09\x00\x00\x00\x01"),
        P.Metric(name="m", datatype=D.StringArray, bytes_value=b"abc"),
        P.Metric(name="m", datatype=D.PropertySet, int_value=1),
    ],
    ids=lambda m: f"{D(m.datatype).name}-{m.WhichOneof('value')}",
)
def test_type_mismatch(metric: pb.Payload.Metric) -> None:
    assert reason_of(wire(metric)) == "type_mismatch"


def test_unknown_datatype() -> None:
    with pytest.raises(SparkplugDecodeError, match="unknown datatype 99") as info:
        decode_payload(wire(P.Metric(name="m", datatype=99, int_value=1)))
    assert info.value.reason == "unknown_datatype"
    with pytest.raises(SparkplugDecodeError, match="unknown datatype 77"):
        metric_value(P.Metric(name="m", int_value=1), 77)


def test_nested_errors_are_found() -> None:
    bad_column = P.DataSet(num_of_columns=1, columns=["c"], types=[55])
    assert (
        reason_of(wire(P.Metric(name="d", datatype=D.DataSet, dataset_value=bad_column)))
        == "unknown_datatype"
    )
    ragged = P.DataSet(num_of_columns=2, columns=["a", "b"], types=[3, 3], rows=[P.DataSet.Row(elements=[])])
    assert reason_of(wire(P.Metric(name="d", datatype=D.DataSet, dataset_value=ragged))) == "malformed"
    wrong_count = P.DataSet(num_of_columns=3, columns=["a"], types=[3])
    assert reason_of(wire(P.Metric(name="d", datatype=D.DataSet, dataset_value=wrong_count))) == "malformed"
    cell = P.DataSet(
        num_of_columns=1,
        columns=["a"],
        types=[3],
        rows=[P.DataSet.Row(elements=[P.DataSet.DataSetValue(string_value="x")])],
    )
    assert reason_of(wire(P.Metric(name="d", datatype=D.DataSet, dataset_value=cell))) == "type_mismatch"
    props = P.PropertySet(keys=["a", "b"], values=[P.PropertyValue(type=3, int_value=1)])
    assert reason_of(wire(P.Metric(name="p", datatype=D.Int32, int_value=1, properties=props))) == "malformed"
    prop_mismatch = P.PropertySet(keys=["a"], values=[P.PropertyValue(type=20, int_value=1)])
    assert (
        reason_of(wire(P.Metric(name="p", datatype=D.Int32, int_value=1, properties=prop_mismatch)))
        == "type_mismatch"
    )
    member = P.Metric(name="inner", datatype=D.Float, string_value="x")
    tmpl = P.Template(is_definition=True, metrics=[member])
    with pytest.raises(SparkplugDecodeError, match="metric 'inner'"):
        decode_payload(wire(P.Metric(name="udt", datatype=D.Template, template_value=tmpl)))


def test_invalid_utf8_is_malformed() -> None:
    # name (field 1) of a metric holding the bytes FF FE: protobuf leaves proto2 strings unchecked.
    data = b"\x12\x04\x0a\x02\xff\xfe"
    with pytest.raises(SparkplugDecodeError, match="not valid UTF-8") as info:
        decode_payload(data)
    assert info.value.reason == "malformed"
    value = b"\x12\x06\x20\x0c\x7a\x02\xff\xfe"  # datatype String, string_value FF FE
    assert reason_of(value) == "malformed"


def test_null_wins_over_a_value() -> None:
    p = decode_payload(wire(P.Metric(name="m", datatype=D.Int32, is_null=True, int_value=4)))
    assert p.metrics[0].value is None and p.metrics[0].is_null


def test_parse_payload_reasons() -> None:
    with pytest.raises(SparkplugDecodeError) as info:
        parse_payload(b"\xff\xff")
    assert info.value.reason == "malformed"
    with pytest.raises(SparkplugDecodeError) as info:
        parse_payload(b"12345", max_size=4)
    assert info.value.reason == "oversized"


def test_encode_of_bad_nested_values_names_the_place() -> None:
    ps = PropertySet({"Quality": PropertyValue(D.Int32, "good")})
    with pytest.raises(ValueError, match=r"metric 'm' properties property 'Quality': Int32 needs an integer"):
        encode_payload(Payload(metrics=[Metric("m", datatype=D.Int32, value=1, properties=ps)]))
    t = Template(metrics=[Metric("inner", datatype=D.UInt8, value=-1)], is_definition=True)
    with pytest.raises(ValueError, match=r"metric 'inner'.*-1 is out of range for UInt8"):
        encode_payload(Payload(metrics=[Metric("udt", datatype=D.Template, value=t)]))
