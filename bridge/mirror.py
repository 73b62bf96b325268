"""The retained JSON view of the plant's tags at <cell>/_raw/<tag>, rate-limited, marked stale at death."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from bridge.ingest import Chunk, TagIndex, last_per_tag
from bridge.metrics import BridgeMetrics
from bridge.uns_client import dumps

Publish = Callable[[str, bytes, int, bool], bool]

# Retained QoS 0 for values: a lost publish is repaired by the tag's next one (at most one interval
# later) and a flood does not wait for PUBACKs. QoS 1 for stale marks: a stale mark may be the last
# message of a tag for a long time, so it must arrive.
VALUE_QOS = 0
STALE_QOS = 1


def _json_value(v: Any) -> Any:
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    return str(v)


class Mirror:
    """Publishes `{"timestamp_ms", "value"}` per tag, at most once per `interval_s` per tag, except that
    state, alarm and text tags (order, lot) go out on every change. A held-back value goes out when
    its interval has passed, so the retained value is never older than one interval. When a node or
    device dies, each of its tags' last value is published again with `"stale": true`.
    """

    def __init__(self, index: TagIndex, publish: Publish, interval_s: float, metrics: BridgeMetrics) -> None:
        self.index = index
        self.publish = publish
        self.interval_ms = int(interval_s * 1000)
        self.metrics = metrics
        n = index.n
        self.topics = [t.ref.raw_topic for t in index.tags]
        self.discrete = index.mask("machine_state", "alarm", "order", "lot") | index.is_text
        self.value: list[Any] = [None] * n
        self.ts = np.full(n, -1, np.int64)
        self.sent: list[Any] = [object()] * n  # never equal to a value: the first one always goes out
        self.next_due = np.zeros(n, np.int64)
        self.dirty = np.zeros(n, np.bool_)
        self.stale = np.zeros(n, np.bool_)

    def on_chunk(self, chunk: Chunk, now_ms: int) -> None:
        if len(chunk) == 0:
            return
        force: list[int] = []
        disc = self.discrete[chunk.tag]
        if disc.any():
            # Every change of a state, alarm or text tag goes out, in time order, even within a chunk.
            pos = np.flatnonzero(disc)
            pos = pos[np.argsort(chunk.ts[pos], kind="stable")]
            for i in pos.tolist():
                idx, ts, v = int(chunk.tag[i]), int(chunk.ts[i]), chunk.raw[i]
                if ts < self.ts[idx]:
                    continue
                self.ts[idx] = ts
                self.value[idx] = v
                if self.stale[idx] or v != self.sent[idx]:
                    self._send(idx)
                    self.stale[idx] = False
                    self.dirty[idx] = False
        uniq, last = last_per_tag(chunk.tag)
        keep = ~self.discrete[uniq]
        uniq, last = uniq[keep], last[keep]
        newer = chunk.ts[last] >= self.ts[uniq]
        uniq, last = uniq[newer], last[newer]
        if uniq.shape[0]:
            self.ts[uniq] = chunk.ts[last]
            for idx, p in zip(uniq.tolist(), last.tolist(), strict=True):
                self.value[idx] = chunk.raw[p]
                if self.stale[idx]:
                    force.append(idx)
            self.dirty[uniq] = True
        self.flush(now_ms, force)

    def _send(self, idx: int) -> None:
        v = self.value[idx]
        body = dumps({"timestamp_ms": int(self.ts[idx]), "value": _json_value(v)})
        self.publish(self.topics[idx], body, VALUE_QOS, True)
        self.sent[idx] = v
        self.metrics.mirror_published.inc(kind="value")

    def flush(self, now_ms: int, force: Iterable[int] = ()) -> int:
        """Publish what is due (and what must go now); returns how many."""
        due = self.dirty & (self.next_due <= now_ms)
        forced = list(force)
        if forced:
            due[forced] = True
        held = int(np.count_nonzero(self.dirty)) - int(np.count_nonzero(due))
        if held > 0:
            self.metrics.mirror_skipped.inc(held)
        idxs = np.flatnonzero(due).tolist()
        for idx in idxs:
            self._send(idx)
        if idxs:
            self.dirty[due] = False
            self.stale[due] = False
            self.next_due[due] = now_ms + self.interval_ms
        return len(idxs)

    def mark_stale(self, tag_idx: Iterable[int]) -> int:
        """The node or device died (or the host lost the broker): say so on each tag's retained value."""
        n = 0
        for idx in tag_idx:
            if idx < 0 or self.ts[idx] < 0 or self.stale[idx]:
                continue
            body = dumps(
                {"timestamp_ms": int(self.ts[idx]), "value": _json_value(self.value[idx]), "stale": True}
            )
            self.publish(self.topics[idx], body, STALE_QOS, True)
            self.stale[idx] = True
            self.dirty[idx] = False
            n += 1
        if n:
            self.metrics.mirror_published.inc(n, kind="stale")
        return n
