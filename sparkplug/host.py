"""A Sparkplug B 3.0 Host Application over paho: STATE birth/death, ingest of births/data/deaths, rebirths."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import Any, Literal

import paho.mqtt.client as mqtt

from sparkplug.datatypes import DataType
from sparkplug.errors import SparkplugError
from sparkplug.host_columns import ColumnsHandler
from sparkplug.host_ingest import (
    BatchHandler,
    EventHandler,
    Ingest,
    Rejected,
    now_ms,
)
from sparkplug.host_registry import (
    DeviceBirth,
    DeviceDeath,
    HostDisconnected,
    LifecycleEvent,
    MetricInfo,
    MetricRegistry,
    NodeBirth,
    NodeDeath,
    NodeSession,
    RebirthRequested,
    UpdateBatch,
)
from sparkplug.mqtt_url import BrokerUrl, make_client, parse_broker_url
from sparkplug.proto import pb
from sparkplug.state import LEGACY_OFFLINE, LEGACY_ONLINE, HostState, legacy_state_topic, state_topic

log = logging.getLogger("sparkplug.host")

NS = "spBv1.0"
STATE_PREFIX = f"{NS}/STATE/"
REBIRTH = "Node Control/Rebirth"
Role = Literal["primary", "secondary_passive"]
RawRejectHandler = Callable[[str, bytes, str], None]

__all__ = [
    "DeviceBirth",
    "DeviceDeath",
    "HostApplication",
    "HostDisconnected",
    "LifecycleEvent",
    "MetricInfo",
    "MetricRegistry",
    "NodeBirth",
    "NodeDeath",
    "RebirthRequested",
    "Rejected",
    "Role",
    "UpdateBatch",
]


class HostApplication:
    """A Sparkplug Host Application: follows every edge node of its groups, hands values on in batches.

    `on_batch(UpdateBatch)` and `on_lifecycle(event)` run on paho's network thread, one call per
    received message, in arrival order: keep them quick (queue the work). A primary host publishes
    its STATE and may request rebirths; a secondary_passive host never publishes anything.

    Bad input (reasons: malformed, type_mismatch, unknown_datatype, oversized, bad_topic, and the
    protocol ones no_birth, unknown_device, unknown_alias) is counted in stats()["rejected"], logged
    once per edge node and reason, kept in `rejected` with its raw bytes and passed to
    `on_reject(topic, payload, reason)`; the stream goes on.

    `lenient=True` accepts what some peers get wrong: an integer value in the other integer field
    (int_value/long_value) or a Float/Double in the other float field; DATA/DBIRTH/DDEATH without
    seq (not seq-checked instead of a gap); an NDEATH without bdSeq, or with the bdSeq that follows
    the NBIRTH's (pysparkplug's clean disconnect), taken as the node's death instead of being
    ignored as a stale will.
    """

    def __init__(
        self,
        host_id: str,
        broker: str | BrokerUrl,
        *,
        groups: Iterable[str] | None = None,
        role: Role = "primary",
        on_batch: BatchHandler | None = None,
        on_lifecycle: EventHandler | None = None,
        on_reject: RawRejectHandler | None = None,
        on_columns: ColumnsHandler | None = None,
        reorder_timeout: float = 2.0,
        rebirth_min_interval: float = 5.0,
        request_rebirths: bool = True,
        lenient: bool = False,
        legacy_state: bool = False,
        max_payload_bytes: int = 16 * 1024 * 1024,
        rejected_ring: int = 1000,
        client_id: str | None = None,
        keepalive: int = 30,
        reconnect_delay: tuple[int, int] = (1, 10),
    ) -> None:
        if role not in ("primary", "secondary_passive"):
            raise SparkplugError(f"unknown host role {role!r}")
        self.host_id = host_id
        self.role: Role = role
        self.broker = parse_broker_url(broker) if isinstance(broker, str) else broker
        self.groups = list(groups) if groups else []
        for g in self.groups:
            if not g or any(c in g for c in "+/#"):
                raise SparkplugError(f"invalid Sparkplug group id {g!r}: must be non-empty without + / #")
        self.legacy_state = legacy_state
        self.rebirth_min_interval = rebirth_min_interval
        self.request_rebirths = request_rebirths and role == "primary"
        self._keepalive = keepalive
        self._state_topic = state_topic(host_id)
        self._on_lifecycle = on_lifecycle
        self._on_reject_raw = on_reject
        self._lock = threading.RLock()
        self._ingest = Ingest(
            on_batch=on_batch if on_batch is not None else _ignore_batch,
            on_event=self._deliver_event,
            on_rebirth=self._rebirth_for,
            on_reject=self._deliver_reject,
            reorder_timeout=reorder_timeout,
            lenient=lenient,
            max_payload_bytes=max_payload_bytes,
            rejected_ring=rejected_ring,
            on_columns=on_columns,
        )
        self._handle = self._ingest.handle  # bound once: called for every message
        self._session_ts: int | None = None  # the timestamp of this connection's will and birth
        self._pending_sub: int | None = None
        self._connected = False
        self._state_published = False
        self._stopping = False
        self._ready = threading.Event()
        self._tick_stop = threading.Event()
        self._ticker: threading.Thread | None = None

        self._client = make_client(self.broker, client_id, prefix=f"host-{host_id}")
        self._client.reconnect_delay_set(*reconnect_delay)
        self._client.on_pre_connect = self._on_pre_connect
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

    # -- public API ----------------------------------------------------------------------------------

    @property
    def registry(self) -> MetricRegistry:
        """Every metric ever born, by handle (MetricInfo)."""
        return self._ingest.registry

    @property
    def rejected(self) -> deque[Rejected]:
        """The most recent rejected messages with their raw bytes (bounded)."""
        return self._ingest.rejected

    @property
    def nodes(self) -> dict[tuple[str, str], NodeSession]:
        return self._ingest.nodes

    @property
    def session_timestamp(self) -> int | None:
        return self._session_ts

    def subscriptions(self) -> list[str]:
        if not self.groups:
            return [f"{NS}/#"]
        return [f"{NS}/{g}/#" for g in self.groups]

    def start(self) -> None:
        self._stopping = False
        self._client.connect_async(self.broker.host, self.broker.port, keepalive=self._keepalive)
        self._client.loop_start()
        self._tick_stop.clear()
        self._ticker = threading.Thread(target=self._tick, name=f"sp-host-{self.host_id}", daemon=True)
        self._ticker.start()

    def wait_ready(self, timeout: float = 10.0) -> bool:
        """True once subscribed and (for a primary host) the STATE birth is published."""
        return self._ready.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Publish STATE offline (primary), then disconnect cleanly."""
        with self._lock:
            self._stopping = True
            infos = []
            if self.role == "primary" and self._connected:
                death = HostState(online=False, timestamp=now_ms()).to_bytes()
                infos.append(self._client.publish(self._state_topic, death, qos=1, retain=True))
                if self.legacy_state:
                    topic = legacy_state_topic(self.host_id)
                    infos.append(self._client.publish(topic, LEGACY_OFFLINE, qos=1, retain=True))
        for info in infos:
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout)
        self._client.disconnect()
        self._client.loop_stop()
        self._tick_stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout)
        self._ready.clear()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            snap = asdict(self._ingest.stats)
            snap["nodes_online"] = sum(1 for n in self._ingest.nodes.values() if n.online)
            snap["metrics_known"] = len(self._ingest.registry)
            snap["connected"] = self._connected
            return snap

    def request_rebirth(self, group_id: str, edge_node_id: str, reason: str = "requested") -> bool:
        """Ask an edge node for a rebirth (throttled per node); False if not sent."""
        with self._lock:
            node = self._ingest.nodes.get((group_id, edge_node_id))
            if node is None:
                node = self._ingest.nodes[(group_id, edge_node_id)] = NodeSession(group_id, edge_node_id)
            return self._rebirth_for(node, reason)

    # -- delivery --------------------------------------------------------------------------------------

    @property
    def columnar(self) -> bool:
        """True when plain DATA goes to on_columns (a consumer was given and numba is there)."""
        return self._ingest.columns is not None

    def flush_columns(self) -> None:
        """Hand the DATA read into columns so far to on_columns now. A consumer calls this before it
        looks at its queue; the host also hands over before any other callback, and on its own when
        a run grows large."""
        if self._ingest.columns is not None:
            with self._lock:
                self._ingest.flush_columns()

    def _deliver_event(self, event: LifecycleEvent) -> None:
        self.flush_columns()  # some events come from outside the ingest (rebirth requests, loss)
        if self._on_lifecycle is not None:
            try:
                self._on_lifecycle(event)
            except Exception:
                log.exception("on_lifecycle callback failed")

    def _deliver_reject(self, record: Rejected) -> None:
        if self._on_reject_raw is not None:
            self._on_reject_raw(record.topic, record.payload, record.reason)

    def _rebirth_for(self, node: NodeSession, reason: str) -> bool:
        """The rebirth request: NCMD with `Node Control/Rebirth` = true by name, QoS 0, no seq."""
        if not self.request_rebirths or not self._connected:
            return False
        now = time.monotonic()
        stats = self._ingest.stats
        if now - node.last_rebirth_request < self.rebirth_min_interval:
            stats.rebirths_throttled += 1
            return False
        node.last_rebirth_request = now
        ts = now_ms()
        payload = pb.Payload(timestamp=ts)
        m = payload.metrics.add(name=REBIRTH, timestamp=ts, datatype=DataType.Boolean)
        m.boolean_value = True
        topic = f"{NS}/{node.group_id}/NCMD/{node.edge_node_id}"
        self._client.publish(topic, payload.SerializeToString(), qos=0, retain=False)
        stats.rebirths_requested += 1
        log.info("rebirth requested from %s/%s (%s)", node.group_id, node.edge_node_id, reason)
        self._deliver_event(RebirthRequested(node.group_id, node.edge_node_id, reason, ts))
        return True

    def _tick(self) -> None:
        period = max(0.05, min(0.5, self._ingest.reorder_timeout / 4 or 0.5))
        while not self._tick_stop.wait(period):
            if self._ingest.pending_reorder:
                with self._lock:
                    self._ingest.check_reorder()

    # -- MQTT callbacks (paho thread) --------------------------------------------------------------------

    def _on_pre_connect(self, client: mqtt.Client, userdata: Any) -> None:
        if self.role != "primary":
            return
        # Will and birth of one connection carry the same timestamp
        # (tck-id-host-topic-phid-birth-payload-timestamp).
        self._session_ts = now_ms()
        will = HostState(online=False, timestamp=self._session_ts).to_bytes()
        client.will_set(self._state_topic, will, qos=1, retain=True)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.warning("host %s: connection refused: %s", self.host_id, reason)
            return
        with self._lock:
            self._connected = True
            self._state_published = False
            topics = [(t, 1) for t in self.subscriptions()]
            if self.role == "primary":
                topics.insert(0, (self._state_topic, 1))
            rc, mid = client.subscribe(topics)
            self._pending_sub = mid if rc == mqtt.MQTT_ERR_SUCCESS else None
        log.info("host %s connected to %s", self.host_id, self.broker.redacted())

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        with self._lock:
            if mid != self._pending_sub:
                return
            self._pending_sub = None
            if any(getattr(r, "is_failure", False) for r in reasons):
                log.error("host %s: broker refused a subscription: %s", self.host_id, reasons)
            if self.role == "primary":
                self._publish_birth()
        self._ready.set()

    def _publish_birth(self) -> None:
        assert self._session_ts is not None
        birth = HostState(online=True, timestamp=self._session_ts).to_bytes()
        self._client.publish(self._state_topic, birth, qos=1, retain=True)
        if self.legacy_state:
            self._client.publish(legacy_state_topic(self.host_id), LEGACY_ONLINE, qos=1, retain=True)
        self._state_published = True

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        self._ready.clear()
        with self._lock:
            self._connected = False
            self._state_published = False
            stale = self._ingest.connection_lost()
        if stale:
            self._deliver_event(HostDisconnected(now_ms(), stale))
        if not self._stopping:
            log.warning("host %s lost the broker (%s): reconnecting", self.host_id, reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        topic = msg.topic
        if topic.startswith(STATE_PREFIX) and topic.count("/") == 2:
            if topic == self._state_topic and self.role == "primary":
                self._on_own_state(bytes(msg.payload))
            return
        with self._lock:
            try:
                self._handle(topic, msg.payload)  # type: ignore[arg-type]
            except Exception as exc:  # a bug must not stop the stream: keep the message and go on
                log.exception("host %s: error on %s", self.host_id, topic)
                self._ingest.reject(topic, bytes(msg.payload), "internal_error", repr(exc), topic)

    def _on_own_state(self, raw: bytes) -> None:
        try:
            state = HostState.from_bytes(raw)
        except SparkplugError:
            log.warning("host %s: unreadable STATE on its own topic: %r", self.host_id, raw[:80])
            return
        with self._lock:
            if state.online or not self._state_published or self._stopping:
                return
            if self._session_ts is not None and state.timestamp > self._session_ts:
                log.warning(
                    "host %s: an offline STATE newer than this session: another host with this id?",
                    self.host_id,
                )
            # tck-id-message-flow-hid-sparkplug-state-message-delivered: say online again, same timestamp.
            self._ingest.stats.state_republished += 1
            self._publish_birth()

    # -- test support ----------------------------------------------------------------------------------

    def _kill_connection(self) -> None:
        """Drop the TCP connection without DISCONNECT, as a crash would; the broker then sends the will."""
        self._stopping = True
        self._client.loop_stop()
        sock = self._client.socket()
        if sock is not None:
            sock.close()
        self._tick_stop.set()


def _ignore_batch(batch: UpdateBatch) -> None:
    """The default consumer: values are dropped (lifecycle events and stats are still kept)."""
