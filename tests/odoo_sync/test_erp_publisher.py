"""ErpPublisher on a real Mosquitto: retained while active, published once then cleared when closed."""

from __future__ import annotations

import json

from bridge.erp_publisher import ErpPublisher
from odoo_sync.reader import Retire
from tests.contract.mqtt import Collector, Publisher
from tests.support.mosquitto import Mosquitto
from uns_model.erp import (
    ProductRef,
    QualityHoldRaised,
    QualityHoldReleased,
    WorkOrderClosed,
    WorkOrderReleased,
    WorkOrderUpdated,
)
from uns_model.topics import Place, hold_topic, holds_filter, order_topic, orders_filter


def order(
    site: str, name: str, cls: type = WorkOrderReleased, odoo_id: int = 41, **extra: object
) -> WorkOrderReleased:
    return cls(  # type: ignore[no-any-return]
        place=f"acme/{site}/a1/l1",
        external_work_order_id=name,
        odoo_id=odoo_id,
        product=ProductRef(external_product_id="FG-1", name="Bracket"),
        quantity=10,
        status=0,
        odoo_state="confirmed",
        updated_unix_ms=1,
        **extra,
    )


def test_orders_and_holds_lifecycle(broker: Mosquitto, uid: str) -> None:
    site = f"s{uid}"
    line = Place("acme", site, "a1", "l1")
    pub = Publisher(broker.host, broker.port)
    orders = Collector(broker.host, broker.port, orders_filter(line))
    holds = Collector(broker.host, broker.port, holds_filter(line))
    try:
        publisher = ErpPublisher(pub)
        publisher.apply([order(site, "WH/MO/00007")])
        assert json.loads(orders.wait_for(order_topic(line, "WH/MO/00007")))["odoo_id"] == 41
        assert set(orders.retained_state()) == {"acme/" + site + "/a1/l1/_erp/orders/WH_MO_00007"}
        # Odoo renamed the order (a split): the old topic is cleared, the new one retained.
        publisher.apply([order(site, "WH/MO/00007-001", WorkOrderUpdated)])
        assert set(orders.retained_state()) == {order_topic(line, "WH/MO/00007-001")}
        closed = WorkOrderClosed(
            place=line.path,
            external_work_order_id="WH/MO/00007-001",
            odoo_id=41,
            reason="done",
            closed_unix_ms=2,
        )
        publisher.apply([closed, Retire("orders", line.path, "WH/MO/00007", "split")])
        assert orders.retained_state() == {}
        once = [m for m in orders.messages if m[0] == order_topic(line, "WH/MO/00007-001") and m[1]]
        assert json.loads(once[-1][1])["contract"] == "work_order_closed"
        raised = QualityHoldRaised(
            place=line.path, hold_ref="WA1/QH/5", odoo_id=5, reason="bore", raised_unix_ms=3
        )
        publisher.apply([raised])
        assert set(holds.retained_state()) == {hold_topic(line, "WA1/QH/5")}
        publisher.apply(
            [QualityHoldReleased(place=line.path, hold_ref="WA1/QH/5", odoo_id=5, released_unix_ms=4)]
        )
        assert holds.retained_state() == {}
        assert publisher.counters["errors"] == 0
    finally:
        for c in (orders, holds, pub):
            c.close()


def test_a_failing_publish_does_not_stop_the_rest(uid: str) -> None:
    sent: list[str] = []

    def publish(topic: str, payload: bytes, qos: int, retain: bool) -> None:
        if "BAD" in topic:
            raise OSError("broker gone")
        sent.append(topic)

    publisher = ErpPublisher(publish)
    site = f"s{uid}"
    assert publisher.apply([order(site, "BAD/1", odoo_id=1), order(site, "GOOD/2", odoo_id=2)]) == 1
    assert publisher.counters["errors"] == 1 and sent == [
        order_topic(Place("acme", site, "a1", "l1"), "GOOD/2")
    ]
