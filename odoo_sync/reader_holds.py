"""Quality holds as Odoo keeps them: quality-loss blocks on work centers (and Enterprise quality alerts)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from odoo_sync.client import OdooClient
from odoo_sync.lookup import many2one_id
from uns_model.erp import QualityHoldRaised, QualityHoldReleased
from uns_model.topics import Place

ODOO_FMT = "%Y-%m-%d %H:%M:%S"
_MARKERS = re.compile(r"\s*\[uns[-a-z]*:[^\]]*\]")
BLOCK_FIELDS = [
    "workcenter_id",
    "loss_id",
    "description",
    "date_start",
    "date_end",
    "write_date",
    "production_id",
]


def _utc_ms(text: str) -> int:
    return int(datetime.strptime(text[:19], ODOO_FMT).replace(tzinfo=UTC).timestamp() * 1000)


def _fingerprint(row: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(row.get(f)) for f in BLOCK_FIELDS)


class HoldReader:
    """A hold is raised while a quality-loss time log of a work center is open (the work center shows
    blocked) and released when it is closed (Odoo's Unblock button, or date_end written)."""

    def __init__(self, client: OdooClient, lines: dict[str, Place]) -> None:
        self.client = client
        self._lines = lines
        self._seen: dict[int, tuple[str, ...]] = {}
        self.published: dict[int, tuple[str, str]] = {}  # block id -> (line, ref) retained now
        self._codes: dict[int, str | None] = {}
        self.last_rows: list[dict[str, Any]] = []

    def poll(self, since: str | None) -> list[Any]:
        domain: list[Any] = [("loss_type", "=", "quality")]
        domain.append(("date_end", "=", False) if since is None else ("write_date", ">=", since))
        rows = self.client.search_read("mrp.workcenter.productivity", domain, BLOCK_FIELDS, order="id")
        self.last_rows = rows
        # Same-second changes keep write_date: the fingerprint is the content, not the stamp.
        rows = [r for r in rows if self._seen.get(int(r["id"])) != _fingerprint(r)]
        self._learn(rows)
        changes: list[Any] = []
        for row in rows:
            self._seen[int(row["id"])] = _fingerprint(row)
            code = self._codes.get(many2one_id(row["workcenter_id"]) or 0)
            if not code or code not in self._lines:
                continue
            line = self._lines[code].path
            ref = f"{code}/QH/{row['id']}"
            order = row.get("production_id")
            if not row["date_end"]:
                if int(row["id"]) in self.published:
                    continue
                reason = _MARKERS.sub("", str(row["description"] or "")).strip()
                changes.append(
                    QualityHoldRaised(
                        place=line,
                        hold_ref=ref,
                        odoo_id=int(row["id"]),
                        reason=reason or str((row["loss_id"] or [0, "quality"])[1]),
                        external_work_order_id=order[1] if isinstance(order, list) else None,
                        raised_unix_ms=_utc_ms(row["date_start"]),
                    )
                )
                self.published[int(row["id"])] = (line, ref)
            else:
                self.published.pop(int(row["id"]), None)
                changes.append(
                    QualityHoldReleased(
                        place=line,
                        hold_ref=ref,
                        odoo_id=int(row["id"]),
                        released_unix_ms=_utc_ms(row["date_end"]),
                    )
                )
        return changes

    def _learn(self, rows: list[dict[str, Any]]) -> None:
        missing = {many2one_id(r["workcenter_id"]) for r in rows} - set(self._codes) - {None}
        if missing:
            for wc in self.client.read("mrp.workcenter", sorted(i for i in missing if i), ["code"]):
                self._codes[int(wc["id"])] = wc["code"] or None
