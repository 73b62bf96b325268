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


class TextTimeline:
    """The values of text tags (order, lot) by time, so a rule asks "which order at 10:03:00?".

    The latest value of each tag is part of the rule state, so that after a restart the current
    order is known before the edge node's birth repeats it.
    """

    def __init__(self, index: TagIndex, state: RuleState) -> None:
        self._index = index
        self._state = state
        self._ts: dict[int, list[int]] = {}
        self._values: dict[int, list[str | None]] = {}
        for tag in index.tags:
            if index.is_text[tag.idx]:
                saved = state.get(f"text:{tag.key}")
                if saved is not None:
                    self._ts[tag.idx] = [int(saved[0])]
                    self._values[tag.idx] = [saved[1]]

    def add(self, tag: TagInfo, ts: int, value: Any) -> bool:
        """Record a value; False when it repeats the value already current at that time."""
        text = None if value is None or value == "" else str(value)
        stamps = self._ts.setdefault(tag.idx, [])
        values = self._values.setdefault(tag.idx, [])
        i = bisect.bisect_right(stamps, ts)
        if i > 0 and values[i - 1] == text:
            return False
        stamps.insert(i, ts)
        values.insert(i, text)
        if len(stamps) > HISTORY:
            del stamps[0], values[0]
        if i == len(stamps) - 1:
            self._state.set(f"text:{tag.key}", [ts, text])
        return True

    def at(self, tag: TagInfo | None, t_ms: int) -> str | None:
        """The value current at t_ms (samples with ts <= t_ms), None if unknown or empty."""
        if tag is None:
            return None
        stamps = self._ts.get(tag.idx)
        if not stamps:
            return None
        i = bisect.bisect_right(stamps, t_ms)
        return self._values[tag.idx][i - 1] if i else None

    def latest(self, tag: TagInfo | None) -> str | None:
        if tag is None:
            return None
        values = self._values.get(tag.idx)
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

    def order_tag(self, cell: str) -> TagInfo | None:
        return self.index.cell_tag(cell, "order")

    def lot_tag(self, cell: str) -> TagInfo | None:
        return self.index.cell_tag(cell, "lot")
