"""Stale cumulative figures: what the bridge last wrote per order chain, cell and component, from its notes.

The plant's produced and consumed quantities are cumulative and only grow within an order, so the
writer writes them as absolute values. An old event retried from the dead letters (`uns outbox retry`,
`uns outbox replay --since`) after newer ones were delivered would set them back. The bridge's own
lineage notes are the reference, not the figure Odoo shows: Odoo fills qty_producing itself (a work
order started on the tablet sets it to the remaining quantity) and a person may correct it by hand.
Each note of a figure the bridge wrote carries a marker with the exact value and the event's window end:
'[uns-good:<place>=<value>@<window end ms>]', '[uns-consumed:<place>=<value>@<window end ms>]' (with the
component's '[uns-component:<code>]' marker in the same note)."""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from odoo_sync.lookup import OrderChain
from odoo_sync.write_base import EPS, WriteContext, event_ids_in
from odoo_sync.write_components import component_marker

log = logging.getLogger(__name__)

MO = "mrp.production"
_FIGURE = re.compile(r"\[uns-(good|consumed):([^=\]]+)=([^@\]]+)@(\d+)\]")


def figure_marker(kind: str, place: str, value: float, window_end_unix_ms: int) -> str:
    """The marker of a cumulative figure the bridge wrote; repr keeps the float exact (':g' would not)."""
    return f"[uns-{kind}:{place}={float(value)!r}@{window_end_unix_ms}]"


@dataclass(frozen=True, slots=True)
class Written:
    """The highest cumulative figure the bridge wrote for one key, and the event that wrote it."""

    value: float
    event_id: str
    window_end_unix_ms: int


def highest_written(
    ctx: WriteContext, chain: OrderChain, kind: str, place: str, component: str | None = None
) -> Written | None:
    """The highest figure of this kind the bridge noted on the chain's orders for the place (and
    component), or None when it never wrote one there."""
    rows = ctx.client.search_read(
        "mail.message",
        [("model", "=", MO), ("res_id", "in", chain.ids), ("body", "ilike", f"[uns-{kind}:")],
        ["body"],
        order="id",
    )
    best: Written | None = None
    for row in rows:
        body = html.unescape(str(row["body"] or ""))
        if component is not None and component_marker(component) not in body:
            continue
        ids = event_ids_in(body)
        for found in _FIGURE.finditer(body):
            if found.group(1) != kind or found.group(2) != place:
                continue
            try:
                value = float(found.group(3))
            except ValueError:
                continue  # a note edited by hand; the others still count
            written = Written(value, ids[0] if ids else "", int(found.group(4)))
            if best is None or (value, written.window_end_unix_ms) > (best.value, best.window_end_unix_ms):
                best = written
    return best


def is_stale(total: float, prior: Written | None) -> bool:
    """Below what the bridge wrote before: writing it would set the order back."""
    return prior is not None and total < prior.value - EPS


def is_news(total: float, prior: Written | None) -> bool:
    """Above everything the bridge wrote before (or the first figure): the one case that writes."""
    return prior is None or total > prior.value + EPS


def _when(unix_ms: int) -> str:
    return datetime.fromtimestamp(unix_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def stale_detail(
    what: str, total: float, window_end_unix_ms: int, prior: Written, shown: float | None, event_id: str
) -> str:
    """The receipt's detail for a stale event, and a warning when the plant's count went down in time."""
    later = prior.window_end_unix_ms >= window_end_unix_ms
    source = (
        f"from a later event {prior.event_id} (window end {_when(prior.window_end_unix_ms)})"
        if later
        else f"from event {prior.event_id} of an EARLIER window ({_when(prior.window_end_unix_ms)}): "
        "the plant's count went down within the order"
    )
    if not later:
        # Cumulative counts only grow within an order; the bridge resets them on an order change. A
        # newer lower figure means a counter reset it did not handle: kept out of Odoo, but said loudly.
        log.warning(
            "odoo: %s %s of event %s is below %s %s; not written",
            what,
            f"{total:g}",
            event_id,
            f"{prior.value:g}",
            source,
        )
    detail = f"stale: Odoo holds {what} {prior.value:g} >= {total:g} {source}; nothing written"
    if shown is not None and abs(shown - prior.value) > EPS:
        detail += f" (the order shows {shown:g}: changed in Odoo since the bridge wrote it)"
    return detail


def kept_detail(what: str, prior: Written, shown: float) -> str | None:
    """A figure the bridge wrote already, which Odoo shows differently now (changed in Odoo): left so."""
    if abs(shown - prior.value) <= EPS:
        return None
    return (
        f"{what} {prior.value:g} already written by the bridge (event {prior.event_id}); the order shows "
        f"{shown:g}, changed in Odoo since: left as it is until the plant reports more"
    )
