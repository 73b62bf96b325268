"""Lineage both ways: the Odoo records an event id made, and the event ids behind an Odoo record."""

from __future__ import annotations

from dataclasses import dataclass

from odoo_sync.client import OdooClient
from odoo_sync.errors import OdooError
from odoo_sync.write_base import event_ids_in

#: Where the writer leaves event ids: (model, field searched).
MARKED_FIELDS: tuple[tuple[str, str], ...] = (
    ("mrp.workcenter.productivity", "description"),
    ("stock.scrap", "origin"),
    ("maintenance.request", "description"),
    ("mail.activity", "note"),
)


@dataclass(frozen=True, slots=True)
class RecordRef:
    model: str
    id: int
    name: str


def records_of_event(client: OdooClient, event_id: str) -> list[RecordRef]:
    """Every record that names the event: marked fields, and chatter notes on orders and requests."""
    found: list[RecordRef] = []
    for model, field in MARKED_FIELDS:
        try:
            rows = client.search_read(model, [(field, "ilike", event_id)], ["display_name"])
        except OdooError:
            continue  # a model the user may not read, or one not installed
        found.extend(RecordRef(model, int(r["id"]), str(r["display_name"])) for r in rows)
    notes = client.search_read(
        "mail.message", [("body", "ilike", event_id)], ["model", "res_id", "record_name"]
    )
    for note in notes:
        ref = RecordRef(str(note["model"]), int(note["res_id"]), str(note["record_name"] or ""))
        if ref not in found:
            found.append(ref)
    return found


def events_of_record(client: OdooClient, model: str, record_id: int) -> list[str]:
    """Event ids named by a record's marked field and by its chatter, oldest first, each once."""
    texts: list[str] = []
    for marked_model, field in MARKED_FIELDS:
        if marked_model == model:
            rows = client.read(model, [record_id], [field])
            texts.extend(str(r[field] or "") for r in rows)
    messages = client.search_read(
        "mail.message",
        [("model", "=", model), ("res_id", "=", record_id), ("body", "ilike", "[uns")],
        ["body"],
        order="id",
    )
    texts.extend(str(m["body"]) for m in messages)
    seen: list[str] = []
    for text in texts:
        for event_id in event_ids_in(text):
            if event_id not in seen:
                seen.append(event_id)
    return seen
