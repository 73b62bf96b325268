"""Writer contract: each plant event becomes the records an integrator would make; replays change nothing."""

from __future__ import annotations

import pytest

from tests.contract.harness import Target
from uns_model.delivery import PermanentDeliveryError
from uns_model.events import (
    DowntimeEnded,
    DowntimeStarted,
    GoodsFinished,
    MaintenanceRequested,
    MaterialConsumed,
    ProductionReported,
    QualityDeviation,
)

T0 = 1_764_150_000_000


def produced(t: Target, order: str, good: float, scrap: float = 0.0, wc: str = "b") -> ProductionReported:
    """A production report of the cell of the BoM's last operation (cell-b) unless `wc` says "a"."""
    return ProductionReported(
        place=t.cell("cell-b" if wc == "b" else "cell-a"),
        workcenter=t.wc_b if wc == "b" else t.wc_a,
        external_work_order_id=order,
        good_quantity=good,
        scrap_quantity=scrap,
        window_start_unix_ms=T0,
        window_end_unix_ms=T0 + 60_000,
    )


def test_progress_sets_qty_producing_absolute(target: Target) -> None:
    mo, name = target.new_order("FG", 10)
    receipt = target.deliver_twice(produced(target, name, 3))
    assert receipt.record_model == "mrp.production" and receipt.record_ids == [mo]
    assert target.mo(mo, "qty_producing")["qty_producing"] == 3
    assert target.mo(mo, "state")["state"] == "progress"
    # A later window with a higher total moves it on; the old total again does not move it back by itself.
    target.deliver_twice(produced(target, name, 5))
    assert target.mo(mo, "qty_producing")["qty_producing"] == 5
    # Components Odoo manages follow the produced quantity (set_qty_producing): 5 x 1 of each.
    moves = target.admin.search_read(
        "stock.move", [("raw_material_production_id", "=", mo)], ["quantity", "picked"]
    )
    assert sorted(m["quantity"] for m in moves) == [5, 5] and all(m["picked"] for m in moves)
    # The order's chatter names the events (lineage from the Odoo side).
    notes = target.admin.search_read(
        "mail.message",
        [("model", "=", "mrp.production"), ("res_id", "=", mo), ("body", "ilike", "[uns:")],
        ["body"],
    )
    assert len(notes) == 2
    # The first operation's cell reports its own work order's quantity, not the order's output.
    target.deliver_twice(produced(target, name, 7, wc="a"))
    assert target.mo(mo, "qty_producing")["qty_producing"] == 5
    wos = target.admin.search_read(
        "mrp.workorder", [("production_id", "=", mo)], ["workcenter_id", "qty_produced"], order="id"
    )
    assert [w["qty_produced"] for w in wos] == [7, 0]


def test_partial_completion_with_backorder(target: Target) -> None:
    mo, name = target.new_order("FG", 10)
    target.deliver_twice(produced(target, name, 6))
    done = GoodsFinished(
        place=target.cell(), external_work_order_id=name, quantity=6, finished_unix_ms=T0 + 120_000
    )
    receipt = target.deliver_twice(done)
    assert receipt.record_ids[0] == mo and len(receipt.record_ids) == 2
    original = target.mo(mo, "name", "state", "qty_produced")
    backorder = target.mo(receipt.record_ids[1], "name", "state", "product_qty")
    assert original["state"] == "done" and original["qty_produced"] == 6
    # Odoo renamed the order when it split it: name -> name-001, backorder name-002.
    assert original["name"] == f"{name}-001" and backorder["name"] == f"{name}-002"
    assert backorder["state"] == "confirmed" and backorder["product_qty"] == 4
    # The plant keeps counting on the name it was given: cumulative 8 is 2 on the backorder.
    target.deliver_twice(produced(target, name, 8))
    assert target.mo(receipt.record_ids[1], "qty_producing")["qty_producing"] == 2
    # The rest finishes the chain, no further backorder.
    last = GoodsFinished(
        place=target.cell(), external_work_order_id=name, quantity=4, finished_unix_ms=T0 + 1
    )
    receipt2 = target.deliver_twice(last)
    assert receipt2.record_ids == [backorder["id"]]
    assert target.mo(backorder["id"], "state")["state"] == "done"
    # After everything is done, the same totals are not news; more than that is a dead letter.
    target.deliver(produced(target, name, 10))
    with pytest.raises(PermanentDeliveryError) as err:
        target.deliver(produced(target, name, 12))
    assert "done" in err.value.reason


def test_consumption_with_scrap(target: Target) -> None:
    mo, name = target.new_order("FG", 10)
    target.deliver_twice(produced(target, name, 4))
    consumed = MaterialConsumed(
        place=target.cell(),
        workcenter=target.wc_a,
        external_work_order_id=name,
        component=target.code("A"),
        quantity=7.5,
        window_start_unix_ms=T0,
        window_end_unix_ms=T0 + 60_000,
    )
    receipt = target.deliver_twice(consumed)
    move = target.admin.read_one(
        "stock.move", receipt.record_ids[0], ["quantity", "picked", "product_uom_qty"]
    )
    assert move["quantity"] == 7.5 and move["picked"] is True
    # Odoo must not overwrite the plant's figure when the produced quantity moves on.
    target.deliver_twice(produced(target, name, 5))
    assert target.admin.read_one("stock.move", receipt.record_ids[0], ["quantity"])["quantity"] == 7.5
    # A component outside the BoM becomes a new raw move on the order.
    extra = consumed.model_copy(update={"component": target.code("X"), "quantity": 2.0, "event_id": ""})
    extra = MaterialConsumed.model_validate(extra.model_dump(exclude={"event_id"}))
    receipt_x = target.deliver_twice(extra)
    added = target.admin.read_one(
        "stock.move", receipt_x.record_ids[0], ["product_id", "quantity", "raw_material_production_id"]
    )
    assert added["product_id"][0] == target.data.products[target.code("X")]
    assert added["quantity"] == 2.0 and added["raw_material_production_id"][0] == mo
    # Scrap: cumulative 2, then 3 -> two stock.scrap (2 and 1), each named by its event, validated.
    first = produced(target, name, 5, scrap=2)
    target.deliver_twice(first)
    second = produced(target, name, 6, scrap=3)
    target.deliver_twice(second)
    scraps = target.admin.search_read(
        "stock.scrap", [("production_id", "=", mo)], ["scrap_qty", "origin", "state"], order="id"
    )
    assert [(s["scrap_qty"], s["origin"], s["state"]) for s in scraps] == [
        (2, first.event_id, "done"),
        (1, second.event_id, "done"),
    ]
    # Completing 6 of 10 with 7.5 of A consumed (the BoM says 6) and a shim outside the BoM: Odoo
    # answers with its consumption warning, then its backorder wizard; both answered by context.
    finished = GoodsFinished(
        place=target.cell(), external_work_order_id=name, quantity=6, finished_unix_ms=T0
    )
    receipt_done = target.deliver_twice(finished)
    assert "mrp.consumption.warning" in (receipt_done.detail or "")
    assert "mrp.production.backorder" in (receipt_done.detail or "")
    assert target.mo(mo, "state")["state"] == "done" and len(receipt_done.record_ids) == 2
    consumed_done = target.admin.read_one("stock.move", receipt.record_ids[0], ["quantity", "state"])
    assert consumed_done == {"id": receipt.record_ids[0], "quantity": 7.5, "state": "done"}


def test_downtime_interval(target: Target) -> None:
    started = DowntimeStarted(
        place=target.cell(),
        workcenter=target.wc_a,
        state_code=180000,
        state="unplanned_stop",
        reason="Equipment failure",
        odoo_loss="Equipment Failure",
        started_unix_ms=T0,
    )
    receipt = target.deliver_twice(started)
    block = target.admin.read_one(
        "mrp.workcenter.productivity",
        receipt.record_ids[0],
        ["loss_id", "date_start", "date_end", "description"],
    )
    assert block["loss_id"][1] == "Equipment Failure" and block["date_end"] is False
    assert started.event_id in block["description"] and block["date_start"] == "2025-11-26 09:40:00"
    ended = DowntimeEnded(
        **{**started.model_dump(exclude={"event_id", "contract"}), "ended_unix_ms": T0 + 300_000}
    )
    receipt_end = target.deliver_twice(ended)
    assert receipt_end.record_ids == receipt.record_ids
    closed = target.admin.read_one(
        "mrp.workcenter.productivity", receipt.record_ids[0], ["date_end", "duration", "description"]
    )
    assert closed["date_end"] == "2025-11-26 09:45:00" and closed["duration"] == pytest.approx(5.0)
    assert ended.event_id in closed["description"]


def test_quality_hold_on_work_center_and_order(target: Target) -> None:
    mo, name = target.new_order("FG", 5)
    deviation = QualityDeviation(
        place=target.cell("cell-b"),
        workcenter=target.wc_b,
        tag_path="spindle/temperature",
        value=92.5,
        high=85.0,
        limit="high",
        unit="degC",
        detected_unix_ms=T0,
        external_work_order_id=name,
    )
    receipt = target.deliver_twice(deviation)
    block = target.admin.read_one(
        "mrp.workcenter.productivity", receipt.record_ids[0], ["loss_type", "date_end", "workcenter_id"]
    )
    assert block["loss_type"] == "quality" and block["date_end"] is False
    assert block["workcenter_id"][0] == target.data.workcenters[target.wc_b]
    activities = target.admin.search_read(
        "mail.activity", [("res_model", "=", "mrp.production"), ("res_id", "=", mo)], ["summary", "note"]
    )
    assert len(activities) == 1 and deviation.event_id in activities[0]["note"]


def test_maintenance_request_deduplicated_while_open(target: Target) -> None:
    alarm = MaintenanceRequested(
        place=target.cell(),
        equipment="spindle",
        equipment_serial=f"SP-{target.run}-A",
        trigger="alarm",
        tag_path="spindle/overtemp_alarm",
        priority="high",
        raised_unix_ms=T0,
        alarm_value=True,
    )
    receipt = target.deliver_twice(alarm, ("maintenance.request", [("name", "ilike", "spindle")]))
    request = target.admin.read_one(
        "maintenance.request",
        receipt.record_ids[0],
        ["equipment_id", "priority", "maintenance_type", "description"],
    )
    assert request["equipment_id"][0] == target.data.equipment[f"SP-{target.run}-A"]
    assert request["priority"] == "3" and request["maintenance_type"] == "corrective"
    assert alarm.event_id in request["description"]
    # The same alarm raised again later, while the request is open: no second request.
    again = MaintenanceRequested.model_validate(
        {**alarm.model_dump(exclude={"event_id"}), "raised_unix_ms": T0 + 3_600_000}
    )
    assert again.event_id != alarm.event_id
    receipt_again = target.deliver_twice(again)
    assert receipt_again.record_ids == receipt.record_ids
    # Once the request is done, the alarm opens a new one.
    done_stage = target.admin.search("maintenance.stage", [("done", "=", True)], limit=1)
    target.admin.write("maintenance.request", receipt.record_ids, {"stage_id": done_stage[0]})
    third = MaintenanceRequested.model_validate(
        {**alarm.model_dump(exclude={"event_id"}), "raised_unix_ms": T0 + 7_200_000}
    )
    assert target.deliver_twice(third).record_ids != receipt.record_ids


def test_finished_goods_with_lot(target: Target) -> None:
    mo, name = target.new_order("FGL", 3)
    lot = f"L-{target.run}-1"
    finished = GoodsFinished(
        place=target.cell(), external_work_order_id=name, quantity=3, lot=lot, finished_unix_ms=T0
    )
    receipt = target.deliver_twice(finished)
    assert receipt.record_ids == [mo]
    dialect = target.client.dialect
    order = target.mo(mo, "state", "qty_produced", dialect.lot_producing_field)
    assert order["state"] == "done" and order["qty_produced"] == 3
    lots = target.admin.search_read("stock.lot", [("name", "=", lot)], ["product_id"])
    assert len(lots) == 1 and lots[0]["product_id"][0] == target.data.products[target.code("FGL")]
    assert dialect.lot_producing_ids(order[dialect.lot_producing_field]) == [lots[0]["id"]]


def test_unknown_order_is_a_dead_letter_with_a_reason(target: Target) -> None:
    with pytest.raises(PermanentDeliveryError) as err:
        target.deliver(produced(target, f"NOPE/{target.run}", 1))
    assert "no mrp.production" in err.value.reason


def test_lineage_both_ways(target: Target) -> None:
    from odoo_sync.lineage import events_of_record, records_of_event

    mo, name = target.new_order("FG", 4)
    report = produced(target, name, 2, scrap=1)
    target.deliver(report)
    stop = DowntimeStarted(
        place=target.cell("cell-b"),
        workcenter=target.wc_b,
        state_code=4,
        state="unplanned_stop",
        reason="Tool breakage",
        odoo_loss="Equipment Failure",
        started_unix_ms=T0 + 42,
        external_work_order_id=name,
    )
    block = target.deliver(stop).record_ids[0]
    found = {(r.model, r.id) for r in records_of_event(target.client, report.event_id)}
    assert ("mrp.production", mo) in found
    assert any(model == "stock.scrap" for model, _ in found)
    assert {(r.model, r.id) for r in records_of_event(target.client, stop.event_id)} == {
        ("mrp.workcenter.productivity", block)
    }
    assert events_of_record(target.client, "mrp.production", mo) == [report.event_id]
    assert events_of_record(target.client, "mrp.workcenter.productivity", block) == [stop.event_id]


def test_lost_answers_are_found_by_the_retry(target: Target) -> None:
    """Odoo applies a write but the answer is lost (timeout, dropped connection): the outbox
    delivers again, and the lookups find the write instead of doing it twice."""
    from urllib.parse import urlsplit

    from odoo_sync.writer import OdooWriter
    from tests.contract.harness import outbound
    from tests.contract.lossy_proxy import LossyProxy
    from uns_model.delivery import TransientDeliveryError

    url = urlsplit(target.bridge.url)
    proxy = LossyProxy(url.hostname or "127.0.0.1", url.port or 80)
    writer = OdooWriter(target.bridge.model_copy(update={"url": f"http://127.0.0.1:{proxy.port}"}))
    try:
        mo, name = target.new_order("FG", 10)
        report = produced(target, name, 6)
        proxy.arm(b"set_qty_producing")  # in the JSON-RPC body, in the JSON-2 path
        with pytest.raises(TransientDeliveryError):
            writer.deliver(outbound(report))
        assert proxy.lost == 1 and target.mo(mo, "qty_producing")["qty_producing"] == 6
        assert writer.deliver(outbound(report)).record_ids == [mo]
        done = GoodsFinished(
            place=target.cell(), external_work_order_id=name, quantity=6, finished_unix_ms=T0
        )
        proxy.arm(b'"skip_backorder"')  # the call that completes and splits
        with pytest.raises(TransientDeliveryError):
            writer.deliver(outbound(done))
        assert proxy.lost == 2 and target.mo(mo, "state")["state"] == "done"
        assert writer.deliver(outbound(done)).record_ids[0] == mo
        chain = target.admin.search("mrp.production", [("name", "=like", f"{name}-%")])
        assert len(chain) == 2  # the done order and one backorder, not two
    finally:
        writer.close()
        proxy.close()


def test_events_the_writer_cannot_take_are_dead_letters(target: Target) -> None:
    from tests.contract.harness import outbound
    from uns_model.delivery import OutboundEvent

    good = outbound(produced(target, f"ANY/{target.run}", 1))
    wrong_id = good.model_copy(update={"event_id": "00000000-0000-5000-8000-000000000000"})
    with pytest.raises(PermanentDeliveryError, match="differs"):
        target.writer.deliver(wrong_id)
    broken = OutboundEvent.model_validate(
        {**good.model_dump(), "payload": {**good.payload, "good_quantity": -1}}
    )
    with pytest.raises(PermanentDeliveryError, match="does not fit"):
        target.writer.deliver(broken)
    unknown = OutboundEvent.model_validate(
        {**good.model_dump(), "contract": "x", "payload": {"contract": "x"}}
    )
    with pytest.raises(PermanentDeliveryError):
        target.writer.deliver(unknown)


def test_scrap_of_a_lot_tracked_product_is_scrapped_from_the_orders_lot(target: Target) -> None:
    """Odoo refuses a scrap of a lot-tracked product without a lot ('You need to supply a Lot/Serial
    Number'): the scrap takes the order's producing lot, opened for it when the plant has not named
    one yet, and the plant's lot name takes that lot over when the goods are finished."""
    dialect = target.client.dialect
    lot_field = dialect.lot_producing_field
    mo, name = target.new_order("FGL", 10)
    first = produced(target, name, 4, scrap=1)
    target.deliver_twice(first)
    order = target.mo(mo, "qty_producing", lot_field)
    assert order["qty_producing"] == 4
    opened = dialect.lot_producing_ids(order[lot_field])
    assert len(opened) == 1
    second = produced(target, name, 6, scrap=3)
    target.deliver_twice(second)
    scraps = target.admin.search_read(
        "stock.scrap", [("production_id", "=", mo)], ["scrap_qty", "origin", "state", "lot_id"], order="id"
    )
    assert [(s["scrap_qty"], s["origin"], s["state"], s["lot_id"][0]) for s in scraps] == [
        (1, first.event_id, "done", opened[0]),
        (2, second.event_id, "done", opened[0]),
    ]
    lot = f"L-{target.run}-S"
    finished = GoodsFinished(
        place=target.cell(), external_work_order_id=name, quantity=6, lot=lot, finished_unix_ms=T0
    )
    target.deliver_twice(finished)
    done = target.mo(mo, "state", lot_field)
    assert done["state"] == "done" and dialect.lot_producing_ids(done[lot_field]) == opened
    # One lot: the scrapped and the finished goods of the batch carry the plant's lot name.
    lots = target.admin.search_read(
        "stock.lot", [("product_id", "=", target.data.products[target.code("FGL")])], ["name"]
    )
    assert [r["name"] for r in lots if r["id"] == opened[0]] == [lot]
    assert not [r for r in lots if r["name"] == lot and r["id"] != opened[0]]


def test_backorders_consume_only_what_the_plant_reported(target: Target) -> None:
    """After a split, Odoo gives the backorder fresh component moves (manual_consumption reset from the
    BoM) that set_qty_producing fills with the BoM share and button_mark_done books: on Odoo 18 the
    chain consumed more than the plant reported. The plant's cumulative figures are the chain's."""
    _mo, name = target.new_order("FG", 10)

    def consumed(component: str, quantity: float) -> MaterialConsumed:
        return MaterialConsumed(
            place=target.cell(),
            workcenter=target.wc_a,
            external_work_order_id=name,
            component=target.code(component),
            quantity=quantity,
            window_start_unix_ms=T0,
            window_end_unix_ms=T0 + 60_000,
        )

    def chain_consumed() -> dict[str, float]:
        ids = target.admin.search(
            "mrp.production", ["|", ("name", "=", name), ("name", "=like", f"{name}-%")]
        )
        totals: dict[str, float] = {}
        for m in target.admin.search_read(
            "stock.move",
            [("raw_material_production_id", "in", ids), ("state", "!=", "cancel")],
            ["product_id", "quantity"],
        ):
            code = "A" if m["product_id"][0] == target.data.products[target.code("A")] else "B"
            totals[code] = totals.get(code, 0.0) + m["quantity"]
        return totals

    def finish(quantity: float) -> list[int]:
        event = GoodsFinished(
            place=target.cell(),
            external_work_order_id=name,
            quantity=quantity,
            finished_unix_ms=T0 + int(quantity),
        )
        return target.deliver_twice(event).record_ids

    # The batch is charged first: everything the plant will report is reported before the split.
    target.deliver_twice(consumed("A", 7.5))
    target.deliver_twice(consumed("B", 6))
    target.deliver_twice(produced(target, name, 6))
    backorder = finish(6)[1]
    target.deliver_twice(produced(target, name, 8))
    open_moves = target.admin.search_read(
        "stock.move", [("raw_material_production_id", "=", backorder)], ["quantity"]
    )
    assert [m["quantity"] for m in open_moves] == [0, 0]
    second = finish(2)
    assert target.mo(backorder, "state")["state"] == "done" and len(second) == 2
    assert chain_consumed() == {"A": 7.5, "B": 6}
    # More of A later: it goes to the open backorder, and the chain holds the plant's total again.
    target.deliver_twice(consumed("A", 9))
    target.deliver_twice(produced(target, name, 10))
    finish(2)
    assert chain_consumed() == {"A": 9, "B": 6}


def test_goods_finished_v2_equal_completions_of_an_order_and_its_backorder(target: Target) -> None:
    """goods_finished v2 (the bridge's rules send it) carries the order's finished total: an order and
    its backorder that both finish 5 are two completions, each applied once."""
    from uns_model.events import GoodsFinishedV2

    mo, name = target.new_order("FG", 10)

    def finished(total: float) -> GoodsFinishedV2:
        return GoodsFinishedV2(
            place=target.cell("cell-b"),
            workcenter=target.wc_b,
            external_work_order_id=name,
            quantity=5,
            finished_total=total,
            finished_unix_ms=T0 + int(total),
        )

    target.deliver_twice(produced(target, name, 5))
    first = target.deliver_twice(finished(5))
    assert first.record_ids[0] == mo and len(first.record_ids) == 2
    target.deliver_twice(produced(target, name, 10))
    second = target.deliver_twice(finished(10))
    assert second.record_ids == [first.record_ids[1]]
    chain = target.admin.search_read(
        "mrp.production", [("name", "=like", f"{name}-%")], ["state", "qty_produced"], order="id"
    )
    assert [(c["state"], c["qty_produced"]) for c in chain] == [("done", 5), ("done", 5)]


def test_a_scrap_left_in_draft_by_a_failed_delivery_is_not_scrapped_twice(target: Target) -> None:
    """A delivery whose scrap Odoo refused leaves a draft stock.scrap (named by its event). The next
    report carries the cumulative scrap and takes the draft over; the old event, retried later from
    the dead letters, then finds its quantity scrapped and changes nothing."""
    mo, name = target.new_order("FG", 10)
    old = produced(target, name, 2, scrap=1)
    target.admin.create(
        "stock.scrap",
        {
            "product_id": target.data.products[target.code("FG")],
            "scrap_qty": 1,
            "production_id": mo,
            "origin": old.event_id,
        },
    )
    new = produced(target, name, 4, scrap=3)
    target.deliver_twice(new)
    target.deliver(old)  # `uns outbox retry` of the dead letter
    scraps = target.admin.search_read(
        "stock.scrap", [("production_id", "=", mo)], ["scrap_qty", "origin", "state"], order="id"
    )
    assert [(s["scrap_qty"], s["origin"], s["state"]) for s in scraps] == [(3, new.event_id, "done")]
