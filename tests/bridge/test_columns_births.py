"""A held DBIRTH meets the columnar DATA runs in time order: store-and-forward history, birth, live."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bridge.config import load_settings
from bridge.ingest import Chunk
from bridge.outbox.sinks import JsonlFileSink
from bridge.service import BridgeService
from sparkplug.codec import encode_payload
from sparkplug.datatypes import DataType
from sparkplug.host_columns import ColumnBatch
from sparkplug.payload import Metric, Payload
from tests.bridge.plant_fixture import METRICS
from tests.bridge.service_support import write_plant

pytest.importorskip("numba")

T0 = 1_790_000_000_000
ALIAS = {name: i + 1 for i, name in enumerate(METRICS)}


def _birth_values() -> dict[str, Any]:
    return {
        "counters/good": 50,
        "counters/scrap": 0,
        "state": 1,
        "order": "MO-A",
        "lot": "L-A",
        "material/bar_kg": 500.0,
        "temperature": 30.0,
        "alarm": False,
        "runtime_hours": 10.0,
        "speed": 1200.0,
    }


def _data(seq: int, ts: int, temperature: float, historical: bool) -> bytes:
    m = Metric(alias=ALIAS["temperature"], datatype=DataType.Double, value=temperature, timestamp=ts)
    m.is_historical = historical
    return encode_payload(Payload(timestamp=ts, seq=seq, metrics=[m]), include_datatypes=False)


def test_history_then_the_held_birth_then_live_values(tmp_path: Path, uid: str) -> None:
    """After an outage the DBIRTH carries the newest value (30.0 at T0+10 s) and the flush that follows
    carries older ones (20-22 at T0+1..3 s). The pipeline must see 20, 21, 22, 30, 31: the birth is
    held and placed before the first live value, inside the columnar run the host handed over."""
    settings = load_settings(
        plant=write_plant(tmp_path, uid),
        broker="mqtt://127.0.0.1:1",  # never started: the host's ingest is fed as paho would feed it
        host_id=f"h-{uid}",
        data_dir=tmp_path / "data",
        metrics_port=0,
    )
    service = BridgeService(settings, sink=JsonlFileSink(tmp_path / "events.jsonl", fsync=False))
    seen: list[tuple[int, float]] = []
    temperature = service.index.by_key[f"acme/{uid}/hall/line1/cell1/temperature"].idx
    inner = service.pipeline.ingest

    def recording(chunk: Chunk) -> None:
        sel = chunk.tag == temperature
        seen.extend(zip(chunk.ts[sel].tolist(), chunk.value[sel].tolist(), strict=True))
        inner(chunk)

    service.pipeline.ingest = recording  # type: ignore[method-assign]
    handle = service.host._ingest.handle
    prefix = f"spBv1.0/{uid}"
    nbirth = Payload(timestamp=T0, seq=0, metrics=[Metric(name="bdSeq", datatype=DataType.Int64, value=0)])
    handle(f"{prefix}/NBIRTH/line1", encode_payload(nbirth))
    values = _birth_values()
    birth = [
        Metric(name=n, alias=ALIAS[n], datatype=DataType[dt], value=values[n], timestamp=T0 + 10_000)
        for n, dt in METRICS.items()
    ]
    handle(
        f"{prefix}/DBIRTH/line1/cell1", encode_payload(Payload(timestamp=T0 + 10_000, seq=1, metrics=birth))
    )
    topic = f"{prefix}/DDATA/line1/cell1"
    for k in range(3):
        handle(topic, _data(2 + k, T0 + 1000 * (k + 1), 20.0 + k, historical=True))
    handle(topic, _data(5, T0 + 11_000, 31.0, historical=False))
    service.host.flush_columns()
    items: list[Any] = []
    while not service.queue.empty():
        items.append(service.queue.get_nowait())
    assert any(isinstance(it, ColumnBatch) for it in items), "the DATA did not take the columnar path"
    service._process(items)
    assert seen == [
        (T0 + 1000, 20.0),
        (T0 + 2000, 21.0),
        (T0 + 3000, 22.0),
        (T0 + 10_000, 30.0),
        (T0 + 11_000, 31.0),
    ]
    assert not service._held
    assert np.isfinite([v for _, v in seen]).all()
    service.stop()  # never started: stops what __init__ opened (outbox, stores, the metrics port)
