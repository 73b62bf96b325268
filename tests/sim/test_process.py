"""The process model without servers: determinism, counters against the truth, scripted disturbances."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenarios.sim import GroundTruth, PlantProcess, Scenario, default_scenario
from uns_model import load_plant

EPOCH = 1_764_000_000_000
CNC = load_plant("scenarios/plants/cnc_shop.yaml")
BATCH = load_plant("scenarios/plants/batch_plant.yaml")


def run(plant, until_s: float, seed: int = 1, scenario: Scenario | None = None) -> PlantProcess:
    proc = PlantProcess(plant, scenario, seed=seed, epoch_unix_ms=EPOCH)
    proc.run_until(until_s)
    return proc


@pytest.mark.parametrize("plant", [CNC, BATCH], ids=["cnc", "batch"])
def test_same_seed_same_truth_other_seed_other_truth(plant):
    a = run(plant, 2.5 * 3600, seed=7).snapshot().model_dump_json()
    b = run(plant, 2.5 * 3600, seed=7).snapshot().model_dump_json()
    c = run(plant, 2.5 * 3600, seed=8).snapshot().model_dump_json()
    assert a == b
    assert a != c


def test_counters_cumulative_wrap_and_reset_while_truth_continues():
    proc = PlantProcess(CNC, seed=3, epoch_unix_ms=EPOCH)
    init = default_scenario(CNC).initial
    cell = "cnc-102"
    path = proc.cell_path(cell)
    proc.run_until(7199)
    truth = proc.snapshot()
    good0, scrap0 = truth.good(cell=path), truth.scrap(cell=path)
    assert good0 > 100
    # Before the restart the PLC shows its starting value plus the true count, wrapped at the rollover.
    assert proc.value(cell, "counters/good") == (init[f"{cell}:counters/good"] + good0) % 2**32
    assert proc.value(cell, "counters/scrap") == (init[f"{cell}:counters/scrap"] + scrap0) % 65536
    assert init[f"{cell}:counters/scrap"] + scrap0 >= 65536, "the scrap counter should have wrapped"
    proc.run_until(7201)  # the PLC restart at 7200 s
    assert proc.value(cell, "counters/good") == 0
    assert proc.value(cell, "counters/scrap") == 0
    proc.run_until(4 * 3600)
    truth = proc.snapshot()
    good1, scrap1 = truth.good(cell=path), truth.scrap(cell=path)
    assert good1 > good0, "the truth keeps counting across the restart"
    assert proc.value(cell, "counters/good") == good1 - good0
    assert proc.value(cell, "counters/scrap") == scrap1 - scrap0
    (restart,) = truth.plc_restarts
    assert restart.start_unix_ms == EPOCH + 7_200_000
    assert restart.end_unix_ms == EPOCH + 7_320_000
    assert restart.connections == ["acme/toolworks/machining/line1:plc"]
    assert restart.counters_reset == ["counters/good", "counters/scrap"]


def test_cnc_disturbances_at_their_scripted_times():
    proc = run(CNC, 3 * 3600)
    truth = proc.snapshot()
    line1, line2 = "acme/toolworks/machining/line1", "acme/toolworks/machining/line2"
    stops = {(d.cell, d.start_unix_ms): d for d in truth.downtimes}
    breakdown = stops[(f"{line2}/cnc-201", EPOCH + 3_600_000)]
    assert (breakdown.code, breakdown.state, breakdown.reason) == (4, "unplanned_stop", "Tool breakage")
    assert breakdown.end_unix_ms == EPOCH + 4_800_000
    shortage = [d for d in truth.downtimes if d.cell == f"{line2}/cnc-202" and d.code == 6]
    assert shortage and shortage[0].start_unix_ms == EPOCH + 9_000_000
    assert shortage[0].reason == "Waiting for material"
    # Coolant failure from 5400 s: the spindle heats past the alarm threshold, the cell stops hot.
    alarms = [a for a in truth.alarms if a.cell == f"{line1}/cnc-101"]
    assert alarms and EPOCH + 5_400_000 < alarms[0].raised_unix_ms < EPOCH + 6_300_000
    assert alarms[0].equipment == "spindle"
    hot = [d for d in truth.downtimes if d.reason == "Spindle overtemperature"]
    assert hot and hot[0].start_unix_ms == alarms[0].raised_unix_ms + 1000
    # cnc-101 starts one hour short of its 500 h spindle service: one maintenance trigger.
    (threshold,) = truth.runtime_thresholds
    assert (threshold.cell, threshold.hours, threshold.equipment) == (f"{line1}/cnc-101", 500.0, "spindle")
    # Machine states in the PLC come from the plant's own table.
    assert proc.value("cnc-201", "state") in CNC.state_tables["cnc"].codes


def test_batch_disturbances_lots_and_consumption():
    proc = run(BATCH, 4 * 3600)
    truth = proc.snapshot()
    reactor = "acme/blending/processing/batch1/reactor-01"
    scripted = [q for q in truth.quality_deviations if q.start_unix_ms == EPOCH + 3_600_000]
    (dev,) = scripted
    assert (dev.cell, dev.tag, dev.limit) == (reactor, "temperature", "high")
    assert dev.end_unix_ms == EPOCH + 3_720_000
    assert dev.peak > 82 and dev.lot is not None and dev.lot.startswith("LOT-20251124-")
    lots = {lot.lot: lot for lot in truth.lots}
    assert lots[dev.lot].out_of_spec
    assert all(
        q.end_unix_ms is None or q.end_unix_ms - q.start_unix_ms >= 10_000 for q in truth.quality_deviations
    )
    pump = [a for a in truth.alarms if a.tag == "alarms/pump_fault"]
    assert (
        pump and pump[0].raised_unix_ms == EPOCH + 8_000_000 and pump[0].cleared_unix_ms == EPOCH + 8_900_000
    )
    down = [d for d in truth.downtimes if d.cell == reactor and d.start_unix_ms == EPOCH + 8_000_000]
    assert down and down[0].state == "unplanned_stop"
    # Every finished lot's units are in the filler's production of its order.
    for order in {lot.order for lot in truth.lots}:
        made = sum(lot.good for lot in truth.lots if lot.order == order)
        assert truth.good(order=order) >= made
    # The mixer's totalizers: sum of true consumption (no PLC restart on the mixer, no wrap yet).
    for path, component in (("ingredients/water_kg", "RM-WATER"), ("ingredients/sugar_kg", "RM-SUGAR")):
        assert proc.value("mixer-01", path) == pytest.approx(truth.consumed(component), rel=1e-9)
    assert truth.consumed("RM-SUGAR", order="WH/MO/00001") == pytest.approx(700, rel=0.05)


def test_truth_json_round_trips(tmp_path):
    proc = run(BATCH, 2 * 3600)
    out = proc.snapshot().write(tmp_path / "truth.json")
    again = GroundTruth.model_validate_json(out.read_text())
    assert again == proc.snapshot()
    data = json.loads(out.read_text())
    assert data["epoch_unix_ms"] == EPOCH and data["sim_seconds"] == 7200


def test_assigned_orders_are_made_exactly():
    scenario = Scenario(disturbances=[])
    proc = PlantProcess(CNC, scenario, seed=2, epoch_unix_ms=EPOCH)
    proc.step(10)
    assert proc.value("cnc-101", "state") == 8  # No order
    assert proc.value("cnc-101", "order") == ""
    proc.assign_order("cnc-101", "WH/MO/00077", 20)
    proc.assign_order("cnc-101", "WH/MO/00078", 5)
    proc.step(1)
    assert proc.value("cnc-101", "state") == 3  # setup for the first order
    assert proc.value("cnc-101", "order") == "WH/MO/00077"
    proc.run_until(3 * 3600)
    truth = proc.snapshot()
    assert truth.good(order="WH/MO/00077") == 20
    assert truth.good(order="WH/MO/00078") == 5
    assert proc.value("cnc-101", "state") == 8
    assert proc.value("cnc-101", "counters/good") == 25


def test_bad_scenarios_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="unknown"):
        PlantProcess(
            CNC,
            Scenario.model_validate(
                {"disturbances": [{"kind": "breakdown", "cell": "cnc-999", "at_s": 1, "duration_s": 5}]}
            ),
        )
    with pytest.raises(ValueError, match="not a process_value"):
        PlantProcess(
            BATCH,
            Scenario.model_validate(
                {
                    "disturbances": [
                        {
                            "kind": "quality_deviation",
                            "cell": "mixer-01",
                            "tag": "recipe",
                            "at_s": 1,
                            "duration_s": 5,
                        }
                    ]
                }
            ),
        )


def test_example_scenario_file_runs():
    from scenarios.sim.__main__ import load_scenario

    scenario = load_scenario(Path("scenarios/sim/example_scenario.yaml"))
    proc = PlantProcess(CNC, scenario, seed=1, epoch_unix_ms=EPOCH)
    proc.run_until(2 * 3600)
    truth = proc.snapshot()
    assert truth.good(order="WH/MO/00101") == 40 and truth.good(order="WH/MO/00201") == 60
    assert [r.start_unix_ms for r in truth.plc_restarts] == [EPOCH + 2_400_000]
    assert truth.runtime_thresholds and truth.alarms
    assert not truth.good(cell="cnc-102")  # no orders given: the cell waits for one
    assert proc.value("cnc-102", "state") == 8


def test_umh_state_table_gives_codes_and_operator_breaks():
    import yaml

    from uns_model import parse_plant

    data = yaml.safe_load(Path("scenarios/plants/cnc_shop.yaml").read_text())
    del data["state_tables"]  # every machine_state tag falls back to the built-in UMH table
    for area in data["areas"]:
        for line in area["lines"]:
            for cell in line["cells"]:
                for tag in cell["tags"]:
                    tag.pop("state_table", None)
    proc = PlantProcess(parse_plant(yaml.safe_dump(data)), seed=1, epoch_unix_ms=EPOCH)
    proc.run_until(4 * 3600 + 60)
    assert {proc.value(c, "state") for c in ("cnc-101", "cnc-102", "cnc-201", "cnc-202")} == {150000}
    truth = proc.snapshot()
    breaks = [d for d in truth.downtimes if d.reason == "Operator break"]
    assert len(breaks) == 4 and {d.start_unix_ms for d in breaks} == {EPOCH + 4 * 3_600_000}
    assert {d.code for d in truth.downtimes} <= {100000, 130000, 150000, 170000, 180000, 90000}
