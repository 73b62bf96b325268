"""The bridge's own MQTT client for the JSON namespace view: _raw mirror, _erp audit and status, _bridge."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from typing import Any

import paho.mqtt.client as mqtt

from sparkplug.mqtt_url import BrokerUrl, make_client, parse_broker_url
from uns_model.topics import Place, bridge_topic

log = logging.getLogger(__name__)


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


class UnsClient:
    """One paho session apart from the Sparkplug host's, with a retained will on `_bridge/status`.

    Publishing never blocks: paho queues the message. QoS 0 messages are dropped while the
    connection is down (the next value repairs a mirror topic); QoS 1 ones wait in paho's queue.
    """

    def __init__(self, broker: str | BrokerUrl, site: Place, host_id: str) -> None:
        self.broker = parse_broker_url(broker) if isinstance(broker, str) else broker
        self.status_topic = bridge_topic(site, "status")
        self.host_id = host_id
        self._connected = threading.Event()
        self.client = make_client(self.broker, None, prefix=f"uns-{host_id}"[:20])
        self.client.will_set(self.status_topic, dumps({"state": "offline", "host_id": host_id}), 1, True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.reconnect_delay_set(1, 10)
        # The mirror may publish bursts (a birth of thousands of tags): do not cap paho's queue.
        self.client.max_queued_messages_set(0)
        self.client.max_inflight_messages_set(100)

    def start(self) -> None:
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=30)
        self.client.loop_start()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> bool:
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    def stop(self, timeout: float = 5.0) -> None:
        """Say offline on purpose (retained), let queued messages out, disconnect."""
        if self._connected.is_set():
            info = self.client.publish(
                self.status_topic, dumps({"state": "offline", "host_id": self.host_id}), qos=1, retain=True
            )
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout)
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.warning("UNS publisher: connection refused: %s", reason)
            return
        client.publish(self.status_topic, dumps({"state": "online", "host_id": self.host_id}), 1, True)
        self._connected.set()
        log.info("UNS publisher connected to %s", self.broker.redacted())

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        self._connected.clear()
