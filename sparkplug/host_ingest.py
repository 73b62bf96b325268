"""The host's reading of Sparkplug traffic: dispatch, DATA (the hot path), seq and bad input, without MQTT."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from sparkplug.errors import SparkplugDecodeError
from sparkplug.host_births import lenient_value
from sparkplug.host_columns import ColumnarData, ColumnsHandler
from sparkplug.host_lifecycle import (
    BatchHandler,
    EventHandler,
    HostStats,
    RebirthHandler,
    Rejected,
    RejectHandler,
    SessionLifecycle,
    now_ms,
)
from sparkplug.host_registry import (
    DeviceSession,
    MetricRegistry,
    MetricScope,
    NodeSession,
    UpdateBatch,
)
from sparkplug.host_seq import GAP, HELD
from sparkplug.proto import pb

__all__ = ["BatchHandler", "EventHandler", "HostStats", "Ingest", "Rejected", "now_ms"]

log = logging.getLogger("sparkplug.host")
_time_ns = time.time_ns

NODE_TYPES = frozenset({"NBIRTH", "NDEATH", "NDATA", "NCMD"})
DEVICE_TYPES = frozenset({"DBIRTH", "DDEATH", "DDATA", "DCMD"})


# (message type, (group, edge node), device id, "group/edge" for logs), or BAD_TOPIC.
ParsedTopic = tuple[str, tuple[str, str], str | None, str]
BAD_TOPIC: ParsedTopic = ("", ("", ""), None, "")
TOPIC_CACHE_SIZE = 65536
# (node, device or None for NDATA, message type, device id, "group/edge" for logs)
Route = tuple[NodeSession, DeviceSession | None, str, str | None, str]
# Typed Any, as the rest of the ingest reads payloads: fields are looked up by names from tables.
_parse: Callable[[bytes], Any] = pb.Payload.FromString
_HISTORICAL_TAG = bytes([5 << 3])  # Metric.is_historical: field 5, wire type 0 (varint)


class Ingest(SessionLifecycle, ColumnarData):
    """Applies each Sparkplug message to the node sessions and hands values and events on.

    Not thread-safe by itself: the host calls it under its lock.
    """

    def __init__(
        self,
        *,
        on_batch: BatchHandler,
        on_event: EventHandler,
        on_rebirth: RebirthHandler,
        on_reject: RejectHandler,
        reorder_timeout: float = 0.0,
        lenient: bool = False,
        max_payload_bytes: int = 16 * 1024 * 1024,
        rejected_ring: int = 1000,
        on_columns: ColumnsHandler | None = None,
    ) -> None:
        self.registry = MetricRegistry()
        self.nodes: dict[tuple[str, str], NodeSession] = {}
        self.stats = HostStats()
        self.rejected: deque[Rejected] = deque(maxlen=rejected_ring)
        self.reorder_timeout = reorder_timeout
        self.lenient = lenient
        self.max_payload_bytes = max_payload_bytes
        self._emit_batch = on_batch
        self._emit = on_event
        self._rebirth = on_rebirth
        self._on_reject = on_reject
        # With a columns consumer and the compiled kernel, plain DATA goes to columns; everything
        # the consumer gets otherwise first pushes the columns so far out, so it sees arrival order.
        self.columns = None
        if on_columns is not None:
            self._init_columns(on_columns)
        self._logged: set[tuple[str, str]] = set()
        self._topics: dict[str, ParsedTopic] = {}
        # DATA topic -> its sessions, for the fast path of handle(). Sessions are never replaced (a new
        # birth resets them in place), so an entry stays true; it is only a shortcut past the lookups.
        self._routes: dict[str, Route] = {}
        self.pending_reorder: dict[tuple[str, str], NodeSession] = {}

    # -- entry point --------------------------------------------------------------------------------

    def handle(self, topic: str, raw: bytes) -> None:
        """One message on spBv1.0/<group>/<type>/<edge>[/<device>] (STATE is the host's own business)."""
        self.stats.messages_in += 1
        route = self._routes.get(topic)
        if route is None:
            self._handle(topic, raw)
            return
        # The hot path: a DATA topic taken before, whose sessions are known. While they are online
        # and the payload parses, the general path would do just this; otherwise it decides.
        node, dev, mt, device_id, source = route
        if len(raw) > self.max_payload_bytes or not node.online or (dev is not None and not dev.online):
            self._handle(topic, raw)
            return
        scope = node.scope if dev is None else dev.scope
        cols = self.columns
        if cols is not None and scope.alias_first and self._to_columns(cols, node, scope, raw, topic):
            return
        try:
            payload = _parse(raw)
        except Exception:
            self._handle(topic, raw)  # parses again to reject it
            return
        tracker = node.seq
        seq = payload.seq
        if seq and tracker.front is not None and seq == (tracker.front + 1) & 0xFF:
            tracker.front = seq  # the usual case, inline: a present (non-zero) seq that is the next one
        else:
            self._check_seq(node, payload, topic)
        received = _time_ns() // 1_000_000
        pts = payload.timestamp or received
        # Alias-only metrics that all decode, in one tight loop; anything else (a name, an unknown
        # alias, a value that needs the decoder's verdict) leaves it for the general loop, which
        # starts over: reading protobuf metrics has no side effects.
        if scope.alias_first:
            slot_of = scope.by_alias.get
            handles: list[int] = []
            values: list[Any] = []
            stamps: list[int] = []
            hist: list[bool] = []
            # is_historical is field 5 (varint): whenever any metric has it, its one-byte tag 0x28 is
            # in the payload. Without that byte every metric reads False, so the per-metric read
            # (a tenth of the loop) is skipped; a 0x28 inside other data only costs the reads.
            read_hist = _HISTORICAL_TAG in raw
            for m in payload.metrics:
                slot = slot_of(m.alias)
                if slot is None:
                    break
                handle, _dt, decode, read, field, mask, sign = slot
                if read is None:
                    try:
                        value = decode(m)
                    except SparkplugDecodeError:
                        break
                elif value := read(m):
                    if mask and value >= sign:  # below the sign bit the two's complement is the value
                        value = ((value & mask) ^ sign) - sign
                elif not m.HasField(field):
                    try:
                        value = decode(m)
                    except SparkplugDecodeError:
                        break
                handles.append(handle)
                values.append(value)
                stamps.append(m.timestamp or pts)
                if read_hist:
                    hist.append(m.is_historical)
            else:
                if handles:
                    if not read_hist:
                        hist = [False] * len(handles)
                    stats = self.stats
                    stats.metrics_in += len(handles)
                    stats.batches += 1
                    batch = UpdateBatch(
                        node.group_id,
                        node.edge_node_id,
                        device_id,
                        mt,
                        seq,
                        received,
                        handles,
                        values,
                        stamps,
                        hist,
                    )
                    try:
                        self._emit_batch(batch)
                    except Exception:
                        log.exception("on_batch callback failed")
                return
        self._data(node, device_id, scope, mt, payload, seq, topic, raw, source, received, pts)

    def _handle(self, topic: str, raw: bytes) -> None:
        """The general path: every message type, every check, in the order the spec wants them."""
        parsed = self._topics.get(topic)
        if parsed is None:
            parsed = self._parse_topic(topic)
        if parsed is BAD_TOPIC:
            self.reject(
                topic, raw, "bad_topic", "topic outside spBv1.0/<group>/<type>/<edge>[/<device>]", topic
            )
            return
        mt, key, device_id, source = parsed
        if mt == "NCMD" or mt == "DCMD":
            self.stats.commands_seen += 1
            return
        if len(raw) > self.max_payload_bytes:
            self.reject(topic, raw, "oversized", f"{len(raw)} bytes > {self.max_payload_bytes}", source)
            return
        try:
            payload = _parse(raw)
        except Exception as exc:
            self.reject(topic, raw, "malformed", f"not a Sparkplug B protobuf payload: {exc}", source)
            return
        node = self.nodes.get(key)
        if mt == "NBIRTH":
            self._nbirth(key, payload, topic, raw, source)
            return
        if node is None:
            node = self.nodes[key] = NodeSession(*key)
        if mt == "NDEATH":
            self._ndeath(node, payload, topic, raw, source)
            return
        if not node.online:
            self._protocol_error(node, topic, raw, "no_birth", f"{mt} before NBIRTH", source)
            return
        # After a gap the message is still taken: a time series wants every value; the rebirth resyncs.
        tracker = node.seq
        seq = payload.seq
        if seq and tracker.front is not None and seq == (tracker.front + 1) & 0xFF:
            tracker.front = seq  # the usual case, inline: a present (non-zero) seq that is the next one
        else:
            self._check_seq(node, payload, topic)
        if mt == "NDATA":
            self._routes[topic] = (node, None, mt, None, source)
            received = _time_ns() // 1_000_000
            self._data(
                node,
                None,
                node.scope,
                mt,
                payload,
                seq,
                topic,
                raw,
                source,
                received,
                payload.timestamp or received,
            )
            return
        assert device_id is not None
        if mt == "DBIRTH":
            self._dbirth(node, device_id, payload, topic, raw, source)
            return
        dev = node.devices.get(device_id)
        if dev is None or not dev.online:
            self._protocol_error(
                node, topic, raw, "unknown_device", f"{mt} for {device_id} without DBIRTH", source
            )
            return
        if mt == "DDEATH":
            self._ddeath(node, dev, payload)
        else:
            self._routes[topic] = (node, dev, mt, device_id, source)
            received = _time_ns() // 1_000_000
            pts = payload.timestamp or received
            self._data(node, device_id, dev.scope, mt, payload, seq, topic, raw, source, received, pts)

    def _deliver(self, batch: UpdateBatch) -> None:
        try:
            self._emit_batch(batch)
        except Exception:
            log.exception("on_batch callback failed")

    def _parse_topic(self, topic: str) -> ParsedTopic:
        """Split and check a topic once; the result is kept, as the same topics come again and again."""
        parts = topic.split("/")
        n = len(parts)
        mt = parts[2] if n > 2 else ""
        parsed: ParsedTopic
        # Wildcards cannot occur: MQTT forbids them in the topic of a PUBLISH.
        if not ((n == 4 and mt in NODE_TYPES) or (n == 5 and mt in DEVICE_TYPES)) or not all(parts):
            parsed = BAD_TOPIC
        else:
            parsed = (mt, (parts[1], parts[3]), parts[4] if n == 5 else None, f"{parts[1]}/{parts[3]}")
        if len(self._topics) >= TOPIC_CACHE_SIZE:
            self._topics.clear()  # bounded: a flood of distinct topics costs parsing, not memory
            self._routes.clear()
        self._topics[topic] = parsed
        return parsed

    # -- DATA (the hot path) ------------------------------------------------------------------------

    def _emit_data(
        self,
        node: NodeSession,
        device_id: str | None,
        mt: str,
        seq: int,
        received: int,
        handles: list[int],
        values: list[Any],
        stamps: list[int],
        hist: list[bool],
    ) -> None:
        stats = self.stats
        stats.metrics_in += len(handles)
        stats.batches += 1
        batch = UpdateBatch(
            node.group_id, node.edge_node_id, device_id, mt, seq, received, handles, values, stamps, hist
        )
        try:
            self._emit_batch(batch)
        except Exception:
            log.exception("on_batch callback failed")

    def _data(
        self,
        node: NodeSession,
        device_id: str | None,
        scope: MetricScope,
        mt: str,
        payload: Any,
        seq: int,
        topic: str,
        raw: bytes,
        source: str,
        received: int,
        pts: int,
    ) -> None:
        """Any DATA: names, unknown aliases, values in another field, lenient second chances, rejects."""
        by_alias = scope.by_alias
        by_name = scope.by_name
        # Alias first, as DATA normally comes (alias only); an absent alias reads as 0, so when a birth
        # gave some metric alias 0 the name must be looked at first.
        alias_first = scope.alias_first
        handles: list[int] = []
        values: list[Any] = []
        stamps: list[int] = []
        hist: list[bool] = []
        unknown = 0
        bad: SparkplugDecodeError | None = None
        for m in payload.metrics:
            if alias_first:
                slot = by_alias.get(m.alias)
                if slot is None:
                    slot = by_name.get(m.name)
            else:
                name = m.name
                slot = by_name.get(name) if name else by_alias.get(m.alias)
            if slot is None:
                unknown += 1
                continue
            try:
                value = slot[2](m)
            except SparkplugDecodeError as exc:
                value, ok = lenient_value(m, slot[1]) if self.lenient else (None, False)
                if not ok:
                    bad = exc
                    continue
            handles.append(slot[0])
            values.append(value)
            stamps.append(m.timestamp or pts)
            hist.append(m.is_historical)
        if bad is not None:
            self.reject(topic, raw, bad.reason, str(bad), source)
        if unknown:
            self._protocol_error(
                node, topic, raw, "unknown_alias", f"{unknown} metric(s) not in the birth", source
            )
        if handles:
            self._emit_data(node, device_id, mt, seq, received, handles, values, stamps, hist)

    def _check_seq(self, node: NodeSession, payload: Any, topic: str) -> None:
        self._check_seq_values(node, payload.HasField("seq"), payload.seq, topic)

    def _check_seq_values(self, node: NodeSession, has_seq: bool, seq: int, topic: str) -> None:
        if not has_seq:
            if not self.lenient:
                self._gap(node, "missing_seq", f"{topic}: message without seq")
            return
        before = node.seq.front
        verdict = node.seq.observe(seq, time.monotonic(), self.reorder_timeout)
        if verdict == GAP:
            self._gap(node, "seq_gap", f"{topic}: seq {seq} after {before}")
        elif verdict == HELD:
            self.stats.seq_reordered += 1
            self.pending_reorder[(node.group_id, node.edge_node_id)] = node

    def _gap(self, node: NodeSession, reason: str, detail: str) -> None:
        self.stats.seq_gaps += 1
        self._log_once(f"{node.group_id}/{node.edge_node_id}", reason, detail)
        self._rebirth(node, reason)

    def check_reorder(self) -> None:
        """Called now and then: a reorder window that elapsed with numbers missing is a gap."""
        now = time.monotonic()
        for key, node in list(self.pending_reorder.items()):
            if node.seq.deadline is None:
                del self.pending_reorder[key]
            elif node.seq.expired(now):
                del self.pending_reorder[key]
                self._gap(node, "seq_gap", "reorder timeout elapsed with messages missing")

    # -- bad input -------------------------------------------------------------------------------------

    def _protocol_error(
        self, node: NodeSession, topic: str, raw: bytes, reason: str, detail: str, source: str
    ) -> None:
        self.reject(topic, raw, reason, detail, source)
        self._rebirth(node, reason)

    def reject(self, topic: str, raw: bytes, reason: str, detail: str, source: str) -> None:
        """Count, log once per source and reason, keep the raw bytes, tell the consumer; never raise."""
        counts = self.stats.rejected
        counts[reason] = counts.get(reason, 0) + 1
        self._log_once(source, reason, detail)
        record = Rejected(topic, bytes(raw), reason, now_ms(), detail)
        self.rejected.append(record)
        try:
            self._on_reject(record)
        except Exception:
            log.exception("on_reject callback failed for %s", topic)

    def _log_once(self, source: str, reason: str, detail: str) -> None:
        if (source, reason) in self._logged:
            return
        self._logged.add((source, reason))
        log.warning("sparkplug %s: %s: %s (logged once per source and reason)", source, reason, detail)

    def connection_lost(self) -> list[int]:
        """The host lost the broker: every online node and device is offline, their metrics STALE."""
        self.flush_columns()  # the values that came before the loss go before the news of it
        stale: list[int] = []
        for node in self.nodes.values():
            if node.online:
                stale.extend(node.all_handles())
            node.online = False
            for dev in node.devices.values():
                dev.online = False
        self.pending_reorder.clear()
        return stale
