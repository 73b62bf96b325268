"""Source values into a tag's Sparkplug datatype, and source timestamps into ms UTC."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from typing import Any, Final

_INT_RANGES: Final[dict[str, tuple[int, int]]] = {
    "Int8": (-(2**7), 2**7 - 1),
    "Int16": (-(2**15), 2**15 - 1),
    "Int32": (-(2**31), 2**31 - 1),
    "Int64": (-(2**63), 2**63 - 1),
    "UInt8": (0, 2**8 - 1),
    "UInt16": (0, 2**16 - 1),
    "UInt32": (0, 2**32 - 1),
    "UInt64": (0, 2**64 - 1),
}
FLOAT32_MAX: Final = 3.4028234663852886e38


class BadValue(ValueError):
    """A source value that cannot be the tag's datatype; the metric goes null (bad) instead."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def datetime_ms(value: datetime) -> int:
    """ms since the epoch; a naive datetime is UTC (asyncua 1.x hands those out)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return round(value.timestamp() * 1000)


def _text(value: Any) -> str | None:
    # OPC UA LocalizedText and QualifiedName carry their text in .Text / .Name.
    for attr in ("Text", "Name"):
        inner = getattr(value, attr, None)
        if isinstance(inner, str):
            return inner
    return None


def coerce(datatype: str, value: Any) -> Any:
    """`value` as the Sparkplug `datatype` wants it (None stays None: a null metric).

    Raises BadValue when it does not fit: a string for a number, a value out of the integer range,
    an array for a scalar tag.
    """
    if value is None:
        return None
    if isinstance(value, list | tuple | dict | bytes | bytearray):
        raise BadValue(f"{type(value).__name__} value cannot be a scalar {datatype}")
    if datatype in _INT_RANGES:
        return _as_int(datatype, value)
    if datatype in ("Float", "Double"):
        if isinstance(value, bool):
            return 1.0 if value else 0.0
        if not isinstance(value, int | float):
            raise BadValue(f"{type(value).__name__} {value!r} is not a number for {datatype}")
        f = float(value)
        if datatype == "Float" and math.isfinite(f) and abs(f) > FLOAT32_MAX:
            raise BadValue(f"{f!r} is out of range for Float (32-bit)")
        return f
    if datatype == "Boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return value != 0
        raise BadValue(f"{type(value).__name__} {value!r} is not a Boolean")
    if datatype in ("String", "Text"):
        if isinstance(value, str):
            return value
        text = _text(value)
        return text if text is not None else str(value)
    if datatype == "DateTime":
        if isinstance(value, datetime):
            return datetime_ms(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise BadValue(f"{type(value).__name__} {value!r} is not a DateTime")
    raise BadValue(f"datatype {datatype} is not supported for tags")


def _as_int(datatype: str, value: Any) -> int:
    if isinstance(value, bool):
        v = int(value)
    elif isinstance(value, int):
        v = value
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise BadValue(f"{value!r} cannot be {datatype}")
        # A scaled register (raw * 0.1) or a PLC REAL feeding an integer tag: nearest integer.
        v = round(value)
    else:
        raise BadValue(f"{type(value).__name__} {value!r} is not a number for {datatype}")
    lo, hi = _INT_RANGES[datatype]
    if not lo <= v <= hi:
        raise BadValue(f"{v} is out of range for {datatype} ({lo}..{hi})")
    return v
