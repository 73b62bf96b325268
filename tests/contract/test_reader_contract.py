"""Reader contract: orders and holds from Odoo become retained JSON in the namespace, cleared when closed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from bridge.erp_publisher import ErpPublisher
from odoo_sync.reader import OdooReader, RetainedRef, Retire
from tests.bridge.service_support import wait_for
from tests.contract.harness import Target
from tests.contract.mqtt import Collector, Publisher
from tests.support.mosquitto import Mosquitto
from uns_model.erp import (
    QualityHoldRaised,
    QualityHoldReleased,
    WorkOrderClosed,
    WorkOrderReleased,
    WorkOrderUpdated,
)
from uns_model.events import GoodsFinished, ProductionReported, QualityDeviation
from uns_model.topics import Place, hold_topic, holds_filter, order_topic, orders_filter

T0 = 1_764_150_000_000


@pytest.fixture
def reader(target: Target) -> OdooReader:
    r = OdooReader(target.client, target.plant)
    r.poll()  # the first poll lists what is open now; the tests look at what changes after it
    return r


@pytest.fixture
def mqtt(target: Target, broker: Mosquitto) -> Iterator[tuple[ErpPublisher, Collector, Collector]]:
    site = Place("acme", f"s{target.run}")
    publisher = Publisher(broker.host, broker.port)
    orders = Collector(broker.host, broker.port, orders_filter(site))
    holds = Collector(broker.host, broker.port, holds_filter(site))
    yield ErpPublisher(publisher), orders, holds
    for c in (orders, holds, publisher):
        c.close()


def mine(changes: list[Any], odoo_id: int) -> list[Any]:
    return [c for c in changes if not isinstance(c, Retire) and getattr(c, "odoo_id", None) == odoo_id]


def test_release_progress_split_and_close(target: Target, reader: OdooReader, mqtt) -> None:
    publisher, orders, _holds = mqtt
    line = Place.parse(target.line)
    mo, name = target.new_order("FG", 10)
    changes = reader.poll()
    released = mine(changes, mo)
    assert [type(c) for c in released] == [WorkOrderReleased]
    order = released[0]
    assert order.place == target.line and order.external_work_order_id == name
    assert order.product.external_product_id == target.code("FG") and order.quantity == 10
    assert order.workcenters == [target.wc_a, target.wc_b]
    assert order.status == 0 and order.odoo_state == "confirmed"
    publisher.apply(changes)
    payload = json.loads(orders.wait_for(order_topic(line, name)))
    assert payload["contract"] == "work_order_released" and payload["odoo_id"] == mo
    # Nothing changed in Odoo: the next poll says nothing about this order (overlap window deduped).
    assert mine(reader.poll(), mo) == []
    # Progress from the plant changes the order in Odoo: an update, status in progress.
    target.deliver(
        ProductionReported(
            place=target.cell("cell-b"),
            workcenter=target.wc_b,
            external_work_order_id=name,
            good_quantity=6,
            scrap_quantity=0,
            window_start_unix_ms=T0,
            window_end_unix_ms=T0 + 60_000,
        )
    )
    updated = mine(reader.poll(), mo)
    assert [type(c) for c in updated] == [WorkOrderUpdated]
    assert updated[0].quantity_produced == 6 and updated[0].status == 1
    # A partial completion splits the order: name-001 is closed, name-002 released, and the topic of
    # the name the plant was given is cleared.
    receipt = target.deliver(
        GoodsFinished(place=target.cell(), external_work_order_id=name, quantity=6, finished_unix_ms=T0)
    )
    backorder_id = receipt.record_ids[1]
    changes = reader.poll()
    closed = mine(changes, mo)
    assert [type(c) for c in closed] == [WorkOrderClosed]
    assert closed[0].external_work_order_id == f"{name}-001" and closed[0].quantity_produced == 6
    assert [type(c) for c in mine(changes, backorder_id)] == [WorkOrderReleased]
    assert Retire("orders", target.line, name, f"renamed {name}-001") in changes
    publisher.apply(changes)
    orders.wait_for(order_topic(line, f"{name}-002"))
    retained = orders.retained_state()
    assert order_topic(line, name) not in retained
    assert order_topic(line, f"{name}-001") not in retained
    assert json.loads(retained[order_topic(line, f"{name}-002")])["quantity"] == 4


def test_quality_hold_raised_and_released(target: Target, reader: OdooReader, mqtt) -> None:
    publisher, _orders, holds = mqtt
    line = Place.parse(target.line)
    deviation = QualityDeviation(
        place=target.cell("cell-a"),
        workcenter=target.wc_a,
        tag_path="bore/diameter",
        value=12.31,
        low=12.0,
        high=12.2,
        limit="high",
        unit="mm",
        detected_unix_ms=T0 + 5_000,
    )
    block = target.deliver(deviation).record_ids[0]
    changes = reader.poll()
    raised = [c for c in changes if isinstance(c, QualityHoldRaised) and c.odoo_id == block]
    assert len(raised) == 1
    hold = raised[0]
    assert hold.place == target.line and hold.hold_ref == f"{target.wc_a}/QH/{block}"
    assert "bore/diameter" in hold.reason and "[uns:" not in hold.reason
    publisher.apply(changes)
    assert json.loads(holds.wait_for(hold_topic(line, hold.hold_ref)))["contract"] == "quality_hold_raised"
    # Quality releases the hold in Odoo: the work center's Unblock button closes the block.
    target.admin.call("mrp.workcenter", "unblock", [target.data.workcenters[target.wc_a]])
    changes = reader.poll()
    released = [c for c in changes if isinstance(c, QualityHoldReleased) and c.odoo_id == block]
    assert len(released) == 1
    publisher.apply(changes)
    assert hold_topic(line, hold.hold_ref) not in holds.retained_state()


def test_released_order_reaches_the_namespace_from_the_polling_loop(target: Target, mqtt) -> None:
    publisher, orders, _holds = mqtt
    reader = OdooReader(target.client, target.plant)
    stop = threading.Event()
    loop = threading.Thread(target=reader.run, args=(publisher.apply, stop, 0.2), daemon=True)
    loop.start()
    try:
        mo, name = target.new_order("FG", 2)
        reader.wake()  # what a webhook from Odoo does; the loop would also find it on its next poll
        payload = json.loads(orders.wait_for(order_topic(Place.parse(target.line), name)))
        assert payload["odoo_id"] == mo
    finally:
        stop.set()
        reader.wake()
        loop.join(10)
    assert reader.counters["errors"] == 0


def test_a_restarted_bridge_clears_what_closed_while_it_was_down(
    target: Target, mqtt, broker: Mosquitto
) -> None:
    """Retained order and hold topics an earlier run left are reconciled at start: the ones Odoo no
    longer has active are cleared, the active ones stay (published again by the first poll)."""
    from bridge.erp_publisher import read_retained

    publisher, orders, holds = mqtt
    line = Place.parse(target.line)
    site = Place("acme", f"s{target.run}")
    closed_mo, closed = target.new_order("FG", 2)
    target.deliver(
        GoodsFinished(place=target.cell(), external_work_order_id=closed, quantity=2, finished_unix_ms=T0)
    )
    assert target.mo(closed_mo, "state")["state"] == "done"
    _open_mo, active = target.new_order("FG", 3)
    gone_hold = f"{target.wc_a}/QH/999999"
    # What the bridge retained before it went down (the order was then still open, the hold raised).
    stale = b'{"contract": "work_order_released"}'
    for topic in (order_topic(line, closed), order_topic(line, active), hold_topic(line, gone_hold)):
        publisher._publish(topic, stale, 1, True)
    # (Earlier tests of this module left orders of theirs retained too: they are active and stay.)
    assert {order_topic(line, closed), order_topic(line, active)} <= set(orders.retained_state())
    assert {
        RetainedRef("holds", target.line, gone_hold),
        RetainedRef("orders", target.line, closed),
        RetainedRef("orders", target.line, active),
    } <= set(read_retained(broker.url, site))
    reader = OdooReader(target.client, target.plant)
    stop = threading.Event()
    loop = threading.Thread(
        target=reader.run,
        args=(publisher.apply, stop, 0.2),
        kwargs={"retained": lambda: read_retained(broker.url, site)},
        daemon=True,
    )
    loop.start()
    try:
        # The empty retained payload that clears the topic of the order closed in Odoo meanwhile.
        wait_for(
            lambda: (
                (order_topic(line, closed), b"", True) in orders.messages
                or (order_topic(line, closed), b"", False) in orders.messages
            ),
            30,
            "the closed order's topic cleared",
        )
        wait_for(lambda: reader.counters.get("reconciled") == 2, 30, "reconciled")
        retained = orders.retained_state()
        assert order_topic(line, closed) not in retained
        assert json.loads(retained[order_topic(line, active)])["external_work_order_id"] == active
        assert hold_topic(line, gone_hold) not in holds.retained_state()
    finally:
        stop.set()
        reader.wake()
        loop.join(10)
    assert reader.counters["reconciled"] == 2 and reader.counters["errors"] == 0
