"""ERP call reduction on the CNC example plant: metric updates in per ERP event out, one simulated hour.

The bridge's pipeline (numpy windows and rules, as `uns run` runs them, with the plant's own flows:
production windows of 60 s, material of 300 s, near-real-time downtime, quality and maintenance) is
driven with a seeded simulation of scenarios/plants/cnc_shop.yaml, in simulated time, without MQTT:
this bench is about how much the rules condense, not about transport. Every tag update an edge node
would publish (report by exception, deadbands honoured) counts as one metric update. Line 2's cells
have no order tag: their orders come in as Odoo's in-progress orders (`Pipeline.set_erp_order`, which
`uns run --odoo` feeds from the Odoo reader); those are not counted as metric updates.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from bench.results import Figure
from bridge.ingest import Chunk
from bridge.pipeline import Pipeline
from uns_model.delivery import OutboundEvent
from uns_model.loader import load_plant

PLANT = Path(__file__).resolve().parents[1] / "scenarios" / "plants" / "cnc_shop.yaml"
T0 = 1_764_144_000_000  # a whole hour
HOUR_S = 3600


class _Cell:
    def __init__(self, path: str, keys: set[str], rng: random.Random, order: str) -> None:
        self.path = path
        self.keys = keys
        self.rng = rng
        self.good = rng.randrange(1000, 50_000)
        self.scrap = rng.randrange(0, 500)
        self.state = 1
        self.stop_until = -1
        self.next_part = rng.uniform(30, 60)
        self.material = rng.uniform(1000, 5000)
        self.temp = 60.0
        self.temp_sent = 60.0
        self.hours = rng.uniform(100, 499.9)
        self.hours_sent = round(self.hours, 2)
        self.alarm = False
        self.order = order

    def step(self, t: int, out: list[tuple[str, Any]]) -> None:
        rng = self.rng
        if self.state != 1 and t >= self.stop_until:
            self.state = 1
            out.append(("state", 1))
        elif self.state == 1 and rng.random() < 2 / HOUR_S:  # about two stops an hour
            self.state = rng.choice((2, 4, 6))
            self.stop_until = t + rng.randint(120, 600)
            out.append(("state", self.state))
        if self.state == 1:
            self.next_part -= 1
            if self.next_part <= 0:
                self.next_part = rng.uniform(30, 60)
                if rng.random() < 0.05:
                    self.scrap += 1
                    out.append(("counters/scrap", self.scrap))
                else:
                    self.good += 1
                    out.append(("counters/good", self.good))
                if "material/bar_kg" in self.keys or "material/plate_kg" in self.keys:
                    self.material += 0.8
                    key = "material/bar_kg" if "material/bar_kg" in self.keys else "material/plate_kg"
                    out.append((key, round(self.material, 3)))
            self.hours += 1 / 3600
            if round(self.hours, 2) != self.hours_sent:
                self.hours_sent = round(self.hours, 2)
                out.append(("spindle/runtime_hours", self.hours_sent))
        self.temp += rng.gauss(0.0, 0.3) + (60.0 - self.temp) * 0.01
        if abs(self.temp - self.temp_sent) >= 0.5:
            self.temp_sent = round(self.temp, 1)
            out.append(("spindle/temperature", self.temp_sent))
        alarm = 1800 <= t % HOUR_S < 1830 and self.path.endswith("1")
        if alarm != self.alarm:
            self.alarm = alarm
            out.append(("spindle/overtemp_alarm", alarm))
        if t == 1200:
            self.order = self.order.replace("01", "02")
            out.append(("order", self.order))


def simulate(seconds: int = HOUR_S, seed: int = 7) -> tuple[int, Counter[str]]:
    """(metric updates in, ERP events out by contract) for `seconds` of the CNC shop."""
    plant = load_plant(PLANT)
    p = Pipeline(plant, now_ms=T0)
    rng = random.Random(seed)
    cells: list[_Cell] = []
    keys_by_cell: dict[str, set[str]] = {}
    for tag in p.index.tags:
        keys_by_cell.setdefault(tag.cell, set()).add(tag.ref.path)
    for i, (cell, keys) in enumerate(sorted(keys_by_cell.items())):
        cells.append(_Cell(cell, keys, rng, f"WH/MO/{i:03d}01"))
    events: list[OutboundEvent] = []

    def enqueue(batch: Any) -> int:
        events.extend(batch)
        return len(batch)

    updates = 0
    # The edge nodes' births: every tag's current value once (orders included).
    birth: list[tuple[str, str, Any]] = []
    for c in cells:
        for key, value in (("order", c.order), ("counters/good", c.good), ("counters/scrap", c.scrap),
                           ("state", c.state), ("spindle/runtime_hours", c.hours_sent)):  # fmt: skip
            if key in c.keys:
                birth.append((c.path, key, value))
        # Line 2's PLCs know no order: the bridge takes the order Odoo has in progress on the work center.
        p.set_erp_order(c.path, c.order, T0)
    _feed(p, T0, birth)
    for t in range(1, seconds + 1):
        now = T0 + t * 1000
        samples: list[tuple[str, str, Any]] = []
        for c in cells:
            out: list[tuple[str, Any]] = []
            c.step(t, out)
            samples.extend((c.path, k, v) for k, v in out if k in c.keys)
            for k, v in out:
                if k == "order" and k not in c.keys:
                    p.set_erp_order(c.path, v, now)
        updates += len(samples)
        _feed(p, now, samples)
        p.tick(now)
        p.commit(enqueue)
    p.tick(T0 + (seconds + 120) * 1000)  # close the last windows
    p.commit(enqueue)
    p.close()
    return updates, Counter(e.contract for e in events)


def _feed(p: Pipeline, ts: int, samples: list[tuple[str, str, Any]]) -> None:
    if not samples:
        return
    idx = [p.index.by_key[f"{cell}/{key}"].idx for cell, key, _ in samples]
    raw = [v for _, _, v in samples]
    value = np.array([float(v) if isinstance(v, int | float) else np.nan for v in raw])
    n = len(samples)
    p.ingest(
        Chunk(np.array(idx, np.int32), np.full(n, ts, np.int64), value, np.zeros(n, np.bool_), raw, 0, 0)
    )


def run() -> list[dict[str, object]]:
    updates, by_contract = simulate()
    events = sum(by_contract.values())
    detail = ", ".join(f"{k} {v}" for k, v in sorted(by_contract.items()))
    return [
        Figure(
            "ERP reduction, CNC shop, 1 h",
            float(updates),
            "updates",
            "ERP events out (one Odoo write each)",
            float(events),
            f"metric updates per ERP event; events: {detail}",
        ).as_json()
    ]


if __name__ == "__main__":
    for fig in run():
        print(fig)
