"""Datatype coercion of source values, and report-by-exception with deadbands."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from edge.deadband import ReportByException, changed
from edge.values import BadValue, coerce, datetime_ms


def test_coerce_numbers():
    assert coerce("Int16", 65.2) == 65
    assert coerce("UInt32", 4294967295) == 4294967295
    assert coerce("Int32", True) == 1
    assert coerce("Double", 3) == 3.0 and isinstance(coerce("Double", 3), float)
    assert coerce("Boolean", 0) is False
    assert coerce("Boolean", 2.0) is True
    assert coerce("String", 12) == "12"
    assert coerce("Int8", None) is None


@pytest.mark.parametrize(
    ("datatype", "value", "match"),
    [
        ("UInt16", -1, "out of range"),
        ("Int8", 128, "out of range"),
        ("Int32", "12", "not a number"),
        ("Double", "x", "not a number"),
        ("Float", 1e39, "out of range"),
        ("Int32", math.nan, "cannot be"),
        ("Boolean", "true", "not a Boolean"),
        ("Int32", [1, 2], "scalar"),
        ("DateTime", 1.5, "not a DateTime"),
    ],
)
def test_coerce_refuses(datatype, value, match):
    with pytest.raises(BadValue, match=match):
        coerce(datatype, value)


def test_datetimes():
    aware = datetime(2026, 1, 1, 12, 0, 0, 250000, tzinfo=UTC)
    assert datetime_ms(aware) == 1767268800250
    assert datetime_ms(aware.replace(tzinfo=None)) == 1767268800250  # naive means UTC
    assert coerce("DateTime", aware) == 1767268800250


def test_changed_rules():
    assert not changed("Double", 0.5, 20.0, 20.5)  # not more than the deadband
    assert changed("Double", 0.5, 20.0, 20.51)
    assert changed("Double", 0.5, 20.0, 19.4)
    assert changed("Double", None, 20.0, 20.0001)
    assert not changed("Double", None, 20.0, 20.0)
    assert changed("Int32", None, 1, 2)
    assert not changed("Int32", 5, 100, 104)
    assert changed("Boolean", 5, False, True)
    assert changed("String", 1, "a", "b")
    assert changed("Double", 1.0, None, 1.0) and changed("Double", 1.0, 1.0, None)
    assert not changed("Double", 1.0, None, None)
    assert not changed("Double", 1.0, math.nan, math.nan)
    assert changed("Double", 1.0, math.nan, 1.0) and changed("Double", 1.0, 1.0, math.nan)


def test_baseline_is_the_last_reported_value_not_the_last_seen():
    rbe = ReportByException()
    rbe.reset("cell", {"t": 20.0})
    assert not rbe.offer("cell", "t", "Double", 0.5, 20.3)
    assert not rbe.offer("cell", "t", "Double", 0.5, 20.45)
    # 20.3 then 20.45 then 20.6: creeping changes are reported once they add up past the deadband.
    assert rbe.offer("cell", "t", "Double", 0.5, 20.6)
    assert not rbe.offer("cell", "t", "Double", 0.5, 20.9)
    assert rbe.suppressed == 3
    rbe.reset("cell", {"t": 30.0})
    assert not rbe.offer("cell", "t", "Double", 0.5, 30.2)
    assert rbe.offer("cell", "u", "Double", 0.5, 1.0)  # never reported: always goes
