"""Register decoding against hand-computed words: every type x byte order x word order."""

from __future__ import annotations

import math

import pytest

from edge.modbus_codec import decode_registers, encode_registers, engineering_value, register_count

# (type, value, {(byte_order, word_order): registers}), worked out by hand from the IEEE 754 /
# two's complement bit patterns: 0xFFFE, 0x1234, 0xFFFE1DC0, 0x12345678, 0x42F6E979, 0x3FF199999999999A.
CASES = [
    ("int16", -2, {("big", "big"): [0xFFFE], ("little", "big"): [0xFEFF]}),
    ("uint16", 0x1234, {("big", "big"): [0x1234], ("little", "big"): [0x3412]}),
    (
        "int32",
        -123456,
        {
            ("big", "big"): [0xFFFE, 0x1DC0],
            ("big", "little"): [0x1DC0, 0xFFFE],
            ("little", "big"): [0xFEFF, 0xC01D],
            ("little", "little"): [0xC01D, 0xFEFF],
        },
    ),
    (
        "uint32",
        305419896,
        {
            ("big", "big"): [0x1234, 0x5678],
            ("big", "little"): [0x5678, 0x1234],
            ("little", "big"): [0x3412, 0x7856],
            ("little", "little"): [0x7856, 0x3412],
        },
    ),
    (
        "float32",
        123.45600128173828,  # 123.456 as float32
        {
            ("big", "big"): [0x42F6, 0xE979],
            ("big", "little"): [0xE979, 0x42F6],
            ("little", "big"): [0xF642, 0x79E9],
            ("little", "little"): [0x79E9, 0xF642],
        },
    ),
    (
        "float64",
        1.1,
        {
            ("big", "big"): [0x3FF1, 0x9999, 0x9999, 0x999A],
            ("big", "little"): [0x999A, 0x9999, 0x9999, 0x3FF1],
            ("little", "big"): [0xF13F, 0x9999, 0x9999, 0x9A99],
            ("little", "little"): [0x9A99, 0x9999, 0x9999, 0xF13F],
        },
    ),
]

PARAMS = [
    pytest.param(t, v, bo, wo, regs, id=f"{t}-bytes_{bo}-words_{wo}")
    for t, v, orders in CASES
    for (bo, wo), regs in orders.items()
]


@pytest.mark.parametrize(("modbus_type", "value", "byte_order", "word_order", "registers"), PARAMS)
def test_decode_hand_computed(modbus_type, value, byte_order, word_order, registers):
    got = decode_registers(registers, modbus_type, byte_order=byte_order, word_order=word_order)
    assert got == value
    assert type(got) is type(value)


@pytest.mark.parametrize(("modbus_type", "value", "byte_order", "word_order", "registers"), PARAMS)
def test_encode_is_the_inverse(modbus_type, value, byte_order, word_order, registers):
    assert encode_registers(value, modbus_type, byte_order=byte_order, word_order=word_order) == registers


def test_word_order_does_not_touch_single_registers():
    assert decode_registers([0x8000], "int16", word_order="little") == -32768
    assert decode_registers([0xFFFF], "uint16", byte_order="little", word_order="little") == 65535


def test_special_floats():
    assert math.isnan(decode_registers([0x7FC0, 0x0000], "float32"))
    assert decode_registers([0xFF80, 0x0000], "float32") == -math.inf


def test_wrong_register_count_or_width_is_an_error():
    with pytest.raises(ValueError, match="needs 2"):
        decode_registers([1], "uint32")
    with pytest.raises(ValueError, match="16-bit"):
        decode_registers([0x10000], "uint16")


def test_register_counts():
    types = ("bool", "int16", "uint16", "int32", "uint32", "float32", "float64")
    assert [register_count(t) for t in types] == [1, 1, 1, 2, 2, 2, 4]


def test_engineering_value():
    assert engineering_value(652, 0.1, 0.0) == pytest.approx(65.2)
    assert engineering_value(100, 0.5, -10.0) == 40.0
    assert engineering_value(7, 1.0, 0.0) == 7 and isinstance(engineering_value(7, 1.0, 0.0), int)
    assert engineering_value(True, 2.0, 1.0) is True
