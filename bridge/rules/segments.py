"""Cumulative counter quantities split by what a text tag said at each window end (order, lot)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bridge.rules.state import RuleState

KEEP = 32  # finished segments remembered per cell: an order that comes back continues its total


@dataclass(frozen=True, slots=True)
class Advance:
    """What one window close did to a cell's segments."""

    current: str | None
    quantity: dict[str, float] | None
    """Cumulative quantity of the current segment, per counter key (None without a current one)."""
    finished: str | None = None
    finished_quantity: dict[str, float] | None = None


class Segments:
    """One cell's segmentation by one text tag, over a set of cumulative counters.

    A window's counts belong to the value current at the window's end. When the value changes,
    the old segment keeps what was counted up to the previous window end and the new one starts
    from there. Everything derives from the counters' running totals (checkpointed with the
    windows) plus this small state, and a window closed twice (after a crash) is applied once:
    `through` holds the end of the last window applied.
    """

    def __init__(self, state: RuleState, key: str) -> None:
        self._state = state
        self._key = key

    def _load(self) -> dict[str, object]:
        saved = self._state.get(self._key)
        if saved is None:
            return {"cur": None, "base": {}, "acc": {}, "through": -1}
        return dict(saved)

    def advance(
        self,
        value: str | None,
        end_ms: int,
        before: Mapping[str, float],
        after: Mapping[str, float],
    ) -> Advance:
        st = self._load()
        cur = st["cur"]
        base: dict[str, float] = dict(st["base"])  # type: ignore[call-overload]
        acc: dict[str, dict[str, float]] = {k: dict(v) for k, v in st["acc"].items()}  # type: ignore[attr-defined]
        through = int(st["through"])  # type: ignore[call-overload]
        finished: str | None = None
        finished_qty: dict[str, float] | None = None
        if end_ms > through:
            if value != cur:
                if isinstance(cur, str):
                    done = acc.pop(cur, {})
                    for k, v in before.items():
                        done[k] = done.get(k, 0.0) + v - base.get(k, v)
                    acc[cur] = done
                    finished, finished_qty = cur, dict(done)
                    while len(acc) > KEEP:
                        del acc[next(iter(acc))]
                cur = value
                base = dict(before)
            # A counter new to the cell (plant edit) starts counting for the current segment now.
            base.update({k: v for k, v in before.items() if k not in base})
            through = end_ms
            self._state.set(self._key, {"cur": cur, "base": base, "acc": acc, "through": through})
        quantity = None
        if isinstance(cur, str):
            prior = acc.get(cur, {})
            quantity = {k: prior.get(k, 0.0) + v - base.get(k, before.get(k, v)) for k, v in after.items()}
        return Advance(cur if isinstance(cur, str) else None, quantity, finished, finished_qty)
