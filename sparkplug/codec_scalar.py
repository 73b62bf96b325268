"""Scalar values on the wire: range checks, two's complement in unsigned fields, float32, strings."""

from __future__ import annotations

import math
import operator
import uuid as uuid_mod
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from sparkplug.datatypes import INT_RANGES, SCALAR_FIELD, SIGNED_BITS, DataType
from sparkplug.errors import DecodeReason, SparkplugDecodeError

FLOAT32_MAX: Final = 3.4028234663852886e38


def _as_int(datatype: DataType, value: Any) -> int:
    if isinstance(value, float | str | bytes):
        raise ValueError(f"{datatype.name} needs an integer, got {type(value).__name__} {value!r}")
    try:
        v = operator.index(value)
    except TypeError:
        raise ValueError(f"{datatype.name} needs an integer, got {type(value).__name__} {value!r}") from None
    lo, hi = INT_RANGES[datatype]
    if not lo <= v <= hi:
        raise ValueError(f"{v} is out of range for {datatype.name} ({lo}..{hi})")
    return v


def _int_check(datatype: DataType) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        return _as_int(datatype, value)

    return check


def _int_to_wire(datatype: DataType) -> Callable[[Any], int]:
    bits = SIGNED_BITS.get(datatype)
    # Int8/16/32 travel in the uint32 field, sign-extended to 32 bits as Java and C peers write them.
    mask = 0xFFFFFFFF if bits is not None and bits <= 32 else 0xFFFFFFFFFFFFFFFF

    def to_wire(value: Any) -> int:
        v = _as_int(datatype, value)
        return v & mask if v < 0 else v

    return to_wire


def _datetime_to_wire(value: Any) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"DateTime needs an aware datetime (UTC), got naive {value!r}")
        value = round(value.timestamp() * 1000)
    return _as_int(DataType.DateTime, value)


def _float_to_wire(value: Any) -> float:
    v = _as_float(DataType.Float, value)
    if math.isfinite(v) and abs(v) > FLOAT32_MAX:
        raise ValueError(f"{v!r} is out of range for Float (32-bit, max {FLOAT32_MAX:.7g})")
    return v


def _as_float(datatype: DataType, value: Any) -> float:
    if isinstance(value, bool | str | bytes):
        raise ValueError(f"{datatype.name} needs a number, got {type(value).__name__} {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{datatype.name} needs a number, got {type(value).__name__} {value!r}") from None


def _double_to_wire(value: Any) -> float:
    return _as_float(DataType.Double, value)


def _bool_to_wire(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    # numpy.bool_ is not a bool subclass; accept it without importing numpy.
    if type(value).__name__ in ("bool_", "bool") and hasattr(value, "dtype"):
        return bool(value)
    raise ValueError(f"Boolean needs a bool, got {type(value).__name__} {value!r}")


def _str_to_wire(datatype: DataType) -> Callable[[Any], str]:
    def to_wire(value: Any) -> str:
        if isinstance(value, str):
            return value
        if datatype is DataType.UUID and isinstance(value, uuid_mod.UUID):
            return str(value)
        raise ValueError(f"{datatype.name} needs a str, got {type(value).__name__} {value!r}")

    return to_wire


# Python value -> checked Python value (ints in range, floats, bools, str, DateTime as int ms).
SCALAR_CHECK: Final[dict[DataType, Callable[[Any], Any]]] = {
    **{dt: _int_check(dt) for dt in INT_RANGES if dt is not DataType.DateTime},
    DataType.DateTime: _datetime_to_wire,
    DataType.Float: _float_to_wire,
    DataType.Double: _double_to_wire,
    DataType.Boolean: _bool_to_wire,
    DataType.String: _str_to_wire(DataType.String),
    DataType.Text: _str_to_wire(DataType.Text),
    DataType.UUID: _str_to_wire(DataType.UUID),
}

# Python value -> the value to store in the protobuf field (signed ints as two's complement).
SCALAR_TO_WIRE: Final[dict[DataType, Callable[[Any], Any]]] = {
    **{dt: _int_to_wire(dt) for dt in INT_RANGES if dt is not DataType.DateTime},
    DataType.DateTime: _datetime_to_wire,
    DataType.Float: _float_to_wire,
    DataType.Double: _double_to_wire,
    DataType.Boolean: _bool_to_wire,
    DataType.String: _str_to_wire(DataType.String),
    DataType.Text: _str_to_wire(DataType.Text),
    DataType.UUID: _str_to_wire(DataType.UUID),
}


def scalar_to_wire(datatype: DataType, value: Any) -> tuple[str, Any]:
    """The (oneof member, wire value) for a scalar; ValueError if value does not fit datatype."""
    return SCALAR_FIELD[datatype], SCALAR_TO_WIRE[datatype](value)


def _signed(bits: int) -> Callable[[int], int]:
    mask = (1 << bits) - 1
    sign = 1 << (bits - 1)

    def from_wire(raw: int) -> int:
        # Peers write negatives either sign-extended to the field width or masked to the type width;
        # masking to the type width first reads both the same.
        return ((raw & mask) ^ sign) - sign

    return from_wire


class WireValueError(ValueError):
    """A wire value that cannot be its datatype's value; `.reason` is the decode reason code."""

    def __init__(self, message: str, reason: DecodeReason = "type_mismatch") -> None:
        super().__init__(message)
        self.reason: DecodeReason = reason


# Kept as a name of its own for readers of the unsigned range check.
WireRangeError = WireValueError


def text_from_wire(raw: Any, where: str) -> str:
    """A proto2 string field's value. The upb runtime hands back bytes when they are not UTF-8."""
    if type(raw) is str:
        return raw
    raise SparkplugDecodeError(f"{where}: string is not valid UTF-8: {raw!r:.60}", reason="malformed")


def _str_from_wire(raw: Any) -> Any:
    if type(raw) is str:
        return raw
    raise WireValueError(f"string value is not valid UTF-8: {raw!r:.60}", reason="malformed")


def _unsigned(datatype: DataType) -> Callable[[int], int]:
    hi = INT_RANGES[datatype][1]

    def from_wire(raw: int) -> int:
        if raw > hi:
            raise WireRangeError(f"{raw} is out of range for {datatype.name}")
        return raw

    return from_wire


def identity(raw: Any) -> Any:
    return raw


# Wire value -> Python value, per scalar datatype (the field check is the caller's).
SCALAR_FROM_WIRE: Final[dict[DataType, Callable[[Any], Any]]] = {
    DataType.Int8: _signed(8),
    DataType.Int16: _signed(16),
    DataType.Int32: _signed(32),
    DataType.Int64: _signed(64),
    DataType.UInt8: _unsigned(DataType.UInt8),
    DataType.UInt16: _unsigned(DataType.UInt16),
    DataType.UInt32: _unsigned(DataType.UInt32),
    DataType.UInt64: identity,
    DataType.DateTime: identity,
    DataType.Float: identity,
    DataType.Double: identity,
    DataType.Boolean: identity,
    DataType.String: _str_from_wire,
    DataType.Text: _str_from_wire,
    DataType.UUID: _str_from_wire,
}
