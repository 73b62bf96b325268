"""A plain paho subscriber that keeps every raw message of a topic filter (bytes, QoS, retain flag)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


@dataclass(frozen=True, slots=True)
class Captured:
    topic: str
    payload: bytes
    qos: int
    retain: bool


class Capture:
    """Subscribes (QoS 1, so the publisher's QoS shows through) and records what arrives, in order."""

    def __init__(self, host: str, port: int, topic: str) -> None:
        self.messages: list[Captured] = []
        self._cond = threading.Condition()
        self._subscribed = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"capture-{id(self)}")
        self._client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_message = self._on_message
        self._client.connect(host, port)
        self._client.loop_start()
        assert self._subscribed.wait(10), "capture subscriber got no SUBACK"

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.messages.append(Captured(msg.topic, bytes(msg.payload), msg.qos, bool(msg.retain)))
            self._cond.notify_all()

    def wait_for(self, topic_part: str, count: int = 1, timeout: float = 10) -> list[Captured]:
        """The messages whose topic contains topic_part once there are `count` of them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [m for m in self.messages if topic_part in m.topic]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                assert left > 0, (
                    f"no {count} x {topic_part} in {timeout}s: {[m.topic for m in self.messages]}"
                )
                self._cond.wait(left)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
