"""The scripted default scenario of a plant: orders, starting PLC values, recipe and disturbances.

Derived from the plant model alone (no randomness), so any valid plant model can be simulated:
cells are picked for each disturbance by what their tags can show. For the example plants this gives
(sim time): a breakdown at 1 h, a spindle overtemperature at 1.5 h, a PLC restart at 2 h and a material
shortage at 2.5 h on the CNC shop; a quality deviation at 1 h, a PLC restart of the filler at 1 h 40 and
a reactor breakdown with a pump fault code at 2 h 13 on the batch plant.
"""

from __future__ import annotations

from scenarios.sim.scenario import (
    Breakdown,
    Disturbance,
    OrderSpec,
    Overtemperature,
    PlcRestart,
    QualityDeviation,
    Recipe,
    Scenario,
)
from uns_model.plant import Cell, PlantModel
from uns_model.tags import ConsumptionTag, ModbusSource

_CNC_QTY = (60, 120, 80, 150)
_KG_PER_BATCH = (600.0, 350.0, 8.0, 25.0, 5.0)


def _has(cell: Cell, role: str) -> bool:
    return any(t.role == role for t in cell.tags)


def default_scenario(plant: PlantModel) -> Scenario:
    """Orders for every cell or batch line, starting counters, the recipe and four disturbances."""
    orders: dict[str, list[OrderSpec]] = {}
    initial: dict[str, float] = {}
    disturbances: list[Disturbance] = []
    ingredients: dict[str, float] = {}
    discrete: list[Cell] = []
    mo = 1
    for _place, line, cell in plant.iter_cells():
        batch_line = any(_has(c, "lot") for c in line.cells)
        if batch_line:
            if line.name not in orders:
                orders[line.name] = []
                for qty in (1900, 950, 2850, 1900):
                    orders[line.name].append(OrderSpec(ref=f"WH/MO/{mo:05d}", qty=qty))
                    mo += 1
            for tag in cell.tags:
                if isinstance(tag, ConsumptionTag) and tag.component not in ingredients:
                    ingredients[tag.component] = _KG_PER_BATCH[len(ingredients) % len(_KG_PER_BATCH)]
            _batch_disturbances(cell, disturbances)
            continue
        if not (_has(cell, "good_count") or _has(cell, "machine_state")):
            continue
        i = len(discrete)
        discrete.append(cell)
        orders[cell.name] = []
        for k in range(len(_CNC_QTY)):
            orders[cell.name].append(OrderSpec(ref=f"WH/MO/{mo:05d}", qty=_CNC_QTY[(i + k) % len(_CNC_QTY)]))
            mo += 1
        for tag in cell.tags:
            if tag.role == "good_count":
                initial[f"{cell.name}:{tag.path}"] = 10_000 * (i + 1) + 17 * i
            elif tag.role == "scrap_count":
                # One counter starts just short of its rollover, so that the run shows a wrap.
                initial[f"{cell.name}:{tag.path}"] = 65_530 if i == 1 else 200 * (i + 1)
            elif tag.role == "runtime_hours":
                # The first cell crosses its maintenance threshold within the first hours.
                threshold = getattr(tag, "threshold_h", 500.0)
                initial[f"{cell.name}:{tag.path}"] = threshold - 1.0 if i == 0 else 100.0 * (i + 1) + 0.25
    disturbances.extend(_cnc_disturbances(discrete))
    return Scenario(
        orders=orders,
        initial=initial,
        recipe=Recipe(ingredients=ingredients),
        disturbances=sorted(disturbances, key=lambda d: d.at_s),
    )


def _cnc_disturbances(cells: list[Cell]) -> list[Disturbance]:
    if not cells:
        return []
    out: list[Disturbance] = []
    modbus = [c for c in cells if any(isinstance(t.source, ModbusSource) for t in c.tags)]
    target = modbus[0] if modbus else cells[-1]
    out.append(Breakdown(cell=target.name, at_s=3600, duration_s=1200, reason="breakdown"))
    hot = [c for c in cells if any("temp" in t.path.lower() and t.role == "alarm" for t in c.tags)]
    if hot:
        out.append(Overtemperature(cell=hot[0].name, at_s=5400, duration_s=900))
    counted = [c for c in cells if _has(c, "good_count")]
    if counted:
        out.append(PlcRestart(cell=counted[min(1, len(counted) - 1)].name, at_s=7200, outage_s=120))
    out.append(Breakdown(cell=cells[-1].name, at_s=9000, duration_s=600, reason="material"))
    return out


def _batch_disturbances(cell: Cell, out: list[Disturbance]) -> None:
    pvs = [t for t in cell.tags if t.role == "process_value"]
    if pvs:
        pv = next((t for t in pvs if "temp" in t.path.lower()), pvs[0])
        out.append(QualityDeviation(cell=cell.name, tag=pv.path, at_s=3600, duration_s=120, side="high"))
        alarms = [t for t in cell.tags if t.role == "alarm" and t.datatype != "Boolean"]
        alarm = alarms[0].path if alarms else None
        out.append(Breakdown(cell=cell.name, at_s=8000, duration_s=900, alarm=alarm, alarm_value=17))
    if _has(cell, "good_count"):
        out.append(PlcRestart(cell=cell.name, at_s=6000, outage_s=120))
