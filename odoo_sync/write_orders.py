"""Order writes: produced quantity and scrap, consumed components, finished goods with lot, completion."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from odoo_sync.errors import OdooPermanentError
from odoo_sync.lookup import OrderChain, many2one_id, order_chain
from odoo_sync.write_base import EPS, Outcome, WriteContext, post_note
from odoo_sync.write_components import component_marker, settle_unreported
from odoo_sync.write_guard import figure_marker, highest_written, is_news, is_stale, kept_detail, stale_detail
from odoo_sync.write_scrap import lot_for, scrap
from uns_model.events import GoodsFinished, GoodsFinishedV2, MaterialConsumed, ProductionReported

MO = "mrp.production"


def _closed_order(chain: OrderChain, reported: float, done: float, what: str) -> OdooPermanentError | None:
    """None when a report about an order that is all done says nothing new; else the error to raise."""
    if reported <= done + EPS:
        return None
    return OdooPermanentError(
        f"{what} for {chain.ref}",
        "",
        f"every order of {chain.ref} is done or cancelled with {done:g}, the plant reports {reported:g}; "
        "reopen the order (or reset the plant's order tag)",
    )


def _is_last_operation(
    ctx: WriteContext, mo: dict[str, Any], workcenter_code: str
) -> tuple[bool, int | None]:
    """Whether the cell's count is the order's output (last operation, or no operation on that cell),
    and else the work order of that cell."""
    if not mo["workorder_ids"]:
        return True, None
    wc_id = int(ctx.master.workcenter(workcenter_code)["id"])
    wos = ctx.client.read("mrp.workorder", mo["workorder_ids"], ["workcenter_id", "qty_produced", "state"])
    wos.sort(key=lambda w: int(w["id"]))
    mine = [w for w in wos if many2one_id(w["workcenter_id"]) == wc_id]
    if not mine or mine[-1]["id"] == wos[-1]["id"]:
        return True, None
    return False, int(mine[-1]["id"])


def set_qty_producing(ctx: WriteContext, mo_id: int, qty: float, extra: dict[str, Any] | None = None) -> None:
    """Set the quantity being produced and let Odoo apply it to the component moves it manages
    (moves the plant reports itself are manual and picked, so Odoo leaves them alone)."""
    ctx.client.write(MO, [mo_id], {"qty_producing": qty, **(extra or {})})
    if ctx.client.dialect.has_set_qty_producing:
        ctx.client.call(MO, "set_qty_producing", [mo_id])


@dataclass(slots=True)
class _Cell:
    """Where a cell's good count goes on the open order, and the chain's figure for it Odoo shows now."""

    last: bool
    wo_id: int | None
    shown: float
    in_done: float
    current: float


def _cell_figure(
    ctx: WriteContext, chain: OrderChain, mo: dict[str, Any] | None, e: ProductionReported
) -> _Cell:
    done = chain.produced_in_done
    if mo is None:
        return _Cell(True, None, done, done, 0.0)
    last, wo_id = _is_last_operation(ctx, mo, e.workcenter)
    if last or wo_id is None:
        return _Cell(last, wo_id, done + float(mo["qty_producing"]), done, float(mo["qty_producing"]))
    wo = ctx.client.read_one("mrp.workorder", wo_id, ["qty_produced", "workcenter_id"])
    # The cell's count covers its work orders of the whole chain, like the order's count does.
    done_ids = [int(o["id"]) for o in chain.done_orders]
    earlier = (
        ctx.client.search_read(
            "mrp.workorder",
            [("production_id", "in", done_ids), ("workcenter_id", "=", many2one_id(wo["workcenter_id"]))],
            ["qty_produced"],
        )
        if done_ids
        else []
    )
    in_done = sum(float(w["qty_produced"]) for w in earlier)
    return _Cell(False, wo_id, in_done + float(wo["qty_produced"]), in_done, float(wo["qty_produced"]))


def production_reported(ctx: WriteContext, e: ProductionReported) -> Outcome:
    chain = order_chain(ctx.client, e.external_work_order_id)
    mo = chain.open_order
    out = Outcome(MO, [int(mo["id"])] if mo else chain.ids[-1:], changed=False)
    cell = _cell_figure(ctx, chain, mo, e)
    prior = highest_written(ctx, chain, "good", e.place)
    if is_stale(e.good_quantity, prior):
        assert prior is not None
        what = f"good of {chain.ref} on {e.place}"
        out.notes.append(
            stale_detail(what, e.good_quantity, e.window_end_unix_ms, prior, cell.shown, e.event_id)
        )
        return out  # its scrap is covered by the later event's: cumulative scrap grows with the count
    news = is_news(e.good_quantity, prior)
    if mo is None:
        error = _closed_order(chain, e.good_quantity, cell.in_done, "production report")
        if error:
            raise error
        out.notes.append(f"{chain.ref} is done with {cell.in_done:g}; nothing to change")
    elif not news:
        assert prior is not None
        kept = kept_detail(f"good {e.place}", prior, cell.shown)
        out.notes.extend([kept] if kept else [])
    else:
        target = max(0.0, e.good_quantity - cell.in_done)
        if cell.last:
            if abs(cell.current - target) > EPS:
                set_qty_producing(ctx, int(mo["id"]), target)
                out.changed = True
                out.notes.append(f"{mo['name']} qty_producing {cell.current:g} -> {target:g}")
            settled = settle_unreported(ctx, chain, mo)
            out.changed = out.changed or bool(settled)
            out.notes.extend(settled)
        elif cell.wo_id is not None and abs(cell.current - target) > EPS:
            ctx.client.write("mrp.workorder", [cell.wo_id], {"qty_produced": target})
            out.changed = True
            out.notes.append(f"work order {cell.wo_id} qty_produced {cell.current:g} -> {target:g}")
    if mo is not None and news:
        # Noted before the scrap step: a refused scrap must not leave the good figure unguarded.
        _production_note(ctx, out.ids[0], e, chain)
    scrap_ids, scrapped = scrap(ctx, e, chain, mo)
    if scrapped:
        out.changed = True
        out.notes.append(f"stock.scrap {scrap_ids[-1]} ({scrapped:g})")
        _production_note(ctx, out.ids[0], e, chain)
    return out


def _production_note(ctx: WriteContext, mo_id: int, e: ProductionReported, chain: OrderChain) -> None:
    post_note(
        ctx.client,
        MO,
        mo_id,
        e.event_id,
        f"production_reported from {e.place} ({e.workcenter}): good {e.good_quantity:g}, "
        f"scrap {e.scrap_quantity:g} for {chain.ref} so far "
        f"{figure_marker('good', e.place, e.good_quantity, e.window_end_unix_ms)}",
    )


def material_consumed(ctx: WriteContext, e: MaterialConsumed) -> Outcome:
    client = ctx.client
    done_field = client.dialect.move_done_field
    chain = order_chain(client, e.external_work_order_id)
    product = ctx.master.product(e.component)
    moves = client.search_read(
        "stock.move",
        [("raw_material_production_id", "in", chain.ids), ("product_id", "=", product["id"])],
        ["state", *_flags(client), done_field, "product_uom_qty", "raw_material_production_id"],
        order="id",
    )
    consumed_done = sum(float(m[done_field]) for m in moves if m["state"] == "done")
    shown = sum(float(m[done_field]) for m in moves if m["state"] != "cancel")
    mo = chain.open_order
    prior = highest_written(ctx, chain, "consumed", e.place, e.component)
    open_ids = [int(m["id"]) for m in moves if m["state"] not in ("done", "cancel")]
    if is_stale(e.quantity, prior):
        assert prior is not None
        what = f"{e.component} consumed by {chain.ref} on {e.place}"
        detail = stale_detail(what, e.quantity, e.window_end_unix_ms, prior, shown, e.event_id)
        return Outcome("stock.move", open_ids, False, [detail])
    if mo is not None and not is_news(e.quantity, prior):
        assert prior is not None
        kept = kept_detail(f"{e.component} consumed on {e.place}", prior, shown)
        return Outcome("stock.move", open_ids, False, [kept] if kept else [])
    if mo is None:
        error = _closed_order(chain, e.quantity, consumed_done, f"consumption of {e.component}")
        if error:
            raise error
        return Outcome("stock.move", [int(m["id"]) for m in moves], False, [f"{chain.ref} is done"])
    target = max(0.0, e.quantity - consumed_done)
    mine = [
        m
        for m in moves
        if many2one_id(m["raw_material_production_id"]) == mo["id"] and m["state"] not in ("done", "cancel")
    ]
    manual = {"force_manual_consumption": True}
    out = Outcome("stock.move", [int(m["id"]) for m in mine], changed=False)
    if mine:
        # Fill the moves in order up to their demand; the last one takes whatever is left.
        left = target
        for i, move in enumerate(mine):
            share = left if i == len(mine) - 1 else min(left, float(move["product_uom_qty"]))
            left -= share
            # The flags matter as much as the figure: a move Odoo filled (BoM share) that happens to hold
            # the plant's figure must still become the plant's, or Odoo moves it on again.
            owned = all(move.get(f, True) for f in _flags(client))
            if abs(float(move[done_field]) - share) > EPS or not owned:
                client.write("stock.move", [int(move["id"])], client.dialect.move_consumed(share), manual)
                out.changed = True
                out.notes.append(f"move {move['id']} {e.component} {move[done_field]:g} -> {share:g}")
    elif target > EPS:
        # A component outside the BoM: a new raw move on the order, as Odoo's form would add it.
        values = {
            "product_id": product["id"],
            "product_uom_qty": target,
            "product_uom": many2one_id(product["uom_id"]),
            **client.dialect.move_consumed(target),
        }
        client.write(MO, [int(mo["id"])], {"move_raw_ids": [(0, 0, values)]}, manual)
        added = client.search(
            "stock.move",
            [("raw_material_production_id", "=", mo["id"]), ("product_id", "=", product["id"])],
            order="id desc",
            limit=1,
        )
        out.ids = added
        out.changed = True
        out.notes.append(f"added {e.component} ({target:g}) to {mo['name']} outside its BoM")
    # Always (once per event and order): the note also records that the plant reports this component
    # on the chain, which keeps Odoo's BoM share off its moves on later backorders (settle_unreported).
    post_note(
        client,
        MO,
        int(mo["id"]),
        e.event_id,
        f"material_consumed from {e.place} ({e.workcenter}): {e.component} {e.quantity:g} "
        f"for {chain.ref} so far {component_marker(e.component)} "
        f"{figure_marker('consumed', e.place, e.quantity, e.window_end_unix_ms)}",
    )
    return out


def _flags(client: Any) -> tuple[str, ...]:
    """The move flags that make a consumed quantity the reporter's own (17+: picked and manual)."""
    return () if client.dialect.major <= 16 else ("picked", "manual_consumption")


def goods_finished(ctx: WriteContext, e: GoodsFinished) -> Outcome:
    client = ctx.client
    dialect = client.dialect
    lot_field = dialect.lot_producing_field
    chain = order_chain(client, e.external_work_order_id, (lot_field,))
    product = ctx.master.product_by_id(many2one_id(chain.orders[0]["product_id"]) or 0)
    tracked = product["tracking"] != "none"
    named = (
        client.search("stock.lot", [("name", "=", e.lot), ("product_id", "=", product["id"])], limit=1)
        if (e.lot and tracked)
        else []
    )
    lot_id: int | None = named[0] if named else None
    # A replay. v2 knows the order's finished total: done when the chain's done orders reach it. v1
    # only has this quantity and lot: an order of the chain already done with them.
    if (
        isinstance(e, GoodsFinishedV2)
        and chain.done_orders
        and chain.produced_in_done >= e.finished_total - EPS
    ):
        last = chain.done_orders[-1]
        post_note(client, MO, int(last["id"]), e.event_id, _finished_text(e))
        return Outcome(MO, [int(last["id"])], False, [f"{chain.ref} already finished {e.finished_total:g}"])
    for done in [] if isinstance(e, GoodsFinishedV2) else chain.done_orders:
        lots = dialect.lot_producing_ids(done.get(lot_field))
        same_lot = (lot_id in lots) if lot_id else not (tracked and e.lot)
        if same_lot and abs(float(done["qty_produced"]) - e.quantity) <= EPS:
            post_note(client, MO, int(done["id"]), e.event_id, _finished_text(e))
            return Outcome(MO, [int(done["id"])], False, [f"{done['name']} already done with {e.quantity:g}"])
    mo = chain.open_order
    if mo is None:
        raise OdooPermanentError(
            f"finish {e.quantity:g} of {chain.ref}", "", "no order of the chain is open any more"
        )
    if product["tracking"] == "serial" and e.quantity > 1 + EPS:
        raise OdooPermanentError(
            f"finish {e.quantity:g} of {chain.ref}",
            "",
            "serial-tracked product: send one goods_finished per serial number (quantity 1)",
        )
    mo_id = int(mo["id"])
    notes: list[str] = []
    extra: dict[str, Any] = {}
    if e.lot and tracked:
        if lot_id is None:
            lot_id, took_over = lot_for(ctx, e.lot, int(product["id"]), mo_id)
            notes.extend([took_over] if took_over else [])
        extra[lot_field] = dialect.lot_producing_value(lot_id)
        notes.append(f"lot {e.lot} (stock.lot {lot_id})")
    elif tracked and not dialect.lot_producing_ids(mo.get(lot_field)):
        client.call(MO, "action_generate_serial", [mo_id])
        notes.append("lot generated by Odoo")
    elif e.lot:
        notes.append(f"lot {e.lot} ignored: {product['default_code'] or product['name']} is not lot-tracked")
    set_qty_producing(ctx, mo_id, e.quantity, extra)
    notes.extend(settle_unreported(ctx, chain, mo))
    short = float(mo["product_qty"]) - e.quantity > EPS
    wizards = mark_done(ctx, mo_id, backorder=short and ctx.backorder_on_short)
    if wizards:
        notes.append("answered " + ", ".join(wizards))
    after = order_chain(client, e.external_work_order_id)
    ids = [mo_id]
    backorder = after.open_order
    if short and backorder is not None:
        ids.append(int(backorder["id"]))
        notes.append(f"backorder {backorder['name']} for {float(backorder['product_qty']):g}")
    post_note(client, MO, mo_id, e.event_id, _finished_text(e))
    return Outcome(MO, ids, True, [f"done {e.quantity:g}", *notes])


def _finished_text(e: GoodsFinished) -> str:
    lot = f", lot {e.lot}" if e.lot else ""
    return f"goods_finished from {e.place}: {e.quantity:g}{lot} of {e.external_work_order_id}"


#: The wizards button_mark_done may answer with, and the context that answers each of them.
def _answer(model: str, mo_id: int, backorder: bool) -> dict[str, Any]:
    if model == "mrp.production.backorder":
        return {"skip_backorder": True, "mo_ids_to_backorder": [mo_id] if backorder else []}
    if model == "mrp.consumption.warning":
        return {"skip_consumption": True}
    if model == "mrp.immediate.production":
        return {"skip_immediate": True}
    if model == "mrp.batch.produce":
        raise OdooPermanentError(
            "mark the order done", "", "Odoo asks for serial numbers (mrp.batch.produce); send one per unit"
        )
    raise OdooPermanentError(
        "mark the order done", "", f"Odoo answered with a wizard the bridge does not know: {model}"
    )


def mark_done(ctx: WriteContext, mo_id: int, *, backorder: bool) -> list[str]:
    """button_mark_done, answering each wizard it returns by its context, until the order is done."""
    context: dict[str, Any] = {}
    answered: list[str] = []
    for _ in range(5):
        result = ctx.client.call(MO, "button_mark_done", [mo_id], context=context or None)
        state = ctx.client.read_one(MO, mo_id, ["state"])["state"]
        if state == "done":
            return answered
        wizard = result.get("res_model") if isinstance(result, dict) else None
        if not wizard or wizard in answered:
            raise OdooPermanentError(
                "mark the order done", "", f"button_mark_done answered {result!r}; the order is still {state}"
            )
        context.update(_answer(str(wizard), mo_id, backorder))
        answered.append(str(wizard))
    raise OdooPermanentError("mark the order done", "", "too many wizards in a row")
