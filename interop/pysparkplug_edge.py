"""A pysparkplug 0.6.1 edge node driven by a JSON plan (run with .venv-pysparkplug/bin/python).

usage: pysparkplug_edge.py --host H --port P --group G --edge E --plan '<json>'
plan: {"nbirth": [metric...], "dbirths": {"<device>": [metric...]},
       "data": [{"device": "<id>" | null, "metrics": [metric...]}], "deregister": ["<device>"],
       "end": "clean" | "abrupt",
       "linger_ms": 200}
metric: {"name", "alias", "type" (pysparkplug DataType name, e.g. "DOUBLE"), "value"}.
stdout: one JSON line per event.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

import pysparkplug as psp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pysparkplug_common import emit, from_json


def metric(spec: dict[str, Any]) -> psp.Metric:
    return psp.Metric(
        timestamp=psp.get_current_timestamp(),
        name=spec["name"],
        datatype=psp.DataType[spec["type"].upper()],
        value=from_json(spec.get("value")),
        alias=spec.get("alias"),
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--edge", required=True)
    ap.add_argument("--plan", required=True)
    args = ap.parse_args()
    plan = json.loads(args.plan)

    client = psp.Client(client_id=f"psp-{args.edge}-{os.getpid()}")
    node = psp.EdgeNode(args.group, args.edge, [metric(m) for m in plan.get("nbirth", [])], client=client)
    for device, metrics in plan.get("dbirths", {}).items():
        node.register(psp.Device(device, [metric(m) for m in metrics]))
    node.connect(args.host, port=args.port, blocking=False)
    deadline = time.monotonic() + 5
    while not node._connected and time.monotonic() < deadline:  # births go out in the connect callback
        time.sleep(0.005)
    if not node._connected:
        emit({"event": "timeout"})
        return 3
    emit({"event": "connect"})
    for entry in plan.get("data", []):
        metrics = [metric(m) for m in entry["metrics"]]
        if entry.get("device"):
            node.update_device(entry["device"], metrics)
        else:
            node.update(metrics)
        emit({"event": "publish", "device": entry.get("device")})
    for device in plan.get("deregister", []):
        node.deregister(device)  # DDEATH
        emit({"event": "publish", "type": "DDEATH", "device": device})
    time.sleep(plan.get("linger_ms", 200) / 1000)
    if plan.get("end", "clean") == "abrupt":
        emit({"event": "done", "end": "abrupt"})
        os._exit(0)  # no DISCONNECT: the broker publishes the registered NDEATH will
    node.disconnect()
    emit({"event": "done", "end": "clean"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
