"""Rules on real windows and real SQLite state: production, material, goods finished, downtime, quality,
maintenance, and a restart in the middle that neither loses nor doubles anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bridge.ingest import Chunk
from bridge.pipeline import Pipeline
from tests.bridge.plant_fixture import plant_yaml
from uns_model import parse_plant
from uns_model.delivery import OutboundEvent

T0 = 1_800_000_000_000  # a multiple of 10 s: windows of 10 s start here
CELL = "acme/works/hall/line1/cell1"


def make(tmp: Path | None = None, **kw: Any) -> Pipeline:
    plant = parse_plant(plant_yaml("g1"))
    paths: dict[str, Any] = {}
    if tmp is not None:
        paths = {"state_path": tmp / "rules.sqlite3", "checkpoint_path": tmp / "windows.sqlite3"}
    return Pipeline(plant, window_s=10, grace_ms=1000, now_ms=T0, **paths, **kw)


def feed(p: Pipeline, samples: list[tuple[str, int, Any]]) -> None:
    idx = [p.index.by_key[f"{CELL}/{k}"].idx for k, _, _ in samples]
    raw = [v for _, _, v in samples]
    value = np.array([float(v) if isinstance(v, int | float) else np.nan for v in raw])
    chunk = Chunk(
        np.array(idx, np.int32),
        np.array([t for _, t, _ in samples], np.int64),
        value,
        np.zeros(len(samples), np.bool_),
        raw,
        0,
        0,
    )
    p.ingest(chunk)


class Sink:
    def __init__(self) -> None:
        self.events: dict[str, OutboundEvent] = {}
        self.calls = 0

    def __call__(self, events: Any) -> int:
        self.calls += 1
        new = 0
        for e in events:
            if e.event_id not in self.events:
                self.events[e.event_id] = e
                new += 1
        return new

    def of(self, contract: str) -> list[dict[str, Any]]:
        return [e.payload for e in self.events.values() if e.contract == contract]


def step(p: Pipeline, sink: Sink, now: int) -> None:
    p.tick(now)
    p.commit(sink)


def test_production_per_order_with_reset_and_rollover_and_goods_finished() -> None:
    p, sink = make(), Sink()
    feed(p, [("order", T0, "MO-1"), ("lot", T0, "L1"), ("counters/good", T0 + 100, 100)])
    feed(
        p,
        [
            ("counters/good", T0 + 1000, 110),
            ("counters/scrap", T0 + 1000, 0),
            ("counters/good", T0 + 5000, 130),
        ],
    )
    feed(p, [("counters/scrap", T0 + 6000, 2)])
    step(p, sink, T0 + 11_000)
    prod = sink.of("production_reported")
    assert [(e["external_work_order_id"], e["good_quantity"], e["scrap_quantity"]) for e in prod] == [
        ("MO-1", 30.0, 2.0)
    ]
    # PLC restart: 130 -> 5 is a reset (5 counted since), then 15; then a wrap of the 16-bit counter.
    feed(p, [("counters/good", T0 + 12_000, 5), ("counters/good", T0 + 13_000, 15)])
    feed(p, [("counters/good", T0 + 14_000, 65_530), ("counters/good", T0 + 15_000, 4)])
    step(p, sink, T0 + 21_000)
    last = sink.of("production_reported")[-1]
    assert last["good_quantity"] == 30 + 15 + 65_515 + 10
    assert p.metrics.counter_resets.total() == 1
    assert p.metrics.counter_rollovers.total() == 1
    # A window without counts sends nothing.
    before = len(sink.events)
    step(p, sink, T0 + 31_000)
    assert len(sink.events) == before
    # New order and lot: the old lot is finished with its good quantity, the new order starts at 0.
    mo1_total = last["good_quantity"]
    feed(p, [("order", T0 + 40_000, "MO-2"), ("lot", T0 + 40_000, "L2"), ("counters/good", T0 + 41_000, 14)])
    step(p, sink, T0 + 51_000)
    finished = sink.of("goods_finished")
    assert [(e["external_work_order_id"], e["lot"], e["quantity"]) for e in finished] == [
        ("MO-1", "L1", mo1_total)
    ]
    assert sink.of("production_reported")[-1]["external_work_order_id"] == "MO-2"
    assert sink.of("production_reported")[-1]["good_quantity"] == 10.0


def test_material_consumed_cumulative_per_order_and_component() -> None:
    p, sink = make(), Sink()
    feed(
        p,
        [("order", T0, "MO-7"), ("material/bar_kg", T0 + 10, 1000.0), ("material/bar_kg", T0 + 2000, 1002.5)],
    )
    step(p, sink, T0 + 11_000)
    feed(p, [("material/bar_kg", T0 + 12_000, 1004.0)])
    step(p, sink, T0 + 21_000)
    mat = sink.of("material_consumed")
    assert [(e["component"], e["quantity"]) for e in mat] == [("RM-1", 2.5), ("RM-1", 4.0)]


def test_downtime_start_end_and_reason_change() -> None:
    p, sink = make(), Sink()
    feed(p, [("order", T0, "MO-1"), ("state", T0 + 10, 1), ("state", T0 + 1000, 4), ("state", T0 + 1500, 4)])
    feed(p, [("state", T0 + 3000, 2), ("state", T0 + 9000, 1), ("state", T0 + 9500, 0)])
    p.commit(sink)
    started = sink.of("downtime_started")
    ended = sink.of("downtime_ended")
    assert [(e["started_unix_ms"] - T0, e["reason"]) for e in started] == [
        (1000, "Tool breakage"),
        (3000, "Tool change"),
    ]
    assert [(e["started_unix_ms"] - T0, e["ended_unix_ms"] - T0) for e in ended] == [
        (1000, 3000),
        (3000, 9000),
    ]
    assert started[0]["external_work_order_id"] == "MO-1"
    assert ended[0]["odoo_loss"] == "Equipment Failure"


def test_quality_deviation_debounced_with_lot() -> None:
    p, sink = make(), Sink()
    feed(p, [("lot", T0, "L9"), ("temperature", T0 + 10, 15.0), ("temperature", T0 + 100, 25.0)])
    feed(p, [("temperature", T0 + 600, 26.0), ("temperature", T0 + 800, 15.0)])  # a blip of 0.7 s: nothing
    p.tick(T0 + 900)
    p.commit(sink)
    assert sink.of("quality_deviation") == []
    feed(p, [("temperature", T0 + 2000, 5.0), ("temperature", T0 + 2500, 4.0)])
    p.tick(T0 + 3100)  # 1.1 s below the low limit without a new sample: confirmed by the clock
    p.commit(sink)
    dev = sink.of("quality_deviation")
    assert [(e["limit"], e["value"], e["detected_unix_ms"] - T0, e["lot"]) for e in dev] == [
        ("low", 4.0, 2000, "L9")
    ]


def test_maintenance_alarm_edges_and_runtime_intervals() -> None:
    p, sink = make(), Sink()
    feed(
        p,
        [
            ("alarm", T0, False),
            ("alarm", T0 + 100, True),
            ("alarm", T0 + 200, True),
            ("alarm", T0 + 300, False),
        ],
    )
    feed(p, [("alarm", T0 + 400, True)])
    feed(
        p,
        [("runtime_hours", T0, 50.0), ("runtime_hours", T0 + 100, 150.0), ("runtime_hours", T0 + 200, 310.0)],
    )
    p.commit(sink)
    req = sink.of("maintenance_requested")
    alarms = [e["raised_unix_ms"] - T0 for e in req if e["trigger"] == "alarm"]
    runtime = [e["threshold_count"] for e in req if e["trigger"] == "runtime_threshold"]
    assert alarms == [100, 400]
    assert runtime == [1, 2, 3]
    assert {e["equipment_serial"] for e in req} == {"SP-1"}


def test_bad_values_are_skipped_and_the_stream_goes_on() -> None:
    p, sink = make(), Sink()
    feed(p, [("order", T0, "MO-1"), ("counters/good", T0 + 10, 10), ("counters/good", T0 + 20, "garbage")])
    feed(p, [("counters/good", T0 + 30, float("nan")), ("counters/good", T0 + 40, 12)])
    step(p, sink, T0 + 11_000)
    assert sink.of("production_reported")[-1]["good_quantity"] == 2.0
    assert p.metrics.bad_values.value(reason="null_or_nan") == 2


def test_restart_resumes_counters_orders_and_open_downtime(tmp_path: Path) -> None:
    sink = Sink()
    p = make(tmp_path)
    feed(p, [("order", T0, "MO-1"), ("counters/good", T0 + 10, 100), ("counters/good", T0 + 5000, 120)])
    feed(p, [("state", T0 + 6000, 4)])
    step(p, sink, T0 + 11_000)
    feed(p, [("counters/good", T0 + 12_000, 125)])  # in the open window when the bridge stops
    p.close()

    p = make(tmp_path)  # a new process: state and checkpoints from the files
    # The edge node's rebirth repeats current values with their own timestamps.
    feed(p, [("order", T0, "MO-1"), ("state", T0 + 6000, 4), ("counters/good", T0 + 12_000, 125)])
    feed(p, [("counters/good", T0 + 15_000, 130), ("state", T0 + 16_000, 1)])
    step(p, sink, T0 + 21_000)
    assert [e["good_quantity"] for e in sink.of("production_reported")] == [20.0, 30.0]
    assert len(sink.of("downtime_started")) == 1
    assert [(e["started_unix_ms"] - T0, e["ended_unix_ms"] - T0) for e in sink.of("downtime_ended")] == [
        (6000, 16000)
    ]
    p.close()


def test_cells_without_an_order_tag_book_on_the_order_odoo_has_in_progress(tmp_path: Path) -> None:
    cell2 = "acme/works/hall/line1/cell2"
    sink = Sink()
    p = make(tmp_path)
    assert not p.set_erp_order(CELL, "WH/MO/9", T0)  # cell1 has an order tag: its PLC knows better
    assert p.set_erp_order(cell2, "WH/MO/7", T0 + 500)
    good = p.index.by_key[f"{cell2}/counters/good"].idx

    def count(ts: int, value: int) -> None:
        p.ingest(
            Chunk(np.array([good], np.int32), np.array([ts], np.int64), np.array([float(value)]),
                  np.zeros(1, np.bool_), [value], 0, 0)
        )  # fmt: skip

    count(T0 + 1000, 10)
    count(T0 + 2000, 14)
    step(p, sink, T0 + 11_000)
    p.close()
    p = make(tmp_path)  # the order Odoo gave survives a restart
    count(T0 + 12_000, 20)
    step(p, sink, T0 + 21_000)
    assert p.set_erp_order(cell2, None, T0 + 21_500)  # Odoo closed it
    count(T0 + 22_000, 25)
    step(p, sink, T0 + 31_000)
    prod = [
        (e["place"], e["external_work_order_id"], e["good_quantity"]) for e in sink.of("production_reported")
    ]
    assert prod == [(cell2, "WH/MO/7", 4.0), (cell2, "WH/MO/7", 10.0)]
    assert [(e["external_work_order_id"], e["quantity"]) for e in sink.of("goods_finished")] == [
        ("WH/MO/7", 10.0)
    ]
    p.close()
