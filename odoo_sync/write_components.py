"""Components the plant reports itself: which they are on an order chain, and keeping Odoo off them."""

from __future__ import annotations

import html
import re
from typing import Any

from odoo_sync.errors import OdooPermanentError
from odoo_sync.lookup import OrderChain
from odoo_sync.write_base import EPS, WriteContext

MO = "mrp.production"
#: Marker in the chatter note of a material_consumed: the component is reported by the plant.
_COMPONENT = re.compile(r"\[uns-component:([^\]]+)\]")


def component_marker(code: str) -> str:
    return f"[uns-component:{code}]"


def reported_components(ctx: WriteContext, chain: OrderChain) -> set[int]:
    """Product ids of the components the plant has reported consumption of on this chain.

    The bridge's own lineage notes say so (one per material_consumed it applied, on the order it wrote
    to): a move flag cannot, because Odoo resets manual_consumption on the moves of a backorder and
    BoM lines tied to an operation are 'manual' without the plant reporting anything."""
    notes = ctx.client.search_read(
        "mail.message",
        [("model", "=", MO), ("res_id", "in", chain.ids), ("body", "ilike", "[uns-component:")],
        ["body"],
    )
    codes = {html.unescape(c) for n in notes for c in _COMPONENT.findall(str(n["body"] or ""))}
    ids: set[int] = set()
    for code in sorted(codes):
        try:
            ids.add(int(ctx.master.product(code)["id"]))
        except OdooPermanentError:
            continue  # a product renamed or archived since; nothing of it to keep off
    return ids


def settle_unreported(ctx: WriteContext, chain: OrderChain, mo: dict[str, Any]) -> list[str]:
    """On the open order of a chain, the moves of components the plant reports but has not reported on
    this order yet are set to 0, picked and manual, so that neither set_qty_producing (BoM share) nor
    button_mark_done (which picks manual moves with what reservation or set_qty_producing put there)
    books consumption the plant never reported. Their plant figure is on the done orders of the chain;
    the next material_consumed writes the rest here. Odoo 16 has no picked flag: left as it is."""
    client = ctx.client
    if client.dialect.major <= 16:
        return []
    products = reported_components(ctx, chain)
    if not products:
        return []
    moves = client.search_read(
        "stock.move",
        [
            ("raw_material_production_id", "=", int(mo["id"])),
            ("product_id", "in", sorted(products)),
            ("state", "not in", ["done", "cancel"]),
        ],
        ["product_id", "quantity", "picked", "manual_consumption"],
        order="id",
    )
    notes: list[str] = []
    for move in moves:
        if move["picked"] and move["manual_consumption"]:
            continue  # the plant's figure (or a person's), written on this order
        client.write(
            "stock.move",
            [int(move["id"])],
            client.dialect.move_consumed(0.0),
            {"force_manual_consumption": True},
        )
        if float(move["quantity"]) > EPS:
            notes.append(
                f"move {move['id']} {move['product_id'][1]} {move['quantity']:g} -> 0 (not reported)"
            )
    return notes
