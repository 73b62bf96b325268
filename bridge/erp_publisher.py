"""ErpPublisher: Odoo's orders and quality holds as retained JSON under <line>/_erp/orders|holds/<ref>."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from odoo_sync.reader import Change, RetainedRef, Retire
from sparkplug.mqtt_url import BrokerUrl, make_client, parse_broker_url
from uns_model.contract_base import dump_json
from uns_model.erp import (
    ErpToPlant,
    QualityHoldRaised,
    QualityHoldReleased,
    WorkOrderClosed,
    WorkOrderReleased,
    WorkOrderUpdated,
)
from uns_model.topics import (
    Place,
    TopicError,
    bridge_topic,
    hold_topic,
    holds_filter,
    order_topic,
    orders_filter,
    parse_topic,
)

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


def read_retained(broker: BrokerUrl | str, site: Place, *, timeout_s: float = 10.0) -> list[RetainedRef]:
    """The order and hold topics of the site the broker holds retained now (what an earlier run of the
    bridge left), for OdooReader.reconcile. A short session of its own: it subscribes to the site's
    `_erp/orders` and `_erp/holds` topics and to a sentinel topic it then publishes to; the broker
    sends the retained messages of a subscription before anything published after it, so the sentinel
    closes the list. Raises OSError/TimeoutError when the broker cannot be read (the reader tries again)."""
    client = make_client(broker, prefix="uns-retained")
    sentinel = bridge_topic(site, "reconcile", uuid.uuid4().hex)
    found: dict[str, bytes] = {}
    done = threading.Event()
    refused: list[str] = []

    def on_connect(c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            refused.append(str(reason))
            done.set()
            return
        c.subscribe([(orders_filter(site), 1), (holds_filter(site), 1), (sentinel, 1)])

    def on_subscribe(c: Any, *_a: Any) -> None:
        c.publish(sentinel, b'{"retained_listed": true}', qos=1)  # JSON: _bridge/# is browsed too

    def on_message(_c: Any, _u: Any, msg: Any) -> None:
        if msg.topic == sentinel:
            done.set()
        elif msg.retain and msg.payload:
            found[msg.topic] = bytes(msg.payload)

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    b = parse_broker_url(broker) if isinstance(broker, str) else broker
    client.connect(b.host, b.port, keepalive=30)
    client.loop_start()
    try:
        if not done.wait(timeout_s):
            raise TimeoutError(f"no answer from {b.redacted()} in {timeout_s:g} s listing retained topics")
        if refused:
            raise OSError(f"{b.redacted()} refused the connection: {refused[0]}")
    finally:
        client.disconnect()
        client.loop_stop()
    refs: list[RetainedRef] = []
    for topic in sorted(found):
        try:
            parsed = parse_topic(topic)
            kind = parsed.erp_kind
            if kind in ("orders", "holds"):
                line = parsed.place.up_to("line").path
                refs.append(RetainedRef("orders" if kind == "orders" else "holds", line, parsed.ref))
        except (TopicError, ValueError):
            log.warning("erp publisher: retained %s is not an order or hold topic of ours; left alone", topic)
    return refs
