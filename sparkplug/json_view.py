"""A JSON-ready view of a decoded Sparkplug payload (datatype names, base64 bytes, tables as dicts)."""

from __future__ import annotations

import base64
import math
from typing import Any

from sparkplug.datatypes import DataType
from sparkplug.payload import DataSet, MetaData, Metric, Payload, PropertySet, Template


def payload_to_jsonable(p: Payload) -> dict[str, Any]:
    """The payload as plain dicts/lists/str/int/float/bool/None, ready for json.dumps."""
    out: dict[str, Any] = {}
    if p.timestamp is not None:
        out["timestamp"] = p.timestamp
    if p.seq is not None:
        out["seq"] = p.seq
    if p.uuid is not None:
        out["uuid"] = p.uuid
    if p.body is not None:
        out["body"] = _b64(p.body)
    out["metrics"] = [metric_to_jsonable(m) for m in p.metrics]
    return out


def metric_to_jsonable(m: Metric) -> dict[str, Any]:
    """One metric; the name, alias, timestamp and flags appear only when the wire had them."""
    out: dict[str, Any] = {}
    if m.name is not None:
        out["name"] = m.name
    if m.alias is not None:
        out["alias"] = m.alias
    if m.timestamp is not None:
        out["timestamp"] = m.timestamp
    out["datatype"] = _type_name(m.datatype)
    out["value"] = value_to_jsonable(m.value)
    for flag in ("is_historical", "is_transient", "is_null"):
        if getattr(m, flag):
            out[flag] = True
    if m.properties is not None:
        out["properties"] = propertyset_to_jsonable(m.properties)
    if m.metadata is not None:
        out["metadata"] = metadata_to_jsonable(m.metadata)
    return out


def propertyset_to_jsonable(ps: PropertySet) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, pv in ps.values.items():
        entry: dict[str, Any] = {"type": _type_name(pv.datatype), "value": value_to_jsonable(pv.value)}
        if pv.is_null:
            entry["is_null"] = True
        out[key] = entry
    return out


def metadata_to_jsonable(md: MetaData) -> dict[str, Any]:
    return {name: getattr(md, name) for name in md.__slots__ if getattr(md, name) is not None}


def value_to_jsonable(value: Any) -> Any:
    """A metric, property or cell value: bytes as base64, non-finite floats as strings."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        # json.dumps would write NaN/Infinity, which is not JSON; strings keep the information.
        return value if math.isfinite(value) else str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return _b64(bytes(value))
    if isinstance(value, DataSet):
        return {
            "columns": list(value.columns),
            "types": [_type_name(t) for t in value.types],
            "rows": [[value_to_jsonable(v) for v in row] for row in value.rows],
        }
    if isinstance(value, Template):
        return template_to_jsonable(value)
    if isinstance(value, PropertySet):
        return propertyset_to_jsonable(value)
    if isinstance(value, list | tuple):
        return [value_to_jsonable(v) for v in value]
    return str(value)


def template_to_jsonable(t: Template) -> dict[str, Any]:
    out: dict[str, Any] = {"is_definition": t.is_definition}
    if t.version is not None:
        out["version"] = t.version
    if t.template_ref is not None:
        out["template_ref"] = t.template_ref
    out["parameters"] = [
        {"name": p.name, "type": _type_name(p.datatype), "value": value_to_jsonable(p.value)}
        for p in t.parameters
    ]
    out["metrics"] = [metric_to_jsonable(m) for m in t.metrics]
    return out


def _type_name(datatype: DataType | int) -> str:
    try:
        return DataType(datatype).name
    except ValueError:
        return f"Unknown({int(datatype)})"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
