"""The pieces every ingest figure shares: the flood publisher process and the bare paho ceiling."""

from __future__ import annotations

import multiprocessing as mp
import threading
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from typing import cast

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench.publisher import flood
from sparkplug.proto import pb


def start_publisher(port: int, group: str, count: int) -> tuple[BaseProcess, Event, Event]:
    """The flood in its own process; it sends once `go` is set and sets `done` when all is written."""
    ctx = mp.get_context("spawn")
    go, done = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=flood, args=(port, group, "edge1", "cell1", count, go, done), daemon=True)
    proc.start()
    return proc, go, done


def bare_subscriber(port: int, group: str, add: Callable[[int], None]) -> tuple[mqtt.Client, threading.Event]:
    """The ceiling: a paho 2.x client whose on_message only parses the protobuf and counts DDATA metrics.

    One definition for every figure, so that the host's and the bridge's ratios share one baseline.
    Returns the running client and an event set at its SUBACK.
    """
    subscribed = threading.Event()

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        p = pb.Payload.FromString(cast(bytes, msg.payload))
        if "/DDATA/" in msg.topic:
            add(len(p.metrics))

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bare-{group}", protocol=mqtt.MQTTv311)
    client.on_connect = lambda c, *_: c.subscribe(f"spBv1.0/{group}/#", qos=1)
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client, subscribed
