"""ERP events for audit at <place>/_erp/events/<type>, and each event's delivery state at _erp/status/."""

from __future__ import annotations

import heapq
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from bridge.metrics import BridgeMetrics
from bridge.outbox.store import OutboxStore
from bridge.uns_client import dumps
from uns_model.delivery import DeliveryReceipt, OutboundEvent, PublishedDeliveryState
from uns_model.payloads import DeliveryStatus
from uns_model.topics import Place, event_topic, status_topic

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes, int, bool], bool]
CACHE = 10_000


class ErpStatus:
    """The outbox's on_state hook, publishing what happens to each event so a shift lead sees that a
    confirmation was accepted (delivered, with the Odoo record ids), not just sent.

    - `<place>/_erp/events/<contract>`: the event's JSON once, when it is queued; not retained, QoS 1.
    - `<place>/_erp/status/<contract>/<event id>`: DeliveryStatus, retained, QoS 1; a delivered
      event's status is cleared `retention_s` later (by this process: a status left from before a
      restart stays until cleared by hand, see docs/operations.md).
    """

    def __init__(
        self,
        publish: Publish,
        metrics: BridgeMetrics,
        retention_s: float = 86_400.0,
        store: OutboxStore | None = None,
    ) -> None:
        self.publish = publish
        self.metrics = metrics
        self.retention_ms = int(retention_s * 1000)
        self.store = store
        self._lock = threading.Lock()
        self._pending: dict[str, OutboundEvent] = {}
        self._meta: OrderedDict[str, tuple[str, int, str]] = OrderedDict()  # id -> place, version, key
        self._expire: list[tuple[int, str]] = []

    def before_enqueue(self, events: Sequence[OutboundEvent]) -> None:
        with self._lock:
            for ev in events:
                self._pending[ev.event_id] = ev

    def after_enqueue(self) -> None:
        with self._lock:
            self._pending.clear()

    def on_state(
        self,
        event_id: str,
        contract: str,
        state: PublishedDeliveryState,
        detail: DeliveryReceipt | str | None,
    ) -> None:
        with self._lock:
            ev = self._pending.pop(event_id, None)
            if ev is not None:
                self._remember(event_id, str(ev.payload.get("place", "")), ev.version, ev.ordering_key)
            meta = self._meta.get(event_id)
        attempts = 0
        if meta is None or state in ("delivered", "dead"):
            looked = self._lookup(event_id)
            if looked is not None:
                meta, attempts = looked[:3], looked[3]
                with self._lock:
                    self._remember(event_id, *meta)
        if meta is None or not meta[0]:
            log.warning("status of event %s (%s): its place is unknown; not published", event_id, contract)
            return
        place_path, version, key = meta
        try:
            place = Place.parse(place_path)
        except ValueError:
            log.warning("status of event %s: bad place %r", event_id, place_path)
            return
        now = time.time_ns() // 1_000_000
        if ev is not None and state == "queued":
            self.publish(event_topic(place, contract), dumps(ev.payload), 1, False)
            self.metrics.status_published.inc(kind="event")
        receipt = detail if isinstance(detail, DeliveryReceipt) else None
        reason = detail if isinstance(detail, str) else None
        remote = self._remote_error(event_id) if state == "dead" else None
        status = DeliveryStatus(
            event_id=event_id,
            event_contract=contract,
            event_version=version,
            ordering_key=key,
            state=state,
            attempts=attempts,
            target=receipt.target if receipt else None,
            record_model=receipt.record_model if receipt else None,
            record_ids=list(receipt.record_ids) if receipt else [],
            reason=reason,
            remote_error=remote,
            updated_unix_ms=now,
        )
        topic = status_topic(place, contract, event_id)
        self.publish(topic, status.model_dump_json().encode(), 1, True)
        self.metrics.status_published.inc(kind="status")
        self.metrics.events.inc(contract=contract, state=state)
        if state == "delivered" and self.retention_ms > 0:
            with self._lock:
                heapq.heappush(self._expire, (now + self.retention_ms, topic))

    def expire(self, now_ms: int) -> int:
        """Clear the retained status of events delivered longer ago than the retention."""
        n = 0
        while True:
            with self._lock:
                if not self._expire or self._expire[0][0] > now_ms:
                    return n
                _, topic = heapq.heappop(self._expire)
            self.publish(topic, b"", 1, True)
            n += 1

    def _remember(self, event_id: str, place: str, version: int, key: str) -> None:
        self._meta[event_id] = (place, version, key)
        self._meta.move_to_end(event_id)
        while len(self._meta) > CACHE:
            self._meta.popitem(last=False)

    def _remote_error(self, event_id: str) -> str | None:
        if self.store is None or self.store.closed:
            return None
        try:
            with self.store.snapshot() as conn:
                row = conn.execute(
                    "SELECT remote_error FROM dead_letters WHERE event_id = ?", (event_id,)
                ).fetchone()
        except Exception:
            return None
        return None if row is None or row[0] is None else str(row[0])

    def _lookup(self, event_id: str) -> tuple[str, int, str, int] | None:
        if self.store is None or self.store.closed:
            return None
        try:
            with self.store.snapshot() as conn:
                row = conn.execute(
                    "SELECT payload, version, ordering_key, attempts FROM events WHERE event_id = ?",
                    (event_id,),
                ).fetchone()
        except Exception:
            log.exception("status: could not read event %s from the outbox", event_id)
            return None
        if row is None:
            return None
        try:
            place = str(json.loads(row[0]).get("place", ""))
        except ValueError:
            place = ""
        return place, int(row[1]), str(row[2]), int(row[3])


def queued_then(
    status: ErpStatus, enqueue: Callable[[Sequence[OutboundEvent]], int]
) -> Callable[[Sequence[OutboundEvent]], int]:
    """An enqueue that lets the status hook see the events it is about to queue."""

    def run(events: Sequence[OutboundEvent]) -> int:
        status.before_enqueue(events)
        try:
            return enqueue(events)
        finally:
            status.after_enqueue()

    return run
