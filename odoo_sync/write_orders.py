"""Order writes: produced quantity and scrap, consumed components, finished goods with lot, completion."""

from __future__ import annotations

from typing import Any

from odoo_sync.errors import OdooPermanentError
from odoo_sync.lookup import OrderChain, many2one_id, order_chain
from odoo_sync.write_base import EPS, Outcome, WriteContext, post_note
from odoo_sync.write_components import component_marker, settle_unreported
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


def production_reported(ctx: WriteContext, e: ProductionReported) -> Outcome:
    chain = order_chain(ctx.client, e.external_work_order_id)
    mo = chain.open_order
    done = chain.produced_in_done
    out = Outcome(MO, chain.ids[-1:], changed=False)
    if mo is None:
        error = _closed_order(chain, e.good_quantity, done, "production report")
        if error:
            raise error
        out.notes.append(f"{chain.ref} is done with {done:g}; nothing to change")
    else:
        out.ids = [int(mo["id"])]
        target = max(0.0, e.good_quantity - done)
        last, wo_id = _is_last_operation(ctx, mo, e.workcenter)
        if last:
            if abs(float(mo["qty_producing"]) - target) > EPS:
                set_qty_producing(ctx, int(mo["id"]), target)
                out.changed = True
                out.notes.append(f"{mo['name']} qty_producing {mo['qty_producing']:g} -> {target:g}")
            settled = settle_unreported(ctx, chain, mo)
            out.changed = out.changed or bool(settled)
            out.notes.extend(settled)
        elif wo_id is not None:
            wo = ctx.client.read_one("mrp.workorder", wo_id, ["qty_produced", "workcenter_id"])
            # The cell's count covers its work orders of the whole chain, like the order's count does.
            done_ids = [int(o["id"]) for o in chain.done_orders]
            earlier = (
                ctx.client.search_read(
                    "mrp.workorder",
                    [
                        ("production_id", "in", done_ids),
                        ("workcenter_id", "=", many2one_id(wo["workcenter_id"])),
                    ],
                    ["qty_produced"],
                )
                if done_ids
                else []
            )
            target = max(0.0, e.good_quantity - sum(float(w["qty_produced"]) for w in earlier))
            if abs(float(wo["qty_produced"]) - target) > EPS:
                ctx.client.write("mrp.workorder", [wo_id], {"qty_produced": target})
                out.changed = True
                out.notes.append(f"work order {wo_id} qty_produced {wo['qty_produced']:g} -> {target:g}")
    scrap_ids, scrapped = scrap(ctx, e, chain, mo)
    if scrapped:
        out.changed = True
        out.notes.append(f"stock.scrap {scrap_ids[-1]} ({scrapped:g})")
    if out.changed:
        post_note(
            ctx.client,
            MO,
            out.ids[0],
            e.event_id,
            f"production_reported from {e.place} ({e.workcenter}): good {e.good_quantity:g}, "
            f"scrap {e.scrap_quantity:g} for {chain.ref} so far",
        )
    return out


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
    mo = chain.open_order
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
        f"for {chain.ref} so far {component_marker(e.component)}",
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
