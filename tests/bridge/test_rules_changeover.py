"""Counts booked on the order and lot current when they were made: changes inside a window, in the same
or separate Sparkplug messages, the batch plant's lot changes, store-and-forward across a change, and a
restart between the change and the window close (real windows, real SQLite state)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bridge.ingest import Chunk
from bridge.pipeline import Pipeline
from tests.bridge.plant_fixture import plant_yaml
from tests.bridge.test_rules import CELL, T0, Sink, step
from uns_model import load_plant, parse_plant

BATCH = Path(__file__).resolve().parents[2] / "scenarios" / "plants" / "batch_plant.yaml"
FILLER = "acme/blending/processing/batch1/filler-01"
MIXER = "acme/blending/processing/batch1/mixer-01"


def make(tmp: Path | None = None, *, lot: bool = True, plant: Any = None, window_s: float = 10) -> Pipeline:
    if plant is None:
        text = plant_yaml("g1")
        if not lot:
            text = "\n".join(line for line in text.splitlines() if "role: lot" not in line)
        plant = parse_plant(text)
    paths: dict[str, Any] = {}
    if tmp is not None:
        paths = {"state_path": tmp / "rules.sqlite3", "checkpoint_path": tmp / "windows.sqlite3"}
    return Pipeline(plant, window_s=window_s, grace_ms=1000, now_ms=T0, **paths)


def message(p: Pipeline, ts: int, cell: str = CELL, historical: bool = False, **values: Any) -> None:
    """One Sparkplug DDATA: every metric stamped with the same time (keys: tag paths, '/' as '__')."""
    keys = [k.replace("__", "/") for k in values]
    raw = list(values.values())
    chunk = Chunk(
        np.array([p.index.by_key[f"{cell}/{k}"].idx for k in keys], np.int32),
        np.full(len(keys), ts, np.int64),
        np.array(
            [float(v) if isinstance(v, int | float) and not isinstance(v, bool) else np.nan for v in raw]
        ),
        np.full(len(keys), historical, np.bool_),
        raw,
        0,
        0,
    )
    p.ingest(chunk)


def produced(sink: Sink) -> list[tuple[str, float, float]]:
    return [
        (e["external_work_order_id"], e["good_quantity"], e["scrap_quantity"])
        for e in sink.of("production_reported")
    ]


def finished(sink: Sink) -> list[tuple[str, str | None, float, float, int]]:
    return [
        (
            e["external_work_order_id"],
            e["lot"],
            e["quantity"],
            e["finished_total"],
            e["finished_unix_ms"] - T0,
        )
        for e in sink.of("goods_finished")
    ]


def test_order_change_in_the_same_message_as_the_old_orders_final_count() -> None:
    p, sink = make(lot=False), Sink()
    message(p, T0, order="MO-1", counters__good=0, counters__scrap=0)
    message(p, T0 + 2000, counters__good=5)
    # The edge node publishes the old order's final count together with the change: it is MO-1's.
    message(p, T0 + 4000, counters__good=8, counters__scrap=1, order="MO-2")
    message(p, T0 + 6000, counters__good=12)
    step(p, sink, T0 + 11_000)
    assert produced(sink) == [("MO-1", 8.0, 1.0), ("MO-2", 4.0, 0.0)]
    assert finished(sink) == [("MO-1", None, 8.0, 8.0, 4000)]
    assert [e.contract for e in sink.events.values()] == [
        "production_reported",
        "goods_finished",
        "production_reported",
    ]
    assert {e.version for e in sink.events.values() if e.contract == "goods_finished"} == {2}


def test_order_change_and_counts_in_separate_messages() -> None:
    p, sink = make(lot=False), Sink()
    message(p, T0, order="MO-1", counters__good=100)
    message(p, T0 + 3000, counters__good=110)
    message(p, T0 + 4000, order="MO-2")
    # The counter's message with the change's own time comes after it: still the old order's count.
    message(p, T0 + 4000, counters__good=113)
    message(p, T0 + 4001, counters__good=114)
    message(p, T0 + 9000, counters__good=120)
    step(p, sink, T0 + 11_000)
    assert produced(sink) == [("MO-1", 13.0, 0.0), ("MO-2", 7.0, 0.0)]
    # The next window counts for MO-2 only, cumulative.
    message(p, T0 + 12_000, counters__good=125)
    step(p, sink, T0 + 21_000)
    assert produced(sink)[-1] == ("MO-2", 12.0, 0.0)
    assert finished(sink) == [("MO-1", None, 13.0, 13.0, 4000)]


def test_an_order_that_comes_back_finishes_again_with_a_new_id() -> None:
    # An order and its backorder (same ref on the plant) both finish 50: two events, not a replay.
    p, sink = make(lot=False), Sink()
    message(p, T0, order="MO-1", counters__good=0)
    message(p, T0 + 1000, counters__good=50, order="MO-9")
    message(p, T0 + 2000, counters__good=60, order="MO-1")
    message(p, T0 + 3000, counters__good=110, order="")
    step(p, sink, T0 + 11_000)
    assert finished(sink) == [
        ("MO-1", None, 50.0, 50.0, 1000),
        ("MO-9", None, 10.0, 10.0, 2000),
        ("MO-1", None, 50.0, 100.0, 3000),
    ]
    assert len({e.event_id for e in sink.events.values() if e.contract == "goods_finished"}) == 3
    assert [q for o, q, _ in produced(sink) if o == "MO-1"] == [50.0, 100.0]


def test_material_split_at_the_order_change() -> None:
    p, sink = make(), Sink()
    message(p, T0, order="MO-1", material__bar_kg=10.0)
    message(p, T0 + 3000, material__bar_kg=12.5, order="MO-2")
    message(p, T0 + 5000, material__bar_kg=13.0)
    step(p, sink, T0 + 11_000)
    mat = [(e["external_work_order_id"], e["quantity"]) for e in sink.of("material_consumed")]
    assert mat == [("MO-1", 2.5), ("MO-2", 0.5)]


def test_batch_plant_each_lots_last_units_stay_on_that_lot() -> None:
    plant = load_plant(BATCH)
    p, sink = make(plant=plant, window_s=900), Sink()
    t = T0 + 600_000  # inside a 15-minute window
    message(p, t, FILLER, order="WH/MO/00001", lot="LOT-1", output__good_units=0, output__rejected_units=0)
    message(p, t + 60_000, FILLER, output__good_units=30)
    # The filler's last unit of LOT-1 and the hand-over to LOT-2 (another order) in one message.
    message(
        p,
        t + 120_000,
        FILLER,
        order="WH/MO/00002",
        lot="LOT-2",
        output__good_units=40,
        output__rejected_units=1,
    )
    message(p, t + 180_000, FILLER, output__good_units=52)
    # LOT-2 done, the filler waits empty (order and lot cleared, as the simulated line does).
    message(p, t + 240_000, FILLER, order="", lot="", output__good_units=60)
    step(p, sink, T0 + 1_802_000)
    assert produced(sink) == [("WH/MO/00001", 40.0, 1.0), ("WH/MO/00002", 20.0, 0.0)]
    fin = [
        (e["external_work_order_id"], e["lot"], e["quantity"], e["finished_total"])
        for e in sink.of("goods_finished")
    ]
    assert fin == [("WH/MO/00001", "LOT-1", 40.0, 40.0), ("WH/MO/00002", "LOT-2", 20.0, 20.0)]


def test_store_and_forward_across_an_order_change() -> None:
    p, sink = make(lot=False), Sink()
    message(p, T0, order="MO-1", counters__good=0)
    message(p, T0 + 1000, counters__good=4)
    step(p, sink, T0 + 11_000)
    # The edge node loses the broker; windows close empty meanwhile.
    step(p, sink, T0 + 21_000)
    step(p, sink, T0 + 31_000)
    assert produced(sink) == [("MO-1", 4.0, 0.0)]
    # Its store-and-forward flush: an order change and counts from windows already closed.
    message(p, T0 + 12_000, historical=True, counters__good=9)
    message(p, T0 + 18_000, historical=True, counters__good=11, order="MO-2")
    message(p, T0 + 25_000, historical=True, counters__good=20)
    message(p, T0 + 32_000, counters__good=21)
    step(p, sink, T0 + 41_000)
    assert produced(sink)[1:] == [("MO-1", 11.0, 0.0), ("MO-2", 10.0, 0.0)]
    assert finished(sink) == [("MO-1", None, 11.0, 11.0, 18_000)]


def test_restart_between_the_change_and_the_window_close(tmp_path: Path) -> None:
    sink = Sink()
    p = make(tmp_path, lot=False)
    message(p, T0, order="MO-1", counters__good=0)
    message(p, T0 + 2000, counters__good=10)
    step(p, sink, T0 + 11_000)
    message(p, T0 + 12_000, counters__good=12)
    message(p, T0 + 14_000, order="MO-2")
    message(p, T0 + 14_000, counters__good=15)  # MO-1's last count, a message after the change
    message(p, T0 + 16_000, counters__good=18)
    p.commit(sink)  # rule state durable; the window [10 s, 20 s) is still open
    p.close()

    p = make(tmp_path, lot=False)  # the bridge restarts; the edge node does not replay what it sent
    message(p, T0 + 17_000, order="MO-2", counters__good=18)  # its rebirth
    message(p, T0 + 19_000, counters__good=20)
    step(p, sink, T0 + 21_000)
    assert produced(sink) == [("MO-1", 10.0, 0.0), ("MO-1", 15.0, 0.0), ("MO-2", 5.0, 0.0)]
    assert finished(sink) == [("MO-1", None, 15.0, 15.0, 14_000)]
    assert p.state.get(f"chg:{CELL}") == []  # the note is dropped once its window is applied
    p.close()


def test_two_changes_in_one_open_window_survive_a_restart(tmp_path: Path) -> None:
    sink = Sink()
    p = make(tmp_path, lot=False)
    message(p, T0, order="MO-1", counters__good=0)
    step(p, sink, T0 + 11_000)
    message(p, T0 + 12_000, counters__good=3, order="MO-2")
    message(p, T0 + 14_000, counters__good=7, order="MO-3")
    message(p, T0 + 15_000, counters__good=8)
    p.commit(sink)
    p.close()
    p = make(tmp_path, lot=False)
    message(p, T0 + 16_000, order="MO-3", counters__good=9)
    step(p, sink, T0 + 21_000)
    assert produced(sink) == [("MO-1", 3.0, 0.0), ("MO-2", 4.0, 0.0), ("MO-3", 2.0, 0.0)]
    assert [(o, q) for o, _, q, _, _ in finished(sink)] == [("MO-1", 3.0), ("MO-2", 4.0)]
    p.close()


def test_crash_after_the_rule_state_before_the_checkpoint_books_nothing_twice(tmp_path: Path) -> None:
    sink = Sink()
    p = make(tmp_path, lot=False)
    message(p, T0, order="MO-1", counters__good=0)
    message(p, T0 + 2000, counters__good=10)
    step(p, sink, T0 + 11_000)
    message(p, T0 + 12_000, counters__good=20)
    p.tick(T0 + 21_000)
    events = p.ctx.take()
    sink(events)
    p.state.save()  # the outbox and the rule state are durable, the window checkpoint is not
    p.close()
    p = make(tmp_path, lot=False)  # the window [10 s, 20 s) is closed again, without its input
    message(p, T0 + 25_000, counters__good=25)
    step(p, sink, T0 + 31_000)
    assert produced(sink) == [("MO-1", 10.0, 0.0), ("MO-1", 20.0, 0.0), ("MO-1", 25.0, 0.0)]
    p.close()


def test_state_of_the_previous_bridge_version_is_read(tmp_path: Path) -> None:
    from bridge.rules.state import RuleState

    sink = Sink()
    p = make(tmp_path, lot=False)
    message(p, T0, order="MO-1", counters__good=100)
    message(p, T0 + 2000, counters__good=110)
    step(p, sink, T0 + 11_000)
    p.close()
    # Rewrite the order segments as the previous version kept them: running-total base per counter.
    state = RuleState(tmp_path / "rules.sqlite3")
    key = f"seg:production_reported:order:{CELL}"
    state.set(
        key, {"cur": "MO-1", "base": {"good": 0.0}, "acc": {"MO-0": {"good": 7.0}}, "through": T0 + 10_000}
    )
    state.save()
    state.close()
    p = make(tmp_path, lot=False)
    message(p, T0 + 12_000, counters__good=115)
    step(p, sink, T0 + 21_000)
    assert produced(sink)[-1] == ("MO-1", 15.0, 0.0)
    p.close()
