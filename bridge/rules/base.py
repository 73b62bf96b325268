"""What every rule shares: the tag index, text tags over time (order, lot), rule state, event output."""

from __future__ import annotations

import bisect
import logging
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from bridge.ingest import TagIndex, TagInfo
from bridge.metrics import BridgeMetrics
from bridge.rules.state import RuleState
from uns_model.contract_base import Event
from uns_model.delivery import OutboundEvent

log = logging.getLogger("bridge.rules")

HISTORY = 256  # values kept per text tag: enough to look back over a window and its grace period


ERP_ORDER = "erp-order:"  # timeline key prefix of a cell's order as Odoo says (cells without an order tag)
Source = TagInfo | str  # a text tag, or the key of a timeline fed from elsewhere


class TextTimeline:
    """The values of text tags (order, lot) by time, so a rule asks "which order at 10:03:00?".

    A timeline is a text tag's, or one fed from Odoo (`erp-order:<cell>`: the order Odoo has in
    progress on the cell's work center, for cells whose PLC has no order tag). The latest value of
    each is rule state, so that after a restart the current order is known before a birth repeats it.
    """

    def __init__(self, index: TagIndex, state: RuleState) -> None:
        self._state = state
        self._ts: dict[str, list[int]] = {}
        self._values: dict[str, list[str | None]] = {}
        keys = [t.key for t in index.tags if index.is_text[t.idx]]
        keys += [k.removeprefix("text:") for k in state.keys(f"text:{ERP_ORDER}")]
        for key in keys:
            saved = state.get(f"text:{key}")
            if saved is not None:
                self._ts[key] = [int(saved[0])]
                self._values[key] = [saved[1]]

    @staticmethod
    def _key(source: Source) -> str:
        return source if isinstance(source, str) else source.key

    def add(self, source: Source, ts: int, value: Any) -> bool:
        """Record a value; False when it repeats the value already current at that time."""
        key = self._key(source)
        text = None if value is None or value == "" else str(value)
        stamps = self._ts.setdefault(key, [])
        values = self._values.setdefault(key, [])
        i = bisect.bisect_right(stamps, ts)
        if i > 0 and values[i - 1] == text:
            return False
        stamps.insert(i, ts)
        values.insert(i, text)
        if len(stamps) > HISTORY:
            del stamps[0], values[0]
        if i == len(stamps) - 1:
            self._state.set(f"text:{key}", [ts, text])
        return True

    def at(self, source: Source | None, t_ms: int) -> str | None:
        """The value current at t_ms (samples with ts <= t_ms), None if unknown or empty."""
        if source is None:
            return None
        key = self._key(source)
        stamps = self._ts.get(key)
        if not stamps:
            return None
        i = bisect.bisect_right(stamps, t_ms)
        return self._values[key][i - 1] if i else None

    def history(self, source: Source | None) -> tuple[list[int], list[str | None]]:
        """The known changes (time order) and values of a source; read only, shared with the timeline."""
        if source is None:
            return [], []
        key = self._key(source)
        return self._ts.get(key, []), self._values.get(key, [])

    def latest(self, source: Source | None) -> str | None:
        if source is None:
            return None
        values = self._values.get(self._key(source))
        return values[-1] if values else None


@dataclass(slots=True)
class RuleContext:
    """Shared by the rules of one bridge: where events go and what they may look up."""

    index: TagIndex
    state: RuleState
    metrics: BridgeMetrics
    timeline: TextTimeline
    out: list[OutboundEvent] = field(default_factory=list)
    _logged: set[tuple[str, str]] = field(default_factory=set)

    def emit(self, contract: type[Event], at_ms: int, what: str, **fields: Any) -> Event | None:
        """Build an event (validated) and queue it for the outbox; a bad one is logged, not raised."""
        try:
            event = contract(**fields)
        except (ValidationError, ValueError) as exc:
            self.metrics.bad_values.inc(reason="invalid_event")
            self.log_once(what, "invalid_event", f"could not build the event: {exc}")
            return None
        self.out.append(
            OutboundEvent(
                event_id=event.event_id,
                contract=event.CONTRACT,
                version=event.VERSION,
                ordering_key=event.ordering_key,
                payload=event.model_dump(mode="json"),
                created_unix_ms=max(0, int(at_ms)),
            )
        )
        return event

    def take(self) -> list[OutboundEvent]:
        out, self.out = self.out, []
        return out

    def log_once(self, what: str, reason: str, detail: str) -> None:
        if (what, reason) in self._logged:
            return
        self._logged.add((what, reason))
        log.warning("%s: %s: %s (logged once per tag and reason)", what, reason, detail)

    def order_tag(self, cell: str) -> Source:
        """Where a cell's current order comes from: its order tag, else Odoo (`erp-order:<cell>`)."""
        return self.index.cell_tag(cell, "order") or f"{ERP_ORDER}{cell}"

    def lot_tag(self, cell: str) -> TagInfo | None:
        return self.index.cell_tag(cell, "lot")
