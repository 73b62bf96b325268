"""A Sparkplug B 3.0 edge node over paho: bdSeq, births, seq, rebirth, primary host, store-and-forward."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from sparkplug.bdseq import BdSeqCounter
from sparkplug.codec import metric_value
from sparkplug.edge_node_model import REBIRTH, MetricDef, NodeModel, ndeath
from sparkplug.edge_node_publish import EdgeNodeStats, EdgePublisher
from sparkplug.errors import SparkplugError
from sparkplug.mqtt_url import BrokerUrl, make_client, parse_broker_url
from sparkplug.proto import pb
from sparkplug.state import HostState, now_ms, state_topic
from sparkplug.store_forward import StoreForward

log = logging.getLogger(__name__)

__all__ = ["CommandHandler", "EdgeNode", "EdgeNodeStats", "MetricDef"]

NS = "spBv1.0"
CommandHandler = Callable[[str | None, dict[str, Any]], None]


class EdgeNode:
    """One Sparkplug edge node and its devices, publishing through one MQTT session at a time.

    Thread-safe: every public method may be called from any thread. Network callbacks run on
    paho's thread; the store-and-forward flush runs on a thread of its own so that NCMDs keep
    being read while a large buffer drains.
    """

    def __init__(
        self,
        group_id: str,
        edge_node_id: str,
        broker: str | BrokerUrl,
        metrics: Iterable[MetricDef] = (),
        *,
        primary_host_id: str | None = None,
        store_forward_path: str | Path | None = None,
        store_forward_max: int = 100_000,
        bdseq_path: str | Path | None = None,
        on_command: CommandHandler | None = None,
        client_id: str | None = None,
        keepalive: int = 30,
        reconnect_delay: tuple[int, int] = (1, 10),
        flush_batch: int = 200,
    ) -> None:
        for what, value in (("group_id", group_id), ("edge_node_id", edge_node_id)):
            if not value or any(c in value for c in "+/#"):
                raise SparkplugError(f"invalid {what} {value!r}: must be non-empty without + / #")
        self.group_id = group_id
        self.edge_node_id = edge_node_id
        self.primary_host_id = primary_host_id
        self.broker = parse_broker_url(broker) if isinstance(broker, str) else broker
        self.on_command = on_command
        self._keepalive = keepalive
        self._lock = threading.RLock()
        self._model = NodeModel(metrics, now_ms())
        self._bdseq = BdSeqCounter(bdseq_path)
        self._stats = EdgeNodeStats()

        self._ncmd = f"{NS}/{group_id}/NCMD/{edge_node_id}"
        self._dcmd = f"{NS}/{group_id}/DCMD/{edge_node_id}/+"
        self._state_topic = state_topic(primary_host_id) if primary_host_id else None

        # Session state, guarded by _lock.
        self._offered_bdseq = 0  # in the will of the CONNECT being attempted
        self.session_bdseq: int | None = None  # of the accepted connection
        self._connected = False
        self._pending_subs: set[int] = set()
        self._subscribed = False
        self._host_online = primary_host_id is None
        self._last_state_ts: int | None = None  # of the last valid STATE of the primary host
        self._stopping = False

        self._connected_event = threading.Event()
        self._subscribed_event = threading.Event()
        self._live_event = threading.Event()
        self._restart = threading.Event()

        self._client = make_client(self.broker, client_id, prefix=f"en-{edge_node_id}")
        self._client.reconnect_delay_set(*reconnect_delay)
        self._client.on_pre_connect = self._on_pre_connect
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._supervisor: threading.Thread | None = None
        self._pub = EdgePublisher(
            self._client,
            self._lock,
            self._model,
            StoreForward(store_forward_path, max_messages=store_forward_max),
            self._stats,
            group_id,
            edge_node_id,
            flush_batch=flush_batch,
            live_event=self._live_event,
        )

    # -- public API ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background; births follow once subscribed (and the primary host is online)."""
        with self._lock:
            self._stopping = False
        self._client.connect_async(self.broker.host, self.broker.port, keepalive=self._keepalive)
        self._client.loop_start()
        self._supervisor = threading.Thread(
            target=self._supervise, name=f"sp-en-{self.edge_node_id}", daemon=True
        )
        self._supervisor.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Publish NDEATH, then disconnect cleanly.

        tck-id-operational-behavior-edge-node-intentional-disconnect-ndeath
        """
        with self._lock:
            self._stopping = True
            self._restart.set()
            info = (
                self._pub.ndeath(self.session_bdseq)
                if self._connected and self.session_bdseq is not None
                else None
            )
            self._pub.reset()
        if info is not None:
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout)
        self._client.disconnect()
        self._client.loop_stop()
        self._pub.join(timeout)
        if self._supervisor is not None:
            self._supervisor.join(timeout)
        self._pub.buffer.close()

    def wait_connected(self, timeout: float = 10.0) -> bool:
        return self._connected_event.wait(timeout)

    def wait_subscribed(self, timeout: float = 10.0) -> bool:
        """True once NCMD/DCMD (and the primary host's STATE) subscriptions are acknowledged."""
        return self._subscribed_event.wait(timeout)

    def wait_online(self, timeout: float = 10.0) -> bool:
        """True once births are out and the store-and-forward buffer is drained."""
        return self._live_event.wait(timeout)

    @property
    def is_online(self) -> bool:
        """Births out and buffer drained: DATA goes straight to the broker."""
        return self._pub.live

    @property
    def is_connected(self) -> bool:
        return self._connected

    def stats(self) -> dict[str, int]:
        with self._lock:
            self._stats.pending = len(self._pub.buffer)
            self._stats.dropped = self._pub.buffer.dropped
            return asdict(self._stats)

    def add_device(self, device_id: str, metrics: Iterable[MetricDef]) -> None:
        """Define a device (or redefine it); publishes its DBIRTH now if the node is born."""
        with self._lock:
            self._model.set_device(device_id, metrics, now_ms())
            if self._pub.born:
                self._pub.dbirth(device_id)

    def device_death(self, device_id: str) -> None:
        """The device stopped answering: DDEATH now (if born), and its DATA is refused until add_device."""
        with self._lock:
            dev = self._model.devices.get(device_id)
            if dev is None:
                raise SparkplugError(f"unknown device {device_id!r}")
            dev.alive = False
            if self._pub.born:
                self._pub.ddeath(device_id)

    def publish_node_data(self, values: Mapping[str, Any], timestamp: int | None = None) -> None:
        """NDATA now if online, else into the store-and-forward buffer; timestamp in ms UTC (default now)."""
        if values:
            with self._lock:
                self._pub.data(None, values, timestamp)

    def publish_device_data(
        self, device_id: str, values: Mapping[str, Any], timestamp: int | None = None
    ) -> None:
        """DDATA now if online, else into the store-and-forward buffer; timestamp in ms UTC (default now)."""
        if values:
            with self._lock:
                self._pub.data(device_id, values, timestamp)

    def rebirth(self) -> None:
        """Publish NBIRTH and every DBIRTH again with current values, same bdSeq, seq from 0."""
        with self._lock:
            if self._pub.born and self.session_bdseq is not None:
                self._pub.births(self.session_bdseq)

    # -- MQTT callbacks (paho thread) -----------------------------------------------------------------

    def _births(self) -> None:
        if self.session_bdseq is not None:
            self._pub.births(self.session_bdseq)

    def _on_pre_connect(self, client: mqtt.Client, userdata: Any) -> None:
        with self._lock:
            self._offered_bdseq = self._bdseq.next_value
            will = ndeath(self._offered_bdseq, now_ms()).SerializeToString()
        client.will_set(f"{NS}/{self.group_id}/NDEATH/{self.edge_node_id}", will, qos=1, retain=False)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.warning("edge node %s: connection refused: %s", self.edge_node_id, reason)
            return
        with self._lock:
            self.session_bdseq = self._offered_bdseq
            self._bdseq.advance(self._offered_bdseq)
            self._stats.connects += 1
            self._connected = True
            self._pub.reset()
            self._subscribed = False
            self._host_online = self.primary_host_id is None
            topics = [self._ncmd, self._dcmd] + ([self._state_topic] if self._state_topic else [])
            self._pending_subs = set()
            for topic in topics:
                rc, mid = client.subscribe(topic, qos=1)
                if rc == mqtt.MQTT_ERR_SUCCESS and mid is not None:
                    self._pending_subs.add(mid)
        self._connected_event.set()
        log.info("edge node %s/%s connected (bdSeq %s)", self.group_id, self.edge_node_id, self.session_bdseq)

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        with self._lock:
            self._pending_subs.discard(mid)
            if self._pending_subs or self._subscribed or not self._connected:
                return
            self._subscribed = True
            self._subscribed_event.set()
            if self._host_online and not self._pub.born:
                self._births()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        with self._lock:
            self._connected = self._subscribed = False
            self._pub.reset()
            self._connected_event.clear()
            self._subscribed_event.clear()
            self._live_event.clear()
        log.info("edge node %s disconnected: %s", self.edge_node_id, reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            if msg.topic == self._state_topic:
                self._on_state(bytes(msg.payload))
            elif msg.topic == self._ncmd:
                self._on_command(None, bytes(msg.payload))
            elif msg.topic.startswith(self._dcmd[:-1]):
                self._on_command(msg.topic.rsplit("/", 1)[1], bytes(msg.payload))
        except Exception:
            log.exception("edge node %s: error handling %s", self.edge_node_id, msg.topic)

    def _on_command(self, device_id: str | None, raw: bytes) -> None:
        try:
            payload = pb.Payload.FromString(raw)
        except Exception:
            log.warning(
                "edge node %s: unreadable command payload on %s", self.edge_node_id, device_id or "NCMD"
            )
            return
        with self._lock:
            try:
                slots = self._model.slots_for(device_id)
            except SparkplugError:
                slots = {}
            by_alias = {s.alias: s for s in slots.values()}
            values: dict[str, Any] = {}
            rebirth = False
            for m in payload.metrics:
                if device_id is None and m.name == REBIRTH:
                    rebirth = rebirth or (m.WhichOneof("value") == "boolean_value" and m.boolean_value)
                    continue
                slot = slots.get(m.name) if m.name else by_alias.get(m.alias)
                name = slot.name if slot else m.name
                if not name:
                    continue
                try:
                    values[name] = metric_value(
                        m, slot.datatype if slot is not None and not m.datatype else None
                    )
                except (ValueError, TypeError) as exc:
                    log.warning("edge node %s: command %s has a bad value: %s", self.edge_node_id, name, exc)
            if rebirth:
                self._stats.rebirth_requests += 1
                log.info("edge node %s: rebirth requested", self.edge_node_id)
                if self._pub.born:
                    self._births()
        if values and self.on_command is not None:
            self.on_command(device_id, values)

    def _on_state(self, raw: bytes) -> None:
        if not raw:
            return  # a retained STATE being cleared says nothing about the host
        try:
            state = HostState.from_bytes(raw)
        except SparkplugError:
            log.warning(
                "edge node %s: ignoring unreadable STATE of %s: %r",
                self.edge_node_id,
                self.primary_host_id,
                raw[:80],
            )
            return
        with self._lock:
            if self._last_state_ts is not None and state.timestamp < self._last_state_ts:
                # An older session's STATE (e.g. a late will) says nothing about the current host session.
                log.info(
                    "edge node %s: ignoring stale STATE (ts %d < %d)",
                    self.edge_node_id,
                    state.timestamp,
                    self._last_state_ts,
                )
                return
            self._last_state_ts = state.timestamp
            if state.online:
                self._host_online = True
                if self._subscribed and not self._pub.born:
                    self._births()
                return
            self._host_online = False
            if not self._pub.born:
                return  # not in a Sparkplug session: keep waiting, buffering
            # tck-id-message-flow-edge-node-birth-publish-phid-offline: NDEATH, disconnect, start over.
            log.warning(
                "edge node %s: primary host %s offline: NDEATH and reconnect",
                self.edge_node_id,
                self.primary_host_id,
            )
            self._stats.host_offline_disconnects += 1
            self._pub.reset()
            if self.session_bdseq is not None:
                self._pub.ndeath(self.session_bdseq)
            self._restart.set()

    def _supervise(self) -> None:
        """Restart the session after a deliberate disconnect (primary host offline); paho handles the rest."""
        while True:
            self._restart.wait()
            self._restart.clear()
            with self._lock:
                if self._stopping:
                    return
            self._client.disconnect()
            self._client.loop_stop()
            with self._lock:
                if self._stopping:
                    return
            self._client.connect_async(self.broker.host, self.broker.port, keepalive=self._keepalive)
            self._client.loop_start()

    # -- test support ---------------------------------------------------------------------------------

    def _kill_connection(self) -> None:
        """Drop the TCP connection without DISCONNECT, as a crash would; the broker then sends the will."""
        with self._lock:
            self._stopping = True
            self._restart.set()
        self._client.loop_stop()
        sock = self._client.socket()
        if sock is not None:
            sock.close()
        self._pub.buffer.close()
