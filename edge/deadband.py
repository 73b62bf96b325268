"""Report by exception: a metric goes out only when it changed by more than its deadband."""

from __future__ import annotations

import math
from typing import Any

_NUMERIC = frozenset(
    {"Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64", "Float", "Double"}
)


def changed(datatype: str, deadband: float | None, last: Any, new: Any) -> bool:
    """True when `new` is worth a DATA message after `last` (the last value reported).

    Numbers with a deadband: only an absolute change larger than it. Everything else (booleans,
    text, numbers without a deadband): any change. Null to a value and back is always a change,
    and NaN repeated is not.
    """
    if last is None or new is None:
        return (last is None) != (new is None)
    if datatype in _NUMERIC and isinstance(new, int | float) and isinstance(last, int | float):
        if isinstance(new, float) and math.isnan(new):
            return not (isinstance(last, float) and math.isnan(last))
        if isinstance(last, float) and math.isnan(last):
            return True
        if deadband:
            return abs(new - last) > deadband
    return bool(new != last)


class ReportByException:
    """The last value reported per (device, metric); the baseline is reset by every birth."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], Any] = {}
        self.suppressed = 0

    def reset(self, device_id: str, values: dict[str, Any]) -> None:
        """A DBIRTH carried these values: changes count from them."""
        for key in [k for k in self._last if k[0] == device_id]:
            del self._last[key]
        for metric, value in values.items():
            self._last[(device_id, metric)] = value

    def offer(self, device_id: str, metric: str, datatype: str, deadband: float | None, value: Any) -> bool:
        """True (and the value becomes the baseline) when the value is to be reported."""
        key = (device_id, metric)
        if key in self._last and not changed(datatype, deadband, self._last[key], value):
            self.suppressed += 1
            return False
        self._last[key] = value
        return True
