"""Sparkplug B payload codec: Payload value objects <-> protobuf bytes, with typed decode errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf.message import DecodeError

from sparkplug.codec_metric import fill_metric, metric_value, read_metric, set_metric_value
from sparkplug.codec_scalar import text_from_wire
from sparkplug.datatypes import DataType
from sparkplug.errors import SparkplugDecodeError
from sparkplug.payload import Metric, Payload
from sparkplug.proto import pb

DEFAULT_MAX_SIZE = 1_048_576 * 16

PbPayload = pb.Payload


def encode_payload(p: Payload, *, include_datatypes: bool = True) -> bytes:
    """Serialize a Payload. ValueError, naming the metric, when a value does not fit its datatype.

    include_datatypes=False leaves the metrics' datatype field out, as the spec recommends for
    NDATA/DDATA/NCMD/DCMD (the values are still checked and written by their datatype).
    """
    return payload_to_pb(p, include_datatypes=include_datatypes).SerializeToString()


def payload_to_pb(p: Payload, *, include_datatypes: bool = True) -> PbPayload:
    """The protobuf Payload message for a Payload value object."""
    msg = PbPayload()
    try:
        if p.timestamp is not None:
            msg.timestamp = p.timestamp
        if p.seq is not None:
            msg.seq = p.seq
    except ValueError as exc:
        raise ValueError(f"payload timestamp/seq must be uint64: {exc}") from None
    if p.uuid is not None:
        msg.uuid = p.uuid
    if p.body is not None:
        msg.body = bytes(p.body)
    for metric in p.metrics:
        fill_metric(msg.metrics.add(), metric, include_datatype=include_datatypes)
    return msg


def parse_payload(data: bytes, *, max_size: int = DEFAULT_MAX_SIZE) -> PbPayload:
    """Parse bytes into the protobuf Payload message only (the host's hot path).

    SparkplugDecodeError reason "oversized" above max_size, "malformed" when not protobuf.
    """
    if len(data) > max_size:
        raise SparkplugDecodeError(
            f"payload of {len(data)} bytes is larger than the limit of {max_size} bytes", reason="oversized"
        )
    msg = PbPayload()
    try:
        msg.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError, TypeError) as exc:
        raise SparkplugDecodeError(f"not a Sparkplug B payload: {exc}", reason="malformed") from None
    return msg


def decode_payload(
    data: bytes,
    *,
    max_size: int = DEFAULT_MAX_SIZE,
    datatypes: Mapping[Any, DataType] | None = None,
) -> Payload:
    """Decode bytes into a Payload value object, raising SparkplugDecodeError with a `.reason`.

    `datatypes` (keyed by alias, or by name) gives the datatype of metrics that arrive without one,
    as in NDATA/DDATA; such metrics otherwise decode with DataType.Unknown and their raw wire value.
    """
    msg = parse_payload(data, max_size=max_size)
    return payload_from_pb(msg, datatypes=datatypes)


def payload_from_pb(msg: PbPayload, *, datatypes: Mapping[Any, DataType] | None = None) -> Payload:
    """A Payload value object from a parsed protobuf Payload."""
    try:
        return Payload(
            timestamp=msg.timestamp if msg.HasField("timestamp") else None,
            metrics=[_read(m, datatypes) for m in msg.metrics],
            seq=msg.seq if msg.HasField("seq") else None,
            uuid=text_from_wire(msg.uuid, "payload uuid") if msg.HasField("uuid") else None,
            body=msg.body if msg.HasField("body") else None,
        )
    except (UnicodeDecodeError, RecursionError) as exc:
        # Runtimes differ on when they check UTF-8; deep nesting is bounded by protobuf itself.
        raise SparkplugDecodeError(f"not a Sparkplug B payload: {exc}", reason="malformed") from None


def _read(m: pb.Payload.Metric, datatypes: Mapping[Any, DataType] | None) -> Metric:
    if datatypes is None or m.datatype != 0:
        return read_metric(m)
    dt = None
    if m.HasField("alias"):
        dt = datatypes.get(m.alias)
    if dt is None and m.HasField("name"):
        dt = datatypes.get(m.name)
    return read_metric(m, None if dt is None else int(dt))


__all__ = [
    "DEFAULT_MAX_SIZE",
    "PbPayload",
    "decode_payload",
    "encode_payload",
    "metric_value",
    "parse_payload",
    "payload_from_pb",
    "payload_to_pb",
    "set_metric_value",
]
