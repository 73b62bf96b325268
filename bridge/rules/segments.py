"""Cumulative counter quantities split by a text tag over time (order, lot), at the sample's own time."""

from __future__ import annotations

import bisect
import copy
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bridge.rules.base import Source, TextTimeline
from bridge.rules.state import RuleState

KEEP = 32  # values remembered per cell: an order that comes back continues its total

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Steps = Mapping[str, tuple[I64, F64]]
"""Counter key -> (timestamps, quantities) of its non-zero increments in one window close."""
Totals = Mapping[str, tuple[float, float]]
"""Counter key -> (delta in the window, running total after it); only to read an old state format."""


@dataclass(frozen=True, slots=True)
class Run:
    """A stretch of time in one close during which the text tag had one value, and what it counted."""

    value: str | None
    quantity: dict[str, float]
    """Counted in this close while the value was current, per counter key."""
    total: dict[str, float] | None
    """The value's cumulative quantity after this close (None when the value is None: unattributed)."""
    ended_ms: int | None = None
    """Time of the change that ended the value, when it ended in this close."""
    completion: dict[str, float] | None = None
    """When it ended: its quantity since its previous end (an order that comes back ends again)."""
    late: bool = False
    """Counts that arrived after the value had already ended (store-and-forward across a change)."""

    @property
    def moved(self) -> bool:
        return any(v != 0 for v in self.quantity.values())


class Segments:
    """One cell's quantities per value of one text tag (its order, or its lot), cumulative per value.

    Each counter increment belongs to the value current at the time of the sample that showed it,
    excluding a change at that same time: an order change at t takes the counter samples stamped at or
    before t for the old order, so a PLC or edge node that publishes the old order's final count
    together with the change (one Sparkplug message, one timestamp) books it on the old order. Late
    increments (store-and-forward) are booked by their own times too, when they come.

    The state is small (current value, when it began, cumulative quantity per value, quantity at each
    value's last end, and `through`, the end of the last window applied): a window closed twice (after
    a crash) is applied once, and its events, already in the outbox, are not made again.
    """

    def __init__(self, state: RuleState, key: str, timeline: TextTimeline, source: Source | None) -> None:
        self._state = state
        self._key = key
        self._timeline = timeline
        self._source = source

    def _load(self, totals: Totals) -> dict[str, object]:
        saved = self._state.get(self._key)
        if saved is None:
            return {"v": 2, "cur": None, "since": -1, "acc": {}, "fin": {}, "through": -1}
        if "base" not in saved:
            return dict(saved)
        # State of the bridge before time attribution: the current segment was (running total - base).
        cur = saved["cur"]
        acc = {k: dict(v) for k, v in saved["acc"].items()}
        fin = {k: dict(v) for k, v in acc.items() if k != cur}
        if isinstance(cur, str):
            mine = acc.setdefault(cur, {})
            for k, base in saved["base"].items():
                if k in totals:
                    delta, total = totals[k]
                    mine[k] = mine.get(k, 0.0) + (total - delta) - base
        through = int(saved["through"])
        stamps, _ = self._timeline.history(self._source)
        i = bisect.bisect_right(stamps, through - 1) - 1
        return {
            "v": 2,
            "cur": cur,
            "since": stamps[i] if i >= 0 else -1,
            "acc": acc,
            "fin": fin,
            "through": through,
        }

    def peek(self, end_ms: int, steps: Steps, totals: Totals) -> list[Run] | None:
        """What `advance` would return for these increments, changing nothing (a final report of an
        order at its change, before the window that holds the change closes)."""
        return self.advance(end_ms, steps, totals, save=False)

    def advance(self, end_ms: int, steps: Steps, totals: Totals, *, save: bool = True) -> list[Run] | None:
        """Book this close's increments (any times up to end_ms); None when this window was applied.

        `totals` (counter key -> (delta, running total)) keeps the books exact across a crash between
        the rule state and the window checkpoint: what was booked is remembered as running totals.
        """
        st = self._load(totals)
        if not save:
            st = copy.deepcopy(st)
        through = int(st["through"])  # type: ignore[call-overload]
        if end_ms <= through:
            return None
        cur = st["cur"] if isinstance(st["cur"], str) else None
        since = int(st["since"])  # type: ignore[call-overload]
        acc: dict[str, dict[str, float]] = st["acc"]  # type: ignore[assignment]
        fin: dict[str, dict[str, float]] = st["fin"]  # type: ignore[assignment]

        booked: dict[str, float] = dict(st.get("booked") or {})  # type: ignore[call-overload]
        steps = self._unbooked(steps, totals, booked)

        stamps, values = self._timeline.history(self._source)
        k0 = bisect.bisect_right(stamps, since) - 1
        kend = max(k0, bisect.bisect_right(stamps, end_ms - 1) - 1)
        run_values: list[str | None] = [cur]
        run_start = [since]
        run_of = np.zeros(kend - k0 + 1, np.int64)
        for j in range(k0 + 1, kend + 1):
            if values[j] != run_values[-1]:
                run_values.append(values[j])
                run_start.append(stamps[j])
            run_of[j - k0] = len(run_values) - 1

        keys = list(steps)
        nk, nr = len(keys), len(run_values)
        per_run = np.zeros((nr, nk))
        past: list[tuple[str | None, F64]] = []
        if nk:
            ts = np.concatenate([steps[k][0] for k in keys])
            d = np.concatenate([steps[k][1] for k in keys])
            key_id = np.repeat(np.arange(nk), [steps[k][0].shape[0] for k in keys])
            if ts.shape[0] and (nr == 1 and (k0 < 0 or int(ts.min()) - 1 >= stamps[k0])):
                per_run[0] = np.bincount(key_id, weights=d, minlength=nk)
            elif ts.shape[0]:
                e = np.searchsorted(np.asarray(stamps, np.int64), ts - 1, side="right") - 1
                old = e < k0
                now = ~old
                idx = run_of[e[now] - k0] * nk + key_id[now]
                per_run = np.asarray(np.bincount(idx, weights=d[now], minlength=nr * nk), np.float64)
                per_run = per_run.reshape(nr, nk)
                if old.any():
                    for j in np.unique(e[old]).tolist():
                        sel = old & (e == j)
                        q = np.asarray(np.bincount(key_id[sel], d[sel], nk), np.float64)
                        past.append((values[j] if j >= 0 else None, q))

        out: list[Run] = []
        for value, q in past:
            qty = dict(zip(keys, q.tolist(), strict=True))
            out.append(Run(value, qty, self._book(acc, value, qty), late=True))
        for r, value in enumerate(run_values):
            qty = dict(zip(keys, per_run[r].tolist(), strict=True))
            total = self._book(acc, value, qty)
            ended = run_start[r + 1] if r + 1 < nr else None
            completion = None
            if ended is not None and value is not None:
                before = fin.get(value, {})
                now_total = acc.get(value, {})
                completion = {k: v - before.get(k, 0.0) for k, v in now_total.items()}
                fin.pop(value, None)
                fin[value] = dict(now_total)
            out.append(Run(value, qty, total, ended, completion))
        for table in (acc, fin):
            while len(table) > KEEP:
                oldest = next(k for k in table if k != run_values[-1])
                del table[oldest]
        if not save:
            return out
        self._state.set(
            self._key,
            {
                "v": 2,
                "cur": run_values[-1],
                "since": run_start[-1],
                "acc": acc,
                "fin": fin,
                "through": end_ms,
                "booked": {k: t for k, (_, t) in totals.items()},
            },
        )
        return out

    @staticmethod
    def _unbooked(steps: Steps, totals: Totals, booked: dict[str, float]) -> dict[str, tuple[I64, F64]]:
        """The increments not booked yet. After a crash between the rule state (saved first) and the
        window checkpoint, the engine counts again what the rules already booked (its running total
        restarts below `booked`): the earliest increments up to that excess are dropped. Without
        this, a window re-closed without its input would see its counts in the next window again."""
        out = dict(steps)
        for k, (delta, total) in totals.items():
            excess = booked.get(k, total - delta) - (total - delta)
            if excess <= 1e-9 or k not in steps:
                continue
            ts, d = steps[k]
            order = np.argsort(ts, kind="stable")
            ts, d = ts[order], d[order]
            kept = np.minimum(d, np.maximum(np.cumsum(d) - excess, 0.0))
            out[k] = (ts, kept)
        return out

    @staticmethod
    def _book(
        acc: dict[str, dict[str, float]], value: str | None, qty: dict[str, float]
    ) -> dict[str, float] | None:
        if value is None:
            return None
        mine = acc.pop(value, {})
        for k, v in qty.items():
            mine[k] = mine.get(k, 0.0) + v
        acc[value] = mine  # most recently used last, so KEEP drops the oldest
        return dict(mine)
