"""What every write handler shares: its context, its outcome, lineage markers and notes, time formats."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from odoo_sync.client import OdooClient
from odoo_sync.lookup import MasterData

#: Quantities closer than this are equal: Odoo rounds to the unit's rounding (0.01 by default).
EPS = 0.005

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(slots=True)
class WriteContext:
    client: OdooClient
    master: MasterData
    backorder_on_short: bool = True
    quality_alert: bool | None = None


@dataclass(slots=True)
class Outcome:
    """What a handler did: the main record(s) and whether anything changed (False on a replay)."""

    model: str
    ids: list[int]
    changed: bool
    notes: list[str] = field(default_factory=list)

    @property
    def detail(self) -> str:
        return "; ".join(self.notes) if self.notes else ("applied" if self.changed else "already applied")


def marker(event_id: str) -> str:
    """The text the bridge leaves in Odoo to name the event behind a record: '[uns:<event id>]'."""
    return f"[uns:{event_id}]"


def event_ids_in(text: str) -> list[str]:
    """Event ids found in a description, note, origin or message body."""
    return _UUID.findall(text or "")


def is_event_id(text: str | bool | None) -> bool:
    return isinstance(text, str) and _UUID.fullmatch(text) is not None


def odoo_datetime(unix_ms: int) -> str:
    """Odoo's datetime wire format, always UTC: 'YYYY-MM-DD HH:MM:SS'."""
    return datetime.fromtimestamp(unix_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def odoo_date(unix_ms: int) -> str:
    return datetime.fromtimestamp(unix_ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def has_note(client: OdooClient, model: str, res_id: int, event_id: str) -> bool:
    domain = [("model", "=", model), ("res_id", "=", res_id), ("body", "ilike", event_id)]
    return client.search_count("mail.message", domain) > 0


def post_note(client: OdooClient, model: str, res_id: int, event_id: str, text: str) -> bool:
    """An internal note on the record's chatter naming the event; once per event and record."""
    if has_note(client, model, res_id, event_id):
        return False
    body = f"UNS bridge: {text} {marker(event_id)}"
    client.call(
        model,
        "message_post",
        [res_id],
        {"body": body, "message_type": "comment", "subtype_xmlid": "mail.mt_note"},
    )
    return True


def recordset_id(value: Any) -> int | None:
    """The first id of a recordset returned over RPC: an int, a list, or its str() 'model(5,)'."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, list) and value:
        return int(value[0])
    if isinstance(value, str):
        found = re.search(r"\((\d+)", value)
        return int(found.group(1)) if found else None
    return None
