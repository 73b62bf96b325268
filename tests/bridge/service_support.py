"""Helpers for the bridge service tests: the test plant on disk, our edge node for it, a UNS watcher."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from sparkplug.datatypes import DataType
from sparkplug.edge_node import EdgeNode
from sparkplug.edge_node_model import MetricDef
from tests.bridge.plant_fixture import METRICS, plant_yaml

INITIAL: dict[str, Any] = {
    "counters/good": 0,
    "counters/scrap": 0,
    "state": 1,
    "order": "MO-A",
    "lot": "L-A",
    "material/bar_kg": 500.0,
    "temperature": 15.0,
    "alarm": False,
    "runtime_hours": 10.0,
    "speed": 1200.0,
}


def write_plant(tmp: Path, uid: str, debounce: float = 0.3) -> Path:
    path = tmp / "plant.yaml"
    path.write_text(plant_yaml(uid, site=uid, debounce=debounce))
    return path


def edge_node(
    broker_url: str, uid: str, host_id: str, tmp: Path, initial: dict[str, Any] | None = None
) -> EdgeNode:
    node = EdgeNode(
        uid,
        "line1",
        broker_url,
        primary_host_id=host_id,
        store_forward_path=tmp / "edge-sf.sqlite3",
        bdseq_path=tmp / "edge-bdseq",
        reconnect_delay=(1, 2),
    )
    values = {**INITIAL, **(initial or {})}
    node.add_device("cell1", [MetricDef(n, DataType[dt], values[n]) for n, dt in METRICS.items()])
    return node


class Watcher:
    """Subscribes to a site's namespace and keeps every message (topic, payload, retain)."""

    def __init__(self, port: int, topic: str) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_: self._ready.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self._ready.wait(10)

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

    def on(self, suffix: str) -> list[Any]:
        """JSON payloads of every message whose topic ends with suffix (empty payloads skipped)."""
        with self._lock:
            return [json.loads(p) for t, p, _ in self.messages if t.endswith(suffix) and p]

    def on_prefix(self, prefix: str) -> list[Any]:
        with self._lock:
            return [json.loads(p) for t, p, _ in self.messages if t.startswith(prefix) and p]

    def topics(self, contains: str) -> list[str]:
        with self._lock:
            return [t for t, _, _ in self.messages if contains in t]

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def wait_for(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
