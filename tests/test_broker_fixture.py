"""The broker fixture itself: a real Mosquitto that carries messages, survives restart with retained."""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tests.support.mosquitto import Mosquitto


def _roundtrip(b: Mosquitto, topic: str, *, publish: bytes | None, retain: bool = False) -> bytes | None:
    got: list[bytes] = []
    ev = threading.Event()
    c = mqtt.Client(CallbackAPIVersion.VERSION2)

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        got.append(bytes(msg.payload))
        ev.set()

    c.on_message = on_message
    c.connect(b.host, b.port)
    c.loop_start()
    c.subscribe(topic, qos=1)
    if publish is not None:
        c.publish(topic, publish, qos=1, retain=retain).wait_for_publish(5)
    ev.wait(5)
    c.loop_stop()
    c.disconnect()
    return got[0] if got else None


def test_derived_config_keeps_product_queue_sizing(broker: Mosquitto) -> None:
    conf = (broker.workdir / "mosquitto.conf").read_text()
    assert "max_queued_messages 200000" in conf
    assert f"listener {broker.port} 127.0.0.1" in conf


def test_publish_and_receive(broker: Mosquitto, uid: str) -> None:
    assert _roundtrip(broker, f"test/{uid}", publish=b"hello") == b"hello"


def test_retained_message_survives_restart(own_broker: Mosquitto, uid: str) -> None:
    topic = f"test/{uid}/retained"
    assert _roundtrip(own_broker, topic, publish=b"kept", retain=True) == b"kept"
    own_broker.restart()
    assert _roundtrip(own_broker, topic, publish=None) == b"kept"
