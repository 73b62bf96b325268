"""A passive Sparkplug listener: decodes live traffic, resolving aliases to names from the births it sees."""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

from sparkplug.codec import DEFAULT_MAX_SIZE, decode_payload
from sparkplug.datatypes import DataType
from sparkplug.errors import SparkplugDecodeError, SparkplugError
from sparkplug.json_view import metric_to_jsonable
from sparkplug.mqtt_url import make_client, parse_broker_url

NS = "spBv1.0"
_Key = tuple[str, str, str | None]


class Listener:
    """Subscribes only: no will, no STATE, no commands. Views are plain dicts ready for JSON."""

    def __init__(
        self, broker: str, *, groups: list[str] | None = None, max_size: int = DEFAULT_MAX_SIZE
    ) -> None:
        self.broker = parse_broker_url(broker)
        self.groups = groups or []
        self.max_size = max_size
        self._aliases: dict[_Key, dict[int, tuple[str, DataType]]] = {}
        self._types: dict[_Key, dict[Any, DataType]] = {}
        self._inbox: queue.Queue[tuple[str, bytes] | BaseException] = queue.Queue()

    def topics(self) -> list[str]:
        if not self.groups:
            return [f"{NS}/#"]
        return [f"{NS}/{g}/#" for g in self.groups] + [f"{NS}/STATE/+"]

    def run(self, show: Callable[[dict[str, Any]], None], *, count: int | None, seconds: float | None) -> int:
        """Print until count messages or seconds have passed (or forever); returns how many were shown."""
        client = make_client(self.broker, prefix="uns-listen")
        client.on_connect = self._on_connect
        client.on_message = lambda _c, _u, msg: self._inbox.put((msg.topic, bytes(msg.payload)))
        client.connect(self.broker.host, self.broker.port)
        client.loop_start()
        deadline = None if seconds is None else time.monotonic() + seconds
        shown = 0
        try:
            while count is None or shown < count:
                wait = 0.5 if deadline is None else deadline - time.monotonic()
                if wait <= 0:
                    break
                try:
                    item = self._inbox.get(timeout=min(wait, 0.5))
                except queue.Empty:
                    continue
                if isinstance(item, BaseException):
                    raise item
                show(self.view(*item))
                shown += 1
        finally:
            client.disconnect()
            client.loop_stop()
        return shown

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            self._inbox.put(SparkplugError(f"broker refused the connection: {reason}"))
            return
        client.subscribe([(t, 0) for t in self.topics()])

    # -- decoding -----------------------------------------------------------------------------------

    def view(self, topic: str, raw: bytes) -> dict[str, Any]:
        parts = topic.split("/")
        out: dict[str, Any] = {"topic": topic}
        if len(parts) == 3 and parts[1] == "STATE":
            out.update(type="STATE", host_id=parts[2])
            try:
                out["state"] = json.loads(raw.decode("utf-8")) if raw else None
            except (UnicodeDecodeError, json.JSONDecodeError):
                out.update(error="malformed", detail="STATE payload is not UTF-8 JSON", bytes=len(raw))
            return out
        if len(parts) not in (4, 5) or not all(parts):
            out.update(type="?", error="bad_topic", bytes=len(raw))
            return out
        mt = parts[2]
        key: _Key = (parts[1], parts[3], parts[4] if len(parts) == 5 else None)
        out.update(type=mt, group_id=key[0], edge_node_id=key[1])
        if key[2] is not None:
            out["device_id"] = key[2]
        try:
            payload = decode_payload(raw, max_size=self.max_size, datatypes=self._types.get(key))
        except SparkplugDecodeError as exc:
            out.update(error=exc.reason, detail=str(exc), bytes=len(raw))
            return out
        if payload.seq is not None:
            out["seq"] = payload.seq
        if payload.timestamp is not None:
            out["timestamp"] = payload.timestamp
        if mt in ("NBIRTH", "DBIRTH"):
            self._learn(key, payload.metrics)
        aliases = self._aliases.get(key, {})
        metrics = []
        for m in payload.metrics:
            view = metric_to_jsonable(m)
            if m.name is None and m.alias is not None and m.alias in aliases:
                view = {"name": aliases[m.alias][0], **view}
            metrics.append(view)
        out["metrics"] = metrics
        return out

    def _learn(self, key: _Key, metrics: list[Any]) -> None:
        if key[2] is None:
            # A new NBIRTH starts a new session: the devices' births must come again.
            for k in [k for k in self._aliases if k[:2] == key[:2]]:
                del self._aliases[k]
                self._types.pop(k, None)
        aliases: dict[int, tuple[str, DataType]] = {}
        types: dict[Any, DataType] = {}
        for m in metrics:
            if m.name is None:
                continue
            types[m.name] = m.datatype
            if m.alias is not None:
                aliases[m.alias] = (m.name, m.datatype)
                types[m.alias] = m.datatype
        self._aliases[key] = aliases
        self._types[key] = types

    @staticmethod
    def format_text(view: dict[str, Any]) -> str:
        """One line: time, type, source, seq, then name=value pairs (or the error)."""
        stamp = time.strftime("%H:%M:%S")
        if view.get("type") == "STATE":
            body = json.dumps(view.get("state")) if "state" in view else f"error={view.get('error')}"
            return f"{stamp} STATE {view['host_id']} {body}"
        source = "/".join(str(view[k]) for k in ("group_id", "edge_node_id", "device_id") if k in view)
        head = f"{stamp} {view.get('type', '?'):6} {source or view['topic']}"
        if "seq" in view:
            head += f" seq={view['seq']}"
        if "error" in view:
            return f"{head} error={view['error']} ({view.get('detail', '')})"
        pairs = []
        for m in view.get("metrics", []):
            label = m.get("name") or f"alias:{m.get('alias')}"
            flag = " (historical)" if m.get("is_historical") else ""
            pairs.append(f"{label}={json.dumps(m.get('value'), ensure_ascii=False)}{flag}")
        return f"{head} " + ", ".join(pairs) if pairs else head
