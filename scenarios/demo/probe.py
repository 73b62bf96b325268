"""What the demo watches: the bridge's /metrics (Prometheus text), the retained `_bridge` and `_erp`
topics over MQTT, and Odoo's record counts over JSON-RPC."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from odoo_sync.client import OdooClient

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)")

ODOO_MODELS = {
    "production reports (MO)": ("mrp.production", [("qty_producing", ">", 0)]),
    "downtimes": ("mrp.workcenter.productivity", []),
    "scraps": ("stock.scrap", []),
    "maintenance requests": ("maintenance.request", []),
    "lots": ("stock.lot", []),
}


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text -> {'name' and 'name{labels}': value}; a bare name sums over its labels."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        m = _SAMPLE.match(line)
        if m is None or line.startswith("#"):
            continue
        name, labels, raw = m.group(1), m.group(2) or "", m.group(3)
        try:
            value = float(raw)
        except ValueError:
            continue
        out[name] = out.get(name, 0.0) + value
        if labels:
            out[name + labels] = value
    return out


def metrics(port: int, timeout: float = 1.0) -> dict[str, float]:
    """The bridge's /metrics, parsed; {} when it does not answer (yet)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as r:
            return parse_metrics(r.read().decode("utf-8", "replace"))
    except OSError:
        return {}


def labelled(m: dict[str, float], name: str, label: str) -> dict[str, float]:
    """{label value: sample} for one metric."""
    out: dict[str, float] = {}
    pattern = re.compile(rf'{label}="([^"]*)"')
    for key, value in m.items():
        if key.startswith(name + "{"):
            found = pattern.search(key)
            if found:
                out[found.group(1)] = out.get(found.group(1), 0.0) + value
    return out


class Namespace:
    """Keeps the latest retained payload of `<enterprise>/<site>/+/+/_erp/#` and `<...>/_bridge/#`."""

    def __init__(self, prefix: str, host: str, port: int, user: str | None, password: str | None) -> None:
        self.retained: dict[str, dict[str, Any]] = {}
        self.cleared: set[str] = set()
        self.devices_online: set[str] = set()
        self.last_birth = 0.0
        # Wall-ms intervals in which a device was dead (DDEATH/NDEATH to DBIRTH): nobody could see it.
        self.dead: dict[str, list[tuple[int, int]]] = {}
        self._dead_since: dict[str, int] = {}
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        if user:
            self.client.username_pw_set(user, password)
        topics = [
            (f"{prefix}/+/+/_erp/orders/#", 1),
            (f"{prefix}/+/+/_erp/holds/#", 1),
            (f"{prefix}/_bridge/#", 1),
            ("spBv1.0/+/DBIRTH/#", 0),
            ("spBv1.0/+/DDEATH/#", 0),
            ("spBv1.0/+/NDEATH/#", 0),
        ]
        self.client.on_connect = lambda c, *_: c.subscribe(topics)
        self.client.on_subscribe = lambda *_: self._ready.set()
        self.client.on_message = self._on_message
        self.client.connect_async(host, port)
        self.client.loop_start()

    def wait_ready(self, timeout: float) -> bool:
        return self._ready.wait(timeout)

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            if msg.topic.startswith("spBv1.0/"):
                _ns, _group, kind, node, *device = msg.topic.split("/")
                now = time.time_ns() // 1_000_000
                if kind == "DBIRTH":
                    name = f"{node}/{device[0]}"
                    self.devices_online.add(name)
                    self.last_birth = time.monotonic()
                    since = self._dead_since.pop(name, None)
                    if since is not None:
                        self.dead.setdefault(name, []).append((since, now))
                    return
                gone = (
                    {f"{node}/{device[0]}"}
                    if kind == "DDEATH"
                    else {d for d in self.devices_online if d.startswith(node + "/")}
                )
                for name in gone & self.devices_online:
                    self._dead_since[name] = now
                self.devices_online -= gone
                return
            if not msg.payload:
                self.retained.pop(msg.topic, None)
                self.cleared.add(msg.topic)
                return
            try:
                self.retained[msg.topic] = json.loads(msg.payload)
            except ValueError:
                return

    def under(self, part: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {t: p for t, p in self.retained.items() if part in t}

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def odoo_counts(client: OdooClient) -> dict[str, int]:
    return {label: client.search_count(model, domain) for label, (model, domain) in ODOO_MODELS.items()}
