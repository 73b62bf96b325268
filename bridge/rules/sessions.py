"""Device sessions of the counters: a death, then a birth of the device that publishes a counter, opens
a new session; its first sample is marked for the window engines (a decrease across it is a reset)."""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import numpy.typing as npt

from bridge.ingest import TagInfo
from bridge.rules.base import RuleContext

log = logging.getLogger(__name__)

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Marks = tuple[I64, I64, F64]
"""(global tags, times, values) of session marks."""


class CounterSessions:
    """Which counters' devices died (DDEATH, or NDEATH of their edge node) and have not been born since,
    and the session marks (first sample after the birth) the engines still need. Both are rule state,
    so a bridge restart between a death and the birth, or between the birth and the window close,
    still reads the decrease as a reset.

    The bridge's own restart is no death: the counters' sessions go on (the checkpoint holds their last
    samples), and the births the edge nodes publish when the host comes back are plain rebirths. So is
    an NBIRTH with the node's bdSeq unchanged (a rebirth request answered): the host reports the live
    devices dead at the NBIRTH's time, and those deaths are taken back here.
    """

    DEAD = "ses:dead"
    """tag key -> [edge node key, death time]: died, no birth sample since."""
    MARKS = "ses:marks"
    """tag key -> [[time, value]]: session starts (first sample; value None when null) not yet passed."""

    def __init__(self, ctx: RuleContext, counters: list[TagInfo]) -> None:
        self.ctx = ctx
        n = ctx.index.n
        self._is_counter: Bools = np.zeros(n, np.bool_)
        self._is_counter[[t.idx for t in counters]] = True
        self._dead: dict[str, list[object]] = dict(ctx.state.get(self.DEAD) or {})
        self._dead_mask: Bools = np.zeros(n, np.bool_)
        for key in self._dead:
            tag = ctx.index.by_key.get(key)
            if tag is not None:
                self._dead_mask[tag.idx] = True
        self._marks: dict[str, list[list[Any]]] = dict(ctx.state.get(self.MARKS) or {})
        self._bdseq: dict[str, int] = {}

    def on_death(self, tags: I32, node: str, ts_ms: int) -> int:
        """A DDEATH or NDEATH with its stale metrics' tags (-1: not in the plant); how many counters died."""
        tags = tags[tags >= 0]
        tags = tags[self._is_counter[tags]]
        for idx in tags.tolist():
            self._dead[self.ctx.index.tags[idx].key] = [node, int(ts_ms)]
        if tags.shape[0]:
            self._dead_mask[tags] = True
            self.ctx.state.set(self.DEAD, self._dead)
        return int(tags.shape[0])

    def on_node_birth(self, node: str, bdseq: int | None, ts_ms: int) -> None:
        """An NBIRTH. With the bdSeq of the node's previous NBIRTH it is a rebirth of the same MQTT
        session: the devices the host reported dead at this very time did not die."""
        previous = self._bdseq.get(node)
        if bdseq is not None:
            self._bdseq[node] = bdseq
        if previous is None or bdseq != previous:
            return
        back = [k for k, (n, t) in self._dead.items() if n == node and t == ts_ms]
        for key in back:
            del self._dead[key]
            tag = self.ctx.index.by_key.get(key)
            if tag is not None:
                self._dead_mask[tag.idx] = False
        if back:
            self.ctx.state.set(self.DEAD, self._dead)

    def on_samples(self, tag: I32, ts: I64, value: F64, birth: Bools | None) -> Marks:
        """Birth samples of dead counters open their new session: (tags, times, values) of the marks for
        the engines, before the samples themselves (null values included: the session opens anyway)."""
        none = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64))
        if birth is None or not self._dead:
            return none
        sel = birth & self._dead_mask[tag]
        if not sel.any():
            return none
        found: dict[int, tuple[int, float]] = {}
        for idx, t, v in zip(tag[sel].tolist(), ts[sel].tolist(), value[sel].tolist(), strict=True):
            if idx not in found or t < found[idx][0]:
                found[idx] = (t, v)
        for idx, (t, v) in found.items():
            key = self.ctx.index.tags[idx].key
            self._dead.pop(key, None)
            self._dead_mask[idx] = False
            self._marks.setdefault(key, []).append([t, None if math.isnan(v) else v])
        self.ctx.state.set(self.DEAD, self._dead)
        self.ctx.state.set(self.MARKS, self._marks)
        log.info(
            "new device session (death, then birth) for %d counter(s): a decrease is a reset", len(found)
        )
        return (
            np.array(list(found), np.int64),
            np.array([t for t, _ in found.values()], np.int64),
            np.array([v for _, v in found.values()], np.float64),
        )

    def restore(self) -> Marks:
        """At start: the saved marks, for the engines (which drop those their counters passed)."""
        tags: list[int] = []
        stamps: list[int] = []
        values: list[float] = []
        for key, marks in self._marks.items():
            tag = self.ctx.index.by_key.get(key)
            if tag is not None:
                for t, v in marks:
                    tags.append(tag.idx)
                    stamps.append(int(t))
                    values.append(math.nan if v is None else float(v))
        return np.array(tags, np.int64), np.array(stamps, np.int64), np.array(values, np.float64)

    def prune(self, held: set[tuple[int, int]]) -> None:
        """Keep only the marks some engine still holds (the others were passed by their counter)."""
        if not self._marks:
            return
        kept: dict[str, list[list[Any]]] = {}
        for key, marks in self._marks.items():
            tag = self.ctx.index.by_key.get(key)
            mine = [m for m in marks if tag is not None and (tag.idx, int(m[0])) in held]
            if mine:
                kept[key] = mine
        if kept != self._marks:
            self._marks = kept
            self.ctx.state.set(self.MARKS, kept)
