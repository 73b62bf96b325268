"""An order's completion comes after its consumption: at an order or lot change the old order's
consumption up to the change is queued before its goods_finished (Odoo refuses consumption on a done
order), even though the material window (300 s) closes long after the production window (10 s)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridge.pipeline import Pipeline
from tests.bridge.plant_fixture import plant_yaml
from tests.bridge.test_rules import T0, Sink, step
from tests.bridge.test_rules_changeover import message
from uns_model import parse_plant


def make(tmp: Path | None = None, *, lot: bool = False) -> Pipeline:
    text = plant_yaml("g1").replace(
        "production_reported: {window_s: 60}", "production_reported: {window_s: 10}"
    )
    if not lot:
        text = "\n".join(line for line in text.splitlines() if "role: lot" not in line)
    paths: dict[str, Any] = {}
    if tmp is not None:
        paths = {"state_path": tmp / "rules.sqlite3", "checkpoint_path": tmp / "windows.sqlite3"}
    # Each flow its own window: production 10 s, material_consumed 300 s (its default).
    return Pipeline(parse_plant(text), grace_ms=1000, now_ms=T0, **paths)


def sequence(sink: Sink) -> list[tuple[str, str, float]]:
    out = []
    for e in sink.events.values():
        p = e.payload
        qty = p["quantity"] if "quantity" in p else p["good_quantity"]
        out.append((e.contract, p["external_work_order_id"], float(qty)))
    return out


def test_consumption_up_to_the_change_is_queued_before_goods_finished() -> None:
    p, sink = make(), Sink()
    message(p, T0, order="MO-1", counters__good=0, material__bar_kg=100.0)
    message(p, T0 + 2000, counters__good=5, material__bar_kg=102.5)
    # The old order's final count and consumption come with the change (one DDATA).
    message(p, T0 + 4000, counters__good=8, material__bar_kg=104.0, order="MO-2")
    message(p, T0 + 6000, counters__good=12, material__bar_kg=106.0)
    step(p, sink, T0 + 11_000)  # production window closes; the material window is open until T0+300 s
    assert sequence(sink) == [
        ("production_reported", "MO-1", 8.0),
        ("material_consumed", "MO-1", 4.0),
        ("goods_finished", "MO-1", 8.0),
        ("production_reported", "MO-2", 4.0),
    ]
    events = list(sink.events.values())
    # One ordering key per order for all three contracts: the outbox delivers them in this order.
    assert {e.ordering_key for e in events[:3]} == {"order:MO-1"}
    consumed = events[1]
    assert consumed.payload["window_end_unix_ms"] == T0 + 4000
    assert sink.calls == 1  # one outbox transaction
    # The material window's close books the same samples: MO-1's report is the same event (not made
    # again), MO-2's is new.
    message(p, T0 + 100_000, material__bar_kg=110.0)
    step(p, sink, T0 + 301_000)
    mat = [(o, q) for c, o, q in sequence(sink) if c == "material_consumed"]
    assert mat == [("MO-1", 4.0), ("MO-2", 6.0)]
    assert sum(1 for e in p.ctx.out) == 0


def test_lot_change_reports_the_orders_consumption_before_the_lot_finishes() -> None:
    p, sink = make(lot=True), Sink()
    message(p, T0, order="MO-1", lot="L1", counters__good=0, material__bar_kg=10.0)
    message(p, T0 + 3000, counters__good=6, material__bar_kg=13.0, lot="L2")
    message(p, T0 + 5000, counters__good=9, material__bar_kg=14.5)
    step(p, sink, T0 + 11_000)
    assert sequence(sink) == [
        ("production_reported", "MO-1", 9.0),
        ("material_consumed", "MO-1", 3.0),
        ("goods_finished", "MO-1", 6.0),
    ]
    step(p, sink, T0 + 301_000)
    # The order goes on after the lot change: its window report is a new, larger total.
    assert [(o, q) for c, o, q in sequence(sink) if c == "material_consumed"] == [
        ("MO-1", 3.0),
        ("MO-1", 4.5),
    ]


def test_restart_after_the_completion_replays_nothing_new(tmp_path: Path) -> None:
    p, sink = make(tmp_path), Sink()
    message(p, T0, order="MO-1", counters__good=0, material__bar_kg=100.0)
    message(p, T0 + 2000, counters__good=5, material__bar_kg=101.1)
    message(p, T0 + 4000, counters__good=8, material__bar_kg=103.3, order="MO-2")
    message(p, T0 + 6000, counters__good=12, material__bar_kg=106.0)
    step(p, sink, T0 + 11_000)
    first = dict(sink.events)
    p.close()
    # A restart before the material window closed: the open window's samples are gone (the edge node
    # does not replay them); the sample noted at the change is given back and the close books the
    # same quantity for MO-1 up to float rounding: the same event, nothing new for MO-1.
    q = make(tmp_path)
    message(q, T0 + 8000, counters__good=13, material__bar_kg=107.0)
    step(q, sink, T0 + 301_000)
    new = [
        (e.contract, e.payload["external_work_order_id"]) for k, e in sink.events.items() if k not in first
    ]
    assert ("material_consumed", "MO-1") not in new
    assert ("material_consumed", "MO-2") in new
    q.close()
