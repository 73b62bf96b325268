"""A real MQTT publisher (the ErpPublisher's publish callable) and a subscriber that keeps what arrives."""

from __future__ import annotations

import threading
import time
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


class Publisher:
    def __init__(self, host: str, port: int) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
        self.client.connect(host, port)
        self.client.loop_start()

    def __call__(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        self.client.publish(topic, payload, qos=qos, retain=retain).wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Collector:
    """Subscribes to a filter; `retained_state()` is what a new subscriber would see now."""

    def __init__(self, host: str, port: int, topic_filter: str) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Condition()
        self.host, self.port, self.filter = host, port, topic_filter
        self.client = self._connect(self._on_message)

    def _connect(self, on_message: object) -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"sub-{uuid.uuid4().hex[:8]}")
        client.on_message = on_message  # type: ignore[assignment]
        subscribed = threading.Event()
        client.on_subscribe = lambda *a: subscribed.set()
        client.connect(self.host, self.port)
        client.loop_start()
        client.subscribe(self.filter, qos=1)
        subscribed.wait(10)
        return client

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))
            self._lock.notify_all()

    def wait_for(self, topic: str, timeout: float = 30.0) -> bytes:
        """The payload of the next message on `topic` (already received ones count)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for t, payload, _r in self.messages:
                    if t == topic:
                        return payload
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [m[0] for m in self.messages]
                    raise AssertionError(f"nothing on {topic} in {timeout} s; got {seen}")
                self._lock.wait(left)

    def retained_state(self) -> dict[str, bytes]:
        """Connect a fresh subscriber and return the retained messages it gets.

        A sentinel published after the subscription arrives after every retained message of it."""
        got: dict[str, bytes] = {}
        sentinel = "/".join("probe" if part == "+" else part for part in self.filter.split("/")[:-1])
        sentinel += f"/{uuid.uuid4().hex}"
        done = threading.Event()

        def keep(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
            if msg.topic == sentinel:
                done.set()
            elif msg.retain and msg.payload:
                got[msg.topic] = bytes(msg.payload)

        client = self._connect(keep)
        client.publish(sentinel, b"x", qos=1).wait_for_publish(10)
        done.wait(10)
        client.disconnect()
        client.loop_stop()
        return got

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
