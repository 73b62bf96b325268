"""JSON helpers shared by the pysparkplug peer scripts (they run in .venv-pysparkplug, not our venv)."""

from __future__ import annotations

import base64
import datetime
import json
import math
import sys
from typing import Any


def to_json(value: Any) -> Any:
    """A metric value as JSON: bytes as {"$bytes": b64}, non-finite floats as {"$float": ...}."""
    if isinstance(value, bytes | bytearray):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, float) and not math.isfinite(value):
        return {"$float": repr(value)}
    if isinstance(value, datetime.datetime):
        return round(value.timestamp() * 1000)
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    return value


def from_json(value: Any) -> Any:
    if isinstance(value, dict) and "$bytes" in value:
        return base64.b64decode(value["$bytes"])
    if isinstance(value, dict) and "$float" in value:
        return float(value["$float"])
    return value


def emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()
