"""A small waitable MQTT client for the broker tests: connect as a user, subscribe, publish, collect."""

from __future__ import annotations

import ssl
import threading
import time
import uuid
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

WAIT = 10.0  # a wait ends as soon as its event arrives; it never decides a test by elapsing


class Session:
    """One paho client; every call waits for the broker's answer (CONNACK, SUBACK, PUBACK)."""

    def __init__(
        self,
        port: int,
        user: str | None = None,
        password: str | None = None,
        *,
        v5: bool = False,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"t-{user}-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
        )
        if user is not None:
            self.client.username_pw_set(user, password)
        if tls is not None:
            self.client.tls_set_context(tls)
        self.port = port
        self.messages: list[tuple[str, bytes]] = []
        self.connack: Any = None
        self.pubacks: dict[int, Any] = {}
        self.subacks: dict[int, list[Any]] = {}
        self._cond = threading.Condition()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = self._on_subscribe
        self.disconnected = False

    def connect(self) -> Any:
        """The CONNACK reason code (raises ssl / OS errors as they come)."""
        self.client.connect("127.0.0.1", self.port, keepalive=30)
        self.client.loop_start()
        self._wait(lambda: self.connack is not None or self.disconnected, "CONNACK")
        return self.connack

    def subscribe(self, *topics: str) -> list[Any]:
        rc, mid = self.client.subscribe([(t, 1) for t in topics])
        assert rc == mqtt.MQTT_ERR_SUCCESS and mid is not None
        self._wait(lambda: mid in self.subacks, "SUBACK")
        return self.subacks[mid]

    def publish(self, topic: str, payload: bytes = b"x", *, retain: bool = False) -> Any:
        """QoS 1; the PUBACK's reason code (MQTT 5) or Success (3.1.1, where a denial is silent)."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        self._wait(lambda: info.mid in self.pubacks, "PUBACK")
        return self.pubacks[info.mid]

    def wait_for(self, topic: str) -> bytes:
        self._wait(lambda: any(t == topic for t, _ in self.messages), f"a message on {topic}")
        return next(p for t, p in self.messages if t == topic)

    def topics(self) -> list[str]:
        with self._cond:
            return [t for t, _ in self.messages]

    def forget(self) -> None:
        """Drop what arrived so far (e.g. retained messages delivered on subscribe)."""
        with self._cond:
            self.messages.clear()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _wait(self, done: Any, what: str) -> None:
        deadline = time.monotonic() + WAIT
        with self._cond:
            while not done():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {what} within {WAIT}s")
                self._cond.wait(left)

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _on_connect(self, c: mqtt.Client, u: Any, flags: Any, reason: Any, props: Any) -> None:
        with self._cond:
            self.connack = reason
            self._cond.notify_all()

    def _on_disconnect(self, c: mqtt.Client, u: Any, flags: Any, reason: Any, props: Any) -> None:
        with self._cond:
            self.disconnected = True
            self._cond.notify_all()

    def _on_message(self, c: mqtt.Client, u: Any, msg: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.messages.append((msg.topic, bytes(msg.payload)))
            self._cond.notify_all()

    def _on_publish(self, c: mqtt.Client, u: Any, mid: int, reason: Any, props: Any) -> None:
        with self._cond:
            self.pubacks[mid] = reason
            self._cond.notify_all()

    def _on_subscribe(self, c: mqtt.Client, u: Any, mid: int, reasons: Any, props: Any) -> None:
        with self._cond:
            self.subacks[mid] = list(reasons)
            self._cond.notify_all()
