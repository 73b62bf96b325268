"""Raw paho peers for conformance tests: an observer that records exactly what crosses the broker."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from sparkplug.proto import pb

WAIT = 10.0  # generous: a wait only ends early, it never decides a test by elapsing


@dataclass(frozen=True)
class Seen:
    index: int
    topic: str
    qos: int
    retain: bool
    payload: bytes

    @property
    def kind(self) -> str:
        parts = self.topic.split("/")
        return parts[2] if len(parts) > 3 else parts[1]

    def pb(self) -> Any:
        return pb.Payload.FromString(self.payload)

    def json(self) -> Any:
        return json.loads(self.payload)


class Wire:
    """A plain MQTT 3.1.1 client subscribed at QoS 1, so a message arrives with the QoS it was sent with."""

    def __init__(
        self, host: str, port: int, topics: tuple[str, ...] = ("spBv1.0/#",), client_id: str = ""
    ) -> None:
        self.client_id = client_id or f"wire-{uuid.uuid4().hex[:8]}"
        self.messages: list[Seen] = []
        self._cond = threading.Condition()
        self._topics = topics
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv311
        )
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(host, port)
        self.client.loop_start()
        assert self._subscribed.wait(WAIT), "observer could not subscribe"

    def _on_connect(self, client: mqtt.Client, *args: Any) -> None:
        client.subscribe([(t, 1) for t in self._topics])

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.messages.append(
                Seen(len(self.messages), msg.topic, msg.qos, bool(msg.retain), bytes(msg.payload))
            )
            self._cond.notify_all()

    def wait_for(self, pred: Callable[[Seen], bool], *, after: int = -1, timeout: float = WAIT) -> Seen:
        """The first message with index > after that matches; fails the test if none comes in time."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for m in self.messages[after + 1 :]:
                    if pred(m):
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(m.index, m.topic) for m in self.messages[-15:]]
                    raise AssertionError(f"no matching message within {timeout}s; last seen: {seen}")
                self._cond.wait(left)

    def wait_topic(self, topic: str, *, after: int = -1, timeout: float = WAIT) -> Seen:
        return self.wait_for(lambda m: m.topic == topic, after=after, timeout=timeout)

    def since(self, index: int) -> list[Seen]:
        with self._cond:
            return list(self.messages[index + 1 :])

    def last_index(self) -> int:
        with self._cond:
            return len(self.messages) - 1

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(WAIT)

    def barrier(self) -> Seen:
        """Publish a marker to ourselves and wait for it: everything the broker sent before has arrived."""
        topic = f"spBv1.0/STATE/barrier-{uuid.uuid4().hex[:8]}"
        self.publish(topic, b"{}", qos=1)
        return self.wait_topic(topic)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def state_payload(online: bool, timestamp: int) -> bytes:
    return json.dumps({"online": online, "timestamp": timestamp}).encode()


def metrics_by_name(payload: Any) -> dict[str, Any]:
    return {m.name: m for m in payload.metrics}


def retained(host: str, port: int, topic: str) -> list[Seen]:
    """What a fresh subscriber to `topic` is sent as retained (a barrier marks the end of them)."""
    marker = f"spBv1.0/STATE/retained-probe-{uuid.uuid4().hex[:8]}"
    w = Wire(host, port, topics=(topic, marker))
    try:
        w.publish(marker, b"{}")
        end = w.wait_topic(marker)
        return [m for m in w.messages[: end.index] if m.retain and m.topic != marker]
    finally:
        w.close()


class Collector:
    """Whatever a HostApplication hands on (batches, lifecycle events, rejects), waitable."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._cond = threading.Condition()

    def __call__(self, *item: Any) -> None:
        with self._cond:
            self.items.append(item[0] if len(item) == 1 else item)
            self._cond.notify_all()

    def wait_for(self, pred: Callable[[Any], bool], *, timeout: float = WAIT) -> Any:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for it in self.items:
                    if pred(it):
                        return it
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"nothing matching within {timeout}s; have {self.items[-10:]}")
                self._cond.wait(left)

    def of(self, kind: type) -> list[Any]:
        with self._cond:
            return [it for it in self.items if isinstance(it, kind)]


def sp(seq: int | None, *metrics: Any, timestamp: int | None = None) -> bytes:
    """A Sparkplug payload from (name, alias, datatype, value) tuples; name/alias None to leave out."""
    p = pb.Payload(timestamp=timestamp if timestamp is not None else int(time.time() * 1000))
    if seq is not None:
        p.seq = seq
    for name, alias, datatype, value in metrics:
        m = p.metrics.add()
        if name is not None:
            m.name = name
        if alias is not None:
            m.alias = alias
        if datatype is not None:
            m.datatype = int(datatype)
        if value is None:
            m.is_null = True
        elif isinstance(value, bool):
            m.boolean_value = value
        elif isinstance(value, float):
            m.double_value = value
        elif isinstance(value, str):
            m.string_value = value
        elif int(datatype or 0) in (4, 8, 13):
            m.long_value = value & 0xFFFFFFFFFFFFFFFF
        else:
            m.int_value = value & 0xFFFFFFFF
    return p.SerializeToString()
