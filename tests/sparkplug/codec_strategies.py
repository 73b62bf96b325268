"""Hypothesis strategies for Sparkplug payload value objects, and the value each decodes back to."""

from __future__ import annotations

import math
import struct
from typing import Any

from hypothesis import strategies as st

from sparkplug.datatypes import INT_RANGES, DataType
from sparkplug.payload import (
    DataSet,
    MetaData,
    Metric,
    Payload,
    PropertySet,
    PropertyValue,
    Template,
    TemplateParameter,
)

D = DataType
U64 = 2**64 - 1


def f32(x: float) -> float:
    """x as it comes back from a protobuf float (32-bit) field."""
    return float(struct.unpack("<f", struct.pack("<f", x))[0])


def _int(dt: DataType) -> st.SearchStrategy[int]:
    lo, hi = INT_RANGES[dt]
    # Bias towards the edges, where sign handling and width masking go wrong.
    return st.one_of(st.sampled_from([lo, hi, 0, -1 if lo < 0 else 1, lo + 1, hi - 1]), st.integers(lo, hi))


texts = st.text(max_size=12)
float32s = st.floats(width=32, allow_nan=False)
doubles = st.floats(allow_nan=False)

SCALAR_VALUES: dict[DataType, st.SearchStrategy[Any]] = {
    **{dt: _int(dt) for dt in INT_RANGES},
    D.Float: float32s,
    D.Double: doubles,
    D.Boolean: st.booleans(),
    D.String: texts,
    D.Text: texts,
    D.UUID: st.uuids().map(str),
}

ARRAY_VALUES: dict[DataType, st.SearchStrategy[Any]] = {
    D.Int8Array: st.lists(_int(D.Int8), max_size=8),
    D.Int16Array: st.lists(_int(D.Int16), max_size=8),
    D.Int32Array: st.lists(_int(D.Int32), max_size=8),
    D.Int64Array: st.lists(_int(D.Int64), max_size=8),
    D.UInt8Array: st.lists(_int(D.UInt8), max_size=8),
    D.UInt16Array: st.lists(_int(D.UInt16), max_size=8),
    D.UInt32Array: st.lists(_int(D.UInt32), max_size=8),
    D.UInt64Array: st.lists(_int(D.UInt64), max_size=8),
    D.FloatArray: st.lists(float32s, max_size=8),
    D.DoubleArray: st.lists(doubles, max_size=8),
    D.BooleanArray: st.lists(st.booleans(), max_size=20),
    D.StringArray: st.lists(st.text(st.characters(blacklist_characters="\x00"), max_size=6), max_size=6),
    D.DateTimeArray: st.lists(st.integers(0, 2**63 - 1), max_size=8),
}

SIMPLE_VALUES: dict[DataType, st.SearchStrategy[Any]] = {
    **SCALAR_VALUES,
    **ARRAY_VALUES,
    D.Bytes: st.binary(max_size=16),
    D.File: st.binary(max_size=16),
}

scalar_types = st.sampled_from(sorted(SCALAR_VALUES))


@st.composite
def property_sets(draw: st.DrawFn, depth: int = 2) -> PropertySet:
    keys = draw(st.lists(texts, max_size=4, unique=True))
    values: dict[str, PropertyValue] = {}
    for key in keys:
        kinds = [*SCALAR_VALUES] + ([D.PropertySet, D.PropertySetList] if depth > 0 else [])
        dt = draw(st.sampled_from(kinds))
        if draw(st.integers(0, 9)) == 0:
            values[key] = PropertyValue(dt, None, is_null=True)
        elif dt is D.PropertySet:
            values[key] = PropertyValue(dt, draw(property_sets(depth - 1)))
        elif dt is D.PropertySetList:
            values[key] = PropertyValue(dt, draw(st.lists(property_sets(depth - 1), max_size=2)))
        else:
            values[key] = PropertyValue(dt, draw(SCALAR_VALUES[dt]))
    return PropertySet(values)


@st.composite
def datasets(draw: st.DrawFn) -> DataSet:
    types = draw(st.lists(scalar_types, max_size=4))
    columns = draw(st.lists(texts, min_size=len(types), max_size=len(types)))
    rows = draw(
        st.lists(
            st.tuples(*[st.one_of(st.none(), SCALAR_VALUES[t]) for t in types]).map(list),
            max_size=4,
        )
    )
    return DataSet(columns, types, rows)


metadatas = st.builds(
    MetaData,
    is_multi_part=st.none() | st.booleans(),
    content_type=st.none() | texts,
    size=st.none() | st.integers(0, U64),
    seq=st.none() | st.integers(0, U64),
    file_name=st.none() | texts,
    file_type=st.none() | texts,
    md5=st.none() | texts,
    description=st.none() | texts,
)


@st.composite
def templates(draw: st.DrawFn, depth: int = 1) -> Template:
    is_definition = draw(st.booleans())
    params = []
    for name in draw(st.lists(texts, max_size=3, unique=True)):
        dt = draw(scalar_types)
        params.append(TemplateParameter(name, dt, draw(st.none() | SCALAR_VALUES[dt])))
    return Template(
        version=draw(st.none() | texts),
        metrics=draw(st.lists(metrics(depth - 1), max_size=3)),
        parameters=params,
        template_ref=None if is_definition else draw(texts),
        is_definition=is_definition,
    )


@st.composite
def metrics(draw: st.DrawFn, depth: int = 1) -> Metric:
    kinds = [*SIMPLE_VALUES, D.DataSet] + ([D.Template] if depth > 0 else [])
    dt = draw(st.sampled_from(kinds))
    if dt is D.DataSet:
        value_st: st.SearchStrategy[Any] = datasets()
    elif dt is D.Template:
        value_st = templates(depth)
    else:
        value_st = SIMPLE_VALUES[dt]
    value = draw(st.none() | value_st)
    return Metric(
        name=draw(st.none() | texts),
        alias=draw(st.none() | st.integers(0, U64)),
        datatype=dt,
        value=value,
        timestamp=draw(st.none() | st.integers(0, U64)),
        is_historical=draw(st.booleans()),
        is_transient=draw(st.booleans()),
        is_null=value is None,
        properties=draw(st.none() | property_sets()),
        metadata=draw(st.none() | metadatas),
    )


payloads = st.builds(
    Payload,
    timestamp=st.none() | st.integers(0, U64),
    metrics=st.lists(metrics(), max_size=4),
    seq=st.none() | st.integers(0, U64),
    uuid=st.none() | texts,
    body=st.none() | st.binary(max_size=16),
)


# -- what a value decodes back to ---------------------------------------------------------------------


def expected_value(dt: DataType, value: Any) -> Any:
    """The decoded form of `value` sent as `dt`: float32 rounding for Float and FloatArray."""
    if value is None:
        return None
    if dt is D.Float:
        return f32(value)
    if dt is D.FloatArray:
        return [f32(v) for v in value]
    if isinstance(value, DataSet):
        return DataSet(
            list(value.columns),
            list(value.types),
            [[expected_value(t, v) for t, v in zip(value.types, row, strict=True)] for row in value.rows],
        )
    if isinstance(value, Template):
        return Template(
            value.version,
            [expected_metric(m) for m in value.metrics],
            [
                TemplateParameter(p.name, p.datatype, expected_value(p.datatype, p.value))
                for p in value.parameters
            ],
            value.template_ref,
            value.is_definition,
        )
    if isinstance(value, PropertySet):
        return expected_propertyset(value)
    if dt is D.PropertySetList:
        return [expected_propertyset(ps) for ps in value]
    return value


def expected_propertyset(ps: PropertySet) -> PropertySet:
    return PropertySet(
        {
            k: PropertyValue(v.datatype, expected_value(v.datatype, v.value), v.is_null or v.value is None)
            for k, v in ps.values.items()
        }
    )


def expected_metric(m: Metric) -> Metric:
    value = None if m.is_null else expected_value(m.datatype, m.value)
    return Metric(
        name=m.name,
        alias=m.alias,
        datatype=m.datatype,
        value=value,
        timestamp=m.timestamp,
        is_historical=m.is_historical,
        is_transient=m.is_transient,
        is_null=value is None,
        properties=None if m.properties is None else expected_propertyset(m.properties),
        metadata=m.metadata,
    )


def expected_payload(p: Payload) -> Payload:
    return Payload(p.timestamp, [expected_metric(m) for m in p.metrics], p.seq, p.uuid, p.body)


def same_float(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b
