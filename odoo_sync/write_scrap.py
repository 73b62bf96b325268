"""Scrap of finished goods reported by the plant, and the lot it belongs to on lot-tracked products."""

from __future__ import annotations

from typing import Any

from odoo_sync.errors import OdooPermanentError
from odoo_sync.lookup import OrderChain, many2one_id
from odoo_sync.write_base import EPS, WriteContext, is_event_id, marker
from uns_model.events import ProductionReported

MO = "mrp.production"
#: In the note of a lot the bridge opened on an order because scrap came before the plant named its lot.
SCRAP_LOT_MARK = "[uns-scrap-lot]"


def scrap(
    ctx: WriteContext, e: ProductionReported, chain: OrderChain, mo: dict[str, Any] | None
) -> tuple[list[int], float]:
    """Scrap the difference between the plant's cumulative scrap and what the bridge scrapped before.

    One stock.scrap per event that adds scrap, origin = event id (searched first, so a replay finds it).
    Parts scrapped at the machine never reached stock: they leave from the production location. A
    lot-tracked product is scrapped from the order's producing lot: finished goods of a lot that are
    scrapped belong to that lot. A draft left by a delivery that failed (this event's, or an older
    event's whose quantity the cumulative figure now covers) is taken over instead of adding another.

    The good quantity is written before this step in its own Odoo transaction, so a scrap Odoo refuses
    loses no good quantity: the error names the scrap step and Odoo's words, and a retry of the event
    (or the next report, which carries the cumulative scrap) completes it."""
    if e.scrap_quantity <= EPS:
        return [], 0.0
    client = ctx.client
    target = mo or chain.orders[-1]
    product_id = many2one_id(target["product_id"])
    scraps = client.search_read(
        "stock.scrap",
        [("production_id", "in", chain.ids), ("product_id", "=", product_id)],
        ["state", "origin", "scrap_qty"],
        order="id",
    )
    mine = [s for s in scraps if s["origin"] == e.event_id]
    if any(s["state"] == "done" for s in mine):
        return [int(mine[0]["id"])], 0.0
    before = sum(float(s["scrap_qty"]) for s in scraps if s["state"] == "done" and is_event_id(s["origin"]))
    delta = e.scrap_quantity - before
    if delta <= EPS:
        return [], 0.0
    drafts = mine or [s for s in scraps if s["state"] == "draft" and is_event_id(s["origin"])]
    product = ctx.master.product_by_id(product_id or 0)
    step = f"scrap {delta:g} of {product['default_code'] or product['name']} on {target['name']}"
    try:
        location = client.read_one(MO, int(target["id"]), ["production_location_id"])
        values: dict[str, Any] = {
            "product_id": product_id,
            "scrap_qty": delta,
            "product_uom_id": many2one_id(target["product_uom_id"]),
            "production_id": int(target["id"]),
            "location_id": many2one_id(location["production_location_id"]),
            "origin": e.event_id,
        }
        if product["tracking"] != "none":
            values["lot_id"] = producing_lot(ctx, int(target["id"]), e.event_id)
        if drafts:
            scrap_id = int(drafts[0]["id"])
            client.write("stock.scrap", [scrap_id], values)
        else:
            scrap_id = client.create("stock.scrap", values)
        _validate(ctx, scrap_id)
    except OdooPermanentError as exc:
        raise OdooPermanentError(
            f"{step} (production_reported: good quantity {e.good_quantity:g} is written, the scrap is not)",
            exc.name,
            exc.remote_message or str(exc),
        ) from None
    return [scrap_id], delta


def _validate(ctx: WriteContext, scrap_id: int) -> None:
    result = ctx.client.call("stock.scrap", "action_validate", [scrap_id])
    if isinstance(result, dict) and result.get("res_model") == "stock.warn.insufficient.qty.scrap":
        # The production location holds no quants; confirming the warning is what do_scrap does.
        ctx.client.call("stock.scrap", "do_scrap", [scrap_id])


def producing_lot(ctx: WriteContext, mo_id: int, event_id: str) -> int:
    """The order's producing lot; when it has none yet, Odoo opens one (action_generate_serial) and the
    bridge marks it, so that the lot the plant names at goods_finished can take it over (lot_for)."""
    client = ctx.client
    dialect = client.dialect
    field = dialect.lot_producing_field
    current = dialect.lot_producing_ids(client.read_one(MO, mo_id, [field])[field])
    if current:
        return current[0]
    client.call(MO, "action_generate_serial", [mo_id])
    current = dialect.lot_producing_ids(client.read_one(MO, mo_id, [field])[field])
    if not current:
        raise OdooPermanentError(
            f"open a lot on manufacturing order {mo_id}", "", "action_generate_serial set no producing lot"
        )
    client.write(
        "stock.lot",
        current[:1],
        {
            "note": f"Opened by the UNS bridge for scrap reported before the plant named the lot; "
            f"renamed to the plant's lot when the goods are finished. {SCRAP_LOT_MARK} {marker(event_id)}"
        },
    )
    return current[0]


def lot_for(ctx: WriteContext, name: str, product_id: int, mo_id: int | None) -> tuple[int, str | None]:
    """The lot named by the plant (found, or made), and a note when it took over the order's lot.

    A lot the bridge opened on the order for early scrap is renamed to the plant's name when no lot has
    that name yet, so the scrapped and the finished goods are one lot, as on the shop floor."""
    client = ctx.client
    found = client.search("stock.lot", [("name", "=", name), ("product_id", "=", product_id)], limit=1)
    if found:
        return found[0], None
    if mo_id is not None:
        field = client.dialect.lot_producing_field
        current = client.dialect.lot_producing_ids(client.read_one(MO, mo_id, [field])[field])
        if current:
            lot = client.read_one("stock.lot", current[0], ["name", "note"])
            if SCRAP_LOT_MARK in str(lot["note"] or ""):
                client.write("stock.lot", [current[0]], {"name": name, "note": f"Lot {name} of the plant."})
                return current[0], f"lot {lot['name']} (opened for scrap) renamed {name}"
    return client.create("stock.lot", {"name": name, "product_id": product_id}), None
