"""Births and deaths applied to a host's node and device sessions; the ingest's records and counters."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sparkplug.codec import metric_value
from sparkplug.errors import SparkplugDecodeError
from sparkplug.host_births import read_birth
from sparkplug.host_registry import (
    DeviceBirth,
    DeviceDeath,
    DeviceSession,
    LifecycleEvent,
    MetricRegistry,
    MetricScope,
    NodeBirth,
    NodeDeath,
    NodeSession,
    UpdateBatch,
)

log = logging.getLogger("sparkplug.host")


class Rejected(NamedTuple):
    """A message the host could not take (whole or in part), kept with its raw bytes."""

    topic: str
    payload: bytes
    reason: str
    timestamp_ms: int
    detail: str


@dataclass(slots=True)
class HostStats:
    messages_in: int = 0
    metrics_in: int = 0
    batches: int = 0
    nbirths: int = 0
    dbirths: int = 0
    ndeaths: int = 0
    ddeaths: int = 0
    stale_wills_ignored: int = 0
    seq_gaps: int = 0
    seq_reordered: int = 0
    rebirths_requested: int = 0
    rebirths_throttled: int = 0
    commands_seen: int = 0
    state_republished: int = 0
    data_compiled: int = 0  # DATA messages read by the compiled reader (columnar mode)
    data_reader_errors: int = 0  # compiled reader failures (bugs); each such message read in Python
    rejected: dict[str, int] = field(default_factory=dict)


BatchHandler = Callable[[UpdateBatch], None]
EventHandler = Callable[[LifecycleEvent], None]
RebirthHandler = Callable[[NodeSession, str], object]
RejectHandler = Callable[[Rejected], None]


_time_ns = time.time_ns


def now_ms() -> int:
    return _time_ns() // 1_000_000


class SessionLifecycle:
    """NBIRTH, DBIRTH, NDEATH and DDEATH: the half of the Ingest that opens and closes sessions.

    The Ingest provides the state and the hooks declared here.
    """

    nodes: dict[tuple[str, str], NodeSession]
    registry: MetricRegistry
    stats: HostStats
    lenient: bool
    pending_reorder: dict[tuple[str, str], NodeSession]
    _emit: EventHandler

    def _deliver(self, batch: UpdateBatch) -> None:
        raise NotImplementedError

    def reject(self, topic: str, raw: bytes, reason: str, detail: str, source: str) -> None:
        raise NotImplementedError

    def _log_once(self, source: str, reason: str, detail: str) -> None:
        raise NotImplementedError

    def _nbirth(self, key: tuple[str, str], payload: Any, topic: str, raw: bytes, source: str) -> None:
        node = self.nodes.get(key)
        received = now_ms()
        ts = payload.timestamp or received
        if node is None:
            node = self.nodes[key] = NodeSession(*key)
        for dev in node.devices.values():
            # A new NBIRTH opens a new session: devices are STALE until their new DBIRTH.
            if dev.online:
                dev.online = False
                self._emit(
                    DeviceDeath(node.group_id, node.edge_node_id, dev.device_id, ts, list(dev.scope.handles))
                )
        node.scope = MetricScope()
        node.bdseq = None
        node.seq.reset(payload.seq if payload.HasField("seq") else 0)
        self.pending_reorder.pop((node.group_id, node.edge_node_id), None)
        if payload.HasField("seq") and payload.seq != 0:
            self._log_once(source, "nbirth_seq", f"NBIRTH with seq {payload.seq} (spec: 0)")
        batch = self._birth(node, None, node.scope, "NBIRTH", payload, topic, raw, source, received)
        for m in payload.metrics:
            if m.name == "bdSeq":
                try:
                    value = metric_value(m)
                except SparkplugDecodeError:
                    value = None
                node.bdseq = value if isinstance(value, int) else None
        if node.bdseq is None:
            self._log_once(source, "nbirth_bdseq", "NBIRTH without an integer bdSeq metric")
        node.online = True
        node.birth_ms = ts
        self.stats.nbirths += 1
        infos = [self.registry[h] for h in node.scope.handles]
        self._emit(NodeBirth(node.group_id, node.edge_node_id, node.bdseq, ts, infos))
        if batch.handles:
            self.stats.metrics_in += len(batch.handles)
            self.stats.batches += 1
            self._deliver(batch)

    def _dbirth(
        self, node: NodeSession, device_id: str, payload: Any, topic: str, raw: bytes, source: str
    ) -> None:
        received = now_ms()
        ts = payload.timestamp or received
        dev = node.devices.get(device_id)
        if dev is None:
            dev = node.devices[device_id] = DeviceSession(device_id)
        dev.scope = MetricScope()
        batch = self._birth(node, device_id, dev.scope, "DBIRTH", payload, topic, raw, source, received)
        dev.online = True
        self.stats.dbirths += 1
        infos = [self.registry[h] for h in dev.scope.handles]
        self._emit(DeviceBirth(node.group_id, node.edge_node_id, device_id, ts, infos))
        if batch.handles:
            self.stats.metrics_in += len(batch.handles)
            self.stats.batches += 1
            self._deliver(batch)

    def _birth(
        self,
        node: NodeSession,
        device_id: str | None,
        scope: MetricScope,
        mt: str,
        payload: Any,
        topic: str,
        raw: bytes,
        source: str,
        received: int,
    ) -> UpdateBatch:
        batch, problems = read_birth(
            self.registry, node, device_id, scope, mt, payload, received, self.lenient
        )
        for reason, detail in problems.items():
            self.reject(topic, raw, reason, detail, source)
        return batch

    def _ndeath(self, node: NodeSession, payload: Any, topic: str, raw: bytes, source: str) -> None:
        bdseq = None
        for m in payload.metrics:
            if m.name == "bdSeq":
                try:
                    value = metric_value(m)
                except SparkplugDecodeError:
                    value = None
                bdseq = value if isinstance(value, int) else None
        if not node.online:
            self.stats.stale_wills_ignored += 1
            return
        if bdseq is not None and node.bdseq is not None:
            matches = bdseq == node.bdseq
            # pysparkplug's clean disconnect sends the bdSeq of its *next* session; a will of a
            # session that has not been born yet cannot be on the wire, so lenient mode takes it.
            matches = matches or (self.lenient and bdseq == (node.bdseq + 1) % 256)
        else:
            matches = self.lenient
        if not matches:
            # A will of an older connection, delivered late: this session is still alive.
            self.stats.stale_wills_ignored += 1
            self._log_once(
                source, "stale_ndeath", f"NDEATH bdSeq {bdseq} does not match NBIRTH bdSeq {node.bdseq}"
            )
            return
        received = now_ms()
        stale = node.all_handles()
        node.online = False
        node.death_ms = received
        for dev in node.devices.values():
            dev.online = False
        self.pending_reorder.pop((node.group_id, node.edge_node_id), None)
        self.stats.ndeaths += 1
        self._emit(NodeDeath(node.group_id, node.edge_node_id, bdseq, received, stale))

    def _ddeath(self, node: NodeSession, dev: DeviceSession, payload: Any) -> None:
        dev.online = False
        self.stats.ddeaths += 1
        ts = payload.timestamp or now_ms()
        self._emit(DeviceDeath(node.group_id, node.edge_node_id, dev.device_id, ts, list(dev.scope.handles)))
