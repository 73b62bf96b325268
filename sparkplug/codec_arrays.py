"""Array datatypes 22-34 in bytes_value: little-endian elements, bit-packed booleans, NUL-ended strings."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, Final

from sparkplug.codec_scalar import SCALAR_CHECK
from sparkplug.datatypes import ARRAY_ELEMENT_FORMAT, ARRAY_ELEMENT_TYPE, DataType


class ArrayFormatError(ValueError):
    """bytes_value that cannot be an array of the declared datatype."""


def _as_list(datatype: DataType, value: Any) -> list[Any]:
    if isinstance(value, str | bytes | bytearray | memoryview):
        raise ValueError(f"{datatype.name} needs a sequence of values, got {type(value).__name__}")
    tolist = getattr(value, "tolist", None)  # numpy arrays: plain Python scalars, checked below
    if tolist is not None:
        out = tolist()
        if not isinstance(out, list):
            raise ValueError(f"{datatype.name} needs a one-dimensional array")
        return out
    try:
        return list(value)
    except TypeError:
        raise ValueError(f"{datatype.name} needs a sequence, got {type(value).__name__} {value!r}") from None


def _packed_encoder(datatype: DataType) -> Callable[[Any], bytes]:
    fmt = ARRAY_ELEMENT_FORMAT[datatype]
    check = SCALAR_CHECK[ARRAY_ELEMENT_TYPE[datatype]]

    def encode(value: Any) -> bytes:
        items = _as_list(datatype, value)
        checked = []
        for i, item in enumerate(items):
            try:
                v = check(item)
            except ValueError as exc:
                raise ValueError(f"{datatype.name} element {i}: {exc}") from None
            checked.append(v)
        if datatype is DataType.DateTimeArray and any(v > 2**63 - 1 for v in checked):
            raise ValueError(f"{datatype.name} element out of range for int64 milliseconds")
        return struct.pack(f"<{len(checked)}{fmt}", *checked)

    return encode


def _packed_decoder(datatype: DataType) -> Callable[[bytes], list[Any]]:
    fmt = ARRAY_ELEMENT_FORMAT[datatype]
    size = struct.calcsize(fmt)

    def decode(data: bytes) -> list[Any]:
        n, rest = divmod(len(data), size)
        if rest:
            raise ArrayFormatError(
                f"{datatype.name} bytes_value of {len(data)} bytes is not a whole number"
                f" of {size}-byte elements"
            )
        return list(struct.unpack(f"<{n}{fmt}", data))

    return decode


def _encode_booleans(value: Any) -> bytes:
    items = [SCALAR_CHECK[DataType.Boolean](v) for v in _as_list(DataType.BooleanArray, value)]
    packed = bytearray((len(items) + 7) // 8)
    for i, bit in enumerate(items):
        if bit:
            # The spec's example packs the first value into the most significant bit.
            packed[i >> 3] |= 0x80 >> (i & 7)
    return struct.pack("<I", len(items)) + bytes(packed)


def _decode_booleans(data: bytes) -> list[bool]:
    if len(data) < 4:
        raise ArrayFormatError(f"BooleanArray bytes_value of {len(data)} bytes lacks its 4-byte count")
    (count,) = struct.unpack_from("<I", data)
    need = (count + 7) // 8
    if len(data) - 4 < need:
        raise ArrayFormatError(f"BooleanArray says {count} values but carries only {len(data) - 4} bytes")
    return [bool(data[4 + (i >> 3)] & (0x80 >> (i & 7))) for i in range(count)]


def _encode_strings(value: Any) -> bytes:
    out = bytearray()
    for i, item in enumerate(_as_list(DataType.StringArray, value)):
        if not isinstance(item, str):
            raise ValueError(f"StringArray element {i} needs a str, got {type(item).__name__}")
        if "\x00" in item:
            raise ValueError(f"StringArray element {i} contains NUL, which terminates strings on the wire")
        out += item.encode("utf-8")
        out.append(0)
    return bytes(out)


def _decode_strings(data: bytes) -> list[str]:
    if not data:
        return []
    if data[-1] != 0:
        raise ArrayFormatError("StringArray bytes_value does not end with a NUL terminator")
    try:
        return [s.decode("utf-8") for s in data[:-1].split(b"\x00")]
    except UnicodeDecodeError as exc:
        raise ArrayFormatError(f"StringArray element is not UTF-8: {exc}") from None


ARRAY_ENCODERS: Final[dict[DataType, Callable[[Any], bytes]]] = {
    **{dt: _packed_encoder(dt) for dt in ARRAY_ELEMENT_FORMAT},
    DataType.BooleanArray: _encode_booleans,
    DataType.StringArray: _encode_strings,
}

ARRAY_DECODERS: Final[dict[DataType, Callable[[bytes], list[Any]]]] = {
    **{dt: _packed_decoder(dt) for dt in ARRAY_ELEMENT_FORMAT},
    DataType.BooleanArray: _decode_booleans,
    DataType.StringArray: _decode_strings,
}
