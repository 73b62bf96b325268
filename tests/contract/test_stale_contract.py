"""Stale events: an old cumulative report retried after newer ones were delivered never sets Odoo back."""

from __future__ import annotations

from typing import Any

from tests.contract.harness import Target
from uns_model.delivery import DeliveryReceipt
from uns_model.events import GoodsFinished, MaterialConsumed, ProductionReported

T0 = 1_764_150_000_000
MINUTE = 60_000


def produced(
    t: Target, order: str, good: float, minute: int, scrap: float = 0.0, wc: str = "b"
) -> ProductionReported:
    """The report of the window that ends `minute` minutes after T0 (cell-b: the last operation)."""
    return ProductionReported(
        place=t.cell("cell-b" if wc == "b" else "cell-a"),
        workcenter=t.wc_b if wc == "b" else t.wc_a,
        external_work_order_id=order,
        good_quantity=good,
        scrap_quantity=scrap,
        window_start_unix_ms=T0 + (minute - 1) * MINUTE,
        window_end_unix_ms=T0 + minute * MINUTE,
    )


def consumed(t: Target, order: str, component: str, quantity: float, minute: int) -> MaterialConsumed:
    return MaterialConsumed(
        place=t.cell(),
        workcenter=t.wc_a,
        external_work_order_id=order,
        component=t.code(component),
        quantity=quantity,
        window_start_unix_ms=T0 + (minute - 1) * MINUTE,
        window_end_unix_ms=T0 + minute * MINUTE,
    )


def detail(receipt: DeliveryReceipt) -> str:
    return receipt.detail or ""


def moves_of(t: Target, mo: int, component: str) -> list[dict[str, Any]]:
    return t.admin.search_read(
        "stock.move",
        [("raw_material_production_id", "=", mo), ("product_id", "=", t.data.products[t.code(component)])],
        ["quantity", "picked", "state"],
        order="id",
    )


def test_old_production_reports_retried_after_newer_ones_change_nothing(target: Target) -> None:
    mo, name = target.new_order("FG", 10)
    old = produced(target, name, 3, minute=1, scrap=1)
    new = produced(target, name, 6, minute=2, scrap=2)
    target.deliver(old)
    target.deliver(new)
    before = target.snapshot()
    # `uns outbox retry` of the old event (delivered before), and an old one never delivered yet.
    again = target.deliver(old)
    never = target.deliver(produced(target, name, 5, minute=1, scrap=1))
    assert target.snapshot() == before
    assert target.mo(mo, "qty_producing")["qty_producing"] == 6
    scraps = target.admin.search_read("stock.scrap", [("production_id", "=", mo)], ["scrap_qty", "state"])
    assert sum(s["scrap_qty"] for s in scraps if s["state"] == "done") == 2
    for receipt, total in ((again, 3), (never, 5)):
        assert receipt.record_ids == [mo]
        assert detail(receipt).startswith(
            f"stale: Odoo holds good of {name} on {target.cell('cell-b')} 6 >= {total}"
        )
        assert f"from a later event {new.event_id}" in detail(receipt) and "nothing written" in detail(
            receipt
        )
    # The first operation's cell: its work order's quantity is not set back either.
    target.deliver(produced(target, name, 7, minute=2, wc="a"))
    stale = target.deliver(produced(target, name, 4, minute=1, wc="a"))
    wos = target.admin.search_read(
        "mrp.workorder", [("production_id", "=", mo)], ["qty_produced"], order="id"
    )
    assert [w["qty_produced"] for w in wos] == [7, 0] and detail(stale).startswith("stale:")
    # A LOWER total from a LATER window (a counter reset the bridge did not handle) is not written either.
    reset = target.deliver(produced(target, name, 1, minute=9, scrap=2))
    assert target.mo(mo, "qty_producing")["qty_producing"] == 6
    assert detail(reset).startswith("stale:") and "EARLIER window" in detail(reset)
    # The plant's next higher total still writes.
    target.deliver_twice(produced(target, name, 8, minute=3, scrap=2))
    assert target.mo(mo, "qty_producing")["qty_producing"] == 8


def test_old_reports_across_a_backorder_chain_change_nothing(target: Target) -> None:
    """The totals are cumulative over the chain: before the guard, an old report retried after the split
    set the open backorder to max(0, old total - done) = 0, and its components with it."""
    mo, name = target.new_order("FG", 10)
    old_a = consumed(target, name, "A", 4, minute=1)
    target.deliver(old_a)
    target.deliver(consumed(target, name, "A", 7.5, minute=2))
    old_good = produced(target, name, 4, minute=1)
    target.deliver(old_good)
    split_good = produced(target, name, 6, minute=2)
    target.deliver(split_good)
    finished = GoodsFinished(
        place=target.cell(), external_work_order_id=name, quantity=6, finished_unix_ms=T0 + 2 * MINUTE
    )
    backorder = target.deliver(finished).record_ids[1]
    target.deliver(produced(target, name, 8, minute=3))
    target.deliver(consumed(target, name, "A", 9, minute=3))
    assert target.mo(backorder, "qty_producing")["qty_producing"] == 2
    assert [m["quantity"] for m in moves_of(target, backorder, "A")] == [1.5]
    before = target.snapshot()
    for event in (old_good, split_good, old_a, consumed(target, name, "A", 7.5, minute=2)):
        receipt = target.deliver(event)
        assert detail(receipt).startswith("stale:"), detail(receipt)
    assert target.snapshot() == before
    assert target.mo(backorder, "qty_producing")["qty_producing"] == 2
    assert [m["quantity"] for m in moves_of(target, backorder, "A")] == [1.5]
    assert target.mo(mo, "state", "qty_produced") == {"id": mo, "state": "done", "qty_produced": 6}


def test_a_correction_in_odoo_stands_against_old_events_and_newer_ones_still_write(target: Target) -> None:
    """A person lowers what the bridge wrote (the count was wrong): an older event, even one whose total
    is above the correction, does not undo it, nor does a retry of the event that wrote the figure; the
    plant's next higher total writes."""
    mo, name = target.new_order("FG", 10)
    target.deliver(produced(target, name, 5, minute=1))
    wrote = produced(target, name, 8, minute=2)
    target.deliver(wrote)
    target.deliver(consumed(target, name, "A", 4, minute=1))
    used = consumed(target, name, "A", 6, minute=2)
    target.deliver(used)
    target.admin.write("mrp.production", [mo], {"qty_producing": 6})
    (move,) = moves_of(target, mo, "A")
    target.admin.write("stock.move", [move["id"]], {"quantity": 5})
    older = target.deliver(produced(target, name, 7, minute=1, scrap=0))
    assert target.mo(mo, "qty_producing")["qty_producing"] == 6
    assert detail(older).startswith("stale:") and "the order shows 6: changed in Odoo" in detail(older)
    retried = target.deliver(wrote)
    assert target.mo(mo, "qty_producing")["qty_producing"] == 6
    assert "changed in Odoo since: left as it is" in detail(retried)
    older_a = target.deliver(consumed(target, name, "A", 5.5, minute=1))
    target.deliver(used)
    assert moves_of(target, mo, "A")[0]["quantity"] == 5 and detail(older_a).startswith("stale:")
    # Newer, higher totals: written over the correction, as the plant's figures always are.
    target.deliver_twice(produced(target, name, 9, minute=3))
    assert target.mo(mo, "qty_producing")["qty_producing"] == 9
    target.deliver_twice(consumed(target, name, "A", 7, minute=3))
    assert moves_of(target, mo, "A")[0]["quantity"] == 7
