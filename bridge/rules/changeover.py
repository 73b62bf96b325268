"""Counter samples at order and lot changes, durable until their window closes (restart-proof splits)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bridge.ingest import TagInfo
from bridge.rules.base import RuleContext

log = logging.getLogger(__name__)

LastAt = Callable[[list[int], int], dict[int, tuple[int, float]]]
"""(global tags, t) -> tag -> (ts, value) of its newest sample at or before t still in open windows."""
Inject = Callable[[int, int, float], None]
"""Give one counter sample (global tag, ts, value) back to the window engines."""


@dataclass(frozen=True, slots=True)
class _Watch:
    cell: str
    counters: tuple[TagInfo, ...]


class Changeovers:
    """The counter samples that split a cell's counts at an order or lot change, kept as rule state.

    A change at t splits at each counter's last sample at or before t (see `Segments`). Those
    samples live in the open window's memory until it closes; a restart in between would lose them,
    and the counts of the whole window would go to the new order. So at each change the bridge notes
    the cell's counters' samples at or before t (and updates them while such samples still arrive),
    saved with the rule state at the next commit. At start, the noted changes go back into the text
    timeline and the noted samples back into the window engines, exactly as if the edge node had
    replayed them: a sample that is also replayed adds nothing (same time, same value). A note is
    dropped once every window up to its change has closed and been applied.
    """

    KEY = "chg:"

    def __init__(self, ctx: RuleContext, cells: dict[str, list[TagInfo]]) -> None:
        self.ctx = ctx
        self._by_source: dict[str, list[_Watch]] = {}
        for cell, counters in cells.items():
            watch = _Watch(cell, tuple(counters))
            for src in (ctx.order_tag(cell), ctx.lot_tag(cell)):
                if src is not None:
                    key = src if isinstance(src, str) else src.key
                    self._by_source.setdefault(key, []).append(watch)
        self._cells = {c: tuple(t) for c, t in cells.items()}
        self._pending = {c for c in cells if ctx.state.get(f"{self.KEY}{c}")}
        self._watched: npt.NDArray[np.bool_] = np.zeros(ctx.index.n, np.bool_)
        self._refresh_watch()

    def _notes(self, cell: str) -> list[dict[str, object]]:
        return list(self.ctx.state.get(f"{self.KEY}{cell}") or [])

    def _refresh_watch(self) -> None:
        self._watched[:] = False
        for cell in self._pending:
            self._watched[[t.idx for t in self._cells[cell]]] = True

    def watches(self, source_key: str) -> bool:
        return source_key in self._by_source

    def on_change(self, source_key: str, t_ms: int, value: str | None, last_at: LastAt) -> None:
        """A change of an order or lot source at t_ms (after the chunk's numbers reached the engines)."""
        for w in self._by_source.get(source_key, ()):
            found = last_at([c.idx for c in w.counters], t_ms)
            at = {self.ctx.index.tags[i].key: [ts, v] for i, (ts, v) in found.items()}
            notes = self._notes(w.cell)
            notes.append({"t": t_ms, "src": source_key, "value": value, "at": at})
            self.ctx.state.set(f"{self.KEY}{w.cell}", notes)
            self._pending.add(w.cell)
            self._watched[[c.idx for c in w.counters]] = True

    def on_samples(
        self, tag: npt.NDArray[np.int32], ts: npt.NDArray[np.int64], value: npt.NDArray[np.float64]
    ) -> None:
        """Numeric samples of a chunk: a counter sample at or before a noted change, newer than the one
        noted, replaces it (it came in a later message with the same or an older time)."""
        if not self._pending:
            return
        sel = self._watched[tag]
        if not sel.any():
            return
        tag, ts, value = tag[sel], ts[sel], value[sel]
        for cell in self._pending:
            counters = self._cells[cell]
            notes = self._notes(cell)
            if not notes:
                continue
            changed = False
            for c in counters:
                mine = tag == c.idx
                if not mine.any():
                    continue
                cts, cv = ts[mine], value[mine]
                for note in notes:
                    t = int(note["t"])  # type: ignore[call-overload]
                    ok = np.flatnonzero(cts <= t)
                    if ok.shape[0] == 0:
                        continue
                    best = ok[int(ok.shape[0] - 1 - np.argmax(cts[ok][::-1]))]
                    at: dict[str, list[float]] = note["at"]  # type: ignore[assignment]
                    held = at.get(c.key)
                    if held is None or int(cts[best]) >= int(held[0]):
                        at[c.key] = [int(cts[best]), float(cv[best])]
                        changed = True
            if changed:
                self.ctx.state.set(f"{self.KEY}{cell}", notes)

    def restore(self, inject: Inject) -> int:
        """At start: noted changes back into the timeline, noted samples back to the engines."""
        n = 0
        for cell in sorted(self._pending):
            for note in self._notes(cell):
                src = str(note["src"])
                value = note["value"]
                self.ctx.timeline.add(src, int(note["t"]), value)  # type: ignore[call-overload]
                at: dict[str, Sequence[float]] = note["at"]  # type: ignore[assignment]
                for key, (ts, v) in at.items():
                    tag = self.ctx.index.by_key.get(key)
                    if tag is not None:
                        inject(tag.idx, int(ts), float(v))
                        n += 1
        if n:
            log.info("changeovers: %d counter sample(s) at order/lot changes given back to the windows", n)
        return n

    def prune(self, closed_until_ms: int) -> None:
        """Drop the notes of changes before `closed_until_ms` (every window up to them is closed)."""
        if not self._pending:
            return
        for cell in list(self._pending):
            notes = self._notes(cell)
            keep = [n for n in notes if int(n["t"]) >= closed_until_ms]  # type: ignore[call-overload]
            if len(keep) != len(notes):
                self.ctx.state.set(f"{self.KEY}{cell}", keep)
            if not keep:
                self._pending.discard(cell)
        self._refresh_watch()
