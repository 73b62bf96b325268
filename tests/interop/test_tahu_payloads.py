"""Our codec's payloads read by Eclipse Tahu's sparkplug-payload (npm), and Tahu's payloads read by ours."""

from __future__ import annotations

import struct
import uuid
from typing import Any

import pytest

from sparkplug.codec import decode_payload, encode_payload
from sparkplug.datatypes import DataType
from sparkplug.payload import (
    DataSet,
    Metric,
    Payload,
    PropertySet,
    PropertyValue,
    Template,
    TemplateParameter,
)
from sparkplug.proto import pb
from tests.interop.peers import needs_tahu, tahu_decode, tahu_encode

pytestmark = [pytest.mark.interop, needs_tahu]

TS = 1_764_150_000_000
UUID = str(uuid.UUID(int=0x1234))

# (datatype, value) pairs that every Sparkplug B 3.0 peer must carry unchanged, edge values included.
SCALARS: list[tuple[DataType, Any]] = [
    (DataType.Int8, -128),
    (DataType.Int8, 127),
    (DataType.Int8, -1),
    (DataType.Int16, -32768),
    (DataType.Int16, 32767),
    (DataType.Int32, -(2**31)),
    (DataType.Int32, 2**31 - 1),
    (DataType.Int64, -(2**63)),
    (DataType.Int64, 2**63 - 1),
    (DataType.Int64, -5),
    (DataType.UInt8, 255),
    (DataType.UInt16, 65535),
    (DataType.UInt64, 2**64 - 1),
    (DataType.UInt64, 7),
    (DataType.Float, 1.5),
    (DataType.Float, -0.1),
    (DataType.Double, 3.141592653589793),
    (DataType.Double, -1e300),
    (DataType.Boolean, True),
    (DataType.Boolean, False),
    (DataType.String, "Grüße ✓ 工厂"),
    (DataType.Text, "line 1\nline 2"),
    (DataType.UUID, UUID),
    (DataType.DateTime, TS),
    (DataType.Bytes, b"\x00\x01\xfe\xff"),
    (DataType.File, b"%PDF-1.7"),
]


def _tahu_value(v: Any) -> Any:
    """Tahu's JSON value as a Python value (longs arrive as decimal strings, bytes as base64)."""
    if isinstance(v, dict) and "$bytes" in v:
        import base64

        return base64.b64decode(v["$bytes"])
    if isinstance(v, dict) and "$float" in v:
        return float(v["$float"])
    if isinstance(v, str) and v.lstrip("-").isdigit():
        return int(v)
    return v


def _float32(x: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", x))[0])


def _expected(dt: DataType, value: Any) -> Any:
    return _float32(value) if dt is DataType.Float else value


def _birth(metrics: list[Metric], seq: int = 0) -> bytes:
    return encode_payload(Payload(timestamp=TS, seq=seq, metrics=metrics))


def test_tahu_reads_every_scalar_datatype_we_write() -> None:
    metrics = [
        Metric(name=f"m{i}", alias=i + 1, datatype=dt, value=v, timestamp=TS + i)
        for i, (dt, v) in enumerate(SCALARS)
    ]
    [got] = tahu_decode([_birth(metrics, seq=7)])
    assert got["ok"], got
    p = got["payload"]
    assert (p["timestamp"], p["seq"]) == (TS, 7)
    assert len(p["metrics"]) == len(SCALARS)
    for i, ((dt, value), m) in enumerate(zip(SCALARS, p["metrics"], strict=True)):
        assert m["type"] == dt.name, (dt, m)
        assert (m["name"], m["alias"], m["timestamp"]) == (f"m{i}", i + 1, TS + i)
        assert _tahu_value(m["value"]) == _expected(dt, value), (dt, value, m)


def test_tahu_reads_null_historical_transient_properties_and_dataset() -> None:
    metrics = [
        Metric(name="unset", alias=1, datatype=DataType.Double, value=None, timestamp=TS),
        Metric(
            name="late", alias=2, datatype=DataType.Int32, value=42, timestamp=TS - 60_000, is_historical=True
        ),
        Metric(name="calc", alias=3, datatype=DataType.Boolean, value=True, timestamp=TS, is_transient=True),
        Metric(
            name="Temperature",
            alias=4,
            datatype=DataType.Double,
            value=21.5,
            timestamp=TS,
            properties=PropertySet(
                values={
                    "engUnit": PropertyValue(DataType.String, "degC"),
                    "engHigh": PropertyValue(DataType.Double, 150.0),
                    "scanRate": PropertyValue(DataType.Int32, 1000),
                }
            ),
        ),
        Metric(
            name="Recipe",
            alias=5,
            datatype=DataType.DataSet,
            timestamp=TS,
            value=DataSet(
                columns=["step", "setpoint", "ok", "label"],
                types=[DataType.Int64, DataType.Double, DataType.Boolean, DataType.String],
                rows=[[1, 180.5, True, "heat"], [2, 20.0, False, "cool"]],
            ),
        ),
    ]
    [got] = tahu_decode([_birth(metrics)])
    assert got["ok"], got
    unset, late, calc, temp, recipe = got["payload"]["metrics"]
    assert unset["value"] is None and unset["type"] == "Double"
    assert (late["value"], late["isHistorical"], late["timestamp"]) == (42, True, TS - 60_000)
    assert (calc["value"], calc["isTransient"]) == (True, True)
    assert temp["properties"] == {
        "engUnit": {"type": "String", "value": "degC"},
        "engHigh": {"type": "Double", "value": 150.0},
        "scanRate": {"type": "Int32", "value": 1000},
    }
    ds = recipe["value"]
    assert (ds["columns"], ds["types"], ds["numOfColumns"]) == (
        ["step", "setpoint", "ok", "label"],
        ["Int64", "Double", "Boolean", "String"],
        4,
    )
    assert ds["rows"] == [[1, 180.5, True, "heat"], [2, 20.0, False, "cool"]]


def test_tahu_cannot_read_dataset_columns_of_int32() -> None:
    # Spec 3.0 allows every scalar basic type as a DataSet column; sparkplug-payload 1.0.3 only reads
    # UInt32/Int64/Float/Double/Boolean/String cells and throws on the rest (T-DATASET-CELLS).
    ds = DataSet(columns=["n"], types=[DataType.Int32], rows=[[1]])
    metric = Metric(name="t", alias=1, datatype=DataType.DataSet, value=ds, timestamp=TS)
    [got] = tahu_decode([_birth([metric])])
    assert not got["ok"] and "Invalid DataSetValue" in got["error"], "update T-DATASET-CELLS in the docs"


def test_tahu_reads_alias_only_data_without_datatypes() -> None:
    # DDATA as our edge node sends it: aliases only, no names, no datatypes (spec: SHOULD NOT send them).
    data = Payload(
        timestamp=TS,
        seq=3,
        metrics=[
            Metric(alias=1, datatype=DataType.Double, value=2.5, timestamp=TS),
            Metric(alias=2, datatype=DataType.Int32, value=-7, timestamp=TS),
            Metric(alias=3, datatype=DataType.Boolean, value=True, timestamp=TS),
        ],
    )
    [got] = tahu_decode([encode_payload(data, include_datatypes=False)])
    assert got["ok"], got
    ms = got["payload"]["metrics"]
    assert [m["alias"] for m in ms] == [1, 2, 3]
    assert all("name" not in m for m in ms)
    # Tahu's decoder picks the value by the datatype field: without it every value reads as null.
    # A Tahu host therefore needs the datatype in DATA messages or its own alias map (T-DATATYPE-IN-DATA).
    assert [m["value"] for m in ms] == [None, None, None]
    assert [m.get("type") for m in ms] == [None, None, None]


def test_tahu_reads_uint32_only_from_long_value() -> None:
    # Spec 3.0 "Data Types": UInt32 travels in the uint32 field (int_value); we write it there.
    # sparkplug-payload 1.0.3 reads and writes UInt32 in long_value, so our UInt32 reads as null.
    metric = Metric(name="count", alias=1, datatype=DataType.UInt32, value=4_000_000_000, timestamp=TS)
    [got] = tahu_decode([_birth([metric])])
    assert got["ok"], got
    [m] = got["payload"]["metrics"]
    assert m["type"] == "UInt32"
    assert m["value"] is None, "Tahu reads UInt32 correctly now: update T-UINT32 in the docs"


def test_tahu_does_not_read_array_datatypes() -> None:
    # Sparkplug 3.0 added the array datatypes (22-34); sparkplug-payload 1.0.3 predates them.
    metric = Metric(
        name="profile", alias=1, datatype=DataType.Int16Array, value=[-30000, 30000], timestamp=TS
    )
    [got] = tahu_decode([_birth([metric])])
    assert got["ok"], got
    [m] = got["payload"]["metrics"]
    assert m["value"] is None and m.get("type") is None, "Tahu reads arrays now: update T-ARRAYS in the docs"


# --- Tahu writes, we read --------------------------------------------------------------------------

TAHU_TYPES: list[tuple[str, Any, DataType, Any]] = [
    # (Tahu type name, JSON value for tahu_encode.js, our datatype, the value we must read)
    ("Int8", -128, DataType.Int8, -128),
    ("Int8", -1, DataType.Int8, -1),
    ("Int16", -32768, DataType.Int16, -32768),
    ("Int32", -(2**31), DataType.Int32, -(2**31)),
    ("Int32", 2**31 - 1, DataType.Int32, 2**31 - 1),
    ("Int64", str(-(2**63)), DataType.Int64, -(2**63)),
    ("Int64", str(2**63 - 1), DataType.Int64, 2**63 - 1),
    ("UInt8", 255, DataType.UInt8, 255),
    ("UInt16", 65535, DataType.UInt16, 65535),
    ("UInt32", 4_000_000_000, DataType.UInt32, 4_000_000_000),
    ("UInt64", str(2**64 - 1), DataType.UInt64, 2**64 - 1),
    ("Float", 1.5, DataType.Float, 1.5),
    ("Double", 2.718281828459045, DataType.Double, 2.718281828459045),
    ("Boolean", True, DataType.Boolean, True),
    ("String", "Grüße ✓", DataType.String, "Grüße ✓"),
    ("Text", "a\nb", DataType.Text, "a\nb"),
    ("UUID", UUID, DataType.UUID, UUID),
    ("DateTime", TS, DataType.DateTime, TS),
    ("Bytes", {"$bytes": "AAH+/w=="}, DataType.Bytes, b"\x00\x01\xfe\xff"),
]


def test_we_read_every_scalar_datatype_tahu_writes() -> None:
    payload = {
        "timestamp": TS,
        "seq": 0,
        "metrics": [
            {"name": f"m{i}", "alias": i + 1, "type": t, "value": v, "timestamp": TS}
            for i, (t, v, _, _) in enumerate(TAHU_TYPES)
        ],
    }
    [raw] = tahu_encode([payload])
    p = decode_payload(raw)
    assert (p.timestamp, p.seq) == (TS, 0)
    for i, ((tahu_type, _, dt, expected), m) in enumerate(zip(TAHU_TYPES, p.metrics, strict=True)):
        assert (m.name, m.alias, m.datatype) == (f"m{i}", i + 1, dt), tahu_type
        assert m.value == expected, (tahu_type, m.value)


def test_we_read_tahu_null_properties_historical_and_dataset() -> None:
    payload = {
        "timestamp": TS,
        "seq": 4,
        "metrics": [
            {"name": "unset", "alias": 1, "type": "Int32", "value": None, "timestamp": TS},
            {
                "name": "late",
                "alias": 2,
                "type": "Double",
                "value": 1.25,
                "timestamp": TS - 1,
                "isHistorical": True,
            },
            {
                "name": "Temperature",
                "alias": 3,
                "type": "Float",
                "value": 20.5,
                "timestamp": TS,
                "properties": {
                    "engUnit": {"type": "String", "value": "degC"},
                    "engLow": {"type": "Int32", "value": -40},
                },
            },
            {
                "name": "Table",
                "alias": 4,
                "type": "DataSet",
                "timestamp": TS,
                "value": {
                    "numOfColumns": 3,
                    "columns": ["n", "x", "s"],
                    "types": ["Int32", "Double", "String"],
                    "rows": [[1, 0.5, "a"], [2, 1.5, "b"]],
                },
            },
        ],
    }
    [raw] = tahu_encode([payload])
    unset, late, temp, table = decode_payload(raw).metrics
    assert unset.is_null and unset.value is None and unset.datatype is DataType.Int32
    assert (late.value, late.is_historical, late.timestamp) == (1.25, True, TS - 1)
    assert temp.value == 20.5 and temp.properties is not None
    assert temp.properties.values["engUnit"].value == "degC"
    assert temp.properties.values["engLow"].value == -40
    assert isinstance(table.value, DataSet)
    assert table.value.columns == ["n", "x", "s"]
    assert table.value.types == [DataType.Int32, DataType.Double, DataType.String]
    assert table.value.rows == [[1, 0.5, "a"], [2, 1.5, "b"]]


def test_we_read_tahu_ndeath_bdseq_as_uint64() -> None:
    # Tahu's NDEATH (and the bdSeq it appends to NBIRTH) says UInt64; spec 3.0 says Int64 (T-BDSEQ-TYPE).
    [raw] = tahu_encode([{"timestamp": TS, "metrics": [{"name": "bdSeq", "type": "uint64", "value": 0}]}])
    p = decode_payload(raw)
    assert p.seq is None  # NDEATH carries no seq, as the spec wants
    [bd] = p.metrics
    assert (bd.name, bd.datatype, bd.value) == ("bdSeq", DataType.UInt64, 0)


# --- Templates ----------------------------------------------------------------------------------------


def _motor(is_definition: bool, speed: float, count: int) -> Template:
    return Template(
        version="1.0",
        is_definition=is_definition,
        template_ref=None if is_definition else "Motor",
        metrics=[
            Metric(name="speed", datatype=DataType.Double, value=speed, timestamp=TS),
            Metric(name="count", datatype=DataType.Int64, value=count, timestamp=TS),
        ],
        parameters=[
            TemplateParameter(name="unit", datatype=DataType.String, value="rpm"),
            TemplateParameter(name="max", datatype=DataType.Double, value=100.0),
        ],
    )


def test_tahu_reads_our_template_definition_and_instance() -> None:
    nbirth = [
        Metric(name="_types_/Motor", datatype=DataType.Template, value=_motor(True, 0.0, 0), timestamp=TS),
        Metric(
            name="Motor1", alias=5, datatype=DataType.Template, value=_motor(False, 12.5, 7), timestamp=TS
        ),
    ]
    raw = _birth(nbirth)
    assert not pb.Payload.FromString(raw).metrics[0].template_value.HasField("template_ref")
    [got] = tahu_decode([raw])
    assert got["ok"], got
    definition, instance = (m["value"] for m in got["payload"]["metrics"])
    assert (definition["isDefinition"], instance["isDefinition"], instance["templateRef"]) == (
        True,
        False,
        "Motor",
    )
    # We omit template_ref in the definition (tck-id-payloads-template-definition-ref); Tahu's decoder
    # shows the protobuf default "" for it (T-TEMPLATE-REF).
    assert definition["templateRef"] == ""
    assert [(m["name"], m["type"], m["value"]) for m in instance["metrics"]] == [
        ("speed", "Double", 12.5),
        ("count", "Int64", 7),
    ]
    assert instance["parameters"] == [
        {"name": "unit", "type": "String", "value": "rpm"},
        {"name": "max", "type": "Double", "value": 100.0},
    ]


def test_tahu_cannot_read_template_parameters_of_int32() -> None:
    # Same restriction as T-DATASET-CELLS, for template parameters (T-TEMPLATE-PARAMS).
    definition = Template(
        is_definition=True, parameters=[TemplateParameter(name="n", datatype=DataType.Int32, value=3)]
    )
    [got] = tahu_decode(
        [_birth([Metric(name="_types_/X", datatype=DataType.Template, value=definition, timestamp=TS)])]
    )
    assert not got["ok"] and "Invalid Parameter value" in got["error"], "update T-TEMPLATE-PARAMS in the docs"


def test_we_read_tahu_template_definition_and_instance() -> None:
    definition = {
        "version": "1.0",
        "isDefinition": True,
        "metrics": [
            {"name": "speed", "type": "Double", "value": 0.0, "timestamp": TS},
            {"name": "on", "type": "Boolean", "value": False, "timestamp": TS},
        ],
        "parameters": [
            {"name": "unit", "type": "String", "value": "rpm"},
            {"name": "n", "type": "Int32", "value": -3},
        ],
    }
    instance = {
        "templateRef": "Motor",
        "isDefinition": False,
        "metrics": [{"name": "speed", "type": "Double", "value": 12.5, "timestamp": TS}],
        "parameters": [{"name": "unit", "type": "String", "value": "rpm"}],
    }
    payload = {
        "timestamp": TS,
        "seq": 0,
        "metrics": [
            {"name": "_types_/Motor", "type": "Template", "timestamp": TS, "value": definition},
            {"name": "Motor1", "type": "Template", "timestamp": TS, "value": instance},
        ],
    }
    [raw] = tahu_encode([payload])
    d, i = (m.value for m in decode_payload(raw).metrics)
    assert isinstance(d, Template) and isinstance(i, Template)
    assert (d.is_definition, d.template_ref, d.version) == (True, None, "1.0")
    assert [(m.name, m.datatype, m.value) for m in d.metrics] == [
        ("speed", DataType.Double, 0.0),
        ("on", DataType.Boolean, False),
    ]
    assert [(p.name, p.datatype, p.value) for p in d.parameters] == [
        ("unit", DataType.String, "rpm"),
        ("n", DataType.Int32, -3),
    ]
    assert (i.is_definition, i.template_ref, [m.value for m in i.metrics]) == (False, "Motor", [12.5])
