"""Metric values and Templates on the generated protobuf Metric: the fast path and full conversion."""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any, Final, cast

from sparkplug.codec_arrays import ARRAY_DECODERS, ARRAY_ENCODERS, ArrayFormatError
from sparkplug.codec_scalar import SCALAR_FROM_WIRE, SCALAR_TO_WIRE, WireValueError, identity, text_from_wire
from sparkplug.codec_struct import (
    fill_dataset,
    fill_metadata,
    fill_propertyset,
    read_dataset,
    read_metadata,
    read_propertyset,
    read_scalar,
    scalar_datatype,
    write_scalar,
)
from sparkplug.datatypes import (
    ARRAY_TYPES,
    BYTES_TYPES,
    BYTES_VALUE,
    DATASET_VALUE,
    METRIC_VALUE_FIELD,
    SCALAR_FIELD,
    SCALAR_FIELDS_ACCEPTED,
    SIGNED_BITS,
    TEMPLATE_VALUE,
    DataType,
    datatype_from_number,
    datatype_name,
)
from sparkplug.errors import SparkplugDecodeError
from sparkplug.payload import Metric, Template, TemplateParameter
from sparkplug.proto import pb

PbMetric = pb.Payload.Metric
PbTemplate = pb.Payload.Template

MetricDecoder = Callable[[PbMetric], Any]
# The generated stubs type HasField's argument as a Literal of field names; ours come from tables.
_HAS = cast(Callable[[PbMetric, str], bool], PbMetric.HasField)


def _name(m: PbMetric) -> str | None:
    name = m.name
    return name if name and type(name) is str else None


def _label(m: PbMetric) -> str:
    if m.HasField("name"):
        return f"metric {m.name!r}"
    if m.HasField("alias"):
        return f"metric alias {m.alias}"
    return "metric (no name, no alias)"


def _mismatch(m: PbMetric, datatype: DataType, which: str | None, expected: str) -> SparkplugDecodeError:
    return SparkplugDecodeError(
        f"{_label(m)}: datatype {datatype.name} but the value is in {which}, expected {expected}",
        reason="type_mismatch",
        metric=_name(m),
        datatype=int(datatype),
    )


def _slow_path(m: PbMetric, datatype: DataType, accepted: frozenset[str], expected: str) -> Any:
    """The value is not in the usual field: read it from an alternative field, or explain why not."""
    which = m.WhichOneof("value")
    if which is None:
        return None
    if which not in accepted:
        raise _mismatch(m, datatype, which, expected)
    return _convert(m, datatype, which)


def _convert(m: PbMetric, datatype: DataType, which: str) -> Any:
    try:
        return SCALAR_FROM_WIRE[datatype](getattr(m, which))
    except WireValueError as exc:
        raise SparkplugDecodeError(
            f"{_label(m)}: {exc}", reason=exc.reason, metric=_name(m), datatype=int(datatype)
        ) from None


# HasField on the expected member costs about a third of WhichOneof, so the decoders below try it
# first and only fall back to WhichOneof when the value is elsewhere (or absent, or wrong). Plain and
# signed decoders read the field first: a truthy read needs no HasField at all.
def _scalar_decoder(datatype: DataType) -> MetricDecoder:
    accepted = SCALAR_FIELDS_ACCEPTED[datatype]
    field = SCALAR_FIELD[datatype]
    convert = SCALAR_FROM_WIRE[datatype]
    bits = SIGNED_BITS.get(datatype)
    has = _HAS
    get = attrgetter(field)

    if bits is not None:
        mask = (1 << bits) - 1
        sign = 1 << (bits - 1)

        def decode_signed(m: PbMetric) -> Any:
            # An absent proto2 field reads 0: a non-zero read proves presence without HasField.
            if (v := get(m)) or has(m, field):
                return ((v & mask) ^ sign) - sign
            return _slow_path(m, datatype, accepted, field)

        return decode_signed

    if convert is identity:

        def decode_plain(m: PbMetric) -> Any:
            if (v := get(m)) or has(m, field):
                return v
            return _slow_path(m, datatype, accepted, field)

        return decode_plain

    def decode(m: PbMetric) -> Any:
        if has(m, field):
            return _convert(m, datatype, field)
        return _slow_path(m, datatype, accepted, field)

    return decode


def _bytes_decoder(datatype: DataType) -> MetricDecoder:
    array = ARRAY_DECODERS.get(datatype)
    has = _HAS

    def decode(m: PbMetric) -> Any:
        if not has(m, BYTES_VALUE):
            return _slow_path(m, datatype, frozenset(), BYTES_VALUE)
        if array is None:
            return m.bytes_value
        try:
            return array(m.bytes_value)
        except ArrayFormatError as exc:
            raise SparkplugDecodeError(
                f"{_label(m)}: {exc}", reason="type_mismatch", metric=_name(m), datatype=int(datatype)
            ) from None

    return decode


def _dataset_decoder(m: PbMetric) -> Any:
    which = m.WhichOneof("value")
    if which != DATASET_VALUE:
        if which is None:
            return None
        raise _mismatch(m, DataType.DataSet, which, DATASET_VALUE)
    return read_dataset(m.dataset_value, _label(m))


def _template_decoder(m: PbMetric) -> Any:
    which = m.WhichOneof("value")
    if which != TEMPLATE_VALUE:
        if which is None:
            return None
        raise _mismatch(m, DataType.Template, which, TEMPLATE_VALUE)
    return read_template(m.template_value, _label(m))


def _property_only_decoder(datatype: DataType) -> MetricDecoder:
    def decode(m: PbMetric) -> Any:
        which = m.WhichOneof("value")
        if which is None:
            return None
        raise _mismatch(m, datatype, which, "no value (a property datatype has no Metric value field)")

    return decode


def _raw_decoder(m: PbMetric) -> Any:
    """Datatype not sent (as in NDATA/DDATA): the value as the wire holds it, without a type check."""
    which = m.WhichOneof("value")
    if which is None or which == "extension_value":
        return None
    if which == DATASET_VALUE:
        return read_dataset(m.dataset_value, _label(m))
    if which == TEMPLATE_VALUE:
        return read_template(m.template_value, _label(m))
    raw = getattr(m, which)
    return text_from_wire(raw, _label(m)) if which == "string_value" else raw


_DECODERS: Final[dict[int, MetricDecoder]] = {
    **{int(dt): _scalar_decoder(dt) for dt in SCALAR_FIELD},
    **{int(dt): _bytes_decoder(dt) for dt in BYTES_TYPES | ARRAY_TYPES},
    int(DataType.DataSet): _dataset_decoder,
    int(DataType.Template): _template_decoder,
    int(DataType.PropertySet): _property_only_decoder(DataType.PropertySet),
    int(DataType.PropertySetList): _property_only_decoder(DataType.PropertySetList),
    int(DataType.Unknown): _raw_decoder,
}


def value_reader(datatype: int) -> tuple[Callable[[PbMetric], Any] | None, str, int, int]:
    """(read, field, mask, sign) for a hot loop that cannot afford a decoder call per metric.

    `read(m)` reads the datatype's usual value `field` without a presence check. A proto2 field that
    is absent reads as 0 / 0.0 / False, so a truthy result proves the field is set and is then the
    value, after `((v & mask) ^ sign) - sign` when mask is not 0 (signed types, as the decoder does).
    A falsy result is the value too (0, 0.0, -0.0, False) when `m.HasField(field)`; otherwise (absent,
    null, in another field) only the full decoder can tell. Datatypes whose value needs more than
    that (range checks, text, bytes, structures) get (None, "", 0, 0): always the decoder.
    """
    dt = datatype_from_number(datatype)
    if dt is None or dt not in SCALAR_FIELD:
        return None, "", 0, 0
    field = SCALAR_FIELD[dt]
    bits = SIGNED_BITS.get(dt)
    if bits is not None:
        return attrgetter(field), field, (1 << bits) - 1, 1 << (bits - 1)
    if SCALAR_FROM_WIRE[dt] is identity:
        return attrgetter(field), field, 0, 0
    return None, "", 0, 0


def metric_value(pb_metric: PbMetric, datatype: int | None = None) -> Any:
    """The Python value of a protobuf Metric, None when null or absent.

    `datatype` overrides the metric's own datatype field: DATA messages usually omit it, so a host
    passes the datatype it learned from the birth. Raises SparkplugDecodeError (reason
    "type_mismatch" or "unknown_datatype") when the value does not fit the datatype.
    """
    if pb_metric.is_null:
        return None
    dt = pb_metric.datatype if datatype is None else datatype
    try:
        decode = _DECODERS[dt]
    except KeyError:
        raise SparkplugDecodeError(
            f"{_label(pb_metric)}: unknown datatype {dt}",
            reason="unknown_datatype",
            metric=_name(pb_metric),
            datatype=dt,
        ) from None
    return decode(pb_metric)


def _set_bytes(m: PbMetric, datatype: DataType, value: Any) -> None:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise ValueError(f"{datatype.name} needs bytes, got {type(value).__name__}")
    m.bytes_value = bytes(value)


def set_metric_value(
    pb_metric: PbMetric, datatype: DataType | int, value: Any, *, set_datatype: bool = True
) -> None:
    """Write `value` into the protobuf Metric as `datatype` requires (None writes is_null).

    Sets the metric's datatype field too unless set_datatype is False (the spec says DATA
    messages should not carry it). ValueError, naming the metric, if the value does not fit.
    """
    dt = datatype if type(datatype) is DataType else DataType(datatype)
    if set_datatype:
        pb_metric.datatype = int(dt)
    if value is None:
        pb_metric.ClearField("value")
        pb_metric.is_null = True
        return
    if pb_metric.is_null:
        pb_metric.ClearField("is_null")
    to_wire = SCALAR_TO_WIRE.get(dt)
    try:
        if to_wire is not None:
            setattr(pb_metric, SCALAR_FIELD[dt], to_wire(value))
        elif dt in BYTES_TYPES:
            _set_bytes(pb_metric, dt, value)
        elif dt in ARRAY_TYPES:
            pb_metric.bytes_value = ARRAY_ENCODERS[dt](value)
        elif dt is DataType.DataSet:
            pb_metric.ClearField("value")
            fill_dataset(pb_metric.dataset_value, value, "DataSet")
        elif dt is DataType.Template:
            pb_metric.ClearField("value")
            fill_template(pb_metric.template_value, value)
        elif dt in METRIC_VALUE_FIELD:  # pragma: no cover - every metric datatype is handled above
            raise AssertionError(dt)
        else:
            raise ValueError(f"datatype {dt.name} cannot be a metric value")
    except ValueError as exc:
        raise ValueError(f"{_label(pb_metric)}: {exc}") from None


def fill_metric(pb_metric: PbMetric, metric: Metric, *, include_datatype: bool = True) -> None:
    """Write a Metric value object into an (empty) protobuf Metric."""
    if metric.name is not None:
        pb_metric.name = metric.name
    try:
        if metric.alias is not None:
            pb_metric.alias = metric.alias
        if metric.timestamp is not None:
            pb_metric.timestamp = metric.timestamp
    except ValueError as exc:
        raise ValueError(f"{_label(pb_metric)}: alias and timestamp must be uint64: {exc}") from None
    if metric.is_historical:
        pb_metric.is_historical = True
    if metric.is_transient:
        pb_metric.is_transient = True
    if metric.metadata is not None:
        fill_metadata(pb_metric.metadata, metric.metadata)
    dt = DataType(metric.datatype)
    where = _label(pb_metric)
    if metric.properties is not None:
        fill_propertyset(pb_metric.properties, metric.properties, f"{where} properties")
    if metric.is_null or metric.value is None:
        if include_datatype and dt is not DataType.Unknown:
            pb_metric.datatype = int(dt)
        pb_metric.is_null = True
        return
    if dt is DataType.Unknown:
        raise ValueError(f"{where}: a datatype is needed to encode its value {metric.value!r}")
    set_metric_value(pb_metric, dt, metric.value, set_datatype=include_datatype)


def read_metric(pb_metric: PbMetric, datatype: int | None = None) -> Metric:
    """A Metric value object from a protobuf Metric (datatype overrides an absent datatype field)."""
    number = pb_metric.datatype if datatype is None else datatype
    dt = datatype_from_number(number)
    if dt is None:
        raise SparkplugDecodeError(
            f"{_label(pb_metric)}: unknown datatype {number}",
            reason="unknown_datatype",
            metric=_name(pb_metric),
            datatype=number,
        )
    value = metric_value(pb_metric, number)
    return Metric(
        name=text_from_wire(pb_metric.name, "metric name") if pb_metric.HasField("name") else None,
        alias=pb_metric.alias if pb_metric.HasField("alias") else None,
        datatype=dt,
        value=value,
        timestamp=pb_metric.timestamp if pb_metric.HasField("timestamp") else None,
        is_historical=pb_metric.is_historical,
        is_transient=pb_metric.is_transient,
        is_null=value is None,
        properties=(
            read_propertyset(pb_metric.properties, f"{_label(pb_metric)} properties")
            if pb_metric.HasField("properties")
            else None
        ),
        metadata=read_metadata(pb_metric.metadata) if pb_metric.HasField("metadata") else None,
    )


def fill_template(msg: PbTemplate, template: Any) -> None:
    if not isinstance(template, Template):
        raise ValueError(f"Template needs a sparkplug.payload.Template, got {type(template).__name__}")
    msg.SetInParent()
    if template.version is not None:
        msg.version = template.version
    if template.template_ref is not None:
        msg.template_ref = template.template_ref
    # The spec requires is_definition in every definition and instance, so it is always written.
    msg.is_definition = bool(template.is_definition)
    for param in template.parameters:
        pb_param = msg.parameters.add()
        if param.name is not None:
            pb_param.name = param.name
        dt = DataType(param.datatype)
        pb_param.type = int(dt)
        if param.value is not None:
            write_scalar(pb_param, dt, param.value, f"template parameter {param.name!r}")
    for member in template.metrics:
        fill_metric(msg.metrics.add(), member)


def read_template(msg: PbTemplate, where: str) -> Template:
    parameters = []
    for p in msg.parameters:
        pwhere = f"{where} template parameter {p.name!r}"
        dt = DataType.Unknown if p.type == 0 else scalar_datatype(p.type, pwhere)
        parameters.append(
            TemplateParameter(
                name=text_from_wire(p.name, f"{pwhere} name") if p.HasField("name") else None,
                datatype=dt,
                value=read_scalar(p, dt, pwhere),
            )
        )
    return Template(
        version=text_from_wire(msg.version, f"{where} template version") if msg.HasField("version") else None,
        metrics=[read_metric(m) for m in msg.metrics],
        parameters=parameters,
        template_ref=(
            text_from_wire(msg.template_ref, f"{where} template_ref")
            if msg.HasField("template_ref")
            else None
        ),
        is_definition=msg.is_definition,
    )


__all__ = [
    "datatype_name",
    "fill_metric",
    "fill_template",
    "metric_value",
    "read_metric",
    "read_template",
    "set_metric_value",
]
