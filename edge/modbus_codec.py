"""Modbus register words <-> typed values: int16 ... float64, byte and word order, scale and offset."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Final

#: struct format (big-endian) and register count of each register-held Modbus type.
_FORMATS: Final[dict[str, tuple[str, int]]] = {
    "int16": (">h", 1),
    "uint16": (">H", 1),
    "int32": (">i", 2),
    "uint32": (">I", 2),
    "float32": (">f", 2),
    "float64": (">d", 4),
}


def register_count(modbus_type: str) -> int:
    """How many 16-bit registers a value of this type spans (bool: one coil)."""
    return 1 if modbus_type == "bool" else _FORMATS[modbus_type][1]


def _to_bytes(registers: Sequence[int], byte_order: str, word_order: str) -> bytes:
    # Modbus puts each register on the wire big-endian; devices differ in how they split wider values
    # over registers (word order) and, rarely, in how they fill a register (byte order).
    words = list(registers)
    if word_order == "little":
        words.reverse()
    out = bytearray()
    for w in words:
        if not 0 <= w <= 0xFFFF:
            raise ValueError(f"register value {w} is not a 16-bit word")
        pair = w.to_bytes(2, "big")
        out += pair[::-1] if byte_order == "little" else pair
    return bytes(out)


def decode_registers(
    registers: Sequence[int], modbus_type: str, *, byte_order: str = "big", word_order: str = "big"
) -> int | float:
    """The raw value held by `registers` (exactly register_count(type) words)."""
    fmt, count = _FORMATS[modbus_type]
    if len(registers) != count:
        raise ValueError(f"{modbus_type} needs {count} register(s), got {len(registers)}")
    value: int | float = struct.unpack(fmt, _to_bytes(registers, byte_order, word_order))[0]
    return value


def encode_registers(
    value: int | float, modbus_type: str, *, byte_order: str = "big", word_order: str = "big"
) -> list[int]:
    """The registers that hold `value` as a device with this byte and word order stores it."""
    fmt, count = _FORMATS[modbus_type]
    raw = struct.pack(fmt, value)
    words = []
    for i in range(count):
        pair = raw[2 * i : 2 * i + 2]
        words.append(int.from_bytes(pair[::-1] if byte_order == "little" else pair, "big"))
    if word_order == "little":
        words.reverse()
    return words


def engineering_value(raw: int | float | bool, scale: float, offset: float) -> int | float | bool:
    """raw * scale + offset; an integer stays an integer when there is nothing to scale."""
    if isinstance(raw, bool) or (scale == 1 and offset == 0):
        return raw
    return raw * scale + offset
