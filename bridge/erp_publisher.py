"""ErpPublisher: Odoo's orders and quality holds as retained JSON under <line>/_erp/orders|holds/<ref>."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from odoo_sync.reader import Change, Retire
from uns_model.contract_base import dump_json
from uns_model.erp import (
    ErpToPlant,
    QualityHoldRaised,
    QualityHoldReleased,
    WorkOrderClosed,
    WorkOrderReleased,
    WorkOrderUpdated,
)
from uns_model.topics import Place, hold_topic, order_topic

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes, int, bool], None]


class ErpPublisher:
    """Publishes what the Odoo reader found; information for people and systems, never a command.

    `ErpPublisher(publish, qos=1)` with `publish(topic, payload, qos, retain)` from the bridge's MQTT
    session. Released and updated orders and raised holds are retained while active. A closed order
    or a released hold is published once, not retained (for live subscribers and audit), and then
    its topic is cleared with an empty retained payload. `apply(changes)` takes the reader's output.
    """

    def __init__(self, publish: Publish, *, qos: int = 1) -> None:
        self._publish = publish
        self._qos = qos
        self._order_topics: dict[int, str] = {}  # mrp.production id -> topic last retained
        self.counters: dict[str, int] = {"retained": 0, "cleared": 0, "errors": 0}

    def apply(self, changes: Iterable[Change]) -> int:
        """Publish every change in order; returns how many MQTT messages went out."""
        sent = 0
        for change in changes:
            try:
                sent += self.retire(change) if isinstance(change, Retire) else self.publish(change)
            except Exception:
                # One bad item must not stop the others; the reader sends the record again when it changes.
                self.counters["errors"] += 1
                log.exception("erp publisher: could not publish %r", change)
        return sent

    def publish(self, message: ErpToPlant) -> int:
        line = Place.parse(message.place).up_to("line")
        if isinstance(message, WorkOrderReleased | WorkOrderUpdated):
            topic = order_topic(line, message.external_work_order_id)
            sent = 0
            old = self._order_topics.get(message.odoo_id)
            if old and old != topic:
                sent += self._clear(old)
            self._order_topics[message.odoo_id] = topic
            return sent + self._retain(topic, message)
        if isinstance(message, WorkOrderClosed):
            topic = order_topic(line, message.external_work_order_id)
            self._order_topics.pop(message.odoo_id, None)
            return self._once(topic, message) + self._clear(topic)
        if isinstance(message, QualityHoldRaised):
            return self._retain(hold_topic(line, message.hold_ref), message)
        if isinstance(message, QualityHoldReleased):
            topic = hold_topic(line, message.hold_ref)
            return self._once(topic, message) + self._clear(topic)
        raise TypeError(f"not an order or hold message: {type(message).__name__}")

    def retire(self, item: Retire) -> int:
        line = Place.parse(item.line).up_to("line")
        topic = order_topic(line, item.ref) if item.kind == "orders" else hold_topic(line, item.ref)
        return self._clear(topic)

    def _retain(self, topic: str, message: ErpToPlant) -> int:
        self._publish(topic, dump_json(message).encode(), self._qos, True)
        self.counters["retained"] += 1
        return 1

    def _once(self, topic: str, message: ErpToPlant) -> int:
        self._publish(topic, dump_json(message).encode(), self._qos, False)
        return 1

    def _clear(self, topic: str) -> int:
        self._publish(topic, b"", self._qos, True)
        self.counters["cleared"] += 1
        return 1
