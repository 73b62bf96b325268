"""Engineering values <-> Modbus registers for a ModbusSource: inverse scaling, type, byte and word order.

`encode` is what the simulated PLC writes; `decode` is the reading the plant model prescribes
(engineering value = raw * scale + offset), used by the tests to check the PLC from the client side.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

from uns_model.tags import ModbusSource

_FORMAT: dict[str, str] = {
    "int16": "h", "uint16": "H", "int32": "i", "uint32": "I", "float32": "f", "float64": "d",
}  # fmt: skip
_RANGE: dict[str, tuple[int, int]] = {
    "int16": (-(2**15), 2**15 - 1),
    "uint16": (0, 2**16 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
}


def is_bit(source: ModbusSource) -> bool:
    return source.table in ("coil", "discrete")


def raw_value(source: ModbusSource, value: float) -> int | float:
    """The raw register value for an engineering value: (value - offset) / scale, typed and clamped."""
    raw = (float(value) - source.offset) / source.scale
    bounds = _RANGE.get(source.type)
    if bounds is None:
        return raw
    if not math.isfinite(raw):
        return 0
    return max(bounds[0], min(bounds[1], round(raw)))


def encode(source: ModbusSource, value: bool | int | float) -> list[int]:
    """The 16-bit registers holding `value` as the source declares it (not for coil / discrete)."""
    if source.type == "bool":
        return [1 if value else 0]
    data = struct.pack(">" + _FORMAT[source.type], raw_value(source, float(value)))
    words = [data[i : i + 2] for i in range(0, len(data), 2)]
    if source.word_order == "little":
        words.reverse()
    if source.byte_order == "little":
        words = [w[::-1] for w in words]
    return [int.from_bytes(w, "big") for w in words]


def decode(source: ModbusSource, registers: Sequence[int]) -> float:
    """The engineering value a client computes from the source's registers."""
    if source.type == "bool":
        return float(bool(registers[0]))
    words = [r.to_bytes(2, "big") for r in registers[: source.register_count]]
    if source.byte_order == "little":
        words = [w[::-1] for w in words]
    if source.word_order == "little":
        words.reverse()
    (raw,) = struct.unpack(">" + _FORMAT[source.type], b"".join(words))
    return float(raw) * source.scale + source.offset
