"""The host's reading of metric values and birth definitions from generated protobuf metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sparkplug import codec_metric
from sparkplug.codec import metric_value
from sparkplug.codec_scalar import SCALAR_FROM_WIRE, WireValueError
from sparkplug.codec_struct import read_propertyset
from sparkplug.datatypes import INTEGER_TYPES, DataType, datatype_from_number
from sparkplug.errors import SparkplugDecodeError
from sparkplug.host_registry import MetricRegistry, MetricScope, NodeSession, Slot, UpdateBatch

_FLOAT_FIELDS = frozenset({"float_value", "double_value"})
_INT_FIELDS = frozenset({"int_value", "long_value"})


def decoder_for(datatype: int) -> Callable[[Any], Any]:
    """The codec's value decoder for one datatype, resolved once at birth rather than per metric.

    Same result as metric_value(m, datatype) for every metric whose is_null agrees with its value
    field (a null metric has no value field, which the decoder reads as None).
    """
    table: dict[int, Callable[[Any], Any]] = getattr(codec_metric, "_DECODERS", {})
    found = table.get(datatype)
    if found is not None:
        return found
    return lambda m: metric_value(m, datatype)


def lenient_value(m: Any, datatype: int) -> tuple[Any, bool]:
    """Lenient mode's second chance: integers in either integer field, Float/Double in either float field."""
    which = m.WhichOneof("value")
    dt = datatype_from_number(datatype)
    try:
        if dt in INTEGER_TYPES and which in _INT_FIELDS:
            return SCALAR_FROM_WIRE[dt](getattr(m, which)), True
        if dt in (DataType.Float, DataType.Double) and which in _FLOAT_FIELDS:
            return getattr(m, which), True
    except WireValueError:
        pass
    return None, False


def read_birth(
    registry: MetricRegistry,
    node: NodeSession,
    device_id: str | None,
    scope: MetricScope,
    mt: str,
    payload: Any,
    received: int,
    lenient: bool,
) -> tuple[UpdateBatch, dict[str, str]]:
    """Register every metric of an NBIRTH/DBIRTH into `scope`; its values become the batch.

    Returns the problems found, one detail per reason: a metric without a name or with an unknown
    datatype is skipped; one whose value does not fit its datatype is registered without a value.
    """
    pts = payload.timestamp or received
    seq = payload.seq if payload.HasField("seq") else None
    batch = UpdateBatch(node.group_id, node.edge_node_id, device_id, mt, seq, received)
    problems: dict[str, str] = {}
    for m in payload.metrics:
        name = m.name
        if not name:
            problems.setdefault("malformed", f"{mt} metric without a name (alias {m.alias})")
            continue
        dt = datatype_from_number(m.datatype)
        if dt is None or dt is DataType.Unknown:
            reason = "unknown_datatype" if dt is None else "malformed"
            problems.setdefault(reason, f"{mt} metric {name!r} has datatype {m.datatype}")
            continue
        props = None
        if m.HasField("properties"):
            try:
                props = read_propertyset(m.properties, f"metric {name!r}")
            except SparkplugDecodeError as exc:
                problems.setdefault(exc.reason, str(exc))
        alias = m.alias if m.HasField("alias") else None
        info = registry.register(node.group_id, node.edge_node_id, device_id, name, alias, dt, props)
        slot: Slot = (info.handle, int(dt), decoder_for(int(dt)), *codec_metric.value_reader(int(dt)))
        scope.by_name[name] = slot
        if alias is not None:
            scope.by_alias[alias] = slot
            if alias == 0:
                scope.alias_first = False
        scope.handles.append(info.handle)
        try:
            value = metric_value(m, int(dt))
        except SparkplugDecodeError as exc:
            value, ok = lenient_value(m, int(dt)) if lenient else (None, False)
            if not ok:
                problems.setdefault(exc.reason, str(exc))
                continue
        batch.handles.append(info.handle)
        batch.values.append(value)
        batch.timestamps_ms.append(m.timestamp or pts)
        batch.historical.append(m.is_historical)
    return batch, problems
