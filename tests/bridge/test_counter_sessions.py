"""A PLC restart is not a rollover: a counter's decrease across a death and birth of its device is a
reset (bank level and through the pipeline), a rollover is inferred only within one device session;
a rebirth with the same bdSeq and a restart of the bridge itself continue the session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bridge.ingest import Chunk
from bridge.pipeline import Pipeline
from bridge.service import BridgeService
from bridge.windows import CounterBank
from sparkplug.datatypes import DataType
from sparkplug.edge_node_model import MetricDef
from tests.bridge.plant_fixture import METRICS
from tests.bridge.service_support import INITIAL, edge_node, read_jsonl, wait_for
from tests.bridge.test_counters import apply
from tests.bridge.test_rules import CELL, T0, Sink, make, step
from tests.bridge.test_service import settings_for
from tests.support.mosquitto import Mosquitto

NODE = "g1/gw1"


def test_bank_decrease_across_a_session_mark_is_a_reset_within_a_session_a_rollover() -> None:
    bank = CounterBank(np.array([65536.0, 65536.0]))
    apply(bank, [0, 1], [1, 1], [65_520.0, 65_520.0])
    bank.mark_sessions(np.array([0], np.int32), np.array([5], np.int64))
    d = apply(bank, [0, 0, 1, 1], [2, 5, 2, 5], [65_530.0, 0.0, 65_530.0, 0.0])
    # Counter 0: restarted at 5 (0 after 65530): a reset, +10 then +0. Counter 1: no new session: a wrap.
    assert d.delta.tolist() == [10.0, 16.0]
    assert d.resets.tolist() == [1, 0] and d.rollovers.tolist() == [0, 1]
    # The mark is passed: a later wrap of counter 0 in its new session is a rollover again.
    apply(bank, [0], [6], [65_534.0])
    assert bank.mark_pos.shape[0] == 0
    d = apply(bank, [0], [7], [3.0])
    assert d.delta.tolist() == [5.0, 0.0] and d.rollovers.tolist() == [1, 0]


def test_bank_history_before_the_mark_still_wraps_in_the_old_session() -> None:
    bank = CounterBank(np.array([65536.0]))
    apply(bank, [0], [1], [65_530.0])
    bank.mark_sessions(np.array([0], np.int32), np.array([10], np.int64))
    # Store-and-forward from before the restart (wrap at 4), then the new session from 0 at 10.
    d = apply(bank, [0, 0, 0, 0], [3, 4, 10, 12], [65_535.0, 1.0, 0.0, 4.0])
    assert d.delta.tolist() == [5.0 + 2.0 + 0.0 + 4.0]
    assert d.rollovers.tolist() == [1] and d.resets.tolist() == [1]


def test_bank_the_sessions_first_sample_in_the_same_ms_as_the_old_sessions_last() -> None:
    # A fast restart: the old session's last sample and the birth share a millisecond. The mark's value
    # tells the birth sample (0) from the old one; a later wrap in the new session is still a wrap.
    bank = CounterBank(np.array([65536.0]))
    apply(bank, [0], [1], [65_520.0])
    apply(bank, [0], [5], [65_530.0])
    bank.mark_sessions(np.array([0], np.int32), np.array([5], np.int64), np.array([0.0]))
    d = apply(bank, [0, 0, 0], [5, 6, 7], [0.0, 65_535.0, 1.0])
    assert d.delta.tolist() == [0.0 + 65_535.0 + 2.0]
    assert d.resets.tolist() == [1] and d.rollovers.tolist() == [1]


def _chunk(p: Pipeline, ts: int, birth: bool, **values: float) -> Chunk:
    idx = [p.index.by_key[f"{CELL}/{k.replace('__', '/')}"].idx for k in values]
    n = len(idx)
    return Chunk(
        np.array(idx, np.int32),
        np.full(n, ts, np.int64),
        np.array(list(values.values()), np.float64),
        np.zeros(n, np.bool_),
        list(values.values()),
        0,
        0,
        np.full(n, birth, np.bool_) if birth else None,
    )


def _cell_tags(p: Pipeline) -> np.ndarray[Any, np.dtype[np.int32]]:
    return np.array([t.idx for t in p.index.tags if t.cell == CELL], np.int32)


def _good(sink: Sink) -> list[float]:
    return [e["good_quantity"] for e in sink.of("production_reported")]


def _feed_order(p: Pipeline) -> None:
    p.ingest(
        Chunk(
            np.array([p.index.by_key[f"{CELL}/order"].idx], np.int32),
            np.array([T0], np.int64),
            np.array([np.nan]),
            np.zeros(1, np.bool_),
            ["MO-1"],
            0,
            0,
        )
    )


def test_plc_restart_near_the_rollover_counts_no_phantom_units() -> None:
    p, sink = make(), Sink()
    _feed_order(p)
    p.on_node_birth(NODE, 3, T0)
    p.ingest(_chunk(p, T0 + 100, True, counters__good=65_520))
    p.ingest(_chunk(p, T0 + 1000, False, counters__good=65_530))
    # The PLC restarts: the gateway loses it (DDEATH), then births the device again with 0.
    assert p.on_death(_cell_tags(p), NODE, T0 + 2000) >= 1
    p.ingest(_chunk(p, T0 + 5000, True, counters__good=0))
    p.ingest(_chunk(p, T0 + 7000, False, counters__good=4))
    step(p, sink, T0 + 11_000)
    assert _good(sink) == [14.0]  # 10 before, 4 after; a rollover would have made it 20
    assert p.metrics.counter_resets.value(tag=f"{CELL}/counters/good") == 1


def test_a_rebirth_with_the_same_bdseq_keeps_the_session() -> None:
    p, sink = make(), Sink()
    _feed_order(p)
    p.on_node_birth(NODE, 3, T0)
    p.ingest(_chunk(p, T0 + 100, True, counters__good=65_520))
    p.ingest(_chunk(p, T0 + 1000, False, counters__good=65_530))
    # A rebirth request answered: the host reports the live devices dead at the NBIRTH's time.
    p.on_death(_cell_tags(p), NODE, T0 + 3000)
    p.on_node_birth(NODE, 3, T0 + 3000)
    p.ingest(_chunk(p, T0 + 3000, True, counters__good=2))
    step(p, sink, T0 + 11_000)
    assert _good(sink) == [18.0]  # the counter wrapped: 10 + 8


def test_marks_survive_a_restart_of_the_bridge_which_itself_opens_no_session(tmp_path: Path) -> None:
    p, sink = make(tmp_path), Sink()
    _feed_order(p)
    p.ingest(_chunk(p, T0 + 100, True, counters__good=65_500))
    p.ingest(_chunk(p, T0 + 5000, False, counters__good=65_530))
    step(p, sink, T0 + 11_000)  # window 1 closed and checkpointed at 65530
    p.on_death(_cell_tags(p), NODE, T0 + 14_000)
    p.ingest(_chunk(p, T0 + 15_000, True, counters__good=0))
    p.commit(sink)  # rule state (the mark) durable; window 2 still open
    p.close()
    # The bridge restarts; the open window's samples are gone. The edge node births the device again
    # for the new host (no death: the same session), now at 3.
    q = make(tmp_path)
    q.ingest(_chunk(q, T0 + 17_000, True, counters__good=3))
    step(q, sink, T0 + 21_000)
    assert _good(sink) == [30.0, 33.0]  # +3 since the PLC restart, not a 9-unit wrap
    # A later wrap in that session is a rollover again, across another restart of the bridge.
    q.ingest(_chunk(q, T0 + 22_000, False, counters__good=65_535))
    step(q, sink, T0 + 31_000)
    q.close()
    r = make(tmp_path)
    r.ingest(_chunk(r, T0 + 32_000, True, counters__good=1))
    step(r, sink, T0 + 41_000)
    assert _good(sink)[-1] == 33.0 + 65_532 + 2
    r.close()


def test_service_reads_a_ddeath_and_dbirth_on_real_sparkplug_as_a_plc_restart(
    broker: Mosquitto, uid: str, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, broker, uid)
    service = BridgeService(settings)  # its JSONL sink: data/events.jsonl
    service.start()
    node = edge_node(broker.url, uid, settings.host_id, tmp_path, initial={"counters/good": 65_520})
    try:
        assert service.wait_ready(10)
        node.start()
        assert node.wait_online(10)
        node.publish_device_data("cell1", {"counters/good": 65_530})
        # The gateway loses the PLC (DDEATH); it comes back restarted, its counter at 0 (DBIRTH).
        node.device_death("cell1")
        values = {**INITIAL, "counters/good": 0}
        node.add_device("cell1", [MetricDef(n, DataType[dt], values[n]) for n, dt in METRICS.items()])
        node.publish_device_data("cell1", {"counters/good": 4})

        def good() -> Any:
            prod = [
                e
                for e in read_jsonl(tmp_path / "data" / "events.jsonl")
                if e["contract"] == "production_reported"
            ]
            return (
                prod and prod[-1]["payload"]["good_quantity"] >= 14 and prod[-1]["payload"]["good_quantity"]
            )

        assert wait_for(good, 20, "production after the restart") == 14  # a rollover would make 20
    finally:
        node.stop()
        service.stop()
