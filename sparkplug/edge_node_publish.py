"""What an edge node sends, in order: seq, NBIRTH/DBIRTH, DATA or the buffer, the historical flush."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt

from sparkplug.edge_node_model import NodeModel, ndeath
from sparkplug.proto import pb
from sparkplug.state import now_ms
from sparkplug.store_forward import StoreForward

log = logging.getLogger("sparkplug.edge_node")


@dataclass(slots=True)
class EdgeNodeStats:
    """Counters of one edge node since it was created."""

    connects: int = 0
    messages_published: int = 0
    births_published: int = 0
    data_published: int = 0
    buffered: int = 0
    flushed: int = 0
    dropped: int = 0
    dropped_dead_device: int = 0
    rebirth_requests: int = 0
    host_offline_disconnects: int = 0
    pending: int = 0


class EdgePublisher:
    """Publishes for one edge node; every method is called with the node's lock held (RLock).

    `born`: NBIRTH and DBIRTHs are out in this MQTT session. `live`: born and the buffer is drained,
    so DATA goes straight out; until then DATA queues in the buffer behind what is already there.
    """

    def __init__(
        self,
        client: mqtt.Client,
        lock: threading.RLock,
        model: NodeModel,
        buffer: StoreForward,
        stats: EdgeNodeStats,
        group_id: str,
        edge_node_id: str,
        *,
        flush_batch: int,
        live_event: threading.Event,
    ) -> None:
        self._client = client
        self._lock = lock
        self._model = model
        self.buffer = buffer
        self._stats = stats
        self._prefix = f"spBv1.0/{group_id}"
        self._edge = edge_node_id
        self._flush_batch = flush_batch
        self._live_event = live_event
        self._flusher: threading.Thread | None = None
        self.seq = 0
        self.born = False
        self.live = False

    def reset(self) -> None:
        """The Sparkplug session is over (disconnect, stop, primary host offline)."""
        self.born = self.live = False
        self._live_event.clear()

    def join(self, timeout: float) -> None:
        if self._flusher is not None:
            self._flusher.join(timeout)

    # -- births and deaths ------------------------------------------------------------------------------

    def births(self, bdseq: int) -> None:
        """NBIRTH (seq 0) then every live device's DBIRTH; nothing else can interleave (lock held)."""
        self.seq = 0
        if self._send(f"{self._prefix}/NBIRTH/{self._edge}", self._model.nbirth(bdseq, now_ms())) is None:
            return
        self._stats.births_published += 1
        for device_id, dev in self._model.devices.items():
            if dev.alive:
                self.dbirth(device_id)
        self.born = True
        if len(self.buffer) == 0:
            self._go_live()
        elif self._flusher is None or not self._flusher.is_alive():
            self._flusher = threading.Thread(target=self._flush, name=f"sp-flush-{self._edge}", daemon=True)
            self._flusher.start()

    def dbirth(self, device_id: str) -> None:
        payload = self._model.dbirth(device_id, now_ms())
        if self._send(f"{self._prefix}/DBIRTH/{self._edge}/{device_id}", payload) is not None:
            self._stats.births_published += 1

    def ddeath(self, device_id: str) -> None:
        self._send(f"{self._prefix}/DDEATH/{self._edge}/{device_id}", pb.Payload(timestamp=now_ms()))

    def ndeath(self, bdseq: int) -> mqtt.MQTTMessageInfo:
        """An explicit NDEATH (QoS 1 like the will), before a deliberate disconnect."""
        payload = ndeath(bdseq, now_ms()).SerializeToString()
        return self._client.publish(f"{self._prefix}/NDEATH/{self._edge}", payload, qos=1, retain=False)

    # -- DATA -----------------------------------------------------------------------------------------

    def data(self, device_id: str | None, values: Mapping[str, Any], timestamp: int | None) -> None:
        t = now_ms()
        ts = t if timestamp is None else int(timestamp)
        payload = self._model.data(device_id, values, ts, t)
        if self.live and self._send(self._data_topic(device_id), payload) is not None:
            self._stats.data_published += 1
            return
        payload.ClearField("seq")
        self.buffer.append(device_id, ts, payload.SerializeToString())
        self._stats.buffered += 1

    def _data_topic(self, device_id: str | None) -> str:
        if device_id is None:
            return f"{self._prefix}/NDATA/{self._edge}"
        return f"{self._prefix}/DDATA/{self._edge}/{device_id}"

    def _send(self, topic: str, payload: pb.Payload) -> mqtt.MQTTMessageInfo | None:
        """Publish with the node's next seq, QoS 0, not retained; None when the client is not connected."""
        payload.seq = self.seq
        info = self._client.publish(topic, payload.SerializeToString(), qos=0, retain=False)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            log.info("edge node %s: publish to %s failed (rc=%s)", self._edge, topic, info.rc)
            return None
        self.seq = (self.seq + 1) % 256
        self._stats.messages_published += 1
        return info

    def _go_live(self) -> None:
        self.live = True
        self._live_event.set()

    # -- store-and-forward flush (a thread of its own, so NCMDs keep being read) ------------------------

    def _flush(self) -> None:
        """Send the buffer in order as historical DATA; new DATA queues behind it until it is empty."""
        while True:
            last: mqtt.MQTTMessageInfo | None = None
            sent_through: int | None = None
            with self._lock:
                rows = self.buffer.peek(self._flush_batch)
                if not self.born:
                    return
                if not rows:
                    self._go_live()
                    return
                for row in rows:
                    dev = self._model.devices.get(row.device_id) if row.device_id is not None else None
                    if row.device_id is not None and (dev is None or not dev.alive):
                        # DDATA after that device's DDEATH would only make hosts ask for a rebirth.
                        self._stats.dropped_dead_device += 1
                        sent_through = row.id
                        continue
                    payload = pb.Payload.FromString(row.payload)
                    for m in payload.metrics:
                        m.is_historical = True
                    last = self._send(self._data_topic(row.device_id), payload)
                    if last is None:
                        break
                    self._stats.flushed += 1
                    sent_through = row.id
            if last is not None:
                # Pace the flush by the socket, and keep the rows if they never left this process.
                with contextlib.suppress(RuntimeError, ValueError):
                    last.wait_for_publish(5.0)
                if last.rc != mqtt.MQTT_ERR_SUCCESS or not last.is_published():
                    return
            if sent_through is not None:
                self.buffer.remove_through(sent_through)
            if sent_through is None or sent_through != rows[-1].id:
                return  # the connection went away mid-batch: the rest waits for the next session
