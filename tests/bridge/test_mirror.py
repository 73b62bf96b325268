"""The _raw JSON mirror: rate limit per tag, every change of state and text tags, stale marks, time order."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from bridge.ingest import Chunk, TagIndex
from bridge.metrics import BridgeMetrics
from bridge.mirror import Mirror
from tests.bridge.plant_fixture import plant_yaml
from uns_model import TagValueV2, parse_plant

CELL = "acme/works/hall/line1/cell1"


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], int, bool]] = []

    def __call__(self, topic: str, payload: bytes, qos: int, retain: bool) -> bool:
        self.sent.append((topic, json.loads(payload), qos, retain))
        return True

    def of(self, tag: str) -> list[dict[str, Any]]:
        return [p for t, p, _, _ in self.sent if t == f"{CELL}/_raw/{tag}"]


def setup() -> tuple[TagIndex, Mirror, Recorder]:
    index = TagIndex(parse_plant(plant_yaml("g1")))
    rec = Recorder()
    return index, Mirror(index, rec, 1.0, BridgeMetrics()), rec


def chunk(index: TagIndex, samples: list[tuple[str, int, Any]]) -> Chunk:
    idx = [index.by_key[f"{CELL}/{k}"].idx for k, _, _ in samples]
    raw = [v for _, _, v in samples]
    value = np.array([float(v) if isinstance(v, int | float) else np.nan for v in raw])
    n = len(samples)
    ts = np.array([t for _, t, _ in samples], np.int64)
    return Chunk(np.array(idx, np.int32), ts, value, np.zeros(n, np.bool_), raw, 0, 0)


def test_rate_limit_holds_back_then_sends_the_latest() -> None:
    index, mirror, rec = setup()
    mirror.on_chunk(chunk(index, [("speed", 1000, 1.0)]), now_ms=10_000)
    mirror.on_chunk(chunk(index, [("speed", 1100, 2.0), ("speed", 1200, 3.0)]), now_ms=10_100)
    mirror.on_chunk(chunk(index, [("speed", 1300, 4.0)]), now_ms=10_500)
    assert [p["value"] for p in rec.of("speed")] == [1.0]
    mirror.flush(10_999)
    assert len(rec.of("speed")) == 1
    mirror.flush(11_000)  # the interval has passed: the newest held value goes out
    assert rec.of("speed")[-1] == {"timestamp_ms": 1300, "value": 4.0}
    assert all(qos == 0 and retain for _, _, qos, retain in rec.sent)


def test_state_and_text_tags_go_out_on_every_change_in_order() -> None:
    index, mirror, rec = setup()
    mirror.on_chunk(
        chunk(index, [("state", 1000, 1), ("state", 1100, 4), ("state", 1150, 4), ("state", 1200, 1)]), 10_000
    )
    mirror.on_chunk(chunk(index, [("order", 1300, "MO-1"), ("order", 1400, "MO-2")]), 10_001)
    assert [p["value"] for p in rec.of("state")] == [1, 4, 1]
    assert [p["value"] for p in rec.of("order")] == ["MO-1", "MO-2"]


def test_older_values_do_not_overwrite_and_nan_is_null() -> None:
    index, mirror, rec = setup()
    mirror.on_chunk(chunk(index, [("temperature", 5000, float("nan"))]), 10_000)
    assert rec.of("temperature") == [{"timestamp_ms": 5000, "value": None}]
    mirror.on_chunk(chunk(index, [("temperature", 4000, 12.0)]), 20_000)  # store-and-forward, older
    mirror.flush(30_000)
    assert rec.of("temperature")[-1]["timestamp_ms"] == 5000


def test_stale_marks_once_with_the_last_value_then_fresh_values_go_out_at_once() -> None:
    index, mirror, rec = setup()
    mirror.on_chunk(chunk(index, [("speed", 1000, 7.5), ("order", 1000, "MO-1")]), 10_000)
    tags = [
        index.by_key[f"{CELL}/speed"].idx,
        index.by_key[f"{CELL}/order"].idx,
        index.by_key[f"{CELL}/lot"].idx,
    ]
    assert mirror.mark_stale(tags) == 2  # the lot was never seen: nothing to mark
    assert mirror.mark_stale(tags) == 0
    stale = rec.of("speed")[-1]
    assert stale == {"timestamp_ms": 1000, "value": 7.5, "stale": True}
    assert TagValueV2.model_validate(stale).stale  # the published contract accepts it
    assert [qos for t, _, qos, _ in rec.sent if t.endswith("/speed")][-1] == 1
    mirror.on_chunk(chunk(index, [("speed", 2000, 7.5)]), 10_100)  # rebirth, inside the interval
    assert rec.of("speed")[-1] == {"timestamp_ms": 2000, "value": 7.5}
