"""Golden Sparkplug B payloads, written byte by byte from the protobuf wire format and the spec.

Nothing here uses the generated protobuf module or our codec: field numbers and wire types are
spelled out from the spec's sparkplug_b.proto, so a wrong field number anywhere in the schema or
the codec shows up as a mismatch. The expected JSON is written by hand too.
Regenerate the files with `python -m tests.sparkplug.vectors.build_vectors`.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
TS = 1764150000000  # 2025-11-26T09:40:00Z

VARINT, FIXED64, LEN, FIXED32 = 0, 1, 2, 5


def varint(n: int) -> bytes:
    assert n >= 0
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def tag(field: int, wire: int) -> bytes:
    return varint(field << 3 | wire)


def v(field: int, n: int) -> bytes:
    return tag(field, VARINT) + varint(n)


def s(field: int, text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return tag(field, LEN) + varint(len(raw)) + raw


def f32(field: int, x: float) -> bytes:
    return tag(field, FIXED32) + struct.pack("<f", x)


def f64(field: int, x: float) -> bytes:
    return tag(field, FIXED64) + struct.pack("<d", x)


def msg(field: int, *parts: bytes) -> bytes:
    return s(field, b"".join(parts))


# Payload: timestamp=1 metrics=2 seq=3 uuid=4 body=5
# Metric: name=1 alias=2 timestamp=3 datatype=4 is_historical=5 is_transient=6 is_null=7 metadata=8
#   properties=9 int_value=10 long_value=11 float_value=12 double_value=13 boolean_value=14
#   string_value=15 bytes_value=16 dataset_value=17 template_value=18
def metric(name: str | None, datatype: int | None, *rest: bytes, alias: int | None = None) -> bytes:
    parts = []
    if name is not None:
        parts.append(s(1, name))
    if alias is not None:
        parts.append(v(2, alias))
    parts.append(v(3, TS))
    if datatype is not None:
        parts.append(v(4, datatype))
    return msg(2, *parts, *rest)


def nbirth() -> tuple[bytes, dict[str, Any]]:
    data = b"".join(
        [
            v(1, TS),
            metric("bdSeq", 8, v(11, 3)),
            metric("Node Control/Rebirth", 11, v(14, 0)),
            metric("i8", 1, v(10, 0xFFFFFFFF), alias=1),
            metric("i16", 2, v(10, 0xFFFF8AD0), alias=2),
            metric("i32", 3, v(10, 0x80000000), alias=3),
            metric("i64", 4, v(11, 2**64 - 2), alias=4),
            metric("u32", 7, v(10, 0xFFFFFFFF)),
            metric("u64", 8, v(11, 2**64 - 1)),
            metric("f", 9, f32(12, 1.5)),
            metric("d", 10, f64(13, -0.25)),
            metric("s", 12, s(15, "héllo")),
            metric("dt", 13, v(11, TS)),
            metric("txt", 14, s(15, "two\nlines")),
            metric("id", 15, s(15, "0f8fad5b-d9cb-469f-a165-70867728950e")),
            metric("missing", 3, v(7, 1)),
            v(3, 0),
        ]
    )

    def m(name: str, dt: str, value: Any, alias: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"name": name}
        if alias is not None:
            out["alias"] = alias
        out.update({"timestamp": TS, "datatype": dt, "value": value})
        return out

    expected = {
        "timestamp": TS,
        "seq": 0,
        "metrics": [
            m("bdSeq", "UInt64", 3),
            m("Node Control/Rebirth", "Boolean", False),
            m("i8", "Int8", -1, 1),
            m("i16", "Int16", -30000, 2),
            m("i32", "Int32", -2147483648, 3),
            m("i64", "Int64", -2, 4),
            m("u32", "UInt32", 4294967295),
            m("u64", "UInt64", 18446744073709551615),
            m("f", "Float", 1.5),
            m("d", "Double", -0.25),
            m("s", "String", "héllo"),
            m("dt", "DateTime", TS),
            m("txt", "Text", "two\nlines"),
            m("id", "UUID", "0f8fad5b-d9cb-469f-a165-70867728950e"),
            {**m("missing", "Int32", None), "is_null": True},
        ],
    }
    return data, expected


def ddata_aliases() -> tuple[bytes, dict[str, Any]]:
    # As the spec recommends for DATA: alias only, no name, no datatype.
    data = b"".join(
        [
            v(1, TS),
            metric(None, None, v(10, 0xFFFFFFFF), alias=2),
            metric(None, None, f32(12, -3.5), alias=3),
            metric(None, None, s(15, "RUNNING"), alias=4),
            v(3, 5),
        ]
    )
    expected = {
        "timestamp": TS,
        "seq": 5,
        "metrics": [
            {"alias": 2, "timestamp": TS, "datatype": "Unknown", "value": 4294967295},
            {"alias": 3, "timestamp": TS, "datatype": "Unknown", "value": -3.5},
            {"alias": 4, "timestamp": TS, "datatype": "Unknown", "value": "RUNNING"},
        ],
    }
    return data, expected


def dataset_template() -> tuple[bytes, dict[str, Any]]:
    # DataSet: num_of_columns=1 columns=2 types=3 rows=4; Row: elements=1;
    # DataSetValue: int_value=1 long_value=2 float_value=3 double_value=4 boolean_value=5 string_value=6
    dataset = msg(
        17,
        v(1, 3),
        s(2, "n"),
        s(2, "name"),
        s(2, "ok"),
        v(3, 3),
        v(3, 12),
        v(3, 11),
        msg(4, msg(1, v(1, 0xFFFFFFFF)), msg(1, s(6, "a")), msg(1, v(5, 1))),
        msg(4, msg(1, v(1, 7)), msg(1), msg(1, v(5, 0))),
    )
    # Template: version=1 metrics=2 parameters=3 template_ref=4 is_definition=5
    # Parameter: name=1 type=2 int_value=3 ... string_value=8
    member_def = msg(2, s(1, "rpm"), v(4, 3), v(10, 0))
    definition = msg(18, s(1, "1"), member_def, msg(3, s(1, "max"), v(2, 7), v(3, 5000)), v(5, 1))
    member_inst = msg(2, s(1, "rpm"), v(4, 3), v(10, 0xFFFFFFF6))
    instance = msg(
        18, s(1, "1"), member_inst, msg(3, s(1, "max"), v(2, 7), v(3, 6000)), s(4, "Motor"), v(5, 0)
    )
    data = b"".join(
        [
            v(1, TS),
            metric("table", 16, dataset),
            metric("Motor", 19, definition),
            metric("M1", 19, instance, alias=9),
            v(3, 1),
        ]
    )
    expected = {
        "timestamp": TS,
        "seq": 1,
        "metrics": [
            {
                "name": "table",
                "timestamp": TS,
                "datatype": "DataSet",
                "value": {
                    "columns": ["n", "name", "ok"],
                    "types": ["Int32", "String", "Boolean"],
                    "rows": [[-1, "a", True], [7, None, False]],
                },
            },
            {
                "name": "Motor",
                "timestamp": TS,
                "datatype": "Template",
                "value": {
                    "is_definition": True,
                    "version": "1",
                    "parameters": [{"name": "max", "type": "UInt32", "value": 5000}],
                    "metrics": [{"name": "rpm", "datatype": "Int32", "value": 0}],
                },
            },
            {
                "name": "M1",
                "alias": 9,
                "timestamp": TS,
                "datatype": "Template",
                "value": {
                    "is_definition": False,
                    "version": "1",
                    "template_ref": "Motor",
                    "parameters": [{"name": "max", "type": "UInt32", "value": 6000}],
                    "metrics": [{"name": "rpm", "datatype": "Int32", "value": -10}],
                },
            },
        ],
    }
    return data, expected


def properties_arrays() -> tuple[bytes, dict[str, Any]]:
    # PropertySet: keys=1 values=2; PropertyValue: type=1 is_null=2 int_value=3 long_value=4
    #   float_value=5 double_value=6 boolean_value=7 string_value=8 propertyset_value=9
    #   propertysets_value=10; PropertySetList: propertyset=1
    props = msg(
        9,
        s(1, "Quality"),
        s(1, "engUnit"),
        s(1, "limits"),
        s(1, "history"),
        s(1, "note"),
        msg(2, v(1, 3), v(3, 192)),
        msg(2, v(1, 12), s(8, "°C")),
        msg(2, v(1, 20), msg(9, s(1, "hi"), msg(2, v(1, 10), f64(6, 90.0)))),
        msg(2, v(1, 21), msg(10, msg(1, s(1, "a"), msg(2, v(1, 11), v(7, 1))), msg(1))),
        msg(2, v(1, 12), v(2, 1)),
    )
    # MetaData: is_multi_part=1 content_type=2 size=3 seq=4 file_name=5 file_type=6 md5=7 description=8
    metadata = msg(8, s(2, "text/plain"), v(3, 5), s(5, "a.txt"), s(7, "5d41402abc4b2a76b9719d911017c592"))
    data = b"".join(
        [
            v(1, TS),
            metric("temp", 10, props, f64(13, 21.5)),
            # Array examples taken from the spec's Data Types section (little-endian packed).
            metric("bits", 32, s(16, bytes([0x0C, 0, 0, 0, 0x34, 0xD0]))),
            metric("names", 33, s(16, b"ABC\x00hello\x00")),
            metric("i16s", 23, s(16, bytes([0xD0, 0x8A, 0x30, 0x75]))),
            metric("i32s", 24, s(16, bytes([0xFF, 0xFF, 0xFF, 0xFF, 0xFA, 0xAF, 0xCB, 0x12]))),
            metric(
                "u64s",
                29,
                s(16, bytes.fromhex("3400000000000000d99e02d1b27637e4")),
            ),
            metric("dts", 34, s(16, struct.pack("<2q", 1256102875335, 1656107875000))),
            metric("floats", 30, s(16, struct.pack("<2f", 1.5, -2.0))),
            metric("file", 18, v(5, 1), v(6, 1), metadata, s(16, b"hello")),
        ]
    )
    m = {"timestamp": TS}
    expected = {
        "timestamp": TS,
        "metrics": [
            {
                "name": "temp",
                **m,
                "datatype": "Double",
                "value": 21.5,
                "properties": {
                    "Quality": {"type": "Int32", "value": 192},
                    "engUnit": {"type": "String", "value": "°C"},
                    "limits": {"type": "PropertySet", "value": {"hi": {"type": "Double", "value": 90.0}}},
                    "history": {
                        "type": "PropertySetList",
                        "value": [{"a": {"type": "Boolean", "value": True}}, {}],
                    },
                    "note": {"type": "String", "value": None, "is_null": True},
                },
            },
            {
                "name": "bits",
                **m,
                "datatype": "BooleanArray",
                "value": [False, False, True, True, False, True, False, False, True, True, False, True],
            },
            {"name": "names", **m, "datatype": "StringArray", "value": ["ABC", "hello"]},
            {"name": "i16s", **m, "datatype": "Int16Array", "value": [-30000, 30000]},
            {"name": "i32s", **m, "datatype": "Int32Array", "value": [-1, 315338746]},
            {"name": "u64s", **m, "datatype": "UInt64Array", "value": [52, 16444743074749521625]},
            {"name": "dts", **m, "datatype": "DateTimeArray", "value": [1256102875335, 1656107875000]},
            {"name": "floats", **m, "datatype": "FloatArray", "value": [1.5, -2.0]},
            {
                "name": "file",
                **m,
                "datatype": "File",
                "value": "aGVsbG8=",
                "is_historical": True,
                "is_transient": True,
                "metadata": {
                    "content_type": "text/plain",
                    "size": 5,
                    "file_name": "a.txt",
                    "md5": "5d41402abc4b2a76b9719d911017c592",
                },
            },
        ],
    }
    return data, expected


VECTORS = {
    "nbirth_scalars": nbirth,
    "ddata_aliases": ddata_aliases,
    "dataset_template": dataset_template,
    "properties_arrays": properties_arrays,
}


def main() -> None:
    for name, build in VECTORS.items():
        data, expected = build()
        (HERE / f"{name}.bin").write_bytes(data)
        (HERE / f"{name}.json").write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n")
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
